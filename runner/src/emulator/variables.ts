/** Workflow environment and conversation variables, built and checked like Dify's variable_factory (§9.6). */
import type { Variable } from './state.js';
import { isObject, uuid } from './util.js';

export class VariableError extends Error {}

const MAX_VARIABLE_SIZE = 204800;
export const HIDDEN_VALUE = '[__HIDDEN__]';

function pyStr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

export function typeMatches(t: string, v: unknown): boolean {
  switch (t) {
    case 'string':
    case 'secret':
      return typeof v === 'string';
    case 'number':
      return typeof v === 'number';
    case 'boolean':
      return typeof v === 'boolean';
    case 'object':
      return isObject(v);
    case 'array[string]':
      return Array.isArray(v) && v.every((x) => typeof x === 'string');
    case 'array[number]':
      return Array.isArray(v) && v.every((x) => typeof x === 'number');
    case 'array[object]':
      return Array.isArray(v) && v.every((x) => isObject(x));
    case 'array[boolean]':
      return Array.isArray(v) && v.every((x) => typeof x === 'boolean');
    default:
      return false;
  }
}

const ENV_TYPES = ['string', 'number', 'secret'];
const CONV_TYPES = ['string', 'number', 'object', 'array[string]', 'array[number]', 'array[object]', 'boolean', 'array[boolean]'];

function build(mapping: unknown, kind: 'env' | 'conversation'): Variable {
  if (!isObject(mapping)) throw new VariableError('missing name');
  const name = mapping.name;
  if (name === undefined || name === null || name === '') throw new VariableError('missing name');
  const valueType = mapping.value_type;
  if (valueType === undefined || valueType === null) throw new VariableError('missing value type');
  const value = mapping.value;
  if (value === undefined || value === null) throw new VariableError('missing value');
  const t = String(valueType);
  const allowed = kind === 'env' ? ENV_TYPES : CONV_TYPES;
  if (t === 'number' && typeof value !== 'number') throw new VariableError(`invalid number value ${pyStr(value)}`);
  if (!allowed.includes(t) || !typeMatches(t, value)) throw new VariableError(`not supported value type ${t}`);
  const size = Buffer.byteLength(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');
  if (size > MAX_VARIABLE_SIZE) throw new VariableError(`variable size ${size} exceeds limit ${MAX_VARIABLE_SIZE}`);
  return {
    id: typeof mapping.id === 'string' && mapping.id ? mapping.id : uuid(),
    name: String(name),
    value,
    value_type: t,
    description: typeof mapping.description === 'string' ? mapping.description : '',
    selector: [kind === 'env' ? 'env' : 'conversation', String(name)],
  };
}

export function buildEnvironmentVariables(list: unknown): Variable[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new VariableError('environment_variables must be a list');
  return list.map((m) => build(m, 'env'));
}

export function buildConversationVariables(list: unknown): Variable[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new VariableError('conversation_variables must be a list');
  return list.map((m) => build(m, 'conversation'));
}

/** Dify's `obfuscated_token`: what draft reads show for secrets. */
export function obfuscate(value: string): string {
  if (!value) return value;
  if (value.length <= 8) return '*'.repeat(20);
  return value.slice(0, 6) + '*'.repeat(12) + value.slice(-2);
}

/** A secret sent back as HIDDEN_VALUE (or its masked read form) keeps the stored value. */
export function mergeSecrets(next: Variable[], previous: Variable[]): Variable[] {
  const byId = new Map(previous.map((v) => [v.id, v]));
  return next.map((v) => {
    const old = byId.get(v.id);
    if (old && old.value_type === 'secret' && typeof old.value === 'string' && (v.value === HIDDEN_VALUE || v.value === obfuscate(old.value))) {
      return { ...old, name: v.name, selector: ['env', v.name] };
    }
    return v;
  });
}

export function variableView(v: Variable, mask: boolean): Record<string, unknown> {
  return {
    id: v.id,
    name: v.name,
    value: mask && v.value_type === 'secret' ? obfuscate(String(v.value)) : v.value,
    value_type: v.value_type,
    description: v.description,
    selector: v.selector,
  };
}
