/**
 * The smoke part of the run summary, from the smoke result files (results/smoke.ts): a smoke run's targets, or a
 * wave gate's. Several runs (one per environment or stage) add up; a single run keeps its own overall figures.
 */
import type { ResultFile } from '../results/read.js';
import type { SmokeData } from '../results/commands.js';
import type { SmokeTargetData } from '../results/smoke.js';

/** One target's smoke, as a message shows it. */
export interface SmokeLine {
  app?: string;
  env?: string;
  tenant?: string;
  /** The target's own gate. */
  ok?: boolean;
  passRate?: number;
  p50Ms?: number;
  p95Ms?: number;
  /** Runs (a case repeated is several runs), as the pass rate counts them. */
  passed?: number;
  failed?: number;
  /** A setup failure (no key, app unreachable). */
  error?: string;
  /** "case: reason" of the first failed run. */
  firstFailure?: string;
}

export interface SmokeSummary {
  status: string;
  summary: string;
  passRate?: number;
  p50Ms?: number;
  p95Ms?: number;
  passed?: number;
  failed?: number;
  runs: SmokeLine[];
  /** Workspace-relative path of the HTML report, if the smoke command produced one. */
  reportPath?: string;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v : undefined);
/** A pass rate is 0..1; anything else is not believed. */
const rate = (v: unknown): number | undefined => {
  const n = num(v);
  return n !== undefined && n >= 0 && n <= 1 ? n : undefined;
};

function targetLine(t: Partial<SmokeTargetData>): SmokeLine {
  const first = t.failures?.[0];
  return {
    app: text(t.app),
    env: text(t.env),
    tenant: text(t.tenant),
    ok: typeof t.passed === 'boolean' ? t.passed : undefined,
    passRate: rate(t.passRate),
    p50Ms: num(t.latencyMs?.p50),
    p95Ms: num(t.latencyMs?.p95),
    passed: num(t.runs?.passed),
    failed: num(t.runs?.failed),
    error: text(t.error?.message),
    firstFailure: first ? [text(first.case), text(first.reason)].filter(Boolean).join(': ') || undefined : undefined,
  };
}

/** A smoke result's overall figures and its targets. */
function read(r: ResultFile<'smoke'>): { overall: SmokeLine; lines: SmokeLine[]; reportPath?: string; env?: string } {
  const d: Partial<SmokeData> = r.data ?? {};
  if ('gate' in d && d.gate) {
    // smoke --wave K: the wave's gate, per target its smoke in the gate.
    const lines = (d.targets ?? []).map((t) => ({
      app: text(t.app),
      env: text(d.env),
      tenant: text(t.tenant),
      ok: typeof t.smoke?.passed === 'boolean' ? t.smoke.passed : undefined,
      passRate: rate(t.smoke?.passRate),
      error: text(t.smoke?.error),
      firstFailure: text(t.smoke?.firstFailure),
    }));
    return { overall: { passRate: rate(d.gate.passRate) }, lines, reportPath: text(d.smokeReports?.html), env: text(d.env) };
  }
  const run = d as Partial<Extract<SmokeData, { totals: unknown }>>;
  return {
    overall: {
      passRate: rate(run.passRate),
      p50Ms: num(run.latencyMs?.p50),
      p95Ms: num(run.latencyMs?.p95),
      passed: num(run.totals?.runsPassed),
      failed: num(run.totals?.runsFailed),
    },
    lines: (run.targets ?? []).map(targetLine),
    reportPath: text(run.reports?.html),
  };
}

const isHtml = (a: { path: string; kind: string }) => /html/i.test(a.kind) || /\.html?$/i.test(a.path);

/** `keep` leaves out targets (and whole results) of other environments. */
export function summariseSmoke(results: ResultFile<'smoke'>[], keep: (env: string | undefined) => boolean): SmokeSummary | undefined {
  const runs: SmokeLine[] = [];
  let reportPath: string | undefined;
  let overall: SmokeLine = {};
  let mixed = false;
  const kept: ResultFile<'smoke'>[] = [];
  for (const r of results) {
    const one = read(r);
    if (!keep(one.env)) continue;
    const list = one.lines.filter((x) => keep(x.env));
    if (one.lines.length > 0 && list.length === 0) continue; // entirely another environment
    kept.push(r);
    // Some runs belong to another environment: the overall figures must come from the ones kept.
    if (list.length < one.lines.length) mixed = true;
    runs.push(...list);
    overall = one.overall;
    reportPath ??= one.reportPath ?? r.artifacts.find(isHtml)?.path;
  }
  if (kept.length === 0) return undefined;
  const sum = (k: 'passed' | 'failed') => (runs.some((x) => x[k] !== undefined) ? runs.reduce((a, x) => a + (x[k] ?? 0), 0) : undefined);
  const single = kept.length === 1 && !mixed;
  const passed = single && overall.passed !== undefined ? overall.passed : sum('passed');
  const failed = single && overall.failed !== undefined ? overall.failed : sum('failed');
  let passRate = single ? overall.passRate : undefined;
  if (passRate === undefined && passed !== undefined && passed + (failed ?? 0) > 0) passRate = passed / (passed + (failed ?? 0));
  if (passRate === undefined && runs.length > 0 && runs.every((x) => x.passRate !== undefined)) passRate = Math.min(...runs.map((x) => x.passRate!));
  const worst = (k: 'p50Ms' | 'p95Ms') => {
    const vals = runs.map((x) => x[k]).filter((x): x is number => x !== undefined);
    return vals.length ? Math.max(...vals) : undefined;
  };
  const last = kept[kept.length - 1]!;
  return {
    status: last.status,
    summary: last.summary,
    passRate,
    // The slowest run is the honest headline for a gate; per-run figures are listed too.
    p50Ms: (single ? overall.p50Ms : undefined) ?? worst('p50Ms'),
    p95Ms: (single ? overall.p95Ms : undefined) ?? worst('p95Ms'),
    passed,
    failed,
    runs,
    reportPath,
  };
}
