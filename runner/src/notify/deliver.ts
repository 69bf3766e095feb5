/**
 * Sends one run summary to each channel whose `on:` rules match. A channel that cannot deliver is that channel's
 * failure (the others still go out); with `strict` the first such failure is returned for the caller to throw.
 */
import { DifyCiError, errorMessage, operationError } from '../core/errors.js';
import { log } from '../core/log.js';
import { mask } from '../core/mask.js';
import type { NotifyConfig, ResolvedConfig } from '../config/types.js';
import { NotifyError, type ChannelName } from './channel.js';
import type { ChannelOutcome } from '../results/commands.js';
import { describeFacts, matchedRules } from './rules.js';
import type { RunSummary } from './summary.js';

export interface DeliverOptions {
  config: ResolvedConfig;
  notify: NotifyConfig;
  dryRun?: boolean;
  strict?: boolean;
  environ: NodeJS.ProcessEnv;
  cwd: string;
}

export interface Delivery {
  outcomes: ChannelOutcome[];
  /** With dryRun: what each channel would have sent. */
  rendered: Record<string, unknown>;
  /** With strict: the first failure, for the command to fail with (after the history is written). */
  strictError?: DifyCiError;
}

export async function deliver(summary: RunSummary, channels: ChannelName[], o: DeliverOptions): Promise<Delivery> {
  const { notify, config } = o;
  const outcomes: ChannelOutcome[] = [];
  const rendered: Record<string, unknown> = {};
  let strictError: DifyCiError | undefined;
  for (const ch of channels) {
    const cfg = notify[ch]!;
    const matched = matchedRules(cfg.on, summary);
    if (matched.length === 0 && !o.dryRun) {
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
        const r = await sendSlack(summary, notify.slack!, tpl, { environ: o.environ, dryRun: o.dryRun });
        detail = r.detail;
        rendered.slack = r.rendered;
      } else {
        const { loadEmailTemplate } = await import('./templates.js');
        const { sendEmail } = await import('./email.js');
        const tpl = loadEmailTemplate(notify.email!.template, config.baseDir);
        const r = await sendEmail(summary, notify.email!, tpl, { environ: o.environ, cwd: o.cwd, dryRun: o.dryRun });
        detail = r.detail;
        rendered.email = { ...r.rendered, attachments: r.rendered.attachments.map((a) => ({ filename: a.filename, bytes: a.content.length })) };
      }
      outcomes.push({ channel: ch, status: o.dryRun ? 'rendered' : 'sent', detail, matched });
      if (!o.dryRun) log.ok(`${ch}: ${detail} (matched on: ${matched.join(', ')})`);
    } catch (e) {
      // Whatever went wrong (an unreadable report is EISDIR, a library bug a TypeError) is this channel's failed
      // delivery: the other channels still go out and the history is still written, or `fixed` breaks next build.
      const known = e instanceof NotifyError || e instanceof DifyCiError;
      const message = mask((e instanceof NotifyError ? e.message : errorMessage(e)).replace(/\s*\n\s*/g, ' ').trim());
      if (!known && e instanceof Error && e.stack) log.debug(e.stack);
      outcomes.push({ channel: ch, status: 'failed', detail: message, matched });
      if (o.strict) {
        strictError ??= e instanceof DifyCiError ? e : operationError(`${ch}: ${message}`);
        log.error(`${ch}: ${message}`);
      } else log.warn(`${ch}: ${message} — not failing the build (use --strict to fail it)`);
    }
  }
  return { outcomes, rendered, strictError };
}
