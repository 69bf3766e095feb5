/** Which files `validate PATH...` looks at: files as given, directories searched for *.yml, *.yaml and *.json. */
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { usageError } from '../core/errors.js';
import { runCwd } from '../core/run.js';

export const DSL_EXTENSIONS = /\.(ya?ml|json)$/i;
/** Files in a searched directory that are never app DSL (named explicitly, they are validated all the same). */
const NOT_DSL = /^(dify-ci\.(ya?ml|json)|package(-lock)?\.json|tsconfig(\..*)?\.json|.*\.schema\.json)$/i;
const SKIP_DIRS = new Set(['node_modules']);

/** Absolute paths, directories expanded recursively (sorted, hidden and node_modules directories skipped). */
export function expandPaths(paths: string[], cwd = runCwd()): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (p: string) => {
    if (!seen.has(p)) {
      seen.add(p);
      out.push(p);
    }
  };
  for (const given of paths) {
    const abs = resolve(cwd, given);
    let st;
    try {
      st = statSync(abs);
    } catch {
      throw usageError(`${given}: no such file or directory`);
    }
    if (!st.isDirectory()) {
      add(abs);
      continue;
    }
    const found: string[] = [];
    walk(abs, found);
    if (found.length === 0) throw usageError(`${given}: no *.yml, *.yaml or *.json files found in this directory`);
    found.sort().forEach(add);
  }
  return out;
}

function walk(dir: string, out: string[]): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) walk(p, out);
    } else if ((e.isFile() || e.isSymbolicLink()) && DSL_EXTENSIONS.test(e.name) && !NOT_DSL.test(e.name)) {
      out.push(p);
    }
  }
}
