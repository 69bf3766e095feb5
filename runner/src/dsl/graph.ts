/**
 * The workflow graph of a DSL as plain lookups: nodes by id, edges, containers (iteration/loop) and the upstream
 * relation references are checked against. Built once per document; every query is linear or memoised.
 */
import type { PathSegment } from '../yaml/source.js';

export interface GraphNode {
  id: string;
  index: number;
  /** `data.type` ('' for sticky notes). */
  type: string;
  /** React Flow type: custom | custom-iteration-start | custom-loop-start | custom-note. */
  uiType: string;
  data: Record<string, unknown>;
  parentId?: string;
  path: PathSegment[];
  raw: Record<string, unknown>;
}

export interface GraphEdge {
  index: number;
  source: unknown;
  target: unknown;
  sourceHandle: string;
  raw: Record<string, unknown>;
  path: PathSegment[];
}

export const GRAPH_PATH: PathSegment[] = ['workflow', 'graph'];

export const CONTAINER_TYPES = new Set(['iteration', 'loop']);
export const CONTAINER_START_TYPES: Record<string, string> = { iteration: 'iteration-start', loop: 'loop-start' };
export const TRIGGER_TYPES = new Set(['trigger-webhook', 'trigger-schedule', 'trigger-plugin']);

/** Node types Dify (graphon) knows; anything else is reported as unknown, not as an error. */
export const KNOWN_NODE_TYPES = new Set([
  'start',
  'end',
  'answer',
  'llm',
  'knowledge-retrieval',
  'knowledge-retrieval-v2',
  'if-else',
  'code',
  'template-transform',
  'question-classifier',
  'http-request',
  'tool',
  'variable-aggregator',
  'variable-assigner',
  'assigner',
  'parameter-extractor',
  'iteration',
  'iteration-start',
  'loop',
  'loop-start',
  'loop-end',
  'document-extractor',
  'list-operator',
  'agent',
  'human-input',
  'datasource',
  'knowledge-index',
  'trigger-webhook',
  'trigger-schedule',
  'trigger-plugin',
]);

export const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export class DslGraph {
  readonly nodes: GraphNode[] = [];
  readonly byId = new Map<string, GraphNode>();
  /** Ids that appear more than once (the first occurrence is in byId). */
  readonly duplicates: GraphNode[] = [];
  readonly edges: GraphEdge[] = [];
  /** Valid edges only (both ends exist), by source and by target. */
  readonly out = new Map<string, GraphEdge[]>();
  readonly in = new Map<string, GraphEdge[]>();
  readonly children = new Map<string, GraphNode[]>();
  private upstreamMemo = new Map<string, Set<string>>();

  constructor(readonly graph: Record<string, unknown>) {
    const nodes = Array.isArray(graph.nodes) ? graph.nodes : [];
    nodes.forEach((raw, index) => {
      if (!isRecord(raw)) return;
      const data = isRecord(raw.data) ? raw.data : {};
      const id = typeof raw.id === 'string' ? raw.id : typeof raw.id === 'number' ? String(raw.id) : '';
      const node: GraphNode = {
        id,
        index,
        type: typeof data.type === 'string' ? data.type : '',
        uiType: typeof raw.type === 'string' ? raw.type : 'custom',
        data,
        parentId: typeof raw.parentId === 'string' && raw.parentId ? raw.parentId : undefined,
        path: [...GRAPH_PATH, 'nodes', index],
        raw,
      };
      this.nodes.push(node);
      if (!id) return;
      if (this.byId.has(id)) this.duplicates.push(node);
      else this.byId.set(id, node);
    });
    for (const n of this.nodes) {
      if (n.parentId && n.id) {
        const list = this.children.get(n.parentId) ?? [];
        list.push(n);
        this.children.set(n.parentId, list);
      }
    }
    const edges = Array.isArray(graph.edges) ? graph.edges : [];
    edges.forEach((raw, index) => {
      if (!isRecord(raw)) return;
      const e: GraphEdge = {
        index,
        source: raw.source,
        target: raw.target,
        sourceHandle: typeof raw.sourceHandle === 'string' && raw.sourceHandle ? raw.sourceHandle : 'source',
        raw,
        path: [...GRAPH_PATH, 'edges', index],
      };
      this.edges.push(e);
      const s = typeof e.source === 'string' ? e.source : undefined;
      const t = typeof e.target === 'string' ? e.target : undefined;
      if (s && t && this.byId.has(s) && this.byId.has(t)) {
        push(this.out, s, e);
        push(this.in, t, e);
      }
    });
  }

  private _attached: Map<string, string[]> | undefined;

  /**
   * Nodes run on behalf of another node rather than through edges: the extractor LLM of a tool parameter
   * (`mention_config.extractor_node_id`, Dify 1.11+).
   */
  get attached(): Map<string, string[]> {
    if (!this._attached) {
      const m = new Map<string, string[]>();
      for (const n of this.nodes) {
        const walk = (v: unknown): void => {
          if (Array.isArray(v)) v.forEach(walk);
          else if (isRecord(v)) {
            if (typeof v.extractor_node_id === 'string') push(m, n.id, v.extractor_node_id);
            for (const x of Object.values(v)) if (x !== null && typeof x === 'object') walk(x);
          }
        };
        if (n.type === 'tool' || n.type === 'agent') walk(n.data);
      }
      this._attached = m;
    }
    return this._attached;
  }

  /** Sticky notes and other UI-only nodes: not part of the executable graph. */
  static isNote(n: GraphNode): boolean {
    return n.uiType === 'custom-note';
  }

  /** Executable nodes (no sticky notes). */
  get executable(): GraphNode[] {
    return this.nodes.filter((n) => !DslGraph.isNote(n));
  }

  containerOf(n: GraphNode): GraphNode | undefined {
    return n.parentId ? this.byId.get(n.parentId) : undefined;
  }

  /** Every node inside container `id`, at any depth. */
  descendants(id: string, acc = new Set<string>()): Set<string> {
    for (const c of this.children.get(id) ?? []) {
      if (acc.has(c.id)) continue;
      acc.add(c.id);
      this.descendants(c.id, acc);
    }
    return acc;
  }

  /**
   * Nodes whose outputs `id` may read: ancestors along edges; for a node in a container, the container and what is
   * upstream of it; for a container, its own children (output selectors, break conditions). Containers upstream
   * bring their children too (Dify keeps their last values in the pool).
   */
  upstream(id: string): Set<string> {
    const memo = this.upstreamMemo.get(id);
    if (memo) return memo;
    const result = new Set<string>();
    this.upstreamMemo.set(id, result); // guards against parent cycles
    const stack = [id];
    const seen = new Set<string>([id]);
    while (stack.length) {
      const cur = stack.pop()!;
      for (const e of this.in.get(cur) ?? []) {
        const s = e.source as string;
        if (!seen.has(s)) {
          seen.add(s);
          result.add(s);
          stack.push(s);
        }
      }
    }
    const node = this.byId.get(id);
    if (node?.parentId && this.byId.has(node.parentId)) {
      result.add(node.parentId);
      for (const u of this.upstream(node.parentId)) result.add(u);
    }
    if (node && CONTAINER_TYPES.has(node.type)) {
      result.add(id);
      this.descendants(id, result);
    }
    for (const u of [...result]) {
      const n = this.byId.get(u);
      if (n && CONTAINER_TYPES.has(n.type)) this.descendants(u, result);
    }
    return result;
  }
}

/** Nodes reachable from `id` along edges (entering containers), excluding `id` unless it is on a cycle. */
export function downstreamOf(g: DslGraph, id: string): Set<string> {
  const seen = new Set<string>();
  const stack = (g.out.get(id) ?? []).map((e) => e.target as string);
  while (stack.length) {
    const cur = stack.pop()!;
    if (seen.has(cur)) continue;
    seen.add(cur);
    for (const e of g.out.get(cur) ?? []) stack.push(e.target as string);
    for (const c of g.children.get(cur) ?? []) stack.push(c.id);
  }
  return seen;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** The graph of a workflow-mode document, or null when there is none. */
export function graphOf(value: unknown): DslGraph | null {
  if (!isRecord(value)) return null;
  const wf = value.workflow;
  if (!isRecord(wf) || !isRecord(wf.graph)) return null;
  return new DslGraph(wf.graph);
}
