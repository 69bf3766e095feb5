/**
 * The service API (§7): `/v1` app-key auth, info/parameters/meta, chat/completion/workflow runs in blocking and
 * streaming mode with Dify's event sequences (§7.6), error envelopes and the app concurrency limit.
 */
import type { Core } from './core.js';
import { Ctx, HttpError, envelope, invalidParam, json, type Reply, type Router } from './http.js';
import type { ActiveFault } from './faults.js';
import { WORKFLOW_MODES } from './apps.js';
import { chunkText, countTokens, llmText, makeUsage, renderSimple, runGraph, toText, type Emission, type NodeExec, type RunOutput, type Usage } from './model.js';
import { pyReprList } from './pyjson.js';
import { SseStream, sleep } from './sse.js';
import type { ApiKey, App, Conversation, WorkflowRow } from './state.js';
import type { ScriptRule } from './types.js';
import { isObject, isUuid, nameGlob, uuid } from './util.js';

const WWW_AUTH = { 'WWW-Authenticate': 'Bearer realm="api"' };
const unauthorized = (message: string): HttpError => new HttpError(401, { code: 'unauthorized', message, status: 401 }, WWW_AUTH);
const forbiddenMsg = (message: string): HttpError => envelope(403, 'forbidden', message);
const appUnavailable = (): HttpError => envelope(400, 'app_unavailable', 'App unavailable, please check your app configurations.');

export function appAuth(core: Core, ctx: Ctx): { app: App; key: ApiKey } {
  const h = ctx.header('authorization');
  if (!h || !h.includes(' ')) throw unauthorized("Authorization header must be provided and start with 'Bearer'");
  const i = h.search(/\s/);
  if (h.slice(0, i).toLowerCase() !== 'bearer') throw unauthorized("Authorization scheme must be 'Bearer'");
  const token = h.slice(i).trim();
  const key = core.store.keyByToken(token);
  if (!key || key.type !== 'app') throw unauthorized('Access token is invalid');
  const app = core.store.data.apps[key.appId];
  if (!app) throw forbiddenMsg('The app no longer exists.');
  if (!app.enable_api) throw forbiddenMsg("The app's API service has been disabled.");
  if (core.store.data.workspaces[app.workspaceId]?.status === 'archived') throw forbiddenMsg("The workspace's status is archived.");
  key.lastUsedAt = core.clock.nowSec();
  return { app, key };
}

// ---- input forms ----
interface FormVar {
  variable: string;
  type: string;
  required: boolean;
  options: unknown[];
  max_length: number | null;
  default: unknown;
}

function startNode(w: WorkflowRow): Record<string, unknown> | undefined {
  const nodes = Array.isArray(w.graph.nodes) ? w.graph.nodes : [];
  for (const n of nodes) if (isObject(n) && isObject(n.data) && n.data.type === 'start') return n.data;
  return undefined;
}

function workflowForm(w: WorkflowRow): Record<string, unknown>[] {
  const s = startNode(w);
  return Array.isArray(s?.variables) ? s.variables.filter(isObject) : [];
}

function formVars(list: Record<string, unknown>[]): FormVar[] {
  return list.map((v) => ({
    variable: String(v.variable ?? ''),
    type: String(v.type ?? 'text-input'),
    required: v.required === true,
    options: Array.isArray(v.options) ? v.options : [],
    max_length: typeof v.max_length === 'number' ? v.max_length : null,
    default: v.default,
  }));
}

/** model_config.user_input_form: `[{"text-input": {...}}]` → flat variables. */
function chatForm(mc: Record<string, unknown>): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const item of Array.isArray(mc.user_input_form) ? mc.user_input_form : []) {
    if (!isObject(item)) continue;
    const [type, v] = Object.entries(item)[0] ?? [];
    if (type && isObject(v)) out.push({ ...v, type });
  }
  return out;
}

function validateInputs(form: FormVar[], raw: unknown): Record<string, unknown> {
  const given = isObject(raw) ? raw : {};
  const out: Record<string, unknown> = {};
  for (const f of form) {
    let v = given[f.variable];
    if (v === undefined || v === null) {
      if (f.required) throw invalidParam(`${f.variable} is required in input form`);
      out[f.variable] = f.default === undefined || f.default === '' ? null : f.default;
      continue;
    }
    if (['text-input', 'select', 'paragraph'].includes(f.type) && typeof v !== 'string') {
      throw invalidParam(`(type '${f.type}') ${f.variable} in input form must be a string`);
    }
    if (f.type === 'number' && typeof v === 'string') {
      if (!v.trim()) v = null;
      else {
        const n = Number(v);
        if (Number.isNaN(n)) throw invalidParam(`${f.variable} in input form must be a valid number`);
        v = n;
      }
    }
    if (f.type === 'select' && !f.options.includes(v)) {
      throw invalidParam(`${f.variable} in input form must be one of the following: ${pyReprList(f.options)}`);
    }
    if ((f.type === 'text-input' || f.type === 'paragraph') && f.max_length && typeof v === 'string' && v.length > f.max_length) {
      throw invalidParam(`${f.variable} in input form must be less than ${f.max_length} characters`);
    }
    out[f.variable] = typeof v === 'string' ? v.replace(/\x00/g, '') : v;
  }
  return out;
}

// ---- request parsing ----
interface RunArgs {
  inputs: Record<string, unknown>;
  query: string;
  user: string;
  streaming: boolean;
  conversationId: string;
  workflowId?: string;
}

function parseArgs(ctx: Ctx, kind: 'chat' | 'completion' | 'workflow', payloadName: string): RunArgs {
  const b = ctx.json();
  const missing = (f: string): never => {
    throw invalidParam(`1 validation error for ${payloadName}\n${f}\n  Field required`);
  };
  if (b.inputs === undefined || b.inputs === null) missing('inputs');
  if (!isObject(b.inputs)) throw invalidParam(`1 validation error for ${payloadName}\ninputs\n  Input should be a valid dictionary`);
  let query = '';
  if (kind === 'chat') {
    if (b.query === undefined || b.query === null) missing('query');
    if (typeof b.query !== 'string') throw invalidParam(`1 validation error for ${payloadName}\nquery\n  Input should be a valid string`);
    query = b.query;
  } else if (typeof b.query === 'string') query = b.query;
  const mode = b.response_mode;
  if (mode !== undefined && mode !== null && mode !== 'blocking' && mode !== 'streaming') {
    throw invalidParam(`1 validation error for ${payloadName}\nresponse_mode\n  Input should be 'blocking' or 'streaming'`);
  }
  const conv = typeof b.conversation_id === 'string' ? b.conversation_id : '';
  if (conv && !isUuid(conv)) throw invalidParam(`${conv} is not a valid uuid.`);
  return {
    inputs: b.inputs as Record<string, unknown>,
    query,
    user: String(b.user),
    streaming: mode === 'streaming',
    conversationId: conv,
    workflowId: typeof b.workflow_id === 'string' && b.workflow_id ? b.workflow_id : undefined,
  };
}

function requireUser(ctx: Ctx): void {
  const u = ctx.json().user;
  if (u === undefined || u === null || u === '') throw invalidParam('Arg user must be provided.');
}

// ---- script rules ----
export function matchScript(core: Core, app: App, text: string): ScriptRule | undefined {
  const ws = core.store.data.workspaces[app.workspaceId];
  for (const c of core.script) {
    const r = c.rule;
    if (r.times !== undefined && c.used >= r.times) continue;
    if (r.app && r.app !== app.id && !nameGlob(r.app).test(app.name)) continue;
    if (r.workspace && r.workspace !== app.workspaceId && !(ws && nameGlob(r.workspace).test(ws.name))) continue;
    if (r.query) {
      let re: RegExp;
      try {
        re = new RegExp(r.query);
      } catch {
        continue;
      }
      if (!re.test(text)) continue;
    }
    c.used++;
    return r;
  }
  return undefined;
}

// ---- concurrency (§7.2 too_many_requests) ----
function enter(core: Core, app: App): () => void {
  const limit = app.max_active_requests || core.opts.appConcurrencyLimit || 0;
  const cur = core.active.get(app.id) ?? 0;
  if (limit > 0 && cur >= limit) {
    throw envelope(
      429,
      'too_many_requests',
      `Too many requests. Please try again later. The current maximum concurrent requests allowed for ${app.id} is ${limit}.`,
    );
  }
  core.active.set(app.id, cur + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const n = (core.active.get(app.id) ?? 1) - 1;
    if (n <= 0) core.active.delete(app.id);
    else core.active.set(app.id, n);
  };
}

function scriptLatency(core: Core, s: ScriptRule | undefined): number {
  return s?.latencyMs !== undefined ? s.latencyMs : core.latency();
}

/** `error` is a run-level failure unless the rule fails a node (then it only names the node's error). */
const runError = (s: ScriptRule | undefined): boolean => Boolean(s?.error) && !s?.nodeFailure;

function scriptError(s: ScriptRule): { status: number; code: string; message: string } {
  return {
    status: s.error?.status ?? 400,
    code: s.error?.code ?? 'completion_request_error',
    message: s.error?.message ?? 'Scripted model error',
  };
}

export interface RunEnv {
  core: Core;
  ctx: Ctx;
  fault?: ActiveFault;
}

function openStream(env: RunEnv): SseStream {
  const f = env.fault?.rule;
  const s = new SseStream(env.ctx.res, {
    pingIntervalMs: env.core.opts.pingIntervalMs,
    slowMs: f?.slowSseMs,
    style: env.core.opts.sseJson,
    destroyAfter: f?.truncate ? 1 : undefined,
    malformed: f?.malformed,
  });
  env.ctx.streaming = true;
  s.start();
  return s;
}

/** Blocking replies honour scripted socket cuts. */
function cutSocket(ctx: Ctx): Reply {
  ctx.streaming = true;
  ctx.res.destroy();
  return { status: 0 };
}

// ---- conversations ----
function getConversation(core: Core, app: App, user: string, id: string): Conversation {
  const c = core.store.data.conversations[id];
  if (!c || c.appId !== app.id || c.user !== user) throw envelope(404, 'not_found', 'Conversation Not Exists.');
  return c;
}

function newConversation(core: Core, app: App, user: string, variables: Record<string, unknown>): Conversation {
  return { id: uuid(), appId: app.id, user, createdAt: core.clock.nowSec(), turns: [], variables };
}

const MAX_CONVERSATIONS = 10_000;
let conversationWrites = 0;

function saveTurn(core: Core, c: Conversation, query: string, answer: string): void {
  c.turns.push({ query, answer });
  if (c.turns.length > 50) c.turns.shift();
  const all = core.store.data.conversations;
  all[c.id] = c;
  // Benchmarks create a conversation per call: keep memory (and the state file) bounded, oldest first out.
  if (++conversationWrites % 1000 === 0) {
    const ids = Object.keys(all);
    for (const id of ids.slice(0, Math.max(0, ids.length - MAX_CONVERSATIONS))) delete all[id];
  }
}

// ---- chat, agent-chat, completion (model_config apps) ----
async function runEasyApp(env: RunEnv, app: App, args: RunArgs, kind: 'chat' | 'completion'): Promise<Reply | void> {
  const { core, ctx } = env;
  const release = enter(core, app);
  try {
    if (app.mode === 'agent-chat' && !args.streaming) throw invalidParam('Agent Chat App does not support blocking mode');
    const mc = app.modelConfig;
    if (!mc) throw appUnavailable();
    const conv = kind === 'chat' ? (args.conversationId ? getConversation(core, app, args.user, args.conversationId) : newConversation(core, app, args.user, {})) : undefined;
    const inputs = validateInputs(formVars(chatForm(mc)), args.inputs);
    const script = matchScript(core, app, kind === 'chat' ? args.query : JSON.stringify(args.inputs));
    const modelName = isObject(mc.model) ? String(mc.model.name ?? 'model') : 'model';
    const history = conv?.turns ?? [];
    const lines = [renderSimple(mc.pre_prompt, inputs)];
    for (const t of history) lines.push(`user: ${t.query}`, `assistant: ${t.answer}`);
    if (args.query) lines.push(`user: ${args.query}`);
    const prompt = lines.join('\n');
    let echo = kind === 'chat' ? args.query : [...Object.values(inputs).map(toText).filter(Boolean), args.query].filter(Boolean).join(' ');
    if (history.length > 0) echo += ` (earlier: ${history.map((t) => t.query).join(' | ')})`;
    const answer = script?.answer ?? llmText(modelName, prompt, echo);
    const started = Date.now();
    const latency = scriptLatency(core, script);
    const messageId = uuid();
    const taskId = uuid();
    const createdAt = core.clock.nowSec();
    const usageOf = (): Usage =>
      makeUsage(script?.usage?.prompt_tokens ?? countTokens(prompt), script?.usage?.completion_tokens ?? countTokens(answer), (Date.now() - started) / 1000);

    if (!args.streaming) {
      await sleep(latency);
      if (script?.cutAfterChunks !== undefined) return cutSocket(ctx);
      if (script?.error) {
        const e = scriptError(script);
        throw envelope(e.status, e.code, e.message);
      }
      if (conv) saveTurn(core, conv, args.query, answer);
      const body: Record<string, unknown> = { event: 'message', task_id: taskId, id: messageId, message_id: messageId };
      if (conv) body.conversation_id = conv.id;
      Object.assign(body, { mode: app.mode, answer, metadata: { usage: usageOf(), retriever_resources: [] }, created_at: createdAt });
      return json(200, body);
    }

    const head = (event: string): Record<string, unknown> =>
      conv ? { event, conversation_id: conv.id, message_id: messageId, created_at: createdAt } : { event, message_id: messageId, created_at: createdAt };
    const sse = openStream(env);
    ctx.res.on('close', release);
    await sse.stall(latency);
    const chunks = chunkText(answer);
    const agent = app.mode === 'agent-chat';
    const thoughtId = uuid();
    const thought = (text: string): Record<string, unknown> => ({
      ...head('agent_thought'),
      task_id: taskId,
      id: thoughtId,
      position: 1,
      thought: text,
      observation: '',
      tool: '',
      tool_labels: {},
      tool_input: '',
      message_files: [],
    });
    if (agent) await sse.send(thought(''));
    let n = 0;
    for (const c of chunks) {
      if (sse.closed) return;
      if (script?.error && n >= (script.error.afterChunks ?? 0)) break;
      if (script?.cutAfterChunks !== undefined && n >= script.cutAfterChunks) {
        sse.destroy();
        return;
      }
      await sse.send({ ...head(agent ? 'agent_message' : 'message'), task_id: taskId, id: messageId, answer: c, from_variable_selector: null });
      n++;
    }
    if (script?.cutAfterChunks !== undefined && n >= script.cutAfterChunks) {
      sse.destroy();
      return;
    }
    if (script?.error) {
      const e = scriptError(script);
      const h: Record<string, unknown> = { event: 'error' };
      if (conv || kind === 'completion') h.conversation_id = conv?.id ?? null;
      await sse.send({ ...h, message_id: messageId, created_at: createdAt, code: e.code, status: e.status, message: e.message });
      sse.end();
      return;
    }
    if (agent) await sse.send(thought(answer));
    if (conv) saveTurn(core, conv, args.query, answer);
    await sse.send({ ...head('message_end'), task_id: taskId, id: messageId, metadata: { usage: usageOf(), retriever_resources: [] }, files: null });
    sse.end();
  } finally {
    if (!ctx.streaming) release();
  }
}

// ---- workflow and advanced-chat ----
function pickWorkflow(core: Core, app: App, pinned: string | undefined): WorkflowRow {
  if (pinned) {
    if (!isUuid(pinned)) throw envelope(400, 'bad_request', `Invalid workflow_id format: '${pinned}'. `);
    if (app.draft?.id === pinned) {
      throw envelope(400, 'bad_request', `Cannot use draft workflow version. Workflow ID: ${pinned}. Please use a published workflow version or leave workflow_id empty.`);
    }
    const w = app.versions.find((v) => v.id === pinned);
    if (!w) throw envelope(404, 'not_found', `Workflow not found with id: ${pinned}`);
    return w;
  }
  const w = core.store.published(app);
  if (!w) throw invalidParam('Workflow not published');
  return w;
}

function nodeStartedData(e: NodeExec, createdAt: number): Record<string, unknown> {
  return {
    id: e.id,
    node_id: e.nodeId,
    node_type: e.type,
    title: e.title,
    index: e.index,
    predecessor_node_id: e.predecessor,
    inputs: e.inputs,
    inputs_truncated: false,
    created_at: createdAt,
    extras: {},
    iteration_id: null,
    loop_id: null,
  };
}

function nodeFinishedData(e: NodeExec, createdAt: number, finishedAt: number): Record<string, unknown> {
  return {
    ...nodeStartedData(e, createdAt),
    process_data: null,
    process_data_truncated: false,
    outputs: e.outputs,
    outputs_truncated: false,
    status: e.status,
    error: e.error,
    elapsed_time: 0.001,
    execution_metadata: e.usage ? { total_tokens: e.tokens, total_price: Number(e.usage.total_price), currency: 'USD' } : null,
    finished_at: finishedAt,
    files: [],
  };
}

async function runWorkflowLike(env: RunEnv, app: App, args: RunArgs, pinned: string | undefined): Promise<Reply | void> {
  const { core, ctx } = env;
  const chat = app.mode === 'advanced-chat';
  if (chat && !args.streaming && core.opts.quirks.includes('chatflow-streams-blocking')) args = { ...args, streaming: true };
  const release = enter(core, app);
  try {
    const wf = pickWorkflow(core, app, pinned);
    let conv: Conversation | undefined;
    if (chat) {
      const defaults = Object.fromEntries(wf.conversation_variables.map((v) => [v.name, v.value]));
      conv = args.conversationId ? getConversation(core, app, args.user, args.conversationId) : newConversation(core, app, args.user, defaults);
    }
    const inputs = validateInputs(formVars(workflowForm(wf)), args.inputs);
    const script = matchScript(core, app, chat ? args.query : JSON.stringify(args.inputs));
    const runId = uuid();
    const taskId = uuid();
    const messageId = uuid();
    const createdAt = core.clock.nowSec();
    const started = Date.now();
    const sys: Record<string, unknown> = { files: [], user_id: args.user, app_id: app.id, workflow_id: wf.id, workflow_run_id: runId };
    if (chat) Object.assign(sys, { query: args.query, conversation_id: conv!.id, dialogue_count: conv!.turns.length + 1 });
    const env0 = Object.fromEntries(wf.environment_variables.map((v) => [v.name, v.value]));
    const out: RunOutput = runGraph({
      mode: chat ? 'advanced-chat' : 'workflow',
      graph: wf.graph,
      inputs,
      sys,
      env: env0,
      conversation: conv ? { ...conv.variables } : {},
      history: conv?.turns ?? [],
      script,
    });
    const latency = scriptLatency(core, script);
    const usageOf = (): Usage =>
      makeUsage(script?.usage?.prompt_tokens ?? out.promptTokens, script?.usage?.completion_tokens ?? out.completionTokens, (Date.now() - started) / 1000);
    const finishedData = (): Record<string, unknown> => ({
      id: runId,
      workflow_id: wf.id,
      status: out.status,
      outputs: out.outputs,
      error: out.error,
      elapsed_time: (Date.now() - started) / 1000,
      total_tokens: script?.usage ? (script.usage.prompt_tokens ?? 0) + (script.usage.completion_tokens ?? 0) : out.totalTokens,
      total_steps: out.nodes.length,
      created_by: { id: uuid(), user: args.user },
      created_at: createdAt,
      finished_at: core.clock.nowSec(),
      exceptions_count: out.nodes.filter((n) => n.status === 'exception').length,
      files: [],
    });
    const commit = (): void => {
      if (conv && out.status === 'succeeded') {
        conv.variables = out.conversation;
        saveTurn(core, conv, args.query, out.answer);
      }
    };

    if (!args.streaming) {
      await sleep(latency);
      if (script?.cutAfterChunks !== undefined) return cutSocket(ctx);
      if (runError(script)) {
        const e = scriptError(script!);
        throw envelope(e.status, e.code, e.message);
      }
      commit();
      if (chat) {
        if (out.status === 'failed') throw invalidParam(`Run failed: ${out.error}`);
        return json(200, {
          event: 'message',
          task_id: taskId,
          id: messageId,
          message_id: messageId,
          conversation_id: conv!.id,
          mode: 'advanced-chat',
          answer: out.answer,
          metadata: { usage: usageOf(), retriever_resources: [] },
          created_at: createdAt,
        });
      }
      const data = finishedData();
      if (core.opts.quirks.includes('blocking-workflow-empty-outputs') && out.status === 'succeeded') data.outputs = {};
      return json(200, { task_id: taskId, workflow_run_id: runId, data });
    }

    const sse = openStream(env);
    ctx.res.on('close', release);
    const base = (event: string): Record<string, unknown> =>
      chat
        ? { event, conversation_id: conv!.id, message_id: messageId, created_at: createdAt, task_id: taskId, workflow_run_id: runId }
        : { event, task_id: taskId, workflow_run_id: runId };
    await sse.send({ ...base('workflow_started'), data: { id: runId, workflow_id: wf.id, inputs, created_at: createdAt, reason: 'initial' } });
    let chunks = 0;
    const stopAt = runError(script) ? script!.error!.afterChunks ?? 0 : undefined;
    let errored = false;
    const emit = async (em: Emission): Promise<boolean> => {
      switch (em.t) {
        case 'stall':
          await sse.stall(latency);
          return true;
        case 'node_started':
          await sse.send({ ...base('node_started'), data: nodeStartedData(em.exec, core.clock.nowSec()) });
          return true;
        case 'node_finished':
          await sse.send({ ...base('node_finished'), data: nodeFinishedData(em.exec, core.clock.nowSec(), core.clock.nowSec()) });
          return true;
        case 'text':
          if (stopAt !== undefined && chunks >= stopAt) {
            errored = true;
            return false;
          }
          if (script?.cutAfterChunks !== undefined && chunks >= script.cutAfterChunks) {
            sse.destroy();
            return false;
          }
          if (chat) {
            await sse.send({ event: 'message', conversation_id: conv!.id, message_id: messageId, created_at: createdAt, task_id: taskId, id: messageId, answer: em.text, from_variable_selector: em.selector });
          } else await sse.send({ ...base('text_chunk'), data: { text: em.text, from_variable_selector: em.selector } });
          chunks++;
          return true;
      }
    };
    for (const em of out.emissions) {
      if (sse.closed) return;
      if (!(await emit(em))) break;
    }
    if (sse.closed) return;
    if (script?.cutAfterChunks !== undefined) {
      sse.destroy();
      return;
    }
    if (errored || runError(script)) {
      const e = scriptError(script!);
      const h: Record<string, unknown> = chat
        ? { event: 'error', conversation_id: conv!.id, message_id: messageId, created_at: createdAt }
        : { event: 'error', workflow_run_id: runId };
      await sse.send({ ...h, code: e.code, status: e.status, message: e.message });
      sse.end();
      return;
    }
    commit();
    if (chat) {
      if (out.status === 'failed') {
        await sse.send({ ...base('workflow_finished'), data: finishedData() });
        await sse.send({ event: 'error', conversation_id: conv!.id, message_id: messageId, created_at: createdAt, code: 'invalid_param', status: 400, message: `Run failed: ${out.error}` });
        sse.end();
        return;
      }
      await sse.send({
        event: 'message_end',
        conversation_id: conv!.id,
        message_id: messageId,
        created_at: createdAt,
        task_id: taskId,
        id: messageId,
        metadata: { usage: usageOf(), retriever_resources: [] },
        files: [],
      });
    }
    await sse.send({ ...base('workflow_finished'), data: finishedData() });
    sse.end();
  } finally {
    if (!ctx.streaming) release();
  }
}

// ---- metadata ----
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
    if (!['chat', 'agent-chat', 'advanced-chat'].includes(app.mode)) throw envelope(400, 'not_chat_app', 'Please check if your app mode matches the right API route.');
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
    if (app.mode !== 'workflow') throw envelope(400, 'not_workflow_app', 'Please check if your app mode matches the right API route.');
    const args = parseArgs(ctx, 'workflow', 'WorkflowRunPayload');
    return runWorkflowLike({ core, ctx, fault: faultOf(ctx) }, app, args, undefined);
  });
  r.add('POST', '/v1/workflows/:workflowId/run', (ctx) => {
    const { app } = appAuth(core, ctx);
    requireUser(ctx);
    if (app.mode !== 'workflow') throw envelope(400, 'not_workflow_app', 'Please check if your app mode matches the right API route.');
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

  r.add('GET', '/v1/conversations', (ctx) => {
    const { app } = appAuth(core, ctx);
    const user = ctx.query.get('user') ?? '';
    if (!user) throw invalidParam('Arg user must be provided.');
    const limit = Math.min(100, Math.max(1, Number(ctx.query.get('limit') ?? 20) || 20));
    const list = Object.values(core.store.data.conversations)
      .filter((c) => c.appId === app.id && c.user === user)
      .sort((a, b) => b.createdAt - a.createdAt);
    return json(200, {
      limit,
      has_more: list.length > limit,
      data: list.slice(0, limit).map((c) => ({
        id: c.id,
        name: c.turns[0]?.query.slice(0, 20) ?? 'New conversation',
        inputs: {},
        status: 'normal',
        introduction: '',
        created_at: c.createdAt,
        updated_at: c.createdAt,
      })),
    });
  });
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
