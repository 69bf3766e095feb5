import type { Command } from 'commander';
import { action } from './shared.js';

export function registerConfig(program: Command): void {
  const cmd = program
    .command('config')
    .description('print the fully resolved configuration (secrets shown as ***)')
    .option('--format <format>', 'yaml | json', 'yaml');
  action<{ format: string }>(cmd, 'config', async (ctx, opts) => {
    const config = await ctx.config();
    const { describeConfig } = await import('../config/describe.js');
    const view = describeConfig(config);
    const { stringify } = await import('yaml');
    return {
      summary: `configuration ${config.file} is valid${config.env ? ` (environment ${config.env.key})` : ''}`,
      data: view,
      stdout: opts.format === 'json' ? JSON.stringify(view, null, 2) : stringify(view, { lineWidth: 0 }),
    };
  });
}
