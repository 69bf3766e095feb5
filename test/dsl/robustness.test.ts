/** Rules never crash on odd shapes: real fixtures with random parts replaced by values of the wrong type. */
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { parseDslText } from '../../runner/src/dsl/parse.js';
import { validateDsl } from '../../runner/src/dsl/validate.js';
import { fixture, fixtureNames } from './helpers.js';

/** Deterministic PRNG (mulberry32), so a failure reproduces. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ODD: unknown[] = [null, 0, -1.5, '', 'x-y', [], {}, [null], [[1, 2]], { type: 'variable', value: [1] }, true, 'sk-'];

function containers(v: unknown, out: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = []) {
  if (Array.isArray(v)) v.forEach((x, i) => (out.push({ parent: v, key: i }), containers(x, out)));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push({ parent: v as Record<string, unknown>, key: k }), containers(x, out);
  return out;
}

describe('dsl: robustness', () => {
  it('validates 300 randomly damaged fixtures without a rule crashing', () => {
    const rand = rng(4242);
    const names = fixtureNames().filter((n) => n.startsWith('dify-official/'));
    for (let i = 0; i < 300; i++) {
      const name = names[Math.floor(rand() * names.length)]!;
      const value = parseDslText(fixture(name), { name }).value;
      const spots = containers(value);
      for (let k = 0; k < 3; k++) {
        const s = spots[Math.floor(rand() * spots.length)]!;
        (s.parent as Record<string | number, unknown>)[s.key] = ODD[Math.floor(rand() * ODD.length)];
      }
      const text = stringify(value, { version: '1.1' });
      const findings = validateDsl(parseDslText(text, { name }));
      const crash = findings.find((f) => f.message.includes('could not check'));
      assert.equal(crash, undefined, `${name} #${i}: ${crash?.message}`);
      for (const f of findings) assert.ok(f.line >= 1 && f.column >= 1, JSON.stringify(f));
    }
  });
});
