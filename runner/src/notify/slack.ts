/**
 * Slack: chat.postMessage through @slack/web-api (bot token; failures of many targets go to a thread reply), or an
 * incoming webhook (one message, no thread). `apiUrl` points the Web API elsewhere (tests, air-gapped installs).
 */
import { WebClient, WebClientEvent, type RetryOptions } from '@slack/web-api';
import { log } from '../core/log.js';
import { mask, registerSecret } from '../core/mask.js';
import type { SlackConfig } from '../config/types.js';
import { NotifyError } from './channel.js';
import { notifyFetch } from './http.js';
import { renderSlackMessage, type SlackPayload } from './slack-blocks.js';
import type { RunSummary } from './summary.js';
import type { SlackTemplate } from './templates.js';
import { buildView } from './view.js';
import { runEnv } from '../core/run.js';

/** More per-target failures than this move from the message into a thread reply. */
export const THREAD_THRESHOLD = 5;
/** Failures still shown in the message when the rest go to the thread. */
export const INLINE_WHEN_THREADED = 3;

export const DEFAULT_RETRY: RetryOptions = { retries: 3, factor: 2, minTimeout: 1000, maxTimeout: 10000, randomize: true };

export interface SlackSendOptions {
  environ?: NodeJS.ProcessEnv;
  retryConfig?: RetryOptions;
  timeoutMs?: number;
  /** Render only (for --dry-run): nothing is sent. */
  dryRun?: boolean;
}

export interface SlackRendered {
  mode: 'api' | 'webhook';
  message: SlackPayload;
  thread?: SlackPayload;
}

type Transport = { mode: 'api'; token: string; channel: string } | { mode: 'webhook'; url: string };

/**
 * The whole webhook URL is the credential, but a server or proxy answering an error may echo only its path, or only
 * the token at its end; each is masked too. (A short last segment is not: it would mask ordinary words.)
 */
function registerWebhookUrl(url: string | undefined): void {
  registerSecret(url);
  if (!url) return;
  let u: URL;
  try {
    u = new URL(url);
  } catch (e) {
    // Nothing URL-shaped to mask; sending to it fails with its own message (which the masker still covers).
    log.debug(`slack: the webhook URL is not a URL (${(e as Error).message})`);
    return;
  }
  const path = `${u.pathname}${u.search}`;
  if (path.length > 1) registerSecret(path);
  const tail = u.pathname.split('/').filter(Boolean).pop();
  if (tail && tail.length >= 16) registerSecret(tail);
}

function transportOf(cfg: SlackConfig, environ: NodeJS.ProcessEnv): Transport {
  const token = cfg.tokenEnv ? environ[cfg.tokenEnv]?.trim() : undefined;
  const url = cfg.webhookUrlEnv ? environ[cfg.webhookUrlEnv]?.trim() : undefined;
  registerSecret(token);
  registerWebhookUrl(url);
  if (token) {
    if (!cfg.channel) throw new NotifyError('notify.slack.channel is not set (chat.postMessage needs a channel)');
    return { mode: 'api', token, channel: cfg.channel };
  }
  if (url) {
    if (!/^https?:\/\//.test(url)) throw new NotifyError(`${cfg.webhookUrlEnv} does not hold an http(s) URL`);
    return { mode: 'webhook', url };
  }
  const wanted = [cfg.tokenEnv && `$${cfg.tokenEnv}`, cfg.webhookUrlEnv && `$${cfg.webhookUrlEnv}`].filter(Boolean).join(' or ');
  throw new NotifyError(
    wanted ? `no Slack credentials: ${wanted} is not set (bind it with withCredentials; see \`dify-ci context --step notify\`)` : 'notify.slack needs tokenEnv (bot token) or webhookUrlEnv (incoming webhook)',
  );
}

export function renderSlack(summary: RunSummary, tpl: SlackTemplate, mode: 'api' | 'webhook'): SlackRendered {
  const threaded = mode === 'api' && summary.failures.length > THREAD_THRESHOLD && tpl.thread !== undefined;
  const view = buildView(summary, threaded ? { maxInlineFailures: INLINE_WHEN_THREADED, failuresInThread: true } : {});
  return {
    mode,
    message: renderSlackMessage(tpl.message, view),
    thread: threaded ? renderSlackMessage(tpl.thread!, view) : undefined,
  };
}

/** Silences the client's console logger: our log goes to stderr, and stdout carries data only. */
function slackLogger() {
  let level = 'info';
  const debug = (...m: unknown[]) => log.debug(`slack: ${m.map(String).join(' ')}`);
  return {
    debug,
    info: debug,
    warn: debug,
    error: debug,
    setLevel: (l: string) => void (level = l),
    getLevel: () => level,
    setName: () => undefined,
  };
}

/** Sends; returns a one-line description of what was sent. Throws NotifyError (already masked) on failure. */
export async function sendSlack(summary: RunSummary, cfg: SlackConfig, tpl: SlackTemplate, opts: SlackSendOptions = {}): Promise<{ detail: string; rendered: SlackRendered }> {
  const environ = opts.environ ?? runEnv();
  if (opts.dryRun) {
    // Like a real send: the token wins when set; with neither set, show what the configuration asks for.
    const hasToken = Boolean(cfg.tokenEnv && environ[cfg.tokenEnv]);
    const hasHook = Boolean(cfg.webhookUrlEnv && environ[cfg.webhookUrlEnv]);
    const mode = hasToken || (!hasHook && cfg.tokenEnv) ? 'api' : 'webhook';
    return { detail: 'dry run', rendered: renderSlack(summary, tpl, mode) };
  }
  const t = transportOf(cfg, environ);
  const rendered = renderSlack(summary, tpl, t.mode);
  try {
    if (t.mode === 'webhook') {
      await postWebhook(t.url, rendered.message, opts);
      return { detail: 'posted to the incoming webhook', rendered };
    }
    const client = new WebClient(t.token, {
      slackApiUrl: apiBase(cfg.apiUrl),
      retryConfig: opts.retryConfig ?? DEFAULT_RETRY,
      timeout: opts.timeoutMs ?? 30000,
      logger: slackLogger() as never,
      fetch: notifyFetch as never,
      // A template must not be able to turn a method name into a request elsewhere.
      allowAbsoluteUrls: false,
    });
    client.on(WebClientEvent.RATE_LIMITED, (sec: number) => log.info(`slack: rate limited, retrying in ${sec}s`));
    const first = await client.chat.postMessage({ channel: t.channel, text: rendered.message.text, blocks: rendered.message.blocks as never, unfurl_links: false, unfurl_media: false });
    let detail = `posted to ${t.channel}`;
    if (rendered.thread) {
      const ts = first.ts;
      if (!ts) throw new NotifyError('chat.postMessage answered without a message ts; cannot post the thread reply');
      await client.chat.postMessage({ channel: first.channel ?? t.channel, thread_ts: ts, text: rendered.thread.text, blocks: rendered.thread.blocks as never, unfurl_links: false, unfurl_media: false });
      detail += ` with the failures in a thread (${summary.failures.length})`;
    }
    return { detail, rendered };
  } catch (e) {
    if (e instanceof NotifyError) throw e;
    throw new NotifyError(mask(describeSlackError(e)));
  }
}

function apiBase(url?: string): string {
  const u = url ?? 'https://slack.com/api/';
  return u.endsWith('/') ? u : `${u}/`;
}

function describeSlackError(e: unknown): string {
  const err = e as {
    code?: string;
    data?: { error?: string; response_metadata?: { messages?: string[] } };
    message?: string;
    statusCode?: number;
    statusMessage?: string;
    body?: string | { error?: unknown };
    original?: Error;
  };
  if (err.data?.error) {
    const extra = err.data.response_metadata?.messages?.slice(0, 3).join('; ');
    return `chat.postMessage failed: ${err.data.error}${extra ? ` (${extra})` : ''}`;
  }
  if (err.original?.message) return `cannot reach Slack: ${err.original.message}`;
  // An HTTP error page (a gateway, a proxy) says more than the status code. Masked before it is cut, so that the
  // cut cannot leave a piece of a secret that no longer matches.
  if (typeof err.statusCode === 'number') {
    const body = err.body;
    const said = typeof body === 'string' ? body : typeof body?.error === 'string' ? body.error : body === undefined ? '' : JSON.stringify(body);
    const excerpt = mask(said.replace(/\s+/g, ' ').trim()).slice(0, 200);
    return `Slack answered HTTP ${err.statusCode}${err.statusMessage ? ` ${err.statusMessage}` : ''}${excerpt ? `: ${excerpt}` : ''}`;
  }
  return `Slack: ${err.message ?? String(e)}`;
}

/** Incoming webhooks answer `ok` or an error word (invalid_payload, no_text, …); 429 carries Retry-After. */
export async function postWebhook(url: string, payload: SlackPayload, opts: SlackSendOptions = {}): Promise<void> {
  registerWebhookUrl(url);
  const retries = opts.retryConfig?.retries ?? DEFAULT_RETRY.retries ?? 3;
  const body = JSON.stringify(payload);
  for (let attempt = 0; ; attempt++) {
    let res;
    try {
      res = await notifyFetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body,
        signal: AbortSignal.timeout(opts.timeoutMs ?? 30000),
      });
    } catch (e) {
      throw new NotifyError(mask(`cannot reach the Slack webhook: ${(e as Error).message}`));
    }
    if (res.status === 429 && attempt < retries) {
      const n = Number.parseInt(res.headers.get('retry-after') ?? '', 10);
      const after = Number.isFinite(n) && n >= 0 ? Math.min(n, 30) : 1;
      log.info(`slack: webhook rate limited, retrying in ${after}s`);
      await new Promise((r) => setTimeout(r, after * 1000));
      continue;
    }
    if (res.status >= 200 && res.status < 300) return;
    // Masked whole, then cut: a cut through the echoed URL would leave a piece that no longer matches.
    const text = mask((await res.text()).replace(/\s+/g, ' ').trim()).slice(0, 200);
    throw new NotifyError(mask(`the Slack webhook answered ${res.status}: ${text}`));
  }
}
