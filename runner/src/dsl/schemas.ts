/** The JSON Schemas of app DSL structure, one per kind of app (core/validators.ts compiles them). */
import type { ValidatorDefinition } from '../core/validators.js';
import dslSchema from './dsl.schema.json' with { type: 'json' };

const dsl = (def: string): ValidatorDefinition => ({ schema: { $ref: `dify-ci-dsl#/definitions/${def}` }, refs: [dslSchema], options: { verbose: false } });

export const DSL_SCHEMAS = {
  dslWorkflowApp: dsl('workflowApp'),
  dslChatApp: dsl('chatApp'),
  dslAgentChatApp: dsl('agentChatApp'),
} satisfies Record<string, ValidatorDefinition>;
