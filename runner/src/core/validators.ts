/**
 * JSON Schemas the runner checks its own inputs against, each compiled once per process. Compiling the
 * configuration schema took a third of a runner process's CPU, paid by every Jenkins step: the bundle carries the
 * definitions of runner/src/validators.ts compiled ahead of time (scripts/bundle.mjs replaces ./precompiled.ts
 * with Ajv's standalone code). Under tsx they compile at first use. Each layer declares its own definitions
 * (config/schemas.ts, dsl/schemas.ts, smoke/schemas.ts): core knows no schema.
 */
import type { Options } from 'ajv';
import { createAjv, type ValidateFunction } from './ajv.js';
import { precompiled } from './precompiled.js';

export interface ValidatorDefinition {
  /** The schema to compile. */
  schema: object;
  /** Schemas it refers to by id. */
  refs?: object[];
  options?: Options;
}

/** Compiles one definition (at run time under tsx; at build time with `code.source` for the bundle). */
export function compileDefinition(d: ValidatorDefinition, extra: Options = {}) {
  const ajv = createAjv({ ...d.options, ...extra });
  for (const r of d.refs ?? []) ajv.addSchema(r);
  return { ajv, validate: ajv.compile(d.schema) };
}

const compiled = new Map<string, ValidateFunction>();

/** The validator of `definition`, registered as `name` (its key in runner/src/validators.ts, for the bundle). */
export function validatorFor(name: string, definition: ValidatorDefinition): ValidateFunction {
  let v = compiled.get(name);
  if (!v) {
    v = (precompiled[name] as ValidateFunction | undefined) ?? compileDefinition(definition).validate;
    compiled.set(name, v);
  }
  return v;
}
