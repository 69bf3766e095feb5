/**
 * `dify-ci rollback`: back to an earlier version (or, with --this-build, undo what this build deployed), in one
 * workspace (deploy/rollback.ts) or over tenants (fanout/rollback.ts).
 */
import type { CommandOutcome } from '../core/command.js';
import { log } from '../core/log.js';
import { requireEnv } from '../config/resolve.js';
import type { EnvironmentConfig, ResolvedConfig } from '../config/types.js';
import { rollbackSummary, rollbackTargets } from '../deploy/rollback.js';
import type { RollbackTargetResult } from '../results/rollback.js';
import { formatTable } from '../fanout/progress.js';
import type { TargetRow } from '../results/target.js';
import { rollbackTenants, type TenantRollbackOptions } from '../fanout/rollback.js';
import { fansOut } from '../fanout/targets.js';
import { failureExit } from '../results/failure.js';
import type { RollbackData } from '../results/rollback.js';
import type { ActionContext } from './action.js';

/** The rollback options; the fan-out (fanout/rollback.ts) takes them as they are. */
export type RollbackCliOptions = TenantRollbackOptions;

export async function rollbackAction(ctx: ActionContext, opts: RollbackCliOptions): Promise<CommandOutcome<RollbackData>> {
  const config = await ctx.config();
  const env = requireEnv(config);
  // Both paths check the options (checkRollbackOptions) before any request.
  if (fansOut(config, env, opts)) return rollbackFanOut(ctx, config, env, opts);
  const report = await rollbackTargets(config, env, opts.app, { to: opts.to, approvedBy: opts.approvedBy, dryRun: opts.dryRun, thisBuild: opts.thisBuild, results: opts.results });
  for (const r of report.targets) for (const b of r.backups) ctx.artifact(b, 'backup');
  const failed = report.targets.filter((r) => r.status === 'failed');
  return {
    status: report.status === 'success' ? 'success' : 'failed',
    ...(failed.length ? { exitCode: failureExit(failed.map((f) => f.errorCategory)) } : {}),
    summary: rollbackSummary(env.key, report.counts, report.thisBuild),
    counts: report.counts,
    data: report,
    stdout: report.targets.map(rollbackLine).join('\n'),
  };
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

async function rollbackFanOut(ctx: ActionContext, config: ResolvedConfig, env: EnvironmentConfig, opts: RollbackCliOptions): Promise<CommandOutcome<RollbackData>> {
  const report = await rollbackTenants(config, env, opts);
  const { targets: results, counts, thisBuild } = report;
  for (const r of results) for (const b of r.backups) ctx.artifact(b, 'backup');
  const row = (r: RollbackTargetResult): TargetRow => ({ target: `${r.tenant}/${r.app}`, status: r.status, reason: (r.status === 'skipped' ? r.reason : r.error) ?? '' });
  const failures = results.filter((r) => r.status === 'failed').map(row);
  const skippedRows = results.filter((r) => r.status === 'skipped').map(row);
  const table = failures.length ? formatTable(failures) : '';
  if (table) log.info(`\nrollbacks that failed:\n${table}\n`);
  const left = skippedRows.length ? formatTable(skippedRows) : '';
  if (left) log.info(`\ntargets left alone:\n${left}\n`);
  const failed = counts.failed > 0;
  return {
    status: failed ? 'failed' : 'success',
    ...(failed ? { exitCode: failureExit(results.filter((r) => r.status === 'failed').map((r) => r.errorCategory)) } : {}),
    summary: rollbackSummary(env.key, counts, thisBuild, ` of ${counts.targets} target(s) in ${report.tenants} tenant(s)`),
    counts,
    data: { env: env.key, authMode: report.authMode, approvedBy: report.approvedBy, status: failed ? 'failed' : 'success', fanOut: true, targets: results, counts, failures, thisBuild },
    stdout: [table, left].filter(Boolean).join('\n\n') || (thisBuild && counts.targets === 0 ? 'this build deployed none of the selected targets: nothing to roll back' : `all ${counts.targets} target(s) ok`),
  };
}
