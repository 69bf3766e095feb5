/**
 * The DSL library used by validate, the deploy engine (render/normalise) and the emulator: parse like Dify
 * (PyYAML safe_load, YAML 1.1) with positions, then validate with the rule registry.
 */
export { parseDslFile as parseDsl, parseDslFile, parseDslText, parseDslBuffer, pyyamlTags, unwrapExport, MAX_DSL_BYTES, MAX_ALIAS_EXPANSION, MAX_DSL_DEPTH } from './parse.js';
export { validateDsl, validateFile, totals, sortFindings, type FileReport, type Totals } from './validate.js';
export { DslGraph, graphOf } from './graph.js';
export { REFERENCE_PATTERN, NODE_ID_PATTERN, templateReferences } from './references.js';
export { findCredentials, maskCredential } from './credentials.js';
export { parseDslVersion, compareDslVersions, importCompatibility, DEFAULT_TARGET_DSL_VERSION, KNOWN_DSL_VERSIONS } from './versions.js';
export { allRuleMeta, RULES_BY_ID } from './rules/index.js';
export type { Finding, ParsedDsl, Severity, ValidateOptions, PolicyOptions, RuleMeta, AppMode } from './types.js';
