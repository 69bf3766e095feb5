/**
 * The waves of a gray release as the fan-out runs them: membership as selection/waves.ts decides it, tenants in
 * file order within a wave, and `--wave K` checked against the environment's waves.
 */
import { usageError } from '../core/errors.js';
import type { EnvironmentConfig, TenantConfig } from '../config/types.js';
import { planWaves } from '../selection/waves.js';

/** Membership by wave order (canaries, then hash), as planWaves decides it; within a wave, tenants in file order. */
export function wavesInFileOrder(selected: TenantConfig[], specs: string[]): { index: number; spec: string; members: TenantConfig[] }[] {
  const order = new Map(selected.map((t, i) => [t.name, i]));
  return planWaves(selected, specs).map((w, i) => ({ index: i + 1, spec: w.spec, members: [...w.members].sort((a, b) => order.get(a.name)! - order.get(b.name)!) }));
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
