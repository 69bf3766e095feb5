/**
 * The assertion registry, keyed by type. `not-<type>` negates any of them: pass and score flip, the factual reason
 * stays; when the needed data is missing (no TTFT, no outputs) both forms fail.
 */
import type { AssertionResult, AssertionSpec, Observation } from '../types.js';
import { cost, latency, status, tokens, ttft } from './metrics.js';
import { isJson, jsonSchema, output } from './json.js';
import { similarity } from './similarity.js';
import { contains, containsAll, containsAny, equals, icontains, regex, startsWith, wordCount } from './text.js';
import type { AssertionDef } from './types.js';

export const ASSERTIONS: Record<string, AssertionDef> = {
  equals,
  contains,
  icontains,
  'contains-any': containsAny,
  'contains-all': containsAll,
  'starts-with': startsWith,
  regex,
  'is-json': isJson,
  'json-schema': jsonSchema,
  output,
  status,
  latency,
  ttft,
  tokens,
  cost,
  'word-count': wordCount,
  similarity,
};

export const ASSERTION_TYPES = Object.keys(ASSERTIONS);

/** Splits `not-contains` into {type: 'contains', negate: true}; undefined when the type is unknown. */
export function parseAssertionKey(key: string): { type: string; negate: boolean } | undefined {
  const negate = key.startsWith('not-');
  const type = negate ? key.slice(4) : key;
  return ASSERTIONS[type] ? { type, negate } : undefined;
}

export function checkAssertionValue(type: string, value: unknown): string | undefined {
  return ASSERTIONS[type]?.check?.(value);
}

export function runAssertion(spec: AssertionSpec, obs: Observation): AssertionResult {
  const def = ASSERTIONS[spec.type];
  if (!def) return { label: spec.label, type: spec.type, weight: spec.weight, pass: false, score: 0, reason: `unknown assertion type '${spec.type}'` };
  let out;
  try {
    out = def.run(spec.value, obs);
  } catch (e) {
    out = { pass: false, score: 0, reason: `assertion failed to run: ${(e as Error).message}`, unknown: true };
  }
  const base = { label: spec.label, type: spec.label.startsWith('not-') ? `not-${spec.type}` : spec.type, weight: spec.weight };
  if (!spec.negate) return { ...base, pass: out.pass, score: out.score, reason: out.reason };
  if (out.unknown) return { ...base, pass: false, score: 0, reason: out.reason };
  return { ...base, pass: !out.pass, score: 1 - out.score, reason: out.reason };
}

/**
 * Weighted score of a list of results, and whether it passes: with a threshold, score ≥ threshold; without one,
 * every assertion with weight > 0 must pass (weight 0 = informational).
 */
export function scoreOf(results: AssertionResult[], threshold?: number): { score: number; pass: boolean } {
  const weighted = results.filter((r) => r.weight > 0);
  const total = weighted.reduce((a, r) => a + r.weight, 0);
  const score = total === 0 ? 1 : weighted.reduce((a, r) => a + r.weight * r.score, 0) / total;
  const pass = threshold !== undefined ? score >= threshold - 1e-9 : weighted.every((r) => r.pass);
  return { score, pass };
}
