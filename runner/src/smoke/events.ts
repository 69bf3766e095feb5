/**
 * Turns what the service API sent — SSE events (dify-api.md §7.5/§7.6) or a blocking body (§7.4) — into the
 * observation the assertions read. Pure: no I/O, no clock (the caller passes the timestamps).
 */
import { addDecimals } from './decimal.js';
import type { AppMode, CallError, NodeFailure, Observation, ResponseMode, RunStatus, CallUsage } from './types.js';

type Json = Record<string, any>;

const WORKFLOW_STATUSES = new Set(['succeeded', 'failed', 'stopped', 'partial-succeeded', 'paused', 'running']);

/** Usage from `metadata.usage`: token counts are integers, prices decimal strings. */
export function usageOf(u: Json | undefined): CallUsage {
  if (!u || typeof u !== 'object') return {};
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined);
  const price = u.total_price;
  return {
    promptTokens: n(u.prompt_tokens),
    completionTokens: n(u.completion_tokens),
    totalTokens: n(u.total_tokens) ?? (n(u.prompt_tokens) !== undefined || n(u.completion_tokens) !== undefined ? (n(u.prompt_tokens) ?? 0) + (n(u.completion_tokens) ?? 0) : undefined),
    totalPrice: price === undefined || price === null ? undefined : addDecimals([typeof price === 'number' ? price : String(price)]),
    currency: typeof u.currency === 'string' ? u.currency : undefined,
  };
}

/** The text assertions look at for a workflow: its only string output, else the streamed text, else the outputs as JSON. */
export function workflowAnswer(outputs: Record<string, unknown> | undefined, streamed: string): string {
  const values = Object.values(outputs ?? {});
  if (values.length === 1 && typeof values[0] === 'string') return values[0];
  if (values.length === 0) return streamed;
  return JSON.stringify(outputs);
}

function errorOf(e: Json): CallError {
  return {
    code: typeof e.code === 'string' ? e.code : undefined,
    message: typeof e.message === 'string' && e.message ? e.message : 'error event without a message',
    httpStatus: typeof e.status === 'number' ? e.status : undefined,
  };
}

export interface StreamState {
  mode: AppMode;
  answer: string;
  streamedText: string;
  outputs?: Record<string, unknown>;
  status?: RunStatus;
  terminal: boolean;
  error?: CallError;
  nodeFailures: NodeFailure[];
  usage: CallUsage;
  nodePrices: string[];
  nodeCurrency?: string;
  conversationId?: string;
  messageId?: string;
  workflowRunId?: string;
  firstTokenAt?: number;
  events: number;
  notes: string[];
  sawAgentMessage: boolean;
  sawMessageEnd: boolean;
  sawWorkflowFinished: boolean;
}

export function newStreamState(mode: AppMode): StreamState {
  return { mode, answer: '', streamedText: '', terminal: false, nodeFailures: [], usage: {}, nodePrices: [], events: 0, notes: [], sawAgentMessage: false, sawMessageEnd: false, sawWorkflowFinished: false };
}

function firstToken(s: StreamState, text: unknown, at: number): void {
  if (s.firstTokenAt === undefined && typeof text === 'string' && text.length > 0) s.firstTokenAt = at;
}

/** Applies one SSE event (its parsed JSON). Events after a terminal one are ignored. */
export function applyEvent(s: StreamState, e: Json, at: number): void {
  if (s.terminal || !e || typeof e !== 'object') return;
  s.events++;
  if (typeof e.conversation_id === 'string' && e.conversation_id) s.conversationId = e.conversation_id;
  if (typeof e.message_id === 'string' && e.message_id) s.messageId = e.message_id;
  if (typeof e.workflow_run_id === 'string' && e.workflow_run_id) s.workflowRunId = e.workflow_run_id;
  switch (e.event) {
    case 'message':
      firstToken(s, e.answer, at);
      // New Agent mode closes with one `message` holding the whole answer: replace, do not append (§7.6).
      if (s.sawAgentMessage) s.answer = String(e.answer ?? '');
      else s.answer += String(e.answer ?? '');
      break;
    case 'agent_message':
      firstToken(s, e.answer, at);
      s.sawAgentMessage = true;
      s.answer += String(e.answer ?? '');
      break;
    case 'message_replace':
      s.answer = String(e.answer ?? '');
      s.notes.push(`answer replaced by Dify${e.reason ? ` (${e.reason})` : ''}`);
      break;
    case 'text_chunk':
      firstToken(s, e.data?.text, at);
      s.streamedText += String(e.data?.text ?? '');
      break;
    case 'message_end':
      // The last event every chat mode sends: a chatflow sends it after workflow_finished (dify-api.md §7.6), and
      // only it carries the usage, tokens and price.
      s.sawMessageEnd = true;
      s.usage = { ...s.usage, ...stripUndefined(usageOf(e.metadata?.usage)) };
      s.status ??= 'succeeded';
      s.terminal = true;
      break;
    case 'node_finished': {
      const d = e.data ?? {};
      if (d.status === 'failed' || d.status === 'exception') {
        s.nodeFailures.push({ title: String(d.title ?? d.node_id ?? 'node'), nodeType: d.node_type, error: d.error ?? undefined });
      }
      const meta = d.execution_metadata ?? {};
      if (meta.total_price !== undefined && meta.total_price !== null) s.nodePrices.push(String(meta.total_price));
      if (typeof meta.currency === 'string') s.nodeCurrency = meta.currency;
      break;
    }
    case 'workflow_finished': {
      const d = e.data ?? {};
      s.sawWorkflowFinished = true;
      s.outputs = d.outputs && typeof d.outputs === 'object' ? d.outputs : {};
      s.status = WORKFLOW_STATUSES.has(d.status) && d.status !== 'running' ? d.status : 'failed';
      if (d.error) s.error = { message: String(d.error) };
      if (s.usage.totalTokens === undefined && typeof d.total_tokens === 'number') s.usage.totalTokens = d.total_tokens;
      // A chatflow goes on: message_end (success) or error (failure) follows; older servers sent message_end first.
      if (s.mode !== 'advanced-chat' || s.sawMessageEnd) s.terminal = true;
      break;
    }
    case 'workflow_paused':
      s.status = 'paused';
      s.terminal = true;
      break;
    case 'error':
      // After a failed chatflow's workflow_finished, the error event repeats the failure: the run's status stays.
      if (s.status === 'failed') s.error ??= errorOf(e);
      else {
        s.status = 'error';
        s.error = errorOf(e);
      }
      s.terminal = true;
      break;
    default:
      // workflow_started, node_started, agent_thought, message_file, tts_*, iteration_*, … carry nothing we assert on.
      break;
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export interface Timing {
  startedAt: number;
  endedAt: number;
  retries: number;
  retryReasons: string[];
}

/** The observation once the stream is over (terminal event, or the connection ended/was cut). */
export function finishStream(s: StreamState, responseMode: ResponseMode, t: Timing, cut?: string): Observation {
  let status = s.status;
  let error = s.error;
  const notes = [...s.notes];
  if (!s.terminal) {
    if (s.mode === 'advanced-chat' && (s.sawMessageEnd || s.sawWorkflowFinished)) {
      status ??= 'succeeded';
      notes.push(s.sawMessageEnd ? 'chatflow stream ended after message_end without workflow_finished' : 'chatflow stream ended after workflow_finished without message_end: no usage or price');
    } else {
      status = 'incomplete';
      error = { code: 'stream_incomplete', message: `the stream ended after ${s.events} event(s) without a terminal event${cut ? ` (${cut})` : ''}` };
    }
  }
  const usage = { ...s.usage };
  if (usage.totalPrice === undefined && s.nodePrices.length) {
    usage.totalPrice = addDecimals(s.nodePrices);
    usage.currency ??= s.nodeCurrency;
  }
  const isWorkflow = s.mode === 'workflow';
  if (status === 'failed' && !error && s.nodeFailures.length) {
    error = { message: `node '${s.nodeFailures[0]!.title}' failed${s.nodeFailures[0]!.error ? `: ${s.nodeFailures[0]!.error}` : ''}` };
  }
  return {
    mode: s.mode,
    responseMode,
    status: status ?? 'incomplete',
    answer: isWorkflow ? workflowAnswer(s.outputs, s.streamedText) : s.answer,
    outputs: s.outputs,
    error,
    nodeFailures: s.nodeFailures,
    latencyMs: t.endedAt - t.startedAt,
    ttftMs: s.firstTokenAt !== undefined ? s.firstTokenAt - t.startedAt : undefined,
    usage,
    conversationId: s.conversationId,
    messageId: s.messageId,
    workflowRunId: s.workflowRunId,
    retries: t.retries,
    retryReasons: t.retryReasons,
    notes,
    events: s.events,
  };
}

/** A blocking body (§7.4): chat-family/completion `{event: message, answer, metadata}` or workflow `{data: {…}}`. */
export function fromBlocking(mode: AppMode, body: Json, t: Timing): Observation {
  const base = { mode, responseMode: 'blocking' as const, nodeFailures: [], latencyMs: t.endedAt - t.startedAt, retries: t.retries, retryReasons: t.retryReasons, events: 0 };
  if (body && typeof body.data === 'object' && body.data !== null && ('workflow_run_id' in body || 'outputs' in body.data || 'status' in body.data)) {
    const d = body.data;
    const outputs = d.outputs && typeof d.outputs === 'object' ? d.outputs : {};
    const status: RunStatus = WORKFLOW_STATUSES.has(d.status) && d.status !== 'running' ? d.status : 'failed';
    const notes: string[] = [];
    if (status === 'succeeded' && Object.keys(outputs).length === 0) {
      notes.push('blocking workflow succeeded with empty outputs (a known Dify 1.13 bug, dify-api.md §10.3): prefer mode: streaming');
    }
    return {
      ...base,
      status,
      answer: workflowAnswer(outputs, ''),
      outputs,
      error: d.error ? { message: String(d.error) } : undefined,
      usage: typeof d.total_tokens === 'number' ? { totalTokens: d.total_tokens } : {},
      workflowRunId: body.workflow_run_id ?? d.id,
      notes,
    };
  }
  return {
    ...base,
    status: 'succeeded',
    answer: String(body?.answer ?? ''),
    usage: usageOf(body?.metadata?.usage),
    conversationId: body?.conversation_id || undefined,
    messageId: body?.message_id ?? body?.id,
    notes: [],
  };
}

/** An observation for a call that never produced a usable answer (error envelope, network failure, timeout). */
export function failedObservation(mode: AppMode, responseMode: ResponseMode, status: RunStatus, error: CallError, t: Timing, partial?: StreamState): Observation {
  return {
    mode,
    responseMode,
    status,
    answer: partial ? (mode === 'workflow' ? workflowAnswer(partial.outputs, partial.streamedText) : partial.answer) : '',
    outputs: partial?.outputs,
    error,
    nodeFailures: partial?.nodeFailures ?? [],
    latencyMs: t.endedAt - t.startedAt,
    ttftMs: partial?.firstTokenAt !== undefined ? partial.firstTokenAt - t.startedAt : undefined,
    usage: partial?.usage ?? {},
    conversationId: partial?.conversationId,
    messageId: partial?.messageId,
    workflowRunId: partial?.workflowRunId,
    retries: t.retries,
    retryReasons: t.retryReasons,
    notes: partial?.notes ?? [],
    events: partial?.events ?? 0,
  };
}
