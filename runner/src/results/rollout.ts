/**
 * `data` of `.dify-ci/results/deploy.json` when the environment fans out over tenants (fanout/rollout.ts), and of
 * `smoke.json` for `smoke --wave K` (WaveGateReport). `target` is `<env>/<tenant>/<app>`. A target is
 * `rolled-back` (with `error` saying why) when its wave failed the gate; `skipped` when a gate or --fail-fast
 * stopped the run before it started.
 */
import { deployResult, type DeployRun, type DeployTargetResult } from './deploy.js';
import type { SmokeReports } from './smoke.js';
import type { TargetName, TargetRow } from './target.js';

export type RolloutStatus = DeployTargetResult['status'] | 'rolled-back' | 'skipped';

/** How a target's smoke went in its wave's gate. */
export interface GateSmoke {
  passed: boolean;
  passRate: number;
  error: string | null;
  firstFailure: string | null;
}

export interface RolloutTarget extends Omit<DeployTargetResult<RolloutStatus>, 'tenant'> {
  tenant: string;
  wave: number;
  smoke: GateSmoke | null;
  rollback: { status: 'rolled-back' | 'unchanged' | 'failed' | 'not-possible'; versionId: string | null; error?: string } | null;
}

/** A target of the rollout with nothing done yet (`t` names its tenant). */
export function rolloutTarget(t: TargetName, wave: number, status: RolloutStatus): RolloutTarget {
  return { ...deployResult(t, status), tenant: t.tenant?.name ?? '', wave, smoke: null, rollback: null };
}

export interface WaveGate {
  smoke: boolean;
  passed: boolean;
  failedTargets: number;
  maxFailedTargets: number;
  passRate: number | null;
  minPassRate: number;
  reasons: string[];
}

export interface WaveResult {
  index: number;
  spec: string;
  tenants: string[];
  targets: number;
  status: 'passed' | 'failed' | 'not-gated' | 'skipped' | 'empty' | 'dry-run';
  counts: { deployed: number; unchanged: number; failed: number; refused: number; skipped: number; dryRun: number };
  gate: WaveGate | null;
  smokeReports: SmokeReports;
  rollback: { rolledBack: number; failed: number; notPossible: number } | null;
}

export interface RolloutReport extends DeployRun {
  fanOut: true;
  gated: boolean;
  failFast: boolean;
  stopped: boolean;
  tenants: { selected: number; run: number; notInWaves: number; shard: string | null };
  /** `deploy --wave K`: which wave of how many this run deployed (`waves` then holds that wave only); else null. */
  wave: { index: number; of: number; spec: string } | null;
  targets: RolloutTarget[];
  waves: WaveResult[];
  counts: { targets: number; deployed: number; unchanged: number; failed: number; refused: number; rolledBack: number; skipped: number; dryRun: number };
  /** Every target that did not end well, with why (the table the command prints). */
  failures: TargetRow[];
}

/** `smoke --wave K`: the gate over the targets wave K added, after every shard deployed them. */
export interface WaveGateReport {
  env: string;
  wave: { index: number; of: number; spec: string };
  status: 'passed' | 'failed';
  tenants: string[];
  gate: WaveGate;
  targets: { target: string; tenant: string; app: string; smoke: GateSmoke | null }[];
  smokeReports: SmokeReports;
}
