/**
 * Secret masking. Every value registered here is replaced by `***` in everything the runner prints or writes:
 * raw, URL-encoded and Base64 (at each of the three byte alignments, so a secret inside a larger Base64 blob such
 * as a Basic-auth header is caught too). Jenkins masks only the raw value, and only inside withCredentials.
 */
import { currentScope, runEnv, type OutStream, type Scope } from './run.js';

const MASK = '***';
/** Shorter values would shred ordinary output; Jenkins has the same kind of floor. */
const MIN_SECRET_LENGTH = 4;

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

/** The secrets of one run, with the pattern that masks them (rebuilt when one is added). */
class Secrets {
  readonly values = new Set<string>();
  private pattern: RegExp | null = null;

  add(value: string): void {
    if (this.values.has(value)) return;
    this.values.add(value);
    this.pattern = null;
  }

  mask(text: string): string {
    if (this.values.size === 0 || !text) return text;
    if (!this.pattern) {
      const all = new Set<string>();
      for (const s of this.values) for (const f of formsOf(s)) all.add(f);
      // Longest first so a form that contains another is replaced whole.
      const alts = [...all].sort((a, b) => b.length - a.length).map(escapeRegExp);
      this.pattern = new RegExp(alts.join('|'), 'g');
    }
    return text.replace(this.pattern, MASK);
  }
}

const SECRETS = Symbol('dify-ci.secrets');

/** A run's secrets (see core/run.ts): a run never masks with, nor leaks into, another run's list. */
function secrets(scope: Scope = currentScope()): Secrets {
  return scope.slot(SECRETS, () => new Secrets());
}

export function registerSecret(value: string | undefined | null): void {
  if (typeof value !== 'string') return;
  const v = value.trim();
  if (v.length < MIN_SECRET_LENGTH) return;
  secrets().add(v);
}

export function registerSecretsFromEnv(names: Iterable<string>, env: NodeJS.ProcessEnv = runEnv()): void {
  for (const n of names) registerSecret(env[n]);
}

export function secretCount(): number {
  return secrets().values.size;
}

/** For tests only: forgets the secrets registered outside any run (or in the current one). */
export function clearSecrets(): void {
  currentScope().drop(SECRETS);
}

export function mask(text: string): string {
  return secrets().mask(text);
}

/** Masks every string inside a JSON-able value (result files, reports). */
export function maskDeep<T>(value: T): T {
  if (secrets().values.size === 0) return value;
  return JSON.parse(mask(JSON.stringify(value))) as T;
}

/** A stream that masks the secrets of `run` in everything written to it. */
export function maskedStream(target: OutStream, run: Scope): OutStream {
  const write = (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return target.write(secrets(run).mask(text), ...rest);
  };
  return {
    write,
    get isTTY() {
      return target.isTTY;
    },
    get columns() {
      return target.columns;
    },
  };
}

/**
 * Routes process.stdout/stderr through the masker of `run`, so that nothing outside the run's own streams (a
 * library, a stack trace) can print one of its secrets. Only for the CLI process, which hosts one run.
 */
export function guardProcessOutput(run: Scope): void {
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    (stream as unknown as { write: (...args: unknown[]) => boolean }).write = (chunk: unknown, ...rest: unknown[]) => {
      const s = secrets(run);
      if (s.values.size > 0) {
        if (typeof chunk === 'string') chunk = s.mask(chunk);
        else if (chunk instanceof Uint8Array) chunk = s.mask(Buffer.from(chunk).toString('utf8'));
      }
      return original(chunk, ...rest);
    };
  }
}
