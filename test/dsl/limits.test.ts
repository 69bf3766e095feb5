/**
 * Hostile or broken input becomes one DSL001 finding with a position, never a hang or a JavaScript crash: characters
 * PyYAML refuses, nesting too deep, alias bombs. Ordinary use of the same features (many aliases, deep-ish data)
 * still validates. None of these assert on time; the slow behaviours they guard against blow mocha's timeout (20 s here).
 */
import assert from 'node:assert/strict';
import { MAX_ALIAS_EXPANSION, MAX_DSL_DEPTH, parseDslBuffer, parseDslText } from '../../runner/src/dsl/parse.js';
import { validateDsl } from '../../runner/src/dsl/validate.js';
import type { Finding } from '../../runner/src/dsl/types.js';
import { check, fixture, ids, replaceOnce } from './helpers.js';

const parse = (text: string, name = 'x.yml') => parseDslText(text, { name });
const at = (f: Finding) => [f.ruleId, f.line, f.column];

/** The only finding, which must be DSL001, and no JavaScript error text in it. */
function onlyDsl001(text: string): Finding {
  const p = parse(text);
  assert.deepEqual(ids(p.findings), ['DSL001'], JSON.stringify(p.findings).slice(0, 500));
  assert.equal(p.value, undefined);
  const f = p.findings[0]!;
  assert.doesNotMatch(f.message, /call stack|RangeError|ReferenceError|out of memory/i);
  return f;
}

/** A real export with `extra: <yaml>` (and more `key: <yaml>` lines, as given) added to the data of its first node. */
function withNodeExtra(extra: string, ...more: string[]): string {
  const lines = [`extra: ${extra}`, ...more].map((l) => `          ${l}\n`).join('');
  return replaceOnce(fixture('dify-official/basic_llm_chat_workflow.yml'), '    nodes:\n      - data:\n', `    nodes:\n      - data:\n${lines}`);
}

describe('dsl: characters PyYAML refuses', () => {
  const refused: [number, string][] = [
    [0x00, 'NUL'],
    [0x07, 'BEL'],
    [0x08, 'BS'],
    [0x0b, 'VT'],
    [0x0c, 'FF'],
    [0x0e, 'SO'],
    [0x1b, 'ESC'],
    [0x1f, 'US'],
    [0x7f, 'DEL'],
  ];
  for (const [cp, name] of refused) {
    it(`reports a raw U+${cp.toString(16).padStart(4, '0').toUpperCase()} (${name}) with file:line:column and its name`, () => {
      const f = onlyDsl001(`app:\n  mode: workflow\n  name: ab${String.fromCharCode(cp)}c\n`);
      assert.deepEqual(at(f), ['DSL001', 3, 11]);
      assert.equal(f.file, 'x.yml');
      const hex = cp.toString(16).padStart(4, '0').toUpperCase();
      assert.ok(f.message.startsWith(`control character U+${hex} (${name}) is not allowed in YAML (Dify's PyYAML rejects it`), f.message);
      assert.match(f.message, new RegExp(`unacceptable character #x${hex.toLowerCase()}`));
    });
  }

  it('also refuses C1 controls (U+0080–U+009F except U+0085), U+FFFE/U+FFFF and lone surrogates, like Reader.NON_PRINTABLE', () => {
    for (const cp of [0x80, 0x84, 0x86, 0x9f, 0xfffe, 0xffff, 0xd800, 0xdfff]) {
      const f = onlyDsl001(`a: x${String.fromCharCode(cp)}\n`);
      assert.deepEqual(at(f), ['DSL001', 1, 5]);
      assert.match(f.message, new RegExp(`U\\+${cp.toString(16).toUpperCase().padStart(4, '0')} is not allowed`));
    }
  });

  it('finds them anywhere: in comments, keys, quoted and block scalars, JSON; the first one is reported', () => {
    assert.deepEqual(at(onlyDsl001('a: 1 # colour \u001b[0m\n')), ['DSL001', 1, 15]);
    assert.deepEqual(at(onlyDsl001('a: 1\nk\u0001ey: 2\n')), ['DSL001', 2, 2]);
    assert.deepEqual(at(onlyDsl001("a: 'it\u0007'\n")), ['DSL001', 1, 7]);
    assert.deepEqual(at(onlyDsl001('a: |\n  line one\n  two\u0000\n')), ['DSL001', 3, 6]);
    assert.deepEqual(at(onlyDsl001('{"a": "x\u0002"}')), ['DSL001', 1, 9]);
    const two = onlyDsl001('a: 1\nb: \u0003 and \u0004\n');
    assert.deepEqual(at(two), ['DSL001', 2, 4]);
    assert.match(two.message, /U\+0003/);
  });

  it('reports them from file bytes too, and inside the export wrapper (where JSON escapes put them in the YAML)', () => {
    const p = parseDslBuffer(Buffer.from('app:\n  name: caf\u00e9 \u0007\n', 'utf8'), { name: 'bytes.yml' });
    assert.deepEqual(p.findings.map(at), [['DSL001', 2, 14]]);
    const wrapped = parse(JSON.stringify({ data: 'app:\n  name: x\u0007\n' }), 'export.json');
    const f = wrapped.findings.find((x) => x.ruleId === 'DSL001')!;
    assert.match(f.message, /U\+0007/);
    assert.deepEqual(f.embedded, { line: 2, column: 10 });
  });

  it('accepts CR/LF, U+00A0, U+FEFF, astral characters, escaped controls and tabs in quotes', () => {
    const p = parse('a: "bell \\x07 esc \\e nul \\0"\r\nb: "\tx"\r\nc: x\u00a0z\ufeff \u{1f916}\n');
    assert.deepEqual(ids(p.findings, 'error'), []);
    assert.deepEqual(p.value, { a: 'bell \u0007 esc \u001b nul \u0000', b: '\tx', c: 'x\u00a0z\ufeff \u{1f916}' });
  });

  it('refuses a tab between tokens and reads U+0085 as a line break, as PyYAML 6.0.3 does', () => {
    assert.deepEqual(at(onlyDsl001('a: 1\nb:\tx\n')), ['DSL001', 2, 3]);
    assert.deepEqual(ids(parse('c: x\u0085y\n').findings), ['DSL001']); // `y` alone on a line: not a mapping
  });
});

describe('dsl: aliases and alias bombs', () => {
  const laughs = (levels: number, width: number): string => {
    let text = `l0: &l0 [${Array(width).fill('"lol"').join(',')}]\n`;
    for (let i = 1; i < levels; i++) text += `l${i}: &l${i} [${Array(width).fill(`*l${i - 1}`).join(',')}]\n`;
    return text;
  };

  it('accepts 500 ordinary aliases to small anchors (the old limit refused 101), with the values PyYAML gives', () => {
    const text = 'base: &model {provider: openai, name: gpt-4o, mode: chat}\nnodes:\n' + Array.from({ length: 500 }, (_, i) => `- {id: n${i}, model: *model}\n`).join('');
    const p = parse(text);
    assert.deepEqual(p.findings, []);
    const v = p.value as { nodes: { id: string; model: unknown }[] };
    assert.equal(v.nodes.length, 500);
    assert.deepEqual(v.nodes[499], { id: 'n499', model: { provider: 'openai', name: 'gpt-4o', mode: 'chat' } });
  });

  it('accepts 101 aliases of one anchor and aliases in merge keys in a real export', () => {
    const text = withNodeExtra('&x {k: 1}', `again: [${Array(101).fill('*x').join(', ')}]`, 'merged: {<<: *x, j: 2}');
    assert.deepEqual(ids(check(text), 'error'), []);
  });

  it('resolves 50,000 aliases in linear time (the yaml library alone searches the document for each: minutes, past the timeout)', () => {
    const p = parse('a: &a x\nl:\n' + '- *a\n'.repeat(50_000));
    assert.deepEqual(p.findings, []);
    assert.equal((p.value as { l: string[] }).l.length, 50_000);
  });

  it('refuses billion laughs (9 levels of 9) quickly, at the alias that crosses the limit, without expanding it', () => {
    const f = onlyDsl001(laughs(9, 9));
    assert.match(f.message, /^aliases expand to more than 100,000 nodes \(here \*l\d, [\d,]+ nodes each time\): refused as a resource-exhaustion \("billion laughs"\) attack$/);
    assert.equal(MAX_ALIAS_EXPANSION, 100_000);
    assert.equal(f.line, 6, 'l5 = 9^5 lol, 9 of them cross 100,000');
    assert.equal(f.column, 10);
  });

  it('refuses a much larger bomb (10^30 nodes) just as quickly', () => {
    assert.match(onlyDsl001(laughs(30, 10)).message, /billion laughs/);
  });

  it('refuses an exponential merge-key chain (each merge re-reads its whole source)', () => {
    let text = 'm0: &m0 {a: 1, b: 2}\n';
    for (let i = 1; i < 40; i++) text += `m${i}: &m${i} {<<: [*m${i - 1}, *m${i - 1}], k${i}: ${i}}\n`;
    assert.match(onlyDsl001(text).message, /billion laughs/);
  });

  it('refuses recursive aliases and aliases without an anchor, with their position', () => {
    const rec = onlyDsl001('a: &a [1, *a]\n');
    assert.deepEqual(at(rec), ['DSL001', 1, 11]);
    assert.match(rec.message, /alias \*a refers to a node that contains it/);
    const undef = onlyDsl001('a: 1\nb: *nope\n');
    assert.deepEqual(at(undef), ['DSL001', 2, 4]);
    assert.match(undef.message, /no anchor &nope before it/);
  });

  it('refuses an anchor name used twice, as PyYAML does ("found duplicate anchor")', () => {
    assert.deepEqual(at(onlyDsl001('a: &x 1\nb: *x\nc: &x 2\nd: *x\n')), ['DSL001', 3, 4]);
  });
});

describe('dsl: nesting depth', () => {
  const flow = (n: number) => '['.repeat(n) + ']'.repeat(n);
  const block = (n: number) => Array.from({ length: n }, (_, i) => `${' '.repeat(i)}a:`).join('\n') + ' 1\n';

  it(`accepts ${MAX_DSL_DEPTH} levels and refuses ${MAX_DSL_DEPTH + 1}, in flow and block style`, () => {
    assert.equal(MAX_DSL_DEPTH, 256);
    assert.deepEqual(parse(flow(256)).findings, []);
    assert.deepEqual(parse(block(256)).findings, []);
    assert.deepEqual(at(onlyDsl001(flow(257))), ['DSL001', 1, 257]);
    assert.deepEqual(at(onlyDsl001(block(257))), ['DSL001', 257, 257]);
  });

  for (const [name, text, pos] of [
    ['100,000 unclosed [', '['.repeat(100_000), [1, 257]],
    ['100,000 balanced [ ]', flow(100_000), [1, 257]],
    ['100,000 nested {a: …}', `a: ${'{a: '.repeat(100_000)}1${'}'.repeat(100_000)}`, [1, 4 + 256 * 4]],
    ['100,000 compact "- - - …"', `${'- '.repeat(100_000)}x\n`, [1, 513]],
    ['100,000 nested [ in a JSON file', `{"a": ${'['.repeat(100_000)}`, [1, 7 + 255]],
  ] as const) {
    it(`reports ${name} as "nesting too deep" with a location, not a RangeError`, () => {
      const f = onlyDsl001(text);
      assert.match(f.message, /^nesting too deep: more than 256 levels of lists\/mappings/);
      assert.deepEqual([f.line, f.column], pos);
    });
  }

  it('refuses aliases whose expansion is too deep, at the alias', () => {
    let text = `a0: &a0 ${flow(200)}\n`;
    text += `a1: &a1 ${'['.repeat(100)}*a0${']'.repeat(100)}\n`;
    const f = onlyDsl001(text);
    assert.match(f.message, /^nesting too deep: .*: alias \*a0 expands to 200 levels here, at level 101$/);
    assert.deepEqual([f.line, f.column], [2, 109]);
  });

  it('validates deep but acceptable data in a real export without a rule crashing or blowing the stack', () => {
    const deep = `${'['.repeat(240)}"{{#sys.query#}}"${']'.repeat(240)}`;
    const deepMap = `${'{k: '.repeat(240)}sk-abcdefghijklmnopqrstuvwxyz123456${'}'.repeat(240)}`;
    for (const extra of [[deep], [deepMap], [`&d ${deep}`, 'again: *d']]) {
      const findings = validateDsl(parse(withNodeExtra(...(extra as [string])), 'deep.yml'));
      assert.deepEqual(ids(findings).filter((id) => id === 'DSL001'), []);
      assert.equal(findings.find((f) => f.message.includes('could not check')), undefined, JSON.stringify(findings).slice(0, 400));
    }
  });

  it('keeps every real fixture well inside the limit', () => {
    // Indirectly: fixtures.test.ts validates them all; here the limit is shown to be far from their depth.
    const depth = (v: unknown): number => (v && typeof v === 'object' ? 1 + Math.max(0, ...Object.values(v).map(depth)) : 0);
    const value = parse(fixture('dify-official/iteration_flatten_output_enabled_workflow.yml')).value;
    assert.ok(depth(value) < 30, String(depth(value)));
  });
});
