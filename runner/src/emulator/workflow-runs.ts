/**
 * Workflow runs of the service API (`api/controllers/service_api/app/workflow.py`): every run of a workflow or
 * advanced-chat app is kept; `GET /v1/workflows/run/{id}` reads one back, `GET /v1/workflows/logs` pages the app
 * logs Dify writes for workflow apps (`services/workflow_app_service.py`), newest first.
 */
import { appAuth } from './api-key-auth.js';
import { WORKFLOW_MODES } from './apps.js';
import type { Core } from './core.js';
import { envelope, invalidParam, json, notWorkflowApp, type Router } from './http.js';
import { intParam, literalParam } from './params.js';
import { pyDumps } from './pyjson.js';
import { DEFAULT_USER, rememberRun, type EndUser, type WorkflowRunRecord } from './records.js';
import type { App, WorkflowRow } from './state.js';
import { uuid } from './util.js';

/** Stores a finished run from its `workflow_finished` data. */
export function recordRun(core: Core, app: App, wf: WorkflowRow, r: { id: string; inputs: Record<string, unknown>; data: Record<string, unknown>; endUserId: string }): void {
  const d = r.data;
  rememberRun(core, {
    id: r.id,
    appId: app.id,
    workflowId: wf.id,
    version: wf.version,
    status: d.status as WorkflowRunRecord['status'],
    inputs: r.inputs,
    outputs: (d.outputs as Record<string, unknown>) ?? {},
    error: (d.error as string | null) ?? null,
    totalSteps: Number(d.total_steps ?? 0),
    totalTokens: Number(d.total_tokens ?? 0),
    exceptionsCount: Number(d.exceptions_count ?? 0),
    createdAt: Number(d.created_at),
    finishedAt: Number(d.finished_at),
    elapsedTime: Number(d.elapsed_time ?? 0),
    endUserId: r.endUserId,
    logId: app.mode === 'workflow' ? uuid() : null,
  });
}

/** `workflow_run_fields`: `inputs` is the stored JSON text, as Dify returns it. */
function runView(r: WorkflowRunRecord): Record<string, unknown> {
  return {
    id: r.id,
    workflow_id: r.workflowId,
    status: r.status,
    inputs: pyDumps(r.inputs),
    outputs: r.outputs,
    error: r.error,
    total_steps: r.totalSteps,
    total_tokens: r.totalTokens,
    created_at: r.createdAt,
    finished_at: r.finishedAt,
    elapsed_time: r.elapsedTime,
  };
}

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

export function registerWorkflowRuns(core: Core, r: Router): void {
  r.add('GET', '/v1/workflows/run/:runId', (ctx) => {
    const { app } = appAuth(core, ctx);
    if (!WORKFLOW_MODES.includes(app.mode)) throw notWorkflowApp();
    const run = core.store.data.workflowRuns[ctx.params.runId!.toLowerCase()];
    if (!run || run.appId !== app.id) throw envelope(404, 'not_found', 'Workflow run not found.');
    return json(200, runView(run));
  });

  r.add('GET', '/v1/workflows/logs', (ctx) => {
    const { app } = appAuth(core, ctx);
    const q = ctx.query;
    const M = 'WorkflowLogQuery';
    const status = literalParam(q.get('status') || null, ['succeeded', 'failed', 'stopped'] as const, undefined, 'status', M);
    const page = intParam(q, 'page', 1, 1, 99999, M);
    const limit = intParam(q, 'limit', 20, 1, 100, M);
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
      // Service-API runs are never an account's: filtering by one leaves nothing.
      .filter(() => !account)
      .filter((run) => !keyword || `${pyDumps(run.inputs)}\n${pyDumps(run.outputs)}\n${users.get(run.endUserId)?.sessionId ?? ''}`.toLowerCase().includes(keyword))
      .reverse()
      .sort((a, b) => b.createdAt - a.createdAt);
    const total = rows.length;
    const data = rows.slice((page - 1) * limit, page * limit).map((run) => logView(run, users.get(run.endUserId)));
    return json(200, { page, limit, total, has_more: total > page * limit, data });
  });
}
