/**
 * Gray release: deterministic wave membership. Canary tenants first (in file order), then the rest ordered by a
 * stable hash of the tenant name, so a re-run picks the same tenants for the same waves. Wave sizes are
 * cumulative: ['1', '10%', '100%'] = one tenant, then up to 10 %, then everyone. A rollout whose last wave is below
 * 100 % deliberately leaves the rest on the old version.
 */
import { createHash } from 'node:crypto';
import { configError } from '../core/errors.js';

export function stableRank(name: string): string {
  return createHash('sha256').update(name).digest('hex');
}

export function waveOrder<T extends { name: string; canary?: boolean }>(items: T[]): T[] {
  const canaries = items.filter((t) => t.canary);
  const rest = items.filter((t) => !t.canary).sort((a, b) => (stableRank(a.name) < stableRank(b.name) ? -1 : 1));
  return [...canaries, ...rest];
}

export function cumulativeSize(spec: string, total: number): number {
  const pct = /^(\d{1,3})%$/.exec(spec);
  if (pct) {
    const p = Number(pct[1]);
    if (p < 1 || p > 100) throw configError(`rollout wave '${spec}' must be between 1% and 100%`);
    return Math.min(total, Math.max(1, Math.ceil((total * p) / 100)));
  }
  if (/^\d+$/.test(spec) && Number(spec) >= 1) return Math.min(total, Number(spec));
  throw configError(`rollout wave '${spec}' must be a count (e.g. '1') or a percentage (e.g. '10%')`);
}

/** Splits the items into waves; empty waves (a size no larger than the previous one) are dropped. */
export function planWaves<T extends { name: string; canary?: boolean }>(items: T[], waves: string[]): { spec: string; members: T[] }[] {
  const ordered = waveOrder(items);
  const out: { spec: string; members: T[] }[] = [];
  let done = 0;
  for (const spec of waves) {
    const size = cumulativeSize(spec, ordered.length);
    if (size <= done) continue;
    out.push({ spec, members: ordered.slice(done, size) });
    done = size;
  }
  return out;
}
