/** The smoke targets of a fan-out environment: tenant × app (with a suite), keys looked up in each workspace. */
import { resolve } from 'node:path';
import { DifyCiError, errorMessage, usageError } from '../core/errors.js';
import { log } from '../core/log.js';
import { runCwd } from '../core/run.js';
import type { EnvironmentConfig, ResolvedConfig } from '../config/types.js';
import { resolveApiKey } from '../smoke/keys.js';
import type { SmokeTarget } from '../smoke/runner.js';
import { loginAll, tenantLanes, type LoginFailures } from './lanes.js';
import { runUnits } from './engine.js';
import { engineFor, unitsOf, type EngineFactory } from './units.js';
import { chooseTenants, tenantApiUrl, tenantTargets, type TenantOptions, type TenantTarget } from './targets.js';

export interface TenantSmokeOptions extends TenantOptions {
  app?: string;
  suite?: string;
  apiKeyEnv?: string;
}

export async function tenantSmokeTargets(config: ResolvedConfig, env: EnvironmentConfig, opts: TenantSmokeOptions): Promise<SmokeTarget[]> {
  const { mine } = chooseTenants(config, opts);
  if (mine.length === 0) throw usageError(`shard ${opts.shard} has no tenants`);
  const lanes = tenantLanes(env, mine);
  const suite = opts.suite ? resolve(runCwd(), opts.suite) : undefined;
  const targets = tenantTargets(config, env, opts.app, lanes).filter((t) => {
    if (suite || t.target.app.tests) return true;
    log.info(`${t.key}: no smoke suite (apps.${t.target.app.key}.tests), skipped`);
    return false;
  });
  if (suite && new Set(targets.map((t) => t.target.app.key)).size > 1) throw usageError('--suite needs a single app: add --app');
  if (targets.length === 0) throw usageError(`nothing to test in ${env.key}: no app has a smoke suite (set apps.<app>.tests)`);
  if (opts.apiKeyEnv) {
    // One variable for every tenant would test one tenant's app everywhere: refuse.
    if (new Set(targets.map((t) => t.lane.tenant.name)).size > 1) throw usageError('--api-key-env names one app key; with several tenants set tenants[].apps.<app>.apiKeyEnv per tenant instead');
  }
  const loginFailures = await loginAll(lanes);
  const out = await keyedSmokeTargets(env, targets, () => ({ config, suite, loginFailures, engine: engineFor(env) }));
  if (opts.apiKeyEnv) for (const t of out) if (!t.setupError) t.apiKeyEnv = opts.apiKeyEnv;
  return out;
}

/**
 * Smoke targets with their service API keys, looked up through the lanes (a key lookup is a console call in the
 * tenant's workspace, so it must not race a switch). A lookup that fails becomes that target's setup error.
 */
export async function keyedSmokeTargets(
  env: EnvironmentConfig,
  targets: TenantTarget[],
  ctx: (t: TenantTarget) => { config: ResolvedConfig; appId?: string; suite?: string; environ?: NodeJS.ProcessEnv; loginFailures: LoginFailures; engine: EngineFactory },
): Promise<SmokeTarget[]> {
  if (targets.length === 0) return [];
  const first = ctx(targets[0]!);
  const keys = await runUnits<{ key?: string; error?: DifyCiError }>(
    unitsOf(
      targets,
      async (t) => {
        const c = ctx(t);
        return { key: await resolveApiKey({ app: t.target.app.key, config: c.config, env, tenant: t.lane.tenant, appId: c.appId, console: t.lane.console, environ: c.environ }) };
      },
      first.loginFailures,
    ),
    first.engine({
      isFailure: () => false,
      failed: (_j, e) => ({ error: e instanceof DifyCiError ? e : new DifyCiError(errorMessage(e), 'internal', { cause: e }) }),
      skipped: (_j, why) => ({ error: new DifyCiError(why, 'operation') }),
    }),
  );
  return targets.map((t, i) => {
    const k = keys.results[i]!;
    return {
      app: t.target.app.key,
      env: env.key,
      tenant: t.lane.tenant,
      apiUrl: tenantApiUrl(env, t.lane.tenant),
      suite: ctx(t).suite ?? t.target.app.tests!,
      ...(k.error ? { setupError: k.error } : { apiKey: k.key }),
    };
  });
}
