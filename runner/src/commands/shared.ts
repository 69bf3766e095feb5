/** Small helpers for command registration, so each command file stays a declaration. */
import type { Command } from 'commander';
import { SETUP_ERROR, type GlobalOptions } from '../core/command.js';
import { runAction } from '../actions/index.js';

export function globalsOf(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

/** Runs command `name`'s action (actions/index.ts) when commander has parsed its command line. */
export function action(cmd: Command, name: string): Command {
  return cmd.action(async (...all: unknown[]) => {
    const self = all[all.length - 1] as Command;
    await runAction(name, {
      globals: globalsOf(self),
      opts: self.opts(),
      args: self.args,
      source: (option) => self.getOptionValueSource(option),
      setupError: (self as Command & { [SETUP_ERROR]?: unknown })[SETUP_ERROR],
    });
  });
}
