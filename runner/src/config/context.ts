/**
 * `dify-ci context`: everything Groovy needs to know about the configuration, decided here so that Groovy never
 * parses dify-ci.yml. Output is a stable JSON contract used by vars/difyRun.groovy and vars/difyPipeline.groovy.
 */
import { basename } from 'node:path';
import { usageError } from '../core/errors.js';
import { bindingsFor, type CredentialBinding, type Step } from './credentials.js';
import schema from './config.schema.json' with { type: 'json' };
import { loadTenants } from '../tenants/load.js';
import { planWaves } from '../tenants/waves.js';
import type { ResolvedConfig } from './types.js';

export interface StepContext {
  step: Step;
  env: string | null;
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
}

export type Gate = 'go' | 'ask' | 'stop';

/** The build facts the approval policy needs; difyPipeline passes them (the branch comes from its checkout). */
export interface BuildFacts {
  branch?: string;
  /** TAG_NAME of a tag build, or the DIFY_DEPLOY_TAG entry point. */
  tag?: string;
  buildNumber?: number;
}

/** The difyPipeline(...) options that override `pipeline:` of the configuration (the Groovy-only ones excluded). */
export const PIPELINE_OPTIONS = ['agentLabel', 'nodejsTool', 'environments', 'approvalPolicy', 'everyNth', 'mainBranch', 'shards', 'smokeUnstable'] as const;

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
        throw bad(`unknown option '${key}' (known: ${PIPELINE_OPTIONS.join(', ')})`);
    }
  }
  return p;
}

/**
 * The approval policy for one environment. Environments that need no approval always 'go'; a protected environment
 * always gets an approver (the runner refuses to change it without one), even with the policy `never`.
 */
export function gateFor(pipeline: StepContext['pipeline'], e: { approvalRequired: boolean; protected: boolean }, facts: BuildFacts): Gate {
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
    case 'every-nth':
      if (facts.buildNumber === undefined) {
        throw usageError("the approval policy 'every-nth' needs the build number (--build-number; difyPipeline passes BUILD_NUMBER)");
      }
      return facts.buildNumber % pipeline.everyNth === 0 ? 'ask' : 'stop';
    default:
      throw usageError(`unknown approval policy '${pipeline.approvalPolicy}'`);
  }
}

export async function buildContext(config: ResolvedConfig, step: Step, overrides: Record<string, unknown> = {}, facts: BuildFacts = {}): Promise<StepContext> {
  const env = config.env;
  const pipeline = resolvePipeline(config, overrides);
  const hasSmoke = Object.values(config.apps).some((a) => a.tests);
  const tenants = loadTenants(config);
  return {
    step,
    env: env?.key ?? null,
    credentials: bindingsFor(config, step, env, tenants),
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
          gate: step === 'pipeline' ? gateFor(pipeline, { approvalRequired: e.approval.required, protected: e.protected }, facts) : null,
        },
      ]),
    ),
  };
}
