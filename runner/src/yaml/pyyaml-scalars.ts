/**
 * Scalars exactly as PyYAML 6 reads and writes them (`yaml.safe_load` / `yaml.safe_dump`, YAML 1.1): the implicit
 * resolvers of yaml/resolver.py verbatim, the constructors of SafeConstructor (yaml/constructor.py), and the
 * `yaml` package tags that carry both. Every scalar node gets a {@link PY} record naming the type PyYAML gives it.
 */
import { Scalar, type ScalarTag } from 'yaml';
import { stringifyString } from 'yaml/util';

/** PyYAML's types for scalars. `merge` and `value` have no constructor in safe_load (`<<` outside a key, `=`). */
export type PyTag = 'null' | 'bool' | 'int' | 'float' | 'str' | 'timestamp' | 'binary' | 'merge' | 'value';

export interface PyScalar {
  tag: PyTag;
  /** What PyYAML raises when it constructs this scalar (ValueError, KeyError, ConstructorError); the load fails. */
  error?: string;
  /** timestamp: Python's `isoformat()` of the date or datetime PyYAML builds. */
  iso?: string;
  /** timestamp: `date` or `datetime`. */
  kind?: 'date' | 'datetime';
  /** int: the exact decimal value (PyYAML ints are unbounded; JavaScript numbers are exact only to 2^53). */
  big?: string;
}

/** The PyYAML record of a scalar node read by {@link pyyamlTags}. */
export const PY = Symbol('pyyaml');
export type PyNode = Scalar & { [PY]?: PyScalar };

const T = 'tag:yaml.org,2002:';

// yaml/resolver.py, `Resolver.add_implicit_resolver(...)`, verbatim (re.X whitespace removed).
export const PY_RESOLVERS: ReadonlyArray<readonly [PyTag, RegExp]> = [
  ['bool', /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/],
  ['float', /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/],
  ['int', /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$/],
  ['merge', /^(?:<<)$/],
  ['null', /^(?:~|null|Null|NULL|)$/],
  ['timestamp', /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$/],
  ['value', /^(?:=)$/],
];

/** The type PyYAML gives a plain (unquoted) scalar with this text. Python's `$` also matches before a final "\n". */
export function pyResolvePlain(text: string): PyTag {
  const t = text.endsWith('\n') ? text.slice(0, -1) : text;
  for (const [tag, re] of PY_RESOLVERS) if (re.test(t)) return tag;
  return 'str';
}

// ---- constructors (SafeConstructor.construct_yaml_*) ----

/** construct_yaml_int: the exact value as a bigint; throws Python's ValueError text. */
export function pyIntExact(text: string): bigint {
  let v = text.replace(/_/g, '');
  const sign = v[0] === '-' ? -1n : 1n;
  if (v[0] === '+' || v[0] === '-') v = v.slice(1);
  // Python's int(s, base) strips whitespace and accepts the base's own prefix (int('0o17', 8) == 15).
  const parse = (digits: string, base: 2 | 8 | 10 | 16): bigint => {
    const d = digits.trim();
    const prefix = { 2: /^0[bB]/, 8: /^0[oO]/, 10: /^$/, 16: /^0[xX]/ }[base];
    const body = base === 10 ? d : d.replace(prefix, '');
    const ok = { 2: /^[01]+$/, 8: /^[0-7]+$/, 10: /^[0-9]+$/, 16: /^[0-9a-fA-F]+$/ }[base].test(body);
    if (!ok) throw new Error(`invalid literal for int() with base ${base}: '${digits}'`);
    return BigInt(base === 10 ? body : `0${{ 2: 'b', 8: 'o', 16: 'x' }[base]}${body}`);
  };
  if (v === '0') return 0n;
  if (v.startsWith('0b')) return sign * parse(v.slice(2), 2);
  if (v.startsWith('0x')) return sign * parse(v.slice(2), 16);
  if (v[0] === '0') return sign * parse(v, 8);
  if (v.includes(':')) {
    let n = 0n;
    for (const part of v.split(':')) n = n * 60n + parse(part, 10);
    return sign * n;
  }
  return sign * parse(v, 10);
}

/** construct_yaml_float; throws Python's ValueError text. */
export function pyFloat(text: string): number {
  let v = text.replace(/_/g, '').toLowerCase().trim();
  const sign = v[0] === '-' ? -1 : 1;
  if (v[0] === '+' || v[0] === '-') v = v.slice(1);
  const num = (s: string) => {
    // Python float(): decimal digits with an optional point and exponent (plus inf/nan words).
    if (!/^(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?$/.test(s) && !/^(?:inf|infinity|nan)$/.test(s)) throw new Error(`could not convert string to float: '${s}'`);
    return s === 'nan' ? NaN : s.startsWith('inf') ? Infinity : Number(s);
  };
  if (v === '.inf') return sign * Infinity;
  if (v === '.nan') return NaN;
  if (v.includes(':')) {
    const digits = v.split(':').map(num).reverse();
    let base = 1;
    let value = 0;
    for (const d of digits) {
      value += d * base;
      base *= 60;
    }
    return sign * value;
  }
  return sign * num(v);
}

const BOOL_VALUES: Record<string, boolean> = { yes: true, no: false, true: true, false: false, on: true, off: false };

export function pyBool(text: string): boolean {
  const b = BOOL_VALUES[text.toLowerCase()];
  if (b === undefined) throw new Error(`KeyError: '${text.toLowerCase()}'`);
  return b;
}

const TIMESTAMP = /^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:(?:[Tt]|[ \t]+)([0-9]{1,2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]*))?(?:[ \t]*(Z|([-+])([0-9]{1,2})(?::([0-9]{2}))?))?)?$/;
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** construct_yaml_timestamp: what Python builds (date or datetime) as its isoformat(); throws Python's ValueError. */
export function pyTimestamp(text: string): { kind: 'date' | 'datetime'; iso: string } {
  const m = TIMESTAMP.exec(text);
  if (!m) throw new Error("'NoneType' object has no attribute 'groupdict'");
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (year < 1) throw new Error(`year ${year} is out of range`);
  if (month < 1 || month > 12) throw new Error('month must be in 1..12');
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  if (day < 1 || day > days) throw new Error('day is out of range for month');
  const date = `${pad(year, 4)}-${pad(month)}-${pad(day)}`;
  if (m[4] === undefined) return { kind: 'date', iso: date };
  const [hour, minute, second] = [Number(m[4]), Number(m[5]), Number(m[6])];
  if (hour > 23) throw new Error('hour must be in 0..23');
  if (minute > 59) throw new Error('minute must be in 0..59');
  if (second > 59) throw new Error('second must be in 0..59');
  const fraction = m[7] ? Number(m[7].slice(0, 6).padEnd(6, '0')) : 0;
  let tz = '';
  if (m[9]) {
    const offset = Number(m[10]) * 60 + Number(m[11] ?? 0);
    if (offset >= 24 * 60) throw new Error('offset must be a timedelta strictly between -timedelta(hours=24) and timedelta(hours=24).');
    tz = `${m[9] === '-' && offset > 0 ? '-' : '+'}${pad(Math.floor(offset / 60))}:${pad(offset % 60)}`;
  } else if (m[8] === 'Z') tz = '+00:00';
  return { kind: 'datetime', iso: `${date}T${pad(hour)}:${pad(minute)}:${pad(second)}${fraction ? `.${pad(fraction, 6)}` : ''}${tz}` };
}

// ---- Python's text forms (json.dumps keys, repr) ----

/** Python `repr(float)`: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
export function pyFloatRepr(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';
  const [mant, expText] = n.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  const neg = mant.startsWith('-');
  const digits = mant.replace(/^-/, '').replace('.', '');
  let body: string;
  if (exp >= -5 + 1 && exp < 16) {
    if (exp >= 0) {
      const int = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
      const frac = digits.slice(exp + 1);
      body = `${int}.${frac || '0'}`;
    } else body = `0.${'0'.repeat(-exp - 1)}${digits}`;
  } else {
    body = `${digits[0]}${digits.length > 1 ? `.${digits.slice(1)}` : ''}e${exp < 0 ? '-' : '+'}${pad(Math.abs(exp))}`;
  }
  return neg ? `-${body}` : body;
}

/** How `json.dumps` writes a non-string dict key (Dify stores the graph with it): True → "true", 1.0 → "1.0". */
export function pyJsonKey(value: unknown, py: PyScalar | undefined): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (py?.tag === 'int') return py.big ?? String(value);
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : !Number.isFinite(value) ? (value > 0 ? 'Infinity' : '-Infinity') : pyFloatRepr(value);
  return String(value);
}

// ---- the `yaml` package tags ----

function node(value: unknown, py: PyScalar): PyNode {
  const s = new Scalar(value) as PyNode;
  s[PY] = py;
  return s;
}

/** Builds the node, or records what PyYAML would raise (the loader refuses the document at this node). */
export function pyConstruct(tag: PyTag, text: string): PyNode {
  try {
    switch (tag) {
      case 'null':
        return node(null, { tag });
      case 'bool':
        return node(pyBool(text), { tag });
      case 'int': {
        const exact = pyIntExact(text);
        const n = Number(exact);
        return node(n, Number.isSafeInteger(n) ? { tag } : { tag, big: exact.toString() });
      }
      case 'float': {
        const s = node(pyFloat(text), { tag });
        if (Number.isInteger(s.value)) s.minFractionDigits = 1;
        return s;
      }
      case 'timestamp':
        // The text as written: a JavaScript Date would lose date vs datetime and the offset (see pyyaml-load.ts).
        return node(text, { tag, ...pyTimestamp(text) });
      case 'binary':
        return node(text, { tag });
      case 'merge':
      case 'value':
        return node(text, { tag });
      case 'str':
        return node(text, { tag });
    }
  } catch (e) {
    return node(text, { tag, error: (e as Error).message });
  }
}

/** Python's `repr(float)` in a form PyYAML's float resolver accepts (it needs a '.', and a sign on the exponent). */
export function pyFloatText(n: number): string {
  if (Number.isNaN(n)) return '.nan';
  if (!Number.isFinite(n)) return n > 0 ? '.inf' : '-.inf';
  const r = pyFloatRepr(n);
  return r.includes('.') ? r : r.replace('e', '.0e');
}

/** Characters a PyYAML reader must see escaped: outside printable, line breaks PyYAML knows (NEL, LS, PS), tab, BOM. */
const NEEDS_ESCAPE = /[\x00-\x08\x09\x0b\x0c\x0d\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\u{D800}-\u{DFFF}]/u;
const ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\0': '\\0',
  '\x07': '\\a',
  '\b': '\\b',
  '\t': '\\t',
  '\n': '\\n',
  '\v': '\\v',
  '\f': '\\f',
  '\r': '\\r',
  '\x1b': '\\e',
  '\x85': '\\N',
  '\u2028': '\\L',
  '\u2029': '\\P',
};

/** One double-quoted line with PyYAML's escapes: nothing in it can be folded, trimmed or refused. */
export function pyDoubleQuoted(s: string): string {
  let out = '"';
  for (const ch of s) {
    const esc = ESCAPES[ch];
    if (esc) out += esc;
    else {
      const cp = ch.codePointAt(0)!;
      if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) out += `\\x${cp.toString(16).padStart(2, '0')}`;
      else if ((cp >= 0xd800 && cp <= 0xdfff) || cp === 0xfeff || cp === 0xfffe || cp === 0xffff) out += `\\u${cp.toString(16)}`;
      else out += ch;
    }
  }
  return `${out}"`;
}

const implicitTag = (tag: PyTag, name: string, extra: Partial<ScalarTag>): ScalarTag => ({
  tag: T + name,
  default: true,
  test: PY_RESOLVERS.find(([t]) => t === tag)![1],
  resolve: (text: string) => pyConstruct(tag, text),
  ...extra,
});

/** For `!!int '12'` and the like: PyYAML runs the constructor on any text, whatever its style. */
const explicitTag = (tag: PyTag, name: string): ScalarTag => ({ tag: T + name, default: false, resolve: (text: string) => pyConstruct(tag, text) });

const isNumber = (v: unknown): v is number => typeof v === 'number';
const isIntLike = (v: unknown) => isNumber(v) && Number.isInteger(v) && Math.abs(v) < 1e21 && !Object.is(v, -0);

const strTag: ScalarTag = {
  tag: `${T}str`,
  default: true,
  identify: (v) => typeof v === 'string',
  resolve: (text: string) => text,
  stringify(item, ctx, onComment, onChompKeep) {
    const s = String(item.value);
    // A block scalar at the top level would have unindented text, which YAML 1.1 (PyYAML) does not allow.
    if (NEEDS_ESCAPE.test(s) || (ctx.indent === '' && !ctx.implicitKey && s.includes('\n'))) return pyDoubleQuoted(s);
    return stringifyString(item, Object.assign({ actualString: true }, ctx), onComment, onChompKeep);
  },
};

/** The scalar tags, reading and writing: PyYAML's types, each written in a form PyYAML resolves back to it. */
export const PY_SCALAR_TAGS: ScalarTag[] = [
  implicitTag('null', 'null', { identify: (v) => v === null || v === undefined, stringify: () => 'null' }),
  implicitTag('bool', 'bool', { identify: (v) => typeof v === 'boolean', stringify: (item) => (item.value ? 'true' : 'false') }),
  // Past 2^53 the exact value of the double (String() would print the shortest digits that round to it).
  implicitTag('int', 'int', { identify: isIntLike, stringify: (item) => BigInt(item.value as number).toString() }),
  implicitTag('float', 'float', { identify: isNumber, stringify: (item) => pyFloatText(Number(item.value)) }),
  implicitTag('timestamp', 'timestamp', {}),
  implicitTag('merge', 'merge', {}),
  implicitTag('value', 'value', {}),
  explicitTag('null', 'null'),
  explicitTag('bool', 'bool'),
  explicitTag('int', 'int'),
  explicitTag('float', 'float'),
  explicitTag('timestamp', 'timestamp'),
  explicitTag('binary', 'binary'),
  explicitTag('merge', 'merge'),
  explicitTag('value', 'value'),
  strTag,
];

/**
 * `customTags` for the `yaml` package: its map/seq/omap/pairs/set collections, PyYAML's scalars in place of its own.
 * Pass with `version: '1.1'`.
 */
export function pyyamlTags(tags: unknown[]): ScalarTag[] {
  const keep = tags.filter((t) => typeof t === 'object' && t !== null && 'collection' in t && (t as { collection?: string }).collection) as ScalarTag[];
  return [...keep, ...PY_SCALAR_TAGS];
}
