/** Structure: what Dify checks at import (app_dsl_service.py), in Dify's order, plus a JSON Schema per mode. */
import type { ErrorObject, ValidateFunction } from '../../core/ajv.js';
import { validatorFor } from '../../core/validators.js';
import { DSL_SCHEMAS } from '../schemas.js';
import { pointerToPath, pathToString } from '../../yaml/source.js';
import { isRecord } from '../graph.js';
import { APP_MODES, OTHER_APP_MODES, WORKFLOW_MODES } from '../types.js';
import {
  DEFAULT_TARGET_DSL_VERSION,
  KNOWN_DSL_VERSIONS,
  MISSING_DSL_VERSION,
  compareDslVersions,
  importCompatibility,
  parseDslVersion,
} from '../versions.js';
import type { Rule, RuleContext } from './context.js';

const TOP_LEVEL_KEYS = new Set(['app', 'kind', 'version', 'dependencies', 'workflow', 'model_config']);

function pyType(v: unknown): string {
  if (v === null) return 'NoneType';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'list';
  if (v instanceof Date) return 'datetime.date';
  return typeof v === 'object' ? 'dict' : typeof v;
}

/** The version string Dify would use, or undefined when the version is missing or unusable. */
function versionString(ctx: RuleContext): string | undefined {
  const v = ctx.value.version;
  if (v === undefined || v === null || v === '') return MISSING_DSL_VERSION;
  return typeof v === 'string' ? v : undefined;
}

function target(ctx: RuleContext) {
  return parseDslVersion(ctx.options.targetDslVersion ?? DEFAULT_TARGET_DSL_VERSION) ?? parseDslVersion(DEFAULT_TARGET_DSL_VERSION)!;
}

function schemaValidatorFor(mode: string): ValidateFunction {
  const name = WORKFLOW_MODES.includes(mode) ? 'dslWorkflowApp' : mode === 'agent-chat' ? 'dslAgentChatApp' : 'dslChatApp';
  return validatorFor(name, DSL_SCHEMAS[name]);
}

function schemaMessage(e: ErrorObject): { message: string; extra?: string } {
  const at = pathToString(pointerToPath(e.instancePath));
  switch (e.keyword) {
    case 'required':
      return { message: `${at} is missing required key '${(e.params as { missingProperty: string }).missingProperty}'` };
    case 'type':
      return { message: `${at} must be ${String((e.params as { type: string | string[] }).type).replace(/,/g, ' or ')}` };
    case 'enum':
      return { message: `${at} must be one of ${((e.params as { allowedValues: unknown[] }).allowedValues).map((a) => JSON.stringify(a)).join(', ')}` };
    default:
      return { message: `${at} ${e.message ?? 'is invalid'}` };
  }
}

export const structureRules: Rule[] = [
  {
    id: 'DSL010',
    name: 'not-a-mapping',
    group: 'structure',
    severity: 'error',
    requires: 'mapping',
    summary: 'The document must be a YAML mapping',
    help: 'Dify fails the import with "Invalid YAML format: content must be a mapping". A DSL file is a mapping with app, kind, version and workflow or model_config.',
    check() {
      // Reported by the validator before any rule runs (nothing else can be checked on a non-mapping).
    },
  },
  {
    id: 'DSL011',
    name: 'version-not-string',
    group: 'structure',
    severity: 'error',
    requires: 'mapping',
    summary: '`version` must be a string (quote it)',
    help: "YAML reads an unquoted `version: 0.6` as the float 0.6 and Dify fails with \"Invalid version type, expected str, got <class 'float'>\". Quote it: `version: '0.6.0'`, or write the full x.y.z form.",
    check(ctx) {
      const v = ctx.value.version;
      if (v === undefined || v === null || v === '' || typeof v === 'string') return;
      ctx.report(`version must be a string, got ${pyType(v)} ${JSON.stringify(v instanceof Date ? v.toISOString().slice(0, 10) : v)}: Dify fails with "Invalid version type, expected str, got <class '${pyType(v)}'>" (quote it)`, ['version']);
    },
  },
  {
    id: 'DSL012',
    name: 'version-invalid',
    group: 'structure',
    severity: 'error',
    requires: 'mapping',
    summary: '`version` must be a version number such as 0.6.0',
    help: 'Dify parses the version with packaging.version; an unparsable value such as `latest` fails the import (and on some releases leaves an empty app behind).',
    check(ctx) {
      const v = versionString(ctx);
      if (v !== undefined && !parseDslVersion(v)) ctx.report(`version '${v}' is not a version number (x.y.z); Dify fails the import`, ['version']);
    },
  },
  {
    id: 'DSL013',
    name: 'version-unknown',
    group: 'structure',
    severity: 'warning',
    requires: 'mapping',
    summary: '`version` is missing or not a DSL version Dify has released',
    help: 'Without `version` Dify assumes 0.1.0 and imports with warnings (and, for versions up to 0.1.5 without `dependencies`, looks plugins up in the marketplace). Export the app again or set the version Dify wrote.',
    check(ctx) {
      const raw = ctx.value.version;
      if (raw === undefined || raw === null || raw === '') {
        ctx.report(`version is missing: Dify treats the file as DSL ${MISSING_DSL_VERSION} and imports it with warnings`, raw === undefined ? [] : ['version']);
        return;
      }
      if (typeof raw !== 'string') return;
      const p = parseDslVersion(raw);
      if (p && !KNOWN_DSL_VERSIONS.includes(`${p.major}.${p.minor}.${p.patch}`)) {
        ctx.report(`version '${raw}' is not a DSL version dify-ci knows (${KNOWN_DSL_VERSIONS[0]}–${KNOWN_DSL_VERSIONS[KNOWN_DSL_VERSIONS.length - 1]})`, ['version']);
      }
    },
  },
  {
    id: 'DSL014',
    name: 'version-newer-than-target',
    group: 'structure',
    severity: 'error',
    requires: 'mapping',
    summary: 'The DSL is newer than the target Dify: the import would be pending',
    help: 'Dify holds an import whose version is above its own as "pending" (HTTP 202) until someone confirms it within 10 minutes, and the newer file may use features the older Dify cannot run. Export from the same Dify version you deploy to, or raise --target-dsl-version / validate.targetDslVersion.',
    check(ctx) {
      const v = versionString(ctx);
      const p = v ? parseDslVersion(v) : null;
      if (!p) return;
      const t = target(ctx);
      if (compareDslVersions(p, t) > 0) {
        ctx.report(`DSL version ${v} is newer than the target ${t.major}.${t.minor}.${t.patch}: the import would be pending (needs confirmation) and may use features the target cannot run`, ['version']);
      }
    },
  },
  {
    id: 'DSL015',
    name: 'version-older-major',
    group: 'structure',
    severity: 'warning',
    requires: 'mapping',
    summary: 'The DSL is from an older major version than the target',
    help: 'Dify holds imports of an older major DSL version as pending until confirmed (dify-ci deploy confirms them). Re-export the app from a current Dify to avoid surprises.',
    check(ctx) {
      const v = versionString(ctx);
      const p = v ? parseDslVersion(v) : null;
      const t = target(ctx);
      if (p && p.major < t.major) ctx.report(`DSL version ${v} is an older major version than the target ${t.major}.${t.minor}.${t.patch}: Dify holds the import as pending until it is confirmed`, ['version']);
    },
  },
  {
    id: 'DSL016',
    name: 'version-older-minor',
    group: 'structure',
    severity: 'info',
    requires: 'mapping',
    summary: 'The DSL is from an older minor version: Dify imports it with warnings',
    help: 'Dify answers "completed-with-warnings" and migrates the file. Nothing to fix; re-exporting keeps the file close to what Dify stores.',
    check(ctx) {
      const v = versionString(ctx);
      const p = v ? parseDslVersion(v) : null;
      if (!p || ctx.value.version === undefined) return;
      const t = target(ctx);
      if (p.major === t.major && importCompatibility(p, t) === 'completed-with-warnings') {
        ctx.report(`DSL version ${v} is older than the target ${t.major}.${t.minor}.${t.patch}: Dify imports it with warnings`, ['version']);
      }
    },
  },
  {
    id: 'DSL017',
    name: 'legacy-dependencies',
    group: 'structure',
    severity: 'warning',
    requires: 'app',
    summary: 'DSL up to 0.1.5 without `dependencies`: Dify looks plugins up in the marketplace at import',
    help: 'For version <= 0.1.5 files without a `dependencies` list Dify infers the plugins the app needs by asking the marketplace; servers without internet access fail or hang the import (Dify #18275, #18507). Re-export the app from a current Dify, which writes `dependencies`.',
    check(ctx) {
      if ('dependencies' in ctx.value) return;
      const v = versionString(ctx);
      const p = v ? parseDslVersion(v) : null;
      if (p && compareDslVersions(p, parseDslVersion('0.1.5')!) <= 0) {
        ctx.report(`DSL ${v} without dependencies: Dify asks the plugin marketplace which plugins the app needs (fails on servers without internet access)`, ctx.value.version === undefined ? [] : ['version']);
      }
    },
  },
  {
    id: 'DSL020',
    name: 'missing-app',
    group: 'structure',
    severity: 'error',
    requires: 'mapping',
    summary: 'The `app:` section is missing: this is not an app DSL',
    help: 'Dify fails the import with "Missing app data in YAML content". Check that the file is an app export and not another kind of YAML (a pipeline, a config, a sketch).',
    check(ctx) {
      const app = ctx.value.app;
      if (app === undefined || app === null || (isRecord(app) && Object.keys(app).length === 0)) {
        ctx.report('no app: section: this is not a Dify app DSL (Dify: "Missing app data in YAML content")', app === undefined ? [] : ['app']);
      } else if (!isRecord(app)) {
        ctx.report('app: must be a mapping with name and mode', ['app']);
      }
    },
  },
  {
    id: 'DSL021',
    name: 'app-mode',
    group: 'structure',
    severity: 'error',
    requires: 'app',
    summary: '`app.mode` must be one of workflow, advanced-chat, chat, agent-chat, completion',
    help: 'Without a mode Dify fails with "loss app mode"; an unknown mode fails the import. Modes: workflow (Workflow), advanced-chat (Chatflow), chat (Chatbot), agent-chat (Agent), completion (Text Generator).',
    check(ctx) {
      const mode = ctx.app.mode;
      if (mode === undefined || mode === null || mode === '') ctx.report('app.mode is missing (Dify: "loss app mode")', ['app'], { key: true });
      else if (typeof mode !== 'string' || (!APP_MODES.includes(mode as never) && !OTHER_APP_MODES.includes(mode))) {
        ctx.report(`app.mode ${JSON.stringify(mode)} is not an app mode (one of ${APP_MODES.join(', ')})`, ['app', 'mode']);
      }
    },
  },
  {
    id: 'DSL022',
    name: 'kind',
    group: 'structure',
    severity: 'warning',
    requires: 'mapping',
    summary: '`kind` should be `app`',
    help: 'Dify ignores `kind` and imports the file as an app anyway; another value suggests the file is not what you think it is.',
    check(ctx) {
      const k = ctx.value.kind;
      if (k !== undefined && k !== null && k !== 'app') ctx.report(`kind is ${JSON.stringify(k)}; Dify imports every DSL as kind: app`, ['kind']);
    },
  },
  {
    id: 'DSL023',
    name: 'missing-mode-section',
    group: 'structure',
    severity: 'error',
    requires: 'app',
    summary: 'workflow/advanced-chat apps need `workflow:`; chat, agent-chat and completion apps need `model_config:`',
    help: 'Dify fails with "Missing workflow data for workflow/advanced chat app" or "Missing model_config for chat/agent-chat/completion app".',
    check(ctx) {
      const mode = ctx.mode;
      if (!mode || !APP_MODES.includes(mode as never)) return;
      if (WORKFLOW_MODES.includes(mode)) {
        if (!isRecord(ctx.value.workflow)) ctx.report(`app mode ${mode} needs a workflow: mapping (Dify: "Missing workflow data for workflow/advanced chat app")`, ctx.value.workflow === undefined ? [] : ['workflow']);
      } else if (!isRecord(ctx.value.model_config)) {
        ctx.report(`app mode ${mode} needs a model_config: mapping (Dify: "Missing model_config for chat/agent-chat/completion app")`, ctx.value.model_config === undefined ? [] : ['model_config']);
      }
    },
  },
  {
    id: 'DSL024',
    name: 'schema',
    group: 'structure',
    severity: 'error',
    requires: 'app',
    summary: 'A field has the wrong type or a required field is missing (JSON Schema per app mode)',
    help: 'Node ids, edge ends and other fields Dify indexes by must have the right type: an unquoted numeric node id becomes a number and never matches the string ids in edges. Quote ids and keep the structure Dify exports.',
    check(ctx) {
      const mode = ctx.mode;
      if (!mode || !APP_MODES.includes(mode as never)) return;
      const validate = schemaValidatorFor(mode);
      if (validate(ctx.value)) return;
      const seen = new Set<string>();
      for (const e of validate.errors ?? []) {
        if (e.keyword === 'if' || e.keyword === 'allOf') continue;
        const { message } = schemaMessage(e);
        if (seen.has(message)) continue;
        seen.add(message);
        if (seen.size > 25) break;
        const path = pointerToPath(e.instancePath);
        ctx.report(message, e.keyword === 'required' ? path : path, { key: e.keyword === 'required' });
      }
    },
  },
  {
    id: 'DSL025',
    name: 'unknown-top-level-key',
    group: 'structure',
    severity: 'warning',
    requires: 'mapping',
    summary: 'Unknown top-level key',
    help: 'Dify ignores top-level keys it does not know, so a misspelt `workflow` or `model_config` is silently dropped. Fix the spelling or remove the key.',
    check(ctx) {
      for (const k of Object.keys(ctx.value)) {
        if (!TOP_LEVEL_KEYS.has(k)) ctx.report(`unknown top-level key '${k}' (Dify ignores it)`, [k], { key: true });
      }
    },
  },
  {
    id: 'DSL026',
    name: 'mode-not-checked',
    group: 'structure',
    severity: 'warning',
    requires: 'app',
    summary: 'App mode dify-ci does not check in depth',
    help: 'Modes such as `agent` (Dify 1.15+), `channel` and `rag-pipeline` are known to Dify but their DSL is not validated by dify-ci beyond the top level.',
    check(ctx) {
      const mode = ctx.mode;
      if (mode && OTHER_APP_MODES.includes(mode)) ctx.report(`app mode '${mode}' is only checked at the top level by dify-ci`, ['app', 'mode']);
    },
  },
];
