/**
 * `dify-ci context`: everything Groovy needs to know about the configuration, decided here so that Groovy never
 * parses dify-ci.yml. Output is a stable JSON contract used by vars/difyRun.groovy and vars/difyPipeline.groovy.
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { usageError } from '../core/errors.js';
import { bindingsFor, type CredentialBinding, type Step } from './credentials.js';
import schema from './config.schema.json' with { type: 'json' };
import { GROOVY_OPTIONS, PIPELINE_OPTIONS } from './pipeline-options.js';
import { isUntrusted } from './trusted.js';
import { loadTenants } from './tenants.js';
import { planWaves } from '../selection/waves.js';
import type { EnvironmentConfig, ResolvedConfig, TenantConfig } from './types.js';

export interface StepContext {
  step: Step;
  env: string | null;
  /** A pull request (or readTrusted) build: `credentials` is empty whatever the configuration says. */
  untrusted: boolean;
  credentials: CredentialBinding[];
  approval: { required: boolean; submitter: string | null; message: string; timeoutMinutes: number } | null;
  protected: boolean;
  environments: string[];
  apps: string[];
  pipeline: {
    environments: string[];
    approvalPolicy: string;
    everyNth: number;
    mainBranch: string;
    nodejsTool: string | null;
    agentLabel: string | null;
    shards: number;
    smokeUnstable: boolean;
  };
  /**
   * Per environment (for `pipeline`): approval and protection, so the pipeline can be laid out. `waves`: the
   * number of waves of its gray release over all tenants (rollout.waves with two or more entries), 0 when it has
   * none or does not fan out — a sharded pipeline deploys and gates wave by wave when it is above 0.
   */
  environmentDetails: Record<string, EnvironmentDetails>;
}

/**
 * `gate` (for `pipeline`, null for the other steps): what the approval policy makes of this build in the environment — 'go' (deploy without
 * asking), 'ask' (an approver first) or 'stop' (the policy keeps this build out of it, and out of later ones).
 */
export interface EnvironmentDetails {
  approvalRequired: boolean;
  submitter: string | null;
  message: string;
  timeoutMinutes: number;
  protected: boolean;
  hasSmoke: boolean;
  waves: number;
  gate: Gate | null;
  /** The `lock` resource for deploying here: the Dify server and workspace it changes, shared by every repository. */
  lock: string;
  /** every-nth on the main branch: good builds counted from the deploy history, this one included, of `needed`. */
  promotion: { goodBuilds: number; needed: number; since: string | null } | null;
}

export type Gate = 'go' | 'ask' | 'stop';

/** The build facts the approval policy needs; difyPipeline passes them (the branch comes from its checkout). */
export interface BuildFacts {
  branch?: string;
  /** TAG_NAME of a tag build, or the DIFY_DEPLOY_TAG entry point. */
  tag?: string;
  /** every-nth: good main builds since `gated` was last deployed, counted in `previous` (deploy/promotion.ts). */
  goodBuilds?: (gated: string, previous: string) => { count: number; since: string | null };
}

const pipelineSchema = (schema as any).definitions.pipeline.properties;
const POLICIES: string[] = pipelineSchema.approval.properties.policy.enum;
const SHARDS: { minimum: number; maximum: number } = pipelineSchema.shards;

function shown(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : v === undefined ? 'nothing' : JSON.stringify(v);
}

/**
 * difyPipeline's options over `pipeline:` of the configuration (options win), checked like the file is: the same
 * types and bounds, and environments that exist. Errors name the option and are usage errors (exit 2).
 */
export function resolvePipeline(config: ResolvedConfig, overrides: Record<string, unknown> = {}): StepContext['pipeline'] {
  const known = Object.keys(config.environments);
  const p: StepContext['pipeline'] = {
    environments: config.pipeline.environments,
    approvalPolicy: config.pipeline.approval.policy,
    everyNth: config.pipeline.approval.everyNth,
    mainBranch: config.pipeline.approval.mainBranch,
    nodejsTool: config.pipeline.nodejsTool ?? null,
    agentLabel: config.pipeline.agentLabel ?? null,
    shards: config.pipeline.shards,
    smokeUnstable: config.pipeline.smokeUnstable,
  };
  const bad = (msg: string) => usageError(`difyPipeline: ${msg}`);
  for (const [key, v] of Object.entries(overrides)) {
    if ((GROOVY_OPTIONS as readonly string[]).includes(key)) throw bad(`option '${key}' is Groovy's own (difyPipeline keeps it; it is not a pipeline: setting)`);
    switch (key) {
      case 'environments': {
        if (!Array.isArray(v) || !v.every((e) => typeof e === 'string')) {
          throw bad(`environments must be a list of environment keys, e.g. ['staging', 'production'] (got ${typeof v === 'string' ? v : JSON.stringify(v)})`);
        }
        const unknown = v.find((e) => !known.includes(e));
        if (unknown !== undefined) {
          throw bad(`environments: no environment '${unknown}' in ${basename(config.file)} (known: ${known.join(', ')})`);
        }
        p.environments = v;
        break;
      }
      case 'approvalPolicy':
        if (typeof v !== 'string' || !POLICIES.includes(v)) throw bad(`approvalPolicy must be one of ${POLICIES.join(', ')} (got ${shown(v)})`);
        p.approvalPolicy = v;
        break;
      case 'everyNth':
        // '3' (a String, e.g. from a job parameter) is not 3.
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw bad(`everyNth must be a whole number \u2265 1 (got ${shown(v)})`);
        p.everyNth = v;
        break;
      case 'shards':
        if (typeof v !== 'number' || !Number.isInteger(v) || v < SHARDS.minimum || v > SHARDS.maximum) {
          throw bad(`shards must be a whole number from ${SHARDS.minimum} to ${SHARDS.maximum} (got ${shown(v)})`);
        }
        p.shards = v;
        break;
      case 'smokeUnstable':
        if (typeof v !== 'boolean') throw bad(`smokeUnstable must be true or false (got ${shown(v)})`);
        p.smokeUnstable = v;
        break;
      case 'mainBranch':
        if (typeof v !== 'string' || v === '') throw bad(`mainBranch must be a non-empty string (got ${shown(v)})`);
        p.mainBranch = v;
        break;
      case 'nodejsTool':
      case 'agentLabel':
        // null: none (the node on the agent's PATH; any agent), even when the file names one
        if (v !== null && typeof v !== 'string') throw bad(`${key} must be a string or null (got ${shown(v)})`);
        p[key] = v === '' ? null : v;
        break;
      default:
        throw bad(`unknown option '${key}' (known: ${[...PIPELINE_OPTIONS, ...GROOVY_OPTIONS].join(', ')})`);
    }
  }
  return p;
}

type GateInput = { key: string; approvalRequired: boolean; protected: boolean };

/**
 * The approval policy for one environment. Environments that need no approval always 'go'; a protected environment
 * always gets an approver (the runner refuses to change it without one), even with the policy `never`. `every-nth`
 * offers an environment to tag builds, and to the main branch's builds once this one is the everyNth good build
 * since the environment was last deployed (counted in the environment before it, `previous`); other branches stop.
 */
export function gateFor(pipeline: StepContext['pipeline'], e: GateInput, facts: BuildFacts, previous: string | null = null): Gate {
  if (!e.approvalRequired && !e.protected) return 'go';
  switch (pipeline.approvalPolicy) {
    case 'never':
      return e.protected ? 'ask' : 'go';
    case 'always':
      return 'ask';
    case 'main-branch':
      return facts.branch !== undefined && facts.branch === pipeline.mainBranch ? 'ask' : 'stop';
    case 'tags':
      return facts.tag ? 'ask' : 'stop';
    case 'every-nth': {
      if (facts.tag) return 'ask';
      const p = promotion(pipeline, e, facts, previous);
      return p !== null && p.goodBuilds >= p.needed ? 'ask' : 'stop';
    }
    default:
      throw usageError(`unknown approval policy '${pipeline.approvalPolicy}'`);
  }
}

/** every-nth on the main branch: this build counted as good (it reached the environment), of everyNth. */
function promotion(pipeline: StepContext['pipeline'], e: GateInput, facts: BuildFacts, previous: string | null): EnvironmentDetails['promotion'] {
  if (pipeline.approvalPolicy !== 'every-nth' || facts.tag || facts.branch !== pipeline.mainBranch) return null;
  // The first environment of the deploy order has no earlier one to count in: every main build is offered.
  const g = previous !== null && facts.goodBuilds ? facts.goodBuilds(e.key, previous) : { count: pipeline.everyNth - 1, since: null };
  return { goodBuilds: g.count + 1, needed: pipeline.everyNth, since: g.since };
}

/**
 * The lock resource for deploying an environment, named after what a deploy changes, so that every repository
 * deploying there queues on it and no other: the Dify server and the workspace (its id, or for a login the
 * credential that picks it); for a tenant fleet, the server and a digest of its workspaces.
 */
export function lockKey(env: EnvironmentConfig, tenants: TenantConfig[]): string {
  const where = (url: string) => url.replace(/\/+$/, '');
  const workspace = (auth: EnvironmentConfig['auth']) =>
    'workspaceId' in auth ? auth.workspaceId : `login ${auth.credentialsId ?? ('email' in auth && auth.email) ?? ('tokenEnv' in auth ? auth.tokenEnv : auth.passwordEnv)}`;
  if (!env.tenants || tenants.length === 0) return `dify-ci ${where(env.url)} ${workspace(env.auth)}`;
  const targets = [...new Set(tenants.map((t) => `${where(t.url ?? env.url)} ${t.workspaceId ?? workspace(t.auth ?? env.auth)}`))].sort();
  if (targets.length === 1) return `dify-ci ${targets[0]}`;
  const servers = [...new Set(tenants.map((t) => where(t.url ?? env.url)))];
  const digest = createHash('sha256').update(targets.join('\n')).digest('hex').slice(0, 12);
  return `dify-ci ${servers.length === 1 ? servers[0] : 'fleet'} tenants ${digest}`;
}

export async function buildContext(
  config: ResolvedConfig,
  step: Step,
  overrides: Record<string, unknown> = {},
  facts: BuildFacts = {},
  environ: NodeJS.ProcessEnv = process.env,
): Promise<StepContext> {
  const env = config.env;
  const pipeline = resolvePipeline(config, overrides);
  const hasSmoke = Object.values(config.apps).some((a) => a.tests);
  const tenants = loadTenants(config);
  const untrusted = isUntrusted(config.trusted ?? null, environ);
  const previousOf = (key: string) => {
    const i = pipeline.environments.indexOf(key);
    return i > 0 ? pipeline.environments[i - 1]! : null;
  };
  return {
    step,
    env: env?.key ?? null,
    untrusted,
    credentials: untrusted ? [] : bindingsFor(config, step, env, tenants),
    approval: env
      ? { required: env.approval.required, submitter: env.approval.submitter ?? null, message: env.approval.message, timeoutMinutes: env.approval.timeoutMinutes }
      : null,
    protected: env?.protected ?? false,
    environments: Object.keys(config.environments),
    apps: Object.keys(config.apps),
    pipeline,
    environmentDetails: Object.fromEntries(
      Object.values(config.environments).map((e) => [
        e.key,
        {
          approvalRequired: e.approval.required,
          submitter: e.approval.submitter ?? null,
          message: e.approval.message,
          timeoutMinutes: e.approval.timeoutMinutes,
          protected: e.protected,
          hasSmoke,
          waves: e.tenants && tenants.length > 0 && e.rollout.waves.length > 1 ? planWaves(tenants, e.rollout.waves).length : 0,
          gate: step === 'pipeline' ? gateFor(pipeline, gateInput(e), facts, previousOf(e.key)) : null,
          lock: lockKey(e, tenants),
          promotion: step === 'pipeline' && (e.approval.required || e.protected) ? promotion(pipeline, gateInput(e), facts, previousOf(e.key)) : null,
        },
      ]),
    ),
  };
}

const gateInput = (e: EnvironmentConfig): GateInput => ({ key: e.key, approvalRequired: e.approval.required, protected: e.protected });
