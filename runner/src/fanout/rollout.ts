/**
 * Multi-tenant deploy in waves (gray release): deploy a wave (every target of its tenants, through the fan-out
 * engine), smoke it, check the gate, go on; on a failed gate stop, roll the wave's deployed targets back to what
 * was live before (`rollbackOnFailure`, default true) and leave the later waves alone. Wave membership comes from
 * selection/waves.ts (canaries first, then a stable hash), computed over the selected tenants before sharding, so a
 * tenant is in the same wave whatever the shard count. With one configured wave (the default `['100%']`) there is no
 * gate: the pipeline's smoke stage tests the environment.
 *
 * Result data: results/rollout.ts (RolloutReport).
 */
import { basename, join } from 'node:path';
import { DifyCiError, errorMessage, usageError } from '../core/errors.js';
import { failure } from '../results/failure.js';
import { log } from '../core/log.js';
import type { EnvironmentConfig, PathsConfig, ResolvedConfig, TenantConfig } from '../config/types.js';
import { buildInfo, type BuildInfo } from '../deploy/build-info.js';
import { deployTargets } from '../deploy/deploy.js';
import { requireApproval } from '../deploy/apply.js';
import { WORKFLOW_MODES } from '../deploy/render.js';
import { rollbackTargets } from '../deploy/rollback.js';
import { resolveApiKey } from '../smoke/keys.js';
import type { SmokeReports } from '../results/smoke.js';
import { runSmoke, type SmokeOptions, type SmokeTarget } from '../smoke/runner.js';
import { runUnits, type EngineOptions, type Job, type Unit } from './engine.js';
import { ensureWorkspace, loginAll, tenantLanes, type LoginFailures, type TenantLane } from './lanes.js';
import { formatTable, Progress } from './progress.js';
import type { TargetRow } from '../results/target.js';
import { tenantApiUrl, tenantTargets, type TenantTarget } from './targets.js';
import { planWaves } from '../selection/waves.js';
import type { Shard } from '../selection/shard.js';
import type { RolloutReport, RolloutStatus, RolloutTarget, WaveGate, WaveGateReport, WaveResult } from '../results/rollout.js';
import { deployResult } from '../results/deploy.js';

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

/** A target of the rollout with nothing done yet. */
function blank(t: TenantTarget, wave: number, status: RolloutStatus): RolloutTarget {
  return { ...deployResult(t.target, status), tenant: t.lane.tenant.name, wave, smoke: null, rollback: null };
}

type TJob<R> = Job<R> & { t: TenantTarget };

/** The target a job of unitsOf() runs. */
export function jobTarget<R>(j: Job<R>): TenantTarget {
  return (j as TJob<R>).t;
}

/** One unit per tenant: its lane, its workspace switch, one job per target. */
export function unitsOf<R>(targets: TenantTarget[], run: (t: TenantTarget) => Promise<R>, loginFailures: LoginFailures): Unit<R>[] {
  const byTenant = new Map<TenantLane, TenantTarget[]>();
  for (const t of targets) (byTenant.get(t.lane) ?? byTenant.set(t.lane, []).get(t.lane)!).push(t);
  return [...byTenant].map(([lane, list]) => ({
    lane: lane.lane,
    enter: async () => {
      // A session whose login failed fails its targets without another login (no lock-out from retries).
      const failed = loginFailures.get(lane.console.session);
      if (failed) throw failed;
      if (lane.switchTo) await ensureWorkspace(lane.console, lane.switchTo);
    },
    jobs: list.map((t): TJob<R> => ({ t, server: lane.server, run: () => run(t) })),
  }));
}

function detail(r: RolloutTarget): string {
  if (r.status === 'deployed') return r.versionId ? `v${r.versionId.slice(0, 8)}` : `config ${String(r.contentHash ?? '').slice(0, 12)}`;
  if (r.status === 'failed' || r.status === 'refused') return `— ${r.error ?? ''}`;
  if (r.status === 'skipped' && r.error) return `— ${r.error}`;
  return '';
}

export async function rollout(config: ResolvedConfig, env: EnvironmentConfig, opts: RolloutOptions): Promise<RolloutReport> {
  const dryRun = Boolean(opts.dryRun);
  if (!dryRun) requireApproval(env, opts.approvedBy, 'deploying');
  const environ = opts.environ;
  const build = opts.build ?? buildInfo(environ);
  const paths = opts.paths ?? config.paths;
  const approvedBy = opts.approvedBy?.trim() || null;
  const r = env.rollout;
  const mine = new Set((opts.tenants ?? opts.selected).map((t) => t.name));
  const gated = !dryRun && r.waves.length > 1 && opts.wave === undefined;
  const reportDir = opts.reportDir ?? join(paths.reports, 'rollout', env.key);

  const allPlanned = wavesInFileOrder(opts.selected, r.waves).map((w) => ({ ...w, members: w.members.filter((t) => mine.has(t.name)) }));
  const inAnyWave = new Set(allPlanned.flatMap((w) => w.members.map((t) => t.name)));
  const one = opts.wave === undefined ? undefined : allPlanned[checkWave(env, opts.wave, allPlanned.length, opts.selected.length) - 1]!;
  const planned = one ? [one] : allPlanned;
  const inWaves = new Set(planned.flatMap((w) => w.members.map((t) => t.name)));
  const lanes = tenantLanes(env, (opts.tenants ?? opts.selected).filter((t) => inWaves.has(t.name)), environ);
  const laneOf = new Map(lanes.map((l) => [l.tenant.name, l]));
  const waveTargets = planned.map((w) => tenantTargets(config, env, opts.apps, w.members.map((t) => laneOf.get(t.name)!)));
  const total = waveTargets.reduce((n, w) => n + w.length, 0);
  const progress = opts.progress ?? new Progress(total);
  const notInWaves = [...mine].filter((n) => !inAnyWave.has(n)).length;
  if (notInWaves > 0) log.info(`${notInWaves} tenant(s) are beyond the last wave (${r.waves.at(-1)}) and stay as they are`);

  const loginFailures = await loginAll(lanes, dryRun ? undefined : 'deploy (import + publish)');
  const engine = engineFor(env);

  const all: RolloutTarget[] = [];
  const waves: WaveResult[] = [];
  let stopped = false;
  let stopWhy = '';
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
    if (stopped) {
      for (const t of targets) {
        const s = blank(t, w.index, 'skipped');
        s.warnings.push(stopWhy);
        all.push(s);
        progress.target(t.key, 'skipped', `— ${stopWhy}`);
      }
      wave.counts.skipped = targets.length;
      continue;
    }
    progress.note(`wave ${w.index}/${allPlanned.length} (${w.spec}): ${w.members.length} tenant(s), ${targets.length} target(s)${one ? ' (this wave only; the pipeline gates it)' : ''}`);

    // 1. Deploy.
    const dep = await runUnits<RolloutTarget>(
      unitsOf(targets, async (t) => {
        const rep = await deployTargets(config, env, [t.target.app.key], {
          force: opts.force,
          dryRun,
          allowVersionUpgrade: opts.allowVersionUpgrade,
          approvedBy: opts.approvedBy,
          tenant: t.lane.tenant,
          console: t.lane.console,
          environ,
          build,
          paths,
        });
        const res = rep.targets[0];
        if (!res) return { ...blank(t, w.index, 'skipped'), error: 'disabled for this environment' };
        return { ...res, tenant: t.lane.tenant.name, wave: w.index, smoke: null, rollback: null };
      }, loginFailures),
      engine<RolloutTarget>({
        failFast: opts.failFast,
        isFailure: (x) => FAILED.has(x.status),
        failed: (j, e) => ({ ...blank(jobTarget(j), w.index, 'failed'), ...failure(e) }),
        skipped: (j, why) => ({ ...blank(jobTarget(j), w.index, 'skipped'), warnings: [why] }),
        onDone: (x, j) => progress.target(jobTarget(j).key, x.status, detail(x)),
      }),
    );
    const results = dep.results;
    all.push(...results);
    const count = (s: RolloutStatus) => results.filter((x) => x.status === s).length;
    wave.counts = { deployed: count('deployed'), unchanged: count('unchanged'), failed: count('failed'), refused: count('refused'), skipped: count('skipped'), dryRun: count('dry-run') };
    if (dep.stopped) {
      stopped = true;
      stopWhy = `not started: --fail-fast stopped the run in wave ${w.index}`;
    }
    if (dryRun) {
      wave.status = 'dry-run';
      continue;
    }
    if (!gated) {
      wave.status = 'not-gated';
      continue;
    }

    // 2. Gate: deploy failures, then the smoke suites of what is live now.
    const failedIds = new Set(results.filter((x) => FAILED.has(x.status)).map((x) => x.target));
    const gate: WaveGate = { smoke: r.gate.smoke, passed: true, failedTargets: 0, maxFailedTargets: r.gate.maxFailedTargets, passRate: null, minPassRate: r.gate.minPassRate, reasons: [] };
    wave.gate = gate;
    if (dep.stopped) gate.reasons.push('--fail-fast stopped the wave');
    if (r.gate.smoke && !dep.stopped) {
      const smoked = await smokeWave(config, env, targets, results, { w: w.index, reportDir: join(reportDir, `wave-${w.index}`), environ, loginFailures, engine, smoke: opts.smoke });
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
    stopped = true;
    stopWhy = `not started: wave ${w.index} failed its gate`;

    // 3. Roll the failed wave back to what was live before it.
    const why = `wave ${w.index} failed its gate (${gate.reasons.join('; ')})`;
    for (const x of results) if (!x.error && x.status !== 'skipped' && failedIds.has(x.target)) x.error = why;
    if (!r.rollbackOnFailure) {
      log.warn(`rollout.rollbackOnFailure is false: wave ${w.index} stays as deployed`);
      continue;
    }
    wave.rollback = await rollbackWave(config, env, targets, results, { why, approvedBy: opts.approvedBy, environ, build, paths, loginFailures, engine, progress });
  }

  const n = (s: RolloutStatus) => all.filter((x) => x.status === s).length;
  const counts = { targets: all.length, deployed: n('deployed'), unchanged: n('unchanged'), failed: n('failed'), refused: n('refused'), rolledBack: n('rolled-back'), skipped: n('skipped'), dryRun: n('dry-run') };
  const failures: TargetRow[] = all
    .filter((x) => FAILED.has(x.status) || x.status === 'rolled-back' || x.error || (x.status === 'skipped' && x.warnings.length))
    .map((x) => ({ target: `${x.tenant}/${x.app}`, status: x.status, reason: x.error ?? x.warnings[0] ?? '' }));
  const gateFailed = waves.some((w) => w.status === 'failed');
  const authMode = lanes.map((l) => l.console.authMode).find(Boolean) ?? null;
  return {
    env: env.key,
    authMode,
    status: counts.failed + counts.refused > 0 || gateFailed || stopped ? 'failed' : 'success',
    dryRun,
    force: Boolean(opts.force),
    approvedBy,
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

/** Membership by wave order (canaries, then hash), as planWaves decides it; within a wave, tenants in file order. */
function wavesInFileOrder(selected: TenantConfig[], specs: string[]): { index: number; spec: string; members: TenantConfig[] }[] {
  const order = new Map(selected.map((t, i) => [t.name, i]));
  return planWaves(selected, specs).map((w, i) => ({ index: i + 1, spec: w.spec, members: [...w.members].sort((a, b) => order.get(a.name)! - order.get(b.name)!) }));
}

/** Fills the gate's verdict from the failed targets and its pass rate; returns the verdict line. */
function judge(gate: WaveGate, wave: number, failedTargets: number): string {
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
  const results = targets.map((t) => blank(t, k, 'unchanged'));
  const gate: WaveGate = { smoke: r.gate.smoke, passed: true, failedTargets: 0, maxFailedTargets: r.gate.maxFailedTargets, passRate: null, minPassRate: r.gate.minPassRate, reasons: [] };
  let reports: SmokeReports = {};
  log.step(`gate of wave ${k}/${planned.length} (${w.spec}) in ${env.key}: ${members.length} tenant(s), ${targets.length} target(s)`);
  if (!r.gate.smoke) log.warn('rollout.gate.smoke is false: the gate runs no smoke tests (the deploys already failed the build if any failed)');
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
 * `--wave K` (deploy and smoke): K must name one of the planned waves of a gray release (`rollout.waves` with two
 * or more entries). Returns K.
 */
export function checkWave(env: EnvironmentConfig, wave: number, planned: number, selected: number): number {
  if (env.rollout.waves.length < 2) {
    throw usageError(`--wave needs a gray release: ${env.key} has rollout.waves [${env.rollout.waves.join(', ')}] (set two or more waves, e.g. ['1', '10%', '100%'])`);
  }
  if (wave > planned) throw usageError(`--wave ${wave}: ${env.key} has ${planned} wave(s) over the ${selected} selected tenant(s) (rollout.waves [${env.rollout.waves.join(', ')}])`);
  return wave;
}

/** `--wave` as given (a string from argv or the params file): a whole number ≥ 1. */
export function parseWave(spec: string): number {
  if (!/^\d+$/.test(spec.trim()) || Number(spec) < 1) throw usageError(`--wave must be a wave number (1, 2, ...), got '${spec}'`);
  return Number(spec);
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

export type EngineFactory = <R>(over: Pick<EngineOptions<R>, 'isFailure' | 'failed' | 'skipped' | 'onDone'> & { failFast?: boolean }) => EngineOptions<R>;

/** Engine options with the environment's limits. */
export function engineFor(env: EnvironmentConfig): EngineFactory {
  return (over) => ({ concurrency: env.rollout.concurrency, perServerConcurrency: env.rollout.perServerConcurrency, ...over });
}

/**
 * Smoke of one wave: API keys per tenant through the lanes (a key lookup is a console call in the tenant's
 * workspace), then one runSmoke over every live target that has a suite. Fills `smoke` on the results.
 */
async function smokeWave(
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

/**
 * Smoke targets with their service API keys, looked up through the lanes (a key lookup is a console call in the
 * tenant's workspace, so it must not race a switch). A lookup that fails becomes that target's setup error.
 */
export async function keyedSmokeTargets(
  env: EnvironmentConfig,
  targets: TenantTarget[],
  ctx: (t: TenantTarget) => { config: ResolvedConfig; appId?: string; suite?: string; environ?: NodeJS.ProcessEnv; loginFailures: LoginFailures; engine: EngineFactory },
): Promise<SmokeTarget[]> {
  if (targets.length === 0) return [];
  const first = ctx(targets[0]!);
  const keys = await runUnits<{ key?: string; error?: DifyCiError }>(
    unitsOf(
      targets,
      async (t) => {
        const c = ctx(t);
        return { key: await resolveApiKey({ app: t.target.app.key, config: c.config, env, tenant: t.lane.tenant, appId: c.appId, console: t.lane.console, environ: c.environ }) };
      },
      first.loginFailures,
    ),
    first.engine({
      isFailure: () => false,
      failed: (_j, e) => ({ error: e instanceof DifyCiError ? e : new DifyCiError(errorMessage(e), 'internal', { cause: e }) }),
      skipped: (_j, why) => ({ error: new DifyCiError(why, 'operation') }),
    }),
  );
  return targets.map((t, i) => {
    const k = keys.results[i]!;
    return {
      app: t.target.app.key,
      env: env.key,
      tenant: t.lane.tenant,
      apiUrl: tenantApiUrl(env, t.lane.tenant),
      suite: ctx(t).suite ?? t.target.app.tests!,
      ...(k.error ? { setupError: k.error } : { apiKey: k.key }),
    };
  });
}

/**
 * Where a target goes back to: the version that was published before this run. deploy backs it up first as
 * `<time>-<versionId>.yml` (backup.ts); workflow apps restore that version id (Dify's own copy, exact), chat apps
 * (no versions) re-apply the backup file.
 */
export function rollbackTo(x: Pick<RolloutTarget, 'backups' | 'mode'>): string {
  const file = x.backups.find((f) => !f.endsWith('-draft.yml'))!;
  const id = /^\d{8}T\d{9}Z-(.+)\.yml$/.exec(basename(file))?.[1];
  return id && id !== 'live' && WORKFLOW_MODES.has(x.mode ?? '') ? id : file;
}

/** Rolls the wave's changed targets back to the version each had before this run (the backup deploy took). */
async function rollbackWave(
  config: ResolvedConfig,
  env: EnvironmentConfig,
  targets: TenantTarget[],
  results: RolloutTarget[],
  ctx: { why: string; approvedBy?: string; environ?: NodeJS.ProcessEnv; build: BuildInfo; paths: PathsConfig; loginFailures: LoginFailures; engine: EngineFactory; progress: Progress },
): Promise<{ rolledBack: number; failed: number; notPossible: number }> {
  const byId = new Map(results.map((x) => [x.target, x]));
  // Deployed now, or published but not verified: something new is live.
  const changed = targets.filter((t) => {
    const x = byId.get(t.target.id)!;
    return x.status === 'deployed' || (x.status === 'failed' && x.verified === false);
  });
  const out = { rolledBack: 0, failed: 0, notPossible: 0 };
  const possible: TenantTarget[] = [];
  for (const t of changed) {
    const x = byId.get(t.target.id)!;
    const before = x.backups.find((f) => !f.endsWith('-draft.yml'));
    if (x.resolvedBy === 'create' || !before) {
      x.rollback = { status: 'not-possible', versionId: null, error: 'created by this run: there is no earlier version to go back to' };
      out.notPossible++;
      log.warn(`${t.key}: ${x.rollback.error}`);
    } else possible.push(t);
  }
  if (possible.length === 0) return out;
  log.step(`rolling back ${possible.length} target(s) of the failed wave`);
  const rb = await runUnits<RolloutTarget['rollback']>(
    unitsOf(
      possible,
      async (t) => {
        const rep = await rollbackTargets(config, env, [t.target.app.key], {
          to: rollbackTo(byId.get(t.target.id)!),
          approvedBy: ctx.approvedBy,
          tenant: t.lane.tenant,
          console: t.lane.console,
          environ: ctx.environ,
          build: ctx.build,
          paths: ctx.paths,
        });
        const one = rep.targets[0]!;
        return { status: one.status === 'dry-run' || one.status === 'skipped' ? 'failed' : one.status, versionId: one.versionId, ...(one.error ? { error: one.error } : {}) };
      },
      ctx.loginFailures,
    ),
    ctx.engine({
      isFailure: () => false,
      failed: (_j, e) => ({ status: 'failed', versionId: null, error: errorMessage(e) }),
      skipped: (_j, why) => ({ status: 'failed', versionId: null, error: why }),
    }),
  );
  possible.forEach((t, i) => {
    const x = byId.get(t.target.id)!;
    const r = rb.results[i]!;
    x.rollback = r;
    if (r!.status === 'rolled-back' || r!.status === 'unchanged') {
      x.status = 'rolled-back';
      x.error = `${ctx.why}; rolled back`;
      out.rolledBack++;
      ctx.progress.note(`${t.key} rolled back${r!.versionId ? ` (new version v${r!.versionId.slice(0, 8)})` : ''}`);
    } else {
      x.error = `${ctx.why}; rollback FAILED: ${r!.error ?? 'unknown error'}`;
      out.failed++;
      log.error(`${t.key}: rollback failed: ${r!.error ?? 'unknown error'}`);
    }
  });
  return out;
}

/** The final table: every target that did not end well, with why. */
export function failureTable(report: RolloutReport): string {
  return report.failures.length ? formatTable(report.failures) : '';
}
