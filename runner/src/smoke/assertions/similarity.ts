/** Normalised string similarity: 1 − Levenshtein distance ÷ the longer length, over Unicode code points. */
import { ok, quote, type AssertionDef } from './types.js';

export function levenshtein(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  if (x.length < y.length) return levenshtein(b, a);
  let prev = Array.from({ length: y.length + 1 }, (_, i) => i);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[y.length]!;
}

export function similarityRatio(a: string, b: string): number {
  const len = Math.max([...a].length, [...b].length);
  return len === 0 ? 1 : 1 - levenshtein(a, b) / len;
}

export const DEFAULT_SIMILARITY = 0.8;

export const similarity: AssertionDef = {
  run(value, obs) {
    const { value: expected, threshold = DEFAULT_SIMILARITY } =
      typeof value === 'string' ? { value, threshold: DEFAULT_SIMILARITY } : (value as { value: string; threshold?: number });
    const r = similarityRatio(obs.answer.trim(), expected.trim());
    const shown = r.toFixed(2);
    return ok(r >= threshold, `similarity to ${quote(expected, 40)} is ${shown} (${r >= threshold ? '≥' : '<'} ${threshold})`, r);
  },
};
