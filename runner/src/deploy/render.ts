/**
 * Render: the DSL from Git made ready for one target. The environment's `variables` and `secrets` are injected
 * into the DSL's `environment_variables` (only names the DSL declares; a configured secret makes the variable
 * `value_type: secret`), and `app.name` becomes the target's name. The rendered document lives in memory only:
 * it holds secret values and is never written to the workspace.
 */
import { statSync } from 'node:fs';
import { configError, DifyCiError } from '../core/errors.js';
import { BoundedCache, plainJson } from '../yaml/plain-json.js';
import { log } from '../core/log.js';
import { registerSecret } from '../core/mask.js';
import type { EnvironmentConfig } from '../config/types.js';
import { dumpPyYaml } from '../yaml/pyyaml-dump.js';
import { loadPyYaml, pyIssueMessage } from '../yaml/pyyaml-load.js';
import { loadSourceFile, parseSource } from '../core/source.js';
import { contentHash, encryptedDatasetIds, isWrappedExport, SECRET_MARKER } from './normalise.js';
import { runEnv } from '../core/run.js';

export type DslDoc = Record<string, any>;

export const WORKFLOW_MODES = new Set(['workflow', 'advanced-chat']);
export const CONFIG_MODES = new Set(['chat', 'agent-chat', 'completion']);

/** Parses a DSL file (YAML 1.1 like Dify's safe_load); errors name file:line:column. */
export function loadDsl(file: string): DslDoc {
  // A tenant fan-out renders one DSL for hundreds of targets: parse it once per file version. The cached document is
  // shared, so it is frozen: callers read it, renderDsl clones it, and a caller that mutates it fails loudly.
  const st = statSync(file, { throwIfNoEntry: false });
  const version = st ? `${st.mtimeMs}|${st.size}|${st.ino}` : undefined;
  const hit = loaded.get(file);
  if (hit && version && hit.version === version) return hit.doc;
  const src = loadSourceFile(file, { version: '1.1', category: 'input' });
  let doc = src.value;
  if (isWrappedExport(doc)) doc = parseSource(src.file, doc.data, { version: '1.1', category: 'input' }).value;
  checkDsl(doc, src.file);
  if (version) loaded.set(file, { version, doc: deepFreeze(doc) });
  return doc as DslDoc;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const loaded = new Map<string, { version: string; doc: DslDoc }>();

/** Parses DSL text (an export or a backup file). */
export function parseDsl(text: string, label: string): DslDoc {
  let doc = parseBounded(text, label);
  if (isWrappedExport(doc)) doc = parseBounded(doc.data, label);
  checkDsl(doc, label);
  return doc as DslDoc;
}

/**
 * YAML exactly as PyYAML's safe_load reads it (yaml/pyyaml-load.ts). These texts come from Dify (exports,
 * backups): refused only where safe_load fails; an integer past 2^53 in an export is read (rounded) for diffs.
 */
function parseBounded(text: string, label: string): unknown {
  const loaded = loadPyYaml(text);
  const problem = loaded.issues.find((i) => i.kind !== 'duplicate-key' && i.kind !== 'unstorable');
  if (problem) {
    const at = loaded.lines.linePos(problem.offset);
    throw new DifyCiError(`${label}: not valid YAML: ${pyIssueMessage(problem)} (line ${at.line}, column ${at.col})`, 'input');
  }
  return loaded.value;
}

function checkDsl(doc: unknown, file: string): asserts doc is DslDoc {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new DifyCiError('a Dify DSL must be a mapping (app:, kind:, version:, …)', 'input', { position: { file, line: 1, column: 1 } });
  }
  const app = (doc as DslDoc).app;
  if (!app || typeof app !== 'object' || typeof app.mode !== 'string') {
    throw new DifyCiError("not a Dify app DSL: 'app.mode' is missing", 'input', { position: { file, line: 1, column: 1 } });
  }
}

export function dslMode(doc: DslDoc): string {
  return String(doc.app?.mode ?? '');
}

/**
 * Serialises for Dify: YAML that PyYAML's safe_load reads back as exactly this value (yaml/pyyaml-dump.ts: `=`,
 * `yes`, `08257`, `2024-01-01`… stay strings).
 */
export function toYaml(doc: DslDoc): string {
  // A fan-out sends the same rendered DSL to many targets: serialise each distinct content once.
  const key = plainJson(doc);
  const hit = key === undefined ? undefined : yamlByContent.get(key);
  if (hit !== undefined) return hit;
  const text = dumpPyYaml(doc);
  return key === undefined ? text : yamlByContent.set(key, text);
}

const yamlByContent = new BoundedCache<string>(32, 1024 * 1024);

export interface Rendered {
  /** In memory only: holds secret values. */
  doc: DslDoc;
  mode: string;
  name: string;
  /** sha256 of the normalised DSL with secrets redacted: safe to record. */
  contentHash: string;
  /** Secret values by DSL variable name (memory only). */
  secrets: Record<string, string>;
  injected: { variables: string[]; secrets: string[] };
  warnings: string[];
}

export interface RenderOptions {
  env: EnvironmentConfig;
  name: string;
  /** Variables that override the environment's (tenant variables). */
  variables?: Record<string, string | number | boolean>;
  environ?: NodeJS.ProcessEnv;
  /**
   * 'required' (default): every declared secret needs its env var. 'placeholder': missing ones get a marker
   * (status and backup only hash the DSL, and secrets never enter hashes).
   */
  secretValues?: 'required' | 'placeholder';
}

function typedValue(v: string | number | boolean, valueType: string, name: string, where: string): string | number {
  if (valueType === 'number') {
    const n = typeof v === 'number' ? v : Number(v);
    if (!Number.isFinite(n)) throw configError(`${where}: variable ${name} is a number in the DSL, got ${JSON.stringify(v)}`);
    return n;
  }
  return String(v);
}

export function renderDsl(source: DslDoc, opts: RenderOptions): Rendered {
  const environ = opts.environ ?? runEnv();
  const where = `environment ${opts.env.key}`;
  const doc = structuredClone(source) as DslDoc;
  const warnings: string[] = [];
  doc.app = { ...doc.app, name: opts.name };
  const mode = dslMode(doc);
  const variables = { ...opts.env.variables, ...(opts.variables ?? {}) };
  const secrets: Record<string, string> = {};
  const injected = { variables: [] as string[], secrets: [] as string[] };

  const declared: any[] | undefined = WORKFLOW_MODES.has(mode) ? doc.workflow?.environment_variables : undefined;
  if (Array.isArray(declared)) {
    doc.workflow.environment_variables = declared.map((v: any) => {
      if (!v || typeof v !== 'object' || typeof v.name !== 'string') return v;
      const ref = opts.env.secrets[v.name];
      if (ref) {
        let value = environ[ref.env];
        if ((value === undefined || value === '') && opts.secretValues === 'placeholder') value = SECRET_MARKER;
        if (value === undefined || value === '') {
          throw configError(`${where}: secret ${v.name} needs environment variable ${ref.env}, which is not set (bind it with withCredentials in Jenkins)`);
        }
        if (value !== SECRET_MARKER) registerSecret(value);
        secrets[v.name] = value;
        injected.secrets.push(v.name);
        return { ...v, value_type: 'secret', value };
      }
      if (v.name in variables) {
        injected.variables.push(v.name);
        return { ...v, value: typedValue(variables[v.name]!, String(v.value_type ?? 'string'), v.name, where) };
      }
      if (v.value_type === 'secret' && (v.value === '' || v.value == null)) {
        warnings.push(`secret ${v.name} has no value in the DSL and no entry under environments.${opts.env.key}.secrets; it will be empty`);
      }
      return v;
    });
  }
  const encrypted = encryptedDatasetIds(doc);
  if (encrypted > 0) {
    warnings.push(`${encrypted} knowledge-base id(s) are encrypted (exported from a workspace); Dify keeps them only in that same workspace and silently drops them elsewhere — use plain dataset UUIDs`);
  }
  const declaredNames = new Set((Array.isArray(declared) ? declared : []).map((v: any) => v?.name));
  for (const name of Object.keys(opts.env.secrets)) {
    if (!declaredNames.has(name)) log.debug(`${where}: secret ${name} is not declared by app ${opts.name}; not injected`);
  }
  return { doc, mode, name: opts.name, contentHash: contentHash(doc), secrets, injected, warnings };
}
