import type { Command } from 'commander';
import { usageError } from '../core/errors.js';
import { action } from './shared.js';

interface ContextOpts {
  step?: string;
  overrides?: string;
  branch?: string;
  tag?: string;
  buildNumber?: string;
}

export function registerContext(program: Command): void {
  const cmd = program
    .command('context')
    .description('print (JSON) the credentials Jenkins must bind for a step and environment, and what the pipeline needs to decide')
    .option('--step <step>', 'validate | plan | deploy | rollback | backup | status | smoke | notify | pipeline', 'pipeline')
    .option('--overrides <json>', "difyPipeline's options as a JSON object; they win over pipeline: of the configuration")
    .option('--branch <name>', 'the branch this build checked out (approval policy main-branch)')
    .option('--tag <name>', 'the tag this build deploys, TAG_NAME or DIFY_DEPLOY_TAG (approval policy tags)')
    .option('--build-number <n>', 'the Jenkins build number (approval policy every-nth)');
  action<ContextOpts>(cmd, 'context', async (ctx, opts) => {
    const { STEPS } = await import('../config/credentials.js');
    if (!(STEPS as readonly string[]).includes(opts.step ?? '')) {
      throw usageError(`unknown step '${opts.step}' (one of: ${STEPS.join(', ')})`);
    }
    let overrides: Record<string, unknown> = {};
    if (opts.overrides !== undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(opts.overrides);
      } catch (e) {
        throw usageError(`--overrides must be a JSON object of difyPipeline options: ${(e as Error).message}`);
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw usageError(`--overrides must be a JSON object of difyPipeline options (got ${opts.overrides})`);
      }
      overrides = parsed as Record<string, unknown>;
    }
    let buildNumber: number | undefined;
    if (opts.buildNumber !== undefined && opts.buildNumber !== '') {
      buildNumber = Number(opts.buildNumber);
      if (!Number.isInteger(buildNumber) || buildNumber < 0) throw usageError(`--build-number must be a whole number (got '${opts.buildNumber}')`);
    }
    const { buildContext } = await import('../config/context.js');
    const config = await ctx.config();
    const data = await buildContext(config, opts.step as never, overrides, {
      branch: opts.branch || undefined,
      tag: opts.tag || undefined,
      buildNumber,
    });
    return {
      summary: `${data.credentials.length} credential binding(s) for ${data.step}${data.env ? ` in ${data.env}` : ''}`,
      counts: { credentials: data.credentials.length },
      data: data as unknown as Record<string, unknown>,
      stdout: JSON.stringify(data, null, 2),
    };
  });
}
