/**
 * `rollback --this-build` (the pipeline's automatic rollback): what this build deployed, from the deploy history
 * (this agent's) and the deploy result files (every agent's, unstashed), and for each such target what was live
 * before this build's first deploy of it. A target where a newer deploy is live, or that this build created or
 * already rolled back, is left alone with a reason.
 */
import { basename, resolve } from 'node:path';
import { DifyCiError, usageError } from '../core/errors.js';
import { log } from '../core/log.js';
import { runCwd } from '../core/run.js';
import type { EnvironmentConfig, PathsConfig, ResolvedConfig } from '../config/types.js';
import type { ConsoleClient } from '../dify/console.js';
import { exportDsl } from '../dify/export.js';
import { listAllVersions } from '../dify/workflows.js';
import { currentWorkspaceId } from '../dify/workspaces.js';
import type { DeployTargetResult } from '../results/deploy.js';
import { isCommand, readResults } from '../results/read.js';
import type { RolloutTarget } from '../results/rollout.js';
import { listTargetBackups, readBackup, stamp } from './backup.js';
import { buildInfo, type BuildInfo } from './build-info.js';
import { readHistory } from './history.js';
import { toLiveVersion, type ChosenVersion, type LiveState } from './live.js';
import { WORKFLOW_MODES } from './render.js';
import type { Target } from './targets.js';

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
export function skipBeforeLooking(mine: BuildDeploy): string | null {
  if (mine.undone) return 'already rolled back by this build';
  if (mine.newer) return `a newer deploy is live (${mine.newer}); not rolled back`;
  return null;
}

/**
 * What was live before this build's first deploy of the target. Workflow apps: the version published just before
 * this build's (publishing is what makes a version live). Chat apps: the backup that deploy took.
 * Null when nothing was live before (the build created it).
 */
export async function chooseBefore(c: ConsoleClient, t: Target, appId: string, mode: string, mine: BuildDeploy, paths: PathsConfig): Promise<ChosenVersion | null> {
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

/** Null when what is live is still what this build deployed; else why not (then it is not ours to undo). */
export async function notOurs(c: ConsoleClient, live: LiveState, mode: string, mine: BuildDeploy): Promise<string | null> {
  const p = live.published;
  if (WORKFLOW_MODES.has(mode)) {
    if (p?.versionId === mine.versionId) return null;
    return `a newer deploy is live (version ${p?.versionId ?? 'none'}, this build deployed ${mine.versionId}); not rolled back`;
  }
  // The hash the deploy recorded came from its verification export, which decrypts knowledge-base ids.
  if (p && mine.publishedHash && toLiveVersion(p.yaml, 'live', await currentWorkspaceId(c)).hash === mine.publishedHash) return null;
  return 'a newer deploy is live (the live config is not the one this build deployed); not rolled back';
}

/** This build's deploys to `env` (--this-build), from the history and the result files. */
export function deploysOf(config: ResolvedConfig, env: EnvironmentConfig, opts: { build?: BuildInfo; environ?: NodeJS.ProcessEnv; paths?: PathsConfig; results?: string }): BuildDeploys {
  const paths = opts.paths ?? config.paths;
  const build = buildIdentity(opts.build ?? buildInfo(opts.environ));
  return thisBuildDeploys(paths.history, opts.results ? resolve(runCwd(), opts.results) : paths.results, env.key, build);
}

