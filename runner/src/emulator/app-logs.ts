/**
 * Workflow app logs (`services/workflow_app_service.py` `get_paginate_workflow_app_logs`): one row per workflow run of
 * a workflow app made through the service API or the web app — never the debugger's (the generate pipeline writes
 * no log for `invoke_from = debugger`). Served as `GET /v1/workflows/logs` (workflow-runs.ts) and, for the console,
 * `GET /console/api/apps/{id}/workflow-app-logs` (`controllers/console/app/workflow_app_log.py`).
 */
import { authenticate } from './auth.js';
import { getApp } from './apps.js';
import type { Core } from './core.js';
import { invalidParam, json, type Router } from './http.js';
import { intParam, literalParam } from './params.js';
import { pyDumps } from './pyjson.js';
import { DEFAULT_USER, type EndUser, type WorkflowRunRecord } from './records.js';
import type { App } from './state.js';
import { modeNotSupported } from './stat-query.js';

const STATUSES = ['succeeded', 'failed', 'stopped', 'partial-succeeded'] as const;

function logView(r: WorkflowRunRecord, user: EndUser | undefined): Record<string, unknown> {
  return {
    id: r.logId,
    workflow_run: {
      id: r.id,
      version: r.version,
      status: r.status,
      error: r.error,
      elapsed_time: r.elapsedTime,
      total_tokens: r.totalTokens,
      total_steps: r.totalSteps,
      created_at: r.createdAt,
      finished_at: r.finishedAt,
      exceptions_count: r.exceptionsCount,
      triggered_from: 'app-run',
    },
    created_from: 'service-api',
    created_by_role: 'end_user',
    created_by_account: null,
    created_by_end_user: user ? { id: user.id, type: 'service_api', is_anonymous: user.sessionId === DEFAULT_USER, session_id: user.sessionId } : null,
    created_at: r.createdAt,
    details: null,
  };
}

/** `dateutil.parser.isoparse`, enough for the forms clients send; Unix seconds. */
function isoSeconds(v: string | null, name: string): number | undefined {
  if (v === null || v === '') return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}([T ]\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?$/.test(v) ? Date.parse(/[Zz]|[+-]\d{2}:?\d{2}$/.test(v) ? v : `${v.replace(' ', 'T')}Z`) : NaN;
  if (Number.isNaN(ms)) throw invalidParam(`${name}: invalid ISO 8601 timestamp '${v}'`);
  return Math.floor(ms / 1000);
}

/** The query both routes share: status, keyword, time window, end-user session, account; newest first, paged. */
export function appLogPage(core: Core, app: App, q: URLSearchParams, model: string): Record<string, unknown> {
  const status = literalParam(q.get('status') || null, STATUSES, undefined, 'status', model);
  const page = intParam(q, 'page', 1, 1, 99999, model);
  const limit = intParam(q, 'limit', 20, 1, 100, model);
  const before = isoSeconds(q.get('created_at__before'), 'created_at__before');
  const after = isoSeconds(q.get('created_at__after'), 'created_at__after');
  const keyword = (q.get('keyword') ?? '').toLowerCase();
  const session = q.get('created_by_end_user_session_id');
  const account = q.get('created_by_account');
  if (account && !core.store.accountByEmail(account)) throw invalidParam(`Account not found: ${account}`);
  const users = new Map(Object.values(core.store.data.endUsers).filter((u) => u.appId === app.id).map((u) => [u.id, u]));
  const rows = Object.values(core.store.data.workflowRuns)
    .filter((run) => run.appId === app.id && run.logId !== null)
    .filter((run) => !status || run.status === status)
    .filter((run) => (before === undefined || run.createdAt < before) && (after === undefined || run.createdAt > after))
    .filter((run) => !session || users.get(run.endUserId)?.sessionId === session)
    // Logged runs are never an account's (the debugger writes no log): filtering by one leaves nothing.
    .filter(() => !account)
    .filter((run) => !keyword || `${pyDumps(run.inputs)}\n${pyDumps(run.outputs)}\n${users.get(run.endUserId)?.sessionId ?? ''}`.toLowerCase().includes(keyword))
    .reverse()
    .sort((a, b) => b.createdAt - a.createdAt);
  const total = rows.length;
  const data = rows.slice((page - 1) * limit, page * limit).map((run) => logView(run, users.get(run.endUserId)));
  return { page, limit, total, has_more: total > page * limit, data };
}

export function registerConsoleAppLogs(core: Core, r: Router): void {
  r.add('GET', '/console/api/apps/<uuid:id>/workflow-app-logs', (ctx) => {
    const p = authenticate(core, ctx);
    const app = getApp(core, p, ctx.params.id!);
    if (app.mode !== 'workflow') throw modeNotSupported(['workflow']);
    return json(200, appLogPage(core, app, ctx.query, 'WorkflowAppLogQuery'));
  });
}
