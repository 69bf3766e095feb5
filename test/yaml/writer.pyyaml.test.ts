/**
 * Differential test of the writer (runner/src/yaml/pyyaml-dump.ts): whatever it emits, the real PyYAML
 * `yaml.safe_load` reads back as exactly the value given — strings stay strings (`yes`, `=`, `08257`,
 * `2024-01-01`, `1:20`…), integers stay ints, floats floats, and every real DSL export survives read → write.
 */
import assert from 'node:assert/strict';
import { compareCodePoints, dumpPyYaml, YamlWriteError } from '../../runner/src/yaml/pyyaml-dump.js';
import { loadPyYaml } from '../../runner/src/yaml/pyyaml-load.js';
import { pyFloatRepr } from '../../runner/src/yaml/pyyaml-scalars.js';
import { dslFixtures, writerStrings } from './cases.js';
import { pySafeLoad, pyyamlMissing, sameTyped, type PyAnswer } from './oracle.js';

/** The typed JSON PyYAML must give back for a JavaScript value (see pyyaml_oracle.py). */
function expected(v: unknown): unknown {
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return { $float: 'nan' };
    if (!Number.isFinite(v)) return { $float: v > 0 ? 'inf' : '-inf' };
    // Integral numbers are ints (exactly the double's value past 2^53); -0 and 1e21 up are floats.
    if (Number.isInteger(v) && Math.abs(v) < 1e21 && !Object.is(v, -0)) return Math.abs(v) <= 2 ** 53 ? v : { $int: BigInt(v).toString() };
    return Number.isInteger(v) ? { $float: pyFloatRepr(v) } : v;
  }
  if (Array.isArray(v)) return v.map(expected);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, expected(x)]));
  return v;
}

const NUMBERS = [0, -0, 1, -1, 0.5, 0.1 + 0.2, 1e-7, 5e-324, 1.7976931348623157e308, 1e16, 1.5e16, 1e20, 1e21, 2 ** 53, 2 ** 53 + 2, -(2 ** 60), 1e-5, 1e-4, 123456789.123, NaN, Infinity, -Infinity];

function values(): unknown[] {
  const out: unknown[] = [];
  for (const s of writerStrings()) out.push(s, { v: s }, { [s]: [s, { k: s }] });
  for (const n of NUMBERS) out.push(n, { n }, [n]);
  out.push(true, false, null, [], {}, { a: [] }, { a: {} }, [[]], [{}], { a: null, b: [null, true] }, { y: 'n', on: 'off', '<<': { '=': 1 } });
  return out;
}

describe('yaml: what our writer emits, PyYAML reads back unchanged (differential, against the real PyYAML)', function () {
  this.timeout(120_000);
  const missing = pyyamlMissing();
  const vals = values();
  const texts = vals.map((v, i) => dumpPyYaml(v, { sortKeys: i % 2 === 1 }));
  const fixtures = dslFixtures();
  const rewritten = fixtures.map((f) => dumpPyYaml(loadPyYaml(f.text).value));
  let answers: PyAnswer[] = [];

  before(function () {
    if (missing) {
      console.warn(`    skipped: ${missing}`);
      this.skip();
    }
    answers = pySafeLoad([...texts, ...fixtures.map((f) => f.text), ...rewritten]);
  });

  it(`round-trips ${vals.length.toLocaleString('en-US')} values: strings of every shape, numbers at the edges, nesting`, () => {
    const diffs: string[] = [];
    vals.forEach((v, i) => {
      const a = answers[i]!;
      const want = expected(v);
      if ('error' in a || !sameTyped(a.value, want)) diffs.push(`${JSON.stringify(texts[i]).slice(0, 160)} → ${JSON.stringify('error' in a ? a.error : a.value).slice(0, 120)}, want ${JSON.stringify(want).slice(0, 120)}`);
    });
    assert.deepEqual(diffs.slice(0, 20), [], `${diffs.length} of ${vals.length} differ`);
    assert.ok(vals.length > 5000);
  });

  it('writes every real DSL export so that PyYAML reads the same data as from the original file', function () {
    if (!fixtures.length) this.skip();
    const n = texts.length;
    const diffs = fixtures.filter((f, i) => {
      const a = answers[n + i]!;
      const b = answers[n + fixtures.length + i]!;
      return !('value' in a) || !('value' in b) || !sameTyped(a.value, b.value);
    });
    assert.deepEqual(diffs.map((f) => f.name), []);
  });

  it('quotes what PyYAML would resolve to another type, and only that', () => {
    const text = dumpPyYaml({ op: '=', merge: '<<', zip: '08257', oct: '0777', time: '1:20', date: '2024-01-01', yes: 'yes', y: 'y', tab: 'a\tb', ls: 'a\u2028b', plain: 'hello' });
    assert.equal(
      text,
      "op: '='\nmerge: '<<'\nzip: 08257\noct: '0777'\ntime: '1:20'\ndate: '2024-01-01'\n'yes': 'yes'\ny: y\ntab: \"a\\tb\"\nls: \"a\\Lb\"\nplain: hello\n",
    );
  });

  it('refuses what is not JSON data, naming where it is', () => {
    assert.throws(() => dumpPyYaml({ a: [1, new Date(0)] }), (e: unknown) => e instanceof YamlWriteError && /\(root\)\.a\[1\] is a Date/.test(e.message));
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    assert.throws(() => dumpPyYaml(loop), /refers to itself/);
    assert.throws(() => dumpPyYaml({ f: () => 1 }), /is a function/);
  });

  it('sorts keys by code point, as Python sorts str', () => {
    assert.ok(compareCodePoints('\u{1F600}', '\uFF01') > 0, 'an emoji sorts after U+FF01 in Python (not in UTF-16)');
    assert.equal(dumpPyYaml({ b: 1, '\uFF01': 2, '\u{1F600}': 3, a: 4 }, { sortKeys: true }), 'a: 4\nb: 1\n！: 2\n😀: 3\n');
  });
});
