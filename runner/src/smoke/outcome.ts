/**
 * What a smoke run produced: per target its case results and figures (the model the four reports render and the
 * result data is made from). Apart from runner.ts, so the reports need not import the runner that writes them.
 */
import type { AppInfo, InputField } from './service-api.js';
import type { SmokeFigures, SmokeReports, SmokeRunData } from '../results/smoke.js';
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
  summary: SmokeFigures;
  warnings: string[];
}

/** The run as the reports render it. */
export interface SmokeRunModel {
  title: string;
  passed: boolean;
  passRate: number;
  startedAt: string;
  finishedAt: string;
  wallMs: number;
  targets: TargetRun[];
  reports: SmokeReports;
}

/** The run and its result data (`data` in smoke.json). */
export interface SmokeRun extends SmokeRunModel {
  data: SmokeRunData;
}
