/**
 * The emulator's data: workspaces, accounts, apps with drafts and published versions, API keys, pending imports,
 * sessions, conversations, datasets. Plain JSON so `--state FILE` can persist it whole (temp + rename).
 */
import { readFileSync, renameSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AppMode, Role } from './types.js';
import { pyDumps } from './pyjson.js';
import { upgradeDataset, type Dataset } from './kb-model.js';
import type { EndUser, MessageRecord, UploadFileRecord, WorkflowRunRecord } from './record-types.js';
import { randomAlnum, randomHex, sha256Hex, uuid } from './util.js';

export interface Workspace {
  id: string;
  name: string;
  createdAt: number;
  status: 'normal' | 'archived';
}
export interface Account {
  id: string;
  name: string;
  email: string;
  password: string;
  createdAt: number;
  currentWorkspaceId: string;
  status: 'active' | 'banned';
  /** IANA zone of the account (statistics days, §12); absent in older state files. */
  timezone?: string;
}

/**
 * Dify sets an account's zone from its interface language (`constants/languages.py`
 * `language_timezone_mapping`): an en-US owner is in America/New_York, not UTC.
 */
export const LANGUAGE_TIMEZONES: Record<string, string> = {
  'en-US': 'America/New_York',
  'zh-Hans': 'Asia/Shanghai',
  'zh-Hant': 'Asia/Taipei',
  'pt-BR': 'America/Sao_Paulo',
  'es-ES': 'Europe/Madrid',
  'fr-FR': 'Europe/Paris',
  'de-DE': 'Europe/Berlin',
  'ja-JP': 'Asia/Tokyo',
  'ko-KR': 'Asia/Seoul',
  'ru-RU': 'Europe/Moscow',
  'it-IT': 'Europe/Rome',
  'uk-UA': 'Europe/Kyiv',
  'vi-VN': 'Asia/Ho_Chi_Minh',
  'ro-RO': 'Europe/Bucharest',
  'pl-PL': 'Europe/Warsaw',
  'hi-IN': 'Asia/Kolkata',
};
export const DEFAULT_TIMEZONE = LANGUAGE_TIMEZONES['en-US']!;
export const accountTimezone = (a: Account): string => a.timezone ?? DEFAULT_TIMEZONE;
export interface Member {
  accountId: string;
  workspaceId: string;
  role: Role;
}
export interface Variable {
  id: string;
  name: string;
  value: unknown;
  value_type: string;
  description: string;
  selector: string[];
}
export interface WorkflowRow {
  id: string;
  appId: string;
  version: string; // 'draft' or a timestamp string
  graph: Record<string, unknown>;
  features: Record<string, unknown>;
  environment_variables: Variable[];
  conversation_variables: Variable[];
  marked_name: string;
  marked_comment: string;
  createdBy: string;
  createdAt: number;
  updatedBy: string | null;
  updatedAt: number;
}
export interface App {
  id: string;
  workspaceId: string;
  name: string;
  description: string;
  mode: AppMode;
  icon_type: string;
  icon: string;
  icon_background: string;
  use_icon_as_answer_icon: boolean;
  enable_site: boolean;
  enable_api: boolean;
  max_active_requests: number | null;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
  modelConfig: Record<string, unknown> | null;
  /** Published workflow id (`app.workflow_id`). */
  workflowId: string | null;
  draft: WorkflowRow | null;
  /** Published versions, oldest first. */
  versions: WorkflowRow[];
  /** `dependencies` of the last import and when they were cached (check-dependencies, 10 min). */
  dependencies: unknown[];
  dependenciesAt: number;
}
export interface ApiKey {
  id: string;
  appId: string;
  workspaceId: string;
  type: 'app' | 'dataset';
  token: string;
  createdAt: number;
  lastUsedAt: number | null;
}
export interface PendingImport {
  id: string;
  accountId: string;
  workspaceId: string;
  expiresAtMs: number;
  yamlContent: string;
  importMode: string;
  name?: string;
  description?: string;
  iconType?: string;
  icon?: string;
  iconBackground?: string;
  appId?: string;
}
export interface Session {
  refreshToken: string;
  accountId: string;
  expiresAtMs: number;
}
export interface ConversationVariableRow {
  id: string;
  name: string;
  value_type: string;
  description: string;
  createdAt: number;
  updatedAt: number;
}
export interface Conversation {
  id: string;
  appId: string;
  /** The end user's `user` value (session id), or the account id of a debugger conversation. */
  user: string;
  /** Set for conversations of the studio's debugger (§13): invisible to the service API. */
  invokeFrom?: 'debugger';
  name: string;
  /** The app's opening statement when the conversation began. */
  introduction: string;
  /** The inputs of the first message. */
  inputs: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
  /** Strictly increasing ms keys: the `created_at`/`updated_at` order of Dify's datetimes, which are finer than seconds. */
  createdKey: number;
  updatedKey: number;
  /** The latest turns (the model's memory, at most 50). */
  turns: { query: string; answer: string }[];
  /** Every message of the conversation, oldest first (records.ts holds them). */
  messageIds: string[];
  /** Conversation variables (advanced-chat): current values by name, and their rows. */
  variables: Record<string, unknown>;
  variableRows: ConversationVariableRow[];
}
export interface OpenApiToken {
  token: string;
  accountId: string;
  expiresAtMs: number;
  label: string;
}
export interface DeviceCode {
  deviceCode: string;
  userCode: string;
  label: string;
  expiresAtMs: number;
  approvedBy?: string;
  consumed?: boolean;
}
export interface StateData {
  version: 1;
  jwtSecret: string;
  workspaces: Record<string, Workspace>;
  accounts: Record<string, Account>;
  members: Member[];
  apps: Record<string, App>;
  apiKeys: Record<string, ApiKey>;
  pendingImports: Record<string, PendingImport>;
  sessions: Record<string, Session>;
  conversations: Record<string, Conversation>;
  openapiTokens: Record<string, OpenApiToken>;
  deviceCodes: Record<string, DeviceCode>;
  datasets: Record<string, Dataset>;
  loginFailures: Record<string, { count: number; untilMs: number }>;
  /** Unix seconds of Dify's setup step (the DifySetup row); null on a fresh instance. */
  setupAt: number | null;
  /** Installed plugins by workspace id or name, `*` = every workspace (plugins.ts). */
  plugins: Record<string, string[]>;
  /** Service-API records (records.ts); end users keyed by `<app id>/<user>`. */
  endUsers: Record<string, EndUser>;
  messages: Record<string, MessageRecord>;
  workflowRuns: Record<string, WorkflowRunRecord>;
  uploadFiles: Record<string, UploadFileRecord>;
}

/** What Dify's `Workflow.unique_hash` covers: graph and features (2024–2025 releases) or the graph only (2026). */
export type DraftHashScope = 'graph+features' | 'graph';

/**
 * Dify's draft hash (`api/models/workflow.py` `unique_hash`, `libs/helper.py` `generate_text_hash`):
 * sha256(json.dumps({"graph": …, "features": …}, sort_keys=True) + "None"), or of `{"graph": …}` on the newest servers.
 */
export function workflowHash(w: { graph: unknown; features: unknown }, scope: DraftHashScope = 'graph+features'): string {
  const entity = scope === 'graph' ? { graph: w.graph } : { graph: w.graph, features: w.features };
  return sha256Hex(pyDumps(entity, { sortKeys: true }) + 'None');
}

export function emptyState(): StateData {
  return {
    version: 1,
    jwtSecret: randomHex(32),
    workspaces: {},
    accounts: {},
    members: [],
    apps: {},
    apiKeys: {},
    pendingImports: {},
    sessions: {},
    conversations: {},
    openapiTokens: {},
    deviceCodes: {},
    datasets: {},
    loginFailures: {},
    setupAt: null,
    plugins: {},
    endUsers: {},
    messages: {},
    workflowRuns: {},
    uploadFiles: {},
  };
}

export class Store {
  data: StateData;
  private keyIndex = new Map<string, ApiKey>();

  constructor(data: StateData = emptyState()) {
    this.data = data;
    this.reindex();
  }

  reindex(): void {
    this.keyIndex.clear();
    for (const k of Object.values(this.data.apiKeys)) this.keyIndex.set(k.token, k);
  }

  // ---- workspaces and accounts ----
  addWorkspace(name: string, nowSec: number, id: string = uuid()): Workspace {
    const ws: Workspace = { id, name, createdAt: nowSec, status: 'normal' };
    this.data.workspaces[ws.id] = ws;
    return ws;
  }
  addAccount(a: { email: string; password: string; name?: string; workspaceId: string; timezone?: string }, nowSec: number): Account {
    const acc: Account = {
      timezone: a.timezone ?? DEFAULT_TIMEZONE,
      id: uuid(),
      name: a.name ?? a.email.split('@')[0]!,
      email: a.email,
      password: a.password,
      createdAt: nowSec,
      currentWorkspaceId: a.workspaceId,
      status: 'active',
    };
    this.data.accounts[acc.id] = acc;
    return acc;
  }
  accountByEmail(email: string): Account | undefined {
    const e = email.trim().toLowerCase();
    return Object.values(this.data.accounts).find((a) => a.email.toLowerCase() === e);
  }
  setMember(accountId: string, workspaceId: string, role: Role): void {
    const m = this.data.members.find((x) => x.accountId === accountId && x.workspaceId === workspaceId);
    if (m) m.role = role;
    else this.data.members.push({ accountId, workspaceId, role });
  }
  roleOf(accountId: string, workspaceId: string): Role | undefined {
    return this.data.members.find((x) => x.accountId === accountId && x.workspaceId === workspaceId)?.role;
  }
  workspacesOf(accountId: string): Workspace[] {
    return this.data.members
      .filter((m) => m.accountId === accountId)
      .map((m) => this.data.workspaces[m.workspaceId])
      .filter((w): w is Workspace => Boolean(w));
  }
  ownerOf(workspaceId: string): Account | undefined {
    const m = this.data.members.find((x) => x.workspaceId === workspaceId && x.role === 'owner');
    return m ? this.data.accounts[m.accountId] : undefined;
  }

  // ---- apps ----
  appsIn(workspaceId: string): App[] {
    return Object.values(this.data.apps).filter((a) => a.workspaceId === workspaceId);
  }
  deleteApp(appId: string): void {
    delete this.data.apps[appId];
    for (const k of Object.values(this.data.apiKeys)) if (k.appId === appId) this.deleteKey(k.id);
    for (const c of Object.values(this.data.conversations)) if (c.appId === appId) delete this.data.conversations[c.id];
    for (const table of [this.data.messages, this.data.workflowRuns, this.data.uploadFiles, this.data.endUsers] as Record<string, { appId: string }>[]) {
      for (const [k, r] of Object.entries(table)) if (r.appId === appId) delete table[k];
    }
  }
  findWorkflow(app: App, id: string): WorkflowRow | undefined {
    if (app.draft?.id === id) return app.draft;
    return app.versions.find((v) => v.id === id);
  }
  published(app: App): WorkflowRow | undefined {
    return app.workflowId ? app.versions.find((v) => v.id === app.workflowId) : undefined;
  }

  // ---- keys ----
  addKey(appId: string, workspaceId: string, nowSec: number, type: 'app' | 'dataset' = 'app'): ApiKey {
    const k: ApiKey = {
      id: uuid(),
      appId,
      workspaceId,
      type,
      token: `${type === 'app' ? 'app-' : 'dataset-'}${randomAlnum(24)}`,
      createdAt: nowSec,
      lastUsedAt: null,
    };
    this.data.apiKeys[k.id] = k;
    this.keyIndex.set(k.token, k);
    return k;
  }
  deleteKey(id: string): void {
    const k = this.data.apiKeys[id];
    if (!k) return;
    delete this.data.apiKeys[id];
    this.keyIndex.delete(k.token);
  }
  keyByToken(token: string): ApiKey | undefined {
    return this.keyIndex.get(token);
  }
  keysOf(appId: string): ApiKey[] {
    return Object.values(this.data.apiKeys).filter((k) => k.appId === appId);
  }

  // ---- persistence ----
  save(path: string): void {
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.data), { mode: 0o600 });
    renameSync(tmp, path);
  }
  static load(path: string): Store | undefined {
    if (!existsSync(path)) return undefined;
    const data = JSON.parse(readFileSync(path, 'utf8')) as StateData;
    if (data?.version !== 1 || typeof data.jwtSecret !== 'string') throw new Error(`${path} is not an emulator state file`);
    const store = new Store({ ...emptyState(), ...data });
    // State files written before conversations had names, messages and variable rows.
    for (const c of Object.values(store.data.conversations)) {
      c.name ??= c.turns[0]?.query.slice(0, 20) ?? 'New conversation';
      c.inputs ??= {};
      c.introduction ??= '';
      c.updatedAt ??= c.createdAt;
      c.createdKey ??= c.createdAt * 1000;
      c.updatedKey ??= c.updatedAt * 1000;
      c.messageIds ??= [];
      c.variableRows ??= [];
    }
    for (const ds of Object.values(store.data.datasets)) upgradeDataset(ds);
    return store;
  }
}
