/**
 * When a request to Dify is tried again: idempotent requests on 429, 502/503/504, resets and timeouts;
 * non-idempotent ones only when the server provably did not process them (429, connection refused). Bounded
 * exponential backoff with jitter; a Retry-After is honoured (up to a limit) and holds the whole host.
 */
export interface RetryPolicy {
  /** Attempts in total, first one included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A server asking us to wait longer than this makes the request fail instead. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 300, maxDelayMs: 10_000, maxRetryAfterMs: 120_000 };

/** 429 codes that mean "stop", not "later": Cloud quota and the login lock-out. */
const FINAL_429_CODES = new Set(['rate_limit_error', 'email_code_login_limit']);
/** Transport errors after which the request may or may not have reached the server. */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'ECONNABORTED',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_GOT_REQUEST_ERROR',
]);
/** Transport errors raised before anything was sent: safe to repeat any request. */
export const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'EAI_AGAIN']);

export function isIdempotent(req: { method: string; idempotent?: boolean }): boolean {
  return req.idempotent ?? (req.method === 'GET' || req.method === 'PUT' || req.method === 'DELETE');
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Math.round(Number(v.trim()) * 1000);
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/** Exponential backoff with "equal jitter": half fixed, half random, capped. `retry` counts from 1. */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export type RetryVerdict =
  | { retry: false; reason?: string }
  | { retry: true; delayMs: number; hostWide: boolean; reason: string };

export interface AttemptOutcome {
  status?: number;
  body?: unknown;
  headers?: Record<string, string | string[] | undefined>;
  /** Transport error code (ECONNRESET, ETIMEDOUT, …) when there was no response. */
  errorCode?: string;
  malformed?: boolean;
}

/** Pure retry decision for one failed attempt; `retry` is the number of the retry that would follow (1-based). */
export function decideRetry(
  o: AttemptOutcome,
  ctx: { idempotent: boolean; retry: number; policy: RetryPolicy; now: number; random: () => number },
): RetryVerdict {
  const { idempotent, retry, policy } = ctx;
  if (retry >= policy.maxAttempts) return { retry: false, reason: 'attempts exhausted' };
  if (o.status === 429) {
    const code = (o.body as { code?: string } | undefined)?.code;
    if (code && FINAL_429_CODES.has(code)) return { retry: false, reason: code };
    const bodyMs = Number((o.body as { retry_after_ms?: unknown } | undefined)?.retry_after_ms);
    const asked = parseRetryAfter(o.headers?.['retry-after'], ctx.now) ?? (Number.isFinite(bodyMs) && bodyMs >= 0 ? bodyMs : undefined);
    if (asked !== undefined && asked > policy.maxRetryAfterMs) {
      return { retry: false, reason: `server asked to wait ${Math.ceil(asked / 1000)} s (limit ${policy.maxRetryAfterMs / 1000} s)` };
    }
    // A 429 is refused before processing, so even a create may be repeated.
    const delayMs = asked !== undefined ? asked + Math.round(ctx.random() * 100) : backoffDelay(retry, policy, ctx.random);
    return { retry: true, delayMs, hostWide: true, reason: asked !== undefined ? 'HTTP 429 (Retry-After)' : 'HTTP 429' };
  }
  if (o.status === 502 || o.status === 503 || o.status === 504) {
    if (!idempotent) return { retry: false, reason: 'not idempotent' };
    const asked = parseRetryAfter(o.headers?.['retry-after'], ctx.now);
    if (asked !== undefined && asked > policy.maxRetryAfterMs) return { retry: false, reason: 'Retry-After too long' };
    return { retry: true, delayMs: asked ?? backoffDelay(retry, policy, ctx.random), hostWide: asked !== undefined, reason: `HTTP ${o.status}` };
  }
  if (o.status !== undefined && o.malformed && o.status < 300) {
    return idempotent ? { retry: true, delayMs: backoffDelay(retry, policy, ctx.random), hostWide: false, reason: 'malformed body' } : { retry: false };
  }
  if (o.errorCode) {
    if (NOT_SENT_CODES.has(o.errorCode) || (idempotent && TRANSIENT_CODES.has(o.errorCode))) {
      return { retry: true, delayMs: backoffDelay(retry, policy, ctx.random), hostWide: false, reason: o.errorCode };
    }
    return { retry: false, reason: idempotent ? o.errorCode : 'not idempotent' };
  }
  return { retry: false };
}
