/**
 * `dify-ci validate` throughput against its floor: a plain `yaml` parse (YAML 1.1, same as the validator) of the
 * same documents, measured in the same run, interleaved, best of N rounds. The fixtures are repeated to reach at
 * least 800 real DSL documents. Target: ratio <= 1.5. Run: npx tsx bench/validate.ts
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { parseDslText } from '../runner/src/dsl/parse.js';
import { validateDsl } from '../runner/src/dsl/validate.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = process.env.DIFY_DSL_FIXTURES ?? resolve(root, '../shared/fixtures/dify-dsl');
const TARGET = 1.5;
const MIN_DOCS = 800;
const rounds = Number(process.env.BENCH_ROUNDS || 5);

const texts: { name: string; text: string }[] = [];
for (const dir of ['dify-official', 'community']) {
  for (const f of readdirSync(join(fixtures, dir)).sort()) if (/\.ya?ml$/.test(f)) texts.push({ name: `${dir}/${f}`, text: readFileSync(join(fixtures, dir, f), 'utf8') });
}
if (texts.length === 0) throw new Error(`no fixtures in ${fixtures}`);
const docs = Array.from({ length: Math.ceil(MIN_DOCS / texts.length) }, () => texts).flat();
const bytes = docs.reduce((n, d) => n + Buffer.byteLength(d.text), 0);

let sink = 0;
function floorPass(): number {
  const t0 = performance.now();
  for (const d of docs) sink += parse(d.text, { version: '1.1' }) ? 1 : 0;
  return performance.now() - t0;
}
function validatePass(): number {
  const t0 = performance.now();
  for (const d of docs) sink += validateDsl(parseDslText(d.text, { name: d.name })).length;
  return performance.now() - t0;
}

// Warm-up (JIT, Ajv compilation), then interleave so machine noise hits both sides alike.
floorPass();
validatePass();
const floor: number[] = [];
const validate: number[] = [];
for (let i = 0; i < rounds; i++) {
  floor.push(floorPass());
  validate.push(validatePass());
}
const best = (xs: number[]) => Math.min(...xs);
const ratio = best(validate) / best(floor);
const mb = bytes / 1048576;
console.log(`floor (yaml parse): ${best(floor).toFixed(0)} ms, validate: ${best(validate).toFixed(0)} ms for ${docs.length} docs (${mb.toFixed(1)} MB), best of ${rounds}`);
console.log(`validate: ${docs.length} docs, ${ratio.toFixed(2)}x the yaml parse floor (target <= ${TARGET})${ratio <= TARGET ? '' : '  ABOVE TARGET'}`);
if (sink < 0) console.log(sink);
