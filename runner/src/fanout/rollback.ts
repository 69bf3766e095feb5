/**
 * `rollback` over tenants: every selected tenant's targets (this agent's shard) back to the previous version, or
 * with `thisBuild` only what this build deployed, through the fan-out engine (lanes, limits, one login each).
 */
import { DifyCiError, usageError } from '../core/errors.js';
import { log } from '../core/log.js';
import type { EnvironmentConfig, ResolvedConfig } from '../config/types.js';
import { buildInfo } from '../deploy/build-info.js';
import { requireApproval } from '../deploy/apply.js';
import { checkRollbackOptions, rollbackTargets } from '../deploy/rollback.js';
import { deploysOf } from '../deploy/this-build.js';
import { rollbackResult, type RollbackTargetResult } from '../results/rollback.js';
import { failure } from '../results/failure.js';
import { runUnits } from './engine.js';
import { loginAll, tenantLanes } from './lanes.js';
import { Progress } from './progress.js';
import { engineFor, jobTarget, unitsOf } from './units.js';
import { chooseTenants, tenantTargets, type TenantOptions, type TenantTarget } from './targets.js';

export interface TenantRollbackOptions extends TenantOptions {
  app?: string;
  to?: string;
  approvedBy?: string;
  dryRun?: boolean;
  /** Only what this build deployed (deploysOf: history + result files), each back to what was live before it. */
  thisBuild?: boolean;
  /** With thisBuild: the directory of this build's result files (every agent's, unstashed). */
  results?: string;
}

export interface TenantRollback {
  env: string;
  authMode: string | null;
  approvedBy: string | null;
  targets: RollbackTargetResult[];
  counts: { targets: number; rolledBack: number; unchanged: number; skipped: number; failed: number };
  /** With thisBuild: the build and how many of the selected targets it deployed. */
  thisBuild: { build: string; deployed: number } | null;
  /** Tenants taken part: the selected ones (this shard's), or with thisBuild those it deployed to. */
  tenants: number;
}

export async function rollbackTenants(config: ResolvedConfig, env: EnvironmentConfig, opts: TenantRollbackOptions): Promise<TenantRollback> {
  checkRollbackOptions(opts);
  const { mine } = chooseTenants(config, opts);
  if (!opts.dryRun) requireApproval(env, opts.approvedBy, 'rolling back');
  const build = buildInfo();
  // Read once for every target: the history and the result files do not change while we roll back.
  const deploys = opts.thisBuild ? deploysOf(config, env, { build, results: opts.results }) : undefined;
  let lanes = tenantLanes(env, mine);
  let targets = tenantTargets(config, env, opts.app, lanes);
  if (deploys) {
    // Targets this build never deployed are not touched, and tenants without any are not even logged in to.
    targets = targets.filter((t) => deploys.targets.has(t.target.id));
    const used = new Set(targets.map((t) => t.lane));
    lanes = lanes.filter((l) => used.has(l));
  }
  const to = deploys ? undefined : (opts.to ?? 'previous');
  if (to !== undefined && to !== 'previous' && targets.length > 1) {
    throw usageError(`--to ${to} names one app's version or backup; it needs a single target (add --tenant and --app), or use --to previous`);
  }
  const thisBuild = deploys ? { build: deploys.build, deployed: targets.length } : null;
  if (deploys) log.step(`rollback in ${env.key} (this build ${deploys.build}): ${targets.length} target(s) in ${lanes.length} tenant(s) deployed by this build`);
  const loginFailures = await loginAll(lanes, opts.dryRun ? undefined : 'roll back');
  const progress = new Progress(targets.length);
  const run = await runUnits<RollbackTargetResult>(
    unitsOf(
      targets,
      async (t) => {
        const rep = await rollbackTargets(config, env, [t.target.app.key], {
          to,
          approvedBy: opts.approvedBy,
          dryRun: opts.dryRun,
          tenant: t.lane.tenant,
          console: t.lane.console,
          build,
          ...(deploys ? { thisBuild: true, deploys } : {}),
        });
        return rep.targets[0]!;
      },
      loginFailures,
    ),
    engineFor(env)<RollbackTargetResult>({
      isFailure: (r) => r.status === 'failed',
      failed: (j, e) => failedRollback(jobTarget(j), e),
      skipped: (j, why) => failedRollback(jobTarget(j), new DifyCiError(why, 'operation')),
      onDone: (r, j) =>
        progress.target(jobTarget(j).key, r.status, r.status === 'failed' ? `— ${r.error}` : r.status === 'skipped' ? `— ${r.reason}` : r.versionId ? `v${r.versionId.slice(0, 8)}` : ''),
    }),
  );
  const results = run.results;
  const n = (s: RollbackTargetResult['status']) => results.filter((r) => r.status === s).length;
  return {
    env: env.key,
    authMode: lanes.map((l) => l.console.authMode).find(Boolean) ?? null,
    approvedBy: opts.approvedBy?.trim() || null,
    targets: results,
    counts: { targets: results.length, rolledBack: n('rolled-back'), unchanged: n('unchanged'), skipped: n('skipped'), failed: n('failed') },
    thisBuild,
    tenants: deploys ? lanes.length : mine.length,
  };
}

function failedRollback(t: TenantTarget, e: unknown): RollbackTargetResult {
  return { ...rollbackResult(t.target, 'failed'), ...failure(e) };
}
