/**
 * What each node type does in a run, as a table keyed by `data.type` (docs/emulator.md lists the behaviours). A
 * handler gets the run, the node and its execution record; it fills `exec.inputs`/`exec.outputs` and returns the
 * source handles it takes (undefined = `source`). Types without a handler pass through.
 */
import type { GNode, NodeExec, Runner } from './graph.js';
import { toText } from './model-values.js';
import { renderJinja } from './jinja.js';
import { evalConditions, num } from './pool.js';
import { isObject } from './util.js';

export type NodeHandler = (run: Runner, node: GNode, exec: NodeExec) => Set<string> | void;

const list = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v.filter(isObject) : []);
const modelName = (d: Record<string, unknown>): string => (isObject(d.model) ? String(d.model.name ?? 'model') : 'model');

/** Typed placeholders for outputs the emulator cannot compute (code, parameter-extractor). */
function placeholder(type: unknown, name: string, nodeType: string): unknown {
  const t = String(type ?? 'string');
  if (t === 'number' || t === 'integer') return 0;
  if (t === 'boolean') return false;
  if (t === 'object') return {};
  if (t.startsWith('array')) return [];
  return `[${nodeType}] ${name}`;
}

/** Unknown types and trigger nodes: the run's inputs flow through a trigger, nothing else happens. */
export const passThrough: NodeHandler = (run, _node, exec) => {
  if (exec.type.startsWith('trigger-')) exec.outputs = { ...run.input.inputs };
};

const start: NodeHandler = (run, _node, exec) => {
  exec.inputs = { ...run.input.inputs };
  for (const [k, v] of Object.entries(run.input.sys)) exec.inputs[`sys.${k}`] = v;
  exec.outputs = { ...exec.inputs };
};

const end: NodeHandler = (run, node, exec) => {
  for (const o of list(node.data.outputs)) {
    const v = run.pool.get(o.value_selector);
    exec.outputs[String(o.variable)] = v === undefined ? null : v;
  }
  exec.inputs = { ...exec.outputs };
  Object.assign(run.outputs, exec.outputs);
};

const answer: NodeHandler = (run, node, exec) => {
  const text = run.pool.render(node.data.answer);
  exec.outputs = { answer: text, files: [] };
  run.answer += text;
  if (run.input.mode === 'advanced-chat') {
    if (!run.stalled && text) run.stall();
    run.emitText(text, null, false);
  }
};

/** The LLM node's knowledge context (`context.variable_selector`, usually a knowledge-retrieval `result`). */
function contextOf(run: Runner, d: Record<string, unknown>): { text: string; top: string } {
  const c = isObject(d.context) ? d.context : undefined;
  if (!c?.enabled) return { text: '', top: '' };
  const v = run.pool.get(c.variable_selector);
  const items = Array.isArray(v) ? v.map((x) => (isObject(x) ? toText(x.content) : toText(x))) : v === undefined || v === null ? [] : [toText(v)];
  return { text: items.join('\n'), top: items[0] ?? '' };
}

const llm: NodeHandler = (run, node, exec) => {
  const ctx = contextOf(run, node.data);
  run.pool.context = ctx.text;
  const messages = run.promptMessages(node.data);
  run.pool.context = '';
  exec.inputs = {};
  run.stall();
  const text = run.llm(modelName(node.data), messages, exec, ctx.top);
  exec.outputs = { text, reasoning_content: '', usage: exec.usage, finish_reason: 'stop' };
  if (run.input.mode === 'workflow' && run.endSelectors.has(`${node.id}.text`)) run.emitText(text, [node.id, 'text'], true);
};

const agent: NodeHandler = (run, _node, exec) => {
  const q = toText(run.pool.get(['sys', 'query'])) || JSON.stringify(run.input.inputs);
  run.stall();
  const text = run.llm('agent', [{ role: 'user', text: q }], exec);
  exec.outputs = { text, files: [], json: [] };
};

const questionClassifier: NodeHandler = (run, node, exec) => {
  const d = node.data;
  const q = toText(run.pool.get(d.query_variable_selector));
  const classes = list(d.classes);
  const chosen = classes.find((c) => q.toLowerCase().includes(String(c.name ?? '').toLowerCase()) && c.name) ?? classes[0];
  run.stall();
  run.llm(isObject(d.model) ? String(d.model.name) : 'model', [{ role: 'user', text: q }], exec);
  exec.inputs = { query: q };
  exec.outputs = { class_name: chosen ? String(chosen.name ?? '') : '', class_id: chosen ? String(chosen.id ?? '') : '' };
  return new Set([chosen ? String(chosen.id) : 'source']);
};

const parameterExtractor: NodeHandler = (run, node, exec) => {
  const d = node.data;
  const q = toText(run.pool.get(d.query));
  run.stall();
  run.llm(isObject(d.model) ? String(d.model.name) : 'model', [{ role: 'user', text: q }], exec);
  for (const prm of list(d.parameters)) exec.outputs[String(prm.name)] = placeholder(prm.type, String(prm.name), 'parameter-extractor');
  exec.outputs.__is_success = 1;
  exec.outputs.__reason = null;
};

const ifElse: NodeHandler = (run, node, exec) => {
  const d = node.data;
  const cases = list(d.cases);
  if (cases.length === 0 && Array.isArray(d.conditions)) {
    const ok = evalConditions(run.pool, d.conditions, d.logical_operator);
    exec.outputs = { result: ok, selected_case_id: ok ? 'true' : 'false' };
    return new Set([ok ? 'true' : 'false']);
  }
  for (const c of cases) {
    if (evalConditions(run.pool, c.conditions, c.logical_operator)) {
      const id = String(c.case_id ?? c.id ?? 'true');
      exec.outputs = { result: true, selected_case_id: id };
      return new Set([id]);
    }
  }
  exec.outputs = { result: false, selected_case_id: 'false' };
  return new Set(['false']);
};

const templateTransform: NodeHandler = (run, node, exec) => {
  const vars = run.jinjaVars(node.data);
  exec.inputs = vars;
  exec.outputs = { output: renderJinja(String(node.data.template ?? ''), vars) };
};

const code: NodeHandler = (run, node, exec) => {
  const d = node.data;
  for (const v of list(d.variables)) exec.inputs[String(v.variable)] = run.pool.get(v.value_selector);
  for (const [k, v] of Object.entries(isObject(d.outputs) ? d.outputs : {})) exec.outputs[k] = placeholder(isObject(v) ? v.type : 'string', k, 'code');
};

/** Ranks the node's datasets for the query (kb-retrieval.ts); top_k/threshold from `multiple_retrieval_config`. */
const knowledgeRetrieval: NodeHandler = (run, node, exec) => {
  const d = node.data;
  const query = toText(run.pool.get(d.query_variable_selector));
  const ids = Array.isArray(d.dataset_ids) ? d.dataset_ids.map(String) : [];
  const cfg = isObject(d.multiple_retrieval_config) ? d.multiple_retrieval_config : {};
  // `single` (a router model picks one dataset) is ranked like `multiple` here.
  const topK = typeof cfg.top_k === 'number' ? cfg.top_k : undefined;
  const threshold = typeof cfg.score_threshold === 'number' && cfg.score_threshold_enabled !== false ? cfg.score_threshold : null;
  exec.inputs = { query };
  exec.outputs = { result: run.input.retrieve?.(ids, query, { topK, threshold }) ?? [] };
};

const documentExtractor: NodeHandler = (run, node, exec) => {
  const v = run.pool.get(node.data.variable_selector);
  exec.outputs = { text: Array.isArray(v) ? v.map(() => '') : '' };
};

const listOperator: NodeHandler = (run, node, exec) => {
  const v = run.pool.get(node.data.variable);
  const arr = Array.isArray(v) ? v : [];
  exec.outputs = { result: arr, first_record: arr[0] ?? null, last_record: arr[arr.length - 1] ?? null };
};

const aggregator: NodeHandler = (run, node, exec) => {
  const d = node.data;
  const first = (selectors: unknown): unknown =>
    (Array.isArray(selectors) ? selectors : []).map((s) => run.pool.get(s)).find((x) => x !== undefined && x !== null) ?? null;
  const adv = isObject(d.advanced_settings) ? d.advanced_settings : undefined;
  if (adv?.group_enabled && Array.isArray(adv.groups)) {
    for (const g of list(adv.groups)) exec.outputs[String(g.group_name ?? 'Group1')] = { output: first(g.variables) };
  } else exec.outputs = { output: first(d.variables) };
};

/** The assigner's operations (v1 `write_mode`, v2 `items[].operation`) on the current value. */
function applyOperation(op: string, cur: unknown, value: unknown): unknown {
  switch (op) {
    case 'over-write':
    case 'set':
      return value;
    case 'clear':
      return Array.isArray(cur) ? [] : typeof cur === 'number' ? 0 : isObject(cur) ? {} : '';
    case 'append':
      return [...(Array.isArray(cur) ? cur : []), value];
    case 'extend':
      return [...(Array.isArray(cur) ? cur : []), ...(Array.isArray(value) ? value : [])];
    case '+=':
      return num(cur) + num(value);
    case '-=':
      return num(cur) - num(value);
    case '*=':
      return num(cur) * num(value);
    case '/=':
      return num(value) === 0 ? cur : num(cur) / num(value);
    case 'remove-first':
      return Array.isArray(cur) ? cur.slice(1) : cur;
    case 'remove-last':
      return Array.isArray(cur) ? cur.slice(0, -1) : cur;
    default:
      return cur;
  }
}

const assigner: NodeHandler = (run, node, exec) => {
  const d = node.data;
  const p = run.pool;
  const apply = (sel: unknown, op: string, value: unknown): void => {
    if (!Array.isArray(sel)) return;
    const s = sel.map(String);
    p.set(s, applyOperation(op, p.get(s), value));
  };
  if (Array.isArray(d.items)) {
    for (const it of list(d.items)) apply(it.variable_selector, String(it.operation ?? 'over-write'), it.input_type === 'constant' ? it.value : p.get(it.value));
  } else {
    apply(d.assigned_variable_selector, String(d.write_mode ?? 'over-write'), p.get(d.input_variable_selector));
  }
  exec.outputs = {};
};

function containerStart(run: Runner, node: GNode, ids: Set<string>, startType: string): string | undefined {
  const d = node.data;
  return typeof d.start_node_id === 'string' ? d.start_node_id : [...ids].find((i) => run.nodes.get(i)?.data.type === startType);
}

const iteration: NodeHandler = (run, node, exec) => {
  const d = node.data;
  const items = ((v) => (Array.isArray(v) ? v : []))(run.pool.get(d.iterator_selector));
  const ids = run.children(node.id);
  const startId = containerStart(run, node, ids, 'iteration-start');
  const results: unknown[] = [];
  exec.inputs = { iterator_selector: items };
  items.slice(0, 100).forEach((item, index) => {
    if (run.failure) return;
    run.pool.nodes.set(node.id, { item, index });
    if (startId) run.walk(ids, [startId]);
    results.push(run.pool.get(d.output_selector) ?? null);
  });
  const flatten = d.flatten_output !== false && results.length > 0 && results.every(Array.isArray);
  exec.outputs = { output: flatten ? (results as unknown[][]).flat() : results };
};

const loop: NodeHandler = (run, node, exec) => {
  const d = node.data;
  const ids = run.children(node.id);
  const startId = containerStart(run, node, ids, 'loop-start');
  const vars: Record<string, unknown> = {};
  for (const lv of list(d.loop_variables)) vars[String(lv.label)] = lv.value_type === 'variable' ? run.pool.get(lv.value) : lv.value;
  run.pool.nodes.set(node.id, { ...vars, index: 0 });
  const count = Math.min(Number(d.loop_count ?? 1) || 1, 100);
  const breaks = (): boolean => Array.isArray(d.break_conditions) && d.break_conditions.length > 0 && evalConditions(run.pool, d.break_conditions, d.logical_operator);
  let i = 0;
  for (; i < count && !run.failure; i++) {
    const o = run.pool.nodes.get(node.id) ?? {};
    o.index = i;
    run.pool.nodes.set(node.id, o);
    if (breaks()) break;
    if (startId) run.walk(ids, [startId]);
    if (breaks()) {
      i++;
      break;
    }
  }
  exec.outputs = { ...(run.pool.nodes.get(node.id) ?? {}), loop_round: i };
  delete exec.outputs.index;
};

const nothing: NodeHandler = () => undefined;

export const NODE_HANDLERS: Record<string, NodeHandler> = {
  start,
  end,
  answer,
  llm,
  agent,
  'question-classifier': questionClassifier,
  'parameter-extractor': parameterExtractor,
  'if-else': ifElse,
  'template-transform': templateTransform,
  code,
  'http-request': (_run, _node, exec) => {
    exec.outputs = { status_code: 200, body: '', headers: {}, files: [] };
  },
  tool: (_run, node, exec) => {
    exec.outputs = { text: `[tool] ${String(node.data.tool_name ?? node.data.provider_name ?? 'tool')}`, files: [], json: [] };
  },
  'knowledge-retrieval': knowledgeRetrieval,
  'knowledge-retrieval-v2': knowledgeRetrieval,
  'document-extractor': documentExtractor,
  'list-operator': listOperator,
  'variable-aggregator': aggregator,
  'variable-assigner': aggregator,
  assigner,
  iteration,
  loop,
  'iteration-start': nothing,
  'loop-start': nothing,
  'loop-end': nothing,
};
