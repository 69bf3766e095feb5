import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { buildSummary, deriveStatus, jenkinsInfo, readResultFiles } from '../../runner/src/notify/summary.js';
import { failedRunFixture, resultFile, tempDir, writeResults } from './helpers.js';

describe('notify: run summary from result files', () => {
  it('reads validate, plan, deploy, smoke and rollback into one model', () => {
    const dir = tempDir();
    writeResults(dir, { ...failedRunFixture(), 'notify.json': resultFile('notify', 'success') });
    const results = readResultFiles(dir);
    assert.deepEqual(results.map((r) => r.command), ['validate', 'plan', 'deploy', 'smoke', 'rollback'], 'notify.json is never an input');
    const s = buildSummary({ status: 'failure', results, environ: {}, env: 'production' });

    assert.deepEqual(s.envs, ['production']);
    assert.deepEqual(s.apps, ['support-bot', 'faq-bot']);
    assert.equal(s.targets.length, 2);
    assert.deepEqual(
      s.targets.map((t) => [t.app, t.ok, t.changed, t.version]),
      [
        ['support-bot', true, true, 'wf-2024-0042'],
        ['faq-bot', false, false, undefined],
      ],
    );
    assert.equal(s.changed, true);
    assert.deepEqual(
      s.changes.map((c) => [c.app, c.text]),
      [
        ['support-bot', 'prompt of node llm-1 changed; model gpt-4o → gpt-4.1'],
        ['faq-bot', '1 added, 2 modified'],
      ],
      'counts become text; "no changes" is left out',
    );
    assert.equal(s.smoke?.passRate, 0.9);
    assert.equal(s.smoke?.p95Ms, 1830, 'the slowest run is the headline p95');
    assert.deepEqual([s.smoke?.passed, s.smoke?.failed], [18, 2]);
    assert.equal(s.smoke?.reportPath, '.dify-ci/reports/smoke.html');
    assert.deepEqual(s.smoke?.runs.map((r) => [r.app, r.passRate, r.p50Ms, r.p95Ms]), [
      ['support-bot', 0.9, 420, 1830],
      ['faq-bot', 0.9, 300, 900],
    ]);
    assert.equal(s.rollback?.ok, true);
    assert.equal(s.rollback?.targets[0]?.version, 'wf-2024-0041');
    assert.deepEqual(s.validate, { status: 'success', summary: '2 DSL files valid', errors: 0, warnings: 2 });
    assert.deepEqual(
      s.failures.map((f) => f.label),
      ['faq-bot → production', 'smoke support-bot → production', 'smoke faq-bot → production'],
      'failed commands explained by their targets are not repeated',
    );
  });

  it('tolerates files and data shapes it does not know', () => {
    const dir = tempDir();
    writeResults(dir, {
      'broken.json': '{"command": ',
      'list.json': '[1,2]',
      'other.json': '{"hello": "world"}',
      'deploy.json': resultFile('deploy', 'success', { counts: { changed: 2 }, data: { targets: 'not a list' } }),
      'plan.json': resultFile('plan', 'changes', { data: { targets: [42, null, { app: 'x', changes: { summary: '' } }] } }),
      'smoke.json': resultFile('smoke', 'success', { data: { passRate: 97.5, p95: 2100 } }),
      'rollback.json': resultFile('rollback', 'error', { summary: 'rollback crashed', error: { message: 'no backup for x', category: 'operation', exitCode: 1 } }),
    });
    const skipped: string[] = [];
    const results = readResultFiles(dir, { onSkip: (f, why) => skipped.push(`${f.split('/').pop()}: ${why}`) });
    assert.equal(skipped.length, 3, skipped.join('\n'));
    const s = buildSummary({ status: 'failure', results, environ: {} });
    assert.equal(s.targets.length, 0);
    assert.equal(s.changed, true, 'counts.changed says something was deployed');
    assert.deepEqual(s.changes, []);
    assert.equal(s.smoke?.passRate, 0.975, 'a percentage is read as one');
    assert.equal(s.smoke?.p95Ms, 2100);
    assert.deepEqual(s.smoke?.runs, []);
    assert.equal(s.rollback?.ok, false);
    assert.deepEqual(s.failures, [{ label: 'rollback', message: 'no backup for x' }]);
  });

  it('leaves out result files older than the given cut-off (an earlier build in a reused workspace)', () => {
    const dir = tempDir();
    writeResults(dir, { 'deploy.json': resultFile('deploy', 'success', {}, 1), 'smoke.json': resultFile('smoke', 'success', {}, 30) });
    const skipped: string[] = [];
    const r = readResultFiles(dir, { notBefore: new Date('2030-01-01T10:10:00Z'), onSkip: (f) => skipped.push(f) });
    assert.deepEqual(r.map((x) => x.command), ['smoke']);
    assert.deepEqual(skipped, [join(dir, 'deploy.json')]);
  });

  it('a missing results directory is an empty build, not an error', () => {
    assert.deepEqual(readResultFiles(join(tempDir(), 'nope')), []);
  });

  it('reads the Jenkins environment', () => {
    const j = jenkinsInfo({ JOB_NAME: 'team/bot', BUILD_NUMBER: '42', GIT_BRANCH: 'origin/release/1.2', CHANGE_ID: '17', CHANGE_AUTHOR: 'ann' });
    assert.deepEqual([j.job, j.buildNumber, j.branch, j.changeId, j.changeAuthor], ['team/bot', '42', 'release/1.2', '17', 'ann']);
    assert.equal(jenkinsInfo({ BRANCH_NAME: 'PR-17', GIT_BRANCH: 'origin/x' }).branch, 'PR-17', 'multibranch BRANCH_NAME wins');
  });

  it('derives the build status when Jenkins did not pass one', () => {
    const dir = tempDir();
    writeResults(dir, { 'plan.json': resultFile('plan', 'changes') });
    assert.equal(deriveStatus(readResultFiles(dir)), 'success');
    writeResults(dir, { 'deploy.json': resultFile('deploy', 'error') });
    assert.equal(deriveStatus(readResultFiles(dir)), 'failure');
  });
});
