/**
 * App statistics of the console (§12; `controllers/console/app/statistic.py`, `workflow_statistic.py`), computed
 * from what the emulator served: message rows of chat-family/completion apps and workflow runs. Like Dify's SQL:
 * debugger messages (`invoke_from = debugger`) and debugger runs (`triggered_from = debugging`) are left out, days
 * are the account's local days, a day without rows is absent, and each body is Flask `jsonify` output.
 */
import { authenticate, type Principal } from './auth.js';
import { getApp } from './apps.js';
import type { Core } from './core.js';
import type { Router } from './http.js';
import { avgQuantized, priceUnits, pyRound, unitsToPrice } from './pynum.js';
import type { MessageRecord, WorkflowRunRecord } from './records.js';
import type { App } from './state.js';
import { accountTimezone } from './state.js';
import { byDay, inRange, jsonify, modeNotSupported, timeRange, type TimeRange } from './stat-query.js';

type Row = Record<string, unknown>;
const CHAT_FAMILY = ['chat', 'agent-chat', 'advanced-chat'];

/** The service's messages of the app in the range (`invoke_from != debugger`). */
function messages(core: Core, app: App, r: TimeRange): MessageRecord[] {
  return Object.values(core.store.data.messages).filter((m) => m.appId === app.id && m.invokeFrom !== 'debugger' && inRange(r, m.createdAt));
}

/** Workflow runs with `triggered_from = app-run`. */
function runs(core: Core, app: App, r: TimeRange): WorkflowRunRecord[] {
  return Object.values(core.store.data.workflowRuns).filter((w) => w.appId === app.id && (w.triggeredFrom ?? 'app-run') === 'app-run' && inRange(r, w.createdAt));
}

const distinct = <T>(items: T[]): number => new Set(items.filter((x) => x !== null && x !== undefined && x !== '')).size;
/** A completion message has a conversation of its own in Dify (one per message). */
const conversationOf = (m: MessageRecord): string => m.conversationId ?? m.id;
const latencySum = (ms: MessageRecord[]): number => ms.reduce((s, m) => s + (m.latency ?? 0), 0);

const MESSAGE_STATS: Record<string, { modes?: string[]; row: (day: MessageRecord[], core: Core) => Row }> = {
  'daily-messages': { row: (d) => ({ message_count: d.length }) },
  'daily-conversations': { row: (d) => ({ conversation_count: distinct(d.map(conversationOf)) }) },
  'daily-end-users': { row: (d) => ({ terminal_count: distinct(d.map((m) => m.endUserId)) }) },
  'token-costs': {
    row: (d) => ({
      token_count: d.reduce((s, m) => s + m.messageTokens + m.answerTokens, 0),
      total_price: unitsToPrice(d.reduce((s, m) => s + priceUnits(m.totalPrice), 0n)),
      currency: 'USD',
    }),
  },
  'user-satisfaction-rate': {
    row: (d) => ({ rate: pyRound((d.filter((m) => m.feedback?.rating === 'like').length * 1000) / d.length, 2) }),
  },
  'average-response-time': {
    modes: ['completion'],
    row: (d) => ({ latency: pyRound((latencySum(d) / d.length) * 1000, 4) }),
  },
  'tokens-per-second': {
    row: (d) => {
      const lat = latencySum(d);
      return { tps: lat === 0 ? 0 : pyRound(d.reduce((s, m) => s + m.answerTokens, 0) / lat, 4) };
    },
  },
};

const RUN_STATS: Record<string, { modes?: string[]; rows: (all: WorkflowRunRecord[], tz: string) => Row[] }> = {
  'daily-conversations': { rows: (all, tz) => byDay(all, tz, (w) => w.createdAt).map(([date, d]) => ({ date, runs: d.length })) },
  'daily-terminals': { rows: (all, tz) => byDay(all, tz, (w) => w.createdAt).map(([date, d]) => ({ date, terminal_count: distinct(d.map((w) => w.endUserId)) })) },
  'token-costs': { rows: (all, tz) => byDay(all, tz, (w) => w.createdAt).map(([date, d]) => ({ date, token_count: d.reduce((s, w) => s + w.totalTokens, 0) })) },
  'average-app-interactions': {
    modes: ['workflow'],
    // Runs per (day, creator), averaged per day. Dify's query has no ORDER BY; the emulator sorts by date.
    rows: (all, tz) =>
      byDay(all, tz, (w) => w.createdAt).map(([date, d]) => {
        const perUser = new Map<string, number>();
        for (const w of d) perUser.set(w.endUserId, (perUser.get(w.endUserId) ?? 0) + 1);
        return { date, interactions: avgQuantized(d.length, perUser.size) };
      }),
  },
};

/** `AVG(messages per conversation)` grouped by the conversation's creation day (range on its creation too). */
function sessionInteractions(core: Core, app: App, r: TimeRange, tz: string): Row[] {
  const convs = core.store.data.conversations;
  const perConv = new Map<string, number>();
  for (const m of Object.values(core.store.data.messages)) {
    if (m.appId !== app.id || m.invokeFrom === 'debugger' || !m.conversationId) continue;
    const c = convs[m.conversationId];
    if (!c || !inRange(r, c.createdAt)) continue;
    perConv.set(c.id, (perConv.get(c.id) ?? 0) + 1);
  }
  const list = [...perConv.entries()].map(([id, n]) => ({ created: convs[id]!.createdAt, n }));
  return byDay(list, tz, (x) => x.created).map(([date, d]) => ({ date, interactions: avgQuantized(d.reduce((s, x) => s + x.n, 0), d.length) }));
}

export function registerStatistics(core: Core, r: Router): void {
  /** `get_app_model(mode=…)` after login; the range in the account's time zone. */
  const scope = (p: Principal, id: string, modes: string[] | undefined): App => {
    const app = getApp(core, p, id);
    if (modes && !modes.includes(app.mode)) throw modeNotSupported(modes);
    return app;
  };
  for (const [name, stat] of Object.entries(MESSAGE_STATS)) {
    r.add('GET', `/console/api/apps/<uuid:id>/statistics/${name}`, (ctx) => {
      const p = authenticate(core, ctx);
      const app = scope(p, ctx.params.id!, stat.modes);
      const tz = accountTimezone(p.account);
      const days = byDay(messages(core, app, timeRange(ctx.query, tz)), tz, (m) => m.createdAt);
      return jsonify({ data: days.map(([date, d]) => ({ date, ...stat.row(d, core) })) });
    });
  }
  r.add('GET', '/console/api/apps/<uuid:id>/statistics/average-session-interactions', (ctx) => {
    const p = authenticate(core, ctx);
    const app = scope(p, ctx.params.id!, CHAT_FAMILY);
    const tz = accountTimezone(p.account);
    return jsonify({ data: sessionInteractions(core, app, timeRange(ctx.query, tz), tz) });
  });
  for (const [name, stat] of Object.entries(RUN_STATS)) {
    r.add('GET', `/console/api/apps/<uuid:id>/workflow/statistics/${name}`, (ctx) => {
      const p = authenticate(core, ctx);
      const app = scope(p, ctx.params.id!, stat.modes);
      const tz = accountTimezone(p.account);
      return jsonify({ data: stat.rows(runs(core, app, timeRange(ctx.query, tz)), tz) });
    });
  }
}
