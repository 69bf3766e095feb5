/**
 * Query and body checks as Dify's pydantic models make them: a failure is `400 invalid_param` with the text of
 * pydantic's `ValidationError` (first line and field; the `[type=…]` details are left out, see docs/emulator.md).
 */
import { invalidParam } from './http.js';
import { isUuid } from './util.js';

export function validationError(model: string, field: string, msg: string): never {
  throw invalidParam(`1 validation error for ${model}\n${field}\n  ${msg}`);
}

/** A model-level validator's error (no field line). */
export function modelError(model: string, msg: string): never {
  throw invalidParam(`1 validation error for ${model}\n  ${msg}`);
}

/** An integer query parameter with pydantic's `Field(default, ge, le)`. */
export function intParam(q: URLSearchParams, name: string, def: number, min: number, max: number, model: string): number {
  const raw = q.get(name);
  if (raw === null) return def;
  if (!/^\s*[-+]?\d+\s*$/.test(raw)) validationError(model, name, 'Input should be a valid integer, unable to parse string as an integer');
  const n = Number(raw);
  if (n < min) validationError(model, name, `Input should be greater than or equal to ${min}`);
  if (n > max) validationError(model, name, `Input should be less than or equal to ${max}`);
  return n;
}

/** `UUIDStrOrEmpty` (`libs/helper.py` `normalize_uuid`): '' or a UUID; undefined when absent. */
export function uuidParam(value: string | null | undefined, name: string, model: string): string | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  if (!isUuid(value)) validationError(model, name, 'Value error, must be a valid UUID');
  return value.toLowerCase();
}

/** A `Literal[...]` field. */
export function literalParam<T extends string>(value: string | null | undefined, allowed: readonly T[], def: T | undefined, name: string, model: string): T | undefined {
  if (value === null || value === undefined) return def;
  if (!(allowed as readonly string[]).includes(value)) {
    const list = allowed.map((a) => `'${a}'`);
    validationError(model, name, `Input should be ${list.length > 1 ? `${list.slice(0, -1).join(', ')} or ${list.at(-1)}` : list[0]}`);
  }
  return value as T;
}

/** A plain `int` query field (no bounds), as `DocumentListQuery`/`DatasetListQuery` declare them. */
export function looseIntParam(q: URLSearchParams, name: string, def: number, model: string): number {
  const v = q.get(name);
  if (v === null) return def;
  if (!/^\s*[-+]?\d+\s*$/.test(v)) validationError(model, name, 'Input should be a valid integer, unable to parse string as an integer');
  return Number(v);
}
