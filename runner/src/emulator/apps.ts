/** Console apps (§2), API keys (§6) and chat-mode model configs (§5.4). */
import { ADMINS, EDITORS, authenticate, requireRole, type Principal } from './auth.js';
import type { Core } from './core.js';
import { Ctx, HttpError, appNotFound, invalidParam, json, type Router } from './http.js';
import type { App, WorkflowRow } from './state.js';
import type { AppMode } from './types.js';
import { isObject } from './util.js';

export const APP_MODES: AppMode[] = ['chat', 'agent-chat', 'advanced-chat', 'workflow', 'completion'];
export const WORKFLOW_MODES: AppMode[] = ['workflow', 'advanced-chat'];

export function getApp(core: Core, p: Principal, id: string): App {
  const app = core.store.data.apps[id];
  if (!app || app.workspaceId !== p.workspace.id) throw appNotFound();
  return app;
}

function workflowPartial(w: WorkflowRow | undefined): Record<string, unknown> | null {
  if (!w) return null;
  return { id: w.id, created_by: w.createdBy, created_at: w.createdAt, updated_by: w.updatedBy, updated_at: w.updatedAt };
}

/** The app's Site row (created with the app: `title` = its name, no theme, copyright or privacy policy). */
export function site(core: Core, app: App): Record<string, unknown> {
  return {
    access_token: app.id.replace(/-/g, '').slice(0, 16),
    code: app.id.replace(/-/g, '').slice(0, 16),
    title: app.name,
    icon_type: app.icon_type,
    icon: app.icon,
    icon_background: app.icon_background,
    icon_url: null,
    description: app.description,
    default_language: 'en-US',
    chat_color_theme: null,
    chat_color_theme_inverted: false,
    customize_domain: null,
    copyright: null,
    privacy_policy: null,
    custom_disclaimer: '',
    customize_token_strategy: 'not_allow',
    prompt_public: false,
    app_base_url: core.opts.publicUrl ?? core.url,
    input_placeholder: null,
    show_workflow_steps: true,
    use_icon_as_answer_icon: app.use_icon_as_answer_icon,
    created_by: app.createdBy,
    created_at: app.createdAt,
    updated_by: app.createdBy,
    updated_at: app.updatedAt,
  };
}

export function appPartial(core: Core, app: App): Record<string, unknown> {
  return {
    id: app.id,
    name: app.name,
    max_active_requests: app.max_active_requests,
    description: app.description,
    mode: app.mode,
    icon_type: app.icon_type,
    icon: app.icon,
    icon_background: app.icon_background,
    icon_url: null,
    model_config: app.modelConfig ? { model: app.modelConfig.model ?? null, pre_prompt: app.modelConfig.pre_prompt ?? '', created_by: app.createdBy, created_at: app.createdAt, updated_by: app.createdBy, updated_at: app.updatedAt } : null,
    workflow: workflowPartial(core.store.published(app)),
    use_icon_as_answer_icon: app.use_icon_as_answer_icon,
    created_by: app.createdBy,
    created_at: app.createdAt,
    updated_by: app.createdBy,
    updated_at: app.updatedAt,
    tags: [],
    access_mode: 'public',
    create_user_name: core.appAuthor(app),
    author_name: core.appAuthor(app),
    has_draft_trigger: false,
  };
}

export function appDetail(core: Core, app: App): Record<string, unknown> {
  return {
    id: app.id,
    name: app.name,
    description: app.description,
    mode: app.mode,
    icon_type: app.icon_type,
    icon: app.icon,
    icon_background: app.icon_background,
    icon_url: null,
    enable_site: app.enable_site,
    enable_api: app.enable_api,
    model_config: app.modelConfig ? { ...app.modelConfig, created_by: app.createdBy, created_at: app.createdAt, updated_by: app.createdBy, updated_at: app.updatedAt } : null,
    workflow: workflowPartial(core.store.published(app)),
    tracing: null,
    use_icon_as_answer_icon: app.use_icon_as_answer_icon,
    site: site(core, app),
    api_base_url: core.apiBaseUrl(),
    max_active_requests: app.max_active_requests,
    deleted_tools: [],
    access_mode: 'public',
    tags: [],
    author_name: core.appAuthor(app),
    created_by: app.createdBy,
    created_at: app.createdAt,
    updated_by: app.createdBy,
    updated_at: app.updatedAt,
  };
}

export function newApp(core: Core, p: { workspaceId: string; accountId: string }, fields: Partial<App> & { name: string; mode: AppMode }): App {
  const now = core.clock.nowSec();
  const app: App = {
    id: core.newId(),
    workspaceId: p.workspaceId,
    name: fields.name,
    description: fields.description ?? '',
    mode: fields.mode,
    icon_type: fields.icon_type ?? 'emoji',
    icon: fields.icon ?? '🤖',
    icon_background: fields.icon_background ?? '#FFEAD5',
    use_icon_as_answer_icon: fields.use_icon_as_answer_icon ?? false,
    enable_site: true,
    enable_api: true,
    max_active_requests: null,
    createdBy: p.accountId,
    createdAt: now,
    updatedAt: now,
    modelConfig: fields.modelConfig ?? null,
    workflowId: null,
    draft: null,
    versions: [],
    dependencies: [],
    dependenciesAt: 0,
  };
  core.store.data.apps[app.id] = app;
  return app;
}

/** The model config a freshly created chat/agent-chat/completion app gets (Dify's default template). */
export function defaultModelConfig(mode: AppMode): Record<string, unknown> {
  return {
    model: { provider: 'langgenius/openai/openai', name: 'gpt-4o', mode: mode === 'completion' ? 'completion' : 'chat', completion_params: {} },
    pre_prompt: '',
    prompt_type: 'simple',
    chat_prompt_config: {},
    completion_prompt_config: {},
    user_input_form: mode === 'completion' ? [{ paragraph: { label: 'Query', variable: 'query', required: true, default: '' } }] : [],
    dataset_query_variable: mode === 'completion' ? 'query' : '',
    opening_statement: '',
    suggested_questions: [],
    suggested_questions_after_answer: { enabled: false },
    speech_to_text: { enabled: false },
    text_to_speech: { enabled: false },
    retriever_resource: { enabled: true },
    sensitive_word_avoidance: { enabled: false },
    more_like_this: { enabled: false },
    agent_mode: { enabled: mode === 'agent-chat', strategy: 'function_call', tools: [] },
    dataset_configs: { retrieval_model: 'multiple' },
    file_upload: { image: { enabled: false, number_limits: 3, detail: 'high', transfer_methods: ['remote_url', 'local_file'] } },
  };
}

function intParam(ctx: Ctx, name: string, def: number, min: number, max: number): number {
  const raw = ctx.query.get(name);
  if (raw === null || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw invalidParam(`${name} must be an integer between ${min} and ${max}`);
  return n;
}

function optString(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalidParam(`${key} must be a string`);
  return v;
}

export function listApps(core: Core, ctx: Ctx, workspaceId: string, accountId: string): Record<string, unknown> {
  const page = intParam(ctx, 'page', 1, 1, 99999);
  const limit = intParam(ctx, 'limit', 20, 1, 100);
  const mode = ctx.query.get('mode') ?? 'all';
  if (![...APP_MODES, 'all', 'channel'].includes(mode)) throw invalidParam(`Invalid mode: ${mode}`);
  const name = ctx.query.get('name') ?? '';
  const mine = ctx.query.get('is_created_by_me') === 'true';
  let apps = core.store.appsIn(workspaceId);
  if (mode !== 'all') apps = apps.filter((a) => a.mode === mode);
  if (name) apps = apps.filter((a) => a.name.toLowerCase().includes(name.toLowerCase()));
  if (mine) apps = apps.filter((a) => a.createdBy === accountId);
  apps.sort((a, b) => b.createdAt - a.createdAt || (b.id < a.id ? -1 : 1));
  const total = apps.length;
  const data = apps.slice((page - 1) * limit, page * limit).map((a) => appPartial(core, a));
  return { page, limit, total, has_more: page * limit < total, data };
}

export function registerApps(core: Core, r: Router): void {
  r.add('GET', '/console/api/apps', (ctx) => {
    const p = authenticate(core, ctx);
    return json(200, listApps(core, ctx, p.workspace.id, p.account.id));
  });

  r.add('POST', '/console/api/apps', (ctx) => {
    const p = authenticate(core, ctx);
    requireRole(p, EDITORS);
    const b = ctx.json();
    const name = optString(b, 'name');
    const mode = b.mode;
    if (!name) throw invalidParam('name is required');
    if (typeof mode !== 'string' || !APP_MODES.includes(mode as AppMode)) throw invalidParam(`invalid mode value ${JSON.stringify(mode ?? null)}`);
    const description = optString(b, 'description');
    if (description && description.length > 400) throw invalidParam('Description cannot exceed 400 characters.');
    const app = newApp(core, { workspaceId: p.workspace.id, accountId: p.account.id }, {
      name,
      mode: mode as AppMode,
      description: description ?? '',
      icon_type: optString(b, 'icon_type') ?? 'emoji',
      icon: optString(b, 'icon') ?? '🤖',
      icon_background: optString(b, 'icon_background') ?? '#FFEAD5',
    });
    if (!WORKFLOW_MODES.includes(app.mode)) app.modelConfig = defaultModelConfig(app.mode);
    return json(201, appDetail(core, app));
  });

  r.add('GET', '/console/api/apps/<uuid:id>', (ctx) => {
    const p = authenticate(core, ctx);
    return json(200, appDetail(core, getApp(core, p, ctx.params.id!)));
  });

  r.add('PUT', '/console/api/apps/<uuid:id>', (ctx) => {
    const p = authenticate(core, ctx);
    requireRole(p, EDITORS);
    const app = getApp(core, p, ctx.params.id!);
    const b = ctx.json();
    const name = optString(b, 'name');
    if (!name) throw invalidParam('name is required');
    app.name = name;
    const d = optString(b, 'description');
    if (d !== undefined) {
      if (d.length > 400) throw invalidParam('Description cannot exceed 400 characters.');
      app.description = d;
    }
    app.icon_type = optString(b, 'icon_type') ?? app.icon_type;
    app.icon = optString(b, 'icon') ?? app.icon;
    app.icon_background = optString(b, 'icon_background') ?? app.icon_background;
    if (typeof b.use_icon_as_answer_icon === 'boolean') app.use_icon_as_answer_icon = b.use_icon_as_answer_icon;
    if (b.max_active_requests !== undefined) {
      const m = b.max_active_requests;
      if (m !== null && (typeof m !== 'number' || !Number.isInteger(m) || m < 0)) throw invalidParam('max_active_requests must be a non-negative integer');
      app.max_active_requests = m as number | null;
    }
    app.updatedAt = core.clock.nowSec();
    return json(200, appDetail(core, app));
  });

  r.add('DELETE', '/console/api/apps/<uuid:id>', (ctx) => {
    const p = authenticate(core, ctx);
    requireRole(p, EDITORS);
    const app = getApp(core, p, ctx.params.id!);
    core.store.deleteApp(app.id);
    return { status: 204 };
  });

  r.add('POST', '/console/api/apps/<uuid:id>/api-enable', (ctx) => {
    const p = authenticate(core, ctx);
    const app = getApp(core, p, ctx.params.id!);
    requireRole(p, ADMINS);
    const v = ctx.json().enable_api;
    if (typeof v !== 'boolean') throw invalidParam('enable_api must be a boolean');
    app.enable_api = v;
    return json(200, appDetail(core, app));
  });
  r.add('POST', '/console/api/apps/<uuid:id>/site-enable', (ctx) => {
    const p = authenticate(core, ctx);
    const app = getApp(core, p, ctx.params.id!);
    requireRole(p, EDITORS);
    const v = ctx.json().enable_site;
    if (typeof v !== 'boolean') throw invalidParam('enable_site must be a boolean');
    app.enable_site = v;
    return json(200, appDetail(core, app));
  });

  // ---- API keys (§6, api/controllers/console/apikey.py): failures are flask_restx.abort bodies, not envelopes ----
  const keyView = (k: { id: string; token: string; lastUsedAt: number | null; createdAt: number }) => ({
    id: k.id,
    type: 'app',
    token: k.token,
    last_used_at: k.lastUsedAt,
    created_at: k.createdAt,
  });
  /** `_get_resource`: another workspace's or an unknown app is `404 {"message": "App not found."}`. */
  const keyedApp = (p: Principal, id: string): App => {
    const app = core.store.data.apps[id];
    if (!app || app.workspaceId !== p.workspace.id) throw new HttpError(404, { message: 'App not found.' });
    return app;
  };
  r.add('GET', '/console/api/apps/<uuid:id>/api-keys', (ctx) => {
    const app = keyedApp(authenticate(core, ctx), ctx.params.id!);
    return json(200, { data: core.store.keysOf(app.id).sort((a, b) => a.createdAt - b.createdAt).map(keyView) });
  });
  r.add('POST', '/console/api/apps/<uuid:id>/api-keys', (ctx) => {
    const p = authenticate(core, ctx);
    requireRole(p, EDITORS); // edit_permission_required runs before the view looks the app up
    const app = keyedApp(p, ctx.params.id!);
    if (core.store.keysOf(app.id).length >= 10) {
      throw new HttpError(400, { message: 'Cannot create more than 10 API keys for this resource type.', custom: 'max_keys_exceeded' });
    }
    return json(201, keyView(core.store.addKey(app.id, app.workspaceId, core.clock.nowSec())));
  });
  r.add('DELETE', '/console/api/apps/<uuid:id>/api-keys/<uuid:keyId>', (ctx) => {
    const p = authenticate(core, ctx);
    const app = keyedApp(p, ctx.params.id!);
    requireRole(p, ADMINS);
    const k = core.store.data.apiKeys[ctx.params.keyId!];
    if (!k || k.appId !== app.id) throw new HttpError(404, { message: 'API key not found' });
    core.store.deleteKey(k.id);
    return { status: 204 };
  });

  // ---- model config (§5.4) ----
  r.add('POST', '/console/api/apps/<uuid:id>/model-config', (ctx) => {
    const p = authenticate(core, ctx);
    const app = getApp(core, p, ctx.params.id!);
    if (WORKFLOW_MODES.includes(app.mode)) throw appNotFound();
    requireRole(p, EDITORS);
    const b = ctx.json();
    if (!isObject(b.model)) throw invalidParam('model is required');
    if (typeof (b.model as Record<string, unknown>).provider !== 'string') throw invalidParam('model.provider is required');
    if (typeof (b.model as Record<string, unknown>).name !== 'string') throw invalidParam('model.name is required');
    if (b.user_input_form !== undefined && !Array.isArray(b.user_input_form)) throw invalidParam('user_input_form must be of list type');
    app.modelConfig = b;
    app.updatedAt = core.clock.nowSec();
    return json(200, { result: 'success' });
  });
}

