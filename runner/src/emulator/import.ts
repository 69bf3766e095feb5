/** DSL import (§3): the processing order, pending imports and confirm, check-dependencies (§3.4). */
import type { Core } from './core.js';
import { pyType, versionStatus, type ImportStatus } from './dsl-version.js';
import { syncDraft } from './drafts.js';
import { safeLoad } from './dsl.js';
import { fetchYaml } from './fetch-yaml.js';
import { invalidParam, json, type Reply } from './http.js';
import { WORKFLOW_MODES, newApp } from './apps.js';
import { installedIn, leakedDependencies } from './plugins.js';
import type { App, PendingImport } from './state.js';
import type { AppMode } from './types.js';
import { decryptDatasetId, deepClone, isObject } from './util.js';
import { buildConversationVariables, buildEnvironmentVariables } from './variables.js';

export type { ImportStatus };
const IMPORT_TTL_MS = 600_000;
const DEPENDENCIES_TTL_MS = 600_000;

export interface ImportResult {
  id: string;
  status: ImportStatus;
  app_id: string | null;
  app_mode: string | null;
  current_dsl_version: string;
  imported_dsl_version: string;
  error: string;
}

export interface Actor {
  accountId: string;
  workspaceId: string;
}

/** The Import object of a failure (§3.2): no app, no imported version. */
function failedImport(core: Core, id: string, error: string): ImportResult {
  return { id, status: 'failed', app_id: null, app_mode: null, current_dsl_version: core.opts.dslVersion, imported_dsl_version: '', error };
}

export function importReply(r: ImportResult): Reply {
  return json(r.status === 'failed' ? 400 : r.status === 'pending' ? 202 : 200, r);
}

function validateDependencies(deps: unknown): unknown[] {
  if (deps === undefined || deps === null) return [];
  if (!Array.isArray(deps)) throw new Error('dependencies must be a list');
  deps.forEach((d) => {
    if (!isObject(d) || !['marketplace', 'github', 'package'].includes(String(d.type))) {
      throw new Error(`1 validation error for PluginDependency\ntype\n  Input should be 'github', 'marketplace' or 'package'`);
    }
    if (!isObject(d.value)) throw new Error('1 validation error for PluginDependency\nvalue\n  Input should be a valid dictionary');
  });
  return deps;
}

interface ImportRequest {
  mode?: unknown;
  yaml_content?: unknown;
  yaml_url?: unknown;
  name?: unknown;
  description?: unknown;
  icon_type?: unknown;
  icon?: unknown;
  icon_background?: unknown;
  app_id?: unknown;
}

const optStr = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Drop expired pending imports (Redis lets the keys expire; without this they pile up in memory and --state). */
export function sweepExpiredImports(core: Core): void {
  const now = core.clock.nowMs();
  for (const [id, p] of Object.entries(core.store.data.pendingImports)) if (p.expiresAtMs <= now) delete core.store.data.pendingImports[id];
}

export async function runImport(core: Core, actor: Actor, req: ImportRequest, opts: { rollback: boolean }): Promise<ImportResult> {
  sweepExpiredImports(core);
  const id = core.newId();
  const cur = core.opts.dslVersion;
  const failed = (error: string): ImportResult => failedImport(core, id, error);
  const mode = req.mode;
  if (mode !== 'yaml-content' && mode !== 'yaml-url') throw invalidParam(`Invalid import_mode: ${String(mode ?? 'None')}`);

  let content: string;
  if (mode === 'yaml-url') {
    const url = optStr(req.yaml_url);
    if (!url) return failed('yaml_url is required when import_mode is yaml-url');
    const fetched = await fetchYaml(url);
    if ('error' in fetched) return failed(fetched.error);
    content = fetched.content;
  } else {
    const c = req.yaml_content;
    if (typeof c !== 'string' || c === '') return failed('yaml_content is required when import_mode is yaml-content');
    content = c;
  }

  let data: unknown;
  try {
    data = safeLoad(content);
  } catch (e) {
    return failed(`Invalid YAML format: ${(e as Error).message}`);
  }
  if (!isObject(data)) return failed('Invalid YAML format: content must be a mapping');
  if (!data.version) data.version = '0.1.0';
  if (data.kind !== 'app') data.kind = 'app';
  const imported = data.version;
  if (typeof imported !== 'string') return failed(`Invalid version type, expected str, got ${pyType(imported, content)}`);
  const status = versionStatus(imported, cur);
  if (!data.app) return failed('Missing app data in YAML content');

  const appId = optStr(req.app_id);
  let target: App | undefined;
  if (appId) {
    target = core.store.data.apps[appId];
    if (!target || target.workspaceId !== actor.workspaceId) return failed('App not found');
    if (!WORKFLOW_MODES.includes(target.mode)) return failed('Only workflow or advanced chat apps can be overwritten');
  }

  if (status === 'pending') {
    const p: PendingImport = {
      id,
      accountId: actor.accountId,
      workspaceId: actor.workspaceId,
      expiresAtMs: core.clock.nowMs() + IMPORT_TTL_MS,
      yamlContent: content,
      importMode: mode,
      name: optStr(req.name),
      description: optStr(req.description),
      iconType: optStr(req.icon_type),
      icon: optStr(req.icon),
      iconBackground: optStr(req.icon_background),
      appId,
    };
    core.store.data.pendingImports[id] = p;
    return { id, status, app_id: appId ?? null, app_mode: null, current_dsl_version: cur, imported_dsl_version: imported, error: '' };
  }

  let created: App | undefined;
  try {
    const dependencies = validateDependencies(data.dependencies);
    const res = createOrUpdate(core, actor, target, data, req, dependencies, (a) => (created = a));
    return { id, status, app_id: res.id, app_mode: res.mode, current_dsl_version: cur, imported_dsl_version: imported, error: '' };
  } catch (e) {
    // The console route commits what was written before the error (a stray app); /openapi/v1 rolls back.
    if (opts.rollback && created) core.store.deleteApp(created.id);
    return failed((e as Error).message);
  }
}

function createOrUpdate(
  core: Core,
  actor: Actor,
  existing: App | undefined,
  data: Record<string, unknown>,
  req: ImportRequest,
  dependencies: unknown[],
  onCreate: (a: App) => void,
): App {
  const appData = isObject(data.app) ? data.app : {};
  const modeRaw = appData.mode;
  if (!modeRaw) throw new Error('loss app mode');
  const mode = String(modeRaw) as AppMode;
  if (!['chat', 'agent-chat', 'advanced-chat', 'workflow', 'completion', 'channel', 'rag-pipeline'].includes(mode)) {
    throw new Error(`invalid mode value ${String(modeRaw)}`);
  }
  const iconTypeRaw = optStr(req.icon_type) ?? appData.icon_type;
  const icon_type = ['emoji', 'link', 'image'].includes(String(iconTypeRaw)) ? String(iconTypeRaw) : 'emoji';
  const icon = optStr(req.icon) ?? String(appData.icon ?? '');
  let app: App;
  if (existing) {
    app = existing;
    app.name = optStr(req.name) ?? (typeof appData.name === 'string' ? appData.name : app.name);
    app.description = optStr(req.description) ?? (typeof appData.description === 'string' ? appData.description : app.description);
    app.icon_type = icon_type;
    app.icon = icon;
    app.icon_background = optStr(req.icon_background) ?? (typeof appData.icon_background === 'string' ? appData.icon_background : app.icon_background);
    app.updatedAt = core.clock.nowSec();
  } else {
    app = newApp(core, { workspaceId: actor.workspaceId, accountId: actor.accountId }, {
      name: optStr(req.name) ?? String(appData.name ?? ''),
      mode,
      description: optStr(req.description) ?? String(appData.description ?? ''),
      icon_type,
      icon,
      icon_background: optStr(req.icon_background) ?? String(appData.icon_background ?? '#FFFFFF'),
      use_icon_as_answer_icon: Boolean(appData.use_icon_as_answer_icon ?? false),
    });
    onCreate(app);
  }
  if (dependencies.length > 0) {
    app.dependencies = dependencies;
    app.dependenciesAt = core.clock.nowMs();
  }

  if (WORKFLOW_MODES.includes(mode)) {
    const wf = data.workflow;
    if (!wf || !isObject(wf)) throw new Error('Missing workflow data for workflow/advanced chat app');
    const environment_variables = buildEnvironmentVariables(wf.environment_variables);
    const conversation_variables = buildConversationVariables(wf.conversation_variables);
    const graph = isObject(wf.graph) ? deepClone(wf.graph) : {};
    for (const node of Array.isArray(graph.nodes) ? graph.nodes : []) {
      const nd = isObject(node) && isObject(node.data) ? node.data : undefined;
      if (nd?.type === 'knowledge-retrieval' && Array.isArray(nd.dataset_ids)) {
        nd.dataset_ids = nd.dataset_ids.map((d) => decryptDatasetId(d, app.workspaceId)).filter((d): d is string => Boolean(d));
      }
    }
    syncDraft(core, app, actor.accountId, {
      graph,
      features: isObject(wf.features) ? deepClone(wf.features) : {},
      environment_variables,
      conversation_variables,
    });
  } else if (['chat', 'agent-chat', 'completion'].includes(mode)) {
    const mc = data.model_config;
    if (!mc || !isObject(mc)) throw new Error('Missing model_config for chat/agent-chat/completion app');
    if (!app.modelConfig) app.modelConfig = deepClone(mc);
  } else {
    throw new Error('Invalid app mode');
  }
  return app;
}

export function confirmImport(core: Core, actor: Actor, importId: string): ImportResult {
  const cur = core.opts.dslVersion;
  const failed = (error: string): ImportResult => failedImport(core, importId, error);
  const p = core.store.data.pendingImports[importId];
  if (p && p.expiresAtMs <= core.clock.nowMs()) delete core.store.data.pendingImports[importId];
  // Newer releases bind a pending import to the account and workspace that created it.
  if (!p || p.expiresAtMs <= core.clock.nowMs() || p.workspaceId !== actor.workspaceId || p.accountId !== actor.accountId) {
    return failed('Import information expired or does not exist');
  }
  try {
    const data = safeLoad(p.yamlContent) as Record<string, unknown>;
    let target: App | undefined;
    if (p.appId) {
      target = core.store.data.apps[p.appId];
      if (target && target.workspaceId !== actor.workspaceId) target = undefined;
    }
    const app = createOrUpdate(
      core,
      actor,
      target,
      data,
      { name: p.name, description: p.description, icon_type: p.iconType, icon: p.icon, icon_background: p.iconBackground },
      validateDependencies(data.dependencies),
      () => undefined,
    );
    delete core.store.data.pendingImports[importId];
    return { id: importId, status: 'completed', app_id: app.id, app_mode: app.mode, current_dsl_version: cur, imported_dsl_version: String(data.version ?? '0.1.0'), error: '' };
  } catch (e) {
    return failed((e as Error).message);
  }
}

/** §3.4: the dependencies of the last import (cached 10 min, then nothing) that the app's workspace lacks. */
export function checkDependencies(core: Core, app: App): Record<string, unknown> {
  const fresh = app.dependenciesAt > 0 && core.clock.nowMs() - app.dependenciesAt < DEPENDENCIES_TTL_MS;
  const ws = core.store.data.workspaces[app.workspaceId] ?? { id: app.workspaceId, name: '' };
  return { leaked_dependencies: fresh ? leakedDependencies(app.dependencies, installedIn(core.store.data.plugins, ws)) : [] };
}
