/**
 * `runSmoke` overhead against its floor: 100 cases on the emulator with a 100 ms model latency, concurrency 10.
 * Floor = cases × (one call's latency, measured here: median of sequential calls with the same client) ÷
 * concurrency, measured in the same run before each round; the smoke wall time includes /v1/info, /v1/parameters,
 * scheduling, assertions and writing the four reports. Best of N rounds. Target: ratio <= 1.25.
 * Run: npx tsx bench/smoke.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceClient } from '../runner/src/smoke/client.js';
import { runSmoke } from '../runner/src/smoke/runner.js';
import { parseSuiteText } from '../runner/src/smoke/suite.js';
import { chatDsl, EmulatorApps } from '../test/smoke/emulator-apps.js';

const CASES = 100;
const LATENCY_MS = 100;
const CONCURRENCY = 10;
const TARGET = 1.25;
const rounds = Number(process.env.BENCH_ROUNDS || 3);

const e = await EmulatorApps.start({ latencyMs: LATENCY_MS });
const { apiKey } = await e.create(chatDsl('bench-bot'));
const suiteText =
  'defaults: { inputs: { customer_tier: gold } }\ncases:\n' +
  Array.from({ length: CASES }, (_, i) => `  - { name: case ${i + 1}, query: 'question ${i + 1}', assert: [ { contains: 'question ${i + 1}' }, { not-contains: error }, { latency: 10000 }, { tokens: { max: 2000 } } ] }\n`).join('');
const suite = parseSuiteText('bench/suite.yml', suiteText);

async function singleCallMs(samples = 7): Promise<number> {
  const c = new ServiceClient({ apiUrl: e.apiUrl, apiKey });
  const xs: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    const o = await c.run({ mode: 'chat', responseMode: 'streaming', query: `warm ${i}`, inputs: { customer_tier: 'gold' }, user: 'bench' });
    xs.push(performance.now() - t0);
    if (o.status !== 'succeeded') throw new Error(`calibration call failed: ${o.error?.message}`);
  }
  c.close();
  return xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

let best = Infinity;
let bestLine = '';
for (let r = 0; r < rounds; r++) {
  const call = await singleCallMs();
  const floor = (CASES * call) / CONCURRENCY;
  const dir = mkdtempSync(join(tmpdir(), 'dify-ci-bench-smoke-'));
  const t0 = performance.now();
  const run = await runSmoke(undefined, undefined, [{ app: 'bench-bot', env: 'emu', apiUrl: e.apiUrl, apiKey, suite }], { concurrency: CONCURRENCY, progress: false, reportDir: dir });
  const wall = performance.now() - t0;
  rmSync(dir, { recursive: true, force: true });
  if (!run.passed) throw new Error(`bench suite failed: ${JSON.stringify((run.data as any).targets[0].failures.slice(0, 3))}`);
  const ratio = wall / floor;
  const line = `smoke: ${CASES} cases, concurrency ${CONCURRENCY}, model latency ${LATENCY_MS} ms; one call ${call.toFixed(1)} ms → floor ${floor.toFixed(0)} ms (nominal ${(CASES * LATENCY_MS) / CONCURRENCY} ms); runSmoke wall ${wall.toFixed(0)} ms; ratio ${ratio.toFixed(3)}`;
  console.error(`  round ${r + 1}: ${line}`);
  if (ratio < best) {
    best = ratio;
    bestLine = line;
  }
}
await e.close();
console.log(`${bestLine} (target <= ${TARGET}) ${best <= TARGET ? 'OK' : 'OVER'}`);
process.exitCode = best <= TARGET ? 0 : 1;
