/** Small helpers shared by the emulator: ids, injectable clock, seeded RNG, globs, JWT, Python-like Base64. */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

export const uuid = (): string => randomUUID();

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Wall clock plus an offset tests can advance (token expiry, pending imports, rate-limit windows). */
export class Clock {
  private offset = 0;
  nowMs(): number {
    return Date.now() + this.offset;
  }
  nowSec(): number {
    return Math.floor(this.nowMs() / 1000);
  }
  advance(ms: number): void {
    this.offset += ms;
  }
  /** Jumps to an instant (ms); time keeps running from there. */
  set(ms: number): void {
    this.offset = ms - Date.now();
  }
  reset(): void {
    this.offset = 0;
  }
  /** Python `str(datetime.utcnow())`, Dify's published `version` string (no fraction when microseconds are 0). */
  pyTimestamp(): string {
    const d = new Date(this.nowMs());
    const iso = d.toISOString(); // 2025-01-02T03:04:05.678Z
    const ms = iso.slice(20, 23);
    return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${ms === '000' ? '' : `.${ms}000`}`;
  }
}

/** mulberry32: tiny, seedable, good enough for jitter and fault probabilities. */
export class Rng {
  private s: number;
  constructor(seed = 1) {
    this.s = seed >>> 0 || 1;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export function randomAlnum(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALNUM[Math.floor(Math.random() * ALNUM.length)];
  return s;
}
export function randomHex(bytes: number): string {
  let s = '';
  for (let i = 0; i < bytes * 2; i++) s += '0123456789abcdef'[Math.floor(Math.random() * 16)];
  return s;
}

/** Path glob: `*` one segment (no `/`), `**` anything, `?` one character. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        re += '.*';
        i++;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Name glob (app/workspace names): `*` anything, case-insensitive. */
export function nameGlob(glob: string): RegExp {
  const re = glob.replace(/[.+^${}()|[\]\\?]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${re}$`, 'i');
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: unknown): s is string => typeof s === 'string' && UUID_RE.test(s);

// ---- JWT (HS256), as PyJWT produces and checks them ----
const b64url = (buf: Buffer): string => buf.toString('base64url');

export function signJwt(payload: Record<string, unknown>, secret: string): string {
  const header = b64url(Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })));
  const body = b64url(Buffer.from(JSON.stringify(payload)));
  const sig = b64url(createHmac('sha256', secret).update(`${header}.${body}`).digest());
  return `${header}.${body}.${sig}`;
}

export type JwtResult = { ok: true; payload: Record<string, unknown> } | { ok: false; reason: 'invalid' | 'signature' | 'expired' };

export function verifyJwt(token: string, secret: string, nowSec: number): JwtResult {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'invalid' };
  let payload: Record<string, unknown>;
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as { alg?: string };
    payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (header.alg !== 'HS256' || payload === null || typeof payload !== 'object') return { ok: false, reason: 'invalid' };
  } catch {
    return { ok: false, reason: 'invalid' };
  }
  const expected = createHmac('sha256', secret).update(`${parts[0]}.${parts[1]}`).digest();
  const got = Buffer.from(parts[2]!, 'base64url');
  if (got.length !== expected.length || !timingSafeEqual(got, expected)) return { ok: false, reason: 'signature' };
  if (typeof payload.exp === 'number' && payload.exp <= nowSec) return { ok: false, reason: 'expired' };
  return { ok: true, payload };
}

/**
 * Python `base64.b64decode(s)` (validate=False): characters outside the alphabet are skipped, padding is checked,
 * then the bytes must be UTF-8 (Dify's FieldEncryption). Returns undefined where Python raises.
 */
export function pyB64DecodeUtf8(s: string): string | undefined {
  const data = s.replace(/[^A-Za-z0-9+/=]/g, '');
  const core = data.replace(/=.*$/s, '');
  const pad = data.length - core.length;
  const rem = core.length % 4;
  if (rem === 1) return undefined;
  if (rem !== 0 && pad < 4 - rem) return undefined;
  const buf = Buffer.from(core, 'base64');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    return undefined;
  }
}

// ---- knowledge ids (§9.7): AES-256-CBC, key sha256(workspace id), IV = first 16 key bytes ----
function datasetKey(workspaceId: string): Buffer {
  return createHash('sha256').update(workspaceId, 'utf8').digest();
}

export function encryptDatasetId(datasetId: string, workspaceId: string): string {
  const key = datasetKey(workspaceId);
  const c = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  return Buffer.concat([c.update(datasetId, 'utf8'), c.final()]).toString('base64');
}

export function decryptDatasetId(value: unknown, workspaceId: string): string | null {
  if (isUuid(value)) return value;
  if (typeof value !== 'string') return null;
  try {
    const key = datasetKey(workspaceId);
    const d = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
    const text = Buffer.concat([d.update(Buffer.from(value, 'base64')), d.final()]).toString('utf8');
    return isUuid(text) ? text : null;
  } catch {
    return null;
  }
}

export function deepClone<T>(v: T): T {
  return v === undefined ? v : (structuredClone(v) as T);
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
