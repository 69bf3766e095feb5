/** Assertions over the answer text. Reasons state facts, so the same text reads right when negated. */
import { ok, quote, type AssertionDef } from './types.js';

function s(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Regex flags default to `s` so that `^.{1,400}$` spans a multi-line answer. */
export function compileRegex(value: unknown): RegExp {
  if (typeof value === 'string') return new RegExp(value, 's');
  const v = value as { pattern: string; flags?: string };
  return new RegExp(v.pattern, v.flags ?? 's');
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as any)[k], (b as any)[k]));
}

export const equals: AssertionDef = {
  run(value, obs) {
    if (typeof value === 'string') {
      const pass = obs.answer.trim() === value.trim();
      return ok(pass, pass ? `answer equals ${quote(value)}` : `answer ${quote(obs.answer)} differs from ${quote(value)}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(obs.answer);
    } catch {
      // Not an error: an answer that is not JSON is compared as its text.
      parsed = obs.answer.trim();
    }
    // Numbers and booleans in YAML compare with the answer's JSON value ("42" equals 42).
    const pass = deepEqual(parsed, value);
    return ok(pass, pass ? `answer equals ${quote(value)}` : `answer ${quote(obs.answer)} differs from ${quote(value)}`);
  },
};

export const contains: AssertionDef = {
  run(value, obs) {
    const needle = s(value);
    const pass = obs.answer.includes(needle);
    return ok(pass, pass ? `answer contains ${quote(needle)}` : `answer does not contain ${quote(needle)}`);
  },
};

export const icontains: AssertionDef = {
  run(value, obs) {
    const needle = s(value);
    const pass = obs.answer.toLowerCase().includes(needle.toLowerCase());
    return ok(pass, pass ? `answer contains ${quote(needle)} (ignoring case)` : `answer does not contain ${quote(needle)} (ignoring case)`);
  },
};

export const containsAny: AssertionDef = {
  run(value, obs) {
    const list = (value as unknown[]).map(s);
    const hit = list.find((n) => obs.answer.includes(n));
    return hit !== undefined
      ? ok(true, `answer contains ${quote(hit)}`)
      : ok(false, `answer contains none of ${list.map((n) => quote(n, 30)).join(', ')}`);
  },
};

export const containsAll: AssertionDef = {
  run(value, obs) {
    const list = (value as unknown[]).map(s);
    const missing = list.filter((n) => !obs.answer.includes(n));
    const score = list.length ? (list.length - missing.length) / list.length : 1;
    return missing.length === 0
      ? ok(true, `answer contains all of ${list.map((n) => quote(n, 30)).join(', ')}`)
      : ok(false, `answer lacks ${missing.map((n) => quote(n, 30)).join(', ')}`, score);
  },
};

export const startsWith: AssertionDef = {
  run(value, obs) {
    const prefix = s(value);
    const pass = obs.answer.trimStart().startsWith(prefix);
    return ok(pass, pass ? `answer starts with ${quote(prefix)}` : `answer starts with ${quote(obs.answer.trimStart().slice(0, prefix.length + 10))}, not ${quote(prefix)}`);
  },
};

export const regex: AssertionDef = {
  check(value) {
    try {
      compileRegex(value);
      return undefined;
    } catch (e) {
      return `invalid regular expression: ${(e as Error).message}`;
    }
  },
  run(value, obs) {
    const re = compileRegex(value);
    const m = re.exec(obs.answer);
    return m
      ? ok(true, `answer matches /${re.source}/${re.flags} at ${quote(m[0], 40)}`)
      : ok(false, `answer does not match /${re.source}/${re.flags}`);
  },
};

const segmenter = new Intl.Segmenter('und', { granularity: 'word' });

/** Words by Unicode rules, so CJK text is counted in words rather than as one whitespace-free run. */
export function countWords(text: string): number {
  let n = 0;
  for (const seg of segmenter.segment(text)) if (seg.isWordLike) n++;
  return n;
}

export const wordCount: AssertionDef = {
  run(value, obs) {
    const n = countWords(obs.answer);
    if (typeof value === 'number') return ok(n === value, `answer has ${n} word(s)${n === value ? '' : `, expected ${value}`}`);
    const { min, max } = value as { min?: number; max?: number };
    const pass = (min === undefined || n >= min) && (max === undefined || n <= max);
    const range = min !== undefined && max !== undefined ? `${min}..${max}` : min !== undefined ? `≥ ${min}` : `≤ ${max}`;
    return ok(pass, `answer has ${n} word(s) (${pass ? 'within' : 'outside'} ${range})`);
  },
};
