/**
 * Every command, declared from its spec (spec.ts, generated from docs/steps.yml: names, flags, help, defaults,
 * choices, environment variables) and run through its action (actions/index.ts) when commander has parsed it.
 */
import { Option, type Command } from 'commander';
import { SETUP_ERROR, type GlobalOptions } from '../core/command.js';
import { runAction, type ActionName } from '../actions/index.js';
import { COMMANDS, type CommandName, type CommandSpec } from './spec.js';

/** Compiles only while every declared command has an action and every action a declaration. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const declaredCommandsHaveActions: Same<CommandName, ActionName> = true;
void declaredCommandsHaveActions;

export function registerCommands(program: Command): void {
  for (const spec of COMMANDS) declare(program, spec);
}

function declare(program: Command, spec: CommandSpec & { name: ActionName }): void {
  const cmd = program.command(spec.name).description(spec.description);
  for (const a of spec.arguments) cmd.argument(a.name, a.help);
  for (const o of spec.options) {
    const option = new Option(o.flag, o.help);
    if (o.default !== undefined) option.default(o.default);
    if (o.choices) option.choices(o.choices);
    if (o.env) option.env(o.env);
    cmd.addOption(option);
  }
  cmd.action(async (...all: unknown[]) => {
    const self = all[all.length - 1] as Command;
    await runAction(spec.name, {
      globals: self.optsWithGlobals() as GlobalOptions,
      opts: self.opts(),
      args: self.args,
      source: (option) => self.getOptionValueSource(option),
      setupError: (self as Command & { [SETUP_ERROR]?: unknown })[SETUP_ERROR],
    });
  });
}
