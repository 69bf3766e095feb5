/**
 * The deterministic model (documented in docs/emulator.md): an LLM answer is a function of its rendered prompt,
 * token counts are chars/4, prices are fixed. `runGraph` walks a published workflow graph from its start node with
 * a real variable pool and skip propagation over unchosen branches.
 */
import type { ScriptRule } from './types.js';
import { renderJinja } from './jinja.js';
import { toText } from './model-values.js';
import { isObject, sha256Hex, uuid } from './util.js';

export { renderJinja, toText };

// ---- the model itself ----
export function llmText(modelName: string, prompt: string, echo: string): string {
  return `[${modelName || 'model'}] ${sha256Hex(prompt).slice(0, 8)} ${echo}`.trimEnd();
}

export const countTokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4));

/** Words with their trailing whitespace: how answers are streamed. */
export function chunkText(text: string): string[] {
  const parts = text.match(/\s*\S+\s*/g);
  return parts && parts.length > 0 ? parts : text ? [text] : [];
}

function price(units: number): string {
  // units of 1e-7 USD, printed like Decimal.quantize(Decimal('0.0000001'))
  const s = String(units).padStart(8, '0');
  return `${s.slice(0, -7)}.${s.slice(-7)}`;
}

export interface Usage {
  prompt_tokens: number;
  prompt_unit_price: string;
  prompt_price_unit: string;
  prompt_price: string;
  completion_tokens: number;
  completion_unit_price: string;
  completion_price_unit: string;
  completion_price: string;
  total_tokens: number;
  total_price: string;
  currency: string;
  latency: number;
}

/** Prices: 0.001 per 1k prompt tokens and 0.002 per 1k completion tokens (unit 0.001), as strings. */
export function makeUsage(promptTokens: number, completionTokens: number, latencySec: number): Usage {
  const p = promptTokens * 10;
  const c = completionTokens * 20;
  return {
    prompt_tokens: promptTokens,
    prompt_unit_price: '0.001',
    prompt_price_unit: '0.001',
    prompt_price: price(p),
    completion_tokens: completionTokens,
    completion_unit_price: '0.002',
    completion_price_unit: '0.001',
    completion_price: price(c),
    total_tokens: promptTokens + completionTokens,
    total_price: price(p + c),
    currency: 'USD',
    latency: latencySec,
  };
}
export const totalPriceNumber = (u: Usage): number => Number(u.total_price);

// ---- values and templates ----

const REF = /\{\{#([a-zA-Z0-9_]{1,50}(?:\.[a-zA-Z_][a-zA-Z0-9_]{0,29}){1,10})#\}\}/g;

export class Pool {
  nodes = new Map<string, Record<string, unknown>>();
  constructor(
    public sys: Record<string, unknown>,
    public env: Record<string, unknown>,
    public conversation: Record<string, unknown>,
  ) {}

  get(selector: unknown): unknown {
    if (!Array.isArray(selector) || selector.length === 0) return undefined;
    const [first, ...rest] = selector.map(String);
    let cur: unknown;
    if (first === 'sys') cur = this.sys;
    else if (first === 'env') cur = this.env;
    else if (first === 'conversation') cur = this.conversation;
    else {
      cur = this.nodes.get(first!);
      // very old exports: ['<start>', 'sys.query']
      if (rest.length === 1 && rest[0]!.startsWith('sys.') && (cur === undefined || !(rest[0]! in (cur as object)))) {
        return this.sys[rest[0]!.slice(4)];
      }
    }
    for (const seg of rest) {
      if (cur === null || cur === undefined) return undefined;
      if (isObject(cur) || Array.isArray(cur)) cur = (cur as Record<string, unknown>)[seg];
      else return undefined;
    }
    return cur;
  }

  set(selector: string[], value: unknown): void {
    const [first, name] = selector;
    if (!first || name === undefined) return;
    if (first === 'conversation') this.conversation[name] = value;
    else if (first === 'env') this.env[name] = value;
    else if (first === 'sys') this.sys[name] = value;
    else {
      const o = this.nodes.get(first) ?? {};
      o[name] = value;
      this.nodes.set(first, o);
    }
  }

  render(template: unknown): string {
    if (typeof template !== 'string') return '';
    return template.replace(REF, (_m, path: string) => toText(this.get(path.split('.')))).replace(/\{\{#context#\}\}/g, '');
  }
}

/** `{{var}}` placeholders of chat-app pre_prompts. */
export function renderSimple(template: unknown, inputs: Record<string, unknown>): string {
  if (typeof template !== 'string') return '';
  return template.replace(/\{\{([a-zA-Z_][a-zA-Z0-9_]{0,59})\}\}/g, (m, name: string) => (name in inputs ? toText(inputs[name]) : m));
}

// ---- conditions (if-else, loop break) ----
function num(v: unknown): number {
  return typeof v === 'number' ? v : Number(v);
}
export function evalCondition(actual: unknown, op: string, expected: unknown): boolean {
  const isEmpty = actual === null || actual === undefined || actual === '' || (Array.isArray(actual) && actual.length === 0) || (isObject(actual) && Object.keys(actual).length === 0);
  const a = actual;
  switch (op) {
    case 'contains':
      return Array.isArray(a) ? a.map(toText).includes(toText(expected)) : typeof a === 'string' && a.includes(toText(expected));
    case 'not contains':
      return Array.isArray(a) ? !a.map(toText).includes(toText(expected)) : !(typeof a === 'string' && a.includes(toText(expected)));
    case 'start with':
      return typeof a === 'string' && a.startsWith(toText(expected));
    case 'end with':
      return typeof a === 'string' && a.endsWith(toText(expected));
    case 'is':
      return toText(a) === toText(expected);
    case 'is not':
      return toText(a) !== toText(expected);
    case 'empty':
      return isEmpty;
    case 'not empty':
      return !isEmpty;
    case '=':
      return num(a) === num(expected);
    case '≠':
    case '!=':
      return num(a) !== num(expected);
    case '>':
      return num(a) > num(expected);
    case '<':
      return num(a) < num(expected);
    case '≥':
    case '>=':
      return num(a) >= num(expected);
    case '≤':
    case '<=':
      return num(a) <= num(expected);
    case 'null':
      return a === null || a === undefined;
    case 'not null':
      return a !== null && a !== undefined;
    case 'in':
      return Array.isArray(expected) ? expected.map(toText).includes(toText(a)) : toText(expected).includes(toText(a));
    case 'not in':
      return Array.isArray(expected) ? !expected.map(toText).includes(toText(a)) : !toText(expected).includes(toText(a));
    case 'all of':
      return Array.isArray(a) && Array.isArray(expected) && expected.every((x) => a.map(toText).includes(toText(x)));
    case 'exists':
      return a !== null && a !== undefined;
    case 'not exists':
      return a === null || a === undefined;
    default:
      return false;
  }
}

function evalConditions(pool: Pool, conditions: unknown, logical: unknown): boolean {
  const list = Array.isArray(conditions) ? conditions.filter(isObject) : [];
  if (list.length === 0) return false;
  const results = list.map((c) => {
    const expected = typeof c.value === 'string' ? pool.render(c.value) : c.value;
    return evalCondition(pool.get(c.variable_selector), String(c.comparison_operator ?? ''), expected);
  });
  return logical === 'or' ? results.some(Boolean) : results.every(Boolean);
}

// ---- graph execution ----
export interface NodeExec {
  id: string;
  nodeId: string;
  type: string;
  title: string;
  index: number;
  predecessor: string | null;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
  status: 'succeeded' | 'failed' | 'exception';
  error: string | null;
  tokens: number;
  usage?: Usage;
  model: boolean;
}

export type Emission =
  | { t: 'node_started'; exec: NodeExec }
  | { t: 'node_finished'; exec: NodeExec }
  | { t: 'text'; text: string; selector: string[] | null; model: boolean }
  | { t: 'stall' };

export interface RunInput {
  mode: 'workflow' | 'advanced-chat';
  graph: Record<string, unknown>;
  inputs: Record<string, unknown>;
  sys: Record<string, unknown>;
  env: Record<string, unknown>;
  conversation: Record<string, unknown>;
  history: { query: string; answer: string }[];
  script?: ScriptRule;
}

export interface RunOutput {
  status: 'succeeded' | 'failed';
  error: string | null;
  outputs: Record<string, unknown>;
  answer: string;
  emissions: Emission[];
  nodes: NodeExec[];
  totalTokens: number;
  promptTokens: number;
  completionTokens: number;
  conversation: Record<string, unknown>;
}

interface GNode {
  id: string;
  data: Record<string, unknown>;
  parentId?: string;
}
interface GEdge {
  id: string;
  source: string;
  target: string;
  sourceHandle: string;
}

const MODEL_TYPES = new Set(['llm', 'agent', 'question-classifier', 'parameter-extractor']);
const MAX_STEPS = 500;

function placeholder(type: unknown, name: string, nodeType: string): unknown {
  const t = String(type ?? 'string');
  if (t === 'number' || t === 'integer') return 0;
  if (t === 'boolean') return false;
  if (t === 'object') return {};
  if (t.startsWith('array')) return [];
  return `[${nodeType}] ${name}`;
}

class Runner {
  pool: Pool;
  emissions: Emission[] = [];
  execs: NodeExec[] = [];
  nodes: Map<string, GNode>;
  edges: GEdge[];
  answer = '';
  outputs: Record<string, unknown> = {};
  steps = 0;
  stalled = false;
  promptTokens = 0;
  completionTokens = 0;
  failure: string | null = null;
  endSelectors = new Set<string>();

  constructor(readonly input: RunInput) {
    this.pool = new Pool(input.sys, { ...input.env }, { ...input.conversation });
    const g = input.graph;
    const nodes = (Array.isArray(g.nodes) ? g.nodes : []).filter(isObject).map((n) => ({
      id: String(n.id),
      data: isObject(n.data) ? n.data : {},
      parentId: typeof n.parentId === 'string' ? n.parentId : undefined,
    }));
    this.nodes = new Map(nodes.filter((n) => n.data.type && n.data.type !== '').map((n) => [n.id, n]));
    this.edges = (Array.isArray(g.edges) ? g.edges : []).filter(isObject).map((e, i) => ({
      id: String(e.id ?? `e${i}`),
      source: String(e.source),
      target: String(e.target),
      sourceHandle: typeof e.sourceHandle === 'string' && e.sourceHandle ? e.sourceHandle : 'source',
    }));
    for (const n of this.nodes.values()) {
      if (n.data.type === 'end' && Array.isArray(n.data.outputs)) {
        for (const o of n.data.outputs.filter(isObject)) if (Array.isArray(o.value_selector)) this.endSelectors.add(o.value_selector.join('.'));
      }
    }
  }

  run(): void {
    const top = [...this.nodes.values()].filter((n) => !n.parentId && !this.isInner(n));
    const roots = top.filter((n) => n.data.type === 'start' || String(n.data.type).startsWith('trigger-'));
    if (roots.length === 0) {
      this.failure = 'Graph has no start node';
      return;
    }
    this.walk(new Set(top.map((n) => n.id)), roots.slice(0, 1).map((n) => n.id));
  }

  private isInner(n: GNode): boolean {
    return n.data.isInIteration === true || n.data.isInLoop === true;
  }

  /** Runs the subgraph made of `ids` from `roots`; a node runs once all its reachable incoming edges resolved. */
  walk(ids: Set<string>, roots: string[]): void {
    const edges = this.edges.filter((e) => ids.has(e.source) && ids.has(e.target));
    const out = new Map<string, GEdge[]>();
    const inc = new Map<string, GEdge[]>();
    for (const e of edges) {
      (out.get(e.source) ?? out.set(e.source, []).get(e.source)!).push(e);
      (inc.get(e.target) ?? inc.set(e.target, []).get(e.target)!).push(e);
    }
    const reachable = new Set<string>(roots);
    const stack = [...roots];
    while (stack.length) for (const e of out.get(stack.pop()!) ?? []) if (!reachable.has(e.target)) reachable.add(e.target), stack.push(e.target);
    const state = new Map<string, 'taken' | 'skipped'>();
    const done = new Set<string>();
    const queue: { id: string; pred: string | null }[] = roots.map((id) => ({ id, pred: null }));

    const resolve = (nodeId: string): void => {
      const ins = (inc.get(nodeId) ?? []).filter((e) => reachable.has(e.source));
      if (!ins.every((e) => state.has(e.id))) return;
      const taken = ins.find((e) => state.get(e.id) === 'taken');
      if (taken) queue.push({ id: nodeId, pred: taken.source });
      else if (!done.has(nodeId)) {
        done.add(nodeId);
        for (const e of out.get(nodeId) ?? []) {
          state.set(e.id, 'skipped');
          resolve(e.target);
        }
      }
    };

    while (queue.length > 0 && !this.failure) {
      const { id, pred } = queue.shift()!;
      if (done.has(id)) continue;
      done.add(id);
      const node = this.nodes.get(id);
      if (!node) continue;
      if (++this.steps > MAX_STEPS) {
        this.failure = 'Max steps exceeded';
        return;
      }
      const handles = this.exec(node, pred);
      if (handles === null) return; // failed
      for (const e of out.get(id) ?? []) {
        state.set(e.id, handles.has(e.sourceHandle) ? 'taken' : 'skipped');
        resolve(e.target);
      }
    }
  }

  private stall(): void {
    if (!this.stalled) {
      this.stalled = true;
      this.emissions.push({ t: 'stall' });
    }
  }

  private exec(node: GNode, pred: string | null): Set<string> | null {
    const d = node.data;
    const type = String(d.type);
    const title = String(d.title ?? type);
    const exec: NodeExec = {
      id: uuid(),
      nodeId: node.id,
      type,
      title,
      index: this.execs.length + 1,
      predecessor: pred,
      inputs: {},
      outputs: {},
      status: 'succeeded',
      error: null,
      tokens: 0,
      model: MODEL_TYPES.has(type),
    };
    this.execs.push(exec);
    this.emissions.push({ t: 'node_started', exec });
    let handles = new Set(['source']);
    const script = this.input.script;
    try {
      if (script?.nodeFailure && script.nodeFailure === title) {
        if (exec.model) this.stall();
        throw new Error(script.error?.message ?? `Node ${title} run failed: scripted failure`);
      }
      handles = this.run1(node, exec) ?? handles;
    } catch (e) {
      const msg = (e as Error).message;
      exec.error = msg;
      const strategy = d.error_strategy;
      if (strategy === 'fail-branch' || strategy === 'default-value') {
        exec.status = 'exception';
        if (strategy === 'default-value') {
          for (const dv of Array.isArray(d.default_value) ? d.default_value.filter(isObject) : []) exec.outputs[String(dv.key)] = dv.value;
        }
        exec.outputs.error_message = msg;
        exec.outputs.error_type = 'NodeRunError';
        this.pool.nodes.set(node.id, exec.outputs);
        handles = new Set([strategy === 'fail-branch' ? 'fail-branch' : 'source']);
      } else {
        exec.status = 'failed';
        this.failure = msg;
        this.emissions.push({ t: 'node_finished', exec });
        return null;
      }
    }
    if (exec.status === 'succeeded' && d.error_strategy === 'fail-branch') handles = new Set([...handles, 'success-branch']);
    this.pool.nodes.set(node.id, exec.outputs);
    this.emissions.push({ t: 'node_finished', exec });
    return handles;
  }

  private llm(modelName: string, messages: { role: string; text: string }[], exec: NodeExec): string {
    const prompt = messages.map((m) => `${m.role}: ${m.text}`).join('\n');
    const lastUser = [...messages].reverse().find((m) => m.role === 'user') ?? messages[messages.length - 1];
    const text = this.input.script?.answer ?? llmText(modelName, prompt, lastUser?.text ?? '');
    const pt = this.input.script?.usage?.prompt_tokens ?? countTokens(prompt);
    const ct = this.input.script?.usage?.completion_tokens ?? countTokens(text);
    this.promptTokens += pt;
    this.completionTokens += ct;
    exec.tokens = pt + ct;
    exec.usage = makeUsage(pt, ct, 0);
    return text;
  }

  private promptMessages(d: Record<string, unknown>): { role: string; text: string }[] {
    const tpl = d.prompt_template;
    const msgs: { role: string; text: string }[] = [];
    if (Array.isArray(tpl)) {
      for (const m of tpl.filter(isObject)) {
        const text = m.edition_type === 'jinja2' ? renderJinja(String(m.jinja2_text ?? m.text ?? ''), this.jinjaVars(d)) : this.pool.render(m.text);
        msgs.push({ role: String(m.role ?? 'user'), text });
      }
    } else if (isObject(tpl)) {
      msgs.push({ role: 'user', text: this.pool.render(tpl.text) });
    }
    const memory = d.memory;
    if (isObject(memory) && this.input.mode === 'advanced-chat') {
      const sys = msgs.filter((m) => m.role === 'system');
      const rest = msgs.filter((m) => m.role !== 'system');
      const hist = this.input.history.flatMap((t) => [
        { role: 'user', text: t.query },
        { role: 'assistant', text: t.answer },
      ]);
      const q = typeof memory.query_prompt_template === 'string' && memory.query_prompt_template ? this.pool.render(memory.query_prompt_template) : toText(this.input.sys.query);
      const user = rest.some((m) => m.role === 'user' && m.text.includes(toText(this.input.sys.query))) ? [] : [{ role: 'user', text: q }];
      return [...sys, ...hist, ...rest, ...user];
    }
    return msgs;
  }

  private jinjaVars(d: Record<string, unknown>): Record<string, unknown> {
    const vars: Record<string, unknown> = {};
    for (const v of Array.isArray(d.variables) ? d.variables.filter(isObject) : []) vars[String(v.variable)] = this.pool.get(v.value_selector);
    for (const v of Array.isArray(d.prompt_config && (d.prompt_config as Record<string, unknown>).jinja2_variables) ? ((d.prompt_config as Record<string, unknown>).jinja2_variables as unknown[]).filter(isObject) : []) {
      vars[String(v.variable)] = this.pool.get(v.value_selector);
    }
    return vars;
  }

  private emitText(text: string, selector: string[] | null, model: boolean): void {
    for (const c of chunkText(text)) this.emissions.push({ t: 'text', text: c, selector, model });
  }

  /** One node; returns the chosen source handles (undefined = 'source'). */
  private run1(node: GNode, exec: NodeExec): Set<string> | undefined {
    const d = node.data;
    const p = this.pool;
    switch (exec.type) {
      case 'start': {
        exec.inputs = { ...this.input.inputs };
        for (const [k, v] of Object.entries(this.input.sys)) exec.inputs[`sys.${k}`] = v;
        exec.outputs = { ...exec.inputs };
        return;
      }
      case 'end': {
        for (const o of Array.isArray(d.outputs) ? d.outputs.filter(isObject) : []) {
          const v = p.get(o.value_selector);
          exec.outputs[String(o.variable)] = v === undefined ? null : v;
        }
        exec.inputs = { ...exec.outputs };
        Object.assign(this.outputs, exec.outputs);
        return;
      }
      case 'answer': {
        const text = p.render(d.answer);
        exec.outputs = { answer: text, files: [] };
        this.answer += text;
        if (this.input.mode === 'advanced-chat') {
          if (!this.stalled && text) this.stall();
          this.emitText(text, null, false);
        }
        return;
      }
      case 'llm': {
        const model = isObject(d.model) ? String(d.model.name ?? 'model') : 'model';
        const messages = this.promptMessages(d);
        exec.inputs = {};
        this.stall();
        const text = this.llm(model, messages, exec);
        exec.outputs = { text, reasoning_content: '', usage: exec.usage, finish_reason: 'stop' };
        if (this.input.mode === 'workflow' && this.endSelectors.has(`${node.id}.text`)) this.emitText(text, [node.id, 'text'], true);
        return;
      }
      case 'agent': {
        const model = 'agent';
        const q = toText(p.get(['sys', 'query'])) || JSON.stringify(this.input.inputs);
        this.stall();
        const text = this.llm(model, [{ role: 'user', text: q }], exec);
        exec.outputs = { text, files: [], json: [] };
        return;
      }
      case 'question-classifier': {
        const q = toText(p.get(d.query_variable_selector));
        const classes = Array.isArray(d.classes) ? d.classes.filter(isObject) : [];
        const chosen = classes.find((c) => q.toLowerCase().includes(String(c.name ?? '').toLowerCase()) && c.name) ?? classes[0];
        this.stall();
        this.llm(isObject(d.model) ? String(d.model.name) : 'model', [{ role: 'user', text: q }], exec);
        exec.inputs = { query: q };
        exec.outputs = { class_name: chosen ? String(chosen.name ?? '') : '', class_id: chosen ? String(chosen.id ?? '') : '' };
        return new Set([chosen ? String(chosen.id) : 'source']);
      }
      case 'parameter-extractor': {
        const q = toText(p.get(d.query));
        this.stall();
        this.llm(isObject(d.model) ? String(d.model.name) : 'model', [{ role: 'user', text: q }], exec);
        for (const prm of Array.isArray(d.parameters) ? d.parameters.filter(isObject) : []) {
          exec.outputs[String(prm.name)] = placeholder(prm.type, String(prm.name), 'parameter-extractor');
        }
        exec.outputs.__is_success = 1;
        exec.outputs.__reason = null;
        return;
      }
      case 'if-else': {
        const cases = Array.isArray(d.cases) ? d.cases.filter(isObject) : [];
        if (cases.length === 0 && Array.isArray(d.conditions)) {
          const ok = evalConditions(p, d.conditions, d.logical_operator);
          exec.outputs = { result: ok, selected_case_id: ok ? 'true' : 'false' };
          return new Set([ok ? 'true' : 'false']);
        }
        for (const c of cases) {
          if (evalConditions(p, c.conditions, c.logical_operator)) {
            const id = String(c.case_id ?? c.id ?? 'true');
            exec.outputs = { result: true, selected_case_id: id };
            return new Set([id]);
          }
        }
        exec.outputs = { result: false, selected_case_id: 'false' };
        return new Set(['false']);
      }
      case 'template-transform': {
        const vars = this.jinjaVars(d);
        exec.inputs = vars;
        exec.outputs = { output: renderJinja(String(d.template ?? ''), vars) };
        return;
      }
      case 'code': {
        for (const v of Array.isArray(d.variables) ? d.variables.filter(isObject) : []) exec.inputs[String(v.variable)] = p.get(v.value_selector);
        const outs = isObject(d.outputs) ? d.outputs : {};
        for (const [k, v] of Object.entries(outs)) exec.outputs[k] = placeholder(isObject(v) ? v.type : 'string', k, 'code');
        return;
      }
      case 'http-request':
        exec.outputs = { status_code: 200, body: '', headers: {}, files: [] };
        return;
      case 'tool':
        exec.outputs = { text: `[tool] ${String(d.tool_name ?? d.provider_name ?? 'tool')}`, files: [], json: [] };
        return;
      case 'knowledge-retrieval':
      case 'knowledge-retrieval-v2':
        exec.outputs = { result: [] };
        return;
      case 'document-extractor': {
        const v = p.get(d.variable_selector);
        exec.outputs = { text: Array.isArray(v) ? v.map(() => '') : '' };
        return;
      }
      case 'list-operator': {
        const v = p.get(d.variable);
        const arr = Array.isArray(v) ? v : [];
        exec.outputs = { result: arr, first_record: arr[0] ?? null, last_record: arr[arr.length - 1] ?? null };
        return;
      }
      case 'variable-aggregator':
      case 'variable-assigner': {
        const adv = isObject(d.advanced_settings) ? d.advanced_settings : undefined;
        if (adv?.group_enabled && Array.isArray(adv.groups)) {
          for (const g of adv.groups.filter(isObject)) {
            const v = (Array.isArray(g.variables) ? g.variables : []).map((s) => p.get(s)).find((x) => x !== undefined && x !== null);
            exec.outputs[String(g.group_name ?? 'Group1')] = { output: v ?? null };
          }
        } else {
          const v = (Array.isArray(d.variables) ? d.variables : []).map((s) => p.get(s)).find((x) => x !== undefined && x !== null);
          exec.outputs = { output: v ?? null };
        }
        return;
      }
      case 'assigner':
        this.assign(d, exec);
        return;
      case 'iteration':
        this.iteration(node, exec);
        return;
      case 'loop':
        this.loop(node, exec);
        return;
      case 'iteration-start':
      case 'loop-start':
      case 'loop-end':
        return;
      default:
        if (exec.type.startsWith('trigger-')) exec.outputs = { ...this.input.inputs };
        return;
    }
  }

  private assign(d: Record<string, unknown>, exec: NodeExec): void {
    const p = this.pool;
    const apply = (sel: unknown, op: string, value: unknown): void => {
      if (!Array.isArray(sel)) return;
      const s = sel.map(String);
      const cur = p.get(s);
      let next: unknown = cur;
      switch (op) {
        case 'over-write':
        case 'set':
          next = value;
          break;
        case 'clear':
          next = Array.isArray(cur) ? [] : typeof cur === 'number' ? 0 : isObject(cur) ? {} : '';
          break;
        case 'append':
          next = [...(Array.isArray(cur) ? cur : []), value];
          break;
        case 'extend':
          next = [...(Array.isArray(cur) ? cur : []), ...(Array.isArray(value) ? value : [])];
          break;
        case '+=':
          next = num(cur) + num(value);
          break;
        case '-=':
          next = num(cur) - num(value);
          break;
        case '*=':
          next = num(cur) * num(value);
          break;
        case '/=':
          next = num(value) === 0 ? cur : num(cur) / num(value);
          break;
        case 'remove-first':
          next = Array.isArray(cur) ? cur.slice(1) : cur;
          break;
        case 'remove-last':
          next = Array.isArray(cur) ? cur.slice(0, -1) : cur;
          break;
      }
      p.set(s, next);
      exec.outputs[s.join('.')] = next;
    };
    if (Array.isArray(d.items)) {
      for (const it of d.items.filter(isObject)) {
        const value = it.input_type === 'constant' ? it.value : p.get(it.value);
        apply(it.variable_selector, String(it.operation ?? 'over-write'), value);
      }
    } else {
      apply(d.assigned_variable_selector, String(d.write_mode ?? 'over-write'), p.get(d.input_variable_selector));
    }
    exec.outputs = {};
  }

  private children(containerId: string): Set<string> {
    return new Set([...this.nodes.values()].filter((n) => n.parentId === containerId || n.data.iteration_id === containerId || n.data.loop_id === containerId).map((n) => n.id));
  }

  private iteration(node: GNode, exec: NodeExec): void {
    const d = node.data;
    const list = this.pool.get(d.iterator_selector);
    const items = Array.isArray(list) ? list : [];
    const ids = this.children(node.id);
    const start = typeof d.start_node_id === 'string' ? d.start_node_id : [...ids].find((i) => this.nodes.get(i)?.data.type === 'iteration-start');
    const results: unknown[] = [];
    exec.inputs = { iterator_selector: items };
    items.slice(0, 100).forEach((item, index) => {
      if (this.failure) return;
      this.pool.nodes.set(node.id, { item, index });
      if (start) this.walk(ids, [start]);
      results.push(this.pool.get(d.output_selector) ?? null);
    });
    const flatten = d.flatten_output !== false && results.length > 0 && results.every(Array.isArray);
    exec.outputs = { output: flatten ? (results as unknown[][]).flat() : results };
  }

  private loop(node: GNode, exec: NodeExec): void {
    const d = node.data;
    const ids = this.children(node.id);
    const start = typeof d.start_node_id === 'string' ? d.start_node_id : [...ids].find((i) => this.nodes.get(i)?.data.type === 'loop-start');
    const vars: Record<string, unknown> = {};
    for (const lv of Array.isArray(d.loop_variables) ? d.loop_variables.filter(isObject) : []) {
      vars[String(lv.label)] = lv.value_type === 'variable' ? this.pool.get(lv.value) : lv.value;
    }
    this.pool.nodes.set(node.id, { ...vars, index: 0 });
    const count = Math.min(Number(d.loop_count ?? 1) || 1, 100);
    let i = 0;
    for (; i < count && !this.failure; i++) {
      const o = this.pool.nodes.get(node.id) ?? {};
      o.index = i;
      this.pool.nodes.set(node.id, o);
      if (Array.isArray(d.break_conditions) && d.break_conditions.length > 0 && evalConditions(this.pool, d.break_conditions, d.logical_operator)) break;
      if (start) this.walk(ids, [start]);
      if (Array.isArray(d.break_conditions) && d.break_conditions.length > 0 && evalConditions(this.pool, d.break_conditions, d.logical_operator)) {
        i++;
        break;
      }
    }
    const final = this.pool.nodes.get(node.id) ?? {};
    exec.outputs = { ...final, loop_round: i };
    delete exec.outputs.index;
  }
}

export function runGraph(input: RunInput): RunOutput {
  const r = new Runner(input);
  r.run();
  if (!r.stalled) r.emissions.push({ t: 'stall' });
  let outputs = r.outputs;
  if (input.script?.outputs) outputs = { ...outputs, ...input.script.outputs };
  const failed = r.failure !== null;
  return {
    status: failed ? 'failed' : 'succeeded',
    error: r.failure,
    outputs: failed ? {} : outputs,
    answer: r.answer,
    emissions: r.emissions,
    nodes: r.execs,
    totalTokens: r.promptTokens + r.completionTokens,
    promptTokens: r.promptTokens,
    completionTokens: r.completionTokens,
    conversation: r.pool.conversation,
  };
}
