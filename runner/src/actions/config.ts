/** `dify-ci config`: the fully resolved configuration (secrets shown as ***), as YAML or JSON. */
import { stringify } from 'yaml';
import type { CommandOutcome } from '../core/command.js';
import { describeConfig } from '../config/describe.js';
import type { ConfigData } from '../results/commands.js';
import type { ActionContext } from './action.js';

export interface ConfigCliOptions {
  format: string;
}

export async function configAction(ctx: ActionContext, opts: ConfigCliOptions): Promise<CommandOutcome<ConfigData>> {
  const config = await ctx.config();
  const view = describeConfig(config);
  return {
    summary: `configuration ${config.file} is valid${config.env ? ` (environment ${config.env.key})` : ''}`,
    data: view,
    stdout: opts.format === 'json' ? JSON.stringify(view, null, 2) : stringify(view, { lineWidth: 0 }),
  };
}
