/**
 * Semantic diff of two normalised DSLs (live → rendered): nodes added/removed/changed by id and title, prompts as
 * unified diffs, model and parameter changes, environment variables (secrets only as changed/unchanged), features,
 * and everything else as field changes. Pure: no I/O.
 */
import { BoundedCache } from '../yaml/plain-json.js';
import { SECRET_MARKER, type NormalisedDsl } from './normalise.js';
import type { ChangeSummary, DslDiff, FieldChange, ModelChange, NodeRef, VarChange } from '../results/changes.js';

const PROMPT_KEYS = new Set(['text', 'pre_prompt', 'template', 'code', 'instruction', 'jinja2_text', 'query_prompt_template', 'opening_statement', 'answer', 'prompt', 'query']);
const CHAT_FEATURE_KEYS = new Set([
  'opening_statement',
  'suggested_questions',
  'suggested_questions_after_answer',
  'speech_to_text',
  'text_to_speech',
  'retriever_resource',
  'sensitive_word_avoidance',
  'more_like_this',
  'file_upload',
  'annotation_reply',
]);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Short display form of a value for change lists. */
export function show(v: unknown, max = 80): string | undefined {
  if (v === undefined) return undefined;
  const s = typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function join(path: string, k: string | number): string {
  return typeof k === 'number' ? `${path}[${k}]` : path ? `${path}.${k}` : k;
}

interface Leaf {
  path: string;
  key: string | number;
  from: unknown;
  to: unknown;
}

/** Changed leaves between a and b; arrays compared element-wise. */
export function leafChanges(a: unknown, b: unknown, path = '', key: string | number = ''): Leaf[] {
  if (isObj(a) && isObj(b)) {
    const out: Leaf[] = [];
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) out.push(...leafChanges(a[k], b[k], join(path, k), k));
    return out;
  }
  if (Array.isArray(a) && Array.isArray(b) && (a.some((x) => typeof x === 'object') || b.some((x) => typeof x === 'object'))) {
    const out: Leaf[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) out.push(...leafChanges(a[i], b[i], join(path, i), key));
    return out;
  }
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  return [{ path, key, from: a, to: b }];
}

// ---------------------------------------------------------------- unified diff of text (LCS by lines)

export function unifiedDiff(a: string, b: string, opts: { context?: number; from?: string; to?: string } = {}): string {
  // A fan-out diffs the same prompt change (same live and git text) for every tenant: compute each one once.
  const key = a.length + b.length <= 256 * 1024 ? JSON.stringify([a, b, opts.context ?? 3, opts.from ?? 'live', opts.to ?? 'git']) : undefined;
  const hit = key === undefined ? undefined : unifiedDiffs.get(key);
  if (hit !== undefined) return hit;
  const text = computeUnifiedDiff(a, b, opts);
  return key === undefined ? text : unifiedDiffs.set(key, text);
}

const unifiedDiffs = new BoundedCache<string>(64, 1024 * 1024);

function computeUnifiedDiff(a: string, b: string, opts: { context?: number; from?: string; to?: string }): string {
  const ctx = opts.context ?? 3;
  const x = a.split('\n');
  const y = b.split('\n');
  if (x.length * y.length > 4_000_000) return `--- ${opts.from ?? 'live'}\n+++ ${opts.to ?? 'git'}\n@@ (${x.length} → ${y.length} lines; too large to diff) @@`;
  // LCS table from the end.
  const n = x.length;
  const m = y.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i]![j] = x[i] === y[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const ops: { t: ' ' | '-' | '+'; s: string; ai: number; bi: number }[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) ops.push({ t: ' ', s: x[i]!, ai: i++, bi: j++ });
    // Deletions first, as diff(1) prints them.
    else if (i < n && (j >= m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) ops.push({ t: '-', s: x[i]!, ai: i++, bi: j });
    else ops.push({ t: '+', s: y[j]!, ai: i, bi: j++ });
  }
  const lines = [`--- ${opts.from ?? 'live'}`, `+++ ${opts.to ?? 'git'}`];
  let k = 0;
  while (k < ops.length) {
    if (ops[k]!.t === ' ') {
      k++;
      continue;
    }
    let start = Math.max(0, k - ctx);
    let end = k;
    // Extend the hunk while changes are within 2*ctx of each other.
    while (end < ops.length) {
      if (ops[end]!.t !== ' ') {
        end++;
        continue;
      }
      let run = 0;
      while (end + run < ops.length && ops[end + run]!.t === ' ') run++;
      if (end + run >= ops.length || run > 2 * ctx) {
        end = Math.min(ops.length, end + ctx);
        break;
      }
      end += run;
    }
    const hunk = ops.slice(start, end);
    const aStart = hunk[0]!.ai + 1;
    const bStart = hunk[0]!.bi + 1;
    const aLen = hunk.filter((o) => o.t !== '+').length;
    const bLen = hunk.filter((o) => o.t !== '-').length;
    lines.push(`@@ -${aLen ? aStart : aStart - 1},${aLen} +${bLen ? bStart : bStart - 1},${bLen} @@`);
    for (const o of hunk) lines.push(`${o.t}${o.s}`);
    k = end;
    start = end;
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------- DSL diff

function nodesOf(d: NormalisedDsl | undefined): Map<string, Obj> {
  const nodes = (d?.workflow as Obj | undefined)?.graph as Obj | undefined;
  const list = Array.isArray(nodes?.nodes) ? (nodes!.nodes as unknown[]) : [];
  const out = new Map<string, Obj>();
  for (const n of list) if (isObj(n) && typeof n.id === 'string') out.set(n.id, n);
  return out;
}

function nodeRef(n: Obj): NodeRef {
  const data = isObj(n.data) ? n.data : {};
  return { id: String(n.id), title: String(data.title ?? n.id), type: String(data.type ?? n.type ?? '') };
}

function edgesOf(d: NormalisedDsl | undefined, titles: Map<string, string>): Set<string> {
  const g = (d?.workflow as Obj | undefined)?.graph as Obj | undefined;
  const list = Array.isArray(g?.edges) ? (g!.edges as unknown[]) : [];
  const out = new Set<string>();
  for (const e of list) {
    if (!isObj(e)) continue;
    const h = e.sourceHandle && e.sourceHandle !== 'source' ? ` [${String(e.sourceHandle)}]` : '';
    out.add(`${titles.get(String(e.source)) ?? e.source} → ${titles.get(String(e.target)) ?? e.target}${h}`);
  }
  return out;
}

function modelLabel(m: unknown): string | undefined {
  if (!isObj(m)) return undefined;
  return `${m.provider ?? '?'}/${m.name ?? '?'}${m.mode ? ` (${m.mode})` : ''}`;
}

/** Splits leaf changes under one owner (a node's data, or model_config) into prompts, models, plain fields. */
function classify(where: string, before: Obj | undefined, after: Obj | undefined, diff: DslDiff, fields: FieldChange[], featureKeys?: Set<string>): void {
  const leaves = leafChanges(before ?? {}, after ?? {});
  let model: ModelChange | undefined;
  for (const l of leaves) {
    const top = l.path.split(/[.[]/)[0]!;
    if (top === 'model') {
      model ??= { where, from: modelLabel(before?.model), to: modelLabel(after?.model), params: [] };
      if (l.path.startsWith('model.completion_params')) model.params.push({ path: l.path.slice('model.completion_params.'.length), from: show(l.from), to: show(l.to) });
      continue;
    }
    if (featureKeys?.has(top) && !(top === 'opening_statement' && (typeof l.from === 'string' || typeof l.to === 'string') && /\n/.test(String(l.from ?? '') + String(l.to ?? '')))) {
      diff.features.push({ path: l.path, from: show(l.from), to: show(l.to) });
      continue;
    }
    const isText = (v: unknown) => v === undefined || typeof v === 'string';
    if (isText(l.from) && isText(l.to) && (PROMPT_KEYS.has(String(l.key)) || /\n/.test(String(l.from ?? '') + String(l.to ?? '')))) {
      diff.prompts.push({ where, path: l.path, unified: unifiedDiff(String(l.from ?? ''), String(l.to ?? ''), { from: `live ${where} ${l.path}`, to: `git ${where} ${l.path}` }) });
      continue;
    }
    fields.push({ path: l.path, from: show(l.from), to: show(l.to) });
  }
  if (model) {
    if (model.from === model.to) {
      delete model.from;
      delete model.to;
    }
    diff.models.push(model);
  }
}

function diffVars(before: unknown, after: unknown, secretChanges: Record<string, boolean | undefined>): VarChange[] {
  const map = (l: unknown) => new Map((Array.isArray(l) ? l : []).filter(isObj).map((v) => [String(v.name), v] as const));
  const a = map(before);
  const b = map(after);
  const out: VarChange[] = [];
  for (const name of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const x = a.get(name);
    const y = b.get(name);
    const secret = x?.value_type === 'secret' || y?.value_type === 'secret' || x?.value === SECRET_MARKER || y?.value === SECRET_MARKER;
    if (!x) out.push({ name, change: 'added', secret, ...(secret ? {} : { to: show(y!.value) }) });
    else if (!y) out.push({ name, change: 'removed', secret, ...(secret ? {} : { from: show(x.value) }) });
    else {
      const structural = JSON.stringify({ ...x, value: secret ? 0 : x.value }) !== JSON.stringify({ ...y, value: secret ? 0 : y.value });
      const valueChanged = secret ? Boolean(secretChanges[name]) : false;
      if (structural || valueChanged) out.push({ name, change: 'changed', secret, ...(secret ? {} : { from: show(x.value), to: show(y.value) }) });
      else if (secret) out.push({ name, change: 'unchanged', secret });
    }
  }
  return out;
}

export interface DiffOptions {
  /** Per secret name: did the value change? (compared in memory, never stored) */
  secretChanges?: Record<string, boolean | undefined>;
}

export function diffDsl(live: NormalisedDsl | undefined, git: NormalisedDsl, opts: DiffOptions = {}): DslDiff {
  const diff: DslDiff = {
    create: live === undefined,
    app: [],
    nodes: { added: [], removed: [], changed: [] },
    edges: { added: [], removed: [] },
    prompts: [],
    models: [],
    envVars: [],
    conversationVars: [],
    features: [],
    other: [],
  };
  const l = live ?? {};
  for (const c of leafChanges(l.app, git.app, 'app')) diff.app.push({ path: c.path, from: show(c.from), to: show(c.to) });

  // Workflow modes.
  const lw = isObj(l.workflow) ? l.workflow : undefined;
  const gw = isObj(git.workflow) ? git.workflow : undefined;
  if (lw || gw) {
    const a = nodesOf(l);
    const b = nodesOf(git);
    const titles = new Map<string, string>();
    for (const [id, n] of [...a, ...b]) titles.set(id, nodeRef(n).title);
    for (const [id, n] of b) if (!a.has(id)) diff.nodes.added.push(nodeRef(n));
    for (const [id, n] of a) if (!b.has(id)) diff.nodes.removed.push(nodeRef(n));
    for (const [id, nb] of b) {
      const na = a.get(id);
      if (!na) continue;
      const ref = nodeRef(nb);
      const fields: FieldChange[] = [];
      const where = `node '${ref.title}' (${id})`;
      const before = diff.prompts.length + diff.models.length;
      classify(where, isObj(na.data) ? na.data : {}, isObj(nb.data) ? nb.data : {}, diff, fields);
      for (const c of leafChanges({ ...na, data: undefined }, { ...nb, data: undefined })) fields.push({ path: c.path, from: show(c.from), to: show(c.to) });
      if (fields.length > 0 || diff.prompts.length + diff.models.length > before) diff.nodes.changed.push({ ...ref, fields });
    }
    const ea = edgesOf(l, titles);
    const eb = edgesOf(git, titles);
    diff.edges.added = [...eb].filter((e) => !ea.has(e)).sort();
    diff.edges.removed = [...ea].filter((e) => !eb.has(e)).sort();
    diff.envVars = diffVars(lw?.environment_variables, gw?.environment_variables, opts.secretChanges ?? {});
    diff.conversationVars = diffVars(lw?.conversation_variables, gw?.conversation_variables, {});
    for (const c of leafChanges(lw?.features, gw?.features, 'features')) diff.features.push({ path: c.path, from: show(c.from), to: show(c.to) });
    const rest = (w: Obj | undefined) => {
      const { graph, environment_variables, conversation_variables, features, ...r } = w ?? {};
      void graph, environment_variables, conversation_variables, features;
      const g = isObj(graph) ? graph : {};
      const { nodes, edges, ...gr } = g;
      void nodes, edges;
      return { ...r, graph: gr };
    };
    for (const c of leafChanges(rest(lw), rest(gw), 'workflow')) diff.other.push({ path: c.path, from: show(c.from), to: show(c.to) });
  }

  // Chat, agent-chat, completion.
  const lm = isObj(l.model_config) ? l.model_config : undefined;
  const gm = isObj(git.model_config) ? git.model_config : undefined;
  if (lm || gm) {
    const fields: FieldChange[] = [];
    classify('model_config', lm, gm, diff, fields, CHAT_FEATURE_KEYS);
    diff.other.push(...fields.map((f) => ({ ...f, path: `model_config.${f.path}` })));
  }
  for (const k of new Set([...Object.keys(l), ...Object.keys(git)])) {
    if (k === 'app' || k === 'workflow' || k === 'model_config') continue;
    for (const c of leafChanges(l[k], git[k], k)) diff.other.push({ path: c.path, from: show(c.from), to: show(c.to) });
  }
  return diff;
}

export function summarise(d: DslDiff): ChangeSummary {
  const envChanged = d.envVars.filter((v) => v.change !== 'unchanged');
  const s: ChangeSummary = {
    changed: false,
    create: d.create,
    nodesAdded: d.nodes.added.length,
    nodesRemoved: d.nodes.removed.length,
    nodesChanged: d.nodes.changed.length,
    edgesChanged: d.edges.added.length + d.edges.removed.length,
    promptChanges: d.prompts.length,
    modelChanges: d.models.length,
    envVarChanges: envChanged.filter((v) => !v.secret).length,
    secretChanges: envChanged.filter((v) => v.secret).length,
    conversationVarChanges: d.conversationVars.filter((v) => v.change !== 'unchanged').length,
    featureChanges: d.features.length,
    appChanges: d.app.length,
    otherChanges: d.other.length,
  };
  s.changed =
    d.create ||
    s.nodesAdded + s.nodesRemoved + s.nodesChanged + s.edgesChanged + s.promptChanges + s.modelChanges + s.envVarChanges + s.secretChanges + s.conversationVarChanges + s.featureChanges + s.appChanges + s.otherChanges > 0;
  return s;
}
