/**
 * `data` of `.dify-ci/results/rollback.json`: one workspace (deploy/rollback.ts) or a fan-out over tenants
 * (fanout/rollback.ts, `fanOut: true`). With --this-build, `skipped` targets say why in `reason`.
 */
import { targetResult, type TargetName, type TargetResult, type TargetRow } from './target.js';

export type RollbackStatus = 'rolled-back' | 'unchanged' | 'skipped' | 'dry-run' | 'failed';

export interface RollbackTargetResult extends TargetResult<RollbackStatus> {
  /** What was live before. */
  from: { versionId: string | null; hash: string | null };
  /** What it went back to: a published version, or a backup file. */
  to: { versionId: string | null; file: string | null; hash: string | null };
  diffText: string | null;
  /** Why a `--this-build` rollback left the target alone. */
  reason?: string;
}

export function rollbackResult(t: TargetName, status: RollbackStatus): RollbackTargetResult {
  return { ...targetResult(t, status), from: { versionId: null, hash: null }, to: { versionId: null, file: null, hash: null }, diffText: null };
}

export type RollbackCounts = { targets: number; rolledBack: number; unchanged: number; skipped: number; failed: number };

/** With --this-build: the build's identity and how many of the selected targets it deployed. */
export type ThisBuild = { build: string; deployed: number } | null;

export interface RollbackReport {
  env: string;
  authMode: string | null;
  approvedBy: string | null;
  status: 'success' | 'failed';
  targets: RollbackTargetResult[];
  counts: RollbackCounts;
  thisBuild: ThisBuild;
}

export interface FanOutRollbackReport extends RollbackReport {
  fanOut: true;
  failures: TargetRow[];
}

export type RollbackData = RollbackReport | FanOutRollbackReport;
