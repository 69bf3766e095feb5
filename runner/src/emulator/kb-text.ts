/**
 * The emulator's deterministic stand-in for embeddings and keyword tables: tokens (words; CJK characters and their
 * bigrams), keywords (most frequent non-stopword tokens, as the economy index stores up to 10), and TF-IDF cosine
 * similarity — a score in [0, 1] that is 1 for the same text and 0 for no shared token.
 */
const STOP = new Set(
  'a an and are as at be but by can do does for from has have how i if in into is it its me my no not of on or our so than that the their them then there these they this to was we what when where which who why will with you your'.split(' '),
);
const HAN = /\p{Script=Han}|\p{Script=Hiragana}|\p{Script=Katakana}|\p{Script=Hangul}/u;

export function tokens(text: string): string[] {
  const out: string[] = [];
  for (const run of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    if (!HAN.test(run)) {
      if (!STOP.has(run)) out.push(run);
      continue;
    }
    // CJK has no spaces: characters and bigrams.
    const chars = [...run];
    chars.forEach((ch, i) => {
      out.push(ch);
      if (i + 1 < chars.length) out.push(ch + chars[i + 1]);
    });
  }
  return out;
}

/** Up to 10 keywords: the most frequent tokens, ties in order of first appearance. */
export function keywordsOf(text: string): string[] {
  const count = new Map<string, number>();
  for (const t of tokens(text)) if (t.length > 1) count.set(t, (count.get(t) ?? 0) + 1);
  return [...count.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([t]) => t);
}

/** TF-IDF cosine similarity of a query against documents (log-scaled tf, BM25-style smoothed idf). */
export function similarity(query: string, docs: string[]): number[] {
  const docTokens = docs.map(tokens);
  const df = new Map<string, number>();
  for (const ts of docTokens) for (const t of new Set(ts)) df.set(t, (df.get(t) ?? 0) + 1);
  const n = docs.length;
  const idf = (t: string): number => Math.log(1 + (n - (df.get(t) ?? 0) + 0.5) / ((df.get(t) ?? 0) + 0.5));
  const vector = (ts: string[]): Map<string, number> => {
    const tf = new Map<string, number>();
    for (const t of ts) tf.set(t, (tf.get(t) ?? 0) + 1);
    const v = new Map<string, number>();
    for (const [t, f] of tf) v.set(t, (1 + Math.log(f)) * idf(t));
    return v;
  };
  const norm = (v: Map<string, number>): number => Math.sqrt([...v.values()].reduce((s, x) => s + x * x, 0));
  const q = vector(tokens(query));
  const qn = norm(q);
  return docTokens.map((ts) => {
    const d = vector(ts);
    const dn = norm(d);
    if (qn === 0 || dn === 0) return 0;
    let dot = 0;
    for (const [t, w] of q) dot += w * (d.get(t) ?? 0);
    return Math.min(1, Math.max(0, dot / (qn * dn)));
  });
}
