/**
 * The graph walk of a workflow run: from the start node, a node runs once all its reachable incoming edges are
 * resolved, and skips propagate over branches not taken. What each node type does is in nodes.ts.
 */
import { NODE_HANDLERS, passThrough } from './nodes.js';
import { countTokens, llmText, makeUsage, chunkText, type Usage } from './model.js';
import { toText } from './model-values.js';
import { renderJinja } from './jinja.js';
import { Pool } from './pool.js';
import type { ScriptRule } from './types.js';
import { isObject, uuid } from './util.js';

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
  /** Knowledge retrieval for `knowledge-retrieval` nodes: the app workspace's datasets (kb-retrieval.ts). */
  retrieve?: (datasetIds: string[], query: string, opts: { topK?: number; threshold?: number | null }) => Record<string, unknown>[];
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

export interface GNode {
  id: string;
  data: Record<string, unknown>;
  parentId?: string;
}
export interface GEdge {
  id: string;
  source: string;
  target: string;
  sourceHandle: string;
}

const MODEL_TYPES = new Set(['llm', 'agent', 'question-classifier', 'parameter-extractor']);
const MAX_STEPS = 500;

export class Runner {
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

  stall(): void {
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
      handles = (NODE_HANDLERS[type] ?? passThrough)(this, node, exec) ?? handles;
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

  /** The model's answer; `quote` (the best knowledge chunk of the node's context) is appended, as a RAG answer cites it. */
  llm(modelName: string, messages: { role: string; text: string }[], exec: NodeExec, quote = ''): string {
    const prompt = messages.map((m) => `${m.role}: ${m.text}`).join('\n');
    const lastUser = [...messages].reverse().find((m) => m.role === 'user') ?? messages[messages.length - 1];
    const echo = (lastUser?.text ?? '') + (quote ? `\n${quote}` : '');
    const text = this.input.script?.answer ?? llmText(modelName, prompt, echo);
    const pt = this.input.script?.usage?.prompt_tokens ?? countTokens(prompt);
    const ct = this.input.script?.usage?.completion_tokens ?? countTokens(text);
    this.promptTokens += pt;
    this.completionTokens += ct;
    exec.tokens = pt + ct;
    exec.usage = makeUsage(pt, ct, 0);
    return text;
  }

  promptMessages(d: Record<string, unknown>): { role: string; text: string }[] {
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

  jinjaVars(d: Record<string, unknown>): Record<string, unknown> {
    const vars: Record<string, unknown> = {};
    for (const v of Array.isArray(d.variables) ? d.variables.filter(isObject) : []) vars[String(v.variable)] = this.pool.get(v.value_selector);
    for (const v of Array.isArray(d.prompt_config && (d.prompt_config as Record<string, unknown>).jinja2_variables) ? ((d.prompt_config as Record<string, unknown>).jinja2_variables as unknown[]).filter(isObject) : []) {
      vars[String(v.variable)] = this.pool.get(v.value_selector);
    }
    return vars;
  }

  emitText(text: string, selector: string[] | null, model: boolean): void {
    for (const c of chunkText(text)) this.emissions.push({ t: 'text', text: c, selector, model });
  }

  /** Nodes inside a container (iteration/loop). */
  children(containerId: string): Set<string> {
    return new Set([...this.nodes.values()].filter((n) => n.parentId === containerId || n.data.iteration_id === containerId || n.data.loop_id === containerId).map((n) => n.id));
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
