/**
 * Multi-tenant deploy in waves (gray release): deploy a wave (every target of its tenants, through the fan-out
 * engine), gate it (gate.ts: its deploy failures and smoke), go on; on a failed gate stop, roll the wave's deployed
 * targets back to what was live before (wave-rollback.ts; `rollbackOnFailure`, default true) and leave the later
 * waves alone. Wave membership comes from selection/waves.ts (canaries first, then a stable hash), computed over the
 * selected tenants before sharding, so a tenant is in the same wave whatever the shard count. With one configured
 * wave (the default `['100%']`) there is no gate: the pipeline's smoke stage tests the environment.
 *
 * Result data: results/rollout.ts (RolloutReport).
 */
import { join } from 'node:path';
import { log } from '../core/log.js';
import type { EnvironmentConfig, PathsConfig, ResolvedConfig, TenantConfig } from '../config/types.js';
import { requireApproval } from '../deploy/apply.js';
import { buildInfo, type BuildInfo } from '../deploy/build-info.js';
import { deployTargets } from '../deploy/deploy.js';
import { failure } from '../results/failure.js';
import { rolloutTarget, type RolloutReport, type RolloutStatus, type RolloutTarget, type WaveResult } from '../results/rollout.js';
import type { TargetRow } from '../results/target.js';
import type { Shard } from '../selection/shard.js';
import type { SmokeOptions } from '../smoke/runner.js';
import { runUnits, type EngineRun } from './engine.js';
import { judge, newGate, smokeWave } from './gate.js';
import { loginAll, tenantLanes, type LoginFailures } from './lanes.js';
import { Progress } from './progress.js';
import { tenantTargets, type TenantTarget } from './targets.js';
import { engineFor, jobTarget, unitsOf, type EngineFactory } from './units.js';
import { rollbackWave } from './wave-rollback.js';
import { checkWave, wavesInFileOrder } from './waves.js';

export interface RolloutOptions {
  apps?: string;
  /** Every selected tenant (wave membership is computed over these). */
  selected: TenantConfig[];
  /** This run's share of them (the shard); default all selected. */
  tenants?: TenantConfig[];
  shard?: Shard;
  failFast?: boolean;
  force?: boolean;
  dryRun?: boolean;
  allowVersionUpgrade?: boolean;
  approvedBy?: string;
  environ?: NodeJS.ProcessEnv;
  build?: BuildInfo;
  paths?: PathsConfig;
  /** Smoke reports per wave go to `<reportDir>/wave-<n>` (default `<paths.reports>/rollout/<env>`). */
  reportDir?: string;
  /** Progress lines (default: on stderr). */
  progress?: Progress;
  /** Passed to runSmoke (tests: client sleep). */
  smoke?: Partial<SmokeOptions>;
  /**
   * Only this wave (1-based, `deploy --wave K`): deploy the targets it adds to the waves before it, no gate, no
   * wave rollback — the pipeline gates (`smoke --wave K`) once every shard has deployed it.
   */
  wave?: number;
}

const FAILED = new Set<RolloutStatus>(['failed', 'refused']);

function detail(r: RolloutTarget): string {
  if (r.status === 'deployed') return r.versionId ? `v${r.versionId.slice(0, 8)}` : `config ${String(r.contentHash ?? '').slice(0, 12)}`;
  if (r.status === 'failed' || r.status === 'refused') return `— ${r.error ?? ''}`;
  if (r.status === 'skipped' && r.error) return `— ${r.error}`;
  return '';
}

/** What every wave of one rollout shares. */
interface Run {
  config: ResolvedConfig;
  env: EnvironmentConfig;
  opts: RolloutOptions;
  build: BuildInfo;
  paths: PathsConfig;
  loginFailures: LoginFailures;
  engine: EngineFactory;
  progress: Progress;
}

export async function rollout(config: ResolvedConfig, env: EnvironmentConfig, opts: RolloutOptions): Promise<RolloutReport> {
  const dryRun = Boolean(opts.dryRun);
  if (!dryRun) requireApproval(env, opts.approvedBy, 'deploying');
  const build = opts.build ?? buildInfo(opts.environ);
  const paths = opts.paths ?? config.paths;
  const r = env.rollout;
  const mine = new Set((opts.tenants ?? opts.selected).map((t) => t.name));
  const gated = !dryRun && r.waves.length > 1 && opts.wave === undefined;
  const reportDir = opts.reportDir ?? join(paths.reports, 'rollout', env.key);

  const allPlanned = wavesInFileOrder(opts.selected, r.waves).map((w) => ({ ...w, members: w.members.filter((t) => mine.has(t.name)) }));
  const inAnyWave = new Set(allPlanned.flatMap((w) => w.members.map((t) => t.name)));
  const one = opts.wave === undefined ? undefined : allPlanned[checkWave(env, opts.wave, allPlanned.length, opts.selected.length) - 1]!;
  const planned = one ? [one] : allPlanned;
  const inWaves = new Set(planned.flatMap((w) => w.members.map((t) => t.name)));
  const lanes = tenantLanes(env, (opts.tenants ?? opts.selected).filter((t) => inWaves.has(t.name)), opts.environ);
  const laneOf = new Map(lanes.map((l) => [l.tenant.name, l]));
  const waveTargets = planned.map((w) => tenantTargets(config, env, opts.apps, w.members.map((t) => laneOf.get(t.name)!)));
  const progress = opts.progress ?? new Progress(waveTargets.reduce((n, w) => n + w.length, 0));
  const notInWaves = [...mine].filter((n) => !inAnyWave.has(n)).length;
  if (notInWaves > 0) log.info(`${notInWaves} tenant(s) are beyond the last wave (${r.waves.at(-1)}) and stay as they are`);

  const loginFailures = await loginAll(lanes, dryRun ? undefined : 'deploy (import + publish)');
  const run: Run = { config, env, opts, build, paths, loginFailures, engine: engineFor(env), progress };

  const all: RolloutTarget[] = [];
  const waves: WaveResult[] = [];
  let stopWhy: string | undefined;
  for (const [wi, w] of planned.entries()) {
    const targets = waveTargets[wi]!;
    const wave: WaveResult = {
      index: w.index,
      spec: w.spec,
      tenants: w.members.map((t) => t.name),
      targets: targets.length,
      status: targets.length === 0 ? 'empty' : 'skipped',
      counts: { deployed: 0, unchanged: 0, failed: 0, refused: 0, skipped: 0, dryRun: 0 },
      gate: null,
      smokeReports: {},
      rollback: null,
    };
    waves.push(wave);
    if (targets.length === 0) {
      if (one) progress.note(`wave ${w.index}/${allPlanned.length} (${w.spec}): none of this run's ${mine.size} tenant(s) are in it; nothing to deploy`);
      continue;
    }
    if (stopWhy !== undefined) {
      for (const t of targets) {
        const s = rolloutTarget(t.target, w.index, 'skipped');
        s.warnings.push(stopWhy);
        all.push(s);
        progress.target(t.key, 'skipped', `— ${stopWhy}`);
      }
      wave.counts.skipped = targets.length;
      continue;
    }
    progress.note(`wave ${w.index}/${allPlanned.length} (${w.spec}): ${w.members.length} tenant(s), ${targets.length} target(s)${one ? ' (this wave only; the pipeline gates it)' : ''}`);

    // 1. Deploy.
    const dep = await deployWave(run, w.index, targets);
    const results = dep.results;
    all.push(...results);
    const count = (s: RolloutStatus) => results.filter((x) => x.status === s).length;
    wave.counts = { deployed: count('deployed'), unchanged: count('unchanged'), failed: count('failed'), refused: count('refused'), skipped: count('skipped'), dryRun: count('dry-run') };
    if (dep.stopped) stopWhy = `not started: --fail-fast stopped the run in wave ${w.index}`;
    if (dryRun || !gated) {
      wave.status = dryRun ? 'dry-run' : 'not-gated';
      continue;
    }

    // 2. Gate: deploy failures, then the smoke suites of what is live now.
    const failedIds = new Set(results.filter((x) => FAILED.has(x.status)).map((x) => x.target));
    const gate = newGate(env);
    wave.gate = gate;
    if (dep.stopped) gate.reasons.push('--fail-fast stopped the wave');
    if (gate.smoke && !dep.stopped) {
      const smoked = await smokeWave(config, env, targets, results, { w: w.index, reportDir: join(reportDir, `wave-${w.index}`), environ: opts.environ, loginFailures, engine: run.engine, smoke: opts.smoke });
      wave.smokeReports = smoked.reports;
      gate.passRate = smoked.passRate;
      for (const x of results) if (x.smoke && !x.smoke.passed) failedIds.add(x.target);
      if (smoked.error) gate.reasons.push(`smoke could not run: ${smoked.error}`);
    }
    const verdict = judge(gate, w.index, failedIds.size);
    wave.status = gate.passed ? 'passed' : 'failed';
    if (gate.passed) {
      log.ok(verdict);
      continue;
    }
    log.error(verdict);
    stopWhy = `not started: wave ${w.index} failed its gate`;

    // 3. Roll the failed wave back to what was live before it.
    const why = `wave ${w.index} failed its gate (${gate.reasons.join('; ')})`;
    for (const x of results) if (!x.error && x.status !== 'skipped' && failedIds.has(x.target)) x.error = why;
    if (!r.rollbackOnFailure) {
      log.warn(`rollout.rollbackOnFailure is false: wave ${w.index} stays as deployed`);
      continue;
    }
    wave.rollback = await rollbackWave(config, env, targets, results, { why, approvedBy: opts.approvedBy, environ: opts.environ, build, paths, loginFailures, engine: run.engine, progress });
  }

  const n = (s: RolloutStatus) => all.filter((x) => x.status === s).length;
  const counts = { targets: all.length, deployed: n('deployed'), unchanged: n('unchanged'), failed: n('failed'), refused: n('refused'), rolledBack: n('rolled-back'), skipped: n('skipped'), dryRun: n('dry-run') };
  const failures: TargetRow[] = all
    .filter((x) => FAILED.has(x.status) || x.status === 'rolled-back' || x.error || (x.status === 'skipped' && x.warnings.length))
    .map((x) => ({ target: `${x.tenant}/${x.app}`, status: x.status, reason: x.error ?? x.warnings[0] ?? '' }));
  const gateFailed = waves.some((w) => w.status === 'failed');
  const stopped = stopWhy !== undefined;
  return {
    env: env.key,
    authMode: lanes.map((l) => l.console.authMode).find(Boolean) ?? null,
    status: counts.failed + counts.refused > 0 || gateFailed || stopped ? 'failed' : 'success',
    dryRun,
    force: Boolean(opts.force),
    approvedBy: opts.approvedBy?.trim() || null,
    gitCommit: build.gitCommit,
    buildUrl: build.buildUrl,
    fanOut: true,
    gated,
    failFast: Boolean(opts.failFast),
    stopped,
    tenants: { selected: opts.selected.length, run: inWaves.size, notInWaves, shard: opts.shard ? `${opts.shard.index}/${opts.shard.count}` : null },
    wave: one ? { index: one.index, of: allPlanned.length, spec: one.spec } : null,
    targets: all,
    waves,
    counts,
    failures,
  };
}

/** Deploys one wave's targets through the engine, each with deployTargets in its tenant's session. */
function deployWave(run: Run, wave: number, targets: TenantTarget[]): Promise<EngineRun<RolloutTarget>> {
  const { config, env, opts } = run;
  return runUnits<RolloutTarget>(
    unitsOf(
      targets,
      async (t) => {
        const rep = await deployTargets(config, env, [t.target.app.key], {
          force: opts.force,
          dryRun: opts.dryRun,
          allowVersionUpgrade: opts.allowVersionUpgrade,
          approvedBy: opts.approvedBy,
          tenant: t.lane.tenant,
          console: t.lane.console,
          environ: opts.environ,
          build: run.build,
          paths: run.paths,
        });
        const res = rep.targets[0];
        if (!res) return { ...rolloutTarget(t.target, wave, 'skipped'), error: 'disabled for this environment' };
        return { ...res, tenant: t.lane.tenant.name, wave, smoke: null, rollback: null };
      },
      run.loginFailures,
    ),
    run.engine<RolloutTarget>({
      failFast: opts.failFast,
      isFailure: (x) => FAILED.has(x.status),
      failed: (j, e) => ({ ...rolloutTarget(jobTarget(j).target, wave, 'failed'), ...failure(e) }),
      skipped: (j, why) => ({ ...rolloutTarget(jobTarget(j).target, wave, 'skipped'), warnings: [why] }),
      onDone: (x, j) => run.progress.target(jobTarget(j).key, x.status, detail(x)),
    }),
  );
}
