/**
 * Credential-shaped strings: provider keys, Dify keys, cloud keys, bearer tokens, and long random values in fields
 * named like credentials. Exports with `include_secret=true` and hand-edited DSL leak them into Git.
 */

export interface CredentialMatch {
  kind: string;
  value: string;
}

/** Shapes with a recognisable prefix; each must also pass `looksRandom` on the part after the prefix. */
const SHAPES: { kind: string; re: RegExp; prefix: RegExp }[] = [
  { kind: 'OpenAI-style API key', re: /(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_-]{12,}/g, prefix: /^sk-(?:proj-|ant-(?:api\d\d-)?|or-v1-)?/ },
  { kind: 'Dify app API key', re: /(?<![A-Za-z0-9_-])app-[A-Za-z0-9]{24}(?![A-Za-z0-9_-])/g, prefix: /^app-/ },
  { kind: 'Dify knowledge API key', re: /(?<![A-Za-z0-9_-])(?:dataset|ds)-[A-Za-z0-9]{24}(?![A-Za-z0-9_-])/g, prefix: /^(?:dataset|ds)-/ },
  { kind: 'Dify OpenAPI token', re: /(?<![A-Za-z0-9_-])dfoa_[A-Za-z0-9_-]{20,}/g, prefix: /^dfoa_/ },
  { kind: 'AWS access key id', re: /(?<![A-Z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![0-9A-Z])/g, prefix: /^(?:AKIA|ASIA)/ },
  { kind: 'Google API key', re: /(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/g, prefix: /^AIza/ },
  { kind: 'GitHub token', re: /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})/g, prefix: /^(?:gh[pousr]_|github_pat_)/ },
  { kind: 'Slack token', re: /(?<![A-Za-z0-9_-])xox[abposr]-[A-Za-z0-9-]{10,}/g, prefix: /^xox[abposr]-/ },
  { kind: 'Hugging Face token', re: /(?<![A-Za-z0-9_-])hf_[A-Za-z0-9]{30,}/g, prefix: /^hf_/ },
  { kind: 'JSON Web Token', re: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/g, prefix: /^eyJ/ },
  { kind: 'private key', re: /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/g, prefix: /^/ },
];
const QUICK = /sk-|app-|ds-|dataset-|dfoa_|AKIA|ASIA|AIza|gh[pousr]_|github_pat_|xox|hf_|eyJ|PRIVATE KEY|[Bb]earer|:\/\/[^/\s:@]+:[^/\s@]+@/;
/** `Bearer <literal>` in headers or code (a template or env reference is fine). */
const BEARER = /\b[Bb]earer\s+([A-Za-z0-9._~+/=-]{16,})/g;
/** `scheme://user:password@host`. */
const URL_PASSWORD = /\b[a-z][a-z0-9+.-]*:\/\/([^/\s:@{}]+):([^/\s@{}]{3,})@/g;

/** Text that is a placeholder rather than a value: `sk-xxxx`, `your-key`, `<token>`, `***`, non-ASCII prose. */
export function isPlaceholder(v: string): boolean {
  const s = v.trim();
  if (s === '') return true;
  if (/x{3,}|\*{3,}|\.{3}|your|example|placeholder|changeme|dummy|<[^>]*>|^\$\{|\{\{/i.test(s)) return true;
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(s)) return true;
  return false;
}

/** Shannon entropy in bits per character. */
export function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) {
    const p = c / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** Random-looking enough to be a key, not a word or a slug. */
export function looksRandom(s: string, minLength = 12): boolean {
  if (s.length < minLength || /\s/.test(s) || isPlaceholder(s)) return false;
  const hasDigit = /\d/.test(s);
  const hasLetter = /[A-Za-z]/.test(s);
  // Long keys without digits exist (random lowercase); short ones need both.
  if (!(hasDigit && hasLetter) && s.length < 32) return false;
  return entropy(s) >= (s.length >= 32 ? 3.3 : 2.8);
}

/** After a known key prefix the bar is lower: not a placeholder, not a word, not one repeated character. */
function looksKeyLike(body: string): boolean {
  if (body.length < 10 || isPlaceholder(body)) return false;
  if (!(/\d/.test(body) && /[A-Za-z]/.test(body)) && body.length < 32) return false;
  return new Set(body).size >= 6;
}

/** Credential-shaped substrings of any string. */
export function findCredentials(s: string): CredentialMatch[] {
  if (s.length < 12 || !QUICK.test(s)) return [];
  const out: CredentialMatch[] = [];
  for (const shape of SHAPES) {
    shape.re.lastIndex = 0;
    for (let m = shape.re.exec(s); m; m = shape.re.exec(s)) {
      const body = m[0].replace(shape.prefix, '');
      if (shape.kind === 'private key' || looksKeyLike(body)) out.push({ kind: shape.kind, value: m[0] });
    }
  }
  BEARER.lastIndex = 0;
  for (let m = BEARER.exec(s); m; m = BEARER.exec(s)) {
    if (looksRandom(m[1]!) && !out.some((o) => m![1]!.includes(o.value))) out.push({ kind: 'bearer token', value: m[1]! });
  }
  URL_PASSWORD.lastIndex = 0;
  for (let m = URL_PASSWORD.exec(s); m; m = URL_PASSWORD.exec(s)) {
    if (!isPlaceholder(m[2]!)) out.push({ kind: 'password in a URL', value: m[2]! });
  }
  return out;
}

/** Field and variable names that hold credentials (`api_key`, `apikey`, `token`, `X-API-Key`, `hook_key`…). */
export function isCredentialName(name: string): boolean {
  const n = name.toLowerCase();
  if (/(^|[_-])(id|ids|type|name|url|header|count|limit|mode|enabled|prefix)$/.test(n) || /max|tokens$/.test(n)) return false;
  return /api[_-]?key|apikey|secret|token|passw(or)?d|pwd|credential|authorization|auth[_-]?key|access[_-]?key|private[_-]?key|session[_-]?(key|id)|sessionid|cookie|(^|[_-])key$|^key$|^auth$/.test(
    n,
  );
}

/** Literal (not templated) value of a credential-named field that looks like a real key. */
export function isCredentialValue(v: string): boolean {
  if (v.includes('{{') || /^https?:\/\//.test(v)) return false;
  return looksRandom(v, 12);
}

/** `sk-z…44 (17 chars)`: enough to find it, not enough to use it. */
export function maskCredential(v: string): string {
  if (v.length < 12) return `${'*'.repeat(Math.min(v.length, 8))} (${v.length} chars)`;
  const head = /^(sk-(?:proj-|ant-)?|app-|dataset-|ds-|dfoa_|AKIA|ASIA|AIza|gh[pousr]_|github_pat_|xox[a-z]-|hf_|eyJ)/.exec(v)?.[0] ?? '';
  return `${v.slice(0, head.length + 1)}…${v.slice(-2)} (${v.length} chars)`;
}
