/**
 * `dify-ci notify`: result files + Jenkins environment → one run summary → each configured channel whose `on:`
 * rules match. A channel that cannot deliver is a warning (exit 0) unless --strict (exit 1): a chat outage must
 * not fail a deployment that worked.
 */
import { resolve } from 'node:path';
import type { CommandOutcome } from '../core/command.js';
import { configError, DifyCiError, usageError } from '../core/errors.js';
import { log } from '../core/log.js';
import { positionOf } from '../yaml/source.js';
import type { NotifyConfig, ResolvedConfig } from '../config/types.js';
import { CHANNELS, type ChannelName } from '../notify/channel.js';
import type { ChannelOutcome } from '../results/commands.js';
import { deliver } from '../notify/deliver.js';
import { appendHistory, historyPath, previousEntry, readHistory, staleBefore } from '../notify/history.js';
import { reportUrlFn, type ReportUrl } from '../notify/report-url.js';
import { describeFacts } from '../notify/rules.js';
import { jenkinsInfo } from '../notify/jenkins.js';
import { BUILD_STATUSES, buildSummary, deriveStatus, readResultFiles, type BuildStatus } from '../notify/summary.js';
import type { NotifyData } from '../results/commands.js';
import type { ActionContext } from './action.js';

export interface NotifyCliOptions {
  status?: string;
  channel?: string;
  results?: string;
  previousStatus?: string;
  strict?: boolean;
  dryRun?: boolean;
}

/** Jenkins' currentBuild.currentResult is upper case, and NOT_BUILT is an aborted build for our purpose. */
function parseBuildStatus(value: string | undefined, flag: string): BuildStatus | undefined {
  if (value === undefined || value === '' || /^none$/i.test(value)) return undefined;
  const v = value.toLowerCase().replace(/^not_built$/, 'aborted');
  if (!(BUILD_STATUSES as readonly string[]).includes(v)) throw usageError(`${flag} must be one of ${BUILD_STATUSES.join(', ')} (got '${value}')`);
  return v as BuildStatus;
}

function channelsOf(opt: string | undefined, notify: NotifyConfig, config: ResolvedConfig): ChannelName[] {
  const c = (opt ?? 'all').toLowerCase();
  if (c === 'all') return CHANNELS.filter((ch) => notify[ch] !== undefined);
  if (!(CHANNELS as readonly string[]).includes(c)) throw usageError(`--channel must be slack, email or all (got '${opt}')`);
  if (!notify[c as ChannelName]) {
    throw configError(`--channel ${c}: notify.${c} is not configured${config.env ? ` (for environment ${config.env.key})` : ''}`, { position: positionOf(config.source, ['notify']) });
  }
  return [c as ChannelName];
}

export async function notifyAction(ctx: ActionContext, opts: NotifyCliOptions): Promise<CommandOutcome<NotifyData>> {
  const { env: environ, cwd } = ctx.io;
  const explicitStatus = parseBuildStatus(opts.status, '--status');
  const explicitPrevious = parseBuildStatus(opts.previousStatus, '--previous-status');
  const config = await ctx.config();
  const notify = config.env?.notify ?? config.notify;
  const channels = channelsOf(opts.channel, notify, config);

  const jenkins = jenkinsInfo(environ);
  const histFile = historyPath(config.paths.history);
  const history = readHistory(histFile);
  const current = { job: jenkins.job, build: jenkins.buildNumber, env: config.env?.key };
  const resultsDir = opts.results ? resolve(cwd, opts.results) : config.paths.results;
  const results = readResultFiles(resultsDir, {
    notBefore: staleBefore(history, current),
    onSkip: (file, why) => log.info(`notify: ignoring ${file}: ${why}`),
  });
  if (results.length === 0) log.info(`notify: no result files in ${resultsDir}; the message will carry the build status only`);

  const status = explicitStatus ?? deriveStatus(results);
  if (!explicitStatus) log.info(`notify: no --status given; taking '${status}' from the result files`);
  const previousStatus = explicitPrevious ?? previousEntry(history, current)?.status;
  let reportUrl: ReportUrl;
  try {
    reportUrl = reportUrlFn(config, notify);
  } catch (e) {
    // Like a broken template: the message still goes out, with Jenkins' artifact link.
    if (opts.strict || !(e instanceof DifyCiError)) throw e;
    log.warn(`${e.oneLine()} — using the Jenkins artifact link instead`);
    reportUrl = reportUrlFn(config, { ...notify, reportUrl: undefined });
  }
  const summary = buildSummary({ status, previousStatus, results, environ, env: config.env?.key, reportUrl });
  const { outcomes, rendered, strictError } = await deliver(summary, channels, { config, notify, dryRun: opts.dryRun, strict: opts.strict, environ, cwd });

  if (!opts.dryRun) {
    try {
      appendHistory(histFile, { at: new Date().toISOString(), job: jenkins.job, build: jenkins.buildNumber, env: config.env?.key, status });
    } catch (e) {
      log.warn(`notify: cannot record the build in ${histFile}: ${(e as Error).message} ('fixed' needs it, or pass --previous-status)`);
    }
  }
  if (strictError) throw strictError;

  const count = (s: ChannelOutcome['status']) => outcomes.filter((o) => o.status === s).length;
  const failed = count('failed');
  const parts = outcomes.map((o) => `${o.channel} ${o.status}`);
  return {
    status: failed > 0 ? 'failed' : 'success',
    // Not strict: a delivery failure is recorded as such, but does not fail the step.
    exitCode: 0,
    summary: channels.length === 0 ? 'no notification channel is configured (notify.slack / notify.email)' : `notification for a ${describeFacts(summary)} build: ${parts.join(', ')}`,
    counts: { sent: count('sent'), skipped: count('skipped'), failed, results: results.length },
    data: {
      status,
      previousStatus: previousStatus ?? null,
      fixed: summary.fixed,
      changed: summary.changed,
      channels: outcomes,
      ...(opts.dryRun ? { rendered } : {}),
    },
    stdout: opts.dryRun ? JSON.stringify(rendered, null, 2) : undefined,
  };
}
