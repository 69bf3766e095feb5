/**
 * `data` of `.dify-ci/results/deploy.json` for one workspace (deploy/deploy.ts). A fan-out writes a
 * RolloutReport (rollout.ts) instead; notify, `rollback --this-build` and metrics read both.
 */
import { targetResult, type TargetName, type TargetResult } from './target.js';

export type DeployStatus = 'deployed' | 'unchanged' | 'dry-run' | 'refused' | 'failed';

export interface DeployTargetResult<S extends string = DeployStatus> extends TargetResult<S> {
  /** The app's name in Dify. */
  name: string | null;
  resolvedBy: 'config' | 'name' | 'create' | null;
  changed: boolean;
}

export function deployResult<S extends string>(t: TargetName, status: S): DeployTargetResult<S> {
  return { ...targetResult(t, status), name: null, resolvedBy: null, changed: false };
}

/** What every deploy says about its run, single or fanned out (RolloutReport). */
export interface DeployRun {
  env: string;
  authMode: string | null;
  status: 'success' | 'failed';
  dryRun: boolean;
  force: boolean;
  approvedBy: string | null;
  gitCommit: string | null;
  buildUrl: string | null;
}

export interface DeployReport extends DeployRun {
  targets: DeployTargetResult[];
  counts: { targets: number; deployed: number; unchanged: number; failed: number; refused: number };
}

/** A shard with no tenants of its own deploys nothing and says so. */
export interface EmptyShardDeploy {
  env: string;
  fanOut: true;
  wave: { index: number; of: number; spec: string } | null;
  targets: [];
  waves: [];
}
