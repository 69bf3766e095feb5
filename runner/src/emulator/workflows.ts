/** Draft, publish, versions and restore (§5), plus the console import/export routes (§3, §4). */
import { EDITORS, authenticate, requireRole, type Principal } from './auth.js';
import { WORKFLOW_MODES, getApp } from './apps.js';
import type { Core } from './core.js';
import { syncDraft } from './drafts.js';
import { exportReply } from './export.js';
import { checkDependencies, confirmImport, importReply, runImport } from './import.js';
import { Ctx, HttpError, appNotFound, envelope, invalidParam, json, type Router } from './http.js';
import type { App, WorkflowRow } from './state.js';
import { deepClone, isObject } from './util.js';
import { VariableError, buildConversationVariables, buildEnvironmentVariables, mergeSecrets, variableView } from './variables.js';

function workflowApp(core: Core, p: Principal, id: string): App {
  const app = getApp(core, p, id);
  if (!WORKFLOW_MODES.includes(app.mode)) throw appNotFound();
  return app;
}

function accountRef(core: Core, id: string | null): Record<string, unknown> | null {
  if (!id) return null;
  const a = core.store.data.accounts[id];
  return a ? { id: a.id, name: a.name, email: a.email } : { id, name: '', email: '' };
}

export function workflowView(core: Core, w: WorkflowRow): Record<string, unknown> {
  return {
    id: w.id,
    graph: w.graph,
    features: w.features,
    hash: core.hashOf(w),
    version: w.version,
    marked_name: w.marked_name,
    marked_comment: w.marked_comment,
    created_by: accountRef(core, w.createdBy),
    created_at: w.createdAt,
    updated_by: accountRef(core, w.updatedBy),
    updated_at: w.updatedAt,
    tool_published: false,
    environment_variables: w.environment_variables.map((v) => variableView(v, true)),
    conversation_variables: w.conversation_variables.map((v) => variableView(v, false)),
    rag_pipeline_variables: [],
  };
}

function boolParam(ctx: Ctx, name: string): boolean {
  const v = (ctx.query.get(name) ?? '').toLowerCase();
  return v === 'true' || v === '1' || v === 'yes' || v === 'on';
}

export function registerWorkflows(core: Core, r: Router): void {
  const draftPath = '/console/api/apps/<uuid:id>/workflows/draft';
  r.add('GET', draftPath, (ctx) => {
    const p = authenticate(core, ctx);
    const app = workflowApp(core, p, ctx.params.id!);
    if (!app.draft) throw envelope(404, 'draft_workflow_not_exist', 'Draft workflow need to be initialized.');
    return json(200, workflowView(core, app.draft));
  });

  r.add('POST', draftPath, (ctx) => {
    const p = authenticate(core, ctx);
    const app = workflowApp(core, p, ctx.params.id!);
    requireRole(p, EDITORS);
    const ct = (ctx.header('content-type') ?? '').toLowerCase();
    if (!ct.includes('application/json') && !ct.includes('text/plain')) {
      throw envelope(415, 'unsupported_media_type', 'The server does not support the media type transmitted in the request.');
    }
    const b = ctx.json();
    if (!isObject(b.graph)) throw invalidParam('graph is required and must be an object');
    if (!isObject(b.features)) throw invalidParam('features is required and must be an object');
    let env, conv;
    try {
      env = buildEnvironmentVariables(b.environment_variables ?? []);
      conv = buildConversationVariables(b.conversation_variables ?? []);
    } catch (e) {
      if (e instanceof VariableError) throw invalidParam(e.message);
      throw e;
    }
    if (app.draft && core.hashOf(app.draft) !== b.hash) {
      throw envelope(409, 'draft_workflow_not_sync', 'Workflow graph might have been modified, please refresh and resubmit.');
    }
    env = mergeSecrets(env, app.draft?.environment_variables ?? []);
    const w = syncDraft(core, app, p.account.id, { graph: deepClone(b.graph), features: deepClone(b.features), environment_variables: env, conversation_variables: conv });
    return json(200, { result: 'success', hash: core.hashOf(w), updated_at: w.updatedAt });
  });

  r.add('POST', '/console/api/apps/<uuid:id>/workflows/publish', (ctx) => {
    const p = authenticate(core, ctx);
    const app = workflowApp(core, p, ctx.params.id!);
    requireRole(p, EDITORS);
    const b = ctx.json();
    const name = b.marked_name ?? '';
    const comment = b.marked_comment ?? '';
    if (typeof name !== 'string' || name.length > 20) throw invalidParam('Marked name cannot exceed 20 characters');
    if (typeof comment !== 'string' || comment.length > 100) throw invalidParam('Marked comment cannot exceed 100 characters');
    if (!app.draft) throw invalidParam('No valid workflow found.');
    const now = core.clock.nowSec();
    const row: WorkflowRow = {
      ...deepClone(app.draft),
      id: core.newId(),
      version: core.clock.pyTimestamp(),
      marked_name: name,
      marked_comment: comment,
      createdBy: p.account.id,
      createdAt: now,
      updatedBy: null,
      updatedAt: now,
    };
    app.versions.push(row);
    app.workflowId = row.id;
    app.updatedAt = now;
    return json(200, { result: 'success', created_at: now });
  });

  r.add('GET', '/console/api/apps/<uuid:id>/workflows/publish', (ctx) => {
    const p = authenticate(core, ctx);
    const app = workflowApp(core, p, ctx.params.id!);
    const w = core.store.published(app);
    return json(200, w ? workflowView(core, w) : null);
  });

  r.add('GET', '/console/api/apps/<uuid:id>/workflows', (ctx) => {
    const p = authenticate(core, ctx);
    const app = workflowApp(core, p, ctx.params.id!);
    const page = Number(ctx.query.get('page') ?? 1);
    const limit = Number(ctx.query.get('limit') ?? 10);
    if (!Number.isInteger(page) || page < 1 || page > 99999) throw invalidParam('page must be between 1 and 99999');
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalidParam('limit must be between 1 and 100');
    const userId = ctx.query.get('user_id') ?? '';
    const namedOnly = boolParam(ctx, 'named_only');
    // get_all_published_workflow (api/services/workflow_service.py): nothing before the first publish; then every
    // row of the app — the draft too, which sorts first — by `version` descending, has_more = one more row exists.
    let items: WorkflowRow[] = [];
    if (app.workflowId) {
      const newestFirst = [...app.versions].reverse();
      items = [...(app.draft ? [app.draft] : []), ...newestFirst].sort((a, b) => (a.version < b.version ? 1 : a.version > b.version ? -1 : 0));
    }
    if (userId) items = items.filter((w) => w.createdBy === userId);
    if (namedOnly) items = items.filter((w) => w.marked_name !== '');
    const slice = items.slice((page - 1) * limit, page * limit);
    return json(200, { items: slice.map((w) => workflowView(core, w)), page, limit, has_more: items.length > page * limit });
  });

  const versionPath = '/console/api/apps/<uuid:id>/workflows/:wid';
  r.add('PATCH', versionPath, (ctx) => {
    const p = authenticate(core, ctx);
    const app = workflowApp(core, p, ctx.params.id!);
    requireRole(p, EDITORS);
    const b = ctx.json();
    const upd: Partial<WorkflowRow> = {};
    if (typeof b.marked_name === 'string') {
      if (b.marked_name.length > 20) throw invalidParam('Marked name cannot exceed 20 characters');
      upd.marked_name = b.marked_name;
    }
    if (typeof b.marked_comment === 'string') {
      if (b.marked_comment.length > 100) throw invalidParam('Marked comment cannot exceed 100 characters');
      upd.marked_comment = b.marked_comment;
    }
    if (Object.keys(upd).length === 0) throw new HttpError(400, { message: 'No valid fields to update' });
    const w = app.versions.find((v) => v.id === ctx.params.wid);
    if (!w) throw envelope(404, 'not_found', 'Workflow not found.');
    Object.assign(w, upd, { updatedBy: p.account.id, updatedAt: core.clock.nowSec() });
    return json(200, workflowView(core, w));
  });
  r.add('DELETE', versionPath, (ctx) => {
    const p = authenticate(core, ctx);
    const app = workflowApp(core, p, ctx.params.id!);
    requireRole(p, EDITORS);
    const wid = ctx.params.wid!;
    if (app.draft?.id === wid) throw envelope(400, 'bad_request', 'Cannot delete draft workflow versions');
    if (app.workflowId === wid) throw envelope(400, 'bad_request', 'Cannot delete workflow that is currently in use by app');
    const i = app.versions.findIndex((v) => v.id === wid);
    if (i < 0) throw envelope(404, 'not_found', 'Workflow not found.');
    app.versions.splice(i, 1);
    return { status: 204 };
  });

  r.add('POST', '/console/api/apps/<uuid:id>/workflows/:wid/restore', (ctx) => {
    const p = authenticate(core, ctx);
    const app = workflowApp(core, p, ctx.params.id!);
    requireRole(p, EDITORS);
    const wid = ctx.params.wid!;
    if (app.draft?.id === wid) throw envelope(400, 'bad_request', 'source workflow must be published');
    const src = app.versions.find((v) => v.id === wid);
    if (!src) throw envelope(404, 'not_found', 'Workflow not found.');
    const w = syncDraft(core, app, p.account.id, {
      graph: deepClone(src.graph),
      features: deepClone(src.features),
      environment_variables: deepClone(src.environment_variables),
      conversation_variables: deepClone(src.conversation_variables),
    });
    return json(200, { result: 'success', hash: core.hashOf(w), updated_at: w.updatedAt });
  });

  // ---- imports and export ----
  r.add('POST', '/console/api/apps/imports', async (ctx) => {
    const p = authenticate(core, ctx);
    requireRole(p, EDITORS);
    const res = await runImport(core, { accountId: p.account.id, workspaceId: p.workspace.id }, ctx.json(), { rollback: false });
    return importReply(res);
  });
  r.add('POST', '/console/api/apps/imports/:importId/confirm', (ctx) => {
    const p = authenticate(core, ctx);
    requireRole(p, EDITORS);
    return importReply(confirmImport(core, { accountId: p.account.id, workspaceId: p.workspace.id }, ctx.params.importId!));
  });
  r.add('GET', '/console/api/apps/imports/:id/check-dependencies', (ctx) => {
    const p = authenticate(core, ctx);
    requireRole(p, EDITORS);
    return json(200, checkDependencies(core, getApp(core, p, ctx.params.id!)));
  });
  r.add('GET', '/console/api/apps/<uuid:id>/export', (ctx) => {
    const p = authenticate(core, ctx);
    requireRole(p, EDITORS);
    const app = getApp(core, p, ctx.params.id!);
    return exportReply(core, app, boolParam(ctx, 'include_secret'), ctx.query.get('workflow_id') || undefined, 500);
  });
}
