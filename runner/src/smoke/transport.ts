/**
 * The node:http plumbing under the service API client (client.ts): the retry wait, Retry-After, error envelopes,
 * bounded body reads, and the run's agents, destroyed when the run ends.
 */
import http from 'node:http';
import { currentScope } from '../core/run.js';
import type { CallError } from './types.js';

export const defaultSleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

export interface RawResponse {
  res: http.IncomingMessage;
  /** Epoch ms of the request start (after the retry waits). */
  startedAt: number;
}

export class TransportFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const RETRYABLE_NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ECONNABORTED', 'UND_ERR_SOCKET']);

export function retryAfterMs(v: string | string[] | undefined, now: number): number | undefined {
  const s = (Array.isArray(v) ? v[0] : v)?.trim();
  if (!s) return undefined;
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

export function envelope(text: string, status: number): CallError {
  try {
    const b = JSON.parse(text);
    if (b && typeof b === 'object') {
      return { code: typeof b.code === 'string' ? b.code : undefined, message: String(b.message ?? b.error ?? text).slice(0, 500), httpStatus: status };
    }
  } catch {
    /* not JSON: keep the text */
  }
  const plain = text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
  return { message: plain ? plain.slice(0, 300) : `HTTP ${status} with an empty body`, httpStatus: status };
}

export function readBody(res: http.IncomingMessage, limit = 4 * 1024 * 1024): Promise<{ text: string; complete: boolean; error?: string }> {
  return new Promise((resolve) => {
    let text = '';
    let settled = false;
    const finish = (v: { text: string; complete: boolean; error?: string }) => {
      if (!settled) {
        settled = true;
        resolve(v);
      }
    };
    res.setEncoding('utf8');
    res.on('data', (d: string) => {
      if (text.length < limit) text += d;
    });
    res.on('end', () => finish({ text, complete: true }));
    res.on('error', (e) => finish({ text, complete: false, error: (e as NodeJS.ErrnoException).code ?? e.message }));
    res.on('close', () => finish({ text, complete: res.complete }));
  });
}

const AGENTS = Symbol('dify-ci.serviceAgents');

/** Agents of clients not closed yet: the run destroys them when it ends, even after an error mid-suite. */
export function openAgents(): Set<http.Agent> {
  return currentScope().slot(
    AGENTS,
    () => new Set<http.Agent>(),
    (all) => {
      for (const a of all) a.destroy();
    },
  );
}
