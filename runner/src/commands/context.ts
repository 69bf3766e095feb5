import type { Command } from 'commander';
import type { CommandOutcome } from '../core/command.js';
import type { ConfigContext as RunContext } from '../config/load.js';
import { usageError } from '../core/errors.js';
import { action } from './shared.js';

export interface ContextOpts {
  step?: string;
  overrides?: string;
  branch?: string;
  tag?: string;
}

export function registerContext(program: Command): void {
  const cmd = program
    .command('context')
    .description('print (JSON) the credentials Jenkins must bind for a step and environment, and what the pipeline needs to decide')
    .option('--step <step>', 'validate | plan | deploy | rollback | backup | status | smoke | notify | pipeline', 'pipeline')
    .option('--overrides <json>', "difyPipeline's options as a JSON object; they win over pipeline: of the configuration")
    .option('--branch <name>', 'the branch this build checked out (approval policies main-branch, every-nth)')
    .option('--tag <name>', 'the tag this build deploys, TAG_NAME or DIFY_DEPLOY_TAG (approval policies tags, every-nth)');
  action<ContextOpts>(cmd, 'context', (ctx, opts) => runContext(ctx, opts));
}

/**
 * The context of a step. An untrusted build whose configuration or tenant file has not come through readTrusted
 * yet gets `{untrusted: true, needsTrusted: [path]}` (exit 0): difyRun fetches it and asks again.
 */
export async function runContext(ctx: RunContext, opts: ContextOpts, environ: NodeJS.ProcessEnv = process.env): Promise<CommandOutcome> {
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
  const { buildContext } = await import('../config/context.js');
  const { NeedsTrustedFile } = await import('../config/trusted.js');
  const { goodBuildsSince } = await import('../deploy/promotion.js');
  let config;
  try {
    config = await ctx.config();
  } catch (e) {
    if (!(e instanceof NeedsTrustedFile)) throw e;
    return { summary: `untrusted build: ${e.path} must come through readTrusted`, data: { untrusted: true, needsTrusted: [e.path] } };
  }
  const branch = opts.branch || undefined;
  const history = config.paths.history;
  const data = await buildContext(
    config,
    opts.step as never,
    overrides,
    { branch, tag: opts.tag || undefined, goodBuilds: (gated, previous) => goodBuildsSince(history, gated, previous, branch ?? '') },
    environ,
  );
  // Which library ran, for the build log (difyPipeline echoes it): `dify-ci 1.2.0 (runner 3f9a…)`.
  const { versionLine } = await import('../version.js');
  Object.assign(data, { version: await versionLine() });
  return {
    summary: `${data.credentials.length} credential binding(s) for ${data.step}${data.env ? ` in ${data.env}` : ''}${data.untrusted ? ' (untrusted build)' : ''}`,
    counts: { credentials: data.credentials.length },
    data: data as unknown as Record<string, unknown>,
    stdout: JSON.stringify(data, null, 2),
  };
}
