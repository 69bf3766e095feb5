/**
 * Python number semantics the statistics need: `round(float, n)` (correctly rounded, ties to even on the exact
 * binary value), `Decimal.quantize(Decimal('0.01'))` of an average (ties to even), and SQL `SUM` of NUMERIC(10,7)
 * prices (exact, printed like `str(Decimal)`).
 */

/** The exact value of a finite double as mantissa × 2^-shift (shift ≥ 0). */
function exact(x: number): { m: bigint; shift: bigint } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const sign = bits >> 63n ? -1n : 1n;
  const e = Number((bits >> 52n) & 0x7ffn);
  let m = bits & 0xfffffffffffffn;
  let exp: number;
  if (e === 0) exp = -1074;
  else {
    m |= 1n << 52n;
    exp = e - 1075;
  }
  if (exp >= 0) return { m: sign * (m << BigInt(exp)), shift: 0n };
  return { m: sign * m, shift: BigInt(-exp) };
}

/** n/d rounded to an integer, ties to even (d > 0). */
function divHalfEven(n: bigint, d: bigint): bigint {
  const neg = n < 0n;
  const a = neg ? -n : n;
  let q = a / d;
  const r2 = (a % d) * 2n;
  if (r2 > d || (r2 === d && q % 2n === 1n)) q += 1n;
  return neg ? -q : q;
}

/** Python's `round(x, ndigits)` for a float. */
export function pyRound(x: number, ndigits: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const { m, shift } = exact(x);
  const q = divHalfEven(m * 10n ** BigInt(ndigits), 1n << shift);
  return Number(`${q}e-${ndigits}`);
}

/** `Decimal(sum / count).quantize(Decimal('0.01'))` as a float: the average of integers to 2 places, ties to even. */
export function avgQuantized(sum: number, count: number): number {
  return Number(divHalfEven(BigInt(sum) * 100n, BigInt(count))) / 100;
}

const SCALE = 10_000_000n;
/** A NUMERIC(10,7) price string as units of 1e-7. */
export function priceUnits(price: string | null | undefined): bigint {
  const m = /^(-?)(\d*)(?:\.(\d{0,7}))?/.exec(String(price ?? '0'))!;
  const units = BigInt(m[2] || '0') * SCALE + BigInt((m[3] ?? '').padEnd(7, '0') || '0');
  return m[1] ? -units : units;
}

/** `str(Decimal)` of a sum of NUMERIC(10,7) values: always 7 decimals (`"0.0012890"`). */
export function unitsToPrice(units: bigint): string {
  const neg = units < 0n;
  const a = neg ? -units : units;
  return `${neg ? '-' : ''}${a / SCALE}.${String(a % SCALE).padStart(7, '0')}`;
}
