/**
 * Service-API conversations (`api/controllers/service_api/app/conversation.py`, `services/conversation_service.py`):
 * the model a chat run keeps (turns, messages, conversation variables) and the routes that list, rename and delete
 * conversations and read and write their variables. Every route is for chat modes (`not_chat_app` otherwise) and
 * sees only the end user's own conversations.
 */
import { appAuth } from './api-key-auth.js';
import type { Core } from './core.js';
import { Ctx, envelope, invalidParam, json, notChatApp, type Router } from './http.js';
import { intParam, literalParam, modelError, uuidParam, validationError } from './params.js';
import { pyDumps } from './pyjson.js';
import { endUserOf, rememberMessage, type MessageRecord } from './records.js';
import type { App, Conversation, Variable } from './state.js';
import { isObject, uuid } from './util.js';
import { typeMatches } from './variables.js';

export const CHAT_MODES = ['chat', 'agent-chat', 'advanced-chat'];
const NEW_NAME = 'New conversation';

let lastKey = 0;
/** The next ordering key: the clock in ms, bumped so that two changes in one ms keep their order. */
const nextKey = (core: Core): number => (lastKey = Math.max(core.clock.nowMs(), lastKey + 1));

function touch(core: Core, c: Conversation): void {
  c.updatedAt = core.clock.nowSec();
  c.updatedKey = nextKey(core);
}

/** The caller's conversation: an end user's (service API) or an account's in the debugger, never the other kind. */
export function getConversation(core: Core, app: App, user: string, id: string, debuggerRun = false): Conversation {
  const c = core.store.data.conversations[id];
  if (!c || c.appId !== app.id || c.user !== user || (c.invokeFrom === 'debugger') !== debuggerRun) throw envelope(404, 'not_found', 'Conversation Not Exists.');
  return c;
}

/** A conversation that exists once its first turn is saved; advanced-chat passes its conversation variables. */
export function newConversation(core: Core, app: App, user: string, opts: { variables?: Variable[]; introduction?: unknown; debuggerRun?: boolean } = {}): Conversation {
  const now = core.clock.nowSec();
  const vars = opts.variables ?? [];
  return {
    id: uuid(),
    appId: app.id,
    user,
    ...(opts.debuggerRun ? { invokeFrom: 'debugger' as const } : {}),
    name: NEW_NAME,
    introduction: typeof opts.introduction === 'string' ? opts.introduction : '',
    inputs: {},
    createdAt: now,
    updatedAt: now,
    createdKey: nextKey(core),
    updatedKey: 0,
    turns: [],
    messageIds: [],
    variables: Object.fromEntries(vars.map((v) => [v.name, v.value])),
    // Dify copies each variable of the workflow into the conversation, keeping the variable's id.
    variableRows: vars.map((v) => ({ id: v.id, name: v.name, value_type: v.value_type, description: v.description, createdAt: now, updatedAt: now })),
  };
}

/** The name Dify's generator would give from the first query (deterministic here: its first 20 characters). */
const generatedName = (c: Conversation): string => c.turns[0]?.query.slice(0, 20) || NEW_NAME;

const MAX_CONVERSATIONS = 10_000;
let conversationWrites = 0;

/**
 * Saves a finished turn: the message record, the memory, the name (`auto_generate_name`), `updated_at`. A failed
 * call's message (status `error`) stays in the history but not in the model's memory.
 */
export function saveTurn(core: Core, c: Conversation, m: MessageRecord, autoName = true): void {
  rememberMessage(core, m);
  if (c.turns.length === 0 && c.messageIds.length === 0) c.inputs = m.inputs;
  if (m.status !== 'error') {
    c.turns.push({ query: m.query, answer: m.answer });
    if (c.turns.length > 50) c.turns.shift();
  }
  c.messageIds.push(m.id);
  if (autoName && c.name === NEW_NAME && c.turns.length > 0) c.name = generatedName(c);
  touch(core, c);
  const all = core.store.data.conversations;
  all[c.id] = c;
  // Benchmarks create a conversation per call: keep memory (and the state file) bounded, oldest first out.
  if (++conversationWrites % 1000 === 0) {
    const ids = Object.keys(all);
    for (const id of ids.slice(0, Math.max(0, ids.length - MAX_CONVERSATIONS))) delete all[id];
  }
}

/** `SimpleConversation`. */
function conversationView(c: Conversation): Record<string, unknown> {
  return { id: c.id, name: c.name, inputs: c.inputs, status: 'normal', introduction: c.introduction, created_at: c.createdAt, updated_at: c.updatedAt };
}

/** A conversation variable as Dify marshals it: the value as a string (JSON for other types). */
function variableView(c: Conversation, row: Conversation['variableRows'][number]): Record<string, unknown> {
  const v = c.variables[row.name];
  return {
    id: row.id,
    name: row.name,
    value_type: row.value_type,
    value: typeof v === 'string' ? v : pyDumps(v ?? null),
    description: row.description,
    created_at: row.createdAt,
    updated_at: row.updatedAt,
  };
}

/** `SegmentType.infer_segment_type`, for the type-mismatch message. */
function inferType(v: unknown): string {
  if (v === null || v === undefined) return 'none';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'boolean';
  if (Array.isArray(v)) {
    const kinds = new Set(v.map(inferType));
    return kinds.size === 1 ? `array[${[...kinds][0]}]` : 'array[any]';
  }
  return 'object';
}

type SortBy = 'created_at' | '-created_at' | 'updated_at' | '-updated_at';

export function registerConversations(core: Core, r: Router): void {
  /** validate_app_token with the user from the query or the JSON body, then the chat-mode check. */
  const chatAuth = (ctx: Ctx, userFrom: 'query' | 'json'): { app: App; user: string; body: Record<string, unknown> } => {
    const { app } = appAuth(core, ctx);
    const body = userFrom === 'json' ? ctx.jsonStrict() : {};
    const raw = userFrom === 'json' ? body.user : ctx.query.get('user');
    const user = endUserOf(core, app, typeof raw === 'string' || typeof raw === 'number' ? String(raw) : undefined).sessionId;
    if (!CHAT_MODES.includes(app.mode)) throw notChatApp();
    return { app, user, body };
  };

  r.add('GET', '/v1/conversations', (ctx) => {
    const { app, user } = chatAuth(ctx, 'query');
    const M = 'ConversationListQuery';
    const lastId = uuidParam(ctx.query.get('last_id'), 'last_id', M);
    const limit = intParam(ctx.query, 'limit', 20, 1, 100, M);
    const sortBy = literalParam<SortBy>(ctx.query.get('sort_by'), ['created_at', '-created_at', 'updated_at', '-updated_at'], '-updated_at', 'sort_by', M)!;
    const field = sortBy.endsWith('created_at') ? 'createdKey' : 'updatedKey';
    const desc = sortBy.startsWith('-');
    const mine = Object.values(core.store.data.conversations).filter((c) => c.appId === app.id && c.user === user && c.invokeFrom !== 'debugger');
    const cmp = (a: Conversation, b: Conversation): number => (desc ? b[field] - a[field] : a[field] - b[field]);
    let rows = [...mine].sort(cmp);
    if (lastId) {
      const last = mine.find((c) => c.id === lastId);
      if (!last) throw envelope(404, 'not_found', 'Last Conversation Not Exists.');
      rows = rows.filter((c) => (desc ? c[field] < last[field] : c[field] > last[field]));
    }
    const page = rows.slice(0, limit);
    return json(200, { limit, has_more: page.length === limit && rows.length > limit, data: page.map(conversationView) });
  });

  r.add('DELETE', '/v1/conversations/<uuid:id>', (ctx) => {
    const { app, user } = chatAuth(ctx, 'json');
    const c = getConversation(core, app, user, ctx.params.id!);
    delete core.store.data.conversations[c.id];
    for (const id of c.messageIds) delete core.store.data.messages[id];
    return { status: 204 };
  });

  r.add('POST', '/v1/conversations/<uuid:id>/name', (ctx) => {
    const { app, user, body } = chatAuth(ctx, 'json');
    const auto = body.auto_generate === true;
    if (body.auto_generate !== undefined && body.auto_generate !== null && typeof body.auto_generate !== 'boolean') {
      validationError('ConversationRenamePayload', 'auto_generate', 'Input should be a valid boolean');
    }
    if (!auto && (typeof body.name !== 'string' || !body.name.trim())) {
      modelError('ConversationRenamePayload', 'Value error, name is required when auto_generate is false');
    }
    const c = getConversation(core, app, user, ctx.params.id!);
    if (auto && c.turns.length === 0) throw invalidParam('');
    c.name = auto ? generatedName(c) : String(body.name);
    touch(core, c);
    return json(200, conversationView(c));
  });

  r.add('GET', '/v1/conversations/<uuid:id>/variables', (ctx) => {
    const { app, user } = chatAuth(ctx, 'query');
    const M = 'ConversationVariablesQuery';
    const lastId = uuidParam(ctx.query.get('last_id'), 'last_id', M);
    const limit = intParam(ctx.query, 'limit', 20, 1, 100, M);
    const name = ctx.query.get('variable_name');
    if (name !== null && (!name || name.length > 255 || !/^[A-Za-z0-9_.-]+$/.test(name))) {
      validationError(M, 'variable_name', 'Value error, Variable name can only contain letters, numbers, hyphens (-), underscores (_), and periods (.)');
    }
    const c = getConversation(core, app, user, ctx.params.id!);
    let rows = c.variableRows.filter((v) => name === null || v.name.toLowerCase().includes(name.toLowerCase()));
    if (lastId) {
      const i = rows.findIndex((v) => v.id.toLowerCase() === lastId);
      // ConversationVariableNotExistsError is a ValueError without a message.
      if (i < 0) throw invalidParam('');
      rows = rows.slice(i + 1);
    }
    return json(200, { limit, has_more: rows.length > limit, data: rows.slice(0, limit).map((v) => variableView(c, v)) });
  });

  r.add('PUT', '/v1/conversations/<uuid:id>/variables/<uuid:varId>', (ctx) => {
    const { app, user, body } = chatAuth(ctx, 'json');
    if (!('value' in body)) validationError('ConversationVariableUpdatePayload', 'value', 'Field required');
    const c = getConversation(core, app, user, ctx.params.id!);
    const row = c.variableRows.find((v) => v.id.toLowerCase() === ctx.params.varId!.toLowerCase());
    if (!row) throw envelope(404, 'not_found', 'Conversation Variable Not Exists.');
    const value = body.value;
    const ok = row.value_type === 'number' ? typeof value === 'number' : typeMatches(row.value_type, value) || (row.value_type.startsWith('array') && Array.isArray(value) && value.length === 0);
    if (!ok || (isObject(value) && row.value_type !== 'object')) {
      throw envelope(400, 'bad_request', `Type mismatch: variable '${row.name}' expects ${row.value_type}, but got ${inferType(value)} type`);
    }
    c.variables[row.name] = value;
    row.updatedAt = core.clock.nowSec();
    return json(200, variableView(c, row));
  });
}
