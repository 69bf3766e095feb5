/**
 * Secret masking. Every value registered here is replaced by `***` in everything the runner prints or writes:
 * raw, URL-encoded and Base64 (at each of the three byte alignments, so a secret inside a larger Base64 blob such
 * as a Basic-auth header is caught too). Jenkins masks only the raw value, and only inside withCredentials.
 */
const MASK = '***';
/** Shorter values would shred ordinary output; Jenkins has the same kind of floor. */
const MIN_SECRET_LENGTH = 4;

const secrets = new Set<string>();
let pattern: RegExp | null = null;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Base64 text that depends only on the secret's bytes, for the secret at byte offset 0, 1 and 2 of a blob. */
function base64Forms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const out: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const padded = Buffer.concat([Buffer.alloc(shift), bytes]);
    const full = padded.toString('base64').replace(/=+$/, '');
    // Chars influenced by the leading filler bytes and by the unknown trailing bytes are dropped.
    const start = shift === 0 ? 0 : Math.ceil((shift * 8) / 6);
    const stableBits = padded.length * 8 - ((padded.length * 8) % 6);
    const end = shift === 0 && bytes.length % 3 === 0 ? full.length : Math.floor(stableBits / 6);
    const core = full.slice(start, end);
    if (core.length >= MIN_SECRET_LENGTH) {
      out.push(core, core.replace(/\+/g, '-').replace(/\//g, '_'));
    }
  }
  return out;
}

function formsOf(value: string): string[] {
  const forms = new Set<string>([value]);
  forms.add(encodeURIComponent(value));
  forms.add(encodeURIComponent(value).replace(/%20/g, '+'));
  forms.add(JSON.stringify(value).slice(1, -1));
  for (const f of base64Forms(value)) forms.add(f);
  // As XML/HTML reports and email bodies escape it (quotes as entities or left alone).
  const xml = value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  forms.add(xml);
  forms.add(xml.replace(/"/g, '&quot;').replace(/'/g, '&apos;'));
  forms.add(xml.replace(/"/g, '&quot;').replace(/'/g, '&#39;'));
  forms.add(xml.replace(/"/g, '&quot;').replace(/'/g, '&#x27;'));
  return [...forms].filter((f) => f.length >= MIN_SECRET_LENGTH);
}

export function registerSecret(value: string | undefined | null): void {
  if (typeof value !== 'string') return;
  const v = value.trim();
  if (v.length < MIN_SECRET_LENGTH || secrets.has(v)) return;
  secrets.add(v);
  pattern = null;
}

export function registerSecretsFromEnv(names: Iterable<string>, env: NodeJS.ProcessEnv = process.env): void {
  for (const n of names) registerSecret(env[n]);
}

export function secretCount(): number {
  return secrets.size;
}

/** For tests only. */
export function clearSecrets(): void {
  secrets.clear();
  pattern = null;
}

function compiled(): RegExp | null {
  if (secrets.size === 0) return null;
  if (!pattern) {
    const all = new Set<string>();
    for (const s of secrets) for (const f of formsOf(s)) all.add(f);
    // Longest first so a form that contains another is replaced whole.
    const alts = [...all].sort((a, b) => b.length - a.length).map(escapeRegExp);
    pattern = new RegExp(alts.join('|'), 'g');
  }
  return pattern;
}

export function mask(text: string): string {
  const re = compiled();
  if (!re || !text) return text;
  return text.replace(re, MASK);
}

/** Masks every string inside a JSON-able value (result files, reports). */
export function maskDeep<T>(value: T): T {
  if (secrets.size === 0) return value;
  return JSON.parse(mask(JSON.stringify(value))) as T;
}

let installed = false;
/**
 * Routes process.stdout/stderr through the masker, so that nothing (our code, a library, a stack trace) can print
 * a registered secret.
 */
export function installOutputMasking(): void {
  if (installed) return;
  installed = true;
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    (stream as unknown as { write: (...args: unknown[]) => boolean }).write = (chunk: unknown, ...rest: unknown[]) => {
      if (secrets.size > 0) {
        if (typeof chunk === 'string') chunk = mask(chunk);
        else if (chunk instanceof Uint8Array) chunk = mask(Buffer.from(chunk).toString('utf8'));
      }
      return original(chunk, ...rest);
    };
  }
}
