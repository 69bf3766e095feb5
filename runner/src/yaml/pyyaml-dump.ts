/**
 * Writes YAML that PyYAML's `safe_load` reads back as exactly the value given: every string PyYAML would resolve
 * to another type (`yes`, `1:20`, `2024-01-01`, `=`, `<<`, `0x1F`, …) is quoted, characters PyYAML reads
 * differently (tabs, NEL/LS/PS, BOM, C1 controls) are escaped in double quotes, floats keep a `.`, and nothing but
 * JSON data (mappings, lists, strings, finite or infinite numbers, booleans, null) is accepted. The result is
 * read back with our PyYAML reader before it is returned, so a writer bug fails loudly instead of deploying
 * changed data.
 */
import { isScalar, stringify, type Pair } from 'yaml';
import { loadPyYaml } from './pyyaml-load.js';
import { pyyamlTags } from './pyyaml-scalars.js';

export interface DumpOptions {
  /** Sort mapping keys by code point, as PyYAML's `yaml.dump` does by default (Dify's exports). */
  sortKeys?: boolean;
}

export class YamlWriteError extends Error {}

/** Python sorts str keys by code point; JavaScript's `<` compares UTF-16 units (differs above U+FFFF). */
export function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

const keyText = (k: unknown) => String(isScalar(k) ? k.value : k);
const byCodePoint = (a: Pair, b: Pair) => compareCodePoints(keyText(a.key), keyText(b.key));

/** Only JSON data: the first thing that is not, with its path. */
function notData(value: unknown, path: string, seen: Set<object>): string | null {
  if (value === null || typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') return null;
  if (typeof value !== 'object') return `${path} is a ${typeof value}`;
  if (seen.has(value)) return `${path} refers to itself`;
  const proto = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) return `${path} is a ${(value as object).constructor?.name ?? 'non-plain object'}`;
  seen.add(value);
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined && !Array.isArray(value)) continue;
    const p = notData(v === undefined ? null : v, Array.isArray(value) ? `${path}[${k}]` : `${path}.${k}`, seen);
    if (p) return p;
  }
  seen.delete(value);
  return null;
}

/** JSON equality, NaN equal to NaN and -0 to -0 (what the read-back must preserve). */
function sameData(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return Object.is(a, b) || a === b;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((x, i) => sameData(x ?? null, (b as unknown[])[i] ?? null));
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && sameData((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

export function dumpPyYaml(value: unknown, opts: DumpOptions = {}): string {
  const bad = notData(value, '(root)', new Set());
  if (bad) throw new YamlWriteError(`cannot write YAML for Dify: ${bad} (only mappings, lists, strings, numbers, booleans and null)`);
  const text = stringify(value, {
    version: '1.1',
    customTags: pyyamlTags,
    merge: false,
    lineWidth: 0,
    aliasDuplicateObjects: false,
    // Folded double-quoted lines can corrupt whitespace-only lines (yaml 2.9): keep \n escapes on one line.
    doubleQuotedMinMultiLineLength: Number.MAX_SAFE_INTEGER,
    blockQuote: 'literal',
    singleQuote: true, // as PyYAML's dumper (and so Dify's exports) quotes
    sortMapEntries: opts.sortKeys ? byCodePoint : false,
  });
  const back = loadPyYaml(text);
  // Integral numbers past 2^53 are written exactly (their decimal digits); the reader flags them, the data is equal.
  const issues = back.issues.filter((i) => i.type !== 'big-int');
  if (!back.ok || issues.length > 0 || !sameData(value, back.value)) {
    const why = issues[0]?.message ?? 'the value read back differs';
    throw new YamlWriteError(`internal error: the YAML written would not read back unchanged in PyYAML (${why})`);
  }
  return text;
}
