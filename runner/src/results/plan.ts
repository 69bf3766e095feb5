/**
 * `data` of `.dify-ci/results/plan.json` (read by notify and the PR-comment step), and the plan file
 * `plan --out FILE` writes for `deploy --plan FILE` (which re-renders, checks contentHash and the observed hashes,
 * and refuses when either moved). Offline plans (`plan --offline`) have no observed state.
 */
import type { ChangeSummary, DslDiff } from './changes.js';

export type SecretState = 'changed' | 'unchanged' | 'added' | 'removed' | 'unknown';

export interface TargetPlan {
  env: string;
  app: string;
  tenant?: string;
  target: string;
  appId: string | null;
  name: string;
  mode: string;
  resolvedBy: 'config' | 'name' | 'create';
  action: 'create' | 'update' | 'noop' | 'error';
  changed: boolean;
  contentHash: string;
  observed: { versionId: string | null; publishedHash: string | null; draftHash: string | null; difyDraftHash: string | null };
  /** The draft differs from the published version or the last deploy: edited in Dify. */
  draftEdited: boolean;
  summary: ChangeSummary | null;
  secrets: Record<string, SecretState>;
  /** Secrets never carry values. */
  diff: DslDiff | null;
  warnings: string[];
  error?: string;
  errorCategory?: string;
}

export interface PlanFile {
  kind: 'dify-ci-plan';
  version: 1;
  createdAt: string;
  env: string;
  gitCommit: string | null;
  targets: TargetPlan[];
}

export interface OnlinePlanData {
  env: string;
  authMode: string | null;
  /** Targets with changes. */
  changed: number;
  gitCommit: string | null;
  targets: TargetPlan[];
  /** The plan as a pull-request comment. */
  markdown: string;
}

export interface OfflinePlanData {
  env: string;
  offline: true;
  /** The git revision compared with, or null (then `reason` says why). */
  base: string | null;
  reason: string | null;
  changed: number;
  targets: TargetPlan[];
  markdown: string;
}

export type PlanData = OnlinePlanData | OfflinePlanData;
