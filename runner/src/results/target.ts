/**
 * What every per-target result says — a deploy's, a rollback's, each target of a fan-out — and the one way such
 * a result starts: named, nothing known yet, then filled in as the work goes (or failed with failure.ts).
 */
import type { ChangeSummary } from './changes.js';

export interface TargetResult<S extends string = string> {
  env: string;
  app: string;
  tenant?: string;
  /** `<env>/<app>` or `<env>/<tenant>/<app>`: the deploy history's id of the target. */
  target: string;
  appId: string | null;
  mode: string | null;
  status: S;
  /** Published workflow id (workflow modes) after the work; null for chat modes. */
  versionId: string | null;
  /** Its created_at (Unix seconds); for chat modes the time of the change. */
  publishedAt: number | null;
  /** sha256 of the normalised DSL sent (secrets redacted). */
  contentHash: string | null;
  /** sha256 of the normalised export after the work. */
  publishedHash: string | null;
  verified: boolean | null;
  /** Backups taken before writing (paths). */
  backups: string[];
  summary: ChangeSummary | null;
  warnings: string[];
  /** Present when the target failed (failure.ts). */
  error?: string;
  errorCategory?: string;
}

/** What a target is called: deploy/targets.ts' Target and fanout/targets.ts' TenantTarget.target have it. */
export interface TargetName {
  id: string;
  env: { key: string };
  app: { key: string };
  tenant?: { name: string };
}

/** A result for `t` with nothing known yet. */
export function targetResult<S extends string>(t: TargetName, status: S): TargetResult<S> {
  return {
    env: t.env.key,
    app: t.app.key,
    ...(t.tenant ? { tenant: t.tenant.name } : {}),
    target: t.id,
    appId: null,
    mode: null,
    status,
    versionId: null,
    publishedAt: null,
    contentHash: null,
    publishedHash: null,
    verified: null,
    backups: [],
    summary: null,
    warnings: [],
  };
}

/** A line of a fan-out's failure table (`failures` in its result data). */
export interface TargetRow {
  target: string;
  status: string;
  reason: string;
}
