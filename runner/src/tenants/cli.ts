/**
 * The multi-tenant side of the `deploy`, `smoke` and `rollback` commands: options → fan-out → CommandOutcome.
 * deploy/run.ts and smoke/command.ts hand over here when the environment fans out over tenants (fanout/targets.ts).
 */
import { resolve } from 'node:path';
import { DifyCiError, ExitCode, usageError, type ExitCodeValue } from '../core/errors.js';
import { log } from '../core/log.js';
import type { CommandOutcome } from '../core/command.js';
import type { ConfigContext as RunContext } from '../config/load.js';
import type { EnvironmentConfig, ResolvedConfig } from '../config/types.js';
import { closeConsoles } from '../dify/console.js';
import { buildInfo } from '../deploy/build-info.js';
import { requireApproval } from '../deploy/deploy.js';
import { checkRollbackOptions, deploysOf, rollbackSummary, rollbackTargets, type RollbackTargetResult } from '../deploy/rollback.js';
import type { SmokeTarget } from '../smoke/runner.js';
import { runUnits } from '../fanout/engine.js';
import { loginAll, tenantLanes } from '../fanout/lanes.js';
import { formatTable, Progress, type TableRow } from '../fanout/progress.js';
import { checkWave, engineFor, gateWave, jobTarget, keyedSmokeTargets, parseWave, rollout, unitsOf, type RolloutReport } from '../fanout/rollout.js';
import { planWaves } from '../selection/waves.js';
import { recordSmokeReports } from '../smoke/artifacts.js';
import type { SmokeOptions } from '../smoke/runner.js';
import { chooseTenants, tenantTargets, type TenantOptions, type TenantTarget } from '../fanout/targets.js';
import { runCwd } from '../core/run.js';

export { fansOut } from '../fanout/targets.js';

export interface TenantDeployOptions extends TenantOptions {
  app?: string;
  plan?: string;
  dryRun?: boolean;
  force?: boolean;
  allowVersionUpgrade?: boolean;
  approvedBy?: string;
  failFast?: boolean;
}

/** usage/config/input → 2, else auth → 4, else 1: the worst thing the user has to fix decides. */
export function fanOutExit(categories: (string | undefined)[]): ExitCodeValue {
  if (categories.some((c) => c === 'usage' || c === 'config' || c === 'input')) return ExitCode.USAGE;
  if (categories.some((c) => c === 'auth')) return ExitCode.AUTH;
  return ExitCode.FAILED;
}

async function closing<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } finally {
    closeConsoles();
  }
}

function waveLines(report: RolloutReport): string[] {
  if (report.waves.length < 2 && !report.gated) return [];
  return report.waves.map((w) => {
    const g = w.gate;
    const gate = g ? ` — gate ${g.passed ? 'passed' : 'FAILED'} (${g.failedTargets} failed${g.passRate !== null ? `, smoke ${(g.passRate * 100).toFixed(1)}%` : ''})` : '';
    const rb = w.rollback ? `, rolled back ${w.rollback.rolledBack}${w.rollback.failed ? `, ${w.rollback.failed} rollback(s) failed` : ''}` : '';
    return `wave ${w.index} (${w.spec}): ${w.status}, ${w.targets} target(s), ${w.counts.deployed} deployed, ${w.counts.unchanged} unchanged${w.counts.failed + w.counts.refused ? `, ${w.counts.failed + w.counts.refused} failed` : ''}${gate}${rb}`;
  });
}

export async function deployTenants(ctx: RunContext, config: ResolvedConfig, env: EnvironmentConfig, opts: TenantDeployOptions): Promise<CommandOutcome> {
  if (opts.plan) throw usageError('--plan is not supported for multi-tenant deploys (plan files hold one workspace); deploy without --plan, or use --dry-run to see what would change');
  const wave = opts.wave === undefined ? undefined : parseWave(opts.wave);
  const { selected, mine, shard } = chooseTenants(config, opts);
  const planned = wave !== undefined ? planWaves(selected, env.rollout.waves) : [];
  // Checked here too, so a shard without tenants still refuses a wave that does not exist.
  if (wave !== undefined) checkWave(env, wave, planned.length, selected.length);
  if (mine.length === 0) {
    const waveInfo = wave !== undefined ? { index: wave, of: planned.length, spec: planned[wave - 1]!.spec } : null;
    return { status: 'success', summary: `deploy to ${env.key}${wave !== undefined ? ` wave ${wave}/${planned.length}` : ''}: shard ${opts.shard} has no tenants (${selected.length} selected)`, counts: { targets: 0 }, data: { env: env.key, fanOut: true, wave: waveInfo, targets: [], waves: [] }, stdout: '' };
  }
  log.step(`deploy to ${env.key}: ${mine.length} tenant(s)${shard ? ` (shard ${shard.index}/${shard.count} of ${selected.length})` : ''}, waves ${env.rollout.waves.join(' → ')}${wave !== undefined ? `, wave ${wave} only` : ''}`);
  return closing(async () => {
    const report = await rollout(config, env, {
      apps: opts.app,
      selected,
      tenants: mine,
      shard,
      failFast: opts.failFast,
      force: opts.force,
      dryRun: opts.dryRun,
      allowVersionUpgrade: opts.allowVersionUpgrade,
      approvedBy: opts.approvedBy,
      wave,
    });
    for (const t of report.targets) for (const b of t.backups) ctx.artifact(b, 'backup');
    for (const w of report.waves) recordSmokeReports(ctx, w.smokeReports);
    const c = report.counts;
    const failedWave = report.waves.find((w) => w.status === 'failed');
    const parts = opts.dryRun
      ? [`${c.dryRun} would change`, `${c.unchanged} unchanged`]
      : [`${c.deployed} deployed`, `${c.unchanged} unchanged`];
    if (c.failed + c.refused) parts.push(`${c.failed + c.refused} failed`);
    if (c.rolledBack) parts.push(`${c.rolledBack} rolled back`);
    if (c.skipped) parts.push(`${c.skipped} skipped`);
    const w = report.wave;
    let summary = `deploy to ${env.key}${w ? ` wave ${w.index}/${w.of} (${w.spec})` : ''}${opts.dryRun ? ' (dry run)' : ''}: ${parts.join(', ')} of ${c.targets} target(s) in ${report.tenants.run} tenant(s)`;
    if (failedWave) summary += `; wave ${failedWave.index} failed its gate`;
    else if (report.stopped) summary += '; stopped by --fail-fast';
    const table = report.failures.length ? formatTable(report.failures) : '';
    if (table) log.info(`\ntargets that did not end well:\n${table}\n`);
    const failedCats = report.targets.filter((t) => t.status === 'failed' || t.status === 'refused').map((t) => t.errorCategory);
    return {
      status: report.status,
      ...(report.status === 'failed' ? { exitCode: failedCats.length ? fanOutExit(failedCats) : ExitCode.FAILED } : {}),
      summary,
      counts: { targets: c.targets, deployed: c.deployed, unchanged: c.unchanged, failed: c.failed, refused: c.refused, rolledBack: c.rolledBack, skipped: c.skipped },
      data: report as unknown as Record<string, unknown>,
      stdout: [...waveLines(report), table || `all ${c.targets} target(s) ok`].join('\n'),
    };
  });
}

export interface TenantSmokeOptions extends TenantOptions {
  app?: string;
  suite?: string;
  apiKeyEnv?: string;
}

/** The smoke targets of a fan-out environment: tenant × app (with a suite), keys looked up per workspace. */
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
 * `smoke --wave K`: the gate over wave K's new targets after every shard deployed them (rollout.gate; exit 1
 * when it fails). Unsharded: the gate judges the whole wave.
 */
export async function smokeWaveGate(ctx: RunContext, config: ResolvedConfig, env: EnvironmentConfig, opts: TenantSmokeOptions & { reportDir?: string }, smoke: Partial<SmokeOptions>): Promise<CommandOutcome> {
  const wave = parseWave(opts.wave!);
  if (opts.shard) throw usageError('smoke --wave gates the whole wave (every shard\'s targets): drop --shard');
  if (opts.suite) throw usageError('smoke --wave runs each app\'s own suite (apps.<app>.tests): drop --suite');
  if (opts.apiKeyEnv) throw usageError('smoke --wave looks up each tenant\'s app keys: drop --api-key-env');
  const { selected } = chooseTenants(config, opts);
  return closing(async () => {
    const report = await gateWave(config, env, { apps: opts.app, selected, wave, reportDir: opts.reportDir, smoke });
    recordSmokeReports(ctx, report.smokeReports);
    const g = report.gate;
    const failed = report.targets.filter((t) => t.smoke && !t.smoke.passed);
    const w = report.wave;
    const summary = `gate of ${env.key} wave ${w.index}/${w.of} (${w.spec}): ${g.passed ? 'passed' : 'FAILED'}, ${g.failedTargets} failed of ${report.targets.length} target(s) in ${report.tenants.length} tenant(s)${g.passRate !== null ? `, smoke pass rate ${(g.passRate * 100).toFixed(1)}%` : ''}${g.passed ? '' : ` — ${g.reasons.join('; ')}`}`;
    const table = failed.length
      ? formatTable(failed.map((t) => ({ target: `${t.tenant}/${t.app}`, status: 'failed', reason: t.smoke!.error ?? t.smoke!.firstFailure ?? 'smoke failed' })))
      : '';
    return {
      status: g.passed ? 'success' : 'failed',
      summary,
      counts: { targets: report.targets.length, failed: g.failedTargets },
      data: { ...(report as unknown as Record<string, unknown>), fanOut: true },
      stdout: table || `all ${report.targets.length} target(s) of wave ${w.index} passed`,
    };
  });
}

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

export async function rollbackTenants(ctx: RunContext, config: ResolvedConfig, env: EnvironmentConfig, opts: TenantRollbackOptions): Promise<CommandOutcome> {
  checkRollbackOptions(opts);
  const { mine } = chooseTenants(config, opts);
  if (!opts.dryRun) requireApproval(env, opts.approvedBy, 'rolling back');
  const build = buildInfo();
  // Read once for every target: the history and the result files do not change while we roll back.
  const deploys = opts.thisBuild ? deploysOf(config, env, { build, results: opts.results }) : undefined;
  return closing(async () => {
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
        skipped: (j, why) => ({ ...failedRollback(jobTarget(j), new DifyCiError(why, 'operation')) }),
        onDone: (r, j) =>
          progress.target(jobTarget(j).key, r.status, r.status === 'failed' ? `— ${r.error}` : r.status === 'skipped' ? `— ${r.reason}` : r.versionId ? `v${r.versionId.slice(0, 8)}` : ''),
      }),
    );
    const results = run.results;
    for (const r of results) for (const b of r.backups) ctx.artifact(b, 'backup');
    const n = (s: RollbackTargetResult['status']) => results.filter((r) => r.status === s).length;
    const counts = { targets: results.length, rolledBack: n('rolled-back'), unchanged: n('unchanged'), skipped: n('skipped'), failed: n('failed') };
    const row = (r: RollbackTargetResult): TableRow => ({ target: `${r.tenant}/${r.app}`, status: r.status, reason: (r.status === 'skipped' ? r.reason : r.error) ?? '' });
    const failures = results.filter((r) => r.status === 'failed').map(row);
    const skippedRows = results.filter((r) => r.status === 'skipped').map(row);
    const table = failures.length ? formatTable(failures) : '';
    if (table) log.info(`\nrollbacks that failed:\n${table}\n`);
    const left = skippedRows.length ? formatTable(skippedRows) : '';
    if (left) log.info(`\ntargets left alone:\n${left}\n`);
    const failed = counts.failed > 0;
    const tenantCount = deploys ? lanes.length : mine.length;
    return {
      status: failed ? 'failed' : 'success',
      ...(failed ? { exitCode: fanOutExit(results.filter((r) => r.status === 'failed').map((r) => r.errorCategory)) } : {}),
      summary: rollbackSummary(env.key, counts, thisBuild, ` of ${counts.targets} target(s) in ${tenantCount} tenant(s)`),
      counts,
      data: { env: env.key, authMode: lanes.map((l) => l.console.authMode).find(Boolean) ?? null, approvedBy: opts.approvedBy?.trim() || null, status: failed ? 'failed' : 'success', fanOut: true, targets: results, counts, failures, thisBuild },
      stdout: [table, left].filter(Boolean).join('\n\n') || (thisBuild && counts.targets === 0 ? 'this build deployed none of the selected targets: nothing to roll back' : `all ${counts.targets} target(s) ok`),
    };
  });
}

function failedRollback(t: TenantTarget, e: unknown): RollbackTargetResult {
  return {
    env: t.target.env.key,
    app: t.target.app.key,
    tenant: t.lane.tenant.name,
    target: t.target.id,
    appId: null,
    mode: null,
    status: 'failed',
    from: { versionId: null, hash: null },
    to: { versionId: null, file: null, hash: null },
    versionId: null,
    publishedAt: null,
    contentHash: null,
    publishedHash: null,
    verified: null,
    backups: [],
    summary: null,
    diffText: null,
    warnings: [],
    error: e instanceof DifyCiError ? e.oneLine() : `internal error: ${(e as Error)?.message ?? String(e)}`,
    errorCategory: e instanceof DifyCiError ? e.category : 'internal',
  };
}
