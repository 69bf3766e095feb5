/**
 * Targets = (environment, app[, tenant]). The app id comes from the config, else from an exact-name lookup, else
 * the app is created by import. Nothing else is ever touched: every write goes to an id resolved here.
 */
import { DifyCiError, usageError } from '../core/errors.js';
import type { AppConfig, EnvAppConfig, EnvironmentConfig, ResolvedConfig, TenantConfig } from '../config/types.js';
import { findAppsByName, getApp, type AppSummary } from '../dify/apps.js';
import type { ConsoleClient } from '../dify/console.js';
import { targetId } from './history.js';

export interface Target {
  env: EnvironmentConfig;
  app: AppConfig;
  envApp: EnvAppConfig;
  tenant?: TenantConfig;
  /** `<env>/<app>` or `<env>/<tenant>/<app>`. */
  id: string;
  configuredAppId?: string;
  /** Name from the config (environment, then app); the DSL's app.name otherwise. */
  configuredName?: string;
}

/** The targets of an environment: every configured app (or those in --app) not disabled for it. */
export function selectTargets(config: ResolvedConfig, env: EnvironmentConfig, apps?: string | string[] | AppConfig[], tenant?: TenantConfig): Target[] {
  let chosen: AppConfig[];
  if (apps === undefined || (typeof apps === 'string' && apps.trim() === '')) chosen = Object.values(config.apps);
  else {
    const keys = typeof apps === 'string' ? apps.split(',').map((s) => s.trim()).filter(Boolean) : apps.map((a) => (typeof a === 'string' ? a : a.key));
    chosen = keys.map((k) => {
      const a = config.apps[k];
      if (!a) throw usageError(`unknown app '${k}' (known: ${Object.keys(config.apps).join(', ')})`);
      return a;
    });
  }
  const out: Target[] = [];
  for (const app of chosen) {
    const envApp = env.apps[app.key] ?? {};
    if (envApp.enabled === false) continue;
    const tenantApp = tenant?.apps?.[app.key];
    out.push({
      env,
      app,
      envApp,
      tenant,
      id: targetId(env.key, app.key, tenant?.name),
      configuredAppId: tenant ? tenantApp?.appId : envApp.appId,
      configuredName: envApp.name ?? app.name,
    });
  }
  return out;
}

export interface Resolution {
  appId?: string;
  resolvedBy: 'config' | 'name' | 'create';
  app?: AppSummary;
  /** Ids of apps with the target name that existed before any import (so a created one can be told apart). */
  knownIds: Set<string>;
}

/** Finds the app of a target; never guesses: ambiguous names are an error. */
export async function resolveTarget(c: ConsoleClient, t: Target, name: string): Promise<Resolution> {
  if (t.configuredAppId) {
    const app = await getApp(c, t.configuredAppId, t.id);
    if (!app) {
      throw new DifyCiError(`${t.id}: the configured app id ${t.configuredAppId} does not exist in this workspace`, 'config', {
        details: ['fix environments.<env>.apps.<app>.appId, or remove it to look the app up by name'],
      });
    }
    return { appId: app.id, resolvedBy: 'config', app, knownIds: new Set([app.id]) };
  }
  const found = await findAppsByName(c, name, t.id);
  if (found.length > 1) {
    throw new DifyCiError(`${t.id}: ${found.length} apps are named '${name}' (${found.map((a) => a.id).join(', ')}); set appId in the config to choose one`, 'config');
  }
  if (found.length === 1) {
    const app = c.api === 'console' ? ((await getApp(c, found[0]!.id, t.id)) ?? found[0]!) : found[0]!;
    return { appId: app.id, resolvedBy: 'name', app, knownIds: new Set([app.id]) };
  }
  return { resolvedBy: 'create', knownIds: new Set() };
}

/** `<target>: <message>` unless the message already names the target. */
export function prefixed(target: string, message: string): string {
  return message.startsWith(`${target}:`) || message.startsWith(`${target} `) ? message : `${target}: ${message}`;
}
