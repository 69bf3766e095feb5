/**
 * Runs smoke suites against live apps through the service API and gates on the result.
 *
 * Programmatic API (also used per tenant by the fan-out): `runSmoke(config, env, targets, opts)`. A target is one app
 * on one server: `{app, env, apiUrl, suite}` plus a key (`apiKey`, `apiKeyEnv`) or a way to get one (`appId` and/or
 * `console`, else the configured environment).
 *
 * Result data (`data` in .dify-ci/results/smoke.json): results/smoke.ts (SmokeRunData), made by resultData().
 */
import pLimit from 'p-limit';
import { DifyCiError, formatPosition } from '../core/errors.js';
import { log, paint } from '../core/log.js';
import type { EnvironmentConfig, ResolvedConfig, SmokeConfig, TenantConfig } from '../config/types.js';
import type { ConsoleClient } from '../dify/console.js';
import { ServiceClient } from './client.js';
import type { AppInfo, InputField } from './service-api.js';
import { combine, judge } from './evaluate.js';
import { resolveApiKey } from './keys.js';
import { preflight, type PreflightProblem } from './preflight.js';
import { loadSuite } from './suite.js';
import { percentile, summarize } from './summary.js';
import type { SmokeFigures, SmokeRunData } from '../results/smoke.js';
import { addDecimals } from './decimal.js';
import { writeReports } from './reports/index.js';
import type { SmokeRun, SmokeRunModel, TargetRun } from './outcome.js';
import type { CaseRunResult, CaseSpec, Observation, ResponseMode, Suite, TurnResult } from './types.js';

export const SMOKE_DEFAULTS: SmokeConfig = { concurrency: 4, passRate: 1, timeoutMs: 30000, mode: 'streaming', user: 'dify-ci-smoke', retries: 2, unstableOnFailure: false };

export interface SmokeTarget {
  /** App key from the config (or any label for ad-hoc runs). */
  app: string;
  /** Environment key (label). */
  env: string;
  tenant?: TenantConfig;
  /** Service API base, e.g. https://api.dify.example.com/v1 */
  apiUrl: string;
  apiKey?: string;
  apiKeyEnv?: string;
  appId?: string;
  console?: ConsoleClient;
  /** The suite, or the path of its file. */
  suite: Suite | string;
  /** Set up elsewhere and failed (the tenant fan-out resolves keys per workspace): reported as this target's error. */
  setupError?: DifyCiError;
}

export interface SmokeOptions {
  /** Parallel runs over all targets (default smoke.concurrency). */
  concurrency?: number;
  /** Only cases whose name matches. */
  filter?: string | RegExp;
  /** Runs every case N times (overrides the suite). */
  repeat?: number;
  /** Gate (overrides the suite and the config). */
  passRate?: number;
  mode?: ResponseMode;
  timeoutMs?: number;
  retries?: number;
  user?: string;
  /** Write the reports here (JSON, JUnit, Markdown, HTML); nothing is written without it. */
  reportDir?: string;
  /** JUnit path (default <reportDir>/junit-smoke.xml). */
  junit?: string;
  /** Title of the reports. */
  title?: string;
  environ?: NodeJS.ProcessEnv;
  /** Injected in tests: the client's sleep/random. */
  clientOptions?: { sleep?: (ms: number, signal?: AbortSignal) => Promise<void>; random?: () => number };
  /** Progress lines on stderr (default true). */
  progress?: boolean;
}

interface Prepared {
  target: SmokeTarget;
  id: string;
  suite: Suite;
  cases: CaseSpec[];
  client?: ServiceClient;
  info?: AppInfo;
  inputs?: InputField[];
  error?: DifyCiError;
  warnings: string[];
  gatePassRate: number;
}

export function targetId(t: Pick<SmokeTarget, 'app' | 'env' | 'tenant'>): string {
  return `${t.tenant ? `${t.tenant.name}/` : ''}${t.app}@${t.env}`;
}

function compileFilter(f: string | RegExp | undefined): RegExp | undefined {
  if (f === undefined || f === '') return undefined;
  if (f instanceof RegExp) return f;
  try {
    return new RegExp(f);
  } catch (e) {
    throw new DifyCiError(`--filter: invalid regular expression: ${(e as Error).message}`, 'usage');
  }
}

function asError(e: unknown): DifyCiError {
  return e instanceof DifyCiError ? e : new DifyCiError((e as Error)?.message ?? String(e), 'internal', { cause: e });
}

export async function runSmoke(config: ResolvedConfig | undefined, env: EnvironmentConfig | undefined, targets: SmokeTarget[], opts: SmokeOptions = {}): Promise<SmokeRun> {
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  const smoke: SmokeConfig = { ...SMOKE_DEFAULTS, ...(config?.smoke ?? {}), ...(env?.smoke ?? {}) };
  const concurrency = opts.concurrency ?? smoke.concurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new DifyCiError(`concurrency must be a whole number ≥ 1, got ${concurrency}`, 'usage');
  const filter = compileFilter(opts.filter);
  const progress = opts.progress ?? true;
  const limit = pLimit(concurrency);

  // 1. Suites (file errors are fatal: exit 2 with file:line), then keys and app metadata per target.
  const prepared: Prepared[] = targets.map((t) => {
    const suite = typeof t.suite === 'string' ? loadSuite(t.suite) : t.suite;
    const cases = suite.cases.filter((c) => !filter || filter.test(c.name));
    return { target: t, id: targetId(t), suite, cases, warnings: [], gatePassRate: opts.passRate ?? suite.passRate ?? smoke.passRate };
  });
  if (filter && prepared.every((p) => p.cases.length === 0)) {
    throw new DifyCiError(`no case matches --filter ${filter} (cases: ${[...new Set(prepared.flatMap((p) => p.suite.cases.map((c) => c.name)))].slice(0, 10).join(', ')})`, 'usage');
  }
  await Promise.all(
    prepared.map((p) =>
      limit(async () => {
        try {
          if (p.target.setupError) throw p.target.setupError;
          const apiKey = await resolveApiKey({
            app: p.target.app,
            config,
            env,
            tenant: p.target.tenant,
            apiKey: p.target.apiKey,
            apiKeyEnv: p.target.apiKeyEnv,
            appId: p.target.appId,
            console: p.target.console,
            environ: opts.environ,
          });
          p.client = new ServiceClient({
            apiUrl: p.target.apiUrl,
            apiKey,
            timeoutMs: opts.timeoutMs ?? smoke.timeoutMs,
            retries: opts.retries ?? smoke.retries,
            caFile: env?.tls.caFile,
            rejectUnauthorized: env?.tls.rejectUnauthorized,
            ...opts.clientOptions,
          });
          p.info = await p.client.info();
          p.inputs = (await p.client.parameters()).inputs;
          if (progress) log.step(`${p.id}: ${p.info.mode} app '${p.info.name}', ${p.cases.length} case(s)`);
        } catch (e) {
          const err = asError(e);
          const hint = err.httpStatus === 400 && err.difyCode === 'app_unavailable' ? ' (a workflow or chatflow answers only once published)' : '';
          p.error = new DifyCiError(`${p.id}: ${err.message}${hint}`, err.category, {
            position: err.position,
            details: err.details,
            httpStatus: err.httpStatus,
            difyCode: err.difyCode,
            cause: e,
          });
        }
      }),
    ),
  );

  // 2. Inputs and queries checked against the app, for every target, before any run call.
  const problems: PreflightProblem[] = [];
  for (const p of prepared) {
    if (p.error || !p.info) continue;
    const r = preflight(p.info.mode, p.inputs ?? [], p.cases.filter((c) => !c.skip), p.id);
    problems.push(...r.problems);
    p.warnings.push(...r.warnings);
    for (const w of r.warnings) log.warn(w);
  }
  if (problems.length) {
    for (const p of prepared) p.client?.close();
    const [first, ...rest] = problems;
    throw new DifyCiError(first!.message, 'input', { position: first!.position, details: rest.map((p) => (p.position ? `${formatPosition(p.position)}: ${p.message}` : p.message)) });
  }
  // A single target that cannot even start: its error is the answer (a bad key exits 4, not 1).
  if (prepared.length === 1 && prepared[0]!.error) {
    prepared[0]!.client?.close();
    throw prepared[0]!.error;
  }

  // 3. Runs: every case × repeat of every target, through one limiter.
  const results = new Map<Prepared, CaseRunResult[]>(prepared.map((p) => [p, []]));
  const jobs: Promise<void>[] = [];
  for (const p of prepared) {
    if (p.error) continue;
    for (const c of p.cases) {
      const repeat = opts.repeat ?? c.repeat ?? p.suite.defaults.repeat ?? 1;
      for (let i = 1; i <= repeat; i++) {
        if (c.skip) {
          results.get(p)!.push(skipped(c, i, repeat));
          continue;
        }
        jobs.push(
          limit(async () => {
            const r = await runCase(p, c, i, repeat, smoke, opts);
            results.get(p)!.push(r);
            if (progress) logResult(p.id, r);
          }),
        );
      }
    }
  }
  await Promise.all(jobs);
  for (const p of prepared) p.client?.close();

  // 4. Summaries in suite order, whatever order the runs finished in.
  const targetRuns: TargetRun[] = prepared.map((p) => {
    const order = new Map(p.suite.cases.map((c, i) => [c.name, i]));
    const rs = results.get(p)!.sort((a, b) => order.get(a.name)! - order.get(b.name)! || a.iteration - b.iteration);
    return {
      id: p.id,
      app: p.target.app,
      env: p.target.env,
      tenant: p.target.tenant?.name,
      apiUrl: p.target.apiUrl,
      suiteFile: p.suite.file,
      info: p.info,
      inputs: p.inputs,
      error: p.error ? { message: p.error.oneLine(), category: p.error.category } : undefined,
      results: rs,
      summary: summarize(rs, p.gatePassRate, Boolean(p.error)),
      warnings: p.warnings,
    };
  });
  const allRuns = targetRuns.flatMap((t) => t.results.filter((r) => !r.skipped));
  const run: SmokeRunModel = {
    title: opts.title ?? `Smoke tests${env ? ` — ${env.key}` : ''}`,
    passed: targetRuns.every((t) => t.summary.passed),
    passRate: allRuns.length ? allRuns.filter((r) => r.pass).length / allRuns.length : targetRuns.some((t) => t.error) ? 0 : 1,
    startedAt,
    finishedAt: new Date().toISOString(),
    wallMs: Date.now() - started,
    targets: targetRuns,
    reports: {},
  };
  if (opts.reportDir) {
    run.reports = writeReports(run, { dir: opts.reportDir, junit: opts.junit });
  }
  return { ...run, data: resultData(run) };
}

function skipped(c: CaseSpec, iteration: number, repeat: number): CaseRunResult {
  return {
    name: c.name,
    iteration,
    repeat,
    required: c.required,
    pass: true,
    skipped: true,
    score: 0,
    threshold: c.threshold,
    reasons: ['skip: true'],
    turns: [],
    caseAssertions: [],
    latencyMs: 0,
    tokens: 0,
    cost: 0,
    retries: 0,
    status: 'succeeded',
    startedAt: new Date().toISOString(),
  };
}

async function runCase(p: Prepared, c: CaseSpec, iteration: number, repeat: number, smoke: SmokeConfig, opts: SmokeOptions): Promise<CaseRunResult> {
  const startedAt = new Date().toISOString();
  // A case's own setting is deliberate; flags override the suite's defaults, which override the config.
  const timeoutMs = c.timeoutMs ?? opts.timeoutMs ?? p.suite.defaults.timeoutMs ?? smoke.timeoutMs;
  const responseMode = c.mode ?? opts.mode ?? p.suite.defaults.mode ?? smoke.mode;
  const user = c.user ?? opts.user ?? p.suite.defaults.user ?? smoke.user;
  const turns: TurnResult[] = [];
  const reasons: string[] = [];
  let conversationId: string | undefined;
  for (const [i, t] of c.turns.entries()) {
    // The time limit covers one call; it starts when the call does, not while queued.
    const obs = await p.client!.run(
      { mode: p.info!.mode, responseMode, query: t.query, inputs: t.inputs, user, conversationId, files: c.files },
      AbortSignal.timeout(timeoutMs),
    );
    conversationId = obs.conversationId ?? conversationId;
    const { result, reasons: why } = judge(t.assert, obs, c.threshold);
    turns.push({ query: t.query, ...result });
    const prefix = c.turns.length > 1 ? `turn ${i + 1}: ` : '';
    reasons.push(...why.map((r) => prefix + r));
    if (c.conversation && obs.status !== 'succeeded' && i < c.turns.length - 1) {
      reasons.push(`turns ${i + 2}–${c.turns.length} not run: turn ${i + 1} did not succeed`);
      break;
    }
  }
  const observations: Observation[] = turns.map((t) => t.observation);
  const whole = combine(observations);
  let caseAssertions: CaseRunResult['caseAssertions'] = [];
  let caseScore: number | undefined;
  let casePass = true;
  if (c.caseAssert.length) {
    const j = judge(c.caseAssert, whole, c.threshold);
    caseAssertions = j.result.assertions;
    caseScore = j.result.score;
    casePass = j.result.pass;
    reasons.push(...j.reasons.map((r) => `conversation: ${r}`));
  }
  const allRan = turns.length === c.turns.length;
  const scores = [...turns.map((t) => t.score), ...(caseScore !== undefined ? [caseScore] : [])];
  return {
    name: c.name,
    iteration,
    repeat,
    required: c.required,
    pass: allRan && casePass && turns.every((t) => t.pass),
    skipped: false,
    score: scores.reduce((a, s) => a + s, 0) / Math.max(1, scores.length),
    threshold: c.threshold,
    reasons: [...new Set(reasons)],
    turns,
    caseAssertions,
    latencyMs: whole.latencyMs,
    ttftMs: observations[0]?.ttftMs,
    tokens: whole.usage.totalTokens ?? 0,
    cost: Number(whole.usage.totalPrice ?? 0),
    currency: whole.usage.currency,
    retries: whole.retries,
    status: whole.status,
    startedAt,
  };
}

function logResult(id: string, r: CaseRunResult): void {
  const name = `${id} ${r.name}${r.repeat > 1 ? ` [${r.iteration}/${r.repeat}]` : ''}`;
  const timing = `${Math.round(r.latencyMs)} ms${r.ttftMs !== undefined ? `, TTFT ${Math.round(r.ttftMs)} ms` : ''}${r.retries ? `, ${r.retries} retr${r.retries === 1 ? 'y' : 'ies'}` : ''}`;
  if (r.pass) log.ok(`${name} (${timing})`);
  else log.info(`${paint('red', '✘ ')}${name} (${timing}): ${r.reasons[0] ?? 'failed'}`);
}

/** The result data documented at the top of this file. */
export function resultData(run: SmokeRunModel): SmokeRunData {
  const calls = run.targets.flatMap((t) => t.results.filter((r) => !r.skipped).flatMap((r) => r.turns.map((x) => x.observation)));
  const latencies = calls.map((o) => o.latencyMs);
  const ttfts = calls.map((o) => o.ttftMs).filter((v): v is number => v !== undefined);
  const currencies = [...new Set(run.targets.map((t) => t.summary.cost.currency).filter(Boolean))];
  const sum = (f: (s: SmokeFigures) => number) => run.targets.reduce((a, t) => a + f(t.summary), 0);
  return {
    passed: run.passed,
    passRate: round(run.passRate),
    totals: {
      targets: run.targets.length,
      cases: sum((s) => s.cases.total),
      casesPassed: sum((s) => s.cases.passed),
      casesFailed: sum((s) => s.cases.failed),
      runs: sum((s) => s.runs.total),
      runsPassed: sum((s) => s.runs.passed),
      runsFailed: sum((s) => s.runs.failed),
      skipped: sum((s) => s.runs.skipped),
      calls: calls.length,
      tokens: sum((s) => s.tokens.total),
      cost: addDecimals(run.targets.map((t) => t.summary.cost.total)),
      currency: currencies.length === 1 ? currencies[0] : currencies.length ? 'mixed' : null,
      retries: sum((s) => s.retries),
    },
    latencyMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), max: latencies.length ? Math.round(Math.max(...latencies)) : null },
    ttftMs: { p50: percentile(ttfts, 50), p95: percentile(ttfts, 95) },
    targets: run.targets.map((t) => ({
      id: t.id,
      app: t.app,
      env: t.env,
      tenant: t.tenant ?? null,
      appName: t.info?.name ?? null,
      mode: t.info?.mode ?? null,
      apiUrl: t.apiUrl,
      suite: t.suiteFile,
      passed: t.summary.passed,
      passRate: round(t.summary.passRate),
      gatePassRate: t.summary.gatePassRate,
      requiredFailed: t.summary.requiredFailed,
      error: t.error ?? null,
      cases: t.summary.cases,
      runs: t.summary.runs,
      calls: t.summary.calls,
      latencyMs: t.summary.latencyMs,
      ttftMs: t.summary.ttftMs,
      tokens: t.summary.tokens,
      cost: t.summary.cost,
      retries: t.summary.retries,
      failures: t.results
        .filter((r) => !r.pass)
        .slice(0, 20)
        .map((r) => ({ case: r.name, iteration: r.iteration, reason: r.reasons[0] ?? 'failed' })),
    })),
    reports: run.reports,
  };
}

function round(n: number): number {
  return Math.round(n * 10000) / 10000;
}
