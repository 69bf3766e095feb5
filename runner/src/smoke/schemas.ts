/** The JSON Schema of smoke suite files (core/validators.ts compiles it). */
import type { ValidatorDefinition } from '../core/validators.js';
import suiteSchema from './suite.schema.json' with { type: 'json' };

export const SMOKE_SCHEMAS = {
  smokeSuite: { schema: suiteSchema },
} satisfies Record<string, ValidatorDefinition>;
