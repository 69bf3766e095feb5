/**
 * `rollback`: back to an earlier version in one command.
 * - workflow / advanced-chat: restore the chosen published version into the draft (Dify's versions API) and
 *   publish it, marked `rollback-<id>`; without a restore route, re-import that version's export.
 * - chat / agent-chat / completion: post the model config of a backup (they have no versions).
 * `--to previous` (default) = the newest earlier version whose content differs from the live one; `--to <id>` = a
 * published workflow id of this app; `--to <file>` = a backup / DSL file. The diff is shown first; the result is
 * verified (normalised export equal to the chosen version) and recorded in the history.
 *
 * Result data (`.dify-ci/results/rollback.json` → `data`):
 * ```
 * { env, authMode, approvedBy,
 *   targets: [{ env, app, tenant?, target, appId, mode, status: rolled-back|unchanged|failed,
 *               from: {versionId, hash}, to: {versionId|null, file|null, hash},
 *               versionId|null, publishedAt|null, contentHash, publishedHash, verified, backups: [],
 *               summary: ChangeSummary, diffText, warnings: [], error? }] }
 * ```
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { DifyCiError } from '../core/errors.js';
import { log } from '../core/log.js';
import type { AppConfig, EnvironmentConfig, PathsConfig, ResolvedConfig, TenantConfig } from '../config/types.js';
import { updateApp } from '../dify/apps.js';
import { getConsole, type ConsoleClient } from '../dify/console.js';
import { exportDsl } from '../dify/export.js';
import { currentWorkspaceId } from '../dify/workspaces.js';
import { importDsl } from '../dify/imports.js';
import { postModelConfig } from '../dify/model-config.js';
import { listAllVersions, publish, restoreVersion } from '../dify/workflows.js';
import { backupLive, listTargetBackups, readBackup } from './backup.js';
import { buildInfo, type BuildInfo } from './build-info.js';
import { requireApproval, verifyLive } from './deploy.js';
import { diffDsl, summarise, type ChangeSummary } from './diff.js';
import { appendHistory } from './history.js';
import { observe, toLiveVersion, type LiveState, type LiveVersion } from './live.js';
import { formatPlanText, type TargetPlan } from './plan.js';
import { loadDsl, renderDsl, toYaml, WORKFLOW_MODES } from './render.js';
import { prefixed, resolveTarget, selectTargets, type Target } from './targets.js';

export interface RollbackOptions {
  /** previous (default) | <published workflow id> | <backup file>. */
  to?: string;
  approvedBy?: string;
  dryRun?: boolean;
  tenant?: TenantConfig;
  console?: ConsoleClient;
  environ?: NodeJS.ProcessEnv;
  build?: BuildInfo;
  paths?: PathsConfig;
  /** How many earlier versions `previous` inspects at most. */
  maxVersions?: number;
}

export interface RollbackTargetResult {
  env: string;
  app: string;
  tenant?: string;
  target: string;
  appId: string | null;
  mode: string | null;
  status: 'rolled-back' | 'unchanged' | 'dry-run' | 'failed';
  from: { versionId: string | null; hash: string | null };
  to: { versionId: string | null; file: string | null; hash: string | null };
  versionId: string | null;
  publishedAt: number | null;
  contentHash: string | null;
  publishedHash: string | null;
  verified: boolean | null;
  backups: string[];
  summary: ChangeSummary | null;
  diffText: string | null;
  warnings: string[];
  error?: string;
  errorCategory?: string;
}

export interface RollbackReport {
  env: string;
  authMode: string | null;
  approvedBy: string | null;
  status: 'success' | 'failed';
  targets: RollbackTargetResult[];
  counts: { targets: number; rolledBack: number; unchanged: number; failed: number };
}

interface Chosen {
  version: LiveVersion;
  versionId: string | null;
  file: string | null;
}

function looksLikeFile(to: string): boolean {
  return /[\\/]|\.ya?ml$|\.json$/i.test(to) || (existsSync(to) && statSync(to).isFile());
}

async function chooseTarget(c: ConsoleClient, t: Target, live: LiveState, to: string, paths: PathsConfig, maxVersions: number): Promise<Chosen> {
  const appId = live.resolution.appId!;
  const current = live.published;
  if (to !== 'previous' && looksLikeFile(to)) {
    const file = resolve(to);
    if (!existsSync(file)) throw new DifyCiError(`${t.id}: backup file ${to} not found`, 'usage');
    const b = readBackup(file);
    return { version: toLiveVersion(b.yaml, file, await currentWorkspaceId(c)), versionId: null, file };
  }
  if (WORKFLOW_MODES.has(live.mode ?? '')) {
    c.requireConsole('roll back', t.id);
    const versions = await listAllVersions(c, appId, 200, t.id);
    if (to !== 'previous') {
      const v = versions.find((x) => x.id === to);
      if (!v) throw new DifyCiError(`${t.id}: ${to} is not a published version of app ${appId} (see the app's version history)`, 'usage');
      const yaml = await exportDsl(c, appId, { workflowId: v.id, where: t.id, what: `export version ${v.id}` });
      return { version: toLiveVersion(yaml!, `${t.id} version ${v.id}`, await currentWorkspaceId(c)), versionId: v.id, file: null };
    }
    const idx = current?.versionId ? versions.findIndex((x) => x.id === current.versionId) : -1;
    const earlier = versions.slice(idx + 1).slice(0, maxVersions);
    for (const v of earlier) {
      const yaml = await exportDsl(c, appId, { workflowId: v.id, where: t.id, what: `export version ${v.id}` });
      if (!yaml) continue;
      const lv = toLiveVersion(yaml, `${t.id} version ${v.id}`, await currentWorkspaceId(c));
      if (!current || lv.hash !== current.hash) return { version: lv, versionId: v.id, file: null };
    }
    throw new DifyCiError(`${t.id}: no earlier published version differs from the live one (looked at ${earlier.length})`, 'operation');
  }
  if (to !== 'previous') throw new DifyCiError(`${t.id}: ${live.mode} apps have no versions; use --to previous or --to <backup file>`, 'usage');
  for (const f of listTargetBackups(paths.backups, t)) {
    const b = readBackup(f);
    if (!current || b.hash !== current.hash) return { version: toLiveVersion(b.yaml, f), versionId: null, file: f };
  }
  throw new DifyCiError(`${t.id}: no backup differs from the live app (backups are taken by deploy under ${paths.backups})`, 'operation');
}

async function rollbackOne(c: ConsoleClient, t: Target, ctx: { opts: RollbackOptions; paths: PathsConfig; build: BuildInfo; approvedBy: string | null }): Promise<RollbackTargetResult> {
  const { opts, paths } = ctx;
  const res: RollbackTargetResult = {
    env: t.env.key,
    app: t.app.key,
    ...(t.tenant ? { tenant: t.tenant.name } : {}),
    target: t.id,
    appId: null,
    mode: null,
    status: 'failed',
    from: { versionId: null, hash: null },
    to: { versionId: null, file: null, hash: null },
    versionId: null,
    publishedAt: null,
    contentHash: null,
    publishedHash: null,
    verified: null,
    backups: [],
    summary: null,
    diffText: null,
    warnings: [],
  };
  try {
    const name = t.configuredName ?? String(loadDsl(t.app.dsl).app?.name ?? t.app.key);
    const resolution = await resolveTarget(c, t, name);
    if (!resolution.appId) throw new DifyCiError(`${t.id}: no app '${name}' in Dify; nothing to roll back`, 'operation');
    res.appId = resolution.appId;
    const live = await observe(c, t, resolution);
    const mode = live.mode ?? resolution.app?.mode ?? '';
    res.mode = mode;
    res.from = { versionId: live.published?.versionId ?? null, hash: live.published?.hash ?? null };
    const chosen = await chooseTarget(c, t, live, opts.to ?? 'previous', paths, opts.maxVersions ?? 20);
    res.to = { versionId: chosen.versionId, file: chosen.file, hash: chosen.version.hash };
    res.contentHash = chosen.version.hash;
    const chosenMode = String(chosen.version.doc.app?.mode ?? '');
    if (chosenMode && chosenMode !== mode) throw new DifyCiError(`${t.id}: the backup is a '${chosenMode}' app, the live app is '${mode}'`, 'usage');

    const diff = diffDsl(live.published?.normalised, chosen.version.normalised);
    res.summary = summarise(diff);
    const plan: TargetPlan = {
      env: t.env.key,
      app: t.app.key,
      target: t.id,
      appId: res.appId,
      name,
      mode,
      resolvedBy: resolution.resolvedBy,
      action: live.published && live.published.hash === chosen.version.hash ? 'noop' : 'update',
      changed: true,
      contentHash: chosen.version.hash,
      observed: { versionId: null, publishedHash: null, draftHash: null, difyDraftHash: null },
      draftEdited: false,
      summary: res.summary,
      secrets: {},
      diff,
      warnings: [],
    };
    res.diffText = formatPlanText(t.env.key, [plan]);
    log.info(`rollback of ${t.id} to ${chosen.versionId ?? chosen.file}:\n${res.diffText}`);
    if (plan.action === 'noop') {
      res.status = 'unchanged';
      log.ok(`${t.id}: the live version already equals the rollback target`);
      return res;
    }
    if (opts.dryRun) {
      res.status = 'dry-run';
      return res;
    }

    res.backups = backupLive(paths.backups, t, live);
    const marked = `rollback-${(res.from.versionId ?? 'live').slice(0, 11)}`.slice(0, 20);
    const comment = `rollback of ${res.from.versionId ?? 'live'} to ${chosen.versionId ?? chosen.file?.split(/[\\/]/).pop() ?? '?'}`.slice(0, 100);
    let secrets: Record<string, string> = {};
    let expectedDoc = chosen.version.doc;
    if (WORKFLOW_MODES.has(mode)) {
      let restored = false;
      if (chosen.versionId) restored = (await restoreVersion(c, res.appId, chosen.versionId, t.id)) === 'restored';
      if (!restored) {
        // Re-import: an export or backup has blank secrets, so the environment's secrets are injected again.
        if (chosen.versionId) res.warnings.push('the server has no version restore; re-importing the version instead');
        // The target keeps its name: a file named otherwise would rename the app and break the next name lookup.
        const rendered = renderDsl(chosen.version.doc, { env: t.env, name, variables: t.tenant?.variables, environ: opts.environ });
        secrets = rendered.secrets;
        expectedDoc = rendered.doc;
        await importDsl(c, { yaml: toYaml(rendered.doc), appId: res.appId, name: rendered.name }, { allowVersionUpgrade: true, where: t.id });
      }
      const v = await publish(c, res.appId, { markedName: marked, markedComment: comment, where: t.id });
      res.versionId = v.id;
      res.publishedAt = v.created_at ?? null;
    } else {
      const mc = chosen.version.doc.model_config;
      if (!mc || typeof mc !== 'object') throw new DifyCiError(`${t.id}: ${chosen.file} has no model_config`, 'input');
      await postModelConfig(c, res.appId, mc, t.id);
      const a = chosen.version.doc.app ?? {};
      await updateApp(c, res.appId, { name, description: a.description, icon_type: a.icon_type, icon: a.icon, icon_background: a.icon_background }, t.id);
      res.publishedAt = Math.floor(Date.now() / 1000);
    }
    const ver = await verifyLive(c, t, res.appId, mode, { doc: expectedDoc, secrets }, res.versionId ?? undefined);
    res.verified = ver.ok;
    res.publishedHash = ver.hash ?? null;
    let draftHash: string | undefined;
    if (WORKFLOW_MODES.has(mode)) {
      const d = await exportDsl(c, res.appId, { where: t.id, what: 'export the draft after the rollback' });
      draftHash = d ? toLiveVersion(d, t.id, await currentWorkspaceId(c)).hash : undefined;
    }
    res.status = ver.ok ? 'rolled-back' : 'failed';
    if (!ver.ok) res.error = `verification failed: ${ver.note}`;
    appendHistory(paths.history, {
      time: new Date().toISOString(),
      action: 'rollback',
      target: t.id,
      env: t.env.key,
      app: t.app.key,
      ...(t.tenant ? { tenant: t.tenant.name } : {}),
      appId: res.appId,
      mode,
      versionId: res.versionId,
      publishedAt: res.publishedAt,
      contentHash: res.contentHash ?? undefined,
      publishedHash: res.publishedHash ?? undefined,
      draftHash,
      gitCommit: ctx.build.gitCommit,
      buildUrl: ctx.build.buildUrl,
      approvedBy: ctx.approvedBy,
      rollbackOf: res.from.versionId,
      status: ver.ok ? 'rolled-back' : 'failed',
      ...(res.error ? { message: res.error } : {}),
    });
    if (ver.ok) log.ok(`${t.id}: rolled back to ${chosen.versionId ?? chosen.file}${res.versionId ? ` (new version ${res.versionId})` : ''}`);
    else log.error(prefixed(t.id, res.error!));
    return res;
  } catch (e) {
    res.status = 'failed';
    res.error = e instanceof DifyCiError ? e.oneLine() : `internal error: ${(e as Error).message}`;
    res.errorCategory = e instanceof DifyCiError ? e.category : 'internal';
    log.error(prefixed(t.id, res.error!));
    if (e instanceof DifyCiError) for (const d of e.details) log.info(`  ${d}`);
    if (!(e instanceof DifyCiError) || e.category === 'auth') throw e;
    return res;
  }
}

export async function rollbackTargets(config: ResolvedConfig, env: EnvironmentConfig, apps: string | string[] | AppConfig[] | undefined, opts: RollbackOptions = {}): Promise<RollbackReport> {
  if (!opts.dryRun) requireApproval(env, opts.approvedBy, 'rolling back');
  const paths = opts.paths ?? config.paths;
  const targets = selectTargets(config, env, apps, opts.tenant);
  const c = opts.console ?? getConsole(env, { tenant: opts.tenant, environ: opts.environ });
  await c.ready();
  const approvedBy = opts.approvedBy?.trim() || null;
  const build = opts.build ?? buildInfo(opts.environ);
  const results: RollbackTargetResult[] = [];
  for (const t of targets) results.push(await rollbackOne(c, t, { opts, paths, build, approvedBy }));
  const n = (s: RollbackTargetResult['status']) => results.filter((r) => r.status === s).length;
  return {
    env: env.key,
    authMode: c.authMode ?? null,
    approvedBy,
    status: n('failed') > 0 ? 'failed' : 'success',
    targets: results,
    counts: { targets: results.length, rolledBack: n('rolled-back'), unchanged: n('unchanged'), failed: n('failed') },
  };
}
