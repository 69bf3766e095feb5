/**
 * The `every-nth` approval rule's count, read from the deploy history (`<paths.history>/<env>.jsonl`) rather than
 * from BUILD_NUMBER: build numbers count every build of a job — failed, aborted, manual, another branch's in
 * multibranch — so "every 5th" would not mean five good builds.
 *
 * A good build is a build of the main branch whose deploy to the environment before the gated one succeeded
 * (every target deployed or unchanged) and was not rolled back by that build (its smoke gate passed). Counted
 * since the gated environment's last successful deploy; records from before `branch` was recorded do not count.
 */
import { readHistory, type HistoryRecord } from './history.js';

export interface GoodBuilds {
  /** Good main builds since `since` (this build not included). */
  count: number;
  /** When the gated environment was last deployed (ISO time), or null: never, as far as this history knows. */
  since: string | null;
}

const succeeded = (r: HistoryRecord) => r.status === 'deployed' || r.status === 'unchanged';

export function goodBuildsSince(historyDir: string, gated: string, previous: string, branch: string): GoodBuilds {
  const last = readHistory(historyDir, gated)
    .filter((r) => r.action === 'deploy' && succeeded(r))
    .at(-1);
  const since = last?.time ?? null;
  const good = new Set<string>();
  const bad = new Set<string>();
  for (const r of readHistory(historyDir, previous)) {
    if (!r.buildUrl || (since !== null && r.time <= since)) continue;
    if (r.action === 'rollback' || !succeeded(r)) bad.add(r.buildUrl); // its smoke gate failed, or a target did
    else if (r.branch === branch) good.add(r.buildUrl);
  }
  let count = 0;
  for (const b of good) if (!bad.has(b)) count++;
  return { count, since };
}
