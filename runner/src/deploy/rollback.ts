/**
 * `rollback`: back to an earlier version in one command.
 * - workflow / advanced-chat: restore the chosen published version into the draft (Dify's versions API) and
 *   publish it, marked `rollback-<id>`; without a restore route, re-import that version's export.
 * - chat / agent-chat / completion: post the model config of a backup (they have no versions).
 * `--to previous` (default) = the newest earlier version whose content differs from the live one; `--to <id>` = a
 * published workflow id of this app; `--to <file>` = a backup / DSL file. The diff is shown first; then deploy's
 * skeleton (apply.ts: back up, write, publish, verify against the chosen version), and the history records it.
 *
 * `--this-build` (the pipeline's automatic rollback) touches only targets this build deployed (this-build.ts:
 * the deploy history and the deploy result files with this build's BUILD_URL/BUILD_TAG), each back to what was live
 * before this build's first deploy of it, and only while the live version is still this build's; otherwise the
 * target is `skipped` (not a failure) with a `reason`.
 *
 * Result data: results/rollback.ts (RollbackReport).
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { DifyCiError, usageError } from '../core/errors.js';
import { log } from '../core/log.js';
import { runCwd } from '../core/run.js';
import type { AppConfig, EnvironmentConfig, PathsConfig, ResolvedConfig, TenantConfig } from '../config/types.js';
import { updateApp } from '../dify/apps.js';
import { getConsole, type ConsoleClient } from '../dify/console.js';
import { exportDsl } from '../dify/export.js';
import { importDsl } from '../dify/imports.js';
import { postModelConfig } from '../dify/model-config.js';
import { listAllVersions, restoreVersion } from '../dify/workflows.js';
import { currentWorkspaceId } from '../dify/workspaces.js';
import type { TargetPlan } from '../results/plan.js';
import { rollbackResult, type RollbackReport, type RollbackTargetResult } from '../results/rollback.js';
import { applyChange, requireApproval, targetFailed, type Expected } from './apply.js';
import { listTargetBackups, readBackup } from './backup.js';
import { buildInfo, type BuildInfo } from './build-info.js';
import { diffDsl, summarise } from './diff.js';
import { appendHistory } from './history.js';
import { observe, toLiveVersion, type ChosenVersion, type LiveState } from './live.js';
import { formatPlanText } from './plan.js';
import { loadDsl, renderDsl, toYaml, WORKFLOW_MODES } from './render.js';
import { prefixed, resolveTarget, selectTargets, type Target } from './targets.js';
import { chooseBefore, deploysOf, notOurs, skipBeforeLooking, type BuildDeploy, type BuildDeploys } from './this-build.js';

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
  /** Only what this build deployed, back to what was live before it (`--this-build`). */
  thisBuild?: boolean;
  /** This build's deploys, when the caller read them already (the fan-out reads them once). */
  deploys?: BuildDeploys;
  /** Where this build's result files are (default paths.results); other agents' deploys arrive there (unstash). */
  results?: string;
}

function looksLikeFile(to: string): boolean {
  return /[\\/]|\.ya?ml$|\.json$/i.test(to) || (existsSync(to) && statSync(to).isFile());
}

async function chooseTarget(c: ConsoleClient, t: Target, live: LiveState, to: string, paths: PathsConfig, maxVersions: number): Promise<ChosenVersion> {
  const appId = live.resolution.appId!;
  const current = live.published;
  if (to !== 'previous' && looksLikeFile(to)) {
    const file = resolve(runCwd(), to);
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

function skipped(res: RollbackTargetResult, reason: string): RollbackTargetResult {
  res.status = 'skipped';
  res.reason = reason;
  res.warnings.push(reason);
  log.warn(`${res.target}: ${reason}`);
  return res;
}

async function rollbackOne(c: ConsoleClient, t: Target, ctx: { opts: RollbackOptions; paths: PathsConfig; build: BuildInfo; approvedBy: string | null; mine?: BuildDeploy }): Promise<RollbackTargetResult> {
  const { opts, paths, mine } = ctx;
  const res = rollbackResult(t, 'failed');
  try {
    const name = t.configuredName ?? String(loadDsl(t.app.dsl).app?.name ?? t.app.key);
    const resolution = await resolveTarget(c, t, name);
    if (!resolution.appId) throw new DifyCiError(`${t.id}: no app '${name}' in Dify; nothing to roll back`, 'operation');
    const appId = resolution.appId;
    res.appId = appId;
    const live = await observe(c, t, resolution);
    const mode = live.mode ?? resolution.app?.mode ?? '';
    res.mode = mode;
    res.from = { versionId: live.published?.versionId ?? null, hash: live.published?.hash ?? null };
    let chosen: ChosenVersion;
    if (mine) {
      const why = await notOurs(c, live, mode, mine);
      if (why) return skipped(res, why);
      const before = await chooseBefore(c, t, appId, mode, mine, paths);
      if (!before) return skipped(res, 'nothing was live before this build created or first published it; left as it is');
      chosen = before;
    } else chosen = await chooseTarget(c, t, live, opts.to ?? 'previous', paths, opts.maxVersions ?? 20);
    res.to = { versionId: chosen.versionId, file: chosen.file, hash: chosen.version.hash };
    res.contentHash = chosen.version.hash;
    const chosenMode = String(chosen.version.doc.app?.mode ?? '');
    if (chosenMode && chosenMode !== mode) throw new DifyCiError(`${t.id}: the backup is a '${chosenMode}' app, the live app is '${mode}'`, 'usage');

    const noop = Boolean(live.published && live.published.hash === chosen.version.hash);
    res.diffText = diffText(t, res, { name, mode, resolvedBy: resolution.resolvedBy, noop, live, chosen });
    log.info(`rollback of ${t.id} to ${chosen.versionId ?? chosen.file}:\n${res.diffText}`);
    if (noop) {
      res.status = 'unchanged';
      log.ok(`${t.id}: the live version already equals the rollback target`);
      return res;
    }
    if (opts.dryRun) {
      res.status = 'dry-run';
      return res;
    }

    const { ver, draftHash } = await applyChange(c, t, res, paths, {
      live,
      mode,
      marked: {
        markedName: `rollback-${(res.from.versionId ?? 'live').slice(0, 11)}`.slice(0, 20),
        markedComment: `rollback of ${res.from.versionId ?? 'live'} to ${chosen.versionId ?? chosen.file?.split(/[\\/]/).pop() ?? '?'}`.slice(0, 100),
      },
      action: 'rollback',
      write: () => restore(c, t, res, appId, mode, name, chosen, opts),
    });
    res.status = ver.ok ? 'rolled-back' : 'failed';
    if (!ver.ok) res.error = `verification failed: ${ver.note}`;
    appendHistory(paths.history, {
      time: new Date().toISOString(),
      action: 'rollback',
      target: t.id,
      env: t.env.key,
      app: t.app.key,
      ...(t.tenant ? { tenant: t.tenant.name } : {}),
      appId,
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
    return targetFailed(res, t, e);
  }
}

/** The diff from what is live to the rollback target, as plan shows a diff. */
function diffText(
  t: Target,
  res: RollbackTargetResult,
  x: { name: string; mode: string; resolvedBy: TargetPlan['resolvedBy']; noop: boolean; live: LiveState; chosen: ChosenVersion },
): string {
  const diff = diffDsl(x.live.published?.normalised, x.chosen.version.normalised);
  res.summary = summarise(diff);
  const plan: TargetPlan = {
    env: t.env.key,
    app: t.app.key,
    target: t.id,
    appId: res.appId,
    name: x.name,
    mode: x.mode,
    resolvedBy: x.resolvedBy,
    action: x.noop ? 'noop' : 'update',
    changed: true,
    contentHash: x.chosen.version.hash,
    observed: { versionId: null, publishedHash: null, draftHash: null, difyDraftHash: null },
    draftEdited: false,
    summary: res.summary,
    secrets: {},
    diff,
    warnings: [],
  };
  return formatPlanText(t.env.key, [plan]);
}

/**
 * Puts the chosen version back: workflow apps restore it (Dify's own copy) or, without a restore route, re-import
 * it with the environment's secrets; chat apps post its model config.
 */
async function restore(c: ConsoleClient, t: Target, res: RollbackTargetResult, appId: string, mode: string, name: string, chosen: ChosenVersion, opts: RollbackOptions): Promise<{ appId: string; expected: Expected }> {
  if (WORKFLOW_MODES.has(mode)) {
    if (chosen.versionId && (await restoreVersion(c, appId, chosen.versionId, t.id)) === 'restored') return { appId, expected: { doc: chosen.version.doc, secrets: {} } };
    // Re-import: an export or backup has blank secrets, so the environment's secrets are injected again.
    if (chosen.versionId) res.warnings.push('the server has no version restore; re-importing the version instead');
    // The target keeps its name: a file named otherwise would rename the app and break the next name lookup.
    const rendered = renderDsl(chosen.version.doc, { env: t.env, name, variables: t.tenant?.variables, environ: opts.environ });
    await importDsl(c, { yaml: toYaml(rendered.doc), appId, name: rendered.name }, { allowVersionUpgrade: true, where: t.id });
    return { appId, expected: { doc: rendered.doc, secrets: rendered.secrets } };
  }
  const mc = chosen.version.doc.model_config;
  if (!mc || typeof mc !== 'object') throw new DifyCiError(`${t.id}: ${chosen.file} has no model_config`, 'input');
  await postModelConfig(c, appId, mc, t.id);
  const a = chosen.version.doc.app ?? {};
  await updateApp(c, appId, { name, description: a.description, icon_type: a.icon_type, icon: a.icon, icon_background: a.icon_background }, t.id);
  return { appId, expected: { doc: chosen.version.doc, secrets: {} } };
}

/** The one-line summary of a rollback (single and fan-out path; `where` e.g. " of 4 target(s) in 2 tenant(s)"). */
export function rollbackSummary(envKey: string, c: RollbackReport['counts'], thisBuild: RollbackReport['thisBuild'], where = ''): string {
  if (thisBuild && thisBuild.deployed === 0) return `rollback in ${envKey} (this build): nothing to do, this build deployed none of the selected targets`;
  return `rollback in ${envKey}${thisBuild ? ' (this build)' : ''}: ${c.rolledBack} rolled back, ${c.unchanged} unchanged${c.skipped ? `, ${c.skipped} skipped` : ''}${c.failed ? `, ${c.failed} failed` : ''}${where}`;
}

/** Usage errors of the rollback options, the same for the single and the fan-out path (before any request). */
export function checkRollbackOptions(opts: { thisBuild?: boolean; to?: string; results?: string }): void {
  if (opts.thisBuild && opts.to !== undefined) throw usageError(`--this-build goes back to what was live before this build; it cannot be combined with --to (got '${opts.to}')`);
  if (opts.results !== undefined && !opts.thisBuild) throw usageError('--results is only for --this-build (where the deploy result files of other agents are)');
  if (opts.results !== undefined && (!existsSync(resolve(runCwd(), opts.results)) || !statSync(resolve(runCwd(), opts.results)).isDirectory())) {
    throw usageError(`--results ${opts.results}: no such directory (the deploy result files of this build, e.g. .dify-ci/results after unstashing)`);
  }
}

export async function rollbackTargets(config: ResolvedConfig, env: EnvironmentConfig, apps: string | string[] | AppConfig[] | undefined, opts: RollbackOptions = {}): Promise<RollbackReport> {
  checkRollbackOptions(opts);
  if (!opts.dryRun) requireApproval(env, opts.approvedBy, 'rolling back');
  const paths = opts.paths ?? config.paths;
  const build = opts.build ?? buildInfo(opts.environ);
  const deploys = opts.thisBuild ? (opts.deploys ?? deploysOf(config, env, { ...opts, build, paths })) : undefined;
  // --this-build: targets this build never deployed are not looked at at all.
  const targets = selectTargets(config, env, apps, opts.tenant).filter((t) => !deploys || deploys.targets.has(t.id));
  const approvedBy = opts.approvedBy?.trim() || null;
  const results: RollbackTargetResult[] = [];
  const todo: Target[] = [];
  for (const t of targets) {
    const why = deploys ? skipBeforeLooking(deploys.targets.get(t.id)!) : null;
    if (why) results.push(skipped(rollbackResult(t, 'failed'), why));
    else todo.push(t);
  }
  let authMode: string | null = null;
  if (todo.length) {
    const c = opts.console ?? getConsole(env, { tenant: opts.tenant, environ: opts.environ });
    await c.ready();
    authMode = c.authMode ?? null;
    for (const t of todo) results.push(await rollbackOne(c, t, { opts, paths, build, approvedBy, mine: deploys?.targets.get(t.id) }));
  }
  const order = new Map(targets.map((t, i) => [t.id, i]));
  results.sort((a, b) => order.get(a.target)! - order.get(b.target)!);
  const n = (s: RollbackTargetResult['status']) => results.filter((r) => r.status === s).length;
  return {
    env: env.key,
    authMode,
    approvedBy,
    status: n('failed') > 0 ? 'failed' : 'success',
    targets: results,
    counts: { targets: results.length, rolledBack: n('rolled-back'), unchanged: n('unchanged'), skipped: n('skipped'), failed: n('failed') },
    thisBuild: deploys ? { build: deploys.build, deployed: targets.length } : null,
  };
}
