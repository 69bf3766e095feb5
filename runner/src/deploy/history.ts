/**
 * Deploy history: one JSON line per deploy/rollback in `<paths.history>/<env>.jsonl`. The concurrent-edit guard
 * and `status` read the last record of a target. Lines are masked before writing; no secret values or secret
 * hashes are ever part of a record.
 */
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { mask } from '../core/mask.js';
import { log } from '../core/log.js';
import { DifyCiError } from '../core/errors.js';

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
  /** The branch the deploying build built (deploys only): `every-nth` counts the main branch's good builds. */
  branch?: string | null;
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
    } catch (e) {
      // A torn last line (killed job) must not block deploys.
      log.debug(`${file}: skipped a line that is not JSON (${(e as Error).message})`);
    }
  }
  return out;
}

const isGood = (r: HistoryRecord) => r.status === 'deployed' || r.status === 'unchanged' || r.status === 'rolled-back';

/** The newest record of a target that left Dify in a known state (deployed, unchanged or rolled back). */
export function lastGood(historyDir: string, env: string, target: string): HistoryRecord | undefined {
  return targetIndex(historyDir, env).get(target)?.lastGood;
}

/**
 * Draft hashes dify-ci itself left on a target: the last good record's and those of later failed deploys that
 * got as far as importing. A live draft equal to one of them holds no one else's work.
 */
export function ownDraftHashes(historyDir: string, env: string, target: string): Set<string> {
  return new Set(targetIndex(historyDir, env).get(target)?.drafts ?? []);
}

interface TargetEntry {
  lastGood?: HistoryRecord;
  /** Draft hashes of the last good record and of every later record. */
  drafts: Set<string>;
}

/**
 * Per-target summary of a history file, extended by reading only the bytes appended since the last call. A
 * fan-out asks once per target; re-reading a file that grows by hundreds of lines per run would be quadratic.
 * A file that was replaced, truncated or rewritten (the byte before the read offset is no longer a newline) is
 * read again from the start.
 */
const indexes = new Map<string, { ino: number; offset: number; targets: Map<string, TargetEntry> }>();

function targetIndex(historyDir: string, env: string): Map<string, TargetEntry> {
  const file = historyFile(historyDir, env);
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    indexes.delete(file);
    // No history yet is an empty history; any other failure must not pass for one (a deploy would trust it).
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new DifyCiError(`cannot read the deploy history ${file}: ${(e as Error).message}`, 'operation');
    return new Map();
  }
  let idx = indexes.get(file);
  const fd = openSync(file, 'r');
  try {
    if (idx && (idx.ino !== st.ino || st.size < idx.offset || (idx.offset > 0 && byteAt(fd, idx.offset - 1) !== 0x0a))) idx = undefined;
    idx ??= { ino: st.ino, offset: 0, targets: new Map() };
    if (st.size > idx.offset) {
      const buf = Buffer.alloc(st.size - idx.offset);
      const n = readSync(fd, buf, 0, buf.length, idx.offset);
      // Up to the last newline: a line still being written is read next time.
      const end = buf.subarray(0, n).lastIndexOf(0x0a) + 1;
      for (const line of buf.subarray(0, end).toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        let r: HistoryRecord;
        try {
          r = JSON.parse(line) as HistoryRecord;
        } catch (e) {
          log.debug(`${file}: skipped a line that is not JSON (${(e as Error).message})`);
          continue; // a torn line (killed job) must not block deploys
        }
        let e = idx.targets.get(r.target);
        if (!e) idx.targets.set(r.target, (e = { drafts: new Set() }));
        if (isGood(r)) {
          e.lastGood = r;
          e.drafts = new Set();
        }
        if (r.draftHash) e.drafts.add(r.draftHash);
      }
      idx.offset += end;
    }
  } finally {
    closeSync(fd);
  }
  indexes.set(file, idx);
  return idx.targets;
}

function byteAt(fd: number, pos: number): number {
  const b = Buffer.alloc(1);
  return readSync(fd, b, 0, 1, pos) === 1 ? b[0]! : -1;
}
