/**
 * The service API (§7): `/v1` routes of an app key — metadata (info, parameters, meta) and the runs (chat,
 * completion, workflow; blocking and streaming, §7.6), stop endpoints, conversations.
 */
import { appAuth } from './api-key-auth.js';
import { WORKFLOW_MODES, site } from './apps.js';
import { registerConversations } from './conversations.js';
import type { Core } from './core.js';
import type { ActiveFault } from './faults.js';
import { Ctx, appUnavailable, envelope, json, notChatApp, notWorkflowApp, type Reply, type Router } from './http.js';
import { parseArgs, requireUser, workflowForm } from './inputs.js';
import { registerFiles } from './files.js';
import { registerMessages } from './messages.js';
import { runEasyApp } from './run-chat.js';
import { runWorkflowLike } from './run-workflow.js';
import type { RunEnv } from './runs.js';
import type { App } from './state.js';
import { registerWorkflowRuns } from './workflow-runs.js';

/** `GET /v1/site` (`service_api/app/site.py`, `build_site_model`): these fields of the app's Site. */
const SITE_FIELDS = ['title', 'chat_color_theme', 'chat_color_theme_inverted', 'icon_type', 'icon', 'icon_background', 'icon_url', 'description', 'copyright', 'privacy_policy', 'input_placeholder', 'custom_disclaimer', 'default_language', 'show_workflow_steps', 'use_icon_as_answer_icon'];

function parameters(core: Core, app: App): Record<string, unknown> {
  let features: Record<string, unknown>;
  let form: unknown[];
  if (WORKFLOW_MODES.includes(app.mode)) {
    const w = core.store.published(app);
    if (!w) throw appUnavailable();
    features = w.features;
    form = workflowForm(w).map((v) => ({ [String(v.type ?? 'text-input')]: v }));
  } else {
    if (!app.modelConfig) throw appUnavailable();
    features = app.modelConfig;
    form = Array.isArray(app.modelConfig.user_input_form) ? app.modelConfig.user_input_form : [];
  }
  const f = (k: string, d: unknown): unknown => (features[k] === undefined ? d : features[k]);
  return {
    opening_statement: f('opening_statement', null),
    suggested_questions: f('suggested_questions', []),
    suggested_questions_after_answer: f('suggested_questions_after_answer', { enabled: false }),
    speech_to_text: f('speech_to_text', { enabled: false }),
    text_to_speech: f('text_to_speech', { enabled: false }),
    retriever_resource: f('retriever_resource', { enabled: false }),
    annotation_reply: f('annotation_reply', { enabled: false }),
    more_like_this: f('more_like_this', { enabled: false }),
    user_input_form: form,
    sensitive_word_avoidance: f('sensitive_word_avoidance', { enabled: false, type: '', configs: [] }),
    file_upload: f('file_upload', { image: { enabled: false, number_limits: 3, detail: 'high', transfer_methods: ['remote_url', 'local_file'] } }),
    system_parameters: {
      image_file_size_limit: 10,
      video_file_size_limit: 100,
      audio_file_size_limit: 50,
      file_size_limit: 15,
      workflow_file_upload_limit: 10,
    },
  };
}

export function registerService(core: Core, r: Router, faultOf: (ctx: Ctx) => ActiveFault | undefined): void {
  r.add('GET', '/v1/info', (ctx) => {
    const { app } = appAuth(core, ctx);
    return json(200, { name: app.name, description: app.description, tags: [], mode: app.mode, author_name: core.appAuthor(app) });
  });
  r.add('GET', '/v1/parameters', (ctx) => json(200, parameters(core, appAuth(core, ctx).app)));
  r.add('GET', '/v1/meta', (ctx) => {
    appAuth(core, ctx);
    return json(200, { tool_icons: {} });
  });

  r.add('POST', '/v1/chat-messages', (ctx) => {
    const { app } = appAuth(core, ctx);
    requireUser(ctx);
    if (!['chat', 'agent-chat', 'advanced-chat'].includes(app.mode)) throw notChatApp();
    const args = parseArgs(ctx, 'chat', 'ChatRequestPayload');
    const env = { core, ctx, fault: faultOf(ctx) };
    return app.mode === 'advanced-chat' ? runWorkflowLike(env, app, args, args.workflowId) : runEasyApp(env, app, args, 'chat');
  });
  r.add('POST', '/v1/completion-messages', (ctx) => {
    const { app } = appAuth(core, ctx);
    requireUser(ctx);
    if (app.mode !== 'completion') throw envelope(400, 'not_completion_app', 'Please check if your Completion app mode matches the right API route.');
    const args = parseArgs(ctx, 'completion', 'CompletionRequestPayload');
    return runEasyApp({ core, ctx, fault: faultOf(ctx) }, app, args, 'completion');
  });
  r.add('POST', '/v1/workflows/run', (ctx) => {
    const { app } = appAuth(core, ctx);
    requireUser(ctx);
    if (app.mode !== 'workflow') throw notWorkflowApp();
    const args = parseArgs(ctx, 'workflow', 'WorkflowRunPayload');
    return runWorkflowLike({ core, ctx, fault: faultOf(ctx) }, app, args, undefined);
  });
  r.add('POST', '/v1/workflows/:workflowId/run', (ctx) => {
    const { app } = appAuth(core, ctx);
    requireUser(ctx);
    if (app.mode !== 'workflow') throw notWorkflowApp();
    const args = parseArgs(ctx, 'workflow', 'WorkflowRunPayload');
    return runWorkflowLike({ core, ctx, fault: faultOf(ctx) }, app, args, ctx.params.workflowId);
  });
  const stop = (ctx: Ctx): Reply => {
    appAuth(core, ctx);
    requireUser(ctx);
    return json(200, { result: 'success' });
  };
  r.add('POST', '/v1/chat-messages/:taskId/stop', stop);
  r.add('POST', '/v1/completion-messages/:taskId/stop', stop);
  r.add('POST', '/v1/workflows/tasks/:taskId/stop', stop);

  r.add('GET', '/v1/site', (ctx) => {
    const s = site(core, appAuth(core, ctx).app);
    return json(200, Object.fromEntries(SITE_FIELDS.map((k) => [k, s[k] ?? null])));
  });

  registerConversations(core, r);
  registerMessages(core, r);
  registerFiles(core, r);
  registerWorkflowRuns(core, r);
}

/** `/openapi/v1/apps/{id}:run`: the same runs, streaming unless `response_mode` says otherwise. */
export function runDirect(env: RunEnv, app: App): Promise<Reply | void> {
  const b = env.ctx.json();
  if (b.user === undefined || b.user === null || b.user === '') b.user = 'openapi';
  if (b.response_mode === undefined) b.response_mode = 'streaming';
  if (b.inputs === undefined) b.inputs = {};
  if (app.mode === 'workflow') return runWorkflowLike(env, app, parseArgs(env.ctx, 'workflow', 'AppRunPayload'), undefined);
  if (app.mode === 'completion') return runEasyApp(env, app, parseArgs(env.ctx, 'completion', 'AppRunPayload'), 'completion');
  const args = parseArgs(env.ctx, 'chat', 'AppRunPayload');
  return app.mode === 'advanced-chat' ? runWorkflowLike(env, app, args, args.workflowId) : runEasyApp(env, app, args, 'chat');
}
