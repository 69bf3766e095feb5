/** The JSON Schemas of the configuration file and of tenant lists (core/validators.ts compiles them). */
import type { ValidatorDefinition } from '../core/validators.js';
import configSchema from './config.schema.json' with { type: 'json' };

export const CONFIG_SCHEMAS = {
  config: { schema: configSchema },
  tenantList: { schema: { definitions: configSchema.definitions, type: 'array', items: { $ref: '#/definitions/tenant' } } },
} satisfies Record<string, ValidatorDefinition>;
