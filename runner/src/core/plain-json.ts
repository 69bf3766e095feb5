/**
 * A content key for memoising work on JSON-like values (YAML dumps, normal forms, hashes): the JSON text of a value
 * made only of plain objects, arrays, strings, booleans, null and finite numbers (not -0). For such values equal
 * JSON means equal content, key order included. Anything else (Dates, binary, undefined, holes, class instances,
 * symbols, cycles, very deep or very large values) has no key, and callers then do the work without a cache.
 */
export function plainJson(value: unknown, maxChars = 256 * 1024): string | undefined {
  if (!isPlain(value, 0)) return undefined;
  const text = JSON.stringify(value);
  return text.length <= maxChars ? text : undefined;
}

function isPlain(v: unknown, depth: number): boolean {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v) && !Object.is(v, -0);
  if (typeof v !== 'object' || depth > 100) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!(i in v) || !isPlain(v[i], depth + 1)) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return false;
  if (Object.getOwnPropertySymbols(v).length > 0) return false;
  for (const k in v) {
    if (!Object.prototype.hasOwnProperty.call(v, k) || k === '__proto__' || !isPlain((v as Record<string, unknown>)[k], depth + 1)) return false;
  }
  return true;
}

/** A small insertion-ordered cache: the oldest entry goes when it is full. */
export class BoundedCache<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly size: number) {}
  get(key: string): V | undefined {
    return this.map.get(key);
  }
  set(key: string, value: V): V {
    this.map.set(key, value);
    if (this.map.size > this.size) this.map.delete(this.map.keys().next().value!);
    return value;
  }
}
