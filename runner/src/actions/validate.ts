/** `dify-ci validate`: options → files → findings → report (stdout or --output) → outcome and exit code. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { CommandOutcome } from '../core/command.js';
import { ExitCode, usageError } from '../core/errors.js';
import { log, useColor } from '../core/log.js';
import { mask } from '../core/mask.js';
import type { ResolvedConfig } from '../config/types.js';
import { VERSION } from '../core/version.js';
import { expandPaths } from '../dsl/files.js';
import { formatJson, formatJunit, formatSarif, type ReportMeta } from '../dsl/report/machine.js';
import { formatText } from '../dsl/report/text.js';
import type { ValidateOptions } from '../dsl/types.js';
import { totals, validateFile, type FileReport } from '../dsl/validate.js';
import { DEFAULT_TARGET_DSL_VERSION, parseDslVersion } from '../dsl/versions.js';
import type { ValidateData } from '../results/commands.js';
import type { ActionArgs, ActionContext } from './action.js';

export interface ValidateCliOptions {
  format?: string;
  output?: string;
  strict?: boolean;
  targetDslVersion?: string;
}

const FORMATS = ['text', 'json', 'junit', 'sarif'] as const;
type Format = (typeof FORMATS)[number];

const stripAnsi = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '');

/** The config when there is one: required without PATHs, optional (but checked) with them. */
async function optionalConfig(ctx: ActionContext, needed: boolean): Promise<ResolvedConfig | undefined> {
  if (ctx.globals.config) return ctx.config();
  const { findConfigFile } = await import('../config/resolve.js');
  const { configFileExists, trustedSource } = await import('../config/trusted.js');
  const file = findConfigFile(undefined, ctx.io.cwd, ctx.io.env);
  if (configFileExists(file, trustedSource(ctx.io.env, ctx.io.cwd))) return ctx.config(); // untrusted build: its readTrusted copy
  if (needed) throw usageError(`nothing to validate: no PATH given and no configuration (${file}); give DSL files or directories, or list apps in dify-ci.yml`);
  return undefined;
}

export async function validateAction(ctx: ActionContext, opts: ValidateCliOptions, { args }: ActionArgs): Promise<CommandOutcome<ValidateData>> {
  const format = (opts.format ?? 'text') as Format;
  if (!FORMATS.includes(format)) throw usageError(`unknown --format '${opts.format}' (one of: ${FORMATS.join(', ')})`);
  if (opts.targetDslVersion !== undefined && !parseDslVersion(opts.targetDslVersion)) {
    throw usageError(`--target-dsl-version '${opts.targetDslVersion}' is not a version (x.y.z, e.g. 0.6.0)`);
  }
  const config = await optionalConfig(ctx, args.length === 0);
  let files: string[];
  if (args.length > 0) files = expandPaths(args, ctx.io.cwd);
  else {
    files = Object.values(config!.apps).map((a) => a.dsl);
    if (files.length === 0) throw usageError(`no apps in ${config!.file}: name app DSL files under apps:, or give PATHs to validate`);
    for (const f of files) if (!existsSync(f)) throw usageError(`${f}: DSL file named in ${config!.file} does not exist`);
  }
  const target = opts.targetDslVersion ?? config?.validate.targetDslVersion ?? config?.env?.dslVersion ?? DEFAULT_TARGET_DSL_VERSION;
  if (!parseDslVersion(target)) throw usageError(`target DSL version '${target}' is not a version (x.y.z)`);
  const strict = Boolean(opts.strict || config?.validate.strict);
  const options: ValidateOptions = { targetDslVersion: target, policy: config?.validate.policy };

  const reports: FileReport[] = files.map((f) => validateFile(f, options));
  const t = totals(reports);
  const failed = t.errors > 0 || (strict && t.warnings > 0);
  const meta: ReportMeta = { strict, targetDslVersion: target, toolVersion: VERSION };

  const text = () => formatText(reports, { strict });
  const report = format === 'json' ? formatJson(reports, meta) : format === 'junit' ? formatJunit(reports, meta) : format === 'sarif' ? formatSarif(reports, meta) : text();

  let stdout: string | undefined;
  const artifacts = [];
  if (opts.output) {
    const out = resolve(ctx.io.cwd, opts.output);
    try {
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(out, mask(stripAnsi(report)) + '\n');
    } catch (e) {
      throw usageError(`cannot write --output ${opts.output}: ${(e as Error).message}`);
    }
    artifacts.push({ path: out, kind: `validate-${format}` });
    // The file is for machines (or later); the console still shows people what is wrong.
    ctx.io.stderr.write(mask(text()) + '\n');
  } else {
    stdout = format === 'text' && !(useColor() && ctx.io.stdout.isTTY) && !ctx.io.env.FORCE_COLOR ? stripAnsi(report) : report;
  }

  const summary = `${t.files} file${t.files === 1 ? '' : 's'} validated: ${t.errors} error${t.errors === 1 ? '' : 's'}, ${t.warnings} warning${t.warnings === 1 ? '' : 's'}${strict && t.warnings && !t.errors ? ' (--strict)' : ''}`;
  if (opts.output || format !== 'text') (failed ? log.error : log.ok)(summary);
  return {
    status: failed ? 'failed' : 'success',
    summary,
    exitCode: failed ? ExitCode.FAILED : ExitCode.OK,
    counts: { files: t.files, errors: t.errors, warnings: t.warnings, infos: t.infos },
    artifacts,
    data: {
      targetDslVersion: target,
      strict,
      files: reports.map((r) => ({
        file: r.file,
        mode: r.mode ?? null,
        version: r.version ?? null,
        errors: r.findings.filter((f) => f.severity === 'error').length,
        warnings: r.findings.filter((f) => f.severity === 'warning').length,
        findings: r.findings.filter((f) => f.severity !== 'info').slice(0, 200),
      })),
    },
    stdout,
  };
}
