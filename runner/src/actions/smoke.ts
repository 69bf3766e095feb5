/**
 * `dify-ci smoke`: targets from the configuration, from every tenant (fan-out), or an ad-hoc --url; runSmoke; the
 * outcome for the result file. `--wave K` is the gate of a gray release's wave instead (fanout/gate.ts).
 */
import { basename, extname, join, resolve } from 'node:path';
import type { CommandOutcome } from '../core/command.js';
import { DifyCiError, usageError } from '../core/errors.js';
import { log } from '../core/log.js';
import { requireEnv } from '../config/resolve.js';
import type { ResolvedConfig, EnvironmentConfig } from '../config/types.js';
import type { ResponseMode } from '../smoke/types.js';
import { runSmoke, type SmokeOptions, type SmokeTarget } from '../smoke/runner.js';
import { renderMarkdown } from '../smoke/reports/markdown.js';
import { formatTable } from '../fanout/progress.js';
import { gateWave } from '../fanout/gate.js';
import { parseWave } from '../fanout/waves.js';
import { tenantSmokeTargets } from '../fanout/smoke.js';
import { chooseTenants, fansOut } from '../fanout/targets.js';
import { recordSmokeReports } from './smoke-artifacts.js';
import type { SmokeData } from '../results/commands.js';
import type { ActionContext } from './action.js';

export interface SmokeCliOptions {
  app?: string;
  suite?: string;
  concurrency?: string;
  junit?: string;
  reportDir?: string;
  filter?: string;
  repeat?: string;
  passRate?: string;
  mode?: string;
  timeoutMs?: string;
  user?: string;
  url?: string;
  apiKeyEnv?: string;
  tenants?: string;
  tenant?: string;
  shard?: string;
  wave?: string;
}

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

function configTargets(config: ResolvedConfig, env: EnvironmentConfig, opts: SmokeCliOptions, cwd: string): SmokeTarget[] {
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
    const suite = opts.suite ? resolve(cwd, opts.suite) : a.tests;
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

export async function smokeAction(ctx: ActionContext, opts: SmokeCliOptions): Promise<CommandOutcome<SmokeData>> {
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
    const apiKey = ctx.io.env[opts.apiKeyEnv];
    if (!apiKey) throw new DifyCiError(`${opts.apiKeyEnv} is not set (it must hold the app's service API key)`, 'config');
    const label = ctx.globals.env ?? 'adhoc';
    const app = opts.app ?? basename(opts.suite, extname(opts.suite));
    targets = [{ app, env: label, apiUrl: opts.url.replace(/\/+$/, ''), apiKey, suite: resolve(ctx.io.cwd, opts.suite) }];
    runOpts.reportDir = opts.reportDir ?? '.dify-ci/reports/smoke';
    runOpts.title = `Smoke tests — ${app} (${label})`;
  } else {
    config = await ctx.config();
    env = requireEnv(config);
    if (opts.apiKeyEnv && !opts.app) throw usageError('--api-key-env outside ad-hoc mode needs --app (which app the key belongs to)');
    if (opts.wave !== undefined) {
      if (!fansOut(config, env, opts)) throw usageError(`--wave needs an environment that fans out over tenants`);
      const smoke = { concurrency: runOpts.concurrency, repeat: runOpts.repeat, timeoutMs: runOpts.timeoutMs, passRate: runOpts.passRate, mode: runOpts.mode, filter: runOpts.filter, user: runOpts.user, junit: runOpts.junit };
      return smokeWaveGate(ctx, config, env, opts, smoke);
    }
    targets = fansOut(config, env, opts) ? await tenantSmokeTargets(config, env, opts) : configTargets(config, env, opts, ctx.io.cwd);
    if (opts.apiKeyEnv) for (const t of targets) t.apiKeyEnv = opts.apiKeyEnv;
    runOpts.reportDir = opts.reportDir ?? join(config.paths.reports, 'smoke');
  }

  const run = await runSmoke(config, env, targets, runOpts);
  recordSmokeReports(ctx, run.reports);
  const d = run.data;
  const where = env?.key ?? targets[0]!.env;
  const summary = `smoke ${where}: ${d.totals.runsPassed}/${d.totals.runs - d.totals.skipped} run(s) passed (${(run.passRate * 100).toFixed(1)}%), gate ${run.passed ? 'passed' : 'FAILED'}`;
  if (run.passed) log.ok(summary);
  else log.error(summary);
  if (run.reports.html) log.info(`report: ${run.reports.html}`);
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
}

/**
 * `smoke --wave K`: the gate over wave K's new targets after every shard deployed them (rollout.gate; exit 1
 * when it fails). Unsharded: the gate judges the whole wave.
 */
async function smokeWaveGate(ctx: ActionContext, config: ResolvedConfig, env: EnvironmentConfig, opts: SmokeCliOptions, smoke: Partial<SmokeOptions>): Promise<CommandOutcome<SmokeData>> {
  const wave = parseWave(opts.wave!);
  if (opts.shard) throw usageError('smoke --wave gates the whole wave (every shard\'s targets): drop --shard');
  if (opts.suite) throw usageError('smoke --wave runs each app\'s own suite (apps.<app>.tests): drop --suite');
  if (opts.apiKeyEnv) throw usageError('smoke --wave looks up each tenant\'s app keys: drop --api-key-env');
  const { selected } = chooseTenants(config, opts);
  const report = await gateWave(config, env, { apps: opts.app, selected, wave, reportDir: opts.reportDir, smoke });
  recordSmokeReports(ctx, report.smokeReports);
  const g = report.gate;
  const failed = report.targets.filter((t) => t.smoke && !t.smoke.passed);
  const w = report.wave;
  const summary = `gate of ${env.key} wave ${w.index}/${w.of} (${w.spec}): ${g.passed ? 'passed' : 'FAILED'}, ${g.failedTargets} failed of ${report.targets.length} target(s) in ${report.tenants.length} tenant(s)${g.passRate !== null ? `, smoke pass rate ${(g.passRate * 100).toFixed(1)}%` : ''}${g.passed ? '' : ` — ${g.reasons.join('; ')}`}`;
  const table = failed.length
    ? formatTable(failed.map((t) => ({ target: `${t.tenant}/${t.app}`, status: 'failed', reason: t.smoke!.error ?? t.smoke!.firstFailure ?? 'smoke failed' })))
    : '';
  return {
    status: g.passed ? 'success' : 'failed',
    summary,
    counts: { targets: report.targets.length, failed: g.failedTargets },
    data: { ...report, fanOut: true },
    stdout: table || `all ${report.targets.length} target(s) of wave ${w.index} passed`,
  };
}
