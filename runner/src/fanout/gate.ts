/**
 * The gate of a wave: its deploy failures, then the smoke suites of what is live now, against rollout.gate
 * (`maxFailedTargets`, `minPassRate`). Inside a rollout after each wave (rollout.ts); on its own for
 * `smoke --wave K`, after every shard deployed the wave (gateWave).
 */
import { join } from 'node:path';
import { errorMessage } from '../core/errors.js';
import { log } from '../core/log.js';
import type { EnvironmentConfig, ResolvedConfig, TenantConfig } from '../config/types.js';
import { rolloutTarget, type RolloutTarget, type WaveGate, type WaveGateReport } from '../results/rollout.js';
import type { SmokeReports } from '../results/smoke.js';
import { runSmoke, type SmokeOptions } from '../smoke/runner.js';
import { loginAll, tenantLanes, type LoginFailures } from './lanes.js';
import { keyedSmokeTargets } from './smoke.js';
import { tenantTargets, type TenantTarget } from './targets.js';
import { engineFor, type EngineFactory } from './units.js';
import { checkWave, wavesInFileOrder } from './waves.js';

/** A gate with nothing judged yet, from the environment's rollout.gate. */
export function newGate(env: EnvironmentConfig): WaveGate {
  const g = env.rollout.gate;
  return { smoke: g.smoke, passed: true, failedTargets: 0, maxFailedTargets: g.maxFailedTargets, passRate: null, minPassRate: g.minPassRate, reasons: [] };
}

/** Fills the gate's verdict from the failed targets and its pass rate; returns the verdict line. */
export function judge(gate: WaveGate, wave: number, failedTargets: number): string {
  gate.failedTargets = failedTargets;
  if (gate.failedTargets > gate.maxFailedTargets) gate.reasons.push(`${gate.failedTargets} failed target(s) (at most ${gate.maxFailedTargets} allowed)`);
  if (gate.passRate !== null && gate.passRate < gate.minPassRate) gate.reasons.push(`smoke pass rate ${pct(gate.passRate)} below ${pct(gate.minPassRate)}`);
  gate.passed = gate.reasons.length === 0;
  return `wave ${wave} gate ${gate.passed ? 'passed' : 'FAILED'}: ${gate.failedTargets} failed target(s)${gate.passRate !== null ? `, smoke pass rate ${pct(gate.passRate)}` : ''}${gate.passed ? '' : ` — ${gate.reasons.join('; ')}`}`;
}

/**
 * `smoke --wave K`: the rollout gate over the targets wave K added (every shard's), after the pipeline deployed
 * them — the same smoke and the same verdict (rollout.gate) as the gate inside an unsharded rollout, without its
 * deploy failures (a failed deploy has already failed its shard). No rollback: the pipeline rolls back.
 */
export async function gateWave(
  config: ResolvedConfig,
  env: EnvironmentConfig,
  opts: { apps?: string; selected: TenantConfig[]; wave: number; environ?: NodeJS.ProcessEnv; reportDir?: string; smoke?: Partial<SmokeOptions> },
): Promise<WaveGateReport> {
  const r = env.rollout;
  const planned = wavesInFileOrder(opts.selected, r.waves);
  const k = checkWave(env, opts.wave, planned.length, opts.selected.length);
  const w = planned[k - 1]!;
  const members = w.members;
  const lanes = tenantLanes(env, members, opts.environ);
  const targets = tenantTargets(config, env, opts.apps, lanes);
  const results = targets.map((t) => rolloutTarget(t.target, k, 'unchanged'));
  const gate = newGate(env);
  let reports: SmokeReports = {};
  log.step(`gate of wave ${k}/${planned.length} (${w.spec}) in ${env.key}: ${members.length} tenant(s), ${targets.length} target(s)`);
  if (!gate.smoke) log.warn('rollout.gate.smoke is false: the gate runs no smoke tests (the deploys already failed the build if any failed)');
  else if (targets.length) {
    const loginFailures = await loginAll(lanes);
    const smoked = await smokeWave(config, env, targets, results, {
      w: k,
      reportDir: opts.reportDir ?? join(config.paths.reports, 'rollout', env.key, `wave-${k}`),
      environ: opts.environ,
      loginFailures,
      engine: engineFor(env),
      smoke: opts.smoke,
    });
    reports = smoked.reports;
    gate.passRate = smoked.passRate;
    if (smoked.error) gate.reasons.push(`smoke could not run: ${smoked.error}`);
  }
  const verdict = judge(gate, k, results.filter((x) => x.smoke && !x.smoke.passed).length);
  if (gate.passed) log.ok(verdict);
  else log.error(verdict);
  return {
    env: env.key,
    wave: { index: k, of: planned.length, spec: w.spec },
    status: gate.passed ? 'passed' : 'failed',
    tenants: members.map((t) => t.name),
    gate,
    targets: results.map((x) => ({ target: x.target, tenant: x.tenant, app: x.app, smoke: x.smoke })),
    smokeReports: reports,
  };
}

/**
 * Smoke of one wave: API keys per tenant through the lanes (a key lookup is a console call in the tenant's
 * workspace), then one runSmoke over every live target that has a suite. Fills `smoke` on the results.
 */
export async function smokeWave(
  config: ResolvedConfig,
  env: EnvironmentConfig,
  targets: TenantTarget[],
  results: RolloutTarget[],
  ctx: { w: number; reportDir: string; environ?: NodeJS.ProcessEnv; loginFailures: LoginFailures; engine: EngineFactory; smoke?: Partial<SmokeOptions> },
): Promise<{ passRate: number | null; reports: SmokeReports; error?: string }> {
  const byId = new Map(results.map((x) => [x.target, x]));
  const live = targets.filter((t) => t.target.app.tests && ['deployed', 'unchanged'].includes(byId.get(t.target.id)!.status));
  if (live.length === 0) {
    log.warn(`wave ${ctx.w}: no smoke suite for the wave's apps (apps.<app>.tests); the gate counts deploy failures only`);
    return { passRate: null, reports: {} };
  }
  const smokeTargets = await keyedSmokeTargets(env, live, (t) => ({
    config,
    appId: byId.get(t.target.id)!.appId ?? undefined,
    environ: ctx.environ,
    loginFailures: ctx.loginFailures,
    engine: ctx.engine,
  }));
  log.step(`wave ${ctx.w}: smoke tests on ${smokeTargets.length} target(s)`);
  let passRate: number | null = null;
  let reports: SmokeReports = {};
  let error: string | undefined;
  if (smokeTargets.length) {
    try {
      const extra = Object.fromEntries(Object.entries(ctx.smoke ?? {}).filter(([, v]) => v !== undefined));
      const run = await runSmoke(config, env, smokeTargets, { progress: false, reportDir: ctx.reportDir, title: `Smoke tests — ${env.key} wave ${ctx.w}`, ...extra });
      reports = run.reports;
      const setupFailed = run.targets.filter((t) => t.error).length;
      const ran = run.targets.flatMap((t) => t.results.filter((x) => !x.skipped));
      // Keys that could not be had count as failed targets, not as runs.
      passRate = ran.length ? run.passRate : setupFailed ? 0 : 1;
      for (const tr of run.targets) {
        const res = byId.get(`${env.key}/${tr.tenant}/${tr.app}`);
        if (!res) continue;
        const first = tr.results.find((x) => !x.pass);
        res.smoke = {
          passed: tr.summary.passed,
          passRate: tr.summary.passRate,
          error: tr.error?.message ?? null,
          firstFailure: first ? `${first.name}: ${first.reasons[0] ?? 'failed'}` : null,
        };
        log.info(`wave ${ctx.w}: smoke ${tr.tenant}/${tr.app} ${tr.summary.passed ? 'passed' : 'FAILED'} (${tr.summary.runs.passed}/${tr.summary.runs.total - tr.summary.runs.skipped} runs)${res.smoke.error ? ` — ${res.smoke.error}` : first ? ` — ${res.smoke.firstFailure}` : ''}`);
      }
    } catch (e) {
      // Suite/input problems or a single target that cannot start: every target of the wave counts as failed.
      error = errorMessage(e);
      passRate = 0;
      for (const s of smokeTargets) {
        const res = byId.get(`${env.key}/${s.tenant!.name}/${s.app}`)!;
        res.smoke = { passed: false, passRate: 0, error, firstFailure: null };
      }
    }
  } else passRate = 0;
  return { passRate, reports, error };
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}
