/**
 * The fan-out scheduler: jobs (one per target) grouped in units (one per tenant) run under a global limit
 * (`rollout.concurrency`) and a per-server limit (`rollout.perServerConcurrency`, counted per Dify origin). Units
 * that share a lane (one session, several workspaces: lanes.ts) run one after another, each after its `enter`
 * (the workspace switch); every other unit runs as soon as the limits allow. With `failFast` the first failure
 * stops the fan-out: what is running finishes, what has not started is reported as skipped.
 *
 * Requests are limited once more below this, per server, by the transport's host gate (dify/host-gate.ts), which also
 * holds every request to a server during a 429 Retry-After.
 */
import pLimit, { type LimitFunction } from 'p-limit';

export interface Job<R> {
  /** Dify origin the job talks to. */
  server: string;
  run(): Promise<R>;
}

export interface Unit<R> {
  lane?: string;
  /** Runs before the unit's jobs (outside the limits); its failure fails every job of the unit. */
  enter?: () => Promise<void>;
  jobs: Job<R>[];
}

export interface EngineOptions<R> {
  concurrency: number;
  perServerConcurrency: number;
  failFast?: boolean;
  isFailure(r: R): boolean;
  /** The result of a job whose run (or unit's enter) threw. */
  failed(job: Job<R>, error: unknown): R;
  /** The result of a job that was never started (fail-fast). */
  skipped(job: Job<R>, reason: string): R;
  /** Called once per job, in completion order (progress lines). */
  onDone?(r: R, job: Job<R>): void;
}

export interface EngineRun<R> {
  /** One result per job, in unit then job order. */
  results: R[];
  /** True when fail-fast stopped the fan-out. */
  stopped: boolean;
}

export async function runUnits<R>(units: Unit<R>[], opts: EngineOptions<R>): Promise<EngineRun<R>> {
  const global = pLimit(Math.max(1, opts.concurrency));
  const servers = new Map<string, LimitFunction>();
  const serverLimit = (origin: string) => servers.get(origin) ?? servers.set(origin, pLimit(Math.max(1, opts.perServerConcurrency))).get(origin)!;
  const results: R[] = [];
  let stopReason: string | undefined;

  const settle = (i: number, job: Job<R>, r: R) => {
    results[i] = r;
    if (opts.failFast && !stopReason && opts.isFailure(r)) stopReason = 'not started: --fail-fast stopped the run after a failure';
    opts.onDone?.(r, job);
  };
  // The server slot is taken first, so a busy server never holds global slots that another server could use.
  const runJob = (job: Job<R>, i: number) =>
    serverLimit(job.server)(() =>
      global(async () => {
        if (stopReason) return settle(i, job, opts.skipped(job, stopReason));
        let r: R;
        try {
          r = await job.run();
        } catch (e) {
          r = opts.failed(job, e);
        }
        settle(i, job, r);
      }),
    );

  const runUnit = async (u: Unit<R>, base: number) => {
    if (stopReason) {
      u.jobs.forEach((j, k) => settle(base + k, j, opts.skipped(j, stopReason!)));
      return;
    }
    if (u.enter) {
      try {
        await u.enter();
      } catch (e) {
        u.jobs.forEach((j, k) => settle(base + k, j, opts.failed(j, e)));
        return;
      }
    }
    await Promise.all(u.jobs.map((j, k) => runJob(j, base + k)));
  };

  const free: Promise<void>[] = [];
  const lanes = new Map<string, { unit: Unit<R>; base: number }[]>();
  let base = 0;
  for (const u of units) {
    if (u.lane === undefined) free.push(runUnit(u, base));
    else (lanes.get(u.lane) ?? lanes.set(u.lane, []).get(u.lane)!).push({ unit: u, base });
    base += u.jobs.length;
  }
  const serial = [...lanes.values()].map(async (list) => {
    for (const { unit, base: b } of list) await runUnit(unit, b);
  });
  await Promise.all([...free, ...serial]);
  return { results, stopped: stopReason !== undefined };
}
