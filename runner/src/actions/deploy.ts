/**
 * `dify-ci deploy`: Git → one environment. A single workspace goes through deployTargets (deploy/deploy.ts); an
 * environment that fans out over tenants goes through the rollout (fanout/rollout.ts), in waves.
 */
import { resolve } from 'node:path';
import type { CommandOutcome } from '../core/command.js';
import { usageError } from '../core/errors.js';
import { log } from '../core/log.js';
import { requireEnv } from '../config/resolve.js';
import type { EnvironmentConfig, ResolvedConfig } from '../config/types.js';
import { planWaves } from '../selection/waves.js';
import { deployTargets } from '../deploy/deploy.js';
import type { DeployTargetResult } from '../results/deploy.js';
import { readPlanFile } from '../deploy/plan.js';
import { formatTable } from '../fanout/progress.js';
import { rollout } from '../fanout/rollout.js';
import { checkWave, parseWave } from '../fanout/waves.js';
import type { RolloutReport } from '../results/rollout.js';
import { chooseTenants, fansOut } from '../fanout/targets.js';
import { failureExit } from '../results/failure.js';
import { recordSmokeReports } from './smoke-artifacts.js';
import type { DeployData } from '../results/commands.js';
import type { ActionContext } from './action.js';

export interface DeployCliOptions {
  app?: string;
  plan?: string;
  dryRun?: boolean;
  force?: boolean;
  allowVersionUpgrade?: boolean;
  approvedBy?: string;
  /** Multi-tenant: label selector, exact names, this agent's shard, stop at the first failure. */
  tenants?: string;
  tenant?: string;
  shard?: string;
  /** Gray release: only wave K's new targets, no gate (the pipeline gates). */
  wave?: string;
  failFast?: boolean;
}

export async function deployAction(ctx: ActionContext, opts: DeployCliOptions): Promise<CommandOutcome<DeployData>> {
  const config = await ctx.config();
  const env = requireEnv(config);
  if (fansOut(config, env, opts)) return deployFanOut(ctx, config, env, opts);
  const plan = opts.plan ? readPlanFile(resolve(ctx.io.cwd, opts.plan), env.key) : undefined;
  const apps = opts.app ?? (plan ? plan.targets.map((t) => t.app).join(',') : undefined);
  const report = await deployTargets(config, env, apps, {
    force: opts.force,
    dryRun: opts.dryRun,
    allowVersionUpgrade: opts.allowVersionUpgrade,
    approvedBy: opts.approvedBy,
    plan,
  });
  for (const r of report.targets) for (const b of r.backups) ctx.artifact(b, 'backup');
  const c = report.counts;
  const failed = report.targets.filter((r) => r.status === 'failed' || r.status === 'refused');
  const summary = opts.dryRun
    ? `deploy to ${env.key} (dry run): ${report.targets.filter((r) => r.status === 'dry-run').length} would change, ${c.unchanged} unchanged${failed.length ? `, ${failed.length} refused/failed` : ''}`
    : `deploy to ${env.key}: ${c.deployed} deployed, ${c.unchanged} unchanged${c.refused ? `, ${c.refused} refused` : ''}${c.failed ? `, ${c.failed} failed` : ''}`;
  return {
    status: report.status === 'success' ? 'success' : 'failed',
    ...(failed.length ? { exitCode: failureExit(failed.map((f) => f.errorCategory)) } : {}),
    summary,
    counts: { targets: c.targets, deployed: c.deployed, unchanged: c.unchanged, failed: c.failed, refused: c.refused },
    data: report,
    stdout: report.targets.map(deployLine).join('\n'),
  };
}

function deployLine(r: DeployTargetResult): string {
  const v = r.versionId ? ` version ${r.versionId}` : '';
  switch (r.status) {
    case 'deployed':
      return `✔ ${r.target}: deployed${v} (app ${r.appId}${r.verified ? ', verified' : ''})`;
    case 'unchanged':
      return `= ${r.target}: no changes`;
    case 'dry-run':
      return `~ ${r.target}: would ${r.resolvedBy === 'create' ? 'create' : 'update'} (dry run)`;
    default:
      return `✘ ${r.target}: ${r.status}: ${r.error ?? ''}`;
  }
}

/** The fan-out: every selected tenant (this agent's shard), in the configured waves, each wave gated. */
async function deployFanOut(ctx: ActionContext, config: ResolvedConfig, env: EnvironmentConfig, opts: DeployCliOptions): Promise<CommandOutcome<DeployData>> {
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
  const parts = opts.dryRun ? [`${c.dryRun} would change`, `${c.unchanged} unchanged`] : [`${c.deployed} deployed`, `${c.unchanged} unchanged`];
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
    ...(report.status === 'failed' ? { exitCode: failureExit(failedCats) } : {}),
    summary,
    counts: { targets: c.targets, deployed: c.deployed, unchanged: c.unchanged, failed: c.failed, refused: c.refused, rolledBack: c.rolledBack, skipped: c.skipped },
    data: report,
    stdout: [...waveLines(report), table || `all ${c.targets} target(s) ok`].join('\n'),
  };
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
