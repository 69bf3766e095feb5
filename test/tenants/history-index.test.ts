/**
 * The fan-out asks the deploy history once per target; deploy/history.ts answers from an index it extends with
 * the appended bytes only. These tests hold the index to the plain full-read answer, appends and rewrites included.
 */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appendHistory, historyFile, lastGood, ownDraftHashes, readHistory, type HistoryRecord } from '../../runner/src/deploy/history.js';

const GOOD = new Set(['deployed', 'unchanged', 'rolled-back']);

function reference(dir: string, target: string): { last?: HistoryRecord; drafts: string[] } {
  const recs = readHistory(dir, 'prod').filter((r) => r.target === target);
  const good = recs.filter((r) => GOOD.has(r.status));
  let start = 0;
  for (let i = recs.length - 1; i >= 0; i--) {
    if (GOOD.has(recs[i]!.status)) {
      start = i;
      break;
    }
  }
  return { last: good.at(-1), drafts: [...new Set(recs.slice(start).map((r) => r.draftHash).filter((h): h is string => Boolean(h)))].sort() };
}

function check(dir: string, targets: string[]): void {
  for (const t of targets) {
    const want = reference(dir, t);
    assert.deepEqual(lastGood(dir, 'prod', t), want.last, `lastGood ${t}`);
    assert.deepEqual([...ownDraftHashes(dir, 'prod', t)].sort(), want.drafts, `ownDraftHashes ${t}`);
  }
}

describe('tenants: deploy history index', () => {
  it('matches a full read after every append, with torn lines, rewrites and truncation', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dify-ci-hist-'));
    const targets = ['prod/a/x', 'prod/b/x', 'prod/c/x'];
    const statuses = ['deployed', 'failed', 'unchanged', 'refused', 'rolled-back', 'failed'] as const;
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    check(dir, targets);
    for (let i = 0; i < 120; i++) {
      const target = targets[rnd(3)]!;
      appendHistory(dir, { time: String(i), action: 'deploy', target, env: 'prod', app: 'x', status: statuses[rnd(statuses.length)]!, ...(rnd(3) ? { draftHash: `h${rnd(5)}` } : {}) });
      if (i % 7 === 0) check(dir, targets);
      if (i === 50) appendFileSync(historyFile(dir, 'prod'), '{"torn": '); // a killed job: the next line is lost with it
    }
    check(dir, targets);
    // Rewritten in place, longer than before: read again from the start.
    const file = historyFile(dir, 'prod');
    const lines = Array.from({ length: 200 }, (_, i) => JSON.stringify({ time: String(i), action: 'deploy', target: 'prod/a/x', env: 'prod', app: 'x', status: 'failed', draftHash: `r${i}` }));
    writeFileSync(file, lines.join('\n') + '\n');
    check(dir, targets);
    writeFileSync(file, JSON.stringify({ time: '0', action: 'deploy', target: 'prod/b/x', env: 'prod', app: 'x', status: 'deployed', draftHash: 'z' }) + '\n');
    check(dir, targets);
    assert.equal(lastGood(dir, 'prod', 'prod/b/x')?.draftHash, 'z');
  });

  it('no history file is an empty history; a history that cannot be read is an error, not an empty one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dify-ci-hist-'));
    assert.equal(lastGood(join(dir, 'none'), 'prod', 'prod/a/x'), undefined);
    writeFileSync(join(dir, 'file'), 'not a directory');
    assert.throws(() => lastGood(join(dir, 'file'), 'prod', 'prod/a/x'), /cannot read the deploy history .*ENOTDIR/);
  });
});
