/** Reading DSL the way Dify does: YAML 1.1 values, encodings, size and alias limits, JSON and the export wrapper. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { MAX_DSL_BYTES, firstInvalidUtf8, parseDslBuffer, parseDslFile, parseDslText } from '../../runner/src/dsl/parse.js';
import { parseSource } from '../../runner/src/core/source.js';
import { check, fixture, ids } from './helpers.js';

const MINI = `app:
  mode: workflow
  name: mini
kind: app
version: 0.6.0
workflow:
  graph:
    edges:
    - {id: e1, source: start, target: end}
    nodes:
    - id: start
      data: {type: start, title: Start, variables: []}
    - id: end
      data: {type: end, title: End, outputs: []}
`;

describe('dsl: parsing like PyYAML safe_load', () => {
  it('reads YAML 1.1 values: yes/on are booleans, 0755 is octal, 1:20 is sexagesimal, unquoted 0.6 is a float', () => {
    const p = parseDslText('a: yes\nb: on\nc: 0755\nd: 1:20\ne: 0.6\nf: ~\ng: OFF\n', { name: 'x.yml' });
    assert.deepEqual(p.value, { a: true, b: true, c: 493, d: 80, e: 0.6, f: null, g: false });
  });

  it('keeps y/n strings and 1e5 a string, as PyYAML does (the yaml package alone would not)', () => {
    const text = 'position: {x: 30, y: 263}\nn: N\nbig: 1e5\nexp: 1.5e+3\n';
    assert.deepEqual(parseDocument(text, { version: '1.1' }).toJS().position, { x: 30, true: 263 });
    assert.deepEqual(parseDslText(text, { name: 'x.yml' }).value, { position: { x: 30, y: 263 }, n: 'N', big: '1e5', exp: 1500 });
  });

  it('gives the shared YAML loader the same PyYAML scalars for DSL (version 1.1), and leaves 1.2 alone', () => {
    assert.deepEqual(parseSource('x.yml', 'p: {x: 1, y: 2}\nq: yes\n', { version: '1.1' }).value, { p: { x: 1, y: 2 }, q: true });
    assert.deepEqual(parseSource('x.yml', 'p: {x: 1, y: 2}\nq: yes\n').value, { p: { x: 1, y: 2 }, q: 'yes' });
  });

  it('accepts YAML 1.1 documents that strict YAML 1.2 parsing rejects (repeated merge keys)', () => {
    const text = `base: &base {temperature: 0.2}
extra: &extra {top_p: 0.9}
app: {mode: workflow, name: merged}
model:
  <<: *base
  <<: *extra
  provider: openai
`;
    const strict12 = parseDocument(text, { version: '1.2', strict: true, uniqueKeys: true });
    assert.ok(strict12.errors.length + strict12.warnings.length > 0, 'YAML 1.2 should complain about this file');
    const p = parseDslText(text, { name: 'x.yml' });
    assert.deepEqual(ids(p.findings, 'error'), []);
    const v = p.value as { model: Record<string, unknown> };
    assert.deepEqual(v.model, { temperature: 0.2, top_p: 0.9, provider: 'openai' });
  });

  it('reports an unquoted version: 0.6 the way Dify fails it', () => {
    const f = check(MINI.replace('version: 0.6.0', 'version: 0.6')).find((x) => x.ruleId === 'DSL011')!;
    assert.equal(f.severity, 'error');
    assert.match(f.message, /got float 0.6.*<class 'float'>/);
    assert.equal(f.line, 5);
  });

  it('turns syntax errors into DSL001 findings with line and column, and keeps going', () => {
    const p = parseDslText('app:\n  mode: workflow\n  name: [unclosed\nkind: app\n', { name: 'bad.yml' });
    const errs = p.findings.filter((f) => f.ruleId === 'DSL001');
    assert.ok(errs.length >= 1);
    assert.equal(errs[0]!.file, 'bad.yml');
    assert.ok(errs[0]!.line >= 3, JSON.stringify(errs[0]));
    assert.match(errs[0]!.message, /invalid YAML/);
    assert.equal(p.value, undefined);
    assert.ok(p.doc, 'the source is kept for code frames');
  });

  it('reports duplicate keys as warnings and keeps the last value, like PyYAML', () => {
    const p = parseDslText('app:\n  name: first\n  mode: chat\n  name: second\n', { name: 'x.yml' });
    const dup = p.findings.find((f) => f.ruleId === 'DSL002')!;
    assert.equal(dup.severity, 'warning');
    assert.equal(dup.line, 4);
    assert.match(dup.message, /'name'/);
    assert.equal((p.value as { app: { name: string } }).app.name, 'second');
  });

  it('refuses alias bombs (billion laughs) without expanding them', () => {
    let text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
    for (const [x, y] of [['b', 'a'], ['c', 'b'], ['d', 'c'], ['e', 'd'], ['f', 'e'], ['g', 'f'], ['h', 'g'], ['i', 'h']]) {
      text += `${x}: &${x} [${Array(9).fill(`*${y}`).join(',')}]\n`;
    }
    const p = parseDslText(text, { name: 'bomb.yml' });
    assert.deepEqual(ids(p.findings), ['DSL001']);
    assert.match(p.findings[0]!.message, /alias/);
    assert.equal(p.value, undefined);
  });

  it('accepts a %YAML 1.1 directive and the 1.1 tags; bytes, sets and dates are DSL005 (Dify cannot store them)', () => {
    const text = '%YAML 1.1\n---\na: !!binary aGVsbG8=\nb: !!set {x, y}\nc: !!omap [{k: 1}]\nd: !!timestamp 2001-12-14\n';
    const p = parseDslText(text, { name: 'x.yml' });
    assert.deepEqual(p.findings.map((f) => [f.ruleId, f.line]), [['DSL005', 3], ['DSL005', 4], ['DSL005', 6]]);
    assert.deepEqual((p.value as { c: unknown }).c, [['k', 1]]);
  });

  it('still allows a few ordinary aliases', () => {
    const p = parseDslText('x: &x {a: 1}\ny: *x\nz: *x\n', { name: 'x.yml' });
    assert.deepEqual(p.findings, []);
  });

  it('rejects multiple documents in one file (PyYAML safe_load does)', () => {
    assert.deepEqual(ids(parseDslText('a: 1\n---\nb: 2\n', { name: 'x.yml' }).findings), ['DSL001']);
  });

  it('reports non-UTF-8 bytes with the line and column of the first bad byte', () => {
    const buf = Buffer.concat([Buffer.from('app:\n  name: caf'), Buffer.from([0xe9]), Buffer.from('\n')]);
    assert.equal(firstInvalidUtf8(buf), 16);
    const p = parseDslBuffer(buf, { name: 'latin1.yml' });
    assert.equal(p.findings.length, 1);
    assert.deepEqual([p.findings[0]!.ruleId, p.findings[0]!.line, p.findings[0]!.column], ['DSL001', 2, 12]);
    assert.match(p.findings[0]!.message, /not valid UTF-8 \(byte 0xe9\)/);
  });

  it('validates UTF-8 the strict way (overlong forms, surrogates, truncated sequences)', () => {
    assert.equal(firstInvalidUtf8(Buffer.from('中文 ok 🤖', 'utf8')), -1);
    assert.equal(firstInvalidUtf8(Buffer.from([0x61, 0xc0, 0x80])), 1); // overlong NUL
    assert.equal(firstInvalidUtf8(Buffer.from([0xed, 0xa0, 0x80])), 0); // UTF-16 surrogate
    assert.equal(firstInvalidUtf8(Buffer.from([0x61, 0xe4, 0xb8])), 1); // cut short
  });

  it('notes a BOM and CRLF line endings, with positions unchanged', () => {
    const text = MINI.replace('version: 0.6.0', 'version: 0.6').replace(/\n/g, '\r\n');
    const p = parseDslBuffer(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]), { name: 'win.yml' });
    assert.deepEqual(
      p.findings.map((f) => [f.ruleId, f.severity]),
      [
        ['DSL004', 'info'],
        ['DSL004', 'info'],
      ],
    );
    const f = check(text).find((x) => x.ruleId === 'DSL011')!;
    assert.deepEqual([f.line, f.column], [5, 10]);
  });

  it('reports UTF-16 files clearly', () => {
    const p = parseDslBuffer(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a\u0000')]), { name: 'u16.yml' });
    assert.match(p.findings[0]!.message, /UTF-16/);
  });

  it('refuses files above Dify\'s 10 MB limit before reading them as YAML', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dsl-big-'));
    const file = join(dir, 'big.yml');
    writeFileSync(file, Buffer.alloc(MAX_DSL_BYTES + 1, 0x20));
    const p = parseDslFile(file);
    assert.deepEqual(ids(p.findings), ['DSL001']);
    assert.match(p.findings[0]!.message, /10 MB/);
  });

  it('reads the same structure as JSON', () => {
    const json = JSON.stringify(parseDocument(MINI).toJS());
    assert.deepEqual(ids(check(json), 'error'), []);
    assert.equal(parseDslText(json, { name: 'x.json' }).format, 'json');
  });

  it('unwraps the export wrapper {"data": "<yaml>"} with a warning and positions inside the embedded YAML', () => {
    const inner = MINI.replace("{id: e1, source: start, target: end}", "{id: e1, source: start, target: nowhere}");
    const text = `{\n  "data": ${JSON.stringify(inner)}\n}\n`;
    const p = parseDslText(text, { name: 'export.json' });
    assert.equal(p.format, 'wrapper');
    assert.equal(p.mode, 'workflow');
    const findings = check(text, {}, 'export.json');
    const wrap = findings.find((f) => f.ruleId === 'DSL003')!;
    assert.deepEqual([wrap.severity, wrap.line], ['warning', 2]);
    const edge = findings.find((f) => f.ruleId === 'DSL031')!;
    assert.equal(edge.line, 2, 'outer position: the data string');
    assert.deepEqual(edge.embedded, { line: 9, column: 39 });
  });

  it('gives real exports the values PyYAML gives: node positions keep their y', () => {
    const text = fixture('dify-official/iteration_flatten_output_enabled_workflow.yml');
    const v = parseDslText(text, { name: 'x.yml' }).value as { workflow: { graph: { nodes: { position: Record<string, number> }[] } } };
    for (const n of v.workflow.graph.nodes) assert.deepEqual(Object.keys(n.position).sort(), ['x', 'y']);
  });
});
