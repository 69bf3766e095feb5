/**
 * Runs one CLI command: timing, the result file, --json output, error → message + exit code. Every command goes
 * through here, so every command behaves the same for Jenkins.
 */
import { relative, resolve } from 'node:path';
import { DifyCiError, ExitCode, categoryOf, exitCodeFor, formatPosition, type ExitCodeValue } from './errors.js';
import { isVerbose, log } from './log.js';
import { mask, registerSecretsFromEnv } from './mask.js';
import { defaultResultPath, writeResult, type Artifact, type CommandResult, type ResultStatus } from './result.js';
import { currentScope, type RunIO } from './run.js';
import type { ResolvedConfig } from '../config/types.js';

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

export interface CommandOutcome {
  status?: ResultStatus;
  summary: string;
  counts?: Record<string, number>;
  artifacts?: Artifact[];
  data?: Record<string, unknown>;
  exitCode?: ExitCodeValue;
  /** Data printed on stdout when --json is not given (plans, tables, YAML). */
  stdout?: string;
}

export interface RunContext {
  command: string;
  globals: GlobalOptions;
  /** The run's streams (masked), environment and working directory. */
  io: RunIO;
  /** The resolved configuration (loaded once; registers every secret for masking). */
  config(): Promise<ResolvedConfig>;
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

export async function runCommand(command: string, globals: GlobalOptions, fn: (ctx: RunContext) => Promise<CommandOutcome>): Promise<ExitCodeValue> {
  const startedAt = new Date().toISOString();
  const io = currentScope().io;
  const artifacts: Artifact[] = [];
  let configPromise: Promise<ResolvedConfig> | null = null;
  let resultsDir: string | undefined;
  const ctx: RunContext = {
    command,
    globals,
    io,
    config() {
      configPromise ??= (async () => {
        const { resolveConfig, selectEnvironment } = await import('../config/resolve.js');
        const { allSecretVars } = await import('../config/credentials.js');
        const { loadTenants } = await import('../tenants/load.js');
        const cfg = resolveConfig({ configFile: globals.config, envName: '', environ: io.env, cwd: io.cwd });
        registerSecretsFromEnv(allSecretVars(cfg, loadTenants(cfg)).map((v) => v.env), io.env);
        resultsDir = cfg.paths.results;
        const envName = globals.env ?? io.env.DIFY_CI_ENV;
        if (envName) selectEnvironment(cfg, envName, io.env);
        return cfg;
      })();
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
    const message = err instanceof DifyCiError ? err.oneLine() : `internal error: ${(err as Error)?.message ?? String(err)}`;
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
    void formatPosition;
  } else {
    log.error(`internal error: ${(err as Error)?.message ?? String(err)}`);
    if (isVerbose()) stderr.write(mask(String((err as Error)?.stack ?? '')) + '\n');
    else stderr.write('  (this is a bug in dify-ci; run with --verbose for details and report it)\n');
  }
}
