/**
 * What templates see: the run summary flattened into display strings (formatted numbers, labels, emoji), every
 * string already masked. VOCABULARY lists exactly these names; templates are checked against it when loaded.
 */
import { maskDeep } from '../core/mask.js';
import { targetLabel, type BuildStatus, type RunSummary, type TargetLine } from './summary.js';
import type { Vocabulary } from './template.js';
import { log } from '../core/log.js';

const EMOJI: Record<BuildStatus, string> = { success: '✅', failure: '❌', unstable: '⚠️', aborted: '⏹️' };
const TEXT: Record<BuildStatus, string> = { success: 'succeeded', failure: 'failed', unstable: 'is unstable', aborted: 'was aborted' };
const COLOR: Record<BuildStatus, string> = { success: '#2eb886', failure: '#d0342c', unstable: '#e8a317', aborted: '#808080' };

export interface ViewOptions {
  /** Failures listed in the message itself; the rest are counted in `moreFailures`. */
  maxInlineFailures?: number;
  /** The rest of the failures go to a thread reply (Slack Web API only). */
  failuresInThread?: boolean;
}

export type View = Record<string, unknown>;

const targetNames = ['label', 'app', 'env', 'tenant', 'version', 'status', 'statusEmoji', 'ok', 'changed', 'unchanged', 'error'] as const;
const failureNames = ['label', 'message'] as const;
const runNames = ['label', 'app', 'env', 'tenant', 'passRate', 'p50', 'p95', 'passed', 'failed', 'total'] as const;

export const VOCABULARY: Vocabulary = {
  names: [
    'status', 'statusEmoji', 'statusText', 'statusColor', 'title', 'env', 'apps', 'appCount',
    'job', 'buildNumber', 'buildUrl', 'buildTag', 'branch', 'commit', 'shortCommit',
    'changeId', 'changeUrl', 'changeAuthor', 'changeTitle', 'reportUrl',
    'fixed', 'changed', 'previousStatus',
    'targets', 'targetCount', 'changedTargetCount', 'failedTargetCount',
    'changes', 'smoke', 'rollback', 'validate', 'commands',
    'failures', 'failureCount', 'inlineFailures', 'moreFailures', 'failuresInThread',
  ],
  sections: {
    targets: { names: targetNames },
    changes: { names: ['label', 'app', 'env', 'tenant', 'text'] },
    smoke: {
      names: ['status', 'summary', 'passRate', 'p50', 'p95', 'passed', 'failed', 'total', 'reportPath', 'runs', 'multipleRuns'],
      sections: { runs: { names: runNames } },
    },
    rollback: { names: ['status', 'ok', 'summary', 'targets'], sections: { targets: { names: targetNames } } },
    validate: { names: ['status', 'summary', 'errors', 'warnings'] },
    commands: { names: ['command', 'status', 'statusEmoji', 'summary'] },
    failures: { names: failureNames },
    inlineFailures: { names: failureNames },
  },
};

function pct(r?: number): string | undefined {
  if (r === undefined) return undefined;
  const p = r * 100;
  return `${p === 100 || p === 0 ? p.toFixed(0) : p.toFixed(1)}%`;
}

function ms(v?: number): string | undefined {
  if (v === undefined) return undefined;
  return v >= 10000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`;
}

/** Only http(s) links reach a message: a template cannot be made to link to anything else. */
export function safeUrl(u?: string): string | undefined {
  if (!u) return undefined;
  try {
    const url = new URL(u);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch (e) {
    // A link that is not a URL is left out of the message rather than sent broken (or as a javascript: link).
    log.debug(`notify: link '${u}' left out: ${(e as Error).message}`);
    return undefined;
  }
}

function targetView(t: TargetLine) {
  return {
    label: targetLabel(t),
    app: t.app,
    env: t.env,
    tenant: t.tenant,
    version: t.version,
    status: t.status,
    statusEmoji: t.ok ? (t.changed === false ? '➖' : '✅') : '❌',
    ok: t.ok,
    changed: t.changed === true,
    unchanged: t.ok && t.changed === false,
    error: t.error,
  };
}

export function titleOf(s: RunSummary): string {
  const apps = s.apps.length === 0 ? s.jenkins.job ?? 'dify-ci' : s.apps.length <= 3 ? s.apps.join(', ') : `${s.apps.length} apps`;
  const envs = s.envs.length === 0 ? '' : s.envs.length <= 3 ? s.envs.join(', ') : `${s.envs.length} environments`;
  return `${apps}${envs ? ` → ${envs}` : ''} ${TEXT[s.status]}`;
}

export function buildView(s: RunSummary, opts: ViewOptions = {}): View {
  const max = opts.maxInlineFailures ?? Infinity;
  const j = s.jenkins;
  const smoke = s.smoke;
  const total = smoke && smoke.passed !== undefined ? smoke.passed + (smoke.failed ?? 0) : undefined;
  const view: View = {
    status: s.status,
    statusEmoji: EMOJI[s.status],
    statusText: TEXT[s.status],
    statusColor: COLOR[s.status],
    title: titleOf(s),
    env: s.envs.join(', ') || undefined,
    apps: s.apps.join(', ') || undefined,
    appCount: s.apps.length,
    job: j.job,
    buildNumber: j.buildNumber,
    buildUrl: safeUrl(j.buildUrl),
    buildTag: j.buildTag,
    branch: j.branch,
    commit: j.commit,
    shortCommit: j.commit?.slice(0, 8),
    changeId: j.changeId,
    changeUrl: safeUrl(j.changeUrl),
    changeAuthor: j.changeAuthor,
    changeTitle: j.changeTitle,
    reportUrl: safeUrl(s.reportUrl),
    fixed: s.fixed,
    changed: s.changed,
    previousStatus: s.previousStatus,
    targets: s.targets.map(targetView),
    targetCount: s.targets.length,
    changedTargetCount: s.targets.filter((t) => t.ok && t.changed).length,
    failedTargetCount: s.targets.filter((t) => !t.ok).length,
    changes: s.changes.map((c) => ({ label: targetLabel(c), app: c.app, env: c.env, tenant: c.tenant, text: c.text })),
    smoke: smoke && {
      status: smoke.status,
      summary: smoke.summary,
      passRate: pct(smoke.passRate),
      p50: ms(smoke.p50Ms),
      p95: ms(smoke.p95Ms),
      passed: smoke.passed,
      failed: smoke.failed,
      total,
      reportPath: smoke.reportPath,
      runs: smoke.runs.map((r) => ({
        label: targetLabel({ app: r.app ?? 'tests', env: r.env, tenant: r.tenant }),
        app: r.app,
        env: r.env,
        tenant: r.tenant,
        passRate: pct(r.passRate),
        p50: ms(r.p50Ms),
        p95: ms(r.p95Ms),
        passed: r.passed,
        failed: r.failed,
        total: r.passed !== undefined ? r.passed + (r.failed ?? 0) : undefined,
      })),
      multipleRuns: smoke.runs.length > 1,
    },
    rollback: s.rollback && { status: s.rollback.status, ok: s.rollback.ok, summary: s.rollback.summary, targets: s.rollback.targets.map(targetView) },
    validate: s.validate && (s.validate.errors > 0 || s.validate.warnings > 0 || s.validate.status !== 'success') ? s.validate : undefined,
    commands: s.commands.map((c) => ({ ...c, statusEmoji: c.status === 'success' || c.status === 'changes' ? '✅' : '❌' })),
    failures: s.failures,
    failureCount: s.failures.length,
    inlineFailures: s.failures.slice(0, max),
    moreFailures: Math.max(0, s.failures.length - max),
    failuresInThread: Boolean(opts.failuresInThread) && s.failures.length > max,
  };
  // Masked before escaping: an escaped secret (`&amp;` inside it) would no longer match the mask.
  return maskDeep(JSON.parse(JSON.stringify(view)) as View);
}
