import type { Command } from 'commander';
import { usageError } from '../core/errors.js';
import { action } from './shared.js';

interface ContextOpts {
  step?: string;
}

export function registerContext(program: Command): void {
  const cmd = program
    .command('context')
    .description('print (JSON) the credentials Jenkins must bind for a step and environment, and what the pipeline needs to decide')
    .option('--step <step>', 'validate | plan | deploy | rollback | backup | status | smoke | notify | pipeline', 'pipeline');
  action<ContextOpts>(cmd, 'context', async (ctx, opts) => {
    const { STEPS } = await import('../config/credentials.js');
    if (!(STEPS as readonly string[]).includes(opts.step ?? '')) {
      throw usageError(`unknown step '${opts.step}' (one of: ${STEPS.join(', ')})`);
    }
    const { buildContext } = await import('../config/context.js');
    const config = await ctx.config();
    const data = await buildContext(config, opts.step as never);
    return {
      summary: `${data.credentials.length} credential binding(s) for ${data.step}${data.env ? ` in ${data.env}` : ''}`,
      counts: { credentials: data.credentials.length },
      data: data as unknown as Record<string, unknown>,
      stdout: JSON.stringify(data, null, 2),
    };
  });
}
