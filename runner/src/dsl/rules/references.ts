/**
 * References: every `{{#node.var#}}` and value selector must point at something that exists when the node runs.
 * Dify never checks this at import; a broken reference renders as an empty value (or literal text) at run time.
 */
import { downstreamOf, isRecord } from '../graph.js';
import { CHAT_ONLY_SYS_VARIABLES, NODE_ID_PATTERN, SYS_VARIABLES, promptVariables, type Reference } from '../references.js';
import { nodeLabel, reachableFromRoots } from './graph.js';
import type { Rule, RuleContext } from './context.js';

/** References whose first segment is a node id (not sys/env/conversation/rag/userinput). */
function nodeRefs(ctx: RuleContext): Reference[] {
  return ctx.references.refs.filter((r) => !['sys', 'env', 'conversation', 'rag', 'userinput'].includes(r.selector[0]!));
}

/** Nodes that run after `id`, including after its enclosing containers. */
function downstream(ctx: RuleContext, id: string): Set<string> {
  const g = ctx.graph!;
  const out = downstreamOf(g, id);
  for (let p = g.byId.get(id)?.parentId; p; p = g.byId.get(p)?.parentId) {
    for (const d of downstreamOf(g, p)) out.add(d);
    if (out.size > g.nodes.length) break;
  }
  return out;
}

/** Whether the node is reachable from the start (unknown when there is no start: then assume it runs). */
function runs(ctx: RuleContext, id: string): boolean {
  const seen = reachableFromRoots(ctx);
  return !seen || seen.has(id);
}

function insideLoop(ctx: RuleContext, id: string): boolean {
  const g = ctx.graph!;
  const seen = new Set<string>();
  for (let p = g.byId.get(id)?.parentId; p && !seen.has(p); p = g.byId.get(p)?.parentId) {
    seen.add(p);
    if (g.byId.get(p)?.type === 'loop') return true;
  }
  return false;
}

/** The declared name one or two edits away (a typo such as `qeury`), if exactly one is. */
function closest(name: string, names: string[]): string | undefined {
  const dist = (a: string, b: string): number => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0]![j] = j;
    for (let i = 1; i <= a.length; i++) {
      for (let j = 1; j <= b.length; j++) {
        const cost = a[i - 1] === b[j - 1] ? 0 : 1;
        d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
        if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
      }
    }
    return d[a.length]![b.length]!;
  };
  const near = names.filter((n) => dist(name.toLowerCase(), n.toLowerCase()) <= (name.length > 4 ? 2 : 1));
  return near.length === 1 ? near[0] : undefined;
}

function where(r: Reference): string {
  return r.from ? ` in ${nodeLabel(r.from)}` : '';
}

export const referenceRules: Rule[] = [
  {
    id: 'DSL050',
    name: 'reference-unknown-node',
    group: 'references',
    severity: 'error',
    requires: 'workflow',
    summary: 'A reference names a node that does not exist',
    help: 'A `{{#node.var#}}` template or a value selector whose node id is not in the graph resolves to nothing at run time (Dify does not check references at import). Point it at an existing node, usually after a node was deleted or re-created with a new id.',
    check(ctx) {
      const g = ctx.graph!;
      for (const r of nodeRefs(ctx)) {
        const n = g.byId.get(r.selector[0]!);
        if (!n || n.uiType === 'custom-note') ctx.report(`${r.text}${where(r)} refers to node '${r.selector[0]}', which does not exist`, r.path);
      }
    },
  },
  {
    id: 'DSL051',
    name: 'reference-downstream',
    group: 'references',
    severity: 'error',
    requires: 'workflow',
    summary: 'A reference reads a node that runs after this one (or itself)',
    help: 'A node can only read outputs of nodes that ran before it: its ancestors, its enclosing iteration/loop, and sys/env/conversation variables. A node downstream has not run yet when this one runs, so the value is always empty. (Inside a loop, reading a later node of the loop body gives the previous round\'s value and is allowed.)',
    check(ctx) {
      const g = ctx.graph!;
      for (const r of nodeRefs(ctx)) {
        const target = g.byId.get(r.selector[0]!);
        if (!target || !r.from || target.uiType === 'custom-note' || g.upstream(r.from.id).has(target.id)) continue;
        if (insideLoop(ctx, r.from.id) || !runs(ctx, r.from.id)) continue;
        if (target.id === r.from.id || downstream(ctx, r.from.id).has(target.id)) {
          ctx.report(`${r.text}${where(r)} reads ${nodeLabel(target)}, which ${target.id === r.from.id ? 'is the node itself' : 'only runs after it'}: the value is always empty`, r.path);
        }
      }
    },
  },
  {
    id: 'DSL057',
    name: 'reference-other-branch',
    group: 'references',
    severity: 'warning',
    requires: 'workflow',
    summary: 'A reference reads a node in another branch (not upstream of this one)',
    help: 'The node read is neither before nor after this one: it sits in a parallel or alternative branch (another if-else case, another classifier class). When this node runs that node may not have run, and the value is empty. Usually a copy-paste slip: point the reference at the node of the same branch.',
    check(ctx) {
      const g = ctx.graph!;
      for (const r of nodeRefs(ctx)) {
        const target = g.byId.get(r.selector[0]!);
        if (!target || !r.from || target.uiType === 'custom-note' || target.id === r.from.id || g.upstream(r.from.id).has(target.id)) continue;
        if (!runs(ctx, r.from.id)) continue; // DSL035 says it never runs
        if (!insideLoop(ctx, r.from.id) && downstream(ctx, r.from.id).has(target.id)) continue; // DSL051
        ctx.report(`${r.text}${where(r)} reads ${nodeLabel(target)}, which is in another branch: no path leads from it to this node, so it may not have run`, r.path);
      }
    },
  },
  {
    id: 'DSL052',
    name: 'reference-grammar',
    group: 'references',
    severity: 'error',
    requires: 'workflow',
    summary: 'A `{{#…#}}` template does not match Dify’s reference grammar and is never resolved',
    help: 'Dify resolves `{{#node_id.var#}}` only when the node id is 1–50 characters of [A-Za-z0-9_] and each further segment starts with a letter or `_` (≤ 30 characters, ≤ 10 segments). A hyphenated node id (`{{#my-node.text#}}`) is left as literal text. Rename the node id (ids from the editor are digits) or fix the segment.',
    check(ctx) {
      const g = ctx.graph!;
      for (const m of ctx.references.malformed) {
        const [id] = m.inner.split('.');
        const why = id && !NODE_ID_PATTERN.test(id)
          ? g.byId.has(id)
            ? `node id '${id}' has characters outside [A-Za-z0-9_], so Dify never resolves it`
            : `'${id}' is not a valid node id ([A-Za-z0-9_], 1–50 characters)`
          : 'a segment is not [A-Za-z_][A-Za-z0-9_]{0,29} or there are more than 10';
        ctx.report(`${m.text}${m.from ? ` in ${nodeLabel(m.from)}` : ''} is not a variable reference: ${why} (it is output literally)`, m.path);
      }
    },
  },
  {
    id: 'DSL053',
    name: 'reference-undeclared-variable',
    group: 'references',
    severity: 'error',
    requires: 'workflow',
    summary: 'env./conversation. references must name a declared variable',
    help: '`{{#env.NAME#}}` needs NAME in workflow.environment_variables; `{{#conversation.NAME#}}` needs NAME in workflow.conversation_variables (chatflows only). Otherwise the value is empty at run time.',
    check(ctx) {
      for (const r of ctx.references.refs) {
        const [head, name] = r.selector;
        if (head === 'env' && name && !ctx.envVars.has(name)) {
          ctx.report(`${r.text}${where(r)}: environment variable '${name}' is not declared in workflow.environment_variables`, r.path);
        } else if (head === 'conversation' && name) {
          if (ctx.mode !== 'advanced-chat') ctx.report(`${r.text}${where(r)}: conversation variables exist only in chatflow (advanced-chat) apps`, r.path);
          else if (!ctx.conversationVars.has(name)) ctx.report(`${r.text}${where(r)}: conversation variable '${name}' is not declared in workflow.conversation_variables`, r.path);
        }
      }
    },
  },
  {
    id: 'DSL054',
    name: 'reference-system-variable',
    group: 'references',
    severity: 'warning',
    requires: 'workflow',
    summary: 'sys. variable unknown, or not available in this app mode',
    help: 'sys.query, sys.conversation_id and sys.dialogue_count exist only in chatflows; in a workflow they are empty. Unknown sys variables may come from a newer Dify.',
    check(ctx) {
      for (const r of ctx.references.refs) {
        if (r.selector[0] !== 'sys' || r.selector.length < 2) continue;
        const name = r.selector[1]!;
        if (!SYS_VARIABLES.has(name)) ctx.report(`${r.text}${where(r)}: sys.${name} is not a system variable dify-ci knows`, r.path);
        else if (ctx.mode === 'workflow' && CHAT_ONLY_SYS_VARIABLES.has(name)) ctx.report(`${r.text}${where(r)}: sys.${name} exists only in chatflows; in a workflow it is empty`, r.path);
      }
    },
  },
  {
    id: 'DSL055',
    name: 'prompt-variable-undeclared',
    group: 'references',
    severity: 'error',
    requires: 'model_config',
    summary: 'Chat/completion prompt `{{var}}` must be declared in user_input_form',
    help: 'In chat, agent-chat and completion apps `{{name}}` in pre_prompt (or the advanced prompt) is filled from the user input form; a name that is not declared stays empty. Declare it in model_config.user_input_form or fix the name.',
    check(ctx) {
      const mc = ctx.modelConfig;
      const declared = new Set<string>();
      if (Array.isArray(mc.user_input_form)) {
        for (const item of mc.user_input_form) {
          if (!isRecord(item)) continue;
          for (const v of Object.values(item)) if (isRecord(v) && typeof v.variable === 'string') declared.add(v.variable);
        }
      }
      if (Array.isArray(mc.external_data_tools)) for (const t of mc.external_data_tools) if (isRecord(t) && typeof t.variable === 'string') declared.add(t.variable);
      const check = (text: unknown, path: (string | number)[]) => {
        if (typeof text !== 'string') return;
        for (const v of promptVariables(text)) {
          if (!declared.has(v)) ctx.report(`{{${v}}} in model_config.${path.slice(1).join('.')} is not declared in user_input_form`, path);
        }
      };
      check(mc.pre_prompt, ['model_config', 'pre_prompt']);
      const chat = isRecord(mc.chat_prompt_config) ? mc.chat_prompt_config.prompt : undefined;
      if (Array.isArray(chat)) chat.forEach((p, i) => isRecord(p) && check(p.text, ['model_config', 'chat_prompt_config', 'prompt', i, 'text']));
      const comp = isRecord(mc.completion_prompt_config) ? mc.completion_prompt_config.prompt : undefined;
      if (isRecord(comp)) check(comp.text, ['model_config', 'completion_prompt_config', 'prompt', 'text']);
      if (typeof mc.dataset_query_variable === 'string' && mc.dataset_query_variable && !declared.has(mc.dataset_query_variable)) {
        ctx.report(`dataset_query_variable '${mc.dataset_query_variable}' is not declared in user_input_form`, ['model_config', 'dataset_query_variable']);
      }
    },
  },
  {
    id: 'DSL058',
    name: 'encrypted-dataset-id',
    group: 'references',
    severity: 'warning',
    requires: 'workflow',
    summary: 'Knowledge base id encrypted for the exporting workspace',
    help: 'Dify exports knowledge-retrieval dataset_ids encrypted with the exporting workspace\'s key (DSL_EXPORT_ENCRYPT_DATASET_ID, on by default). Importing into another workspace silently drops them — the node then retrieves nothing, and the import still says "completed". Use the target workspace\'s plain dataset UUIDs (dify-ci deploy can rewrite them per environment).',
    check(ctx) {
      const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
      for (const n of ctx.graph!.executable) {
        if (!n.type.startsWith('knowledge-retrieval') || !Array.isArray(n.data.dataset_ids)) continue;
        n.data.dataset_ids.forEach((id, i) => {
          if (typeof id === 'string' && id && !uuid.test(id)) {
            ctx.report(`${nodeLabel(n)}: dataset_ids[${i}] is encrypted for the workspace it was exported from; another workspace silently drops it`, [...n.path, 'data', 'dataset_ids', i]);
          }
        });
      }
    },
  },
  {
    id: 'DSL056',
    name: 'reference-unknown-start-variable',
    group: 'references',
    severity: 'error',
    requires: 'workflow',
    summary: 'A reference to the start node names an input variable it does not declare',
    help: 'The start node only provides the variables listed in its `variables` (plus sys.* in old exports): a reference to any other name can never resolve and is empty on every run (Dify does not check it at import). Add the input or fix the name (`{{#start.qeury#}}` → `{{#start.query#}}`).',
    check(ctx) {
      const g = ctx.graph!;
      const declared = new Map<string, Set<string>>();
      for (const n of g.executable) {
        if (n.type !== 'start') continue;
        const names = new Set<string>();
        if (Array.isArray(n.data.variables)) for (const v of n.data.variables) if (isRecord(v) && typeof v.variable === 'string') names.add(v.variable);
        declared.set(n.id, names);
      }
      for (const r of nodeRefs(ctx)) {
        const names = declared.get(r.selector[0]!);
        const v = r.selector[1];
        if (!names || v === undefined || v.startsWith('sys.') || names.has(v)) continue;
        const near = closest(v, [...names]);
        ctx.report(`${r.text}${where(r)}: the start node has no input variable '${v}'${near ? ` — did you mean '${near}'?` : names.size ? ` (it has: ${[...names].join(', ')})` : ''}; the reference is empty on every run`, r.path);
      }
    },
  },
];
