/** `dify-ci status`: per target the deployed version, its hash, who/when, and drift from the last deploy or Git. */
import type { CommandOutcome } from '../core/command.js';
import { requireEnv } from '../config/resolve.js';
import { formatStatusText, statusTargets } from '../deploy/status.js';
import type { StatusReport } from '../results/status.js';
import type { ActionContext } from './action.js';

export interface StatusCliOptions {
  app?: string;
  failOnDrift?: boolean;
  format?: string;
}

export async function statusAction(ctx: ActionContext, opts: StatusCliOptions): Promise<CommandOutcome<StatusReport>> {
  const config = await ctx.config();
  const env = requireEnv(config);
  const report = await statusTargets(config, env, opts.app);
  const errors = report.targets.filter((t) => t.error).length;
  const fail = errors > 0 || (opts.failOnDrift && report.drifted > 0);
  return {
    status: fail ? 'failed' : 'success',
    summary: `status of ${env.key}: ${report.targets.length - report.drifted} in sync, ${report.drifted} drifted${errors ? `, ${errors} error(s)` : ''}`,
    counts: { targets: report.targets.length, drifted: report.drifted, errors },
    data: report,
    stdout: opts.format === 'json' ? JSON.stringify(report, null, 2) : formatStatusText(report),
  };
}
