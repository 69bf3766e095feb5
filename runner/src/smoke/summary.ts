/** Per-target figures from case results: pass rate and gate, latency/TTFT percentiles, tokens, cost. Pure. */
import { addDecimals } from './decimal.js';
import type { CaseRunResult } from './types.js';
import type { SmokeFigures } from '../results/smoke.js';

/** Nearest-rank percentile; null for no samples. */
export function percentile(samples: number[], p: number): number | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return Math.round(sorted[rank - 1]!);
}

export function summarize(results: CaseRunResult[], gatePassRate: number, setupFailed = false): SmokeFigures {
  const ran = results.filter((r) => !r.skipped);
  const passedRuns = ran.filter((r) => r.pass).length;
  const errored = ran.filter((r) => !r.pass && r.status !== 'succeeded').length;
  const byCase = new Map<string, CaseRunResult[]>();
  for (const r of results) byCase.set(r.name, [...(byCase.get(r.name) ?? []), r]);
  let casePassed = 0;
  let caseFailed = 0;
  let caseSkipped = 0;
  const requiredFailed: string[] = [];
  for (const [name, runs] of byCase) {
    if (runs.every((r) => r.skipped)) caseSkipped++;
    else if (runs.every((r) => r.skipped || r.pass)) casePassed++;
    else {
      caseFailed++;
      if (runs.some((r) => r.required)) requiredFailed.push(name);
    }
  }
  const observations = ran.flatMap((r) => r.turns.map((t) => t.observation));
  const latencies = observations.map((o) => o.latencyMs);
  const ttfts = observations.map((o) => o.ttftMs).filter((v): v is number => v !== undefined);
  const tokens = observations.reduce((a, o) => a + (o.usage.totalTokens ?? 0), 0);
  const currencies = [...new Set(observations.map((o) => o.usage.currency).filter(Boolean))] as string[];
  const passRate = ran.length === 0 ? 1 : passedRuns / ran.length;
  return {
    passed: !setupFailed && passRate >= gatePassRate - 1e-9 && requiredFailed.length === 0,
    passRate,
    gatePassRate,
    requiredFailed,
    cases: { total: byCase.size, passed: casePassed, failed: caseFailed, skipped: caseSkipped },
    runs: { total: results.length, passed: passedRuns, failed: ran.length - passedRuns, errored, skipped: results.length - ran.length },
    calls: observations.length,
    latencyMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), max: latencies.length ? Math.round(Math.max(...latencies)) : null },
    ttftMs: { p50: percentile(ttfts, 50), p95: percentile(ttfts, 95) },
    tokens: { total: tokens, perCall: observations.length ? Math.round(tokens / observations.length) : null },
    cost: { total: addDecimals(observations.map((o) => o.usage.totalPrice)), currency: currencies.length === 1 ? currencies[0]! : currencies.length ? 'mixed' : null },
    retries: observations.reduce((a, o) => a + o.retries, 0),
  };
}
