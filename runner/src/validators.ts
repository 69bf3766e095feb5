/**
 * Every schema the runner compiles, by name: scripts/bundle.mjs precompiles exactly these into the bundle (see
 * core/validators.ts). A schema left out still works, compiled at start-up of every step that needs it.
 */
import { CONFIG_SCHEMAS } from './config/schemas.js';
import { DSL_SCHEMAS } from './dsl/schemas.js';
import { SMOKE_SCHEMAS } from './smoke/schemas.js';

export { compileDefinition } from './core/validators.js';

export const VALIDATORS = { ...CONFIG_SCHEMAS, ...SMOKE_SCHEMAS, ...DSL_SCHEMAS };
