/**
 * The command actions of plan, deploy, rollback, backup and status: options → engine → CommandOutcome (stdout,
 * result data, artifacts, exit code). The engines (plan.ts, deploy.ts, …) stay usable without the CLI.
 */
import { resolve } from 'node:path';
import { DifyCiError, ExitCode, usageError, type ExitCodeValue } from '../core/errors.js';
import { log } from '../core/log.js';
import { writeJsonFile } from '../core/result.js';
import type { CommandOutcome } from '../core/command.js';
import type { ConfigContext as RunContext } from '../config/load.js';
import { requireEnv } from '../config/resolve.js';
import { closeConsoles, getConsole } from '../dify/console.js';
import { buildInfo } from './build-info.js';
import { deployTargets, type DeployTargetResult } from './deploy.js';
import { errorTargetPlan, formatPlanMarkdown, formatPlanText, prepareTarget, readPlanFile, toTargetPlan, type PlanFile, type TargetPlan } from './plan.js';
import { rollbackSummary, rollbackTargets, type RollbackTargetResult } from './rollback.js';
import { backupEnvironment, stamp } from './backup.js';
import { formatStatusText, statusTargets } from './status.js';
import { prefixed, selectTargets } from './targets.js';
import { runCwd } from '../core/run.js';

/** Worst exit code among per-target failures: config/usage/input → 2, anything else → 1. */
function failureExit(categories: (string | undefined)[]): ExitCodeValue {
  if (categories.some((c) => c === 'usage' || c === 'config' || c === 'input')) return ExitCode.USAGE;
  return ExitCode.FAILED;
}

async function withConsoles<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } finally {
    closeConsoles();
  }
}

// ---------------------------------------------------------------- plan

export interface PlanCliOptions {
  app?: string;
  format?: string;
  out?: string;
  detailedExitcode?: boolean;
  /** No Dify, no credentials: compare with a git base instead (deploy/offline-plan.ts). */
  offline?: boolean;
  base?: string;
}

export async function runPlan(ctx: RunContext, opts: PlanCliOptions): Promise<CommandOutcome> {
  const format = opts.format ?? 'text';
  if (!['text', 'markdown', 'json'].includes(format)) throw new DifyCiError(`--format must be text, markdown or json (got '${format}')`, 'usage');
  if (opts.offline) {
    if (opts.out) throw usageError('--out saves a plan for deploy --plan, which an offline plan cannot be');
    const { runOfflinePlan } = await import('./offline-plan.js');
    return runOfflinePlan(ctx, opts);
  }
  if (opts.base) throw usageError('--base goes with --offline');
  const { isUntrusted, trustedSource } = await import('../config/trusted.js');
  if (isUntrusted(trustedSource())) throw usageError('an untrusted build (a pull request) binds no credential, so it plans offline: plan --offline, difyPlan(offline: true)');
  const config = await ctx.config();
  const env = requireEnv(config);
  return withConsoles(async () => {
    const c = getConsole(env);
    await c.ready();
    const targets: TargetPlan[] = [];
    for (const t of selectTargets(config, env, opts.app)) {
      try {
        targets.push(toTargetPlan(await prepareTarget(c, t, { historyDir: config.paths.history })));
      } catch (e) {
        if (!(e instanceof DifyCiError) || e.category === 'auth') throw e;
        log.error(prefixed(t.id, e.oneLine()));
        targets.push(errorTargetPlan(t, e));
      }
    }
    const build = buildInfo();
    const markdown = formatPlanMarkdown(env.key, targets);
    const changed = targets.filter((t) => t.action === 'create' || t.action === 'update').length;
    const errors = targets.filter((t) => t.action === 'error');
    const artifacts = [];
    if (opts.out) {
      const file: PlanFile = { kind: 'dify-ci-plan', version: 1, createdAt: new Date().toISOString(), env: env.key, gitCommit: build.gitCommit, targets };
      writeJsonFile(resolve(runCwd(), opts.out), file);
      artifacts.push({ path: opts.out, kind: 'plan' });
    }
    const stdout = format === 'json' ? JSON.stringify(targets, null, 2) : format === 'markdown' ? markdown : formatPlanText(env.key, targets);
    const summary = errors.length
      ? `plan for ${env.key}: ${errors.length} target(s) could not be planned`
      : changed
        ? `plan for ${env.key}: ${changed} of ${targets.length} target(s) would change`
        : `plan for ${env.key}: no changes`;
    return {
      status: errors.length ? 'failed' : changed && opts.detailedExitcode ? 'changes' : 'success',
      ...(errors.length ? { exitCode: failureExit(errors.map((e) => e.errorCategory)) } : {}),
      summary,
      counts: { targets: targets.length, changed, unchanged: targets.filter((t) => t.action === 'noop').length, errors: errors.length },
      artifacts,
      data: { env: env.key, authMode: c.authMode ?? null, changed, gitCommit: build.gitCommit, targets, markdown },
      stdout,
    };
  });
}

// ---------------------------------------------------------------- deploy

export interface DeployCliOptions {
  app?: string;
  plan?: string;
  dryRun?: boolean;
  force?: boolean;
  allowVersionUpgrade?: boolean;
  approvedBy?: string;
  /** Multi-tenant (tenants/cli.ts): label selector, exact names, this agent's shard, stop at the first failure. */
  tenants?: string;
  tenant?: string;
  shard?: string;
  /** Gray release: only wave K's new targets, no gate (the pipeline gates). */
  wave?: string;
  failFast?: boolean;
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

export async function runDeploy(ctx: RunContext, opts: DeployCliOptions): Promise<CommandOutcome> {
  const config = await ctx.config();
  const env = requireEnv(config);
  const tenants = await import('../tenants/cli.js');
  if (tenants.fansOut(config, env, opts)) return tenants.deployTenants(ctx, config, env, opts);
  const plan = opts.plan ? readPlanFile(resolve(runCwd(), opts.plan), env.key) : undefined;
  const apps = opts.app ?? (plan ? plan.targets.map((t) => t.app).join(',') : undefined);
  return withConsoles(async () => {
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
      data: report as unknown as Record<string, unknown>,
      stdout: report.targets.map(deployLine).join('\n'),
    };
  });
}

// ---------------------------------------------------------------- rollback

export interface RollbackCliOptions {
  app?: string;
  to?: string;
  approvedBy?: string;
  dryRun?: boolean;
  thisBuild?: boolean;
  results?: string;
  tenants?: string;
  tenant?: string;
  shard?: string;
}

/** One line per rolled-back target, for the build log (the fan-out prints a table instead). */
export function rollbackLine(r: RollbackTargetResult): string {
  switch (r.status) {
    case 'rolled-back':
      return `✔ ${r.target}: rolled back to ${r.to.versionId ?? r.to.file}${r.versionId ? ` (new version ${r.versionId})` : ''}`;
    case 'unchanged':
      return `= ${r.target}: already at the rollback target`;
    case 'skipped':
      return `- ${r.target}: skipped: ${r.reason}`;
    case 'dry-run':
      return `~ ${r.target}: would roll back to ${r.to.versionId ?? r.to.file}\n${r.diffText ?? ''}`;
    default:
      return `✘ ${r.target}: ${r.error}`;
  }
}

export async function runRollback(ctx: RunContext, opts: RollbackCliOptions): Promise<CommandOutcome> {
  const config = await ctx.config();
  const env = requireEnv(config);
  const tenants = await import('../tenants/cli.js');
  // Both paths check the options (checkRollbackOptions) before any request.
  if (tenants.fansOut(config, env, opts)) return tenants.rollbackTenants(ctx, config, env, opts);
  return withConsoles(async () => {
    const report = await rollbackTargets(config, env, opts.app, { to: opts.to, approvedBy: opts.approvedBy, dryRun: opts.dryRun, thisBuild: opts.thisBuild, results: opts.results });
    for (const r of report.targets) for (const b of r.backups) ctx.artifact(b, 'backup');
    const failed = report.targets.filter((r) => r.status === 'failed');
    return {
      status: report.status === 'success' ? 'success' : 'failed',
      ...(failed.length ? { exitCode: failureExit(failed.map((f) => f.errorCategory)) } : {}),
      summary: rollbackSummary(env.key, report.counts, report.thisBuild),
      counts: report.counts,
      data: report as unknown as Record<string, unknown>,
      stdout: report.targets.map(rollbackLine).join('\n'),
    };
  });
}

// ---------------------------------------------------------------- backup

export interface BackupCliOptions {
  app?: string;
  all?: boolean;
  out?: string;
}

export async function runBackup(ctx: RunContext, opts: BackupCliOptions): Promise<CommandOutcome> {
  const config = await ctx.config();
  const env = requireEnv(config);
  const outDir = resolve(runCwd(), opts.out ?? resolve(config.paths.backups, env.key, `full-${stamp()}`));
  return withConsoles(async () => {
    const c = getConsole(env);
    await c.ready();
    const index = await backupEnvironment(c, env.key, opts.all ? [] : selectTargets(config, env, opts.app), { all: Boolean(opts.all), outDir });
    ctx.artifact(resolve(outDir, 'index.json'), 'backup-index');
    return {
      summary: `backup of ${env.key}: ${index.apps.length} app(s) exported to ${outDir}${index.skipped.length ? `, ${index.skipped.length} skipped` : ''}`,
      counts: { apps: index.apps.length, skipped: index.skipped.length },
      data: { ...index, outDir } as unknown as Record<string, unknown>,
      stdout: index.apps.map((a) => `${a.file}\t${a.mode}\t${a.version ?? a.exported}\t${a.hash}`).join('\n'),
    };
  });
}

// ---------------------------------------------------------------- status

export interface StatusCliOptions {
  app?: string;
  failOnDrift?: boolean;
  format?: string;
}

export async function runStatus(ctx: RunContext, opts: StatusCliOptions): Promise<CommandOutcome> {
  const config = await ctx.config();
  const env = requireEnv(config);
  return withConsoles(async () => {
    const report = await statusTargets(config, env, opts.app);
    const errors = report.targets.filter((t) => t.error).length;
    const fail = errors > 0 || (opts.failOnDrift && report.drifted > 0);
    return {
      status: fail ? 'failed' : 'success',
      summary: `status of ${env.key}: ${report.targets.length - report.drifted} in sync, ${report.drifted} drifted${errors ? `, ${errors} error(s)` : ''}`,
      counts: { targets: report.targets.length, drifted: report.drifted, errors },
      data: report as unknown as Record<string, unknown>,
      stdout: opts.format === 'json' ? JSON.stringify(report, null, 2) : formatStatusText(report),
    };
  });
}
