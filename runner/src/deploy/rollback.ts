/**
 * `rollback`: back to an earlier version in one command.
 * - workflow / advanced-chat: restore the chosen published version into the draft (Dify's versions API) and
 *   publish it, marked `rollback-<id>`; without a restore route, re-import that version's export.
 * - chat / agent-chat / completion: post the model config of a backup (they have no versions).
 * `--to previous` (default) = the newest earlier version whose content differs from the live one; `--to <id>` = a
 * published workflow id of this app; `--to <file>` = a backup / DSL file. The diff is shown first; the result is
 * verified (normalised export equal to the chosen version) and recorded in the history.
 *
 * `--this-build` (the pipeline's automatic rollback) touches only targets this build deployed (thisBuildDeploys:
 * the deploy history and the deploy result files with this build's BUILD_URL/BUILD_TAG), each back to what was live
 * before this build's first deploy of it, and only while the live version is still this build's; otherwise the
 * target is `skipped` (not a failure) with a `reason`.
 *
 * Result data: results/rollback.ts (RollbackReport).
 */
import { existsSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { DifyCiError, usageError } from '../core/errors.js';
import { failure } from '../results/failure.js';
import type { DeployTargetResult } from '../results/deploy.js';
import { isCommand, readResults } from '../results/read.js';
import type { RolloutTarget } from '../results/rollout.js';
import { log } from '../core/log.js';
import type { AppConfig, EnvironmentConfig, PathsConfig, ResolvedConfig, TenantConfig } from '../config/types.js';
import { updateApp } from '../dify/apps.js';
import { getConsole, type ConsoleClient } from '../dify/console.js';
import { exportDsl } from '../dify/export.js';
import { currentWorkspaceId } from '../dify/workspaces.js';
import { importDsl } from '../dify/imports.js';
import { postModelConfig } from '../dify/model-config.js';
import { listAllVersions, publish, restoreVersion } from '../dify/workflows.js';
import { backupLive, listTargetBackups, readBackup, stamp } from './backup.js';
import { buildInfo, type BuildInfo } from './build-info.js';
import { requireApproval, verifyLive } from './deploy.js';
import { diffDsl, summarise } from './diff.js';
import { appendHistory, readHistory } from './history.js';
import { observe, toLiveVersion, type LiveState, type LiveVersion } from './live.js';
import { formatPlanText } from './plan.js';
import type { TargetPlan } from '../results/plan.js';
import { loadDsl, renderDsl, toYaml, WORKFLOW_MODES } from './render.js';
import { prefixed, resolveTarget, selectTargets, type Target } from './targets.js';
import { runCwd } from '../core/run.js';
import { rollbackResult, type RollbackReport, type RollbackTargetResult } from '../results/rollback.js';

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

// ---------------------------------------------------------------- --this-build

/** What one build did to one target. */
export interface BuildDeploy {
  target: string;
  tenant?: string;
  /** The version this build left live: its last deploy of the target (chat apps: hash only). */
  versionId: string | null;
  publishedHash: string | null;
  /** Its first deploy: what was live before that one goes back. */
  firstVersionId: string | null;
  /** Time of the first deploy record (history), and of the record before it (another run's), to find the backup. */
  time: string | null;
  before: string | null;
  /** Backups the deploy took (result files): the published one names the version that was live before. */
  backups: string[];
  created: boolean;
  /** This build rolled it back already (the rollout's failed wave, or an earlier --this-build run). */
  undone: boolean;
  /** A later deploy or rollback by another run (history): the newer one is live. */
  newer: string | null;
}

export interface BuildDeploys {
  build: string;
  targets: Map<string, BuildDeploy>;
}

/** This run's identity, the one deploy records carry (`buildUrl`: BUILD_URL, else BUILD_TAG). */
export function buildIdentity(build: BuildInfo): string {
  if (!build.buildUrl) throw usageError('--this-build needs the identity of the build: BUILD_URL or BUILD_TAG (Jenkins sets both)');
  return build.buildUrl;
}

const strOrNull = (v: unknown) => (typeof v === 'string' && v ? v : null);

/** A target's first deploy by this build, before later records fill in what it left live. */
function newDeploy(target: string, tenant: string | null | undefined, firstVersionId: string | null, time: string | null, before: string | null): BuildDeploy {
  return { target, ...(tenant ? { tenant } : {}), versionId: null, publishedHash: null, firstVersionId, time, before, backups: [], created: false, undone: false, newer: null };
}

/**
 * The targets this build deployed to one environment: its records in the deploy history (this agent's), merged
 * with the deploy result files in `resultsDir` — the pipeline unstashes every agent's results there, so shards
 * that ran elsewhere are seen too. Stale result files of other builds are ignored by their `buildUrl`.
 */
export function thisBuildDeploys(historyDir: string, resultsDir: string, envKey: string, build: string): BuildDeploys {
  const targets = new Map<string, BuildDeploy>();
  const lastTime = new Map<string, string>();
  for (const r of readHistory(historyDir, envKey)) {
    const mine = targets.get(r.target);
    if (r.buildUrl === build) {
      if (r.action === 'deploy' && r.status === 'deployed') {
        const e = mine ?? newDeploy(r.target, r.tenant, r.versionId ?? null, r.time, lastTime.get(r.target) ?? null);
        Object.assign(e, { versionId: r.versionId ?? null, publishedHash: r.publishedHash ?? null, undone: false, newer: null });
        targets.set(r.target, e);
      } else if (mine && r.action === 'rollback' && r.status === 'rolled-back') mine.undone = true;
    } else if (mine && (r.status === 'deployed' || r.status === 'rolled-back')) {
      mine.newer = r.buildUrl || 'a run outside Jenkins';
    }
    lastTime.set(r.target, r.time);
  }
  // Result files (this agent's and those unstashed from other agents), oldest run first. Targets this agent's
  // history knows are already exact (versions, rollbacks); the files add only their backups and `created`.
  const known = new Set(targets.keys());
  const runs: { startedAt: string; name: string; targets: (DeployTargetResult | RolloutTarget)[] }[] = [];
  // Blanked before a run (difyRun), or not a result file: not this build's deploy either.
  for (const r of readResults(resultsDir, { onSkip: (file, why) => log.debug(`${basename(file)}: not read as a result file (${why})`) })) {
    if (!isCommand(r, 'deploy') || !r.data || r.data.env !== envKey || !('buildUrl' in r.data) || r.data.buildUrl !== build) continue;
    runs.push({ startedAt: r.startedAt ?? '', name: basename(r.file), targets: r.data.targets });
  }
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  runs.sort((a, b) => cmp(a.startedAt, b.startedAt) || cmp(a.name, b.name));
  for (const run of runs) {
    for (const t of run.targets) {
      const id = strOrNull(t.target);
      if (!id || (t.status !== 'deployed' && t.status !== 'rolled-back')) continue;
      let e = targets.get(id);
      if (!e) {
        if (t.status !== 'deployed') continue; // deployed and rolled back by the rollout: nothing of ours is live
        e = newDeploy(id, strOrNull(t.tenant), strOrNull(t.versionId), null, null);
        targets.set(id, e);
      }
      if (!known.has(id)) {
        if (t.status === 'deployed') Object.assign(e, { versionId: strOrNull(t.versionId), publishedHash: strOrNull(t.publishedHash), undone: false });
        else e.undone = true; // a failed wave rolled it back (the rollout keeps the deploy's backups on the entry)
      }
      if (Array.isArray(t.backups)) e.backups.push(...t.backups.filter((b) => typeof b === 'string'));
      if (t.resolvedBy === 'create' && t.status === 'deployed') e.created = true;
    }
  }
  return { build, targets };
}

/** Why a target this build deployed is left alone before looking at Dify, or null. */
function skipBeforeLooking(mine: BuildDeploy): string | null {
  if (mine.undone) return 'already rolled back by this build';
  if (mine.newer) return `a newer deploy is live (${mine.newer}); not rolled back`;
  return null;
}

/**
 * What was live before this build's first deploy of the target. Workflow apps: the version published just before
 * this build's (publishing is what makes a version live). Chat apps: the backup that deploy took.
 * Null when nothing was live before (the build created it).
 */
async function chooseBefore(c: ConsoleClient, t: Target, appId: string, mode: string, mine: BuildDeploy, paths: PathsConfig): Promise<Chosen | null> {
  if (WORKFLOW_MODES.has(mode)) {
    c.requireConsole('roll back', t.id);
    const versions = await listAllVersions(c, appId, 200, t.id);
    const idx = versions.findIndex((v) => v.id === mine.firstVersionId);
    if (idx < 0) throw new DifyCiError(`${t.id}: version ${mine.firstVersionId} that this build published is not in the app's version history`, 'operation');
    const v = versions[idx + 1];
    if (!v) return null;
    const yaml = await exportDsl(c, appId, { workflowId: v.id, where: t.id, what: `export version ${v.id}` });
    if (!yaml) throw new DifyCiError(`${t.id}: version ${v.id} cannot be exported`, 'dify');
    return { version: toLiveVersion(yaml, `${t.id} version ${v.id}`, await currentWorkspaceId(c)), versionId: v.id, file: null };
  }
  // The backups this build's deploys took (result files), by name: the oldest is the one its first deploy took.
  const named = new Set(mine.backups.filter((b) => !b.endsWith('-draft.yml')).map((b) => basename(b)));
  const backups = listTargetBackups(paths.backups, t); // newest first
  let file: string | undefined;
  if (named.size) file = backups.filter((f) => named.has(basename(f))).at(-1);
  else if (!mine.created && mine.time) {
    // Only the history: the backup taken between the record before this build's first deploy and that deploy.
    const low = mine.before ? stamp(new Date(mine.before)) : '';
    const high = stamp(new Date(mine.time));
    file = backups.find((f) => basename(f) < high && basename(f) > low);
  }
  if (file) return { version: toLiveVersion(readBackup(file).yaml, file), versionId: null, file };
  if (mine.created) return null;
  // Not knowing what was live is a failure: someone has to look.
  throw new DifyCiError(
    `${t.id}: the backup this build's deploy took${named.size ? ` (${[...named].join(', ')})` : ''} is not on this agent under ${paths.backups}`,
    'operation',
    { details: ["it is in the build's archived artifacts (.dify-ci/backups/…): roll back with --to <that file>"] },
  );
}

function skipped(res: RollbackTargetResult, reason: string): RollbackTargetResult {
  res.status = 'skipped';
  res.reason = reason;
  res.warnings.push(reason);
  log.warn(`${res.target}: ${reason}`);
  return res;
}

/** Null when what is live is still what this build deployed; else why not (then it is not ours to undo). */
async function notOurs(c: ConsoleClient, live: LiveState, mode: string, mine: BuildDeploy): Promise<string | null> {
  const p = live.published;
  if (WORKFLOW_MODES.has(mode)) {
    if (p?.versionId === mine.versionId) return null;
    return `a newer deploy is live (version ${p?.versionId ?? 'none'}, this build deployed ${mine.versionId}); not rolled back`;
  }
  // The hash the deploy recorded came from its verification export, which decrypts knowledge-base ids.
  if (p && mine.publishedHash && toLiveVersion(p.yaml, 'live', await currentWorkspaceId(c)).hash === mine.publishedHash) return null;
  return 'a newer deploy is live (the live config is not the one this build deployed); not rolled back';
}

async function rollbackOne(c: ConsoleClient, t: Target, ctx: { opts: RollbackOptions; paths: PathsConfig; build: BuildInfo; approvedBy: string | null; mine?: BuildDeploy }): Promise<RollbackTargetResult> {
  const { opts, paths, mine } = ctx;
  const res = rollbackResult(t, 'failed');
  try {
    const name = t.configuredName ?? String(loadDsl(t.app.dsl).app?.name ?? t.app.key);
    const resolution = await resolveTarget(c, t, name);
    if (!resolution.appId) throw new DifyCiError(`${t.id}: no app '${name}' in Dify; nothing to roll back`, 'operation');
    res.appId = resolution.appId;
    const live = await observe(c, t, resolution);
    const mode = live.mode ?? resolution.app?.mode ?? '';
    res.mode = mode;
    res.from = { versionId: live.published?.versionId ?? null, hash: live.published?.hash ?? null };
    let chosen: Chosen;
    if (mine) {
      const why = await notOurs(c, live, mode, mine);
      if (why) return skipped(res, why);
      const before = await chooseBefore(c, t, res.appId, mode, mine, paths);
      if (!before) return skipped(res, 'nothing was live before this build created or first published it; left as it is');
      chosen = before;
    } else chosen = await chooseTarget(c, t, live, opts.to ?? 'previous', paths, opts.maxVersions ?? 20);
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
    Object.assign(res, failure(e));
    log.error(prefixed(t.id, res.error!));
    if (e instanceof DifyCiError) for (const d of e.details) log.info(`  ${d}`);
    if (!(e instanceof DifyCiError) || e.category === 'auth') throw e;
    return res;
  }
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

/** This build's deploys to `env` (--this-build), from the history and the result files. */
export function deploysOf(config: ResolvedConfig, env: EnvironmentConfig, opts: Pick<RollbackOptions, 'build' | 'environ' | 'paths' | 'results'>): BuildDeploys {
  const paths = opts.paths ?? config.paths;
  const build = buildIdentity(opts.build ?? buildInfo(opts.environ));
  return thisBuildDeploys(paths.history, opts.results ? resolve(runCwd(), opts.results) : paths.results, env.key, build);
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
