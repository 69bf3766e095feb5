/** `dify-ci smoke`: targets from the configuration (or an ad-hoc --url), runSmoke, the outcome for the result file. */
import { basename, extname, join, resolve } from 'node:path';
import type { CommandOutcome } from '../core/command.js';
import type { ConfigContext as RunContext } from '../config/load.js';
import { DifyCiError, usageError } from '../core/errors.js';
import { log } from '../core/log.js';
import type { SmokeCliOptions } from '../commands/smoke.js';
import type { ResolvedConfig, EnvironmentConfig } from '../config/types.js';
import type { ResponseMode } from './types.js';
import { runSmoke, type SmokeOptions, type SmokeTarget } from './runner.js';
import { recordSmokeReports } from './artifacts.js';
import { runCwd, runEnv } from '../core/run.js';

function int(v: string | undefined, name: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw usageError(`${name} must be a whole number ≥ ${min}, got '${v}'`);
  return n;
}

function rate(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v.endsWith('%') ? Number(v.slice(0, -1)) / 100 : v);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw usageError(`--pass-rate must be between 0 and 1 (or 0%..100%), got '${v}'`);
  return n;
}

function mode(v: string | undefined): ResponseMode | undefined {
  if (v === undefined) return undefined;
  if (v !== 'streaming' && v !== 'blocking') throw usageError(`--mode must be streaming or blocking, got '${v}'`);
  return v;
}

function configTargets(config: ResolvedConfig, env: EnvironmentConfig, opts: SmokeCliOptions): SmokeTarget[] {
  const apps = Object.values(config.apps).filter((a) => !opts.app || opts.app.split(',').map((s) => s.trim()).includes(a.key));
  if (opts.app) {
    for (const k of opts.app.split(',').map((s) => s.trim())) {
      if (!config.apps[k]) throw usageError(`unknown app '${k}' (known: ${Object.keys(config.apps).join(', ')})`);
    }
  }
  if (opts.suite && apps.length !== 1) throw usageError(`--suite needs a single app: add --app (apps: ${apps.map((a) => a.key).join(', ')})`);
  const targets: SmokeTarget[] = [];
  for (const a of apps) {
    if (env.apps[a.key]?.enabled === false) {
      log.info(`${a.key}: disabled in ${env.key}, skipped`);
      continue;
    }
    const suite = opts.suite ? resolve(runCwd(), opts.suite) : a.tests;
    if (!suite) {
      if (opts.app) throw usageError(`app '${a.key}' has no smoke suite: set apps.${a.key}.tests in ${config.file} or pass --suite`);
      log.info(`${a.key}: no smoke suite (apps.${a.key}.tests), skipped`);
      continue;
    }
    targets.push({ app: a.key, env: env.key, apiUrl: env.apiUrl, suite });
  }
  if (targets.length === 0) throw usageError(`nothing to test in ${env.key}: no app has a smoke suite (set apps.<app>.tests)`);
  return targets;
}

export async function smokeCommand(ctx: RunContext, opts: SmokeCliOptions): Promise<CommandOutcome> {
  const runOpts: SmokeOptions = {
    concurrency: int(opts.concurrency, '--concurrency', 1),
    repeat: int(opts.repeat, '--repeat', 1),
    timeoutMs: int(opts.timeoutMs, '--timeout-ms', 100),
    passRate: rate(opts.passRate),
    mode: mode(opts.mode),
    filter: opts.filter,
    user: opts.user,
    junit: opts.junit,
  };
  let config: ResolvedConfig | undefined;
  let env: EnvironmentConfig | undefined;
  let targets: SmokeTarget[];
  if (opts.url) {
    // Ad-hoc: one app, no configuration file.
    if (opts.wave !== undefined) throw usageError('--wave is the gate of a multi-tenant gray release; it does not go with --url');
    if (!opts.suite) throw usageError('--url needs --suite <file>');
    if (!opts.apiKeyEnv) throw usageError('--url needs --api-key-env <VAR> (the variable holding the app API key)');
    const apiKey = runEnv()[opts.apiKeyEnv];
    if (!apiKey) throw new DifyCiError(`${opts.apiKeyEnv} is not set (it must hold the app's service API key)`, 'config');
    const label = ctx.globals.env ?? 'adhoc';
    const app = opts.app ?? basename(opts.suite, extname(opts.suite));
    targets = [{ app, env: label, apiUrl: opts.url.replace(/\/+$/, ''), apiKey, suite: resolve(runCwd(), opts.suite) }];
    runOpts.reportDir = opts.reportDir ?? '.dify-ci/reports/smoke';
    runOpts.title = `Smoke tests — ${app} (${label})`;
  } else {
    config = await ctx.config();
    const { requireEnv } = await import('../config/resolve.js');
    env = requireEnv(config);
    if (opts.apiKeyEnv && !opts.app) throw usageError('--api-key-env outside ad-hoc mode needs --app (which app the key belongs to)');
    const tenants = await import('../tenants/cli.js');
    if (opts.wave !== undefined) {
      if (!tenants.fansOut(config, env, opts)) throw usageError(`--wave needs an environment that fans out over tenants`);
      const smoke = { concurrency: runOpts.concurrency, repeat: runOpts.repeat, timeoutMs: runOpts.timeoutMs, passRate: runOpts.passRate, mode: runOpts.mode, filter: runOpts.filter, user: runOpts.user, junit: runOpts.junit };
      return tenants.smokeWaveGate(ctx, config, env, opts, smoke);
    }
    targets = tenants.fansOut(config, env, opts) ? await tenants.tenantSmokeTargets(config, env, opts) : configTargets(config, env, opts);
    if (opts.apiKeyEnv) for (const t of targets) t.apiKeyEnv = opts.apiKeyEnv;
    runOpts.reportDir = opts.reportDir ?? join(config.paths.reports, 'smoke');
  }

  try {
    const run = await runSmoke(config, env, targets, runOpts);
    recordSmokeReports(ctx, run.reports);
    const d = run.data as { totals: { runs: number; runsPassed: number; runsFailed: number; skipped: number; casesPassed: number; casesFailed: number; retries: number } };
    const where = env?.key ?? targets[0]!.env;
    const summary = `smoke ${where}: ${d.totals.runsPassed}/${d.totals.runs - d.totals.skipped} run(s) passed (${(run.passRate * 100).toFixed(1)}%), gate ${run.passed ? 'passed' : 'FAILED'}`;
    if (run.passed) log.ok(summary);
    else log.error(summary);
    if (run.reports.html) log.info(`report: ${run.reports.html}`);
    const { renderMarkdown } = await import('./reports/markdown.js');
    return {
      status: run.passed ? 'success' : 'failed',
      summary,
      counts: {
        targets: targets.length,
        runs: d.totals.runs,
        passed: d.totals.runsPassed,
        failed: d.totals.runsFailed,
        skipped: d.totals.skipped,
        casesPassed: d.totals.casesPassed,
        casesFailed: d.totals.casesFailed,
        retries: d.totals.retries,
      },
      data: { ...run.data, unstableOnFailure: env?.smoke.unstableOnFailure ?? false },
      stdout: renderMarkdown(run),
    };
  } finally {
    if (config) {
      const { closeConsoles } = await import('../dify/console.js');
      closeConsoles();
    }
  }
}
