/** A wave that failed its gate goes back to what was live before it: each target it changed, to its backup. */
import { basename } from 'node:path';
import { errorMessage } from '../core/errors.js';
import { log } from '../core/log.js';
import type { EnvironmentConfig, PathsConfig, ResolvedConfig } from '../config/types.js';
import type { BuildInfo } from '../deploy/build-info.js';
import { WORKFLOW_MODES } from '../deploy/render.js';
import { rollbackTargets } from '../deploy/rollback.js';
import type { RolloutTarget } from '../results/rollout.js';
import { runUnits } from './engine.js';
import type { LoginFailures } from './lanes.js';
import type { Progress } from './progress.js';
import type { TenantTarget } from './targets.js';
import { unitsOf, type EngineFactory } from './units.js';

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
export async function rollbackWave(
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
