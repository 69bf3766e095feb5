/**
 * HTTP for notifications: a fetch-compatible function on got that honours HTTP(S)_PROXY / NO_PROXY. Node's own
 * fetch ignores proxy variables, and Jenkins agents usually reach Slack through a corporate proxy.
 */
import got from 'got';
import { HttpProxyAgent, HttpsProxyAgent } from 'hpagent';
import { currentScope, runEnv } from '../core/run.js';
import { proxyFor } from '../dify/http.js';
import type { Agent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';

export interface FetchLikeResponse {
  readonly ok: boolean;
  readonly status: number;
  readonly statusText: string;
  readonly url: string;
  readonly headers: { get(name: string): string | null; entries(): Iterable<[string, string]> };
  arrayBuffer(): Promise<ArrayBuffer>;
  json(): Promise<unknown>;
  text(): Promise<string>;
}

export interface FetchLikeInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string | FormData;
  redirect?: 'error' | 'follow' | 'manual';
  signal?: AbortSignal;
}

const AGENTS = Symbol('dify-ci.notifyAgents');

/** The run's kept-alive proxy agents (core/run.ts), destroyed when the run ends. */
function agents(): Map<string, Agent | HttpsAgent> {
  return currentScope().slot(
    AGENTS,
    () => new Map<string, Agent | HttpsAgent>(),
    (m) => {
      for (const a of m.values()) a.destroy();
    },
  );
}

/** The proxy agent for a URL (the run's HTTP(S)_PROXY / NO_PROXY), or undefined for a direct connection. */
export function proxyAgent(url: string): { http?: Agent; https?: HttpsAgent } | undefined {
  const proxy = proxyFor(url, runEnv());
  if (!proxy) return undefined;
  const https = url.startsWith('https:');
  const key = `${https ? 's' : ''}|${proxy}`;
  let agent = agents().get(key);
  if (!agent) {
    const opts = { proxy, keepAlive: true };
    agent = https ? new HttpsProxyAgent(opts) : new HttpProxyAgent(opts);
    agents().set(key, agent);
  }
  return https ? { https: agent as HttpsAgent } : { http: agent };
}

export async function notifyFetch(url: string | URL, init: FetchLikeInit = {}): Promise<FetchLikeResponse> {
  const href = String(url);
  if (typeof FormData !== 'undefined' && init.body instanceof FormData) {
    // Only file uploads use multipart; notify never uploads, so plain fetch is good enough here.
    return (await fetch(href, init as RequestInit)) as unknown as FetchLikeResponse;
  }
  const res = await got(href, {
    method: (init.method ?? 'GET') as 'GET',
    headers: init.headers,
    body: init.body as string | undefined,
    throwHttpErrors: false,
    followRedirect: init.redirect === 'follow',
    retry: { limit: 0 },
    agent: proxyAgent(href),
    signal: init.signal,
  });
  const headers = Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v ?? '')] as [string, string]);
  const body: Buffer = res.rawBody;
  return {
    ok: res.statusCode >= 200 && res.statusCode < 300,
    status: res.statusCode,
    statusText: res.statusMessage ?? '',
    url: res.url,
    headers: {
      get: (name) => headers.find(([k]) => k === name.toLowerCase())?.[1] ?? null,
      entries: () => headers[Symbol.iterator](),
    },
    arrayBuffer: async () => body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer,
    json: async () => JSON.parse(body.toString('utf8')),
    text: async () => body.toString('utf8'),
  };
}
