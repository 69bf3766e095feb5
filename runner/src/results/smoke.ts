/**
 * `data` of `.dify-ci/results/smoke.json` (smoke/runner.ts resultData, plus the command's unstableOnFailure), or
 * for `smoke --wave K` the wave's gate (rollout.ts WaveGateReport, `fanOut: true`). A run is one repetition of one
 * case; a call is one request (a conversation case makes one call per turn). Rates are 0..1; times in ms.
 */
/** One target's figures (smoke/summary.ts computes them from its case results). */
export interface SmokeFigures {
  passed: boolean;
  /** Passed runs ÷ runs that were not skipped (1 when nothing ran). */
  passRate: number;
  gatePassRate: number;
  /** Names of required cases with at least one failed run. */
  requiredFailed: string[];
  cases: { total: number; passed: number; failed: number; skipped: number };
  runs: { total: number; passed: number; failed: number; errored: number; skipped: number };
  calls: number;
  latencyMs: { p50: number | null; p95: number | null; max: number | null };
  ttftMs: { p50: number | null; p95: number | null };
  tokens: { total: number; perCall: number | null };
  /** Summed exactly from Dify's decimal strings. */
  cost: { total: string; currency: string | null };
  retries: number;
}

/** Paths of the reports a run wrote, relative to the working directory (absent when not written). */
export interface SmokeReports {
  json?: string;
  junit?: string;
  markdown?: string;
  html?: string;
}

export interface SmokeTargetData extends SmokeFigures {
  /** `support-bot@staging` or `tenant-07/support-bot@prod`. */
  id: string;
  app: string;
  env: string;
  tenant: string | null;
  appName: string | null;
  mode: string | null;
  apiUrl: string;
  suite: string;
  /** A setup failure (the key, /v1/info, /v1/parameters): the target ran nothing. */
  error: { message: string; category: string } | null;
  /** The first 20 failed runs. */
  failures: { case: string; iteration: number; reason: string }[];
}

export interface SmokeRunData {
  /** The gate: every target passed. */
  passed: boolean;
  /** Passed runs ÷ runs, all targets. */
  passRate: number;
  totals: {
    targets: number;
    cases: number;
    casesPassed: number;
    casesFailed: number;
    runs: number;
    runsPassed: number;
    runsFailed: number;
    skipped: number;
    calls: number;
    tokens: number;
    cost: string;
    currency: string | null;
    retries: number;
  };
  /** Over every call of every target (null when none). */
  latencyMs: { p50: number | null; p95: number | null; max: number | null };
  /** Time to first token, streamed calls only. */
  ttftMs: { p50: number | null; p95: number | null };
  targets: SmokeTargetData[];
  reports: SmokeReports;
}

/** What the command writes: a failed gate makes the build UNSTABLE instead of FAILURE when this is true. */
export interface SmokeCommandData extends SmokeRunData {
  unstableOnFailure: boolean;
}
