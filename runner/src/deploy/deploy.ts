/**
 * `deploy`: Git → Dify. First a preflight of every target (validate, render) before anything is written; then per
 * target: render → back up → concurrent-edit guard → import (or model-config) →
 * dependency check → publish → verify → record.
 *
 * Result data: results/deploy.ts (DeployReport).
 * Programmatic API: `deployTargets(config, env, apps, opts)` (the tenant fan-out calls it per tenant with
 * `opts.tenant`; sessions are shared through `getConsole`).
 */
import { DifyCiError, usageError } from '../core/errors.js';
import { failure } from '../results/failure.js';
import { log } from '../core/log.js';
import type { EnvironmentConfig, PathsConfig, ResolvedConfig, TenantConfig, AppConfig } from '../config/types.js';
import { findAppsByName, updateApp } from '../dify/apps.js';
import { getConsole, type ConsoleClient } from '../dify/console.js';
import { exportDsl } from '../dify/export.js';
import { currentWorkspaceId } from '../dify/workspaces.js';
import { checkDependencies, dependencyName, importDsl } from '../dify/imports.js';
import { postModelConfig } from '../dify/model-config.js';
import { publish } from '../dify/workflows.js';
import { backupLive } from './backup.js';
import { buildInfo, type BuildInfo } from './build-info.js';
import { appendHistory, type HistoryRecord } from './history.js';
import { toLiveVersion } from './live.js';
import { hashNormalised, isSubset, normaliseDsl, secretValues } from './normalise.js';
import { preflightTargets } from './preflight.js';
import { planMismatch, prepareTarget, toTargetPlan, type Prepared } from './plan.js';
import type { PlanFile } from '../results/plan.js';
import { CONFIG_MODES, parseDsl, toYaml, WORKFLOW_MODES, type Rendered } from './render.js';
import { prefixed, selectTargets, type Target } from './targets.js';
import { deployResult, type DeployReport, type DeployStatus, type DeployTargetResult } from '../results/deploy.js';

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

/** Protected environments need an approver for anything that writes. */
export function requireApproval(env: EnvironmentConfig, approvedBy: string | undefined, what: string): void {
  if (env.protected && !approvedBy?.trim()) {
    throw usageError(`environment ${env.key} is protected: ${what} needs --approved-by <who> (the Jenkins step passes the approver)`);
  }
}

export interface Verification {
  ok: boolean;
  hash?: string;
  versionId?: string | null;
  publishedAt?: number | null;
  note?: string;
}

/**
 * Exports what is live now and compares it with what was sent (normalised; secrets redacted). An export that
 * only adds keys (server defaults) still verifies; secret values are compared through an include_secret export.
 */
export async function verifyLive(c: ConsoleClient, t: Target, appId: string, mode: string, expected: { doc: Record<string, unknown>; secrets: Record<string, string> }, versionId?: string): Promise<Verification> {
  const yaml = await exportDsl(c, appId, { workflowId: WORKFLOW_MODES.has(mode) ? versionId : undefined, where: t.id, what: 'export for verification' });
  if (!yaml) return { ok: false, note: 'nothing to export after the deploy' };
  const live = toLiveVersion(yaml, `${t.id} (verification export)`, await currentWorkspaceId(c));
  const sent = normaliseDsl(expected.doc);
  let note: string | undefined;
  let ok = live.hash === hashNormalised(sent);
  if (!ok && isSubset(sent, live.normalised)) {
    ok = true;
    note = 'the server added default values';
  }
  if (ok && Object.keys(expected.secrets).length > 0) {
    const withSecrets = await exportDsl(c, appId, { workflowId: WORKFLOW_MODES.has(mode) ? versionId : undefined, includeSecret: true, where: t.id, what: 'verify secret values' }).catch((e: Error) => {
      // A server that refuses include_secret still had the rest verified; secrets are then not checked.
      log.debug(`${t.id}: secret values not verified: ${e.message}`);
      return undefined;
    });
    if (withSecrets) {
      const liveSecrets = secretValues(parseDsl(withSecrets, `${t.id} (verification export)`));
      const wrong = Object.keys(expected.secrets).filter((k) => liveSecrets[k] !== expected.secrets[k]);
      if (wrong.length) return { ok: false, hash: live.hash, note: `secret value(s) not applied: ${wrong.join(', ')}` };
    }
  }
  return { ok, hash: live.hash, note: ok ? note : 'the live export differs from what was sent' };
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

    if (opts.plan) {
      const saved = opts.plan.targets.find((x) => x.target === t.id);
      if (!saved) throw new DifyCiError(`${t.id} is not in the plan (planned: ${opts.plan.targets.map((x) => x.target).join(', ') || 'none'})`, 'operation');
      const why = planMismatch(saved, toTargetPlan(p));
      if (why) {
        res.status = 'refused';
        res.error = `the target moved since the plan: ${why}; make a new plan`;
        log.error(prefixed(t.id, res.error!));
        return res;
      }
    }
    if (!p.changed && !opts.force) {
      res.status = 'unchanged';
      log.ok(`${t.id}: no changes (${p.sameBy === 'history' ? 'same as the last deploy' : 'same content'})`);
      if (!opts.dryRun) record('unchanged', { draftHash: p.live.draft?.hash ?? p.last?.draftHash });
      return res;
    }
    if (p.draftEdited && !opts.force) {
      res.status = 'refused';
      res.error = `the app was edited in Dify since the last deploy (the draft differs from what dify-ci recorded); deploying would overwrite that work. Publish or discard it in Dify, or deploy with --force (a backup is taken first)`;
      log.error(prefixed(t.id, res.error!));
      if (!opts.dryRun) record('refused', { message: 'draft edited in Dify' });
      return res;
    }
    if (opts.dryRun) {
      res.status = 'dry-run';
      log.info(`${t.id}: would ${p.live.resolution.appId ? 'update' : 'create'} (dry run)`);
      return res;
    }

    res.backups = backupLive(paths.backups, t, p.live);
    const appId = await importOrSave(c, p, opts, res);
    res.appId = appId;
    imported = true;
    let leaked = await checkDependencies(c, appId, t.id);
    const declared = p.rendered.doc.dependencies;
    if (Array.isArray(declared) && leaked.length > 0) {
      // Dify caches the last import's dependencies for 10 minutes and an import without any does not clear it:
      // only plugins this DSL declares count.
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
    let versionId: string | undefined;
    if (WORKFLOW_MODES.has(p.rendered.mode)) {
      const v = await publish(c, appId, { markedName: build.markedName, markedComment: build.markedComment, where: t.id });
      versionId = v.id;
      res.versionId = v.id;
      res.publishedAt = v.created_at ?? null;
    } else {
      res.versionId = null;
      res.publishedAt = Math.floor(Date.now() / 1000);
    }
    const ver = await verifyLive(c, t, appId, p.rendered.mode, { doc: p.rendered.doc, secrets: p.rendered.secrets }, versionId);
    res.verified = ver.ok;
    res.publishedHash = ver.hash ?? null;
    if (ver.note && ver.ok) res.warnings.push(`verified: ${ver.note}`);
    let draftHash: string | undefined;
    if (WORKFLOW_MODES.has(p.rendered.mode)) {
      const draft = await exportDsl(c, appId, { where: t.id, what: 'export the draft after the deploy' });
      draftHash = draft ? toLiveVersion(draft, `${t.id} (draft)`, await currentWorkspaceId(c)).hash : undefined;
    }
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
    log.ok(`${t.id}: deployed${versionId ? ` version ${versionId}` : ''} (${p.live.resolution.appId ? 'updated' : 'created'} app ${appId})`);
    return res;
  } catch (e) {
    res.status = 'failed';
    Object.assign(res, failure(e));
    log.error(prefixed(t.id, res.error!));
    if (e instanceof DifyCiError) {
      for (const d of e.details) {
        res.warnings.push(d);
        log.info(`  ${d}`);
      }
    }
    if (!opts.dryRun && p) {
      // After an import the draft is ours: remember it so the next deploy does not take it for a UI edit.
      let draftHash: string | undefined;
      if (imported && res.appId && WORKFLOW_MODES.has(p.rendered.mode) && !(e instanceof DifyCiError && e.category === 'auth')) {
        draftHash = await exportDsl(c, res.appId, { where: t.id, what: 'export the draft' })
          .then(async (y) => (y ? toLiveVersion(y, t.id, await currentWorkspaceId(c)).hash : undefined))
          .catch((de: Error) => {
            // Without the hash the next deploy asks about the draft (--force) instead of overwriting it: safe.
            log.debug(`${t.id}: draft not recorded after the failed deploy: ${de.message}`);
            return undefined;
          });
      }
      record('failed', { message: res.error, ...(draftHash ? { draftHash } : {}) });
    }
    if (e instanceof DifyCiError && e.category === 'auth') throw e;
    if (!(e instanceof DifyCiError)) throw e;
    return res;
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
