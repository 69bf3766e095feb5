/**
 * The one reader of result files: every `<command>.json` of a directory, the envelope (core/result.ts) checked and
 * each command's `data` typed by results/commands.ts. A file that is not a result file is skipped with a reason;
 * data whose lists are not lists is left out (the envelope still counts), so a damaged file never stops a reader.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { log } from '../core/log.js';
import type { Artifact } from '../core/result.js';
import type { CommandName, ResultData } from './commands.js';

export interface ResultFile<C extends string = string> {
  /** The path read. */
  file: string;
  command: C;
  /** success | failed | error | changes (lower case). */
  status: string;
  summary: string;
  counts: Record<string, number>;
  artifacts: Artifact[];
  error: { message: string; category?: string } | null;
  startedAt?: string;
  finishedAt?: string;
  /** The command's data; absent when it failed before it had any. */
  data?: C extends CommandName ? ResultData[C] : object;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

/** The result files of `command` among `results`, typed. */
export function isCommand<C extends CommandName>(r: ResultFile, command: C): r is ResultFile<C> {
  return r.command === command;
}

/** The lists commands write in `data` (results/commands.ts): entries must be objects. */
const LISTS = ['targets', 'waves', 'files', 'channels', 'steps'];

function checkedData(file: string, v: unknown): object | undefined {
  if (!isObj(v)) return undefined;
  const out: Obj = { ...v };
  for (const k of LISTS) {
    if (!(k in out)) continue;
    if (!Array.isArray(out[k])) {
      log.debug(`${file}: data left out (${k} is not a list)`);
      return undefined;
    }
    out[k] = (out[k] as unknown[]).filter(isObj);
  }
  return out;
}

/** Every result file in `dir`, oldest (by finishedAt) first; `notBefore` leaves out those of earlier builds. */
export function readResults(dir: string, opts: { notBefore?: Date; onSkip?: (file: string, why: string) => void } = {}): ResultFile[] {
  if (!existsSync(dir)) return [];
  const out: ResultFile[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.json')).sort()) {
    const file = join(dir, name);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      opts.onSkip?.(file, `not JSON (${(e as Error).message})`);
      continue;
    }
    const o = isObj(raw) ? raw : {};
    const command = text(o.command);
    const status = text(o.status);
    if (!command || !status) {
      opts.onSkip?.(file, 'not a dify-ci result file (no command/status)');
      continue;
    }
    const finishedAt = text(o.finishedAt);
    if (opts.notBefore && finishedAt && Date.parse(finishedAt) < opts.notBefore.getTime()) {
      opts.onSkip?.(file, `left over from an earlier build (finished ${finishedAt})`);
      continue;
    }
    const err = isObj(o.error) ? { message: text(o.error.message) ?? 'error', category: text(o.error.category) } : null;
    const counts = isObj(o.counts) ? Object.fromEntries(Object.entries(o.counts).filter(([, v]) => typeof v === 'number' && Number.isFinite(v))) : {};
    const artifacts = (Array.isArray(o.artifacts) ? o.artifacts : []).filter(isObj).map((a) => ({ path: text(a.path) ?? '', kind: text(a.kind) ?? '' })).filter((a) => a.path);
    const data = checkedData(file, o.data);
    out.push({
      file,
      command,
      status: status.toLowerCase(),
      summary: text(o.summary) ?? '',
      counts: counts as Record<string, number>,
      artifacts,
      error: err,
      startedAt: text(o.startedAt),
      finishedAt,
      ...(data ? { data } : {}),
    });
  }
  return out.sort((a, b) => Date.parse(a.finishedAt ?? '') - Date.parse(b.finishedAt ?? '') || 0);
}
