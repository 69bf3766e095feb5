/**
 * Backups. Before every deploy/rollback: the published version and the draft of the target go to
 * `<paths.backups>/<env>/[<tenant>/]<app>/<time>-<version>.yml` (and `<time>-draft.yml`). `backup --out DIR` is
 * the cold backup of a whole environment with an `index.json`. Exports never contain secret values (Dify blanks
 * them); files are masked anyway.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { log } from '../core/log.js';
import { mask } from '../core/mask.js';
import { writeJsonFile } from '../core/result.js';
import { listAllApps, type AppSummary } from '../dify/apps.js';
import type { ConsoleClient } from '../dify/console.js';
import { exportDsl } from '../dify/export.js';
import { currentWorkspaceId } from '../dify/workspaces.js';
import { getPublished } from '../dify/workflows.js';
import { toLiveVersion, type LiveState } from './live.js';
import { WORKFLOW_MODES } from './render.js';
import { resolveTarget, type Target } from './targets.js';
import { loadDsl } from './render.js';
import type { BackupIndex, BackupIndexEntry } from '../results/backup.js';

function safe(s: string): string {
  return s.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 80);
}

/** Sortable, filename-safe UTC time with milliseconds: 20250102T030405123Z. */
export function stamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, '').replace('.', '');
}

export function targetBackupDir(backupsDir: string, t: Pick<Target, 'env' | 'app' | 'tenant'>): string {
  return t.tenant ? join(backupsDir, safe(t.env.key), safe(t.tenant.name), safe(t.app.key)) : join(backupsDir, safe(t.env.key), safe(t.app.key));
}

function writeText(file: string, text: string): void {
  writeFileSync(file, mask(text), { mode: 0o644 });
}

/** Writes the live published version and draft of a target; returns the files written. */
export function backupLive(backupsDir: string, t: Target, live: LiveState, now = new Date()): string[] {
  const files: string[] = [];
  if (!live.published && !live.draft) return files;
  const dir = targetBackupDir(backupsDir, t);
  mkdirSync(dir, { recursive: true });
  const time = stamp(now);
  if (live.published) {
    const f = join(dir, `${time}-${safe(live.published.versionId ?? 'live')}.yml`);
    writeText(f, live.published.yaml);
    files.push(f);
  }
  if (live.draft) {
    const f = join(dir, `${time}-draft.yml`);
    writeText(f, live.draft.yaml);
    files.push(f);
  }
  return files;
}

export interface BackupFile {
  file: string;
  hash: string;
  yaml: string;
}

/** Backups of a target (published/live ones, not drafts), newest first. */
export function listTargetBackups(backupsDir: string, t: Pick<Target, 'env' | 'app' | 'tenant'>): string[] {
  const dir = targetBackupDir(backupsDir, t);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yml') && !f.endsWith('-draft.yml'))
    .sort()
    .reverse()
    .map((f) => join(dir, f));
}

export function readBackup(file: string): BackupFile {
  const yaml = readFileSync(file, 'utf8');
  return { file, yaml, hash: toLiveVersion(yaml, file).hash };
}

// ---------------------------------------------------------------- backup --out DIR

async function exportOne(c: ConsoleClient, app: AppSummary, where: string): Promise<{ yaml: string; version: string | null; exported: BackupIndexEntry['exported'] } | undefined> {
  if (!WORKFLOW_MODES.has(app.mode)) {
    const yaml = await exportDsl(c, app.id, { where, what: `export app ${app.name}` });
    return yaml ? { yaml, version: null, exported: 'live' } : undefined;
  }
  const pubId = c.api === 'console' ? (await getPublished(c, app.id, where))?.id : app.workflow?.id;
  if (pubId) {
    const yaml = await exportDsl(c, app.id, { workflowId: pubId, where, what: `export app ${app.name}` });
    if (yaml) return { yaml, version: pubId, exported: 'published' };
  }
  const yaml = await exportDsl(c, app.id, { where, what: `export the draft of ${app.name}` });
  return yaml ? { yaml, version: null, exported: 'draft' } : undefined;
}

/** Exports the configured targets (or, with `all`, every app of the workspace) into `outDir` with index.json. */
export async function backupEnvironment(c: ConsoleClient, envKey: string, targets: Target[], opts: { all: boolean; outDir: string }): Promise<BackupIndex> {
  mkdirSync(opts.outDir, { recursive: true });
  const index: BackupIndex = { env: envKey, server: c.url, createdAt: new Date().toISOString(), all: opts.all, apps: [], skipped: [] };
  const items: { key?: string; app: AppSummary }[] = [];
  if (opts.all) {
    for (const app of await listAllApps(c, {}, envKey)) items.push({ app });
  } else {
    for (const t of targets) {
      let name = t.configuredName;
      if (!name) {
        try {
          name = String(loadDsl(t.app.dsl).app?.name ?? t.app.key);
        } catch (e) {
          // The backup must not fail on a DSL that does not parse: the app is looked up under its key instead.
          log.debug(`${t.id}: app.name not read from ${t.app.dsl}: ${(e as Error).message}`);
          name = t.app.key;
        }
      }
      const r = await resolveTarget(c, t, name);
      if (!r.app || !r.appId) {
        index.skipped.push({ key: t.app.key, name, reason: 'not deployed (no app with this id or name)' });
        log.warn(`${t.id}: not deployed yet; nothing to back up`);
        continue;
      }
      items.push({ key: t.app.key, app: r.app });
    }
  }
  const used = new Set<string>();
  const ws = await currentWorkspaceId(c);
  for (const { key, app } of items) {
    const where = key ? `${envKey}/${key}` : `${envKey}/${app.name}`;
    const got = await exportOne(c, app, where);
    if (!got) {
      index.skipped.push({ key, name: app.name, reason: 'nothing to export (no draft)' });
      continue;
    }
    let base = key ? safe(key) : `${safe(app.name)}-${app.id.slice(0, 8)}`;
    while (used.has(base)) base += '_';
    used.add(base);
    const file = join(opts.outDir, `${base}.yml`);
    writeText(file, got.yaml);
    index.apps.push({
      ...(key ? { key } : {}),
      id: app.id,
      name: app.name,
      mode: app.mode,
      version: got.version,
      exported: got.exported,
      hash: toLiveVersion(got.yaml, file, ws).hash,
      file: relative(opts.outDir, file),
    });
  }
  writeJsonFile(join(opts.outDir, 'index.json'), index);
  return index;
}
