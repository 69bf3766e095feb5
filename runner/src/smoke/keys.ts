/**
 * The service API key of the app under test: given by the caller, else the configured env var
 * (environments.<env>.apps.<app>.apiKeyEnv), else through the console client (existing key, else a new one).
 * Every key is registered for masking and only ever held in memory.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { DifyCiError } from '../core/errors.js';
import { log } from '../core/log.js';
import { registerSecret } from '../core/mask.js';
import type { EnvironmentConfig, ResolvedConfig, TenantConfig } from '../config/types.js';
import type { ConsoleClient } from '../dify/console.js';
import { runEnv } from '../core/run.js';

export interface KeyRequest {
  app: string;
  config?: ResolvedConfig;
  env?: EnvironmentConfig;
  tenant?: TenantConfig;
  apiKey?: string;
  apiKeyEnv?: string;
  appId?: string;
  console?: ConsoleClient;
  environ?: NodeJS.ProcessEnv;
}

function where(r: KeyRequest): string {
  return `app ${r.app}${r.env ? ` in ${r.env.key}` : ''}${r.tenant ? `/${r.tenant.name}` : ''}`;
}

/** The app's name in Dify: configured, else `app.name` of its DSL. */
async function appName(r: KeyRequest): Promise<string | undefined> {
  const fromEnv = r.env?.apps[r.app]?.name;
  if (fromEnv) return fromEnv;
  const app = r.config?.apps[r.app];
  if (app?.name) return app.name;
  if (!app?.dsl) return undefined;
  try {
    const doc = parse(readFileSync(app.dsl, 'utf8')) as { app?: { name?: unknown } } | null;
    return typeof doc?.app?.name === 'string' ? doc.app.name : undefined;
  } catch (e) {
    // An unreadable DSL is reported by validate/deploy; here it only means "no name", which the caller explains.
    log.debug(`reading app.name from ${app.dsl}: ${(e as Error).message}`);
    return undefined;
  }
}

async function viaConsole(r: KeyRequest, apiKeyEnv: string | undefined): Promise<string> {
  let console = r.console;
  if (!console) {
    if (!r.env) throw new DifyCiError(`no API key for ${where(r)}: give one (--api-key-env) or an environment to get one from`, 'config');
    const { getConsole } = await import('../dify/console.js');
    console = getConsole(r.env, { tenant: r.tenant, environ: r.environ });
  }
  let appId = r.appId ?? r.tenant?.apps[r.app]?.appId ?? r.env?.apps[r.app]?.appId;
  if (!appId) {
    const name = await appName(r);
    if (!name) throw new DifyCiError(`cannot tell which Dify app is ${where(r)}: set appId or name for it in the environment`, 'config');
    const { findAppsByName } = await import('../dify/apps.js');
    const found = await findAppsByName(console, name, where(r));
    if (found.length === 0) throw new DifyCiError(`${where(r)}: no app named '${name}' in Dify (deploy it first)`, 'operation');
    if (found.length > 1) {
      throw new DifyCiError(`${where(r)}: ${found.length} apps are named '${name}' (${found.map((a) => a.id).join(', ')}); set appId in the environment`, 'config');
    }
    appId = found[0]!.id;
  }
  const { ensureApiKey } = await import('../dify/api-keys.js');
  return ensureApiKey(console, appId, { apiKeyEnv, environ: r.environ, where: where(r) });
}

export async function resolveApiKey(r: KeyRequest): Promise<string> {
  const environ = r.environ ?? runEnv();
  if (r.apiKey) {
    registerSecret(r.apiKey);
    return r.apiKey;
  }
  const apiKeyEnv = r.apiKeyEnv ?? r.tenant?.apps[r.app]?.apiKeyEnv ?? r.env?.apps[r.app]?.apiKeyEnv;
  if (apiKeyEnv && environ[apiKeyEnv]) {
    const v = environ[apiKeyEnv]!.trim();
    registerSecret(v);
    return v;
  }
  try {
    const key = await viaConsole(r, apiKeyEnv);
    registerSecret(key);
    return key;
  } catch (e) {
    if (!apiKeyEnv) throw e;
    const why = e instanceof DifyCiError ? e.message : (e as Error).message;
    throw new DifyCiError(`no API key for ${where(r)}: ${apiKeyEnv} is not set, and getting one through the console failed: ${why}`, e instanceof DifyCiError && e.category === 'auth' ? 'auth' : 'config', {
      details: [`bind ${apiKeyEnv} in Jenkins (withCredentials) or export it`],
      cause: e,
    });
  }
}
