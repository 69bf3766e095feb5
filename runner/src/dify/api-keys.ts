/**
 * App API keys (dify-api.md §6) for smoke tests. `ensureApiKey`: the configured key, else an existing key, else a
 * new one. Every key seen is registered for masking; keys are never written to disk.
 */
import { configError } from '../core/errors.js';
import { registerSecret } from '../core/mask.js';
import type { ConsoleClient } from './console.js';
import { DifyRequestError } from './http.js';
import { runEnv } from '../core/run.js';

export interface ApiKey {
  id: string;
  type?: string;
  token: string;
  last_used_at?: number | null;
  created_at?: number;
}

const keysPath = (appId: string) => `/apps/${encodeURIComponent(appId)}/api-keys`;

export async function listApiKeys(c: ConsoleClient, appId: string, where?: string): Promise<ApiKey[]> {
  c.requireConsole('list API keys', where);
  const res = await c.call({ method: 'GET', path: keysPath(appId), what: 'list API keys', where });
  const data = (res.body as { data?: ApiKey[] } | undefined)?.data;
  const keys = Array.isArray(data) ? data : [];
  for (const k of keys) registerSecret(k.token);
  return keys;
}

export async function createApiKey(c: ConsoleClient, appId: string, where?: string): Promise<ApiKey> {
  c.requireConsole('create an API key', where);
  const before = new Set((await listApiKeys(c, appId, where)).map((k) => k.id));
  try {
    const res = await c.call({ method: 'POST', path: keysPath(appId), idempotent: false, what: 'create an API key', where });
    const key = res.body as ApiKey;
    registerSecret(key.token);
    return key;
  } catch (e) {
    if (!(e instanceof DifyRequestError) || !(e.uncertain || (e.httpStatus ?? 0) >= 500)) throw e;
    // The key may have been created: take it rather than creating another (max 10 per app).
    const created = (await listApiKeys(c, appId, where)).filter((k) => !before.has(k.id));
    if (created.length > 0) return created[0]!;
    throw e;
  }
}

export interface EnsureApiKeyOptions {
  /** Env var holding a configured key (environments.<env>.apps.<app>.apiKeyEnv). */
  apiKeyEnv?: string;
  environ?: NodeJS.ProcessEnv;
  where?: string;
}

/** A service API key for the app: configured, else existing, else created. */
export async function ensureApiKey(c: ConsoleClient, appId: string, opts: EnsureApiKeyOptions = {}): Promise<string> {
  const environ = opts.environ ?? runEnv();
  if (opts.apiKeyEnv) {
    const v = environ[opts.apiKeyEnv];
    if (v) {
      registerSecret(v);
      return v;
    }
    if (c.api === 'openapi') throw configError(`${opts.where ?? c.label}: ${opts.apiKeyEnv} is not set and /openapi/v1 cannot list or create API keys`);
  }
  const keys = await listApiKeys(c, appId, opts.where);
  if (keys.length > 0) {
    // Prefer the most recently used key: least likely to be a revoked leftover.
    const best = [...keys].sort((a, b) => (b.last_used_at ?? 0) - (a.last_used_at ?? 0) || (b.created_at ?? 0) - (a.created_at ?? 0))[0]!;
    return best.token;
  }
  return (await createApiKey(c, appId, opts.where)).token;
}
