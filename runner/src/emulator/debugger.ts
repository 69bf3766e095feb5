/**
 * The studio's debugger (§13): draft runs of workflow and chatflow apps and chat/completion calls with a candidate
 * `model_config`, all with `invoke_from = debugger` — the draft (not the published version), the calling account
 * instead of an end user, no place in the statistics or the app logs. Sources: `controllers/console/app/workflow.py`
 * (`DraftWorkflowRunApi`, `AdvancedChatDraftWorkflowRunApi`, `WorkflowTaskStopApi`), `completion.py`
 * (`ChatMessageApi`, `CompletionMessageApi`, the stop routes), `services/app_generate_service.py`.
 */
import { EDITORS, authenticate, requireRole, type Principal } from './auth.js';
import { getApp } from './apps.js';
import type { Core } from './core.js';
import type { ActiveFault } from './faults.js';
import { Ctx, invalidParam, json, type Router } from './http.js';
import { parseArgs, type RunArgs } from './inputs.js';
import { validationError } from './params.js';
import { runEasyApp } from './run-chat.js';
import { runWorkflowLike } from './run-workflow.js';
import type { RunEnv } from './runs.js';
import type { App } from './state.js';
import { modeNotSupported } from './stat-query.js';
import { isObject, isUuid } from './util.js';

/** `get_app_model(mode=…)`: the app of the account's workspace in one of these modes. */
function appIn(core: Core, p: Principal, id: string, modes: string[]): App {
  const app = getApp(core, p, id);
  if (!modes.includes(app.mode)) throw modeNotSupported(modes);
  return app;
}

/** The candidate config (`ChatAppConfigManager.config_validate`, the checks a client trips over); {} = the saved one. */
function candidateConfig(raw: unknown, model: string): Record<string, unknown> | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) validationError(model, 'model_config', 'Input should be a valid dictionary');
  if (Object.keys(raw).length === 0) return undefined;
  if (!('model' in raw)) throw invalidParam('model is required');
  if (!isObject(raw.model)) throw invalidParam('model must be of object type');
  if (typeof raw.model.provider !== 'string' || !raw.model.provider) throw invalidParam('model.provider is required');
  if (typeof raw.model.name !== 'string' || !raw.model.name) throw invalidParam('model.name is required');
  if (raw.user_input_form !== undefined && !Array.isArray(raw.user_input_form)) throw invalidParam('user_input_form must be of list type');
  // "always enable retriever resource in debugger mode"
  return { ...raw, retriever_resource: { enabled: true } };
}

/** `parent_message_id` is validated like `conversation_id` (`uuid_value`). */
function checkParent(b: Record<string, unknown>, model: string): void {
  const v = b.parent_message_id;
  if (v !== undefined && v !== null && !isUuid(v)) validationError(model, 'parent_message_id', `Value error, ${String(v)} is not a valid uuid.`);
}

export function registerDebugger(core: Core, r: Router, faultOf: (ctx: Ctx) => ActiveFault | undefined): void {
  const env = (ctx: Ctx, p: Principal, modelConfig?: Record<string, unknown>): RunEnv => ({
    core,
    ctx,
    fault: faultOf(ctx),
    debug: { accountId: p.account.id, modelConfig },
  });
  const forUser = (args: RunArgs, p: Principal): RunArgs => ({ ...args, user: p.account.id, autoGenerateName: false });

  // Workflow draft run: streaming is forced (AppGenerateService.generate(..., streaming=True)).
  r.add('POST', '/console/api/apps/<uuid:id>/workflows/draft/run', (ctx) => {
    const p = authenticate(core, ctx);
    const app = appIn(core, p, ctx.params.id!, ['workflow']);
    requireRole(p, EDITORS);
    const args = parseArgs(ctx, 'workflow', 'DraftWorkflowRunPayload');
    return runWorkflowLike(env(ctx, p), app, { ...forUser(args, p), streaming: true }, undefined);
  });

  // Chatflow draft run: streaming forced; `query` must not be empty (AdvancedChatAppGenerator).
  r.add('POST', '/console/api/apps/<uuid:id>/advanced-chat/workflows/draft/run', (ctx) => {
    const p = authenticate(core, ctx);
    const app = appIn(core, p, ctx.params.id!, ['advanced-chat']);
    requireRole(p, EDITORS);
    const M = 'AdvancedChatWorkflowRunPayload';
    const b = ctx.json();
    if (b.inputs === undefined || b.inputs === null) b.inputs = {};
    if (b.query === undefined || b.query === null) b.query = '';
    checkParent(b, M);
    const args = parseArgs(ctx, 'chat', M);
    if (!args.query) throw invalidParam('query is required');
    return runWorkflowLike(env(ctx, p), app, { ...forUser(args, p), streaming: true }, undefined);
  });

  // Chat and agent-chat with the candidate model_config; edit permission is checked before the app is looked up.
  r.add('POST', '/console/api/apps/<uuid:id>/chat-messages', (ctx) => {
    const p = authenticate(core, ctx);
    requireRole(p, EDITORS);
    const app = appIn(core, p, ctx.params.id!, ['chat', 'agent-chat']);
    const M = 'ChatMessagePayload';
    const b = ctx.json();
    checkParent(b, M);
    const args = parseArgs(ctx, 'chat', M);
    return runEasyApp(env(ctx, p, candidateConfig(b.model_config, M)), app, forUser(args, p), 'chat');
  });

  r.add('POST', '/console/api/apps/<uuid:id>/completion-messages', (ctx) => {
    const p = authenticate(core, ctx);
    const app = appIn(core, p, ctx.params.id!, ['completion']);
    requireRole(p, EDITORS);
    const M = 'CompletionMessagePayload';
    const args = parseArgs(ctx, 'completion', M);
    return runEasyApp(env(ctx, p, candidateConfig(ctx.json().model_config, M)), app, forUser(args, p), 'completion');
  });

  // Stops answer success whether or not the task still runs (a stop flag in Redis).
  const stop = (path: string, modes: string[], edit: boolean): void => {
    r.add('POST', `/console/api/apps/<uuid:id>/${path}`, (ctx) => {
      const p = authenticate(core, ctx);
      appIn(core, p, ctx.params.id!, modes);
      if (edit) requireRole(p, EDITORS);
      return json(200, { result: 'success' });
    });
  };
  stop('workflow-runs/tasks/:taskId/stop', ['advanced-chat', 'workflow'], true);
  stop('chat-messages/:taskId/stop', ['chat', 'agent-chat', 'advanced-chat'], false);
  stop('completion-messages/:taskId/stop', ['completion'], false);
}
