/**
 * `plan --offline`: the plan of a build that may not contact Dify or bind any credential — an untrusted pull
 * request. Each target's DSL is rendered for its environment (variables applied; secrets as placeholders, never a
 * value from the agent) and compared with the same file at a git base revision: the pull request's change as it
 * would reach each environment and tenant. What is live in Dify is not known here; the online plan after the merge
 * says that. Without a base revision the plan lists the targets only, and says why.
 */
import { execFileSync } from 'node:child_process';
import { relative, sep } from 'node:path';
import { DifyCiError } from '../core/errors.js';
import type { EnvironmentConfig, ResolvedConfig } from '../config/types.js';
import { loadTenants } from '../config/tenants.js';
import { diffDsl, summarise } from './diff.js';
import { normaliseDsl } from './normalise.js';
import { errorTargetPlan, formatPlanMarkdown, unobservedTargetPlan } from './plan.js';
import type { TargetPlan } from '../results/plan.js';
import { loadDsl, parseDsl, renderDsl, type DslDoc } from './render.js';
import { selectTargets, type Target } from './targets.js';

export interface OfflinePlan {
  /** The git revision compared with, or null (then `reason` says why). */
  base: string | null;
  reason: string | null;
  targets: TargetPlan[];
  markdown: string;
}

function git(args: string[], cwd: string): string | null {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10000, maxBuffer: 64 * 1024 * 1024 });
  } catch {
    return null;
  }
}

const commitOf = (rev: string, cwd: string) => git(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], cwd)?.trim() || null;

/**
 * The revision to compare with: `--base`, else the pull request's target branch (CHANGE_TARGET, as origin/<it> or
 * <it>), else the first parent of a merge checkout (Jenkins merges the PR into its target).
 */
export function baseRevision(explicit: string | undefined, cwd: string, environ: NodeJS.ProcessEnv): { rev: string | null; reason: string | null } {
  if (explicit) {
    const rev = commitOf(explicit, cwd);
    return rev ? { rev, reason: null } : { rev: null, reason: `--base ${explicit} is not a commit in this checkout` };
  }
  const target = environ.CHANGE_TARGET?.trim();
  for (const candidate of target ? [`origin/${target}`, target] : []) {
    const rev = commitOf(candidate, cwd);
    if (rev) return { rev, reason: null };
  }
  const parents = git(['rev-list', '--parents', '-n', '1', 'HEAD'], cwd)?.trim().split(/\s+/) ?? [];
  if (parents.length === 3) return { rev: parents[1]!, reason: null };
  return { rev: null, reason: target ? `the target branch ${target} is not in this checkout` : 'no base revision (not a pull request checkout; pass --base)' };
}

function rendered(doc: DslDoc, t: Target, name: string) {
  // environ {}: every secret is a placeholder, even one the agent happens to have in its environment.
  return renderDsl(doc, { env: t.env, name, variables: t.tenant?.variables, environ: {}, secretValues: 'placeholder' });
}

function planTarget(t: Target, base: string | null, cwd: string): TargetPlan {
  const head = loadDsl(t.app.dsl);
  const name = t.configuredName ?? String(head.app?.name ?? t.app.key);
  const now = rendered(head, t, name);
  const path = relative(cwd, t.app.dsl).split(sep).join('/');
  const text = base && !path.startsWith('..') ? git(['show', `${base}:./${path}`], cwd) : null;
  const before = text === null ? undefined : normaliseDsl(rendered(parseDsl(text, `${path} at ${base!.slice(0, 12)}`), t, name).doc);
  const diff = diffDsl(before, normaliseDsl(now.doc), {});
  const summary = summarise(diff);
  const action = !before ? 'create' : summary.changed ? 'update' : 'noop';
  return {
    ...unobservedTargetPlan(t),
    name,
    mode: now.mode,
    action,
    changed: action !== 'noop',
    contentHash: now.contentHash,
    summary,
    secrets: Object.fromEntries(Object.keys(now.secrets).map((n) => [n, 'unknown' as const])),
    diff,
    warnings: now.warnings,
  };
}

export function offlinePlan(config: ResolvedConfig, env: EnvironmentConfig, opts: { app?: string; base?: string; cwd?: string; environ?: NodeJS.ProcessEnv } = {}): OfflinePlan {
  const cwd = opts.cwd ?? process.cwd();
  const { rev, reason } = baseRevision(opts.base, cwd, opts.environ ?? process.env);
  const tenants = env.tenants ? loadTenants(config) : [];
  const chosen = tenants.length ? tenants.flatMap((t) => selectTargets(config, env, opts.app, t)) : selectTargets(config, env, opts.app);
  const targets: TargetPlan[] = [];
  for (const t of chosen) {
    try {
      targets.push(planTarget(t, rev, cwd));
    } catch (e) {
      if (!(e instanceof DifyCiError)) throw e;
      targets.push(errorTargetPlan(t, e));
    }
  }
  const head = rev
    ? `Offline plan (untrusted build): the DSL compared with \`${rev.slice(0, 12)}\`, as rendered for \`${env.key}\`; Dify was not contacted and no credential was bound, so what is live there is not known.`
    : `Offline plan (untrusted build): ${reason}, so every target shows as new; Dify was not contacted and no credential was bound.`;
  const markdown = formatPlanMarkdown(env.key, targets).replace(/^(### .*)\n/, `$1 (offline)\n\n${head}\n`);
  return { base: rev, reason, targets, markdown };
}
