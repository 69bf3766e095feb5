/**
 * `<paths.history>/notify.jsonl`: one line per notify run ({at, job, build, env, status}). Jenkins reuses a job's
 * workspace between builds, so this small file carries the previous build's result (for `fixed`) and the time of
 * the previous notification (result files older than that belong to an earlier build). `--previous-status`
 * overrides the file, e.g. with `currentBuild.previousBuild?.result` from the pipeline.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BUILD_STATUSES, type BuildStatus } from './summary.js';
import { log } from '../core/log.js';

export const HISTORY_FILE = 'notify.jsonl';
/** Enough for any "previous build" question; keeps the file from growing for ever. */
const KEEP = 200;

export interface HistoryEntry {
  at: string;
  job?: string;
  build?: string;
  env?: string;
  status: BuildStatus;
}

export function historyPath(historyDir: string): string {
  return join(historyDir, HISTORY_FILE);
}

/** Tolerant: a torn or hand-edited line is skipped, not fatal. */
export function readHistory(file: string): HistoryEntry[] {
  if (!existsSync(file)) return [];
  const out: HistoryEntry[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as Partial<HistoryEntry>;
      if (typeof e.at === 'string' && (BUILD_STATUSES as readonly string[]).includes(e.status as string)) out.push(e as HistoryEntry);
    } catch (e) {
      // A torn line (a killed job) must not stop notifications; the entries around it still count.
      log.debug(`notify history: skipped a line that is not JSON (${(e as Error).message})`);
    }
  }
  return out;
}

/** The latest entry of another build of the same job and environment. */
export function previousEntry(entries: HistoryEntry[], current: { job?: string; build?: string; env?: string }): HistoryEntry | undefined {
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!;
    if ((e.job ?? '') !== (current.job ?? '') || (e.env ?? '') !== (current.env ?? '')) continue;
    if (current.build !== undefined && e.build === current.build) continue;
    return e;
  }
  return undefined;
}

/**
 * When the previous build of this job notified; result files finished before then are stale. Only with a build
 * number: without one (a local run) "another build" cannot be told apart.
 */
export function staleBefore(entries: HistoryEntry[], current: { job?: string; build?: string }): Date | undefined {
  if (current.build === undefined) return undefined;
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!;
    if ((e.job ?? '') === (current.job ?? '') && e.build !== current.build) {
      const t = Date.parse(e.at);
      return Number.isFinite(t) ? new Date(t) : undefined;
    }
  }
  return undefined;
}

export function appendHistory(file: string, entry: HistoryEntry): void {
  mkdirSync(dirname(file), { recursive: true });
  const existing = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()) : [];
  const line = JSON.stringify(entry);
  if (existing.length + 1 > KEEP) writeFileSync(file, [...existing.slice(-(KEEP - 1)), line].join('\n') + '\n');
  else appendFileSync(file, line + '\n');
}
