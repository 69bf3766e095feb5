/**
 * Variables: environment and conversation variables as Dify builds them at import (api/factories/variable_factory.py),
 * and the input variables of start nodes and chat apps.
 */
import type { PathSegment } from '../../yaml/source.js';
import { isRecord } from '../graph.js';
import type { Rule } from './context.js';

/** The documented types first; `integer`/`float` are what Dify stores numbers as and accepts back. */
export const ENV_VALUE_TYPES = ['string', 'number', 'secret', 'integer', 'float'];
export const CONVERSATION_VALUE_TYPES = ['string', 'number', 'object', 'boolean', 'array[string]', 'array[number]', 'array[object]', 'array[boolean]', 'integer', 'float'];
export const INPUT_TYPES = ['text-input', 'paragraph', 'select', 'number', 'file', 'file-list', 'checkbox', 'json_object', 'external_data_tool', 'url'];
/** api/factories/variable_factory.py MAX_VARIABLE_SIZE */
export const MAX_VARIABLE_SIZE = 204800;

function matchesType(type: string, v: unknown): boolean {
  const isNum = (x: unknown) => typeof x === 'number';
  switch (type) {
    case 'string':
    case 'secret':
      return typeof v === 'string';
    case 'number':
    case 'float':
      return isNum(v);
    case 'integer':
      return Number.isInteger(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'object':
      return isRecord(v);
    case 'array[string]':
      return Array.isArray(v) && v.every((x) => typeof x === 'string');
    case 'array[number]':
      return Array.isArray(v) && v.every(isNum);
    case 'array[object]':
      return Array.isArray(v) && v.every(isRecord);
    case 'array[boolean]':
      return Array.isArray(v) && v.every((x) => typeof x === 'boolean');
    default:
      return true;
  }
}

/** Python's sys.getsizeof of the value, which is what Dify compares with MAX_VARIABLE_SIZE (close enough). */
function sizeOf(v: unknown): number {
  if (typeof v !== 'string') return JSON.stringify(v ?? null).length;
  let max = 0;
  for (const ch of v) max = Math.max(max, ch.codePointAt(0)!);
  return max < 0x80 ? 49 + v.length : max < 0x100 ? 73 + v.length : max < 0x10000 ? 74 + 2 * v.length : 76 + 4 * [...v].length;
}

function checkVariables(
  list: unknown,
  base: PathSegment[],
  types: string[],
  what: string,
  report: (msg: string, path: PathSegment[], key?: boolean) => void,
): void {
  if (!Array.isArray(list)) return;
  list.forEach((v, i) => {
    const p = [...base, i];
    if (!isRecord(v)) return report(`${what} must be a mapping with name, value_type and value`, p);
    const label = typeof v.name === 'string' && v.name ? `'${v.name}'` : `#${i + 1}`;
    if (typeof v.name !== 'string' || !v.name) report(`${what} ${label} has no name (Dify: "missing name")`, p, true);
    if (v.value_type === undefined || v.value_type === null || v.value_type === '') {
      report(`${what} ${label} has no value_type (Dify: "missing value type")`, p, true);
      return;
    }
    if (typeof v.value_type !== 'string' || !types.includes(v.value_type)) {
      report(`${what} ${label} has value_type ${JSON.stringify(v.value_type)}; Dify supports ${types.join(', ')} (Dify: "not supported value type")`, [...p, 'value_type']);
      return;
    }
    if (v.value === undefined || v.value === null) {
      report(`${what} ${label} has no value (Dify: "missing value"; use '' for empty)`, 'value' in v ? [...p, 'value'] : p, !('value' in v));
      return;
    }
    if (!matchesType(v.value_type, v.value)) {
      const msg = v.value_type === 'number' ? `invalid number value ${JSON.stringify(v.value)}` : `value does not match value_type ${v.value_type}`;
      report(`${what} ${label}: ${msg} (Dify fails the import${v.value_type === 'number' ? '' : ': "not supported value type"'})`, [...p, 'value']);
      return;
    }
    const size = sizeOf(v.value);
    if (size > MAX_VARIABLE_SIZE) report(`${what} ${label} is about ${size} bytes, over Dify's limit of ${MAX_VARIABLE_SIZE} (Dify: "variable size exceeds limit")`, [...p, 'value']);
  });
}

function duplicates(list: unknown, nameOf: (v: unknown) => unknown, base: PathSegment[], what: string, report: (m: string, p: PathSegment[]) => void): void {
  if (!Array.isArray(list)) return;
  const seen = new Map<string, number>();
  list.forEach((v, i) => {
    const n = nameOf(v);
    if (typeof n !== 'string' || !n) return;
    if (seen.has(n)) report(`${what} '${n}' is declared twice (first at #${seen.get(n)! + 1})`, [...base, i]);
    else seen.set(n, i);
  });
}

export const variableRules: Rule[] = [
  {
    id: 'DSL060',
    name: 'environment-variable',
    group: 'variables',
    severity: 'error',
    requires: 'workflow',
    summary: 'Environment variables need a name, a value_type of string/number/secret and a value of that type',
    help: 'Dify builds environment variables at import (api/factories/variable_factory.py) and fails on "missing name", "missing value type", "missing value" (use \'\' for an empty value), "invalid number value" and values over MAX_VARIABLE_SIZE (204800 bytes).',
    check(ctx) {
      checkVariables(ctx.workflow.environment_variables, ['workflow', 'environment_variables'], ENV_VALUE_TYPES, 'environment variable', (m, p, key) => ctx.report(m, p, { key }));
    },
  },
  {
    id: 'DSL061',
    name: 'conversation-variable',
    group: 'variables',
    severity: 'error',
    requires: 'workflow',
    summary: 'Conversation variables need a supported value_type and a value of that type',
    help: 'Conversation variables (chatflows) support string, number, object, boolean and arrays of string/number/object/boolean; the default value must have that type or Dify fails the import.',
    check(ctx) {
      checkVariables(ctx.workflow.conversation_variables, ['workflow', 'conversation_variables'], CONVERSATION_VALUE_TYPES, 'conversation variable', (m, p, key) => ctx.report(m, p, { key }));
    },
  },
  {
    id: 'DSL062',
    name: 'duplicate-variable',
    group: 'variables',
    severity: 'error',
    requires: 'app',
    summary: 'Variable names must be unique (environment, conversation, start inputs, user_input_form)',
    help: 'With two variables of the same name only one is visible at run time; which one depends on the order Dify loads them. Rename or remove one.',
    check(ctx) {
      const name = (v: unknown) => (isRecord(v) ? v.name : undefined);
      duplicates(ctx.workflow.environment_variables, name, ['workflow', 'environment_variables'], 'environment variable', (m, p) => ctx.report(m, p));
      duplicates(ctx.workflow.conversation_variables, name, ['workflow', 'conversation_variables'], 'conversation variable', (m, p) => ctx.report(m, p));
      for (const n of ctx.graph?.executable ?? []) {
        if (n.type === 'start') duplicates(n.data.variables, (v) => (isRecord(v) ? v.variable : undefined), [...n.path, 'data', 'variables'], 'start input', (m, p) => ctx.report(m, p));
      }
      const form = ctx.modelConfig.user_input_form;
      duplicates(form, (v) => (isRecord(v) ? Object.values(v).map((x) => (isRecord(x) ? x.variable : undefined))[0] : undefined), ['model_config', 'user_input_form'], 'user_input_form variable', (m, p) => ctx.report(m, p));
    },
  },
  {
    id: 'DSL063',
    name: 'input-type',
    group: 'variables',
    severity: 'warning',
    requires: 'app',
    summary: 'Start-node or user_input_form variable of a type dify-ci does not know',
    help: 'Known input types: text-input, paragraph, select, number, file, file-list, checkbox, json_object, external_data_tool. A newer Dify may add more; a typo makes the input unusable.',
    check(ctx) {
      for (const n of ctx.graph?.executable ?? []) {
        if (n.type !== 'start' || !Array.isArray(n.data.variables)) continue;
        n.data.variables.forEach((v, i) => {
          if (isRecord(v) && typeof v.type === 'string' && !INPUT_TYPES.includes(v.type)) ctx.report(`start input '${String(v.variable)}' has unknown type '${v.type}'`, [...n.path, 'data', 'variables', i, 'type']);
        });
      }
      const form = ctx.modelConfig.user_input_form;
      if (Array.isArray(form)) {
        form.forEach((item, i) => {
          if (!isRecord(item)) return;
          for (const k of Object.keys(item)) if (!INPUT_TYPES.includes(k)) ctx.report(`user_input_form item has unknown type '${k}'`, ['model_config', 'user_input_form', i, k], { key: true });
        });
      }
    },
  },
];
