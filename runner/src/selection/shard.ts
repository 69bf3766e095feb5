/**
 * `--shard i/n`: a deterministic split of the targets so Jenkins `parallel` branches on several agents each take
 * one part. Targets are ordered by key and dealt round-robin: the parts are disjoint, complete and within one of
 * each other in size, whatever the names.
 */
import { usageError } from '../core/errors.js';

export interface Shard {
  index: number;
  count: number;
}

export function parseShard(spec: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(spec.trim());
  if (!m) throw usageError(`--shard must look like i/n (e.g. 2/4), got '${spec}'`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index < 1 || index > count) throw usageError(`--shard ${spec}: i must be between 1 and n`);
  return { index, count };
}

export function applyShard<T>(items: T[], shard: Shard | undefined, key: (t: T) => string): T[] {
  if (!shard || shard.count === 1) return items;
  const sorted = [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return sorted.filter((_, i) => i % shard.count === shard.index - 1);
}
