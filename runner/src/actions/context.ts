/**
 * `dify-ci context`: what Jenkins must bind for a step and environment, and what the pipeline needs to decide
 * (config/context.ts). An untrusted build whose configuration or tenant file has not come through readTrusted yet
 * gets `{untrusted: true, needsTrusted: [path]}` (exit 0): difyRun fetches it and asks again.
 */
import type { CommandOutcome } from '../core/command.js';
import { usageError } from '../core/errors.js';
import { buildContext } from '../config/context.js';
import { STEPS, type Step } from '../config/credentials.js';
import { NeedsTrustedFile } from '../config/trusted.js';
import type { ResolvedConfig } from '../config/types.js';
import { goodBuildsSince } from '../deploy/promotion.js';
import { versionLine } from '../core/version.js';
import type { ContextData } from '../results/commands.js';
import type { ActionContext } from './action.js';

export interface ContextCliOptions {
  step?: string;
  overrides?: string;
  branch?: string;
  tag?: string;
}

function parseOverrides(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw usageError(`--overrides must be a JSON object of difyPipeline options: ${(e as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw usageError(`--overrides must be a JSON object of difyPipeline options (got ${text})`);
  }
  return parsed as Record<string, unknown>;
}

export async function contextAction(ctx: ActionContext, opts: ContextCliOptions): Promise<CommandOutcome<ContextData>> {
  if (!(STEPS as readonly string[]).includes(opts.step ?? '')) {
    throw usageError(`unknown step '${opts.step}' (one of: ${STEPS.join(', ')})`);
  }
  const overrides = parseOverrides(opts.overrides);
  let config: ResolvedConfig;
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
    opts.step as Step,
    overrides,
    { branch, tag: opts.tag || undefined, goodBuilds: (gated, previous) => goodBuildsSince(history, gated, previous, branch ?? '') },
    ctx.io.env,
  );
  // Which library ran, for the build log (difyPipeline echoes it): `dify-ci 1.2.0 (runner 3f9a…)`.
  const context = { ...data, version: await versionLine() };
  return {
    summary: `${data.credentials.length} credential binding(s) for ${data.step}${data.env ? ` in ${data.env}` : ''}${data.untrusted ? ' (untrusted build)' : ''}`,
    counts: { credentials: data.credentials.length },
    data: context,
    stdout: JSON.stringify(context, null, 2),
  };
}
