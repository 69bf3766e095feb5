#!/usr/bin/env node
/** `npm run bench`: every benchmark in bench/, one after another (they measure, so never in parallel). */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv.slice(2);
const benches = readdirSync(dir)
  .filter((f) => /\.(mjs|ts)$/.test(f) && f !== 'run-all.mjs' && !f.startsWith('_'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
  .sort();
let failed = 0;
for (const f of benches) {
  const args = f.endsWith('.ts') ? ['--import', 'tsx', `${dir}${f}`] : [`${dir}${f}`];
  process.stderr.write(`\n# bench/${f}\n`);
  const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
