/**
 * Exact sums of Dify's decimal price strings ("0.0012890"): floats would print 0.30000000000000004 in reports.
 * Values are scaled to 1e-12 units in a BigInt.
 */
const SCALE = 12;

function toUnits(s: string): bigint | undefined {
  const m = /^\s*(-)?(\d*)(?:\.(\d*))?\s*$/.exec(s);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return undefined;
  const frac = (m[3] ?? '').slice(0, SCALE).padEnd(SCALE, '0');
  const v = BigInt((m[2] || '0') + frac);
  return m[1] ? -v : v;
}

function fromUnits(v: bigint): string {
  const neg = v < 0n;
  const abs = (neg ? -v : v).toString().padStart(SCALE + 1, '0');
  const int = abs.slice(0, -SCALE);
  const frac = abs.slice(-SCALE).replace(/0+$/, '');
  return (neg ? '-' : '') + int + (frac ? '.' + frac : '');
}

/** Sum of decimal strings (or numbers); unparsable values are ignored. */
export function addDecimals(values: Array<string | number | undefined | null>): string {
  let total = 0n;
  for (const v of values) {
    if (v === undefined || v === null) continue;
    const u = toUnits(typeof v === 'number' ? v.toFixed(SCALE) : v);
    if (u !== undefined) total += u;
  }
  return fromUnits(total);
}

export function isDecimal(s: unknown): s is string {
  return typeof s === 'string' && toUnits(s) !== undefined;
}
