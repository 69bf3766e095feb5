/**
 * ONE run summary built from this build's result files and the Jenkins environment. Channels only render it.
 * The `data` of other commands is read defensively: a missing or differently shaped field drops a detail from the
 * message, never the message.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const BUILD_STATUSES = ['success', 'failure', 'unstable', 'aborted'] as const;
export type BuildStatus = (typeof BUILD_STATUSES)[number];

/** A result file as read back: the documented fields, whatever else the command wrote under `data`. */
export interface ResultRecord {
  file: string;
  command: string;
  status: string;
  summary: string;
  counts: Record<string, number>;
  artifacts: { path: string; kind: string }[];
  error: { message: string; category?: string } | null;
  finishedAt?: string;
  data: Record<string, unknown>;
}

export interface JenkinsInfo {
  job?: string;
  buildNumber?: string;
  buildUrl?: string;
  buildTag?: string;
  commit?: string;
  branch?: string;
  changeId?: string;
  changeUrl?: string;
  changeAuthor?: string;
  changeTitle?: string;
}

export interface TargetSummary {
  app: string;
  env?: string;
  tenant?: string;
  version?: string;
  changed?: boolean;
  ok: boolean;
  status: string;
  error?: string;
}

export interface ChangeSummary {
  app: string;
  env?: string;
  tenant?: string;
  text: string;
}

export interface SmokeRun {
  app?: string;
  env?: string;
  tenant?: string;
  /** The run's own gate, when the smoke command reports one. */
  ok?: boolean;
  passRate?: number;
  p50Ms?: number;
  p95Ms?: number;
  passed?: number;
  failed?: number;
  /** A setup failure (no key, app unreachable). */
  error?: string;
  /** "case: reason" of the first failed run. */
  firstFailure?: string;
  reportPath?: string;
}

export interface SmokeSummary {
  status: string;
  summary: string;
  passRate?: number;
  p50Ms?: number;
  p95Ms?: number;
  passed?: number;
  failed?: number;
  runs: SmokeRun[];
  /** Workspace-relative path of the HTML report, if the smoke command produced one. */
  reportPath?: string;
}

export interface RollbackSummary {
  status: string;
  ok: boolean;
  summary: string;
  targets: TargetSummary[];
}

export interface Failure {
  /** What failed: a target label or a command name. */
  label: string;
  message: string;
}

export interface RunSummary {
  status: BuildStatus;
  previousStatus?: BuildStatus;
  /** Succeeded after a failed or unstable build (Jenkins' meaning of "fixed"). */
  fixed: boolean;
  /** Something was actually deployed or rolled back: the live app changed. */
  changed: boolean;
  envs: string[];
  apps: string[];
  jenkins: JenkinsInfo;
  targets: TargetSummary[];
  changes: ChangeSummary[];
  smoke?: SmokeSummary;
  rollback?: RollbackSummary;
  validate?: { status: string; summary: string; errors: number; warnings: number };
  commands: { command: string; status: string; summary: string }[];
  failures: Failure[];
  reportUrl?: string;
}

// ---------------------------------------------------------------- defensive readers

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const obj = (v: unknown): Obj => (isObj(v) ? v : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim() || undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}
function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}
/** The first field present, for data shapes that are not final. */
function pick(o: Obj, ...keys: string[]): unknown {
  for (const k of keys) {
    const parts = k.split('.');
    let v: unknown = o;
    for (const p of parts) v = isObj(v) ? v[p] : undefined;
    if (v !== undefined && v !== null) return v;
  }
  return undefined;
}
/** The first array among `data.<key>` for the given keys. */
function listOf(data: Obj, ...keys: string[]): Obj[] {
  for (const k of keys) if (Array.isArray(data[k])) return (data[k] as unknown[]).filter(isObj);
  return [];
}

const OK_STATES = new Set(['success', 'succeeded', 'ok', 'deployed', 'unchanged', 'skipped', 'dry-run', 'rolled-back', 'rolledback', 'restored', 'passed', 'changes', 'no-change', 'nochange']);
const FAILED_STATES = new Set(['failed', 'failure', 'error', 'errored', 'refused', 'aborted', 'timeout', 'timed-out']);

/** Rollback target states in which the live app was changed. */
const ROLLED_BACK_STATES = new Set(['rolled-back', 'rolledback', 'restored']);

const VERSION_KEYS = ['versionId', 'version', 'to.versionId', 'toVersion', 'restoredVersion', 'workflowId'];
/** A rollback's interesting version is the one it went back to. */
const ROLLBACK_VERSION_KEYS = ['to.versionId', 'toVersion', 'restoredVersion', 'versionId', 'version'];

function targetOf(t: Obj, fallbackOk: boolean, versionKeys = VERSION_KEYS): TargetSummary {
  const status = (str(t.status) ?? (t.error ? 'failed' : fallbackOk ? 'success' : 'unknown')).toLowerCase();
  const error = str(pick(t, 'error.message', 'error', 'message'));
  const ok = FAILED_STATES.has(status) || error ? false : OK_STATES.has(status) ? true : fallbackOk;
  const version = str(pick(t, ...versionKeys)) ?? shortHash(str(pick(t, 'contentHash', 'hash', 'to.hash')));
  const changed = typeof t.changed === 'boolean' ? t.changed : undefined;
  return {
    app: str(pick(t, 'app', 'appKey', 'name')) ?? '(app)',
    env: str(pick(t, 'env', 'environment')),
    tenant: str(t.tenant),
    version,
    changed,
    ok,
    status,
    error,
  };
}

function shortHash(h?: string): string | undefined {
  if (!h) return undefined;
  const bare = h.replace(/^sha256:/, '');
  return bare.length > 12 ? bare.slice(0, 12) : bare;
}

export function targetLabel(t: { app: string; env?: string; tenant?: string }): string {
  const where = [t.tenant, t.env].filter(Boolean).join('@');
  return where ? `${t.app} → ${where}` : t.app;
}

/** Plan changes arrive as text, as {summary}, or as counts such as {added: 1, modified: 2}. */
function changeText(c: unknown): string | undefined {
  if (typeof c === 'string') return c.trim() || undefined;
  if (Array.isArray(c)) {
    const parts = c.map((x) => (typeof x === 'string' ? x : str(pick(obj(x), 'summary', 'description', 'path', 'kind')))).filter(Boolean);
    return parts.length ? parts.join('; ') : undefined;
  }
  if (isObj(c)) {
    const s = str(pick(c, 'summary', 'text', 'description'));
    if (s) return s;
    // Counts such as deploy's ChangeSummary {nodesChanged: 2, promptChanges: 1, create: false}.
    const counts = Object.entries(c).filter(([, v]) => typeof v === 'number' && v > 0).map(([k, v]) => `${v} ${words(k)}`);
    if (c.create === true) counts.unshift('new app');
    return counts.length ? counts.join(', ') : undefined;
  }
  return undefined;
}

/** `promptChanges` → `prompt changes`, `nodesAdded` → `nodes added`. */
function words(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
}

function isNoChange(text: string): boolean {
  return /^(no changes?|none|unchanged|up[ -]to[ -]date)\.?$/i.test(text.trim());
}

/** Pass rates arrive as 0..1 or as percentages. */
function rate(v: unknown): number | undefined {
  const n = num(v);
  if (n === undefined || n < 0) return undefined;
  return n > 1 ? Math.min(n / 100, 1) : n;
}

function smokeRun(o: Obj): SmokeRun {
  // The pass rate counts runs (a case repeated is several runs), so passed/failed prefer runs over cases.
  const count = (...keys: string[]) => {
    for (const k of keys) {
      const v = num(pick(o, k));
      if (v !== undefined) return v;
    }
    return undefined;
  };
  const passed = count('runsPassed', 'totals.runsPassed', 'runs.passed', 'passed', 'cases.passed', 'totals.casesPassed', 'counts.passed');
  const failed = count('runsFailed', 'totals.runsFailed', 'runs.failed', 'failed', 'cases.failed', 'totals.casesFailed', 'counts.failed');
  let passRate = rate(pick(o, 'passRate', 'pass_rate'));
  if (passRate === undefined && passed !== undefined && failed !== undefined && passed + failed > 0) passRate = passed / (passed + failed);
  const firstFailure = isObj(arr(o.failures)[0]) ? (arr(o.failures)[0] as Obj) : undefined;
  return {
    app: str(pick(o, 'app', 'appKey')),
    env: str(pick(o, 'env', 'environment')),
    tenant: str(o.tenant),
    ok: typeof o.passed === 'boolean' ? o.passed : undefined,
    passRate,
    p50Ms: num(pick(o, 'p50Ms', 'p50', 'latencyMs.p50', 'latency.p50Ms', 'latency.p50', 'latencyP50Ms')),
    p95Ms: num(pick(o, 'p95Ms', 'p95', 'latencyMs.p95', 'latency.p95Ms', 'latency.p95', 'latencyP95Ms')),
    passed,
    failed,
    error: str(pick(o, 'error.message', 'error')),
    firstFailure: firstFailure ? [str(firstFailure.case), str(pick(firstFailure, 'reason', 'message'))].filter(Boolean).join(': ') || undefined : undefined,
    reportPath: str(pick(o, 'reports.html', 'report.html', 'htmlReport', 'html')),
  };
}

function isHtml(a: { path: string; kind: string }): boolean {
  return /html/i.test(a.kind) || /\.html?$/i.test(a.path);
}

function summariseSmoke(results: ResultRecord[], keep: (o: Obj) => boolean = () => true): SmokeSummary | undefined {
  if (results.length === 0) return undefined;
  const runs: SmokeRun[] = [];
  let reportPath: string | undefined;
  let overall: SmokeRun = {};
  let mixed = false;
  const kept: ResultRecord[] = [];
  for (const r of results) {
    const all = listOf(r.data, 'runs', 'targets', 'results', 'apps', 'suites');
    const list = all.filter(keep);
    if (all.length > 0 && list.length === 0) continue; // entirely another environment
    kept.push(r);
    // Some runs belong to another environment: the overall figures must come from the ones kept.
    if (list.length < all.length) mixed = true;
    runs.push(...list.map(smokeRun));
    overall = smokeRun({ ...r.data, counts: r.counts });
    reportPath ??= str(pick(r.data, 'reports.html', 'report.html', 'htmlReport')) ?? r.artifacts.find(isHtml)?.path ?? runs.find((x) => x.reportPath)?.reportPath;
  }
  const sum = (k: 'passed' | 'failed') => (runs.some((x) => x[k] !== undefined) ? runs.reduce((a, x) => a + (x[k] ?? 0), 0) : undefined);
  if (kept.length === 0) return undefined;
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

// ---------------------------------------------------------------- result files

/** Every `<command>.json` in the results directory except notify's own, oldest first. */
export function readResultFiles(dir: string, opts: { notBefore?: Date; onSkip?: (file: string, why: string) => void } = {}): ResultRecord[] {
  if (!existsSync(dir)) return [];
  const out: ResultRecord[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
    const file = join(dir, name);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      opts.onSkip?.(file, `not JSON (${(e as Error).message})`);
      continue;
    }
    const o = obj(raw);
    const command = str(o.command);
    const status = str(o.status);
    if (!command || !status) {
      opts.onSkip?.(file, 'not a dify-ci result file (no command/status)');
      continue;
    }
    if (command === 'notify') continue;
    const finishedAt = str(o.finishedAt);
    if (opts.notBefore && finishedAt && Date.parse(finishedAt) < opts.notBefore.getTime()) {
      opts.onSkip?.(file, `left over from an earlier build (finished ${finishedAt})`);
      continue;
    }
    const err = isObj(o.error) ? { message: str(o.error.message) ?? 'error', category: str(o.error.category) } : null;
    out.push({
      file,
      command,
      status: status.toLowerCase(),
      summary: str(o.summary) ?? '',
      counts: Object.fromEntries(Object.entries(obj(o.counts)).filter(([, v]) => typeof v === 'number')) as Record<string, number>,
      artifacts: arr(o.artifacts).filter(isObj).map((a) => ({ path: str(a.path) ?? '', kind: str(a.kind) ?? '' })).filter((a) => a.path),
      error: err,
      finishedAt,
      data: obj(o.data),
    });
  }
  return out.sort((a, b) => Date.parse(a.finishedAt ?? '') - Date.parse(b.finishedAt ?? '') || 0);
}

export function jenkinsInfo(environ: NodeJS.ProcessEnv): JenkinsInfo {
  const e = (k: string) => str(environ[k]);
  const branch = e('BRANCH_NAME') ?? e('GIT_BRANCH')?.replace(/^(refs\/heads\/|origin\/)/, '');
  return {
    job: e('JOB_NAME'),
    buildNumber: e('BUILD_NUMBER'),
    buildUrl: e('BUILD_URL'),
    buildTag: e('BUILD_TAG'),
    commit: e('GIT_COMMIT'),
    branch,
    changeId: e('CHANGE_ID'),
    changeUrl: e('CHANGE_URL'),
    changeAuthor: e('CHANGE_AUTHOR_DISPLAY_NAME') ?? e('CHANGE_AUTHOR'),
    changeTitle: e('CHANGE_TITLE'),
  };
}

/**
 * The build result when Jenkins did not pass --status: any failed command fails the build, except failed smoke
 * tests configured as `smoke.unstableOnFailure` (the smoke result says so), which make it unstable.
 */
export function deriveStatus(results: ResultRecord[]): BuildStatus {
  const failed = results.filter((r) => r.status === 'error' || r.status === 'failed');
  if (failed.length === 0) return 'success';
  return failed.every((r) => r.command === 'smoke' && r.status === 'failed' && r.data.unstableOnFailure === true) ? 'unstable' : 'failure';
}

export interface SummaryInput {
  status: BuildStatus;
  previousStatus?: BuildStatus;
  results: ResultRecord[];
  environ: NodeJS.ProcessEnv;
  /** The environment chosen with --env, if any. */
  env?: string;
  /** notify.reportUrl from the config (may hold {{placeholders}}, rendered by the caller). */
  reportUrl?: (ctx: { reportPath?: string; jenkins: JenkinsInfo; env?: string }) => string | undefined;
}

export function isFixed(status: BuildStatus, previous?: BuildStatus): boolean {
  return status === 'success' && (previous === 'failure' || previous === 'unstable');
}

export function buildSummary(input: SummaryInput): RunSummary {
  // With --env, results and targets of other environments (other stages of the same build) stay out.
  const inEnv = (o: Obj) => {
    const e = str(pick(o, 'env', 'environment'));
    return !input.env || !e || e === input.env;
  };
  const results = input.results.filter((r) => inEnv(r.data));
  const by = (c: string) => results.filter((r) => r.command === c);
  const items = (r: ResultRecord, ...keys: string[]) => listOf(r.data, ...keys).filter(inEnv);
  const jenkins = jenkinsInfo(input.environ);

  const targets: TargetSummary[] = [];
  for (const r of by('deploy')) {
    const list = items(r, 'targets', 'results', 'deployments');
    targets.push(...list.map((t) => targetOf(t, r.status === 'success' || r.status === 'changes')));
  }

  const changes: ChangeSummary[] = [];
  for (const r of by('plan')) {
    for (const t of items(r, 'targets', 'plans', 'results')) {
      if (t.changed === false || t.action === 'noop' || t.action === 'error') continue;
      const text = changeText(pick(t, 'changes', 'summary'));
      if (!text || isNoChange(text)) continue;
      changes.push({ app: str(pick(t, 'app', 'appKey', 'name')) ?? '(app)', env: str(pick(t, 'env', 'environment')), tenant: str(t.tenant), text });
    }
  }
  // Without a plan result, what the deploy itself changed.
  if (changes.length === 0) {
    for (const r of by('deploy')) {
      for (const t of items(r, 'targets', 'results', 'deployments')) {
        const text = t.changed === true ? changeText(pick(t, 'changes', 'summary')) : undefined;
        if (text && !isNoChange(text)) changes.push({ app: str(pick(t, 'app', 'appKey', 'name')) ?? '(app)', env: str(pick(t, 'env', 'environment')), tenant: str(t.tenant), text });
      }
    }
  }

  let rollback: RollbackSummary | undefined;
  const rb = by('rollback');
  if (rb.length > 0) {
    const last = rb[rb.length - 1]!;
    const ok = last.status === 'success' || last.status === 'changes';
    rollback = {
      status: last.status,
      ok,
      summary: last.summary || (ok ? 'rolled back' : 'rollback failed'),
      targets: rb.flatMap((r) => items(r, 'targets', 'results').map((t) => targetOf(t, ok, ROLLBACK_VERSION_KEYS))),
    };
  }

  const v = by('validate').at(-1);
  const validate = v
    ? { status: v.status, summary: v.summary, errors: num(v.counts.errors) ?? 0, warnings: num(v.counts.warnings) ?? 0 }
    : undefined;

  const smoke = summariseSmoke(by('smoke'), inEnv);

  const failures: Failure[] = [];
  const explainedBy = new Map<string, number>();
  const add = (command: string, f: Failure) => {
    failures.push(f);
    explainedBy.set(command, (explainedBy.get(command) ?? 0) + 1);
  };
  for (const t of targets) if (!t.ok) add('deploy', { label: targetLabel(t), message: t.error ?? t.status });
  for (const run of smoke?.runs ?? []) {
    // A run that passed its gate with a flaky case is not a failure; without a gate verdict any failed run is.
    const failedGate = run.ok === false || (run.ok === undefined && ((run.failed ?? 0) > 0 || run.error !== undefined));
    if (!failedGate) continue;
    const total = (run.passed ?? 0) + (run.failed ?? 0);
    const message = run.error ?? [`${run.failed ?? 0} of ${total} failed`, run.firstFailure].filter(Boolean).join(' — ');
    add('smoke', { label: `smoke ${targetLabel({ app: run.app ?? 'tests', env: run.env, tenant: run.tenant })}`, message });
  }
  for (const t of rollback?.targets ?? []) if (!t.ok) add('rollback', { label: `rollback ${targetLabel(t)}`, message: t.error ?? t.status });
  for (const r of results) {
    // A failed command whose targets already say what failed is not repeated.
    if ((r.status === 'error' || r.status === 'failed') && !explainedBy.has(r.command)) {
      failures.push({ label: r.command, message: r.error?.message ?? (r.summary || r.status) });
    }
  }

  const envs = unique([input.env, ...targets.map((t) => t.env), ...changes.map((c) => c.env), ...(smoke?.runs ?? []).map((r) => r.env)]);
  const apps = unique([...targets.map((t) => t.app), ...changes.map((c) => c.app), ...(smoke?.runs ?? []).map((r) => r.app), ...(rollback?.targets ?? []).map((t) => t.app)]);
  const deployChanged = by('deploy').some((r) => (num(r.counts.changed) ?? num(r.counts.deployed) ?? 0) > 0);
  // A rollback that went through changed the live app as much as a deploy does ("unchanged" and dry runs did not).
  const rolledBack = (rollback?.targets ?? []).some((t) => t.ok && (t.changed ?? ROLLED_BACK_STATES.has(t.status)));
  const rollbackCounted = (rollback?.targets.length ?? 0) === 0 && rb.some((r) => (num(r.counts.rolledBack) ?? 0) > 0);
  const changed = targets.some((t) => t.ok && t.changed === true) || (targets.length === 0 && deployChanged) || rolledBack || rollbackCounted;

  const summary: RunSummary = {
    status: input.status,
    previousStatus: input.previousStatus,
    fixed: isFixed(input.status, input.previousStatus),
    changed,
    envs: input.env ? [input.env] : envs,
    apps,
    jenkins,
    targets,
    changes,
    smoke,
    rollback,
    validate,
    commands: results.map((r) => ({ command: r.command, status: r.status, summary: r.summary })),
    failures,
  };
  summary.reportUrl = input.reportUrl?.({ reportPath: smoke?.reportPath, jenkins, env: input.env });
  return summary;
}

function unique(list: (string | undefined)[]): string[] {
  return [...new Set(list.filter((x): x is string => Boolean(x)))];
}
