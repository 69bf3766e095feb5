/** The smoke targets of a fan-out environment: tenant × app (with a suite), keys looked up in each workspace. */
import { resolve } from 'node:path';
import { usageError } from '../core/errors.js';
import { log } from '../core/log.js';
import { runCwd } from '../core/run.js';
import type { EnvironmentConfig, ResolvedConfig } from '../config/types.js';
import type { SmokeTarget } from '../smoke/runner.js';
import { loginAll, tenantLanes } from './lanes.js';
import { engineFor, keyedSmokeTargets } from './rollout.js';
import { chooseTenants, tenantTargets, type TenantOptions } from './targets.js';

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
