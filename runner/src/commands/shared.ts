/** Small helpers for command registration, so each command file stays a declaration. */
import type { Command } from 'commander';
import { runCommand, SETUP_ERROR, type CommandOutcome, type ConfigLoader, type GlobalOptions } from '../core/command.js';
import type { ConfigContext } from '../config/load.js';
import type { ResolvedConfig } from '../config/types.js';

export function globalsOf(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

/** Loaded on a command's first ctx.config(), so commands without a configuration start fast. */
const loadConfig: ConfigLoader<ResolvedConfig> = async (globals, io, found) => (await import('../config/load.js')).loadRunConfig(globals, io, found);

/** Wires a commander action to runCommand: `action(cmd, 'plan', (ctx, opts) => …)`. */
export function action<O>(cmd: Command, name: string, fn: (ctx: ConfigContext, opts: O, args: string[]) => Promise<CommandOutcome>): Command {
  return cmd.action(async (...all: unknown[]) => {
    const self = all[all.length - 1] as Command;
    const args = self.args;
    const setupError = (self as Command & { [SETUP_ERROR]?: unknown })[SETUP_ERROR];
    await runCommand(name, globalsOf(self), loadConfig, async (ctx) => {
      if (setupError) throw setupError;
      return fn(ctx, self.opts() as O, args);
    });
  });
}

export function intOption(value: string, name = 'value'): number {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new Error(`${name} must be a whole number, got '${value}'`);
  return n;
}
