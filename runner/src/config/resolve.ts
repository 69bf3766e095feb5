/**
 * The ONE configuration resolver (Groovy never parses the config; it asks `dify-ci context`).
 * Layers, later wins: built-in defaults < file < the selected environment < DIFY_CI_* variables < CLI flags
 * (CLI flags are applied by each command on top of what this returns).
 */
import { existsSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { configError, DifyCiError } from '../core/errors.js';
import type { ValidateFunction } from '../core/ajv.js';
import { validatorFor } from '../core/validators.js';
import { CONFIG_SCHEMAS } from './schemas.js';
import { schemaProblems } from '../core/schema-errors.js';
import { formatPosition } from '../core/errors.js';
import { positionOf, type SourceDoc } from '../yaml/source.js';
import { parseSource } from '../core/source.js';
import { configFileExists, readConfigText, trustedSource, type TrustedSource } from './trusted.js';
import type {
  AppConfig,
  AuthConfig,
  EnvironmentConfig,
  NotifyConfig,
  PipelineConfig,
  ResolvedConfig,
  RolloutConfig,
  SmokeConfig,
  TenantConfig,
  ValidateConfig,
} from './types.js';
import { runCwd, runEnv } from '../core/run.js';

export const DEFAULT_CONFIG_FILES = ['dify-ci.yml', 'dify-ci.yaml', 'dify-ci.json'];
export const DEFAULT_DSL_VERSION = '0.6.0';

export const DEFAULTS = {
  smoke: { concurrency: 4, passRate: 1, timeoutMs: 30000, mode: 'streaming', user: 'dify-ci-smoke', retries: 2, unstableOnFailure: false } satisfies SmokeConfig,
  rollout: {
    waves: ['100%'],
    gate: { smoke: true, maxFailedTargets: 0, minPassRate: 1 },
    rollbackOnFailure: true,
    concurrency: 16,
    perServerConcurrency: 8,
  } satisfies RolloutConfig,
  timeoutMs: 30000,
  concurrency: 8,
  notifyOn: ['failure', 'fixed'] as const,
};

/** `DIFY_CI_*` variables that override the file (documented in README). */
export const ENV_OVERRIDES = {
  DIFY_CI_URL: 'url of the selected environment',
  DIFY_CI_API_URL: 'apiUrl of the selected environment',
  DIFY_CI_DSL_VERSION: 'dslVersion of the selected environment',
  DIFY_CI_TIMEOUT_MS: 'timeoutMs of the selected environment',
  DIFY_CI_SMOKE_CONCURRENCY: 'smoke.concurrency',
  DIFY_CI_SMOKE_PASS_RATE: 'smoke.passRate',
  DIFY_CI_SMOKE_TIMEOUT_MS: 'smoke.timeoutMs',
  DIFY_CI_RESULTS_DIR: 'paths.results',
  DIFY_CI_REPORTS_DIR: 'paths.reports',
} as const;

function validateSchema(): ValidateFunction {
  return validatorFor('config', CONFIG_SCHEMAS.config);
}

/**
 * The configuration file: the one given, else the first of dify-ci.yml, .yaml, .json that exists. An untrusted
 * build looks among its readTrusted copies first, then in the workspace (whose name must then come through
 * readTrusted too; a name the target branch lacks fails there).
 */
export function findConfigFile(explicit?: string, cwd = runCwd(), environ: NodeJS.ProcessEnv = runEnv()): string {
  if (explicit) return resolvePath(cwd, explicit);
  const candidates = DEFAULT_CONFIG_FILES.map((name) => resolvePath(cwd, name));
  const source = trustedSource(environ, cwd);
  const trusted = source ? candidates.find((p) => configFileExists(p, source)) : undefined;
  return trusted ?? candidates.find((p) => existsSync(p)) ?? candidates[0]!;
}

export interface LoadOptions {
  configFile?: string;
  envName?: string;
  environ?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Raw file view, validated against the schema; throws a config error (exit 2) naming file:line:column. */
export function loadConfigSource(file: string, trusted: TrustedSource | null = null): { src: SourceDoc; raw: Record<string, any> } {
  if (!trusted && !existsSync(file)) {
    throw configError(`configuration file not found: ${file} (create dify-ci.yml or pass --config)`);
  }
  const { shown, text } = readConfigText(file, trusted);
  const src = parseSource(shown, text, { category: 'config' });
  const raw = src.value;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw configError('the configuration must be a mapping (apps:, environments:, …)', {
      position: { file: src.file, line: 1, column: 1 },
    });
  }
  const validate = validateSchema();
  if (!validate(raw)) {
    const problems = schemaProblems(src, validate.errors ?? []);
    const [first, ...rest] = problems;
    throw configError(first!.message, {
      position: first!.position,
      details: rest.map((p) => `${formatPosition(p.position)}: ${p.message}`),
    });
  }
  return { src, raw: raw as Record<string, any> };
}

function num(environ: NodeJS.ProcessEnv, name: string, src: SourceDoc): number | undefined {
  const v = environ[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw configError(`${name}=${JSON.stringify(v)} is not a number`, { position: { file: src.file } });
  return n;
}

function deepMerge<T>(base: T, over: unknown): T {
  if (over === undefined || over === null) return base;
  if (typeof base !== 'object' || base === null || Array.isArray(base) || typeof over !== 'object' || Array.isArray(over)) {
    return over as T;
  }
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over as Record<string, unknown>)) out[k] = deepMerge(out[k], v);
  return out as T;
}

function resolveNotify(raw: any): NotifyConfig {
  const out: NotifyConfig = {};
  if (raw?.slack) out.slack = { ...raw.slack, on: raw.slack.on ?? [...DEFAULTS.notifyOn] };
  if (raw?.email) {
    out.email = {
      ...raw.email,
      to: Array.isArray(raw.email.to) ? raw.email.to : String(raw.email.to).split(',').map((s: string) => s.trim()),
      from: raw.email.from ?? 'dify-ci <dify-ci@localhost>',
      smtp: raw.email.smtp ?? { host: 'localhost', port: 25 },
      attachReport: raw.email.attachReport ?? true,
      on: raw.email.on ?? [...DEFAULTS.notifyOn],
    };
  }
  if (raw?.reportUrl) out.reportUrl = raw.reportUrl;
  return out;
}

export function resolveTenantsInline(list: any[], src: SourceDoc): TenantConfig[] {
  const seen = new Map<string, number>();
  return list.map((t, i) => {
    const pos = positionOf(src, ['tenants', i]);
    if (seen.has(t.name)) {
      throw configError(`duplicate tenant name '${t.name}' (first at line ${seen.get(t.name)})`, { position: positionOf(src, ['tenants', i, 'name']) });
    }
    seen.set(t.name, pos.line ?? 0);
    return {
      name: t.name,
      workspaceId: t.workspaceId,
      url: t.url,
      auth: t.auth,
      variables: t.variables ?? {},
      labels: Object.fromEntries(Object.entries(t.labels ?? {}).map(([k, v]) => [k, String(v)])),
      canary: t.canary ?? false,
      apps: t.apps ?? {},
      source: { file: src.file, line: pos.line },
    };
  });
}

export function resolveConfig(opts: LoadOptions = {}): ResolvedConfig {
  const environ = opts.environ ?? runEnv();
  const cwd = opts.cwd ?? runCwd();
  const file = findConfigFile(opts.configFile ?? environ.DIFY_CI_CONFIG, cwd, environ);
  const trusted = trustedSource(environ, cwd);
  const { src, raw } = loadConfigSource(file, trusted);
  const baseDir = dirname(file);
  const rel = (p: string) => resolvePath(baseDir, p);

  const apps: Record<string, AppConfig> = {};
  for (const [key, a] of Object.entries<any>(raw.apps)) {
    apps[key] = { key, dsl: rel(a.dsl), tests: a.tests ? rel(a.tests) : undefined, name: a.name };
  }

  const smoke: SmokeConfig = deepMerge(DEFAULTS.smoke, raw.smoke);
  const rollout: RolloutConfig = deepMerge(DEFAULTS.rollout, raw.rollout);
  const notify = resolveNotify(raw.notify);
  const hasTenants = Array.isArray(raw.tenants) ? raw.tenants.length > 0 : Boolean(raw.tenants?.file);

  const environments: Record<string, EnvironmentConfig> = {};
  for (const [key, e] of Object.entries<any>(raw.environments)) {
    for (const appKey of Object.keys(e.apps ?? {})) {
      if (!apps[appKey]) {
        throw configError(`environments.${key}.apps.${appKey}: no app '${appKey}' under apps: (known: ${Object.keys(apps).join(', ')})`, {
          position: positionOf(src, ['environments', key, 'apps', appKey], { key: true }),
        });
      }
    }
    for (const [name, s] of Object.entries<any>(e.secrets ?? {})) {
      if (e.variables && name in e.variables) {
        throw configError(`environments.${key}: '${name}' is both a variable and a secret`, {
          position: positionOf(src, ['environments', key, 'secrets', name], { key: true }),
        });
      }
      void s;
    }
    const url = String(e.url).replace(/\/+$/, '');
    environments[key] = {
      key,
      url,
      apiUrl: (e.apiUrl ? String(e.apiUrl) : `${url}/v1`).replace(/\/+$/, ''),
      auth: e.auth as AuthConfig,
      apps: e.apps ?? {},
      variables: e.variables ?? {},
      secrets: e.secrets ?? {},
      approval: {
        required: e.approval?.required ?? Boolean(e.protected),
        submitter: e.approval?.submitter,
        message: e.approval?.message ?? `Deploy to ${key}?`,
        timeoutMinutes: e.approval?.timeoutMinutes ?? 60,
      },
      protected: e.protected ?? false,
      tls: { caFile: e.tls?.caFile ? rel(e.tls.caFile) : undefined, rejectUnauthorized: e.tls?.rejectUnauthorized ?? true },
      timeoutMs: e.timeoutMs ?? DEFAULTS.timeoutMs,
      dslVersion: e.dslVersion ?? DEFAULT_DSL_VERSION,
      concurrency: e.concurrency ?? rollout.perServerConcurrency,
      tenants: e.tenants ?? hasTenants,
      smoke: deepMerge(smoke, e.smoke),
      rollout: deepMerge(rollout, e.rollout),
      notify: e.notify ? { ...notify, ...resolveNotify(deepMerge(raw.notify ?? {}, e.notify)) } : notify,
    };
  }

  const validate: ValidateConfig = { strict: raw.validate?.strict ?? false, targetDslVersion: raw.validate?.targetDslVersion, policy: raw.validate?.policy };
  const envKeys = Object.keys(environments);
  const pipeline: PipelineConfig = {
    environments: raw.pipeline?.environments ?? envKeys,
    approval: {
      policy: raw.pipeline?.approval?.policy ?? 'main-branch',
      everyNth: raw.pipeline?.approval?.everyNth ?? 1,
      mainBranch: raw.pipeline?.approval?.mainBranch ?? 'main',
    },
    nodejsTool: raw.pipeline?.nodejsTool,
    agentLabel: raw.pipeline?.agentLabel,
    shards: raw.pipeline?.shards ?? 1,
    smokeUnstable: raw.pipeline?.smokeUnstable ?? false,
  };
  for (const [i, k] of pipeline.environments.entries()) {
    if (!environments[k]) {
      throw configError(`pipeline.environments[${i}]: unknown environment '${k}' (known: ${envKeys.join(', ')})`, {
        position: positionOf(src, ['pipeline', 'environments', i]),
      });
    }
  }

  const tenants = Array.isArray(raw.tenants)
    ? resolveTenantsInline(raw.tenants, src)
    : raw.tenants?.file
      ? { file: rel(raw.tenants.file) }
      : [];

  const paths = {
    results: resolvePath(cwd, environ.DIFY_CI_RESULTS_DIR || raw.paths?.results || '.dify-ci/results'),
    reports: resolvePath(cwd, environ.DIFY_CI_REPORTS_DIR || raw.paths?.reports || '.dify-ci/reports'),
    backups: resolvePath(cwd, raw.paths?.backups || '.dify-ci/backups'),
    history: resolvePath(cwd, raw.paths?.history || '.dify-ci/history'),
  };

  const config: ResolvedConfig = { file, baseDir, apps, environments, tenants, smoke, rollout, validate, notify, pipeline, paths, source: src, trusted };

  const envName = opts.envName ?? environ.DIFY_CI_ENV;
  if (envName) selectEnvironment(config, envName, environ);
  return config;
}

/**
 * Picks the environment for this run and applies the DIFY_CI_* layer to it. Separate from resolveConfig so that
 * secrets can be registered for masking before anything (even a bad --env value) is printed.
 */
export function selectEnvironment(config: ResolvedConfig, envName: string, environ: NodeJS.ProcessEnv = runEnv()): EnvironmentConfig {
  const src = config.source;
  const raw = src.value as Record<string, any>;
  const environments = config.environments;
  const envKeys = Object.keys(environments);
  const env = environments[envName];
  if (!env) throw new DifyCiError(`unknown environment '${envName}' (known: ${envKeys.join(', ')})`, 'usage');
  if (environ.DIFY_CI_URL) {
    env.url = environ.DIFY_CI_URL.replace(/\/+$/, '');
    if (!raw.environments[envName].apiUrl) env.apiUrl = `${env.url}/v1`;
  }
  if (environ.DIFY_CI_API_URL) env.apiUrl = environ.DIFY_CI_API_URL.replace(/\/+$/, '');
  if (environ.DIFY_CI_DSL_VERSION) env.dslVersion = environ.DIFY_CI_DSL_VERSION;
  env.timeoutMs = num(environ, 'DIFY_CI_TIMEOUT_MS', src) ?? env.timeoutMs;
  env.smoke = {
    ...env.smoke,
    concurrency: num(environ, 'DIFY_CI_SMOKE_CONCURRENCY', src) ?? env.smoke.concurrency,
    passRate: num(environ, 'DIFY_CI_SMOKE_PASS_RATE', src) ?? env.smoke.passRate,
    timeoutMs: num(environ, 'DIFY_CI_SMOKE_TIMEOUT_MS', src) ?? env.smoke.timeoutMs,
  };
  config.env = env;
  return env;
}

/** The selected environment, or a usage error that says how to choose one. */
export function requireEnv(config: ResolvedConfig): EnvironmentConfig {
  if (!config.env) {
    throw new DifyCiError(`choose an environment with --env (one of: ${Object.keys(config.environments).join(', ')})`, 'usage');
  }
  return config.env;
}
