/**
 * Every command's action, by command name, loaded only when its command runs (so `--version` and `context` start
 * fast), and the one way a command line runs one: runCommand (core/command.ts) with the configuration loader.
 */
import { runCommand, type ConfigLoader, type GlobalOptions } from '../core/command.js';
import type { ResolvedConfig } from '../config/types.js';
import type { Action, ActionArgs } from './action.js';

type Loader = () => Promise<Action<any>>;

const ACTIONS = {
  context: async () => (await import('./context.js')).contextAction,
  config: async () => (await import('./config.js')).configAction,
  validate: async () => (await import('./validate.js')).validateAction,
  emulator: async () => (await import('./emulator.js')).emulatorAction,
  notify: async () => (await import('./notify.js')).notifyAction,
  smoke: async () => (await import('./smoke.js')).smokeAction,
  plan: async () => (await import('./plan.js')).planAction,
  deploy: async () => (await import('./deploy.js')).deployAction,
  rollback: async () => (await import('./rollback.js')).rollbackAction,
  backup: async () => (await import('./backup.js')).backupAction,
  status: async () => (await import('./status.js')).statusAction,
  demo: async () => (await import('./demo.js')).demoAction,
} satisfies Record<string, Loader>;

export type ActionName = keyof typeof ACTIONS;

/** Loaded on a command's first ctx.config(), so commands without a configuration never load it. */
const loadConfig: ConfigLoader<ResolvedConfig> = async (globals, io, found) => (await import('../config/load.js')).loadRunConfig(globals, io, found);

export interface CommandLine extends ActionArgs {
  globals: GlobalOptions;
  opts: Record<string, unknown>;
  /** A problem found before the action could run (bad step parameters): reported like the action's own errors. */
  setupError?: unknown;
}

/** Runs command `name`: the result file, --json, the exit code of the run (core/command.ts). */
export async function runAction(name: ActionName, line: CommandLine): Promise<void> {
  await runCommand(name, line.globals, loadConfig, async (ctx) => {
    if (line.setupError) throw line.setupError;
    const action: Action<any> = await ACTIONS[name]();
    return action(ctx, line.opts, { args: line.args, source: line.source });
  });
}
