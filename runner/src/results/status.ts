/** `data` of `.dify-ci/results/status.json` (deploy/status.ts): per target what is live, and how it drifted. */
import type { TargetResult } from './target.js';

export type Drift = 'not-deployed' | 'not-published' | 'live-changed' | 'git-differs' | 'draft-edited';

/** What is live: the fields a deploy's target result has, read from Dify instead of written to it. */
export interface StatusTarget extends Pick<TargetResult, 'env' | 'app' | 'tenant' | 'target' | 'appId' | 'mode' | 'versionId' | 'publishedAt' | 'publishedHash' | 'contentHash' | 'error'> {
  markedName: string | null;
  publishedBy: string | null;
  last: { time: string; versionId: string | null; contentHash: string | null; publishedHash: string | null; gitCommit: string | null; approvedBy: string | null; status: string } | null;
  drift: Drift[];
  inSync: boolean;
}

export interface StatusReport {
  env: string;
  authMode: string | null;
  drifted: number;
  targets: StatusTarget[];
}
