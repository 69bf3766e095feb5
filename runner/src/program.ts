/**
 * The commander program. Only commander and the core load eagerly; each command loads its own modules when it
 * runs, so `--version` and `context` start about as fast as node itself.
 */
import { Command, CommanderError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { ExitCode, usageError } from './core/errors.js';
import { configureLog, log } from './core/log.js';
import { installOutputMasking } from './core/mask.js';
import { reportError, SETUP_ERROR, type GlobalOptions } from './core/command.js';
import { versionLine } from './version.js';
import { registerCommands } from './commands/index.js';

/**
 * Jenkins steps pass their parameters as a JSON object in the file named by DIFY_CI_PARAMS_FILE (never on argv).
 * Keys are the long option names in camelCase; they act like flags, and a flag given on argv still wins.
 */
export function applyParamsFile(program: Command, action: Command, environ: NodeJS.ProcessEnv = process.env): void {
  const file = environ.DIFY_CI_PARAMS_FILE;
  if (!file) return;
  let params: unknown;
  try {
    params = JSON.parse(readFileSync(file, 'utf8'));
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

export function buildProgram(): Command {
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
    .configureOutput({ outputError: (str, write) => write(str) })
    .exitOverride();

  program.hook('preAction', (root, action) => {
    try {
      applyParamsFile(root, action);
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

export async function main(argv: string[] = process.argv): Promise<number> {
  installOutputMasking();
  // Windows agents start node from the temp dir (a workspace file must never be what cmd.exe runs); the runner
  // works in the workspace all the same.
  const workspace = process.env.DIFY_CI_WORKSPACE;
  if (workspace) {
    try {
      process.chdir(workspace);
    } catch (e) {
      log.error(`DIFY_CI_WORKSPACE: cannot enter ${workspace}: ${(e as Error).message}`);
      return ExitCode.USAGE;
    }
  }
  const args = argv.slice(2);
  // Fast path: no command parsing, no module loading.
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
    process.stdout.write((await versionLine()) + '\n');
    return ExitCode.OK;
  }
  const program = buildProgram();
  if (args.length === 0) {
    process.stderr.write(program.helpInformation());
    return ExitCode.USAGE;
  }
  try {
    if (args.includes('--version') || args.includes('-V')) {
      process.stdout.write((await versionLine()) + '\n');
      return ExitCode.OK;
    }
    await program.parseAsync(argv);
    return (process.exitCode as number | undefined) ?? ExitCode.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') return ExitCode.OK;
      return ExitCode.USAGE;
    }
    reportError(err);
    return (err as { exitCode?: number }).exitCode ?? ExitCode.FAILED;
  }
}

