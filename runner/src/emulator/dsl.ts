/** DSL text as Dify reads and writes it: PyYAML `safe_load` and `yaml.dump(…, allow_unicode=True)`. */
import { BoundedCache, plainJson } from '../yaml/plain-json.js';
import { dumpPyYaml } from '../yaml/pyyaml-dump.js';
import { loadPyYaml } from '../yaml/pyyaml-load.js';

/**
 * PyYAML `safe_load` semantics: YAML 1.1 with PyYAML's resolvers (unquoted 0.6 is a float, yes/no are booleans but
 * y/n stay strings), duplicate keys allowed (last wins), unknown tags rejected.
 */
export function safeLoad(text: string): unknown {
  // A fan-out imports the same DSL text into hundreds of apps: parse each text once and hand out deep copies
  // (structuredClone keeps Dates, binary and shared alias references as toJS made them). Errors are not cached.
  const cacheable = text.length <= CACHE_MAX_CHARS && !text.includes('__proto__');
  if (cacheable) {
    const hit = loadCache.get(text);
    if (hit) return structuredClone(hit.value);
  }
  // PyYAML exactly (`=` and `<<` values refused, 08257 a string); a date stops it too (Dify: json.dumps fails).
  const loaded = loadPyYaml(text);
  const problem = loaded.issues.find((i) => i.kind !== 'duplicate-key' && i.type !== 'big-int');
  if (problem) throw new YamlError(problem.message);
  const value = loaded.value;
  if (cacheable && value !== null && typeof value === 'object') {
    try {
      loadCache.set(text, { value: structuredClone(value) });
    } catch {
      // not cloneable: parsed again next time
    }
  }
  return value;
}
export class YamlError extends Error {}

/** Parse and dump caches: few entries (one per distinct DSL in flight), each at most 256 KB of text. */
const CACHE_MAX_CHARS = 256 * 1024;
const loadCache = new BoundedCache<{ value: unknown }>(64);
const dumpCache = new BoundedCache<string>(64);

/** `yaml.dump(…, allow_unicode=True)`: keys sorted; 1.1 quoting so PyYAML reads every scalar back unchanged. */
export function dumpYaml(value: unknown): string {
  // Exports of unchanged apps repeat: dump each distinct (plain) value once.
  const key = plainJson(value, CACHE_MAX_CHARS);
  const hit = key === undefined ? undefined : dumpCache.get(key);
  if (hit !== undefined) return hit;
  const text = dumpPyYaml(value, { sortKeys: true });
  return key === undefined ? text : dumpCache.set(key, text);
}
