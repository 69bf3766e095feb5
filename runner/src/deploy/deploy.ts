/**
 * `deploy`: Git → Dify. First a preflight of every target (validate, render) before anything is written; then per
 * target: render, resolve and observe (plan.ts) → the saved plan, no-change and concurrent-edit guards → back up →
 * import (or model config) → dependency check → publish → verify (apply.ts) → record.
 *
 * Result data: results/deploy.ts (DeployReport).
 * Programmatic API: `deployTargets(config, env, apps, opts)` (the tenant fan-out calls it per tenant with
 * `opts.tenant`; sessions are shared through `getConsole`).
 */
import { DifyCiError } from '../core/errors.js';
import { log } from '../core/log.js';
import type { AppConfig, EnvironmentConfig, PathsConfig, ResolvedConfig, TenantConfig } from '../config/types.js';
import { findAppsByName, updateApp } from '../dify/apps.js';
import { getConsole, type ConsoleClient } from '../dify/console.js';
import { checkDependencies, dependencyName, importDsl } from '../dify/imports.js';
import { postModelConfig } from '../dify/model-config.js';
import { deployResult, type DeployReport, type DeployStatus, type DeployTargetResult } from '../results/deploy.js';
import type { PlanFile } from '../results/plan.js';
import { applyChange, draftHashOf, requireApproval, targetFailed } from './apply.js';
import { buildInfo, type BuildInfo } from './build-info.js';
import { appendHistory, type HistoryRecord } from './history.js';
import { preflightTargets } from './preflight.js';
import { planMismatch, prepareTarget, toTargetPlan, type Prepared } from './plan.js';
import { CONFIG_MODES, toYaml, WORKFLOW_MODES, type Rendered } from './render.js';
import { prefixed, selectTargets, type Target } from './targets.js';

export interface DeployOptions {
  force?: boolean;
  dryRun?: boolean;
  allowVersionUpgrade?: boolean;
  approvedBy?: string;
  /** A saved plan: only apply when nothing moved since. */
  plan?: PlanFile;
  tenant?: TenantConfig;
  /** A console client to use (default: the shared session from getConsole). */
  console?: ConsoleClient;
  environ?: NodeJS.ProcessEnv;
  build?: BuildInfo;
  paths?: PathsConfig;
}

async function importOrSave(c: ConsoleClient, p: Prepared, opts: DeployOptions, res: DeployTargetResult): Promise<string> {
  const t = p.target;
  const r: Rendered = p.rendered;
  const appId = p.live.resolution.appId;
  if (appId && CONFIG_MODES.has(r.mode)) {
    // Chat modes: keep the app (and its API keys) and save the new model config.
    const mc = r.doc.model_config;
    if (!mc || typeof mc !== 'object') throw new DifyCiError(`${t.id}: the DSL has no model_config`, 'input');
    await postModelConfig(c, appId, mc as Record<string, unknown>, t.id);
    const a = r.doc.app ?? {};
    const live = p.live.resolution.app;
    const fields = { name: p.name, description: a.description, icon_type: a.icon_type, icon: a.icon, icon_background: a.icon_background, use_icon_as_answer_icon: a.use_icon_as_answer_icon };
    const differs = !live || (Object.keys(fields) as (keyof typeof fields)[]).some((k) => fields[k] !== undefined && fields[k] !== live[k]);
    if (differs) await updateApp(c, appId, fields, t.id);
    return appId;
  }
  try {
    const out = await importDsl(
      c,
      { yaml: toYaml(r.doc), appId, name: p.name },
      { allowVersionUpgrade: opts.allowVersionUpgrade, where: t.id, knownIds: p.live.resolution.knownIds },
    );
    for (const w of out.warnings) {
      res.warnings.push(w);
      log.warn(`${t.id}: ${w}`);
    }
    if (out.mode && out.mode !== r.mode) throw new DifyCiError(`${t.id}: Dify imported the app as '${out.mode}', the DSL says '${r.mode}'`, 'dify');
    return out.appId;
  } catch (e) {
    if (!appId) {
      // A failed console import can leave an empty app behind (dify-api.md §3.1).
      const stray = await findAppsByName(c, p.name, t.id)
        .then((l) => l.filter((a) => !p.live.resolution.knownIds.has(a.id)))
        .catch((le: Error) => {
          // Only a hint on top of the import's own error, which is what is reported.
          log.debug(`${t.id}: could not look for an app left behind: ${le.message}`);
          return [];
        });
      for (const a of stray) {
        const w = `the failed import left app '${a.name}' (${a.id}) behind; delete it in Dify`;
        res.warnings.push(w);
        log.warn(`${t.id}: ${w}`);
      }
    }
    throw e;
  }
}

async function deployOne(c: ConsoleClient, t: Target, ctx: { config: ResolvedConfig; opts: DeployOptions; build: BuildInfo; paths: PathsConfig; approvedBy: string | null }): Promise<DeployTargetResult> {
  const { opts, build, paths } = ctx;
  const res: DeployTargetResult = deployResult(t, 'failed');
  let p: Prepared | undefined;
  let imported = false;
  const record = (status: HistoryRecord['status'], extra: Partial<HistoryRecord> = {}) =>
    appendHistory(paths.history, {
      time: new Date().toISOString(),
      action: 'deploy',
      target: t.id,
      env: t.env.key,
      app: t.app.key,
      ...(t.tenant ? { tenant: t.tenant.name } : {}),
      appId: res.appId ?? undefined,
      mode: res.mode ?? undefined,
      versionId: res.versionId,
      publishedAt: res.publishedAt,
      contentHash: res.contentHash ?? undefined,
      publishedHash: res.publishedHash ?? undefined,
      gitCommit: build.gitCommit,
      buildUrl: build.buildUrl,
      branch: build.branch,
      approvedBy: ctx.approvedBy,
      status,
      ...extra,
    });
  try {
    p = await prepareTarget(c, t, { historyDir: paths.history, environ: opts.environ });
    res.appId = p.live.resolution.appId ?? null;
    res.name = p.name;
    res.mode = p.rendered.mode;
    res.resolvedBy = p.live.resolution.resolvedBy;
    res.contentHash = p.rendered.contentHash;
    res.changed = p.changed;
    res.summary = p.summary;
    res.versionId = p.live.published?.versionId ?? null;
    res.publishedAt = p.live.published?.createdAt ?? null;
    res.publishedHash = p.live.published?.hash ?? null;
    res.warnings.push(...p.warnings);
    for (const w of p.rendered.warnings) log.warn(`${t.id}: ${w}`);

    const skip = refusal(p, res, opts);
    if (skip) {
      if (skip.record && !opts.dryRun) record(skip.record, skip.extra);
      return res;
    }
    const prepared = p;
    const { ver, draftHash } = await applyChange(c, t, res, paths, {
      live: prepared.live,
      mode: prepared.rendered.mode,
      marked: { markedName: build.markedName, markedComment: build.markedComment },
      action: 'deploy',
      write: async () => {
        const appId = await importOrSave(c, prepared, opts, res);
        res.appId = appId;
        imported = true;
        await requirePlugins(c, t, appId, prepared);
        return { appId, expected: { doc: prepared.rendered.doc, secrets: prepared.rendered.secrets } };
      },
    });
    if (ver.note && ver.ok) res.warnings.push(`verified: ${ver.note}`);
    if (!ver.ok) {
      res.status = 'failed';
      res.error = `verification failed: ${ver.note}`;
      record('failed', { draftHash, message: res.error });
      log.error(prefixed(t.id, res.error!));
      return res;
    }
    res.status = 'deployed';
    res.changed = true;
    record('deployed', { draftHash });
    log.ok(`${t.id}: deployed${res.versionId ? ` version ${res.versionId}` : ''} (${prepared.live.resolution.appId ? 'updated' : 'created'} app ${res.appId})`);
    return res;
  } catch (e) {
    return targetFailed(res, t, e, async () => {
      if (opts.dryRun || !p) return;
      // After an import the draft is ours: remember it so the next deploy does not take it for a UI edit.
      let draftHash: string | undefined;
      if (imported && res.appId && WORKFLOW_MODES.has(p.rendered.mode) && !(e instanceof DifyCiError && e.category === 'auth')) {
        draftHash = await draftHashOf(c, t, res.appId, 'export the draft').catch((de: Error) => {
          // Without the hash the next deploy asks about the draft (--force) instead of overwriting it: safe.
          log.debug(`${t.id}: draft not recorded after the failed deploy: ${de.message}`);
          return undefined;
        });
      }
      record('failed', { message: res.error, ...(draftHash ? { draftHash } : {}) });
    });
  }
}

/**
 * Why this target is not written, or null: a saved plan it no longer matches, nothing to change, a draft edited in
 * Dify (without --force), a dry run. Sets the result's status; says what to record in the history.
 */
function refusal(p: Prepared, res: DeployTargetResult, opts: DeployOptions): { record?: HistoryRecord['status']; extra?: Partial<HistoryRecord> } | null {
  const t = p.target;
  if (opts.plan) {
    const saved = opts.plan.targets.find((x) => x.target === t.id);
    if (!saved) throw new DifyCiError(`${t.id} is not in the plan (planned: ${opts.plan.targets.map((x) => x.target).join(', ') || 'none'})`, 'operation');
    const why = planMismatch(saved, toTargetPlan(p));
    if (why) {
      res.status = 'refused';
      res.error = `the target moved since the plan: ${why}; make a new plan`;
      log.error(prefixed(t.id, res.error));
      return {};
    }
  }
  if (!p.changed && !opts.force) {
    res.status = 'unchanged';
    log.ok(`${t.id}: no changes (${p.sameBy === 'history' ? 'same as the last deploy' : 'same content'})`);
    return { record: 'unchanged', extra: { draftHash: p.live.draft?.hash ?? p.last?.draftHash } };
  }
  if (p.draftEdited && !opts.force) {
    res.status = 'refused';
    res.error = `the app was edited in Dify since the last deploy (the draft differs from what dify-ci recorded); deploying would overwrite that work. Publish or discard it in Dify, or deploy with --force (a backup is taken first)`;
    log.error(prefixed(t.id, res.error));
    return { record: 'refused', extra: { message: 'draft edited in Dify' } };
  }
  if (opts.dryRun) {
    res.status = 'dry-run';
    log.info(`${t.id}: would ${p.live.resolution.appId ? 'update' : 'create'} (dry run)`);
    return {};
  }
  return null;
}

/**
 * Plugins this DSL declares that the workspace lacks: the draft is updated, nothing is published. Dify caches the
 * last import's dependencies for 10 minutes and an import without any does not clear it: only plugins this DSL
 * declares count.
 */
async function requirePlugins(c: ConsoleClient, t: Target, appId: string, p: Prepared): Promise<void> {
  let leaked = await checkDependencies(c, appId, t.id);
  const declared = p.rendered.doc.dependencies;
  if (Array.isArray(declared) && leaked.length > 0) {
    const ours = new Set(declared.map((d) => dependencyName(d as never)));
    const stale = leaked.filter((d) => !ours.has(dependencyName(d)));
    if (stale.length) log.debug(`${t.id}: ignoring plugin(s) from an earlier import still cached by Dify: ${stale.map(dependencyName).join(', ')}`);
    leaked = leaked.filter((d) => ours.has(dependencyName(d)));
  }
  if (leaked.length > 0) {
    throw new DifyCiError(
      `${t.id}: missing plugin(s) in the workspace: ${leaked.map(dependencyName).join(', ')}; the draft was updated but NOT published`,
      'operation',
      { details: ['install the plugins in Dify (Plugins → Install) and deploy again'] },
    );
  }
}

/** Deploys the given apps (keys or AppConfigs; all when empty) of one environment. */
export async function deployTargets(config: ResolvedConfig, env: EnvironmentConfig, apps: string | string[] | AppConfig[] | undefined, opts: DeployOptions = {}): Promise<DeployReport> {
  if (!opts.dryRun) requireApproval(env, opts.approvedBy, 'deploying');
  const build = opts.build ?? buildInfo(opts.environ);
  const paths = opts.paths ?? config.paths;
  const targets = selectTargets(config, env, apps, opts.tenant);
  preflightTargets(config, targets, opts.environ);
  const c = opts.console ?? getConsole(env, { tenant: opts.tenant, environ: opts.environ });
  if (!opts.dryRun) c.requireConsole('deploy (import + publish)', env.key);
  await c.ready();
  log.debug(`${env.key}: console auth mode ${c.authMode}`);
  const approvedBy = opts.approvedBy?.trim() || null;
  const results: DeployTargetResult[] = [];
  for (const t of targets) results.push(await deployOne(c, t, { config, opts, build, paths, approvedBy }));
  const n = (s: DeployStatus) => results.filter((r) => r.status === s).length;
  return {
    env: env.key,
    authMode: c.authMode ?? null,
    status: n('failed') + n('refused') > 0 ? 'failed' : 'success',
    dryRun: Boolean(opts.dryRun),
    force: Boolean(opts.force),
    approvedBy,
    gitCommit: build.gitCommit,
    buildUrl: build.buildUrl,
    targets: results,
    counts: { targets: results.length, deployed: n('deployed'), unchanged: n('unchanged'), failed: n('failed'), refused: n('refused') },
  };
}
