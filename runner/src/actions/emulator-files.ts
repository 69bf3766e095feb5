/**
 * The emulator command's input files, `--faults` / `--script` / `--plugins` (YAML or JSON): loaded and checked
 * here, on the runner's side, so bad entries are reported with file:line:column like every user file, and the
 * emulator itself receives plain rule lists.
 */
import { createAjv } from '../core/ajv.js';
import { inputError } from '../core/errors.js';
import { schemaProblems } from '../core/schema-errors.js';
import { positionOf } from '../yaml/source.js';
import { loadSourceFile } from '../core/source.js';
import { PLUGIN_ENTRY } from '../emulator/plugins.js';
import type { FaultRule, PluginsDecl, ScriptRule } from '../emulator/types.js';

const str = { type: 'string' };
const int0 = { type: 'integer', minimum: 0 };

const FAULT_SCHEMA = {
  type: 'array',
  items: {
    type: 'object',
    additionalProperties: false,
    anyOf: [{ required: ['route'] }, { required: ['regex'] }],
    properties: {
      route: str,
      regex: str,
      method: str,
      status: { type: 'integer', minimum: 100, maximum: 599 },
      body: {},
      headers: { type: 'object', additionalProperties: { type: ['string', 'number'] } },
      delayMs: int0,
      drop: { type: 'boolean' },
      truncate: { type: 'boolean' },
      malformed: { type: 'boolean' },
      slowSseMs: int0,
      afterResponse: { type: 'boolean' },
      times: int0,
      probability: { type: 'number', minimum: 0, maximum: 1 },
    },
  },
};

const SCRIPT_SCHEMA = {
  type: 'array',
  items: {
    type: 'object',
    additionalProperties: false,
    properties: {
      app: str,
      workspace: str,
      query: str,
      answer: str,
      outputs: { type: 'object' },
      latencyMs: int0,
      usage: { type: 'object', additionalProperties: false, properties: { prompt_tokens: int0, completion_tokens: int0 } },
      error: {
        type: 'object',
        additionalProperties: false,
        properties: { code: str, message: str, status: { type: 'integer', minimum: 100, maximum: 599 }, afterChunks: int0 },
      },
      nodeFailure: str,
      cutAfterChunks: int0,
      times: int0,
    },
  },
};

function load<T>(file: string, schema: object, what: string): T {
  const src = loadSourceFile(file, { category: 'input' });
  if (src.value === null || src.value === undefined) return [] as T;
  const validate = createAjv().compile(schema);
  if (!validate(src.value)) {
    const problems = schemaProblems(src, validate.errors ?? []);
    const first = problems[0];
    throw inputError(`invalid ${what} file: ${first?.message ?? 'not a list of rules'}`, {
      position: first?.position ?? { file: src.file },
      details: problems.slice(1).map((p) => `${p.position.file}:${p.position.line}:${p.position.column}: ${p.message}`),
    });
  }
  if (!Array.isArray(src.value)) return src.value as T;
  const list = src.value as Record<string, unknown>[];
  list.forEach((r, i) => {
    for (const key of ['regex', 'query'] as const) {
      if (typeof r[key] !== 'string') continue;
      try {
        new RegExp(r[key] as string);
      } catch (e) {
        throw inputError(`invalid ${what} file: ${key} is not a valid regular expression (${(e as Error).message})`, {
          position: positionOf(src, [i, key]),
        });
      }
    }
  });
  return list as T;
}

const PLUGIN_LIST = { type: 'array', items: { type: 'string', pattern: PLUGIN_ENTRY.source } };
/** A list (every workspace) or a map from workspace id or name (`*` = all) to a list. */
const PLUGINS_SCHEMA = { anyOf: [PLUGIN_LIST, { type: 'object', additionalProperties: PLUGIN_LIST }] };

export const loadFaultsFile = (file: string): FaultRule[] => load<FaultRule[]>(file, FAULT_SCHEMA, 'faults');
export const loadScriptFile = (file: string): ScriptRule[] => load<ScriptRule[]>(file, SCRIPT_SCHEMA, 'script');
export const loadPluginsFile = (file: string): PluginsDecl => load<PluginsDecl>(file, PLUGINS_SCHEMA, 'plugins');
