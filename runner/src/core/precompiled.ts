/**
 * Validators compiled ahead of time. Empty in the sources; in the bundle, scripts/bundle.mjs puts Ajv's standalone
 * code for every definition of ./validators.ts here.
 */
export const precompiled: Record<string, unknown> = {};
