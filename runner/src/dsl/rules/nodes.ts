/**
 * Node configuration as Dify's node entities declare it. Dify imports any node data and validates it only when the
 * node runs (pydantic in the node's `entities.py`): a configuration Dify does not have publishes fine and fails the
 * run. Sources: api/core/workflow/utils/condition/entities.py (SupportedComparisonOperator, used by if-else and
 * loop), condition/processor.py (which value types each operator accepts at run time),
 * web/app/components/workflow/nodes/if-else/utils.ts (getOperators: the operators the editor offers per type),
 * api/core/workflow/nodes/variable_assigner/{v1/node_data.py, v2/entities.py, v2/enums.py} and node_factory.py
 * (the node version is `data.version`, default '1').
 */
import { isRecord, type GraphNode } from '../graph.js';
import type { PathSegment } from '../../yaml/source.js';
import type { Rule, RuleContext } from './context.js';
import { nodeLabel } from './graph.js';

/** SupportedComparisonOperator (condition/entities.py): anything else fails pydantic when the node runs. */
export const SUPPORTED_OPERATORS = [
  'contains', 'not contains', 'start with', 'end with', 'is', 'is not', 'empty', 'not empty', 'in', 'not in', 'all of',
  '=', '≠', '>', '<', '≥', '≤', 'null', 'not null',
  'exists', 'not exists',
];

/** What people (and other tools) write for an operator Dify spells differently. */
const SPELLED_DIFFERENTLY: Record<string, string> = {
  'is empty': 'empty', 'is not empty': 'not empty', 'not_empty': 'not empty', 'is null': 'null', 'is not null': 'not null',
  '==': "'=' (numbers) or 'is' (strings)", '!=': "'≠' (numbers) or 'is not' (strings)", '<>': "'≠'", '>=': "'≥'", '<=': "'≤'",
  equals: "'is'", 'not equals': "'is not'", 'not equal': "'≠'", 'starts with': "'start with'", 'ends with': "'end with'", startswith: "'start with'", endswith: "'end with'",
  'does not contain': "'not contains'", 'not contain': "'not contains'", includes: "'contains'",
};

const NUMERIC = ['=', '≠', '>', '<', '≥', '≤'];
const NULLISH = ['empty', 'not empty', 'null', 'not null'];
/**
 * Operators condition/processor.py evaluates without "Invalid actual value type" for a value of each type
 * (`contains` needs str or list, `start with`/`is` a str, `=`… an int or float — a bool is an int in Python).
 */
const RUNTIME: Record<string, string[]> = {
  string: ['contains', 'not contains', 'start with', 'end with', 'is', 'is not', 'in', 'not in', 'all of', ...NULLISH],
  number: [...NUMERIC, 'in', 'not in', ...NULLISH],
  boolean: [...NUMERIC, 'is', 'is not', 'in', 'not in', ...NULLISH],
  object: ['in', 'not in', ...NULLISH],
  file: ['exists', 'not exists', ...NULLISH],
  array: ['contains', 'not contains', 'all of', 'in', 'not in', ...NULLISH],
  'array[file]': ['contains', 'not contains', 'all of', ...NULLISH],
};
/** getOperators (if-else/utils.ts): what the editor offers, named in the fix. */
const OFFERED: Record<string, string[]> = {
  string: ['contains', 'not contains', 'start with', 'end with', 'is', 'is not', 'empty', 'not empty'],
  number: [...NUMERIC, 'empty', 'not empty'],
  boolean: ['is', 'is not'],
  object: ['empty', 'not empty'],
  file: ['exists', 'not exists'],
  array: ['contains', 'not contains', 'empty', 'not empty'],
  'array[file]': ['contains', 'not contains', 'all of', 'empty', 'not empty'],
};

function typeClass(t: string): string | undefined {
  if (t === 'string' || t === 'secret' || t === 'paragraph' || t === 'text-input' || t === 'select') return 'string';
  if (t === 'number' || t === 'integer' || t === 'float') return 'number';
  if (t === 'boolean' || t === 'checkbox') return 'boolean';
  if (t === 'object' || t === 'json_object') return 'object';
  if (t === 'file') return 'file';
  if (t === 'array[file]' || t === 'file-list') return 'array[file]';
  if (t === 'array' || /^array\[(string|number|object|boolean|any)\]$/.test(t)) return 'array';
  return undefined;
}

const SYS_TYPES: Record<string, string> = { query: 'string', user_id: 'string', conversation_id: 'string', app_id: 'string', workflow_id: 'string', workflow_run_id: 'string', dialogue_count: 'number', files: 'array[file]' };

/** The type of the variable a selector names, where the DSL declares it; undefined when unknown. */
function selectorType(ctx: RuleContext, selector: unknown[]): string | undefined {
  if (selector.length !== 2 || !selector.every((s) => typeof s === 'string')) return undefined;
  const [head, name] = selector as [string, string];
  const declared = (list: unknown, key: string, type: string) => {
    const v = Array.isArray(list) ? list.find((x) => isRecord(x) && x[key] === name) : undefined;
    return isRecord(v) && typeof v[type] === 'string' ? (v[type] as string) : undefined;
  };
  if (head === 'sys') return SYS_TYPES[name];
  if (head === 'env') return declared(ctx.workflow.environment_variables, 'name', 'value_type');
  if (head === 'conversation') return declared(ctx.workflow.conversation_variables, 'name', 'value_type');
  const n = ctx.graph?.byId.get(head);
  if (!n) return undefined;
  switch (n.type) {
    case 'start':
      return declared(n.data.variables, 'variable', 'type');
    case 'llm':
    case 'template-transform':
    case 'question-classifier':
      return ({ text: 'string', output: 'string', class_name: 'string' } as Record<string, string>)[name];
    case 'code':
      return isRecord(n.data.outputs) && isRecord(n.data.outputs[name]) && typeof n.data.outputs[name].type === 'string' ? (n.data.outputs[name].type as string) : undefined;
    case 'http-request':
      return ({ body: 'string', status_code: 'number', headers: 'object', files: 'array[file]' } as Record<string, string>)[name];
    default:
      return undefined;
  }
}

interface ConditionAt {
  condition: Record<string, unknown>;
  path: PathSegment[];
  where: string;
}

/** Every Condition of an if-else (cases and the legacy top-level list) or a loop's break_conditions. */
function conditionsOf(n: GraphNode): ConditionAt[] {
  const out: ConditionAt[] = [];
  const add = (list: unknown, base: PathSegment[], where: string) => {
    if (Array.isArray(list)) list.forEach((c, i) => isRecord(c) && out.push({ condition: c, path: [...base, i], where }));
  };
  if (n.type === 'if-else') {
    if (Array.isArray(n.data.cases)) {
      n.data.cases.forEach((c, i) => isRecord(c) && add(c.conditions, [...n.path, 'data', 'cases', i, 'conditions'], `case ${typeof c.case_id === 'string' ? `'${c.case_id}'` : i + 1}`));
    }
    add(n.data.conditions, [...n.path, 'data', 'conditions'], 'conditions');
  } else if (n.type === 'loop') add(n.data.break_conditions, [...n.path, 'data', 'break_conditions'], 'break condition');
  return out;
}

function operatorProblem(op: unknown): string | null {
  if (typeof op !== 'string') return op === undefined ? 'has no comparison_operator (Dify: "Field required")' : `has comparison_operator ${JSON.stringify(op)}, which is not a string`;
  if (SUPPORTED_OPERATORS.includes(op)) return null;
  const hint = SPELLED_DIFFERENTLY[op.trim().toLowerCase()];
  return `uses the operator '${op}', which Dify does not have${hint ? ` — Dify spells it ${hint.startsWith("'") ? hint : `'${hint}'`}` : ''}`;
}

export const nodeRules: Rule[] = [
  {
    id: 'DSL040',
    name: 'condition-operator',
    group: 'nodes',
    severity: 'error',
    requires: 'workflow',
    summary: 'An if-else or loop condition uses an operator Dify does not have, or one Dify refuses for the variable\'s type',
    help: 'Dify checks a condition only when the node runs: an operator outside SupportedComparisonOperator (api/core/workflow/utils/condition/entities.py) fails pydantic validation, and an operator for another type fails the run ("Invalid actual value type: number" for `=` on a string, api/core/workflow/utils/condition/processor.py). Use the operators the editor offers for the type: strings contains/not contains/start with/end with/is/is not/empty/not empty; numbers =/≠/>/</≥/≤/empty/not empty; booleans is/is not; files exists/not exists; arrays contains/not contains/empty/not empty (file lists also all of, with a sub-condition on a file attribute).',
    check(ctx) {
      for (const n of ctx.graph!.executable) {
        for (const { condition: c, path, where } of conditionsOf(n)) {
          const op = c.comparison_operator;
          const opPath = [...path, 'comparison_operator'];
          const problem = operatorProblem(op);
          const at = `${nodeLabel(n)}, ${where}`;
          if (problem) {
            ctx.report(`${at}: the condition ${problem}; the node fails when it runs`, opPath);
            continue;
          }
          const sub = isRecord(c.sub_variable_condition) && Array.isArray(c.sub_variable_condition.conditions) ? c.sub_variable_condition.conditions : [];
          sub.forEach((s, i) => {
            const p = isRecord(s) ? operatorProblem(s.comparison_operator) : null;
            if (p) ctx.report(`${at}: a sub-condition ${p}; the node fails when it runs`, [...path, 'sub_variable_condition', 'conditions', i, 'comparison_operator']);
          });
          const selector = Array.isArray(c.variable_selector) ? c.variable_selector : [];
          const declaredType = typeof c.varType === 'string' ? c.varType : selectorType(ctx, selector);
          const type = declaredType ? typeClass(declaredType) : undefined;
          if (!type) continue;
          const name = selector.join('.');
          if (!RUNTIME[type]!.includes(op as string)) {
            ctx.report(`${at}: '${op}' cannot compare ${name} (${declaredType}): Dify fails the run ("Invalid actual value type"); for ${declaredType} use ${OFFERED[type]!.join(', ')}`, opPath);
          } else if (type === 'array[file]' && ['contains', 'not contains', 'all of'].includes(op as string) && sub.length === 0) {
            ctx.report(`${at}: '${op}' on the file list ${name} needs a sub-condition on a file attribute (name, type, size…): Dify fails the run ("Sub variable is required")`, opPath);
          }
        }
      }
    },
  },
  {
    id: 'DSL041',
    name: 'assigner-config',
    group: 'nodes',
    severity: 'error',
    requires: 'workflow',
    summary: 'A variable assigner is not configured the way Dify reads it (version 2 needs `items`)',
    help: 'Dify picks the assigner by `data.version` (default \'1\', api/core/workflow/nodes/node_factory.py). Version 2 (api/core/workflow/nodes/variable_assigner/v2/entities.py) needs `items`: a list of {variable_selector, input_type: variable|constant, operation, value}; version 1 (v1/node_data.py) needs assigned_variable_selector, write_mode (over-write|append|clear) and input_variable_selector. Other keys (`actions:`, `assignments:`) are not read: the node fails when it runs. Re-create the node in the Dify editor or write `items`.',
    check(ctx) {
      const OPERATIONS = ['over-write', 'clear', 'append', 'extend', 'set', '+=', '-=', '*=', '/='];
      for (const n of ctx.graph!.executable) {
        if (n.type !== 'assigner') continue;
        const d = n.data;
        const base = [...n.path, 'data'];
        const version = String(d.version ?? '1');
        const stray = ['actions', 'assignments', 'operations'].filter((k) => k in d);
        const strayText = stray.length ? `; \`${stray.join('`, `')}\` ${stray.length > 1 ? 'are keys' : 'is a key'} Dify does not read` : '';
        if (version === '1') {
          const missing = ['assigned_variable_selector', 'write_mode', 'input_variable_selector'].filter((k) => !(k in d));
          if (missing.length) {
            const why = Array.isArray(d.items) ? "it has `items` (a version-2 assigner) but no `version: '2'`, so Dify reads it as version 1" : 'Dify reads it as a version-1 assigner (no `version`)';
            ctx.report(`${nodeLabel(n)}: ${why} and it lacks ${missing.join(', ')}${strayText}: the node fails when it runs`, Array.isArray(d.items) ? [...base, 'items'] : stray.length ? [...base, stray[0]!] : base, { key: true });
          } else if (!['over-write', 'append', 'clear'].includes(String(d.write_mode))) {
            ctx.report(`${nodeLabel(n)}: write_mode '${String(d.write_mode)}' is not one of over-write, append, clear`, [...base, 'write_mode']);
          }
          continue;
        }
        if (!Array.isArray(d.items)) {
          ctx.report(`${nodeLabel(n)}: a version-${version} assigner needs \`items\` (Dify: "items Field required")${strayText}: the node fails when it runs`, stray.length ? [...base, stray[0]!] : base, { key: true });
          continue;
        }
        d.items.forEach((it, i) => {
          const p = [...base, 'items', i];
          if (!isRecord(it)) return ctx.report(`${nodeLabel(n)}: items[${i}] is not a mapping`, p);
          const sel = it.variable_selector;
          if (!Array.isArray(sel) || sel.length < 2 || !sel.every((s) => typeof s === 'string')) ctx.report(`${nodeLabel(n)}: items[${i}].variable_selector must name a variable ([node or conversation, name])`, [...p, 'variable_selector']);
          if (!['variable', 'constant'].includes(String(it.input_type))) ctx.report(`${nodeLabel(n)}: items[${i}].input_type '${String(it.input_type)}' is not variable or constant`, [...p, 'input_type']);
          if (!OPERATIONS.includes(String(it.operation))) ctx.report(`${nodeLabel(n)}: items[${i}].operation '${String(it.operation)}' is not one of ${OPERATIONS.join(', ')}`, [...p, 'operation']);
        });
      }
    },
  },
];
