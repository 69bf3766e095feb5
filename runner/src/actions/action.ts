/**
 * What every action is: options in, a CommandOutcome out (core/command.ts writes the result file, prints, sets the
 * exit code). Only actions take a run context, read the configuration through it, and decide whether to fan out.
 */
import type { CommandOutcome, RunContext } from '../core/command.js';
import type { ResolvedConfig } from '../config/types.js';

/** The run (streams, environment, working directory, artifacts) and its configuration, loaded on first use. */
export type ActionContext = RunContext<ResolvedConfig>;

/** What the command line gave besides the options. */
export interface ActionArgs {
  /** Positional arguments (validate's paths). */
  args: string[];
  /** Where an option's value came from: `cli` (argv or the step's parameters), `env`, `default`, or undefined. */
  source(option: string): string | undefined;
}

export type Action<O> = (ctx: ActionContext, opts: O, cli: ActionArgs) => Promise<CommandOutcome>;
