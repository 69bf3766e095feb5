/**
 * Runs one CLI command: timing, the result file, --json output, error → message + exit code. Every command goes
 * through here, so every command behaves the same for Jenkins.
 */
import { relative, resolve } from 'node:path';
import { DifyCiError, ExitCode, categoryOf, errorMessage, exitCodeFor, type ExitCodeValue } from './errors.js';
import { isVerbose, log } from './log.js';
import { mask } from './mask.js';
import { defaultResultPath, writeResult, type Artifact, type CommandResult, type ResultStatus } from './result.js';
import { currentScope, type RunIO } from './run.js';

/** Where the CLI parks an error found before the action runs (bad step parameters), for runCommand to report. */
export const SETUP_ERROR = Symbol('dify-ci.setupError');

export interface GlobalOptions {
  config?: string;
  env?: string;
  json?: boolean;
  resultFile?: string;
  verbose?: boolean;
  color?: boolean;
}

/** What an action returns; `data` is its command's typed result data (results/commands.ts). */
export interface CommandOutcome<D extends object = object> {
  status?: ResultStatus;
  summary: string;
  counts?: Record<string, number>;
  artifacts?: Artifact[];
  data?: D;
  exitCode?: ExitCodeValue;
  /** Data printed on stdout when --json is not given (plans, tables, YAML). */
  stdout?: string;
}

/**
 * Loads the run's configuration. Given by the caller (config/load.ts), so core knows nothing of its shape; calls
 * `found(resultsDir)` as soon as it knows where result files go, so a later failure is still written there.
 */
export type ConfigLoader<C> = (globals: GlobalOptions, io: RunIO, found: (resultsDir: string) => void) => Promise<C>;

export interface RunContext<C> {
  command: string;
  globals: GlobalOptions;
  /** The run's streams (masked), environment and working directory. */
  io: RunIO;
  /** The configuration, loaded once on first use (registers every secret for masking). */
  config(): Promise<C>;
  artifact(path: string, kind: string): void;
}

const EXIT_CODE = Symbol('dify-ci.exitCode');
const exitCodeOfRun = () => currentScope().slot(EXIT_CODE, () => ({ code: undefined as number | undefined }));

/** The exit code of the command that ran in the current run (set by runCommand; main returns it). */
export function commandExitCode(): number | undefined {
  return exitCodeOfRun().code;
}

function defaultExit(status: ResultStatus): ExitCodeValue {
  return status === 'success' ? ExitCode.OK : status === 'changes' ? ExitCode.CHANGES : ExitCode.FAILED;
}

function relPath(p: string, cwd: string): string {
  const r = relative(cwd, p);
  return r.startsWith('..') ? p : r;
}

export async function runCommand<C>(
  command: string,
  globals: GlobalOptions,
  loadConfig: ConfigLoader<C>,
  fn: (ctx: RunContext<C>) => Promise<CommandOutcome>,
): Promise<ExitCodeValue> {
  const startedAt = new Date().toISOString();
  const io = currentScope().io;
  const artifacts: Artifact[] = [];
  let configPromise: Promise<C> | null = null;
  let resultsDir: string | undefined;
  const ctx: RunContext<C> = {
    command,
    globals,
    io,
    config() {
      configPromise ??= loadConfig(globals, io, (dir) => {
        resultsDir = dir;
      });
      return configPromise;
    },
    artifact(path, kind) {
      const p = relPath(path, io.cwd);
      if (!artifacts.some((a) => a.path === p)) artifacts.push({ path: p, kind });
    },
  };

  let result: CommandResult;
  try {
    const outcome = await fn(ctx);
    const status = outcome.status ?? 'success';
    for (const a of outcome.artifacts ?? []) ctx.artifact(a.path, a.kind);
    result = {
      command,
      status,
      summary: outcome.summary,
      counts: outcome.counts ?? {},
      artifacts,
      error: null,
      startedAt,
      finishedAt: new Date().toISOString(),
      exitCode: outcome.exitCode ?? defaultExit(status),
      ...(outcome.data ? { data: outcome.data } : {}),
    };
    if (!globals.json && outcome.stdout) io.stdout.write(outcome.stdout.endsWith('\n') ? outcome.stdout : outcome.stdout + '\n');
  } catch (err) {
    reportError(err);
    const message = errorMessage(err);
    result = {
      command,
      status: 'error',
      summary: mask(message),
      counts: {},
      artifacts,
      error: { message: mask(message), category: categoryOf(err), exitCode: exitCodeFor(err) },
      startedAt,
      finishedAt: new Date().toISOString(),
      exitCode: exitCodeFor(err),
    };
  }
  const resultPath = globals.resultFile ? resolve(io.cwd, globals.resultFile) : defaultResultPath(command, resultsDir);
  try {
    writeResult(resultPath, result);
  } catch (e) {
    log.warn(`could not write the result file ${resultPath}: ${(e as Error).message}`);
  }
  if (globals.json) io.stdout.write(JSON.stringify(result, null, 2) + '\n');
  exitCodeOfRun().code = result.exitCode;
  return result.exitCode as ExitCodeValue;
}

export function reportError(err: unknown): void {
  const stderr = currentScope().io.stderr;
  if (err instanceof DifyCiError) {
    log.error(err.oneLine());
    for (const d of err.details) stderr.write(`  ${mask(d)}\n`);
    if (err.position?.path && !err.oneLine().includes(err.position.path)) log.debug(`  at ${err.position.path}`);
    if (isVerbose() && err.cause) log.debug(String((err.cause as Error)?.stack ?? err.cause));
  } else {
    log.error(errorMessage(err));
    if (isVerbose()) stderr.write(mask(String((err as Error)?.stack ?? '')) + '\n');
    else stderr.write('  (this is a bug in dify-ci; run with --verbose for details and report it)\n');
  }
}
