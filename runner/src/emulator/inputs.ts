/** Run requests (§7.3): the app's input form (start node or `user_input_form`), Dify's input checks, the payload. */
import { Ctx, invalidParam } from './http.js';
import { pyReprList } from './pyjson.js';
import type { WorkflowRow } from './state.js';
import { isObject, isUuid } from './util.js';

interface FormVar {
  variable: string;
  type: string;
  required: boolean;
  options: unknown[];
  max_length: number | null;
  default: unknown;
}

export function startNode(w: WorkflowRow): Record<string, unknown> | undefined {
  const nodes = Array.isArray(w.graph.nodes) ? w.graph.nodes : [];
  for (const n of nodes) if (isObject(n) && isObject(n.data) && n.data.type === 'start') return n.data;
  return undefined;
}

export function workflowForm(w: WorkflowRow): Record<string, unknown>[] {
  const s = startNode(w);
  return Array.isArray(s?.variables) ? s.variables.filter(isObject) : [];
}

export function formVars(list: Record<string, unknown>[]): FormVar[] {
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
export function chatForm(mc: Record<string, unknown>): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const item of Array.isArray(mc.user_input_form) ? mc.user_input_form : []) {
    if (!isObject(item)) continue;
    const [type, v] = Object.entries(item)[0] ?? [];
    if (type && isObject(v)) out.push({ ...v, type });
  }
  return out;
}

export function validateInputs(form: FormVar[], raw: unknown): Record<string, unknown> {
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
export interface RunArgs {
  inputs: Record<string, unknown>;
  query: string;
  user: string;
  streaming: boolean;
  conversationId: string;
  workflowId?: string;
  /** `auto_generate_name` (chat): name a new conversation from its first query (default true). */
  autoGenerateName: boolean;
}

export function parseArgs(ctx: Ctx, kind: 'chat' | 'completion' | 'workflow', payloadName: string): RunArgs {
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
    autoGenerateName: b.auto_generate_name !== false,
  };
}

export function requireUser(ctx: Ctx): void {
  const u = ctx.json().user;
  if (u === undefined || u === null || u === '') throw invalidParam('Arg user must be provided.');
}
