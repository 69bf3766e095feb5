/**
 * A content key for memoising work on JSON-like values (YAML dumps, normal forms, hashes): the JSON text of a value
 * made only of plain objects, arrays, strings, booleans, null and finite numbers (not -0). For such values equal
 * JSON means equal content, key order included. Anything else (Dates, binary, undefined, holes, class instances,
 * symbols, cycles, very deep or very large values) has no key, and callers then do the work without a cache.
 * Beside the YAML reader because both the deploy engine and the emulator cache their YAML work with it.
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

/**
 * A small insertion-ordered cache bounded by entries and by weight (key plus value characters; a non-string value
 * weighs as much as its key, the JSON it was made from): the oldest entries go first.
 */
export class BoundedCache<V> {
  private readonly map = new Map<string, { value: V; weight: number }>();
  private weight = 0;
  constructor(
    private readonly entries: number,
    private readonly maxWeight = 4 * 1024 * 1024,
  ) {}
  get(key: string): V | undefined {
    return this.map.get(key)?.value;
  }
  set(key: string, value: V): V {
    const weight = key.length + (typeof value === 'string' ? value.length : key.length);
    if (weight > this.maxWeight) return value;
    const old = this.map.get(key);
    if (old) {
      this.weight -= old.weight;
      this.map.delete(key);
    }
    this.map.set(key, { value, weight });
    this.weight += weight;
    while (this.map.size > this.entries || this.weight > this.maxWeight) {
      const [k, e] = this.map.entries().next().value!;
      this.map.delete(k);
      this.weight -= e.weight;
    }
    return value;
  }
}
