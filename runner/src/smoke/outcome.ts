/**
 * What a smoke run produced: per target its case results and figures (the model the four reports render and the
 * result data is made from). Apart from runner.ts, so the reports need not import the runner that writes them.
 */
import type { AppInfo, InputField } from './client.js';
import type { TargetSummary } from './summary.js';
import type { CaseRunResult } from './types.js';

export interface TargetRun {
  id: string;
  app: string;
  env: string;
  tenant?: string;
  apiUrl: string;
  suiteFile: string;
  info?: AppInfo;
  inputs?: InputField[];
  error?: { message: string; category: string };
  results: CaseRunResult[];
  summary: TargetSummary;
  warnings: string[];
}

export interface SmokeReports {
  json?: string;
  junit?: string;
  markdown?: string;
  html?: string;
}

export interface SmokeRun {
  title: string;
  passed: boolean;
  passRate: number;
  startedAt: string;
  finishedAt: string;
  wallMs: number;
  targets: TargetRun[];
  reports: SmokeReports;
  data: Record<string, unknown>;
}
