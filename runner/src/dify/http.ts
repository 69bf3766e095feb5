/**
 * The one HTTP transport for Dify servers: got with a per-request timeout, TLS verification (extra CA from the
 * config), corporate proxies (hpagent, chosen per URL by proxy-from-env so NO_PROXY works), bounded exponential
 * backoff with jitter, and a host-wide "not before" time so one 429 slows every request to that server.
 *
 * Retries (retry.ts): idempotent requests on 429, 502/503/504, resets and timeouts; non-idempotent ones only when
 * the server provably did not process them (429, connection refused); anything else is returned/thrown with
 * `uncertain` set, and the caller looks the result up before trying again (see imports.ts, workflows.ts). The
 * per-server gates are host-gate.ts.
 */
import http from 'node:http';
import https from 'node:https';
import { rootCertificates } from 'node:tls';
import { readFileSync } from 'node:fs';
import got, { type Agents, type Headers } from 'got';
import { HttpProxyAgent, HttpsProxyAgent } from 'hpagent';
import { getProxyForUrl } from 'proxy-from-env';
import type { CookieJar } from 'tough-cookie';
import { DifyCiError, configError } from '../core/errors.js';
import { log } from '../core/log.js';
import { registerSecret } from '../core/mask.js';
import { runEnv } from '../core/run.js';
import { backoffHost, hostGate, type HostGate } from './host-gate.js';
import { decideRetry, DEFAULT_RETRY, isIdempotent, NOT_SENT_CODES, type RetryPolicy } from './retry.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpRequest {
  method: Method;
  /** Absolute path on the server, e.g. `/console/api/apps`. */
  path: string;
  searchParams?: Record<string, string | number | boolean | undefined | null>;
  json?: unknown;
  headers?: Record<string, string>;
  /** Cookies are sent and stored only when a jar is given (never with admin keys). */
  cookieJar?: CookieJar;
  /** Default: true for GET/PUT/DELETE, false for POST/PATCH. */
  idempotent?: boolean;
  /** What is being done, for messages: "export app support-bot". */
  what: string;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON when the body is JSON, else the raw text. */
  body: unknown;
  text: string;
  /** True when the body should have been JSON but was not. */
  malformed: boolean;
}

/** A request failure with what was being done; `uncertain` = the server may have processed it. */
export class DifyRequestError extends DifyCiError {
  readonly uncertain: boolean;
  readonly response?: HttpResponse;
  constructor(message: string, category: ConstructorParameters<typeof DifyCiError>[1], opts: ConstructorParameters<typeof DifyCiError>[2] & { uncertain?: boolean; response?: HttpResponse } = {}) {
    super(message, category, opts);
    this.uncertain = opts.uncertain ?? false;
    this.response = opts.response;
  }
}

/** Dify's own code and message from any of its body shapes (envelope, import object, refresh, max keys, openapi). */
export function difyCodeAndMessage(body: unknown, text = ''): { code?: string; message?: string } {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    const code = [b.code, b.custom, typeof b.error === 'string' && !b.message ? b.error : undefined, b.result === 'fail' ? 'fail' : undefined].find(
      (x): x is string => typeof x === 'string' && x !== '',
    );
    const message = [b.message, b.error, typeof b.data === 'string' ? b.data : undefined].find((x): x is string => typeof x === 'string' && x !== '');
    return { code, message };
  }
  const t = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return { message: t ? t.slice(0, 200) : undefined };
}

/** DifyCiError for an HTTP answer: what, where, Dify's code/message, the status; 401/403 → auth (exit 4). */
export function httpError(what: string, where: string | undefined, res: HttpResponse, hint?: string): DifyRequestError {
  const { code, message } = difyCodeAndMessage(res.body, res.text);
  const category = res.status === 401 || res.status === 403 ? 'auth' : 'dify';
  let msg = `${what}${where ? ` (${where})` : ''} failed: HTTP ${res.status}`;
  if (code) msg += ` ${code}`;
  if (message) msg += `: ${message}`;
  return new DifyRequestError(msg, category, {
    difyCode: code,
    httpStatus: res.status,
    response: res,
    details: hint ? [hint] : [],
  });
}

export interface TransportOptions {
  /** Server base URL, e.g. https://dify.example.com (no trailing slash). */
  baseUrl: string;
  timeoutMs: number;
  caFile?: string;
  rejectUnauthorized?: boolean;
  /** Max parallel requests to this server (first caller per origin decides). */
  concurrency?: number;
  retry?: Partial<RetryPolicy>;
  /** Injected in tests. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
  environ?: NodeJS.ProcessEnv;
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Transport {
  readonly baseUrl: string;
  readonly origin: string;
  readonly policy: RetryPolicy;
  private readonly agents: Agents;
  private readonly ca?: string[];
  private readonly rejectUnauthorized: boolean;
  private readonly timeoutMs: number;
  private readonly gate: HostGate;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;
  /** Attempts made (for tests and debug output). */
  attempts = 0;

  constructor(opts: TransportOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    let url: URL;
    try {
      url = new URL(this.baseUrl);
    } catch {
      throw configError(`invalid Dify URL '${opts.baseUrl}'`);
    }
    this.origin = url.origin;
    this.policy = { ...DEFAULT_RETRY, ...opts.retry };
    this.timeoutMs = opts.timeoutMs;
    this.rejectUnauthorized = opts.rejectUnauthorized ?? true;
    if (!this.rejectUnauthorized && url.protocol === 'https:') {
      // Said on every run so that a lab setting copied into production does not go unnoticed.
      log.warn(`${this.origin}: TLS certificate verification is OFF (tls.rejectUnauthorized: false); anyone on the path can read the credentials. Use tls.caFile for a private CA instead`);
    }
    this.sleep = opts.sleep ?? realSleep;
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? Date.now;
    this.gate = hostGate(this.origin, opts.concurrency);
    if (opts.caFile) {
      let pem: string;
      try {
        pem = readFileSync(opts.caFile, 'utf8');
      } catch (e) {
        throw configError(`cannot read the CA file ${opts.caFile}: ${(e as Error).message}`);
      }
      // Extra CA on top of the public roots, not instead of them.
      this.ca = [...rootCertificates, pem];
    }
    this.agents = buildAgents(this.baseUrl, { ca: this.ca, rejectUnauthorized: this.rejectUnauthorized }, opts.environ);
  }

  /** Frees kept-alive sockets. */
  close(): void {
    for (const a of Object.values(this.agents)) (a as http.Agent | undefined)?.destroy();
  }

  private async waitForHost(): Promise<void> {
    for (;;) {
      const wait = this.gate.notBefore - this.now();
      if (wait <= 0) return;
      await this.sleep(wait);
    }
  }

  private async attempt(req: HttpRequest): Promise<HttpResponse> {
    const searchParams: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.searchParams ?? {})) if (v !== undefined && v !== null) searchParams[k] = String(v);
    this.attempts++;
    const res = await got(this.baseUrl + req.path, {
      method: req.method,
      searchParams,
      headers: { accept: 'application/json', ...(req.headers ?? {}) } as Headers,
      ...(req.json !== undefined ? { json: req.json } : {}),
      cookieJar: req.cookieJar,
      agent: this.agents,
      https: { rejectUnauthorized: this.rejectUnauthorized, ...(this.ca ? { certificateAuthority: this.ca } : {}) },
      timeout: { request: this.timeoutMs },
      retry: { limit: 0 },
      throwHttpErrors: false,
      followRedirect: false,
      responseType: 'text',
    });
    const text = res.body ?? '';
    let body: unknown = text;
    let malformed = false;
    const ctype = String(res.headers['content-type'] ?? '');
    if (text.length > 0 && (ctype.includes('json') || /^\s*[{[]/.test(text))) {
      try {
        body = JSON.parse(text);
      } catch {
        malformed = true;
      }
    } else if (text.length === 0) body = undefined;
    return { status: res.statusCode, headers: res.headers, body, text, malformed };
  }

  /**
   * Sends with retries. Returns the final response whatever its status (callers map statuses to errors);
   * throws DifyRequestError (category network) when no response could be had.
   */
  async send(req: HttpRequest, where?: string): Promise<HttpResponse> {
    const idempotent = isIdempotent(req);
    for (let n = 1; ; n++) {
      await this.waitForHost();
      let res: HttpResponse | undefined;
      let errorCode: string | undefined;
      let errorMessage = '';
      try {
        res = await this.gate.limit(async () => {
          await this.waitForHost();
          return this.attempt(req);
        });
      } catch (e) {
        const err = e as { code?: string; message?: string };
        errorCode = err.code ?? 'ERR_UNKNOWN';
        errorMessage = err.message ?? String(e);
        if (/certificate|self[- ]signed|SSL|TLS/i.test(errorMessage) || /^(CERT_|UNABLE_TO_|DEPTH_ZERO|ERR_TLS|ERR_SSL)/.test(errorCode)) {
          throw new DifyRequestError(`${req.what}${where ? ` (${where})` : ''}: TLS verification failed for ${this.origin}: ${errorMessage}`, 'network', {
            details: ['add the server\'s CA with tls.caFile in the environment config (verification stays on)'],
            cause: e,
          });
        }
        // tough-cookie refusing the server's Set-Cookie (RFC 6265, as a browser would): a config mismatch, not a network error.
        if (/^Cookie (not in this host's domain|is Secure but this is not a secure connection)/.test(errorMessage)) {
          throw new DifyRequestError(`${req.what}${where ? ` (${where})` : ''}: the session cookies from ${this.origin} were refused: ${errorMessage}`, 'config', {
            details: [
              "Dify's COOKIE_DOMAIN must be the host of the configured url or a parent of it (url https://dify.example.com with COOKIE_DOMAIN=example.com), not an IP or an internal name outside it",
              'Secure cookies (Dify on https) are only kept for an https url',
            ],
            cause: e,
          });
        }
      }
      const verdict = decideRetry(
        res ? { status: res.status, body: res.body, headers: res.headers, malformed: res.malformed } : { errorCode },
        { idempotent, retry: n, policy: this.policy, now: this.now(), random: this.random },
      );
      if (verdict.retry) {
        if (verdict.hostWide) backoffHost(this.origin, this.now() + verdict.delayMs);
        log.warn(`${req.what}: ${verdict.reason}; retrying in ${(verdict.delayMs / 1000).toFixed(1)} s (attempt ${n + 1}/${this.policy.maxAttempts})`);
        if (!verdict.hostWide) await this.sleep(verdict.delayMs);
        continue;
      }
      if (res) {
        if (res.malformed && res.status < 300) {
          throw new DifyRequestError(`${req.what}${where ? ` (${where})` : ''}: the server answered HTTP ${res.status} with a body that is not JSON`, 'dify', {
            httpStatus: res.status,
            response: res,
            uncertain: !idempotent,
          });
        }
        return res;
      }
      const sent = !NOT_SENT_CODES.has(errorCode!);
      const timedOut = errorCode === 'ETIMEDOUT';
      throw new DifyRequestError(
        `${req.what}${where ? ` (${where})` : ''}: ${timedOut ? `no answer within ${this.timeoutMs} ms` : `connection to ${this.origin} failed`} (${errorCode}: ${errorMessage})`,
        'network',
        { uncertain: sent && !idempotent, details: n > 1 ? [`gave up after ${n} attempt(s)`] : [] },
      );
    }
  }
}

function buildAgents(baseUrl: string, tls: { ca?: string[]; rejectUnauthorized: boolean }, environ?: NodeJS.ProcessEnv): Agents {
  const proxy = proxyFor(baseUrl, environ);
  const common = { keepAlive: true, maxSockets: 32 };
  if (proxy) {
    try {
      registerSecret(decodeURIComponent(new URL(proxy).password));
    } catch (e) {
      // Not a URL, so no password to mask: hpagent refuses it with its own message on the first request.
      log.debug(`the proxy setting is not a URL (${(e as Error).message})`);
    }
    log.debug(`using proxy ${redactUrl(proxy)} for ${baseUrl}`);
    return {
      http: new HttpProxyAgent({ ...common, proxy }),
      https: new HttpsProxyAgent({ ...common, proxy, ...(tls.ca ? { ca: tls.ca } : {}), rejectUnauthorized: tls.rejectUnauthorized }),
    };
  }
  return { http: new http.Agent(common), https: new https.Agent(common) };
}

/** The proxy for a URL (HTTPS_PROXY/HTTP_PROXY/ALL_PROXY, NO_PROXY honoured), or undefined. */
export function proxyFor(url: string, environ: NodeJS.ProcessEnv = runEnv()): string | undefined {
  if (environ === process.env) return getProxyForUrl(url) || undefined;
  // proxy-from-env reads process.env only; swap the run's in (synchronously, so no other code sees it).
  const saved = { ...process.env };
  try {
    for (const k of Object.keys(process.env)) if (/_proxy$/i.test(k)) delete process.env[k];
    for (const [k, v] of Object.entries(environ)) if (/_proxy$/i.test(k) && v !== undefined) process.env[k] = v;
    return getProxyForUrl(url) || undefined;
  } finally {
    for (const k of Object.keys(process.env)) if (/_proxy$/i.test(k)) delete process.env[k];
    for (const [k, v] of Object.entries(saved)) if (/_proxy$/i.test(k) && v !== undefined) process.env[k] = v;
  }
}

function redactUrl(u: string): string {
  try {
    const p = new URL(u);
    if (p.password) p.password = '***';
    return p.toString();
  } catch {
    // Only for the debug line above; what is not a URL has no password field to hide (the masker still runs).
    return u;
  }
}
