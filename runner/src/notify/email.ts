/**
 * Email over SMTP with nodemailer: HTML and plain-text bodies from the template, optionally the smoke HTML report
 * attached. STARTTLS is used whenever the server offers it; with a login configured it is required, so a password
 * never crosses the wire in clear text.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import nodemailer from 'nodemailer';
import { mask, registerSecret } from '../core/mask.js';
import { log } from '../core/log.js';
import type { EmailConfig } from '../config/types.js';
import { NotifyError } from './channel.js';
import type { RunSummary } from './summary.js';
import { parseTemplate, renderNodes, type Escape } from './template.js';
import type { EmailTemplate } from './templates.js';
import { buildView } from './view.js';
import { runCwd, runEnv } from '../core/run.js';

/** Mail servers commonly refuse larger messages; a bigger report is linked, not attached. */
export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;

export const escapeHtml: Escape = (s) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
const plain: Escape = (s) => s;

export interface EmailRendered {
  subject: string;
  text: string;
  html: string;
  attachments: { filename: string; content: Buffer; contentType: string }[];
}

export interface EmailSendOptions {
  environ?: NodeJS.ProcessEnv;
  /** Where result-file artifact paths are relative to (the workspace). */
  cwd?: string;
  /** Extra TLS options (tests trust their own CA here; real installs use NODE_EXTRA_CA_CERTS). */
  tls?: ConnectionOptions;
  dryRun?: boolean;
}

export function renderEmail(summary: RunSummary, tpl: EmailTemplate, cfg: Pick<EmailConfig, 'attachReport'>, cwd = runCwd()): EmailRendered {
  const view = buildView(summary);
  const subject = renderNodes(parseTemplate(tpl.subject), [view], plain).replace(/\s+/g, ' ').trim().slice(0, 250);
  const rendered: EmailRendered = {
    subject: mask(subject),
    text: mask(renderNodes(parseTemplate(tpl.text), [view], plain)),
    html: mask(renderNodes(parseTemplate(tpl.html), [view], escapeHtml)),
    attachments: [],
  };
  const report = summary.smoke?.reportPath;
  if (cfg.attachReport && report) {
    const path = resolve(cwd, report);
    if (!existsSync(path)) log.debug(`email: smoke report ${report} not found; not attached`);
    else if (statSync(path).size > MAX_ATTACHMENT_BYTES) log.warn(`email: smoke report ${report} is larger than ${MAX_ATTACHMENT_BYTES / 1048576} MiB; linked, not attached`);
    else {
      // The report holds model answers and inputs: masked like everything else that leaves the runner.
      rendered.attachments.push({ filename: basename(path), content: Buffer.from(mask(readFileSync(path, 'utf8')), 'utf8'), contentType: 'text/html; charset=utf-8' });
    }
  }
  return rendered;
}

function authOf(cfg: EmailConfig, environ: NodeJS.ProcessEnv): { user: string; pass: string } | undefined {
  const { userEnv, passwordEnv } = cfg.smtp;
  if (!passwordEnv && !userEnv) return undefined;
  const pass = passwordEnv ? environ[passwordEnv] : undefined;
  const userFromEnv = userEnv ? environ[userEnv] : undefined;
  if (passwordEnv && !pass) throw new NotifyError(`no SMTP password: $${passwordEnv} is not set (bind it with withCredentials)`);
  if (userEnv && !userFromEnv) throw new NotifyError(`no SMTP user: $${userEnv} is not set`);
  registerSecret(pass);
  const user = userFromEnv ?? /<([^>]+)>/.exec(cfg.from)?.[1] ?? cfg.from;
  return { user, pass: pass ?? '' };
}

export async function sendEmail(summary: RunSummary, cfg: EmailConfig, tpl: EmailTemplate, opts: EmailSendOptions = {}): Promise<{ detail: string; rendered: EmailRendered }> {
  const environ = opts.environ ?? runEnv();
  const rendered = renderEmail(summary, tpl, cfg, opts.cwd);
  if (opts.dryRun) return { detail: 'dry run', rendered };
  if (cfg.to.length === 0) throw new NotifyError('notify.email.to is empty');
  const auth = authOf(cfg, environ);
  const { host, port, secure } = cfg.smtp;
  const where = `${host}${port ? `:${port}` : ''}`;
  const transport = nodemailer.createTransport({
    host,
    port,
    secure: secure ?? false,
    auth,
    requireTLS: Boolean(auth) && !secure,
    connectionTimeout: 30000,
    greetingTimeout: 30000,
    socketTimeout: 60000,
    tls: opts.tls,
  });
  try {
    const info = await transport.sendMail({
      from: cfg.from,
      to: cfg.to,
      subject: rendered.subject,
      text: rendered.text,
      html: rendered.html,
      attachments: rendered.attachments,
    });
    const accepted = Array.isArray(info.accepted) ? info.accepted.length : cfg.to.length;
    return { detail: `sent to ${accepted} recipient(s) via ${where}`, rendered };
  } catch (e) {
    const err = e as { code?: string; response?: string; message?: string };
    throw new NotifyError(mask(`cannot send email via ${where}: ${err.response ?? err.message ?? String(e)}`));
  } finally {
    transport.close();
  }
}
