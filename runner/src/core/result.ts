/**
 * The result file every command writes. The Jenkins side reads only this file, never the console output.
 * Shape (stable, documented in README): {command, status, summary, counts, artifacts, error, startedAt, finishedAt}
 * plus an optional command-specific `data` object.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { maskDeep } from './mask.js';
import type { ErrorCategory } from './errors.js';
import { runCwd, runEnv } from './run.js';

export type ResultStatus = 'success' | 'failed' | 'error' | 'changes';

export interface Artifact {
  path: string;
  kind: string;
}

export interface CommandResult {
  command: string;
  status: ResultStatus;
  summary: string;
  counts: Record<string, number>;
  artifacts: Artifact[];
  error: { message: string; category: ErrorCategory; exitCode: number } | null;
  startedAt: string;
  finishedAt: string;
  exitCode: number;
  /** Command-specific; results/commands.ts types it per command. */
  data?: object;
}

export const DEFAULT_RESULTS_DIR = '.dify-ci/results';

export function defaultResultPath(command: string, resultsDir = runEnv().DIFY_CI_RESULTS_DIR || DEFAULT_RESULTS_DIR): string {
  return resolve(runCwd(), resultsDir, `${command}.json`);
}

/** Atomic (temp + rename) so a reader never sees half a file. Always masked. */
export function writeJsonFile(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(maskDeep(value), null, 2) + '\n', { mode: 0o644 });
  renameSync(tmp, path);
}

export function writeResult(path: string, result: CommandResult): void {
  writeJsonFile(path, result);
}
