/**
 * ONE run summary built from this build's result files (results/read.ts, typed by results/commands.ts) and the
 * Jenkins environment. Channels only render it. A field that is missing or of the wrong type drops a detail from
 * the message, never the message.
 */
import { isCommand, readResults, type ResultFile } from '../results/read.js';
import type { ChangeSummary } from '../results/changes.js';
import type { RolloutStatus } from '../results/rollout.js';
import type { RollbackStatus } from '../results/rollback.js';
import { jenkinsInfo, type JenkinsInfo } from './jenkins.js';
import { summariseSmoke, type SmokeSummary } from './smoke-summary.js';

export const BUILD_STATUSES = ['success', 'failure', 'unstable', 'aborted'] as const;
export type BuildStatus = (typeof BUILD_STATUSES)[number];

/** A deployed or rolled-back target, as a message shows it. */
export interface TargetLine {
  app: string;
  env?: string;
  tenant?: string;
  version?: string;
  changed?: boolean;
  ok: boolean;
  status: string;
  error?: string;
}

/** What a target's change is, in words. */
export interface ChangeLine {
  app: string;
  env?: string;
  tenant?: string;
  text: string;
}

export interface RollbackSummary {
  status: string;
  ok: boolean;
  summary: string;
  targets: TargetLine[];
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
  targets: TargetLine[];
  changes: ChangeLine[];
  smoke?: SmokeSummary;
  rollback?: RollbackSummary;
  validate?: { status: string; summary: string; errors: number; warnings: number };
  commands: { command: string; status: string; summary: string }[];
  failures: Failure[];
  reportUrl?: string;
}

// ---------------------------------------------------------------- reading the typed data

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

/** Whether each state a deploy, fan-out or rollback target can end in went well. */
const OK: Record<RolloutStatus | RollbackStatus, boolean> = {
  deployed: true,
  unchanged: true,
  'dry-run': true,
  skipped: true,
  'rolled-back': true,
  refused: false,
  failed: false,
};

/** The per-target fields deploy, fan-out and rollback results share (results/target.ts), as read. */
interface WrittenTarget {
  app?: unknown;
  env?: unknown;
  tenant?: unknown;
  status?: unknown;
  error?: unknown;
  versionId?: unknown;
  contentHash?: unknown;
  changed?: unknown;
  summary?: ChangeSummary | null;
  to?: { versionId?: unknown };
}

function targetLine(t: WrittenTarget, fallbackOk: boolean, version: string | undefined): TargetLine {
  const error = text(t.error);
  const status = (text(t.status) ?? (error ? 'failed' : fallbackOk ? 'success' : 'unknown')).toLowerCase();
  const known = Object.hasOwn(OK, status) ? OK[status as keyof typeof OK] : undefined;
  return {
    app: text(t.app) ?? '(app)',
    env: text(t.env),
    tenant: text(t.tenant),
    version,
    changed: typeof t.changed === 'boolean' ? t.changed : undefined,
    ok: error ? false : (known ?? fallbackOk),
    status,
    error,
  };
}

function shortHash(h?: string): string | undefined {
  if (!h) return undefined;
  const bare = h.replace(/^sha256:/, '');
  return bare.length > 12 ? bare.slice(0, 12) : bare;
}

/** A deploy names the version it published (chat apps: their content hash). */
const deployedTarget = (t: WrittenTarget, ok: boolean) => targetLine(t, ok, text(t.versionId) ?? shortHash(text(t.contentHash)));
/** A rollback names the version it went back to. */
const rolledBackTarget = (t: WrittenTarget, ok: boolean) => targetLine(t, ok, text(t.to?.versionId) ?? text(t.versionId) ?? shortHash(text(t.contentHash)));

export function targetLabel(t: { app: string; env?: string; tenant?: string }): string {
  const where = [t.tenant, t.env].filter(Boolean).join('@');
  return where ? `${t.app} → ${where}` : t.app;
}

/** A change summary's counts in words: `2 nodes changed, 1 prompt changes`; a new app says so first. */
function changeText(s: ChangeSummary | null | undefined): string | undefined {
  if (!s || typeof s !== 'object') return undefined;
  const counts = Object.entries(s)
    .filter(([, v]) => typeof v === 'number' && v > 0)
    .map(([k, v]) => `${v} ${words(k)}`);
  if (s.create === true) counts.unshift('new app');
  return counts.length ? counts.join(', ') : undefined;
}

/** `promptChanges` → `prompt changes`, `nodesAdded` → `nodes added`. */
function words(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
}

// ---------------------------------------------------------------- result files

/** The build's result files notify summarises: every command's but notify's own, oldest first. */
export function readResultFiles(dir: string, opts: { notBefore?: Date; onSkip?: (file: string, why: string) => void } = {}): ResultFile[] {
  return readResults(dir, opts).filter((r) => r.command !== 'notify');
}

/**
 * The build result when Jenkins did not pass --status: any failed command fails the build, except failed smoke
 * tests configured as `smoke.unstableOnFailure` (the smoke result says so), which make it unstable.
 */
export function deriveStatus(results: ResultFile[]): BuildStatus {
  const failed = results.filter((r) => r.status === 'error' || r.status === 'failed');
  if (failed.length === 0) return 'success';
  const unstable = (r: ResultFile) => isCommand(r, 'smoke') && r.status === 'failed' && r.data !== undefined && 'unstableOnFailure' in r.data && r.data.unstableOnFailure === true;
  return failed.every(unstable) ? 'unstable' : 'failure';
}

export interface SummaryInput {
  status: BuildStatus;
  previousStatus?: BuildStatus;
  results: ResultFile[];
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
  const inEnv = (env: unknown) => !input.env || !text(env) || text(env) === input.env;
  const results = input.results.filter((r) => inEnv(r.data && 'env' in r.data ? r.data.env : undefined));
  const of = <C extends 'plan' | 'deploy' | 'rollback' | 'smoke'>(c: C) => results.filter((r): r is ResultFile<C> => isCommand(r, c));
  const targetsOf = (r: ResultFile<'deploy' | 'rollback'>): WrittenTarget[] => (r.data?.targets ?? []).filter((t: WrittenTarget) => inEnv(t.env));
  const jenkins = jenkinsInfo(input.environ);

  const deploys = of('deploy');
  const targets = deploys.flatMap((r) => targetsOf(r).map((t) => deployedTarget(t, r.status === 'success' || r.status === 'changes')));

  const line = (t: WrittenTarget, textOf: string): ChangeLine => ({ app: text(t.app) ?? '(app)', env: text(t.env), tenant: text(t.tenant), text: textOf });
  const changes: ChangeLine[] = [];
  for (const r of of('plan')) {
    for (const t of r.data?.targets ?? []) {
      if (!inEnv(t.env) || t.changed === false || t.action === 'noop' || t.action === 'error') continue;
      const words = changeText(t.summary);
      if (words) changes.push(line(t, words));
    }
  }
  // Without a plan result, what the deploy itself changed.
  if (changes.length === 0) {
    for (const r of deploys) {
      for (const t of targetsOf(r)) {
        const words = t.changed === true ? changeText(t.summary) : undefined;
        if (words) changes.push(line(t, words));
      }
    }
  }

  let rollback: RollbackSummary | undefined;
  const rb = of('rollback');
  if (rb.length > 0) {
    const last = rb[rb.length - 1]!;
    const ok = last.status === 'success' || last.status === 'changes';
    rollback = {
      status: last.status,
      ok,
      summary: last.summary || (ok ? 'rolled back' : 'rollback failed'),
      targets: rb.flatMap((r) => targetsOf(r).map((t) => rolledBackTarget(t, ok))),
    };
  }

  const v = results.filter((r) => r.command === 'validate').at(-1);
  const validate = v ? { status: v.status, summary: v.summary, errors: v.counts.errors ?? 0, warnings: v.counts.warnings ?? 0 } : undefined;

  const smoke = summariseSmoke(of('smoke'), inEnv);

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
  const deployChanged = deploys.some((r) => (r.counts.deployed ?? 0) > 0);
  // A rollback that went through changed the live app as much as a deploy does ("unchanged" and dry runs did not).
  const rolledBack = (rollback?.targets ?? []).some((t) => t.ok && (t.changed ?? t.status === 'rolled-back'));
  const rollbackCounted = (rollback?.targets.length ?? 0) === 0 && rb.some((r) => (r.counts.rolledBack ?? 0) > 0);
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
