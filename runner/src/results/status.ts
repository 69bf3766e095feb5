/** `data` of `.dify-ci/results/status.json` (deploy/status.ts): per target what is live, and how it drifted. */

export type Drift = 'not-deployed' | 'not-published' | 'live-changed' | 'git-differs' | 'draft-edited';

export interface StatusTarget {
  env: string;
  app: string;
  tenant?: string;
  target: string;
  appId: string | null;
  mode: string | null;
  versionId: string | null;
  publishedAt: number | null;
  markedName: string | null;
  publishedBy: string | null;
  publishedHash: string | null;
  contentHash: string | null;
  last: { time: string; versionId: string | null; contentHash: string | null; publishedHash: string | null; gitCommit: string | null; approvedBy: string | null; status: string } | null;
  drift: Drift[];
  inSync: boolean;
  error?: string;
}

export interface StatusReport {
  env: string;
  authMode: string | null;
  drifted: number;
  targets: StatusTarget[];
}
