/** DSL import (§3), confirm, check-dependencies and export (§4), shared by the console and /openapi/v1. */
import { BoundedCache, plainJson } from '../core/plain-json.js';
import { dumpPyYaml } from '../yaml/pyyaml-dump.js';
import { loadPyYaml } from '../yaml/pyyaml-load.js';
import type { Core } from './core.js';
import { HttpError, invalidParam, json, type Reply } from './http.js';
import { WORKFLOW_MODES, newApp } from './apps.js';
import type { App, PendingImport, WorkflowRow } from './state.js';
import type { AppMode } from './types.js';
import { decryptDatasetId, deepClone, encryptDatasetId, isObject } from './util.js';
import { buildConversationVariables, buildEnvironmentVariables, variableView } from './variables.js';

export const DSL_MAX_SIZE = 10 * 1024 * 1024;
const IMPORT_TTL_MS = 600_000;
const DEPENDENCIES_TTL_MS = 600_000;

export type ImportStatus = 'completed' | 'completed-with-warnings' | 'pending' | 'failed';
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

export function importReply(r: ImportResult): Reply {
  return json(r.status === 'failed' ? 400 : r.status === 'pending' ? 202 : 200, r);
}

/**
 * PyYAML `safe_load` semantics: YAML 1.1 with PyYAML's resolvers (unquoted 0.6 is a float, yes/no are booleans but
 * y/n stay strings), duplicate keys allowed (last wins), unknown tags rejected.
 */
export function safeLoad(text: string): unknown {
  // A fan-out imports the same DSL text into hundreds of apps: parse each text once and hand out deep copies
  // (structuredClone keeps Dates, binary and shared alias references as toJS made them). Errors are not cached.
  const cacheable = text.length <= CACHE_MAX_CHARS && !text.includes('__proto__');
  if (cacheable) {
    const hit = loadCache.get(text);
    if (hit) return structuredClone(hit.value);
  }
  // PyYAML exactly (`=` and `<<` values refused, 08257 a string); a date stops it too (Dify: json.dumps fails).
  const loaded = loadPyYaml(text);
  const problem = loaded.issues.find((i) => i.kind !== 'duplicate-key' && i.type !== 'big-int');
  if (problem) throw new YamlError(problem.message);
  const value = loaded.value;
  if (cacheable && value !== null && typeof value === 'object') {
    try {
      loadCache.set(text, { value: structuredClone(value) });
    } catch {
      // not cloneable: parsed again next time
    }
  }
  return value;
}
export class YamlError extends Error {}

/** Parse and dump caches: few entries (one per distinct DSL in flight), each at most 256 KB of text. */
const CACHE_MAX_CHARS = 256 * 1024;
const loadCache = new BoundedCache<{ value: unknown }>(64);
const dumpCache = new BoundedCache<string>(64);

/** `yaml.dump(…, allow_unicode=True)`: keys sorted; 1.1 quoting so PyYAML reads every scalar back unchanged. */
export function dumpYaml(value: unknown): string {
  // Exports of unchanged apps repeat: dump each distinct (plain) value once.
  const key = plainJson(value, CACHE_MAX_CHARS);
  const hit = key === undefined ? undefined : dumpCache.get(key);
  if (hit !== undefined) return hit;
  const text = dumpPyYaml(value, { sortKeys: true });
  return key === undefined ? text : dumpCache.set(key, text);
}

// ---- PEP 440-ish versions, as packaging.version.parse for the forms DSL files use ----
interface Ver {
  release: number[];
  pre: number; // 0 = final; negative = pre-release rank
}
export function parseVersion(s: string): Ver | undefined {
  const m = /^\s*v?(\d+(?:\.\d+)*)(?:[-_.]?(a|alpha|b|beta|c|rc|pre|preview)[-_.]?(\d*))?(?:[-_.]?(post|rev|r)[-_.]?\d*)?(?:[-_.]?dev[-_.]?\d*)?(?:\+[a-z0-9.]+)?\s*$/i.exec(s);
  if (!m) return undefined;
  const release = m[1]!.split('.').map(Number);
  const preTag = m[2]?.toLowerCase();
  const pre = preTag ? -(preTag.startsWith('a') ? 3 : preTag.startsWith('b') ? 2 : 1) : 0;
  return { release, pre };
}
function cmpVer(a: Ver, b: Ver): number {
  const n = Math.max(a.release.length, b.release.length);
  for (let i = 0; i < n; i++) {
    const d = (a.release[i] ?? 0) - (b.release[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.pre - b.pre;
}

export function versionStatus(imported: string, current: string): ImportStatus {
  const i = parseVersion(imported);
  const c = parseVersion(current);
  if (!i || !c) return 'failed';
  if (cmpVer(i, c) > 0) return 'pending';
  if ((i.release[0] ?? 0) < (c.release[0] ?? 0)) return 'pending';
  if ((i.release[1] ?? 0) < (c.release[1] ?? 0)) return 'completed-with-warnings';
  return 'completed';
}

function pyType(v: unknown, content: string): string {
  if (typeof v === 'number') {
    // JS numbers lose int vs float; look at how the top-level `version:` was written.
    const raw = /^version:[ \t]*([^\s#]+)/m.exec(content)?.[1] ?? '';
    return Number.isInteger(v) && /^[-+]?(0|[1-9][0-9_]*|0[0-7_]+|0x[0-9a-f_]+|0b[01_]+)$/i.test(raw) ? "<class 'int'>" : "<class 'float'>";
  }
  if (typeof v === 'boolean') return "<class 'bool'>";
  if (Array.isArray(v)) return "<class 'list'>";
  if (v instanceof Date) return "<class 'datetime.date'>";
  if (isObject(v)) return "<class 'dict'>";
  return "<class 'NoneType'>";
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
  const failed = (error: string, extra: Partial<ImportResult> = {}): ImportResult => ({
    id,
    status: 'failed',
    app_id: null,
    app_mode: null,
    current_dsl_version: cur,
    imported_dsl_version: '',
    error,
    ...extra,
  });
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

async function fetchYaml(rawUrl: string): Promise<{ content: string } | { error: string }> {
  let url = rawUrl.trim();
  try {
    const u = new URL(url);
    if (u.protocol === 'https:' && u.host === 'github.com' && /\.ya?ml$/.test(u.pathname)) {
      url = url.replace('https://github.com', 'https://raw.githubusercontent.com').replace('/blob/', '/');
    }
    const res = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(10_000) });
    if (!res.ok) return { error: `Error fetching YAML from URL: Client error '${res.status} ${res.statusText}' for url '${url}'` };
    const bytes = await readCapped(res, DSL_MAX_SIZE);
    // Dify compares the byte length (before decoding): multibyte text reaches the limit with fewer characters.
    if (!bytes) return { error: 'File size exceeds the limit of 10MB' };
    const content = new TextDecoder('utf-8').decode(bytes);
    if (!content) return { error: 'Empty content from url' };
    return { content };
  } catch (e) {
    return { error: `Error fetching YAML from URL: ${(e as Error).message}` };
  }
}

/** The body, or undefined as soon as it grows past `max` bytes (the rest is never downloaded). */
async function readCapped(res: Response, max: number): Promise<Uint8Array | undefined> {
  // Content-Length is only the decoded size when no Content-Encoding applies (fetch inflates gzip).
  const declared = res.headers.has('content-encoding') ? NaN : Number(res.headers.get('content-length') ?? NaN);
  if (declared > max) {
    await res.body?.cancel().catch(() => undefined);
    return undefined;
  }
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}

export function newDraft(core: Core, app: App, accountId: string, fields: Partial<WorkflowRow>): WorkflowRow {
  const now = core.clock.nowSec();
  return {
    id: core.newId(),
    appId: app.id,
    version: 'draft',
    graph: fields.graph ?? {},
    features: fields.features ?? {},
    environment_variables: fields.environment_variables ?? [],
    conversation_variables: fields.conversation_variables ?? [],
    marked_name: '',
    marked_comment: '',
    createdBy: accountId,
    createdAt: now,
    updatedBy: null,
    updatedAt: now,
  };
}

/** Replace (or create) the draft: Dify's sync_draft_workflow. */
export function syncDraft(core: Core, app: App, accountId: string, fields: Pick<WorkflowRow, 'graph' | 'features' | 'environment_variables' | 'conversation_variables'>): WorkflowRow {
  if (!app.draft) app.draft = newDraft(core, app, accountId, fields);
  else {
    Object.assign(app.draft, fields);
    app.draft.updatedBy = accountId;
    app.draft.updatedAt = core.clock.nowSec();
  }
  app.updatedAt = core.clock.nowSec();
  return app.draft;
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
  const failed = (error: string): ImportResult => ({
    id: importId,
    status: 'failed',
    app_id: null,
    app_mode: null,
    current_dsl_version: cur,
    imported_dsl_version: '',
    error,
  });
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

export function checkDependencies(core: Core, app: App): Record<string, unknown> {
  const fresh = app.dependenciesAt > 0 && core.clock.nowMs() - app.dependenciesAt < DEPENDENCIES_TTL_MS;
  const leaked = fresh
    ? app.dependencies.map((d) => ({ type: (d as Record<string, unknown>).type, value: (d as Record<string, unknown>).value, current_identifier: null }))
    : [];
  return { leaked_dependencies: leaked };
}

// ---- export ----
export class ExportError extends Error {}

function scrubWorkflow(app: App, w: WorkflowRow, includeSecret: boolean): Record<string, unknown> {
  const graph = deepClone(w.graph);
  for (const node of Array.isArray(graph.nodes) ? graph.nodes : []) {
    const nd = isObject(node) && isObject(node.data) ? node.data : undefined;
    if (!nd) continue;
    if (nd.type === 'knowledge-retrieval' && Array.isArray(nd.dataset_ids)) {
      nd.dataset_ids = nd.dataset_ids.map((d) => encryptDatasetId(String(d), app.workspaceId));
    }
    if (!includeSecret && nd.type === 'tool') delete nd.credential_id;
    if (!includeSecret && nd.type === 'agent') {
      const tools = (nd.agent_parameters as { tools?: { value?: unknown } } | undefined)?.tools?.value;
      if (Array.isArray(tools)) for (const t of tools) if (isObject(t)) delete t.credential_id;
    }
    if (nd.type === 'trigger-webhook') {
      if ('webhook_url' in nd) nd.webhook_url = '';
      if ('webhook_debug_url' in nd) nd.webhook_debug_url = '';
    }
    if (nd.type === 'trigger-plugin' && 'subscription_id' in nd) nd.subscription_id = '';
  }
  return {
    graph,
    features: deepClone(w.features),
    environment_variables: w.environment_variables.map((v) => {
      const view = variableView(v, false);
      if (v.value_type === 'secret' && !includeSecret) view.value = '';
      return view;
    }),
    conversation_variables: w.conversation_variables.map((v) => variableView(v, false)),
    rag_pipeline_variables: [],
  };
}

export function exportDsl(core: Core, app: App, includeSecret: boolean, workflowId?: string): string {
  const out: Record<string, unknown> = {
    version: core.opts.dslVersion,
    kind: 'app',
    app: {
      name: app.name,
      mode: app.mode,
      icon: app.icon_type === 'image' ? '🤖' : app.icon,
      icon_background: app.icon_type === 'image' ? '#FFEAD5' : app.icon_background,
      description: app.description,
      use_icon_as_answer_icon: app.use_icon_as_answer_icon,
    },
  };
  if (WORKFLOW_MODES.includes(app.mode)) {
    const w = workflowId ? app.versions.find((v) => v.id === workflowId) : app.draft ?? undefined;
    if (!w) throw new ExportError('Missing draft workflow configuration, please check.');
    out.workflow = scrubWorkflow(app, w, includeSecret);
    out.dependencies = deepClone(app.dependencies);
  } else {
    if (!app.modelConfig) throw invalidParam('Missing app configuration, please check.');
    const mc = deepClone(app.modelConfig);
    const tools = (mc.agent_mode as { tools?: unknown } | undefined)?.tools;
    if (Array.isArray(tools)) for (const t of tools) if (isObject(t)) delete t.credential_id;
    out.model_config = mc;
    out.dependencies = deepClone(app.dependencies);
  }
  return dumpYaml(out);
}

export function exportReply(core: Core, app: App, includeSecret: boolean, workflowId: string | undefined, missingStatus: 404 | 500): Reply {
  try {
    return json(200, { data: exportDsl(core, app, includeSecret, workflowId) });
  } catch (e) {
    if (e instanceof ExportError) {
      if (missingStatus === 500) throw new HttpError(500, { message: 'Internal Server Error', code: 'unknown', status: 500 });
      throw new HttpError(404, { code: 'not_found', message: e.message, status: 404 });
    }
    throw e;
  }
}

