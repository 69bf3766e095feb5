/** The variable pool of a run (`sys`, `env`, `conversation`, node outputs) and Dify's condition operators. */
import { toText } from './model-values.js';
import { isObject } from './util.js';

const REF = /\{\{#([a-zA-Z0-9_]{1,50}(?:\.[a-zA-Z_][a-zA-Z0-9_]{0,29}){1,10})#\}\}/g;

export class Pool {
  nodes = new Map<string, Record<string, unknown>>();
  /** The `{{#context#}}` text of the LLM node being rendered (its knowledge context), else ''. */
  context = '';
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
    return template.replace(REF, (_m, path: string) => toText(this.get(path.split('.')))).replace(/\{\{#context#\}\}/g, () => this.context);
  }
}

// ---- conditions (if-else, loop break) ----
export function num(v: unknown): number {
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

export function evalConditions(pool: Pool, conditions: unknown, logical: unknown): boolean {
  const list = Array.isArray(conditions) ? conditions.filter(isObject) : [];
  if (list.length === 0) return false;
  const results = list.map((c) => {
    const expected = typeof c.value === 'string' ? pool.render(c.value) : c.value;
    return evalCondition(pool.get(c.variable_selector), String(c.comparison_operator ?? ''), expected);
  });
  return logical === 'or' ? results.some(Boolean) : results.every(Boolean);
}
