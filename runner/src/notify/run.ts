/**
 * `dify-ci notify`: result files + Jenkins environment → one run summary → each configured channel whose `on:`
 * rules match. A channel that cannot deliver is a warning (exit 0) unless --strict (exit 1): a chat outage must
 * not fail a deployment that worked.
 */
import { resolve } from 'node:path';
import type { CommandOutcome } from '../core/command.js';
import type { ConfigContext as RunContext } from '../config/load.js';
import { DifyCiError, configError, operationError, usageError } from '../core/errors.js';
import { log } from '../core/log.js';
import { mask } from '../core/mask.js';
import { positionOf } from '../yaml/source.js';
import type { NotifyConfig, ResolvedConfig } from '../config/types.js';
import { CHANNELS, NotifyError, type ChannelName, type ChannelOutcome } from './channel.js';
import { appendHistory, historyPath, previousEntry, readHistory, staleBefore } from './history.js';
import { matchedRules } from './rules.js';
import { BUILD_STATUSES, buildSummary, deriveStatus, jenkinsInfo, readResultFiles, type BuildStatus, type JenkinsInfo, type RunSummary } from './summary.js';
import { checkNames, parseTemplate, renderNodes, TemplateSyntaxError } from './template.js';
import type { EmailSendOptions } from './email.js';
import type { SlackSendOptions } from './slack.js';
import { runCwd, runEnv } from '../core/run.js';

export interface NotifyOptions {
  status?: string;
  channel?: string;
  results?: string;
  previousStatus?: string;
  strict?: boolean;
  dryRun?: boolean;
}

/** Test seams: transport tuning only, never behaviour. */
export interface NotifyDeps {
  environ?: NodeJS.ProcessEnv;
  cwd?: string;
  slack?: SlackSendOptions;
  email?: EmailSendOptions;
  now?: () => Date;
}

/** Jenkins' currentBuild.currentResult is upper case, and NOT_BUILT is an aborted build for our purpose. */
export function parseBuildStatus(value: string | undefined, flag: string): BuildStatus | undefined {
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

function hasPath(v: unknown, path: string[]): boolean {
  for (const k of path) {
    if (v === null || typeof v !== 'object' || !(k in v)) return false;
    v = (v as Record<string, unknown>)[k];
  }
  return true;
}

const encodePath = (s: string) => s.split('/').map(encodeURIComponent).join('/');

/** notify.reportUrl may use {{job}}, {{buildNumber}}, {{buildUrl}}, {{buildTag}}, {{env}}, {{reportPath}}; else Jenkins' artifact URL. */
function reportUrlFn(config: ResolvedConfig, notify: NotifyConfig) {
  const tpl = notify.reportUrl;
  let nodes: ReturnType<typeof parseTemplate> | undefined;
  if (tpl) {
    const vocab = { names: ['job', 'buildNumber', 'buildUrl', 'buildTag', 'env', 'reportPath'] };
    const envPath = config.env ? ['environments', config.env.key, 'notify', 'reportUrl'] : undefined;
    const position = positionOf(config.source, envPath && hasPath(config.source.value, envPath) ? envPath : ['notify', 'reportUrl']);
    try {
      nodes = parseTemplate(tpl);
    } catch (e) {
      if (e instanceof TemplateSyntaxError) throw configError(`notify.reportUrl: ${e.message}`, { position });
      throw e;
    }
    const problems = checkNames(nodes, vocab);
    if (problems.length) throw configError(`notify.reportUrl: ${problems[0]!.message}`, { position });
  }
  return ({ reportPath, jenkins, env }: { reportPath?: string; jenkins: JenkinsInfo; env?: string }) => {
    if (nodes) {
      const view = { job: jenkins.job, buildNumber: jenkins.buildNumber, buildUrl: jenkins.buildUrl, buildTag: jenkins.buildTag, env, reportPath };
      // Each value is URL-encoded (slashes kept): a job or path name cannot change the link's host.
      const esc = (s: string) => (s === view.buildUrl ? s : encodePath(s));
      return renderNodes(nodes, [view], esc);
    }
    if (reportPath && jenkins.buildUrl) return `${jenkins.buildUrl.replace(/\/?$/, '/')}artifact/${encodePath(reportPath.replace(/^\.\//, ''))}`;
    return undefined;
  };
}

function describeFacts(s: RunSummary): string {
  return [s.status, s.fixed && 'fixed', s.changed && 'changed'].filter(Boolean).join(', ');
}

export async function runNotify(ctx: RunContext, opts: NotifyOptions, deps: NotifyDeps = {}): Promise<CommandOutcome> {
  const environ = deps.environ ?? runEnv();
  const cwd = deps.cwd ?? runCwd();
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
  let reportUrl: ReturnType<typeof reportUrlFn>;
  try {
    reportUrl = reportUrlFn(config, notify);
  } catch (e) {
    // Like a broken template: the message still goes out, with Jenkins' artifact link.
    if (opts.strict || !(e instanceof DifyCiError)) throw e;
    log.warn(`${e.oneLine()} — using the Jenkins artifact link instead`);
    reportUrl = reportUrlFn(config, { ...notify, reportUrl: undefined });
  }
  const summary = buildSummary({ status, previousStatus, results, environ, env: config.env?.key, reportUrl });

  const outcomes: ChannelOutcome[] = [];
  const rendered: Record<string, unknown> = {};
  let strictError: DifyCiError | undefined;
  for (const ch of channels) {
    const cfg = notify[ch]!;
    const matched = matchedRules(cfg.on, summary);
    if (matched.length === 0 && !opts.dryRun) {
      outcomes.push({ channel: ch, status: 'skipped', detail: `on: [${cfg.on.join(', ')}] does not match this build (${describeFacts(summary)})`, matched });
      log.info(`${ch}: not sent — on: [${cfg.on.join(', ')}], this build: ${describeFacts(summary)}`);
      continue;
    }
    try {
      let detail: string;
      if (ch === 'slack') {
        const { loadSlackTemplate } = await import('./templates.js');
        const { sendSlack } = await import('./slack.js');
        const tpl = loadSlackTemplate(notify.slack!.template, config.baseDir);
        const r = await sendSlack(summary, notify.slack!, tpl, { environ, ...deps.slack, dryRun: opts.dryRun });
        detail = r.detail;
        rendered.slack = r.rendered;
      } else {
        const { loadEmailTemplate } = await import('./templates.js');
        const { sendEmail } = await import('./email.js');
        const tpl = loadEmailTemplate(notify.email!.template, config.baseDir);
        const r = await sendEmail(summary, notify.email!, tpl, { environ, cwd, ...deps.email, dryRun: opts.dryRun });
        detail = r.detail;
        rendered.email = { ...r.rendered, attachments: r.rendered.attachments.map((a) => ({ filename: a.filename, bytes: a.content.length })) };
      }
      outcomes.push({ channel: ch, status: opts.dryRun ? 'rendered' : 'sent', detail, matched });
      if (!opts.dryRun) log.ok(`${ch}: ${detail} (matched on: ${matched.join(', ')})`);
    } catch (e) {
      // Whatever went wrong (an unreadable report is EISDIR, a library bug a TypeError) is this channel's failed
      // delivery: the other channels still go out and the history is still written, or `fixed` breaks next build.
      const known = e instanceof NotifyError || e instanceof DifyCiError;
      const text = e instanceof DifyCiError ? e.oneLine() : e instanceof Error ? e.message : String(e);
      const message = mask(`${known ? '' : 'internal error: '}${text}`.replace(/\s*\n\s*/g, ' ').trim());
      if (!known && e instanceof Error && e.stack) log.debug(e.stack);
      outcomes.push({ channel: ch, status: 'failed', detail: message, matched });
      if (opts.strict) {
        strictError ??= e instanceof DifyCiError ? e : operationError(`${ch}: ${message}`);
        log.error(`${ch}: ${message}`);
      } else log.warn(`${ch}: ${message} — not failing the build (use --strict to fail it)`);
    }
  }

  if (!opts.dryRun) {
    try {
      appendHistory(histFile, { at: (deps.now?.() ?? new Date()).toISOString(), job: jenkins.job, build: jenkins.buildNumber, env: config.env?.key, status });
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
