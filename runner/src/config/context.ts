/**
 * `dify-ci context`: everything Groovy needs to know about the configuration, decided here so that Groovy never
 * parses dify-ci.yml. Output is a stable JSON contract used by vars/difyRun.groovy and vars/difyPipeline.groovy.
 */
import { bindingsFor, type CredentialBinding, type Step } from './credentials.js';
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
  environmentDetails: Record<string, { approvalRequired: boolean; submitter: string | null; message: string; timeoutMinutes: number; protected: boolean; hasSmoke: boolean; waves: number }>;
}

export async function buildContext(config: ResolvedConfig, step: Step): Promise<StepContext> {
  const env = config.env;
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
    pipeline: {
      environments: config.pipeline.environments,
      approvalPolicy: config.pipeline.approval.policy,
      everyNth: config.pipeline.approval.everyNth,
      mainBranch: config.pipeline.approval.mainBranch,
      nodejsTool: config.pipeline.nodejsTool ?? null,
      agentLabel: config.pipeline.agentLabel ?? null,
      shards: config.pipeline.shards,
      smokeUnstable: config.pipeline.smokeUnstable,
    },
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
        },
      ]),
    ),
  };
}
