/** The full JSON report: every run, turn, observation and assertion (the result file only carries the summary). */
import type { SmokeRunModel } from '../outcome.js';

export function jsonReport(run: SmokeRunModel): Record<string, unknown> {
  return {
    title: run.title,
    passed: run.passed,
    passRate: run.passRate,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    wallMs: run.wallMs,
    targets: run.targets.map((t) => ({
      id: t.id,
      app: t.app,
      env: t.env,
      tenant: t.tenant ?? null,
      apiUrl: t.apiUrl,
      suite: t.suiteFile,
      app_info: t.info ?? null,
      inputForm: t.inputs ?? null,
      error: t.error ?? null,
      warnings: t.warnings,
      summary: t.summary,
      results: t.results,
    })),
  };
}
