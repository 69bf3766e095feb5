/** What every service-API run shares: script rules, the app concurrency limit (§7.2), SSE streams, socket cuts. */
import type { Core } from './core.js';
import { Ctx, envelope, type Reply } from './http.js';
import type { ActiveFault } from './faults.js';
import { SseStream } from './sse.js';
import type { RunArgs } from './inputs.js';
import type { Usage } from './model.js';
import { endUserOf, type MessageRecord } from './records.js';
import type { App } from './state.js';
import type { ScriptRule } from './types.js';
import { nameGlob } from './util.js';

export function matchScript(core: Core, app: App, text: string): ScriptRule | undefined {
  const ws = core.store.data.workspaces[app.workspaceId];
  for (const c of core.script) {
    const r = c.rule;
    if (r.times !== undefined && c.used >= r.times) continue;
    if (r.app && r.app !== app.id && !nameGlob(r.app).test(app.name)) continue;
    if (r.workspace && r.workspace !== app.workspaceId && !(ws && nameGlob(r.workspace).test(ws.name))) continue;
    if (r.query) {
      let re: RegExp;
      try {
        re = new RegExp(r.query);
      } catch {
        continue;
      }
      if (!re.test(text)) continue;
    }
    c.used++;
    return r;
  }
  return undefined;
}

// ---- concurrency (§7.2 too_many_requests) ----
export function enter(core: Core, app: App): () => void {
  const limit = app.max_active_requests || core.opts.appConcurrencyLimit || 0;
  const cur = core.active.get(app.id) ?? 0;
  if (limit > 0 && cur >= limit) {
    throw envelope(
      429,
      'too_many_requests',
      `Too many requests. Please try again later. The current maximum concurrent requests allowed for ${app.id} is ${limit}.`,
    );
  }
  core.active.set(app.id, cur + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const n = (core.active.get(app.id) ?? 1) - 1;
    if (n <= 0) core.active.delete(app.id);
    else core.active.set(app.id, n);
  };
}

export function scriptLatency(core: Core, s: ScriptRule | undefined): number {
  return s?.latencyMs !== undefined ? s.latencyMs : core.latency();
}

/** `error` is a run-level failure unless the rule fails a node (then it only names the node's error). */
export const runError = (s: ScriptRule | undefined): boolean => Boolean(s?.error) && !s?.nodeFailure;

export function scriptError(s: ScriptRule): { status: number; code: string; message: string } {
  return {
    status: s.error?.status ?? 400,
    code: s.error?.code ?? 'completion_request_error',
    message: s.error?.message ?? 'Scripted model error',
  };
}

/**
 * A run from the studio's debugger (§13, `invoke_from = debugger`): an account instead of an end user, the draft
 * workflow or the `model_config` sent with the call, and no place in the app statistics.
 */
export interface DebugCaller {
  accountId: string;
  /** Chat-family and completion apps: the config to try, for this call only. */
  modelConfig?: Record<string, unknown>;
}

export interface RunEnv {
  core: Core;
  ctx: Ctx;
  fault?: ActiveFault;
  debug?: DebugCaller;
}

/** Who owns the conversation: the end user's `user` value, or the debugging account. */
export const callerKey = (env: RunEnv, args: RunArgs): string => env.debug?.accountId ?? args.user;

export function openStream(env: RunEnv): SseStream {
  const f = env.fault?.rule;
  const s = new SseStream(env.ctx.res, {
    pingIntervalMs: env.core.opts.pingIntervalMs,
    slowMs: f?.slowSseMs,
    style: env.core.opts.sseJson,
    destroyAfter: f?.truncate ? 1 : undefined,
    malformed: f?.malformed,
  });
  env.ctx.streaming = true;
  s.start();
  return s;
}

/** Blocking replies honour scripted socket cuts. */
export function cutSocket(ctx: Ctx): Reply {
  ctx.streaming = true;
  ctx.res.destroy();
  return { status: 0 };
}

/** The message row a finished chat-family or completion call leaves (records.ts). */
export function messageRecord(
  env: RunEnv,
  app: App,
  args: RunArgs,
  m: { id: string; conversationId: string | null; answer: string; inputs: Record<string, unknown>; createdAt: number; usage: Usage; workflowRunId: string | null; error?: string },
): MessageRecord {
  return {
    id: m.id,
    appId: app.id,
    conversationId: m.conversationId,
    endUserId: env.debug ? '' : endUserOf(env.core, app, args.user).id,
    invokeFrom: env.debug ? 'debugger' : 'service-api',
    fromAccountId: env.debug?.accountId ?? null,
    status: m.error === undefined ? 'normal' : 'error',
    error: m.error ?? null,
    query: args.query,
    answer: m.answer,
    inputs: m.inputs,
    createdAt: m.createdAt,
    messageTokens: m.usage.prompt_tokens,
    answerTokens: m.usage.completion_tokens,
    totalPrice: m.usage.total_price,
    latency: m.usage.latency,
    workflowRunId: m.workflowRunId,
    feedback: null,
  };
}
