/**
 * Service API client for smoke tests (dify-api.md §7): `/v1/info`, `/v1/parameters` and the run endpoints, in
 * streaming (SSE, eventsource-parser) or blocking mode, with time measurements.
 *
 * Built on node:http rather than the shared got transport because smoke needs the raw byte stream: the time of
 * the first token, the moment a stream is cut, and the Content-Type of a 200 before choosing a parser (a chatflow
 * may stream although blocking was asked, §10.2).
 *
 * Retries: only HTTP 429 (not Cloud's final `rate_limit_error`), 5xx, and transport failures before any response
 * byte. A stream cut after the 200 is not retried: the app did run, and hiding that is what a smoke test must not do.
 */
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { HttpProxyAgent, HttpsProxyAgent } from 'hpagent';
import { createParser } from 'eventsource-parser';
import { DifyCiError } from '../core/errors.js';
import { log } from '../core/log.js';
import { registerSecret } from '../core/mask.js';
import { proxyFor } from '../dify/http.js';
import { applyEvent, failedObservation, finishStream, fromBlocking, newStreamState, type StreamState, type Timing } from './events.js';
import { CHAT_MODES, effectiveResponseMode, parseInputForm, runPath, type AppInfo, type AppParameters, type RunRequest } from './service-api.js';
import { defaultSleep, envelope, openAgents, readBody, retryAfterMs, RETRYABLE_NETWORK, TransportFailure, type RawResponse } from './transport.js';
import type { AppMode, CallError, Observation, ResponseMode } from './types.js';

export interface ServiceClientOptions {
  /** e.g. https://api.dify.example.com/v1 */
  apiUrl: string;
  apiKey: string;
  /** Time limit of the metadata calls (runs take theirs from the caller's signal). */
  timeoutMs?: number;
  /** Extra attempts after a 429/5xx/network failure. */
  retries?: number;
  caFile?: string;
  rejectUnauthorized?: boolean;
  /** Injected in tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

export class ServiceClient {
  readonly apiUrl: string;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly agent: http.Agent;
  private readonly isHttps: boolean;
  private readonly tls: { rejectUnauthorized: boolean; ca?: string[] };
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(opts: ServiceClientOptions) {
    this.apiUrl = opts.apiUrl.replace(/\/+$/, '');
    let url: URL;
    try {
      url = new URL(this.apiUrl);
    } catch {
      throw new DifyCiError(`invalid service API URL '${opts.apiUrl}'`, 'config');
    }
    this.apiKey = opts.apiKey;
    registerSecret(opts.apiKey);
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.retries = opts.retries ?? 2;
    this.sleep = opts.sleep ?? defaultSleep;
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? Date.now;
    this.isHttps = url.protocol === 'https:';
    let ca: string[] | undefined;
    if (opts.caFile) {
      try {
        ca = [...rootCertificates, readFileSync(opts.caFile, 'utf8')];
      } catch (e) {
        throw new DifyCiError(`cannot read the CA file ${opts.caFile}: ${(e as Error).message}`, 'config');
      }
    }
    this.tls = { rejectUnauthorized: opts.rejectUnauthorized ?? true, ...(ca ? { ca } : {}) };
    const proxy = proxyFor(this.apiUrl);
    const common = { keepAlive: true, maxSockets: 256 };
    this.agent = proxy
      ? this.isHttps
        ? new HttpsProxyAgent({ ...common, proxy, ...this.tls })
        : new HttpProxyAgent({ ...common, proxy })
      : this.isHttps
        ? new https.Agent({ ...common, ...this.tls })
        : new http.Agent(common);
    openAgents().add(this.agent);
  }

  close(): void {
    this.agent.destroy();
    openAgents().delete(this.agent);
  }

  private backoff(retry: number): number {
    const ceiling = Math.min(5000, 250 * 2 ** (retry - 1));
    return Math.round(ceiling / 2 + this.random() * (ceiling / 2));
  }

  /** One HTTP exchange up to the response headers. */
  private open(method: 'GET' | 'POST', path: string, body: unknown, signal: AbortSignal | undefined, accept: string): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
      const startedAt = this.now();
      const mod = this.isHttps ? https : http;
      const req = mod.request(
        this.apiUrl + path,
        {
          method,
          agent: this.agent,
          ...this.tls,
          headers: {
            authorization: `Bearer ${this.apiKey}`,
            accept,
            'user-agent': 'dify-ci-smoke',
            ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
          },
        },
        (res) => resolve({ res, startedAt }),
      );
      const onAbort = () => req.destroy(new TransportFailure('ABORTED', 'aborted'));
      if (signal) {
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
        req.on('close', () => signal.removeEventListener('abort', onAbort));
      }
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (e instanceof TransportFailure) return reject(e);
        const tls = /certificate|self[- ]signed|SSL|TLS/i.test(e.message) || /^(CERT_|UNABLE_TO_|DEPTH_ZERO|ERR_TLS|ERR_SSL)/.test(e.code ?? '');
        reject(new TransportFailure(tls ? 'TLS' : (e.code ?? 'ERR_NETWORK'), e.message));
      });
      if (payload) req.write(payload);
      req.end();
    });
  }

  /** GET with retries on 429/5xx/network; throws DifyCiError (auth → exit 4) on an error answer. */
  private async getJson(path: string, what: string): Promise<any> {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), this.timeoutMs);
    try {
      for (let attempt = 0; ; attempt++) {
        let reason: string;
        let wait: number | undefined;
        try {
          const { res } = await this.open('GET', path, undefined, ac.signal, 'application/json');
          const body = await readBody(res);
          const status = res.statusCode ?? 0;
          if (status === 200 && body.complete) {
            try {
              return JSON.parse(body.text);
            } catch {
              throw new DifyCiError(`${what}: ${this.apiUrl}${path} answered HTTP 200 with a body that is not JSON (is apiUrl the Dify service API?)`, 'dify');
            }
          }
          const env = envelope(body.text, status);
          if (status === 401 || status === 403) {
            throw new DifyCiError(`${what}: HTTP ${status}${env.code ? ` ${env.code}` : ''}: ${env.message}`, 'auth', { httpStatus: status, difyCode: env.code, details: ['check the app API key (apps.<app>.apiKeyEnv of the environment)'] });
          }
          if (!((status === 429 && env.code !== 'rate_limit_error') || status >= 500 || (status === 200 && !body.complete))) {
            throw new DifyCiError(`${what}: HTTP ${status}${env.code ? ` ${env.code}` : ''}: ${env.message}`, 'dify', { httpStatus: status, difyCode: env.code });
          }
          reason = status === 200 ? 'truncated body' : `HTTP ${status}`;
          wait = retryAfterMs(res.headers['retry-after'], this.now());
          if (attempt >= this.retries) throw new DifyCiError(`${what}: ${reason}${env.code ? ` ${env.code}` : ''}: ${env.message} (after ${attempt + 1} attempt(s))`, 'dify', { httpStatus: status, difyCode: env.code });
        } catch (e) {
          if (e instanceof DifyCiError) throw e;
          const f = e as TransportFailure;
          if (f.code === 'ABORTED') throw new DifyCiError(`${what}: no answer from ${this.apiUrl} within ${this.timeoutMs} ms`, 'network');
          if (f.code === 'TLS') throw new DifyCiError(`${what}: TLS verification failed for ${this.apiUrl}: ${f.message}`, 'network', { details: ["add the server's CA with tls.caFile in the environment config"] });
          reason = f.code;
          if (attempt >= this.retries) throw new DifyCiError(`${what}: cannot reach ${this.apiUrl} (${f.code}: ${f.message})`, 'network');
        }
        const delay = wait ?? this.backoff(attempt + 1);
        log.debug(`${what}: ${reason}; retrying in ${delay} ms`);
        await this.sleep(delay, ac.signal);
        if (ac.signal.aborted) throw new DifyCiError(`${what}: no answer from ${this.apiUrl} within ${this.timeoutMs} ms`, 'network');
      }
    } finally {
      clearTimeout(timer);
    }
  }

  async info(): Promise<AppInfo> {
    const b = await this.getJson('/info', 'GET /v1/info');
    if (!b || typeof b.mode !== 'string') throw new DifyCiError(`GET /v1/info: the answer has no app mode (is ${this.apiUrl} the Dify service API?)`, 'dify');
    return b as AppInfo;
  }

  async parameters(): Promise<AppParameters> {
    const b = await this.getJson('/parameters', 'GET /v1/parameters');
    return { inputs: parseInputForm(b?.user_input_form), raw: b ?? {} };
  }

  /**
   * Runs the app once. Never throws for what the app or the server did (error envelopes, SSE errors, cut streams,
   * timeouts become the observation's status); `signal` is the case's time limit.
   */
  async run(req: RunRequest, signal?: AbortSignal): Promise<Observation> {
    const responseMode = effectiveResponseMode(req.mode, req.responseMode);
    const path = runPath(req.mode);
    const body: Record<string, unknown> = { inputs: req.inputs, user: req.user, response_mode: responseMode };
    if (CHAT_MODES.has(req.mode)) {
      body.query = req.query ?? '';
      body.conversation_id = req.conversationId ?? '';
    } else if (req.mode === 'completion' && req.query !== undefined) body.query = req.query;
    if (req.files?.length) body.files = req.files;

    const retryReasons: string[] = [];
    const firstStart = this.now();
    const timing = (startedAt: number): Timing => ({ startedAt, endedAt: this.now(), retries: retryReasons.length, retryReasons });
    const notes = responseMode !== req.responseMode ? ['agent-chat apps only stream; ran in streaming mode'] : [];
    const withNotes = (o: Observation) => ({ ...o, notes: [...notes, ...o.notes, ...(retryReasons.length ? [`retried ${retryReasons.length}×: ${retryReasons.join(', ')}`] : [])] });
    const timedOut = (startedAt: number, partial?: StreamState) =>
      withNotes(failedObservation(req.mode, responseMode, 'timeout', { code: 'timeout', message: `no complete answer within the case timeout (${Math.round(this.now() - firstStart)} ms)` }, timing(startedAt), partial));

    for (let attempt = 0; ; attempt++) {
      let raw: RawResponse;
      const attemptStart = this.now();
      try {
        raw = await this.open('POST', path, body, signal, responseMode === 'streaming' ? 'text/event-stream' : 'application/json');
      } catch (e) {
        const f = e as TransportFailure;
        if (f.code === 'ABORTED' || signal?.aborted) return timedOut(attemptStart);
        const err: CallError = { code: f.code === 'TLS' ? 'tls_error' : 'network_error', message: `${f.code}: ${f.message}` };
        if (f.code !== 'TLS' && RETRYABLE_NETWORK.has(f.code) && attempt < this.retries) {
          retryReasons.push(f.code);
          await this.sleep(this.backoff(attempt + 1), signal);
          if (signal?.aborted) return timedOut(attemptStart);
          continue;
        }
        return withNotes(failedObservation(req.mode, responseMode, 'error', err, timing(attemptStart)));
      }
      const { res, startedAt } = raw;
      const status = res.statusCode ?? 0;
      const ctype = String(res.headers['content-type'] ?? '');
      if (status !== 200) {
        const text = await readBody(res);
        const err = envelope(text.text, status);
        const retryable = (status === 429 && err.code !== 'rate_limit_error') || status >= 500;
        if (retryable && attempt < this.retries) {
          const asked = retryAfterMs(res.headers['retry-after'], this.now());
          retryReasons.push(`HTTP ${status}${err.code ? ` ${err.code}` : ''}`);
          await this.sleep(asked ?? this.backoff(attempt + 1), signal);
          if (signal?.aborted) return timedOut(startedAt);
          continue;
        }
        return withNotes(failedObservation(req.mode, responseMode, 'error', err, timing(startedAt)));
      }
      if (ctype.includes('text/event-stream')) {
        const obs = await this.readStream(req.mode, responseMode, res, startedAt, signal, timing);
        if ('timedOut' in obs) return timedOut(startedAt, obs.timedOut);
        if (responseMode === 'blocking') obs.notes.unshift('Dify streamed although blocking was asked (chatflow quirk, dify-api.md §10.2)');
        return withNotes(obs);
      }
      const text = await readBody(res);
      if (signal?.aborted) return timedOut(startedAt);
      let parsed: any;
      try {
        parsed = JSON.parse(text.text);
      } catch {
        const why = text.complete ? 'the body is not JSON' : `the body was cut (${text.error ?? 'connection closed'})`;
        return withNotes(failedObservation(req.mode, responseMode, text.complete ? 'error' : 'incomplete', { code: text.complete ? 'malformed_response' : 'response_incomplete', message: `HTTP 200 but ${why}` }, timing(startedAt)));
      }
      return withNotes(fromBlocking(req.mode, parsed, timing(startedAt)));
    }
  }

  private readStream(
    mode: AppMode,
    responseMode: ResponseMode,
    res: http.IncomingMessage,
    startedAt: number,
    signal: AbortSignal | undefined,
    timing: (startedAt: number) => Timing,
  ): Promise<Observation | { timedOut: StreamState }> {
    const state = newStreamState(mode);
    let badData = 0;
    return new Promise((resolve) => {
      let done = false;
      const finish = (cut?: string) => {
        if (done) return;
        done = true;
        signal?.removeEventListener('abort', onAbort);
        // On a timeout, what had arrived goes into the report.
        if (signal?.aborted && !state.terminal) return resolve({ timedOut: state });
        const obs = finishStream(state, responseMode, timing(startedAt), cut);
        if (badData) obs.notes.push(`${badData} SSE data line(s) were not JSON and were skipped`);
        resolve(obs);
      };
      const onAbort = () => {
        res.destroy();
        finish();
      };
      const parser = createParser({
        onEvent: (ev) => {
          // `event: ping` keep-alives carry no data (§7.5).
          if (ev.event === 'ping' || !ev.data) return;
          let json: any;
          try {
            json = JSON.parse(ev.data);
          } catch {
            // Counted, and reported in the observation's notes (below), rather than failing the stream.
            badData++;
            return;
          }
          applyEvent(state, json, this.now());
          if (state.terminal) {
            // The last event this mode can send (events.ts): Dify closes after it; no need to wait for the close.
            res.destroy();
            finish();
          }
        },
      });
      if (signal) {
        if (signal.aborted) return onAbort();
        signal.addEventListener('abort', onAbort, { once: true });
      }
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => parser.feed(chunk));
      res.on('end', () => finish());
      res.on('error', (e: NodeJS.ErrnoException) => finish(e.code ?? e.message));
      res.on('close', () => finish(res.complete ? undefined : 'connection closed'));
    });
  }
}
