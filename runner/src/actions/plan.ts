/** `dify-ci plan`: what a deploy would change in an environment (or, offline, against a git base), changing nothing. */
import { resolve } from 'node:path';
import type { CommandOutcome } from '../core/command.js';
import { DifyCiError, ExitCode, usageError } from '../core/errors.js';
import { log } from '../core/log.js';
import { writeJsonFile } from '../core/result.js';
import { requireEnv } from '../config/resolve.js';
import { isUntrusted, trustedSource } from '../config/trusted.js';
import { getConsole } from '../dify/console.js';
import { buildInfo } from '../deploy/build-info.js';
import { offlinePlan } from '../deploy/offline-plan.js';
import { errorTargetPlan, formatPlanMarkdown, formatPlanText, prepareTarget, toTargetPlan } from '../deploy/plan.js';
import type { PlanFile, TargetPlan } from '../results/plan.js';
import { prefixed, selectTargets } from '../deploy/targets.js';
import { failureExit } from '../results/failure.js';
import type { PlanData } from '../results/plan.js';
import type { ActionContext } from './action.js';

export interface PlanCliOptions {
  app?: string;
  format?: string;
  out?: string;
  detailedExitcode?: boolean;
  /** No Dify, no credentials: compare with a git base instead (deploy/offline-plan.ts). */
  offline?: boolean;
  base?: string;
}

export async function planAction(ctx: ActionContext, opts: PlanCliOptions): Promise<CommandOutcome<PlanData>> {
  const format = opts.format ?? 'text';
  if (!['text', 'markdown', 'json'].includes(format)) throw new DifyCiError(`--format must be text, markdown or json (got '${format}')`, 'usage');
  if (opts.offline) {
    if (opts.out) throw usageError('--out saves a plan for deploy --plan, which an offline plan cannot be');
    return planOffline(ctx, opts);
  }
  if (opts.base) throw usageError('--base goes with --offline');
  if (isUntrusted(trustedSource(ctx.io.env, ctx.io.cwd))) {
    throw usageError('an untrusted build (a pull request) binds no credential, so it plans offline: plan --offline, difyPlan(offline: true)');
  }
  const config = await ctx.config();
  const env = requireEnv(config);
  const c = getConsole(env);
  await c.ready();
  const targets: TargetPlan[] = [];
  for (const t of selectTargets(config, env, opts.app)) {
    try {
      targets.push(toTargetPlan(await prepareTarget(c, t, { historyDir: config.paths.history })));
    } catch (e) {
      if (!(e instanceof DifyCiError) || e.category === 'auth') throw e;
      log.error(prefixed(t.id, e.oneLine()));
      targets.push(errorTargetPlan(t, e));
    }
  }
  const build = buildInfo();
  const markdown = formatPlanMarkdown(env.key, targets);
  const changed = targets.filter((t) => t.action === 'create' || t.action === 'update').length;
  const errors = targets.filter((t) => t.action === 'error');
  const artifacts = [];
  if (opts.out) {
    const file: PlanFile = { kind: 'dify-ci-plan', version: 1, createdAt: new Date().toISOString(), env: env.key, gitCommit: build.gitCommit, targets };
    writeJsonFile(resolve(ctx.io.cwd, opts.out), file);
    artifacts.push({ path: opts.out, kind: 'plan' });
  }
  const stdout = format === 'json' ? JSON.stringify(targets, null, 2) : format === 'markdown' ? markdown : formatPlanText(env.key, targets);
  const summary = errors.length
    ? `plan for ${env.key}: ${errors.length} target(s) could not be planned`
    : changed
      ? `plan for ${env.key}: ${changed} of ${targets.length} target(s) would change`
      : `plan for ${env.key}: no changes`;
  return {
    status: errors.length ? 'failed' : changed && opts.detailedExitcode ? 'changes' : 'success',
    ...(errors.length ? { exitCode: failureExit(errors.map((e) => e.errorCategory)) } : {}),
    summary,
    counts: { targets: targets.length, changed, unchanged: targets.filter((t) => t.action === 'noop').length, errors: errors.length },
    artifacts,
    data: { env: env.key, authMode: c.authMode ?? null, changed, gitCommit: build.gitCommit, targets, markdown },
    stdout,
  };
}

/** `plan --offline [--base REV]` (formats as plan; exit 2 when a target's DSL cannot be read). */
async function planOffline(ctx: ActionContext, opts: PlanCliOptions): Promise<CommandOutcome<PlanData>> {
  const config = await ctx.config();
  const env = requireEnv(config);
  const plan = offlinePlan(config, env, { app: opts.app, base: opts.base, cwd: ctx.io.cwd, environ: ctx.io.env });
  const errors = plan.targets.filter((t) => t.action === 'error');
  const changed = plan.targets.filter((t) => t.action === 'create' || t.action === 'update').length;
  const summary = errors.length
    ? `offline plan for ${env.key}: ${errors.length} target(s) could not be planned`
    : `offline plan for ${env.key}: ${changed} of ${plan.targets.length} target(s) change${plan.base ? ` against ${plan.base.slice(0, 12)}` : ' (no base revision)'}`;
  return {
    status: errors.length ? 'failed' : changed && opts.detailedExitcode ? 'changes' : 'success',
    ...(errors.length ? { exitCode: ExitCode.USAGE } : {}),
    summary,
    counts: { targets: plan.targets.length, changed, unchanged: plan.targets.filter((t) => t.action === 'noop').length, errors: errors.length },
    data: { env: env.key, offline: true, base: plan.base, reason: plan.reason, changed, targets: plan.targets, markdown: plan.markdown },
    stdout: opts.format === 'json' ? JSON.stringify(plan.targets, null, 2) : plan.markdown,
  };
}
