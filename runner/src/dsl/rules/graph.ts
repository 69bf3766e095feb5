/**
 * Graph: what Dify checks only when the workflow runs or is published (graphon graph/validation.py) — ids, edges,
 * branch handles, roots, reachability, cycles and iteration/loop containers.
 */
import { CONTAINER_START_TYPES, CONTAINER_TYPES, DslGraph, KNOWN_NODE_TYPES, TRIGGER_TYPES, isRecord, type GraphNode } from '../graph.js';
import type { Rule, RuleContext } from './context.js';

export function nodeLabel(n: GraphNode): string {
  const title = typeof n.data.title === 'string' && n.data.title ? n.data.title : undefined;
  return `${n.type || 'node'} '${n.id}'${title && title !== n.id ? ` (${title})` : ''}`;
}

/** Handles a branch node's outgoing edges may use; null when any handle is fine. */
export function allowedHandles(n: GraphNode): Set<string> | null {
  const failBranch = n.data.error_strategy === 'fail-branch';
  let handles: Set<string> | null = null;
  if (n.type === 'if-else') {
    handles = new Set(['false']);
    if (Array.isArray(n.data.cases)) {
      for (const c of n.data.cases) {
        const id = isRecord(c) ? (c.case_id ?? c.id) : undefined;
        if (id !== undefined && id !== null) handles.add(String(id));
      }
    } else handles.add('true'); // DSL 0.1.x: top-level `conditions`, one true branch
  } else if (n.type === 'question-classifier') {
    handles = new Set();
    if (Array.isArray(n.data.classes)) for (const c of n.data.classes) if (isRecord(c) && c.id !== undefined && c.id !== null) handles.add(String(c.id));
  } else if (failBranch) {
    handles = new Set(['source']);
  }
  if (failBranch && handles) ['fail-branch', 'success-branch'].forEach((h) => handles!.add(h));
  return handles;
}

/** Ids reachable from the start/trigger nodes, or null when the graph has no root (DSL033 says so). */
export function reachableFromRoots(ctx: RuleContext): Set<string> | null {
  return ctx.memo('reachable', () => {
    const g = ctx.graph!;
    const { starts, triggers } = roots(g);
    return starts.length + triggers.length ? reachable(g, [...starts, ...triggers]) : null;
  });
}

/** Start and trigger nodes at the top level (not inside a container). */
function roots(g: DslGraph): { starts: GraphNode[]; triggers: GraphNode[] } {
  const top = g.executable.filter((n) => !n.parentId);
  return { starts: top.filter((n) => n.type === 'start'), triggers: top.filter((n) => TRIGGER_TYPES.has(n.type)) };
}

/** Nodes reachable from the roots; entering a container enters its start node. */
export function reachable(g: DslGraph, from: GraphNode[]): Set<string> {
  const seen = new Set<string>();
  const stack = from.map((n) => n.id);
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const e of g.out.get(id) ?? []) stack.push(e.target as string);
    for (const a of g.attached.get(id) ?? []) stack.push(a);
    const node = g.byId.get(id);
    if (node && CONTAINER_TYPES.has(node.type)) {
      const kids = g.children.get(id) ?? [];
      const startId = typeof node.data.start_node_id === 'string' ? node.data.start_node_id : undefined;
      for (const k of kids) if (k.id === startId || k.type === CONTAINER_START_TYPES[node.type] || !(g.in.get(k.id)?.length)) stack.push(k.id);
    }
  }
  return seen;
}

export const graphRules: Rule[] = [
  {
    id: 'DSL030',
    name: 'duplicate-node-id',
    group: 'graph',
    severity: 'error',
    requires: 'workflow',
    summary: 'Node ids must be unique',
    help: 'Dify indexes nodes by id: the second node with the same id replaces the first at run time, and edges and references become ambiguous. Give every node its own id.',
    check(ctx) {
      const g = ctx.graph!;
      for (const n of g.duplicates) {
        const first = g.byId.get(n.id)!;
        ctx.report(`duplicate node id '${n.id}' (also used by ${nodeLabel(first)} at nodes[${first.index}])`, [...n.path, 'id']);
      }
    },
  },
  {
    id: 'DSL031',
    name: 'edge-endpoint-missing',
    group: 'graph',
    severity: 'error',
    requires: 'workflow',
    summary: 'Edges must connect existing nodes',
    help: 'graphon refuses to run a graph with an edge whose source or target node does not exist ("missing edge endpoints"). Remove the edge or restore the node.',
    check(ctx) {
      const g = ctx.graph!;
      for (const e of g.edges) {
        for (const end of ['source', 'target'] as const) {
          const id = e[end];
          if (typeof id !== 'string' || !id) continue; // the schema reports non-strings
          if (!g.byId.has(id)) ctx.report(`edge ${end} '${id}' is not a node of this graph`, [...e.path, end]);
          else if (DslGraph.isNote(g.byId.get(id)!)) ctx.report(`edge ${end} '${id}' is a sticky note`, [...e.path, end]);
        }
      }
    },
  },
  {
    id: 'DSL032',
    name: 'invalid-source-handle',
    group: 'graph',
    severity: 'error',
    requires: 'workflow',
    summary: 'Edges out of branch nodes must use a handle the node has',
    help: 'An if-else edge leaves through a case_id or `false`, a question-classifier edge through a class id, a fail-branch node through `success-branch`/`fail-branch`. An edge with any other handle is never taken, so its branch silently never runs.',
    check(ctx) {
      const g = ctx.graph!;
      for (const e of g.edges) {
        const src = typeof e.source === 'string' ? g.byId.get(e.source) : undefined;
        if (!src) continue;
        const allowed = allowedHandles(src);
        if (allowed) {
          if (!allowed.has(e.sourceHandle)) {
            ctx.report(`edge leaves ${nodeLabel(src)} through handle '${e.sourceHandle}', which it does not have (one of ${[...allowed].map((h) => `'${h}'`).join(', ')}): this branch never runs`, [...e.path, e.raw.sourceHandle === undefined ? 'source' : 'sourceHandle']);
          }
        } else if (e.sourceHandle === 'fail-branch' || e.sourceHandle === 'success-branch') {
          ctx.report(`edge uses handle '${e.sourceHandle}' but ${nodeLabel(src)} has no error_strategy: fail-branch, so it is never taken`, [...e.path, 'sourceHandle']);
        }
      }
    },
  },
  {
    id: 'DSL033',
    name: 'start-node',
    group: 'graph',
    severity: 'error',
    requires: 'workflow',
    summary: 'Exactly one start node (or trigger nodes in workflow apps)',
    help: 'A workflow runs from one `start` node or from trigger nodes (trigger-webhook, trigger-schedule, trigger-plugin); a chatflow from one `start` node. graphon rejects graphs without a valid root.',
    check(ctx) {
      const g = ctx.graph!;
      const { starts, triggers } = roots(g);
      const nodesPath = ['workflow', 'graph', 'nodes'];
      if (ctx.mode === 'advanced-chat') {
        if (starts.length === 0) ctx.report('chatflow has no start node', nodesPath);
        for (const t of triggers) ctx.report(`${nodeLabel(t)}: trigger nodes only work in workflow apps`, [...t.path, 'data', 'type']);
      } else if (starts.length === 0 && triggers.length === 0) {
        ctx.report('workflow has no start node and no trigger node', nodesPath);
      } else if (starts.length > 0 && triggers.length > 0) {
        ctx.report(`workflow has both a start node and trigger nodes (${triggers.map((t) => t.id).join(', ')}); it must start from one or the other`, [...starts[0]!.path, 'data', 'type']);
      }
      for (const s of starts.slice(1)) ctx.report(`second start node ${nodeLabel(s)} (first: '${starts[0]!.id}'); a graph has exactly one`, [...s.path, 'data', 'type']);
    },
  },
  {
    id: 'DSL034',
    name: 'no-output-node',
    group: 'graph',
    severity: 'error',
    requires: 'workflow',
    summary: 'Workflow apps must reach an `end` node, chatflows an `answer` node',
    help: 'A workflow that never reaches an End node returns no outputs; a chatflow that never reaches an Answer node never replies. Connect the last node to an End (workflow) or Answer (chatflow) node.',
    check(ctx) {
      const g = ctx.graph!;
      const { starts, triggers } = roots(g);
      const from = [...starts, ...triggers];
      if (from.length === 0) return;
      const want = ctx.mode === 'advanced-chat' ? 'answer' : 'end';
      const seen = reachable(g, from);
      for (const id of seen) if (g.byId.get(id)?.type === want) return;
      const exists = g.executable.some((n) => n.type === want);
      ctx.report(exists ? `no ${want} node is reachable from the start node` : `${ctx.mode === 'advanced-chat' ? 'chatflow' : 'workflow'} has no ${want} node`, ['workflow', 'graph', 'nodes']);
    },
  },
  {
    id: 'DSL035',
    name: 'unreachable-node',
    group: 'graph',
    severity: 'warning',
    requires: 'workflow',
    summary: 'Node is not reachable from the start node',
    help: 'Nothing leads to this node, so it never runs. Connect it or delete it.',
    check(ctx) {
      const g = ctx.graph!;
      const { starts, triggers } = roots(g);
      if (starts.length + triggers.length === 0) return;
      const seen = reachable(g, [...starts, ...triggers]);
      for (const n of g.executable) {
        if (!n.id || seen.has(n.id)) continue;
        // A container that is unreachable already says it for its children.
        const parent = g.containerOf(n);
        if (parent && !seen.has(parent.id)) continue;
        ctx.report(`${nodeLabel(n)} is not reachable from the start node and never runs`, [...n.path, 'id']);
      }
    },
  },
  {
    id: 'DSL036',
    name: 'cycle',
    group: 'graph',
    severity: 'error',
    requires: 'workflow',
    summary: 'Cycles are only allowed through loop/iteration containers',
    help: 'Dify runs a DAG: an edge back to an earlier node is rejected at run time or loops forever. Use a Loop node to repeat steps.',
    check(ctx) {
      const g = ctx.graph!;
      const state = new Map<string, 1 | 2>();
      const reported = new Set<number>();
      const stackIds: string[] = [];
      const visit = (id: string): void => {
        state.set(id, 1);
        stackIds.push(id);
        for (const e of g.out.get(id) ?? []) {
          const t = e.target as string;
          const st = state.get(t);
          if (st === 1 && !reported.has(e.index)) {
            reported.add(e.index);
            const cycle = stackIds.slice(stackIds.indexOf(t));
            ctx.report(`edge closes a cycle: ${[...cycle, t].join(' → ')}`, e.path);
          } else if (st === undefined) visit(t);
        }
        stackIds.pop();
        state.set(id, 2);
      };
      for (const n of g.nodes) if (n.id && !state.has(n.id) && g.byId.get(n.id) === n) visit(n.id);
    },
  },
  {
    id: 'DSL037',
    name: 'container-structure',
    group: 'graph',
    severity: 'error',
    requires: 'workflow',
    summary: 'Iteration/loop children must be consistent (parentId, start node, edges inside)',
    help: 'A node inside an iteration or loop has `parentId` = the container; the container names its start child in `data.start_node_id`; edges never cross the container boundary. Otherwise the editor blanks the canvas or the container runs nothing.',
    check(ctx) {
      const g = ctx.graph!;
      for (const n of g.executable) {
        if (!n.parentId) continue;
        const p = g.byId.get(n.parentId);
        if (!p) ctx.report(`${nodeLabel(n)} has parentId '${n.parentId}', which is not a node`, [...n.path, 'parentId']);
        else if (!CONTAINER_TYPES.has(p.type)) ctx.report(`${nodeLabel(n)} has parentId '${n.parentId}', which is a ${p.type || 'note'} node, not an iteration or loop`, [...n.path, 'parentId']);
      }
      for (const c of g.executable) {
        if (!CONTAINER_TYPES.has(c.type)) continue;
        const startId = c.data.start_node_id;
        if (typeof startId !== 'string' || !startId) {
          ctx.report(`${nodeLabel(c)} has no data.start_node_id`, [...c.path, 'data'], { key: true });
          continue;
        }
        const s = g.byId.get(startId);
        if (!s) ctx.report(`${nodeLabel(c)}: start_node_id '${startId}' is not a node`, [...c.path, 'data', 'start_node_id']);
        else if (s.parentId !== c.id) ctx.report(`${nodeLabel(c)}: start node '${startId}' is not inside it (its parentId is ${s.parentId ? `'${s.parentId}'` : 'missing'})`, [...c.path, 'data', 'start_node_id']);
      }
      for (const e of g.edges) {
        const s = typeof e.source === 'string' ? g.byId.get(e.source) : undefined;
        const t = typeof e.target === 'string' ? g.byId.get(e.target) : undefined;
        if (!s || !t || s.parentId === t.parentId) continue;
        const where = (n: GraphNode) => (n.parentId ? `inside '${n.parentId}'` : 'at the top level');
        ctx.report(`edge crosses a container boundary: '${s.id}' is ${where(s)}, '${t.id}' is ${where(t)}`, e.path);
      }
    },
  },
  {
    id: 'DSL038',
    name: 'container-flags',
    group: 'graph',
    severity: 'warning',
    requires: 'workflow',
    summary: 'isInIteration/isInLoop and iteration_id/loop_id must match the parent container',
    help: 'The editor uses these flags to draw and move container children; contradicting flags usually mean a hand edit went wrong.',
    check(ctx) {
      const g = ctx.graph!;
      for (const n of g.executable) {
        const p = g.containerOf(n);
        const inIter = p?.type === 'iteration';
        const inLoop = p?.type === 'loop';
        const d = n.data;
        if ((d.isInIteration === true && !inIter) || (d.isInIteration === false && inIter)) {
          ctx.report(`${nodeLabel(n)}: data.isInIteration is ${d.isInIteration} but the node is ${inIter ? '' : 'not '}inside an iteration`, [...n.path, 'data', 'isInIteration']);
        }
        if ((d.isInLoop === true && !inLoop) || (d.isInLoop === false && inLoop)) {
          ctx.report(`${nodeLabel(n)}: data.isInLoop is ${d.isInLoop} but the node is ${inLoop ? '' : 'not '}inside a loop`, [...n.path, 'data', 'isInLoop']);
        }
        for (const [key, want] of [['iteration_id', inIter], ['loop_id', inLoop]] as const) {
          const v = d[key];
          if (typeof v === 'string' && v && (!want || v !== p!.id)) ctx.report(`${nodeLabel(n)}: data.${key} '${v}' does not match its parentId '${n.parentId ?? ''}'`, [...n.path, 'data', key]);
        }
      }
    },
  },
  {
    id: 'DSL039',
    name: 'unknown-node-type',
    group: 'graph',
    severity: 'warning',
    requires: 'workflow',
    summary: 'Node type dify-ci does not know',
    help: 'Dify adds node types in most releases; dify-ci checks unknown types only for references. If the type is a typo, Dify fails when the workflow runs.',
    check(ctx) {
      for (const n of ctx.graph!.nodes) {
        if (DslGraph.isNote(n) || KNOWN_NODE_TYPES.has(n.type)) continue;
        ctx.report(`unknown node type '${n.type}' (${n.id})`, [...n.path, 'data', 'type']);
      }
    },
  },
];
