/**
 * Workflow runs of the service API (`api/controllers/service_api/app/workflow.py`): every run of a workflow or
 * advanced-chat app is kept; `GET /v1/workflows/run/{id}` reads one back, `GET /v1/workflows/logs` pages the app
 * logs Dify writes for workflow apps (app-logs.ts), newest first.
 */
import { appAuth } from './api-key-auth.js';
import { WORKFLOW_MODES } from './apps.js';
import type { Core } from './core.js';
import { appLogPage } from './app-logs.js';
import { envelope, json, notWorkflowApp, type Router } from './http.js';
import { pyDumps } from './pyjson.js';
import { rememberRun, type WorkflowRunRecord } from './records.js';
import type { App, WorkflowRow } from './state.js';
import { uuid } from './util.js';

/** Stores a finished run from its `workflow_finished` data. */
export function recordRun(
  core: Core,
  app: App,
  wf: WorkflowRow,
  r: { id: string; inputs: Record<string, unknown>; data: Record<string, unknown>; endUserId: string; debuggerRun?: boolean },
): void {
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
    triggeredFrom: r.debuggerRun ? 'debugging' : 'app-run',
    createdByRole: r.debuggerRun ? 'account' : 'end_user',
    // Workflow apps log every run except the debugger's (advanced-chat apps log none).
    logId: app.mode === 'workflow' && !r.debuggerRun ? uuid() : null,
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

export function registerWorkflowRuns(core: Core, r: Router): void {
  r.add('GET', '/v1/workflows/run/:runId', (ctx) => {
    const { app } = appAuth(core, ctx);
    if (!WORKFLOW_MODES.includes(app.mode)) throw notWorkflowApp();
    const run = core.store.data.workflowRuns[ctx.params.runId!.toLowerCase()];
    if (!run || run.appId !== app.id) throw envelope(404, 'not_found', 'Workflow run not found.');
    return json(200, runView(run));
  });

  r.add('GET', '/v1/workflows/logs', (ctx) => json(200, appLogPage(core, appAuth(core, ctx).app, ctx.query, 'WorkflowLogQuery')));
}
