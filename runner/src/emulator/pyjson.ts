/**
 * Python's `json.dumps` output, byte for byte where it matters: default separators `", "`/`": "`, ensure_ascii
 * (`\uXXXX`, lowercase hex), optional sort_keys. Dify hashes drafts with it and frames SSE events with it.
 * JSON numbers lose the int/float distinction in JS: integral values print as ints (`1.0` hashes as `1`).
 */
const NON_ASCII = /[\u007f-\uffff]/g;
const HAS_NON_ASCII = /[\u007f-\uffff]/;

function escapeChar(c: string): string {
  return '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0');
}

export function pyString(s: string): string {
  // JSON.stringify escapes the same control set as Python (\n \r \t \b \f, else \u00xx); add ensure_ascii.
  const j = JSON.stringify(s);
  return HAS_NON_ASCII.test(j) ? j.replace(NON_ASCII, escapeChar) : j;
}

/** Python float repr: scientific below 1e-4 and from 1e16, with `e-05` style exponents. */
export function pyNumber(n: number): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity';
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return String(n);
  const exp = n.toExponential(); // shortest round-trip digits, e.g. "1.5e-7"
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(exp);
  if (!m) return String(n);
  const [, sign, d0, rest = '', e] = m;
  const digits = d0! + rest;
  const decpt = Number(e) + 1;
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) return `${sign}0.${'0'.repeat(-decpt)}${digits}`;
    if (decpt >= digits.length) return `${sign}${digits}${'0'.repeat(decpt - digits.length)}.0`;
    return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
  }
  const ex = decpt - 1;
  const mant = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${sign}${mant}e${ex < 0 ? '-' : '+'}${String(Math.abs(ex)).padStart(2, '0')}`;
}

function cmpCodePoints(a: string, b: string): number {
  // Python sorts str keys by code point; JS `<` compares UTF-16 units (differs only for astral characters).
  const ai = [...a];
  const bi = [...b];
  const n = Math.min(ai.length, bi.length);
  for (let i = 0; i < n; i++) {
    const x = ai[i]!.codePointAt(0)!;
    const y = bi[i]!.codePointAt(0)!;
    if (x !== y) return x - y;
  }
  return ai.length - bi.length;
}

export interface PyDumpOptions {
  sortKeys?: boolean;
}

export function pyDumps(value: unknown, opts: PyDumpOptions = {}): string {
  const out: string[] = [];
  write(value, out, opts.sortKeys === true);
  return out.join('');
}

function write(v: unknown, out: string[], sort: boolean): void {
  if (v === null || v === undefined) {
    out.push('null');
    return;
  }
  switch (typeof v) {
    case 'string':
      out.push(pyString(v));
      return;
    case 'number':
      out.push(pyNumber(v));
      return;
    case 'boolean':
      out.push(v ? 'true' : 'false');
      return;
    case 'bigint':
      out.push(v.toString());
      return;
    case 'object':
      break;
    default:
      out.push('null');
      return;
  }
  if (Array.isArray(v)) {
    out.push('[');
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out.push(', ');
      write(v[i], out, sort);
    }
    out.push(']');
    return;
  }
  if (v instanceof Date) {
    out.push(pyString(v.toISOString()));
    return;
  }
  let keys = Object.keys(v as object).filter((k) => (v as Record<string, unknown>)[k] !== undefined);
  if (sort) keys = keys.sort(cmpCodePoints);
  out.push('{');
  for (let i = 0; i < keys.length; i++) {
    if (i > 0) out.push(', ');
    out.push(pyString(keys[i]!), ': ');
    write((v as Record<string, unknown>)[keys[i]!], out, sort);
  }
  out.push('}');
}

/** Python `repr()` of a list of strings, as Dify puts it into messages (`['a', 'b']`). */
export function pyReprList(items: unknown[]): string {
  return '[' + items.map((x) => (typeof x === 'string' ? `'${x.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'` : String(x))).join(', ') + ']';
}
