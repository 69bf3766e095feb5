#!/usr/bin/env node
/**
 * Start-up cost of the bundled runner: `node runner.cjs --version` against the floor `node -e 0`, measured in the
 * same run, interleaved, median of N. Target: ratio <= 1.6.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bundle = fileURLToPath(new URL('../resources/dify-ci/runner.cjs', import.meta.url));
const runs = Number(process.env.BENCH_RUNS || 30);

function time(args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const floor = [];
const runner = [];
time(['-e', '0']);
time([bundle, '--version']);
for (let i = 0; i < runs; i++) {
  floor.push(time(['-e', '0']));
  runner.push(time([bundle, '--version']));
}
const f = median(floor);
const r = median(runner);
const ratio = r / f;
console.log(`startup: node -e 0 ${f.toFixed(1)} ms, runner --version ${r.toFixed(1)} ms, ratio ${ratio.toFixed(2)} (target <= 1.6) ${ratio <= 1.6 ? 'OK' : 'OVER'}`);
