/**
 * How the fan-out gives its targets to the engine (engine.ts): one unit per tenant (its lane, its workspace
 * switch, a login that failed failing its targets), one job per target, with the environment's limits.
 */
import type { EnvironmentConfig } from '../config/types.js';
import type { EngineOptions, Job, Unit } from './engine.js';
import { ensureWorkspace, type LoginFailures, type TenantLane } from './lanes.js';
import type { TenantTarget } from './targets.js';

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

export type EngineFactory = <R>(over: Pick<EngineOptions<R>, 'isFailure' | 'failed' | 'skipped' | 'onDone'> & { failFast?: boolean }) => EngineOptions<R>;

/** Engine options with the environment's limits. */
export function engineFor(env: EnvironmentConfig): EngineFactory {
  return (over) => ({ concurrency: env.rollout.concurrency, perServerConcurrency: env.rollout.perServerConcurrency, ...over });
}
