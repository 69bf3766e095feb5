/**
 * Deploy history: one JSON line per deploy/rollback in `<paths.history>/<env>.jsonl`. The concurrent-edit guard
 * and `status` read the last record of a target. Lines are masked before writing; no secret values or secret
 * hashes are ever part of a record.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { mask } from '../core/mask.js';

export type HistoryStatus = 'deployed' | 'unchanged' | 'failed' | 'rolled-back' | 'refused';

export interface HistoryRecord {
  time: string;
  action: 'deploy' | 'rollback';
  /** `<env>/<app>` or `<env>/<tenant>/<app>`. */
  target: string;
  env: string;
  app: string;
  tenant?: string;
  appId?: string;
  mode?: string;
  versionId?: string | null;
  publishedAt?: number | null;
  /** sha256 of the normalised DSL we sent (secrets redacted). */
  contentHash?: string;
  /** sha256 of the normalised published export after the deploy. */
  publishedHash?: string;
  /** sha256 of the normalised draft export after the deploy (concurrent-edit guard). */
  draftHash?: string;
  gitCommit?: string | null;
  buildUrl?: string | null;
  approvedBy?: string | null;
  rollbackOf?: string | null;
  status: HistoryStatus;
  message?: string;
}

export function historyFile(historyDir: string, env: string): string {
  return join(historyDir, `${env.replace(/[^A-Za-z0-9_.-]/g, '_')}.jsonl`);
}

export function targetId(env: string, app: string, tenant?: string): string {
  return tenant ? `${env}/${tenant}/${app}` : `${env}/${app}`;
}

export function appendHistory(historyDir: string, rec: HistoryRecord): void {
  const file = historyFile(historyDir, rec.env);
  mkdirSync(dirname(file), { recursive: true });
  // One short line per append: O_APPEND keeps parallel writers from interleaving.
  appendFileSync(file, mask(JSON.stringify(rec)) + '\n', { mode: 0o644 });
}

export function readHistory(historyDir: string, env: string): HistoryRecord[] {
  const file = historyFile(historyDir, env);
  if (!existsSync(file)) return [];
  const out: HistoryRecord[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as HistoryRecord);
    } catch {
      // A torn last line (killed job) must not block deploys.
    }
  }
  return out;
}

/** The newest record of a target that left Dify in a known state (deployed, unchanged or rolled back). */
export function lastGood(historyDir: string, env: string, target: string): HistoryRecord | undefined {
  const recs = readHistory(historyDir, env).filter((r) => r.target === target && (r.status === 'deployed' || r.status === 'unchanged' || r.status === 'rolled-back'));
  return recs[recs.length - 1];
}

/**
 * Draft hashes dify-ci itself left on a target: the last good record's and those of later failed deploys that
 * got as far as importing. A live draft equal to one of them holds no one else's work.
 */
export function ownDraftHashes(historyDir: string, env: string, target: string): Set<string> {
  const recs = readHistory(historyDir, env).filter((r) => r.target === target);
  let start = 0;
  for (let i = recs.length - 1; i >= 0; i--) {
    const st = recs[i]!.status;
    if (st === 'deployed' || st === 'unchanged' || st === 'rolled-back') {
      start = i;
      break;
    }
  }
  return new Set(recs.slice(start).map((r) => r.draftHash).filter((h): h is string => Boolean(h)));
}
