/**
 * The JSON Schemas the runner checks its own inputs against (configuration, tenant lists, smoke suites, DSL
 * structure), each compiled once per process. Compiling the configuration schema took a third of a runner process's
 * CPU, paid by every Jenkins step: the bundle carries them compiled ahead of time (scripts/bundle.mjs replaces
 * ./precompiled.ts with Ajv's standalone code of exactly these definitions). Under tsx they compile at first use.
 */
import type { Options } from 'ajv';
import { createAjv, type ValidateFunction } from './ajv.js';
import { precompiled } from './precompiled.js';
import configSchema from '../config/config.schema.json' with { type: 'json' };
import suiteSchema from '../smoke/suite.schema.json' with { type: 'json' };
import dslSchema from '../dsl/dsl.schema.json' with { type: 'json' };

export interface ValidatorDefinition {
  /** The schema to compile. */
  schema: object;
  /** Schemas it refers to by id. */
  refs?: object[];
  options?: Options;
}

const dsl = (def: string): ValidatorDefinition => ({ schema: { $ref: `dify-ci-dsl#/definitions/${def}` }, refs: [dslSchema], options: { verbose: false } });

export const VALIDATORS = {
  config: { schema: configSchema },
  tenantList: { schema: { definitions: configSchema.definitions, type: 'array', items: { $ref: '#/definitions/tenant' } } },
  smokeSuite: { schema: suiteSchema },
  dslWorkflowApp: dsl('workflowApp'),
  dslChatApp: dsl('chatApp'),
  dslAgentChatApp: dsl('agentChatApp'),
} satisfies Record<string, ValidatorDefinition>;

export type ValidatorName = keyof typeof VALIDATORS;

/** Compiles one definition (at run time under tsx; at build time with `code.source` for the bundle). */
export function compileDefinition(d: ValidatorDefinition, extra: Options = {}) {
  const ajv = createAjv({ ...d.options, ...extra });
  for (const r of d.refs ?? []) ajv.addSchema(r);
  return { ajv, validate: ajv.compile(d.schema) };
}

const compiled = new Map<ValidatorName, ValidateFunction>();

export function validatorFor(name: ValidatorName): ValidateFunction {
  let v = compiled.get(name);
  if (!v) {
    v = (precompiled[name] as ValidateFunction | undefined) ?? compileDefinition(VALIDATORS[name]).validate;
    compiled.set(name, v);
  }
  return v;
}
