/**
 * The commander program. Only commander and the core load eagerly; each command loads its own modules when it
 * runs, so `--version` and `context` start about as fast as node itself.
 */
import { Command, CommanderError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ExitCode, usageError } from './core/errors.js';
import { configureLog, log } from './core/log.js';
import { maskedStream } from './core/mask.js';
import { commandExitCode, reportError, SETUP_ERROR, type GlobalOptions } from './core/command.js';
import { currentScope, runCwd, runEnv, Scope, within, type RunIO } from './core/run.js';
import { versionLine } from './core/version.js';
import { registerCommands } from './commands/index.js';

/**
 * Jenkins steps pass their parameters as a JSON object in the file named by DIFY_CI_PARAMS_FILE (never on argv).
 * Keys are the long option names in camelCase; they act like flags, and a flag given on argv still wins.
 */
export function applyParamsFile(program: Command, action: Command, environ: NodeJS.ProcessEnv = runEnv(), cwd = runCwd()): void {
  const file = environ.DIFY_CI_PARAMS_FILE;
  if (!file) return;
  let params: unknown;
  try {
    params = JSON.parse(readFileSync(resolve(cwd, file), 'utf8'));
  } catch (e) {
    throw usageError(`cannot read the step parameters in DIFY_CI_PARAMS_FILE (${file}): ${(e as Error).message}`);
  }
  if (params === null || typeof params !== 'object' || Array.isArray(params)) {
    throw usageError(`DIFY_CI_PARAMS_FILE (${file}) must hold a JSON object`);
  }
  const byTarget = new Map<string, Command>();
  for (const cmd of [action, program]) {
    for (const opt of cmd.options) {
      const name = opt.attributeName();
      if (name === 'version') continue; // answered before parsing; meaningless as a step parameter
      if (!byTarget.has(name)) byTarget.set(name, cmd);
    }
  }
  for (const [key, value] of Object.entries(params as Record<string, unknown>)) {
    if (value === null || value === undefined) continue;
    const target = byTarget.get(key);
    if (!target) {
      const known = [...byTarget.keys()].sort().join(', ');
      throw usageError(`unknown parameter '${key}' for '${action.name()}' (known: ${known})`);
    }
    if (target.getOptionValueSource(key) === 'cli') continue;
    const v = Array.isArray(value) ? value.map(String).join(',') : typeof value === 'object' ? JSON.stringify(value) : value;
    target.setOptionValueWithSource(key, typeof v === 'number' ? String(v) : v, 'cli');
  }
}

/** The options that commander would fill from process.env: filled from the run's environment instead. */
function applyEnvOptions(cmds: Command[], environ: NodeJS.ProcessEnv): void {
  for (const cmd of cmds) {
    for (const opt of cmd.options) {
      if (!opt.envVar) continue;
      const key = opt.attributeName();
      const source = cmd.getOptionValueSource(key);
      if (source === 'cli') continue;
      if (opt.envVar in environ) {
        // As commander does: a flag takes any value as on, an option the variable's value.
        cmd.setOptionValueWithSource(key, opt.required || opt.optional ? environ[opt.envVar] : true, 'env');
      } else if (source === 'env') {
        // Commander read process.env, which is not this run's environment.
        cmd.setOptionValueWithSource(key, opt.defaultValue, 'default');
      }
    }
  }
}

export function buildProgram(io: RunIO = currentScope().io): Command {
  const program = new Command('dify-ci');
  program
    .description('Continuous delivery for Dify apps: validate, plan, deploy, smoke-test, roll back, notify.')
    .option('--config <file>', 'configuration file (default: dify-ci.yml)')
    .addOption(new Option('--env <name>', 'environment from the configuration').env('DIFY_CI_ENV'))
    .option('--json', 'print the machine-readable result on stdout')
    .option('--result-file <path>', 'where to write the result JSON (default: .dify-ci/results/<command>.json)')
    .addOption(new Option('--verbose', 'debug output').env('DIFY_CI_VERBOSE'))
    .option('--no-color', 'no ANSI colours (also NO_COLOR)')
    .option('-V, --version', 'print the version and the runner source hash')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (str) => io.stdout.write(str),
      writeErr: (str) => io.stderr.write(str),
      // Undefined (not a TTY) lets commander use its default width, as with process.stdout.
      getOutHelpWidth: () => (io.stdout.isTTY ? io.stdout.columns : undefined) as number,
      getErrHelpWidth: () => (io.stderr.isTTY ? io.stderr.columns : undefined) as number,
      outputError: (str, write) => write(str),
    })
    .exitOverride();

  program.hook('preAction', (root, action) => {
    applyEnvOptions([root, action], io.env);
    try {
      applyParamsFile(root, action, io.env, io.cwd);
    } catch (err) {
      // Reported by the action through runCommand, so that Jenkins still gets a result file with the reason.
      (action as Command & { [SETUP_ERROR]?: unknown })[SETUP_ERROR] = err;
    }
    const g = root.opts<GlobalOptions>();
    configureLog({ verbose: Boolean(g.verbose), color: g.color });
  });

  registerCommands(program);
  return program;
}

/**
 * Runs one dify-ci command line (without `node` and the script) with the given I/O and returns the exit code.
 * Everything the run opens is closed before it returns; nothing is written to process.stdout or process.exitCode.
 */
export async function main(args: string[], io: RunIO, hooks: { started?: (run: Scope) => void } = {}): Promise<number> {
  let runIO: RunIO;
  const run = new Scope(() => runIO);
  runIO = { env: io.env, cwd: io.cwd, stdout: maskedStream(io.stdout, run), stderr: maskedStream(io.stderr, run) };
  hooks.started?.(run);
  try {
    return await within(run, () => execute(args, runIO));
  } finally {
    // Closing sockets cannot change the outcome; --verbose shows why one failed.
    for (const e of run.close()) await within(run, async () => log.debug(`closing the run: ${(e as Error)?.message ?? String(e)}`));
  }
}

async function execute(args: string[], io: RunIO): Promise<number> {
  // Fast path: no command parsing, no module loading.
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
    io.stdout.write((await versionLine()) + '\n');
    return ExitCode.OK;
  }
  const program = buildProgram(io);
  if (args.length === 0) {
    io.stderr.write(program.helpInformation());
    return ExitCode.USAGE;
  }
  try {
    if (args.includes('--version') || args.includes('-V')) {
      io.stdout.write((await versionLine()) + '\n');
      return ExitCode.OK;
    }
    await program.parseAsync(args, { from: 'user' });
    return commandExitCode() ?? ExitCode.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') return ExitCode.OK;
      return ExitCode.USAGE;
    }
    reportError(err);
    return (err as { exitCode?: number }).exitCode ?? ExitCode.FAILED;
  }
}
