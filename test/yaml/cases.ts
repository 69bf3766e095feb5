/**
 * Inputs for the differential tests: the real DSL exports, and generated scalars as PyYAML's resolvers and
 * constructors see them (plain), strings in every quoting style, and values for the writer. Deterministic (a
 * fixed-seed generator), so a difference found once is found again.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DSL_FIXTURES } from '../helpers/shared.js';

/** Every real export in ../shared/fixtures/dify-dsl (none when it is not checked out beside the repo). */
export function dslFixtures(): { name: string; file: string; text: string }[] {
  if (!existsSync(DSL_FIXTURES)) return [];
  const out: { name: string; file: string; text: string }[] = [];
  for (const dir of ['dify-official', 'community']) {
    for (const f of readdirSync(join(DSL_FIXTURES, dir)).sort()) {
      if (f.endsWith('.yml')) out.push({ name: `${dir}/${f}`, file: join(DSL_FIXTURES, dir, f), text: readFileSync(join(DSL_FIXTURES, dir, f), 'utf8') });
    }
  }
  return out;
}

/** Plain scalar texts around every PyYAML resolver's edges. */
export function plainScalars(): string[] {
  const out = new Set<string>([
    // int: octal needs 0[0-7_]+, so 08257 and 000568 stay strings; 0o is YAML 1.2 only.
    '0', '00', '000568', '01880', '08257', '0777', '-0777', '+0777', '0_7', '0_', '0o17', '0x1F', '0x1f', '-0x1F', '0x_', '0x', '0b101', '-0b101', '0b_', '0b2',
    '-0', '+0', '1_000', '1__0', '_1', '1_', '1:20', '1:20:30', '-1:20', '+1:20', '1:60', '1:5', '0:20', '01:20', '1_0:20', '1:2_0',
    '12345678901234567890', '9007199254740993', '-9007199254740993', '9007199254740992', '0x7FFFFFFFFFFFFFFFF', '0b' + '1'.repeat(60),
    // float: needs a dot, and a signed exponent; no sign before a bare dot.
    '1.5', '1.', '.5', '-.5', '+.5', '1e5', '1E5', '1.0e5', '1.0e+5', '1.e+5', '1.0E-5', '.1e+3', '-1.5e-3', '1_0.5_0', '1._', '._5', '1.0e+400', '-1.0e+400',
    '0.1', '3.14159265358979323846', '1.7976931348623157e+308', '4.9e-324', '190:20:30.15', '-190:20:30.15', '1:20.5', '1:60.5', '1:20.', '1.0',
    '.inf', '-.inf', '+.inf', '.Inf', '.INF', '.iNf', '.nan', '.NaN', '.NAN', '-.nan', 'inf', 'nan', 'NaN', 'Infinity',
    // bool: y/n are strings in PyYAML.
    'y', 'Y', 'n', 'N', 'yes', 'Yes', 'YES', 'yEs', 'no', 'No', 'NO', 'nO', 'on', 'On', 'ON', 'oN', 'off', 'Off', 'OFF', 'oFF',
    'true', 'True', 'TRUE', 'tRUE', 'false', 'False', 'FALSE', 't', 'f', 'yes!', 'offf',
    // null
    '~', 'null', 'Null', 'NULL', 'nULL', 'None', '~~', '-',
    // timestamps: the date form needs two-digit month and day; the datetime form does not.
    '2001-12-14', '2001-12-14t21:59:43.10-05:00', '2001-12-14 21:59:43.10 -5', '2001-12-15T02:59:43.1Z', '2001-12-15 2:59:43.10', '2001-1-1',
    '2001-1-1 1:00:00', '2001-13-01', '2001-02-29', '2000-02-29', '0000-01-01', '2001-12-14T25:00:00', '2001-12-14 21:59:43 +24:00', '2001-12-14 21:59:43 +23:59',
    '2001-12-14 21:59:43.1234567', '2001-12-14  21:59:43', '2001-12-14 21:59:43 Z', '2001-12-14T21:59:43-0', '2001-12-14T21:59:60', '2001-12-14T21:59', '9999-12-31',
    '2024-01-01', '2024-1-01', '20240101', '2024/01/01', '2001-12-14 21:59:43.000000', '2001-12-14T21:59:43+05:30', '2001-12-14T21:59:43-00:00',
    // merge and value
    '<<', '=', '==', '<<<', '=x', 'a=b',
    // strings that look like something
    'abc', 'hello world', 'a-b', 'x1', '1x', '0x1G', '1 2', 'v1.2.3', '1.2.3', '0.6.0', '192.168.0.1', '+1', '+', '--1', '1-', '1e', 'e5',
    '你好', '😀', 'café', 'ÿes', '１２３', '٣', 'a#b', 'a:b', 'http://x.y/z?a=b#c', 'C:\\path', 'a\\nb',
  ]);
  return [...out];
}

/** A deterministic pseudo-random generator (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = [
  ...'abcXYZ019 ', ' ', ' ', '\n', '\n', '\t', ':', '#', '-', "'", '"', '\\', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', '%', '@', '`', '?', '=', '<',
  '你', '好', '😀', '🎉', 'é', '\u00a0', '\u2028', '\u2029', '\x85', '\u200b', '\ufeff', '\x07', '\x1b', '\r', '\u0000', '\u007f', '\u0080', '\ud800',
];

/** Random strings over an alphabet heavy in YAML's special characters (and a few PyYAML refuses raw). */
export function randomStrings(count: number, seed = 13): string[] {
  const next = rng(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const len = Math.floor(next() * (i % 10 === 0 ? 120 : 12));
    let s = '';
    for (let k = 0; k < len; k++) s += ALPHABET[Math.floor(next() * ALPHABET.length)];
    out.push(s);
  }
  return out;
}

/** Strings for the writer: every plain scalar above (as text), random ones, long and multi-line ones. */
export function writerStrings(): string[] {
  const long = 'Summarise the following text in three bullet points. '.repeat(60);
  const multi = [
    'line 1\nline 2', 'line 1\nline 2\n', 'line 1\n\nline 3\n\n\n', '\n', '\n\n', ' ', '  leading', 'trailing  ', ' both ', 'a  \nb', 'a\n  b', '\n  indented first',
    'tab\there', '\ttab first', 'x\u2028y', 'x\u2029y', 'x\x85y', 'nbsp\u00a0here', '- item', '? key', '# hash', 'key: value', '---', '...', '--- x', '... x', 'a\n---\nb', 'a\n...\nb',
    '|', '>', '|-', "'quoted'", '"dq"', '{{#start.query#}}', '{{#1711528737066.text#}}', 'Answer in {{language}}.', '%TAG', '@at', '`tick',
    'Você é um assistente 你是一个助手 😀', long, `${long}\n${long}`, 'x'.repeat(1100), 'a:'.repeat(600),
  ];
  return [...plainScalars(), ...multi, ...randomStrings(1500, 7)];
}

/** Whole documents around PyYAML's structure rules: quoting, merges, tags, keys, block scalars, documents. */
export function structureCases(): string[] {
  const cases = [
    // quoted scalars: PyYAML ignores indentation inside quotes; NEL/LS/PS are line breaks there.
    "a:\n  b: 'x\ny'\n", 'a:\n  b: "x\ny"\n', "a:\n- 'x\nb'\n", "a:\n  b: 'x\n\n  y\nz'\n", "a:\n  b: 'x\n  y' # c\n  c: 1\n", "a:\n  b: 'it''s\nz''s'\n",
    "a:\n  b: 'x\r\ny'\r\n", "a:\n  b: 'x\n---\ny'\n", "a:\n  b: 'x\n...\ny'\n", "a:\n  b: 'x\n--- y'\n", "a:\n  b: 'x\n\ty'\n", 'a:\n  b: "x\\\ny"\n',
    "a: 'x\u2028  y'\n", "a:\n  b:\n  - 'x\u2028    y'\n", "a: 'a\n\n  b\u2028  c'\n", "a: 'x\u2028\n  y'\n", 'a: "x\u2029\n\n  y"\n', "a: 'x\x85  y'\n",
    'a: "\\L\\P\\N\\_\\e\\a\\0\\x41\\u00e9\\U0001F600\\/"\n', 'a: "\\q"\n', 'a: "\\x4"\n', 'a: "\\U00110000"\n', 'a: "\\ud83d\\ude00"\n', 'a: "\\ud800"\n',
    "a: ''\n", 'a: ""\n', "a: '\n'\n", "a: ' \n  \n '\n", 'a: "\n\n"\n', "'a\nb': c\n", "a: 'x\n  #y'\n",
    // plain scalars over several lines, comments, tabs
    'a: b\n  c\n  d\n', 'a: b\n\n  c\n', 'a: b # c\n', 'a: b #c\n  d\n', 'a: b\n  # c\n', 'a:\tb\n', 'a: b\t\n', 'a: b\tc\n', '- \ta\n', 'a: [b,\tc]\n', 'a: x\t#c\n',
    'a: |\n  x\ty\n', 'a: |\n  \tx\n', 'a: |\n\tx\n', 'a: |\t\n  x\n', 'a: b # c\td\n', '\t\na: 1\n', 'a: 1\n\t\n', 'a:\n  - b\n\t\n',
    // merges
    'b: &b {x: 1, y: 2}\nc:\n  <<: *b\n  y: 3\n', 'a: &a {x: 1}\nb: &b {x: 2, z: 2}\nc:\n  <<: [*a, *b]\n', '<<: {x: 1}\n<<: {x: 2}\n', 'x: 0\n<<: {x: 1, y: 1}\n',
    'a: &a [1]\nb:\n  <<: *a\n', 'b:\n  <<: 1\n', 'b:\n  <<: [{x: 1}, 2]\n', "b:\n  '<<': {x: 1}\n", 'b:\n  !!merge x: {a: 1}\n', 'a: <<\n', '- <<\n', 'a: &x {b: 1}\n<<: *x\n',
    'a: &a {x: &xx 1}\nb: {<<: *a, y: *xx}\n', 'a: &a {<<: {q: 1}, x: 1}\nb: {<<: *a}\n',
    // value
    'a: =\n', '=: a\n', '{=: a}\n', '[=]\n', 'comparison_operator: =\n', "comparison_operator: '='\n", 'a: = x\n', 'a: !!str =\n',
    // anchors and aliases
    'a: &x 1\nb: *x\n', 'a: &x 1\na2: &x 2\nb: *x\n', 'a: *x\n', 'a: &x [*x]\n', 'a: &a-b_c 1\nb: *a-b_c\n', 'a: &a.b 1\n', 'a: &好 1\n', '[&a x, *a]\n', '{&a x: *a}\n',
    // tags
    'a: !!str 1\n', 'a: !!int "0x1F"\n', "a: !!int '0o17'\n", 'a: !!int abc\n', 'a: !!float "1"\n', 'a: !!float "1e5"\n', 'a: !!bool yes\n', 'a: !!bool "maybe"\n', 'a: !!null x\n',
    'a: !!binary aGVsbG8=\n', 'a: !!set {a, b}\n', 'a: !!omap [a: 1, b: 2]\n', 'a: !!pairs [a: 1, a: 2]\n', 'a: !!python/tuple [1]\n', 'a: !foo x\n', 'a: !!timestamp 2001-01-01\n',
    'a: !!timestamp 2001-1-1\n', 'a: ! 12\n', "a: ! '12'\n", 'a: !\n', 'a: !!merge x\n', 'a: !!str [a]\n', 'a: !!map [a]\n', 'a: !!seq {a: 1}\n', 'a: !<tag:yaml.org,2002:int> 5\n',
    '%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n',
    // keys
    '1: a\n', '1.0: a\n', 'true: a\n', '~: a\n', '1: a\n"1": b\n', '1: a\ntrue: b\n', '1: a\n1.0: b\n', '0x10: a\n', '1e3: a\n', '1.5e+3: a\n', '.inf: a\n', '.nan: a\n',
    '? [a]\n: b\n', '{[a]: b}\n', '? {a: 1}\n: b\n', '? a\n: b\n', '? \n: b\n', ': b\n', '{: b}\n', 'a: 1\na: 2\n', '__proto__: 1\n', '{a, b}\n', '[a: 1, b]\n',
    `${'k'.repeat(1100)}: v\n`, `? ${'k'.repeat(1100)}\n: v\n`,
    // block scalars
    'a: |\n  x\n\n', 'a: |+\n  x\n\n', 'a: |-\n  x\n\n', 'a: |2\n   x\n  y\n', 'a: >\n  x\n  y\n\n  z\n', 'a: >\n  x\n    y\n  z\n', 'a: >+\n  x\n\n', 'a: |\n\n  x\n',
    'a: |\n  x\n # c\n', 'a: >-\n  a\n  \n  b\n', '- |\n x\n- >\n y\n', 'a: |\n    x\n  y\n', 'a: |1\n  x\n',
    // documents
    '', '# only a comment\n', '---\na: 1\n', 'a: 1\n---\nb: 2\n', 'a: 1\n...\n', '%YAML 1.1\n---\na: 1\n', '%YAML 1.2\n---\na: yes\n', '%YAML 2.0\n---\na: 1\n', '--- |\n  x\n',
    '---\n---\n', 'a: 1\n--- \n', '\ufeffa: 1\n', 'a: 1\r\nb: 2\r\n', 'a: 1\rb: 2\r', 'a: 1\x85b: 2\n',
    // flow collections across lines (PyYAML has no indentation rule inside [ ] and { })
    'a: [b,\nc]\n', 'a: {b: 1,\nc: 2}\n', 'a:\n  - [b,\n  c]\n', 'a: [\n  b\n]\n', 'a: [b, [c, {d: e}]]\n', 'a: [?b]\n', 'a: {b?c: 1}\n', 'a: [b:c]\n', 'a: [b: c]\n', 'a: {b: c: d}\n',
  ];
  return cases;
}
