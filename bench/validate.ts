/**
 * `dify-ci validate` throughput against its floor: a plain `yaml` parse (YAML 1.1, same as the validator) of the
 * same documents, measured in the same run in back-to-back pairs; the fixtures are repeated to reach at least 800
 * real DSL documents per run (BENCH_ROUNDS runs). Target: ratio <= 1.5. Run: npx tsx bench/validate.ts
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseDslText } from '../runner/src/dsl/parse.js';
import { validateDsl } from '../runner/src/dsl/validate.js';
import { DSL_FIXTURES } from '../test/helpers/shared.js';

const fixtures = DSL_FIXTURES;
const TARGET = 1.5;
const MIN_DOCS = 800;
const rounds = Number(process.env.BENCH_ROUNDS || 3);

const texts: { name: string; text: string }[] = [];
for (const dir of ['dify-official', 'community']) {
  for (const f of readdirSync(join(fixtures, dir)).sort()) if (/\.ya?ml$/.test(f)) texts.push({ name: `${dir}/${f}`, text: readFileSync(join(fixtures, dir, f), 'utf8') });
}
if (texts.length === 0) throw new Error(`no fixtures in ${fixtures}`);
const docs = Array.from({ length: Math.ceil(MIN_DOCS / texts.length) }, () => texts).flat();
const bytes = docs.reduce((n, d) => n + Buffer.byteLength(d.text), 0);

let sink = 0;
function floorPass(slice: typeof texts): number {
  const t0 = performance.now();
  for (const d of slice) sink += parse(d.text, { version: '1.1' }) ? 1 : 0;
  return performance.now() - t0;
}
function validatePass(slice: typeof texts): number {
  const t0 = performance.now();
  for (const d of slice) sink += validateDsl(parseDslText(d.text, { name: d.name })).length;
  return performance.now() - t0;
}

// Warm-up (JIT, Ajv compilation). Then each round times the floor and the validator on the same fixtures back to
// back, alternating which goes first, so load from other processes hits both sides of a pair alike; the ratio is
// the median of the per-round ratios.
floorPass(texts);
validatePass(texts);
const slicesPerRun = Math.ceil(MIN_DOCS / texts.length);
const ratios: number[] = [];
let floorTotal = 0;
let validateTotal = 0;
for (let run = 0; run < rounds; run++) {
  for (let i = 0; i < slicesPerRun; i++) {
    const first = (run * slicesPerRun + i) % 2 === 0;
    const f1 = first ? floorPass(texts) : 0;
    const v = validatePass(texts);
    const f = first ? f1 : floorPass(texts);
    floorTotal += f;
    validateTotal += v;
    ratios.push(v / f);
  }
}
ratios.sort((a, b) => a - b);
const ratio = ratios[Math.floor(ratios.length / 2)]!;
const mb = bytes / 1048576;
console.log(
  `floor (yaml parse): ${(floorTotal / rounds).toFixed(0)} ms, validate: ${(validateTotal / rounds).toFixed(0)} ms per ${docs.length} docs (${mb.toFixed(1)} MB); ` +
    `${ratios.length} paired rounds, ratio p10 ${ratios[Math.floor(ratios.length * 0.1)]!.toFixed(2)} / p90 ${ratios[Math.floor(ratios.length * 0.9)]!.toFixed(2)}`,
);
console.log(`validate: ${docs.length} docs, ${ratio.toFixed(2)}x the yaml parse floor (target <= ${TARGET})${ratio <= TARGET ? '' : '  ABOVE TARGET'}`);
if (sink < 0) console.log(sink);
