/** Hash of the runner's inputs (sources, schema, lockfile). Deterministic: no time, no git. */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { log } from './log.js';

function walk(dir: string, out: string[]): void {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
}

export function computeSourceHash(root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')): string {
  const files: string[] = [];
  walk(join(root, 'runner/src'), files);
  files.push(join(root, 'package.json'), join(root, 'package-lock.json'));
  const h = createHash('sha256');
  for (const f of files) {
    h.update(relative(root, f).split('\\').join('/'));
    h.update('\0');
    try {
      h.update(readFileSync(f).toString('utf8').replace(/\r\n/g, '\n'));
    } catch (e) {
      // A file gone between listing and reading still changes the hash, which is all the hash is for.
      log.debug(`source hash: ${f}: ${(e as Error).message}`);
      h.update('(missing)');
    }
    h.update('\0');
  }
  return h.digest('hex').slice(0, 12);
}
