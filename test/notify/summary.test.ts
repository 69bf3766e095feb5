import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { matchedRules } from '../../runner/src/notify/rules.js';
import { jenkinsInfo } from '../../runner/src/notify/jenkins.js';
import { buildSummary, deriveStatus, readResultFiles } from '../../runner/src/notify/summary.js';
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
        ['support-bot', '1 prompt changes, 1 model changes'],
        ['faq-bot', '1 nodes added, 2 nodes changed'],
      ],
      'counts become text; a target without changes is left out',
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

  it('reads the data shapes the deploy, smoke and rollback commands document', () => {
    const dir = tempDir();
    writeResults(dir, {
      'deploy.json': resultFile('deploy', 'failed', {
        counts: { targets: 2, deployed: 1, unchanged: 0, failed: 0, refused: 1 },
        data: {
          env: 'production',
          status: 'failed',
          targets: [
            {
              env: 'production', app: 'support-bot', target: 'support-bot@production', appId: 'a1', status: 'deployed', changed: true, versionId: 'wf-77',
              contentHash: 'sha256:aaaa', verified: true, backups: [], warnings: [],
              summary: { changed: true, create: false, nodesAdded: 0, nodesRemoved: 0, nodesChanged: 2, promptChanges: 1, modelChanges: 0 },
            },
            { env: 'production', app: 'faq-bot', target: 'faq-bot@production', appId: 'a2', status: 'refused', changed: false, versionId: null, error: 'the draft was edited in Dify (use --force)', errorCategory: 'operation' },
          ],
        },
      }, 1),
      'smoke.json': resultFile('smoke', 'failed', {
        counts: { targets: 2, runs: 20, passed: 17, failed: 3, skipped: 0, casesPassed: 8, casesFailed: 2 },
        artifacts: [{ path: '.dify-ci/reports/smoke/smoke.html', kind: 'smoke-html' }],
        data: {
          passed: false,
          passRate: 0.85,
          totals: { targets: 2, cases: 10, casesPassed: 8, casesFailed: 2, runs: 20, runsPassed: 17, runsFailed: 3, skipped: 0 },
          latencyMs: { p50: 400, p95: 2100, max: 3000 },
          targets: [
            { id: 'support-bot@production', app: 'support-bot', env: 'production', tenant: null, passed: true, passRate: 1, runs: { total: 10, passed: 10, failed: 0 }, cases: { total: 5, passed: 5, failed: 0 }, latencyMs: { p50: 300, p95: 900 }, error: null, failures: [] },
            {
              id: 'faq-bot@production', app: 'faq-bot', env: 'production', tenant: null, passed: false, passRate: 0.7, runs: { total: 10, passed: 7, failed: 3 }, cases: { total: 5, passed: 3, failed: 2 },
              latencyMs: { p50: 500, p95: 2100 }, error: null, failures: [{ case: 'refund policy', iteration: 1, reason: 'expected the answer to contain "30 days"' }],
            },
          ],
          reports: { json: '.dify-ci/reports/smoke/smoke.json', html: '.dify-ci/reports/smoke/smoke.html' },
        },
      }, 2),
      'rollback.json': resultFile('rollback', 'success', {
        data: { env: 'production', targets: [{ env: 'production', app: 'support-bot', status: 'rolled-back', from: { versionId: 'wf-77' }, to: { versionId: 'wf-76', file: null }, versionId: 'wf-78' }] },
      }, 3),
    });
    const s = buildSummary({ status: 'failure', results: readResultFiles(dir), environ: {} });
    assert.deepEqual(s.targets.map((t) => [t.app, t.ok, t.status, t.version]), [['support-bot', true, 'deployed', 'wf-77'], ['faq-bot', false, 'refused', undefined]]);
    assert.deepEqual(s.changes, [{ app: 'support-bot', env: 'production', tenant: undefined, text: '2 nodes changed, 1 prompt changes' }], 'no plan result: what the deploy changed');
    assert.deepEqual([s.smoke?.passRate, s.smoke?.passed, s.smoke?.failed, s.smoke?.p50Ms, s.smoke?.p95Ms], [0.85, 17, 3, 400, 2100]);
    assert.equal(s.smoke?.reportPath, '.dify-ci/reports/smoke/smoke.html');
    assert.deepEqual(s.smoke?.runs.map((r) => [r.app, r.ok, r.passRate, r.passed, r.failed]), [['support-bot', true, 1, 10, 0], ['faq-bot', false, 0.7, 7, 3]]);
    assert.equal(s.rollback?.targets[0]?.version, 'wf-76', 'a rollback names the version it went back to');
    assert.deepEqual(s.failures, [
      { label: 'faq-bot → production', message: 'the draft was edited in Dify (use --force)' },
      { label: 'smoke faq-bot → production', message: '3 of 10 failed — refund policy: expected the answer to contain "30 days"' },
    ]);
  });

  it('tolerates files and data shapes it does not know', () => {
    const dir = tempDir();
    writeResults(dir, {
      'broken.json': '{"command": ',
      'list.json': '[1,2]',
      'other.json': '{"hello": "world"}',
      'deploy.json': resultFile('deploy', 'success', { counts: { deployed: 2 }, data: { targets: 'not a list' } }),
      'plan.json': resultFile('plan', 'changes', { data: { targets: [42, null, { app: 'x', changes: { summary: '' } }] } }),
      'smoke.json': resultFile('smoke', 'success', { data: { passRate: 0.975, latencyMs: { p95: 2100 } } }),
      'rollback.json': resultFile('rollback', 'error', { summary: 'rollback crashed', error: { message: 'no backup for x', category: 'operation', exitCode: 1 } }),
    });
    const skipped: string[] = [];
    const results = readResultFiles(dir, { onSkip: (f, why) => skipped.push(`${f.split('/').pop()}: ${why}`) });
    assert.equal(skipped.length, 3, skipped.join('\n'));
    const s = buildSummary({ status: 'failure', results, environ: {} });
    assert.equal(s.targets.length, 0);
    assert.equal(s.changed, true, 'counts.deployed says something was deployed');
    assert.deepEqual(s.changes, []);
    assert.equal(s.smoke?.passRate, 0.975, 'a smoke result without targets still has its figures');
    assert.equal(s.smoke?.p95Ms, 2100);
    assert.deepEqual(s.smoke?.runs, []);
    assert.equal(s.rollback?.ok, false);
    assert.deepEqual(s.failures, [{ label: 'rollback', message: 'no backup for x' }]);
  });

  it('a rollback that changed the live app is a changed build, for on: [changed]', () => {
    // The shape the rollback command writes: targets with status rolled-back | unchanged | dry-run | failed.
    const rollback = (status: string, counts: Record<string, number> = {}) =>
      resultFile('rollback', status === 'failed' ? 'failed' : 'success', {
        counts,
        data: { env: 'production', targets: [{ env: 'production', app: 'support-bot', target: 'support-bot@production', status, from: { versionId: 'wf-9' }, to: { versionId: 'wf-8', file: null }, versionId: 'wf-10' }] },
      });
    const summaryOf = (file: Record<string, unknown>) => {
      const dir = tempDir();
      writeResults(dir, { 'rollback.json': file });
      return buildSummary({ status: 'success', results: readResultFiles(dir), environ: {}, env: 'production' });
    };
    const rolledBack = summaryOf(rollback('rolled-back', { targets: 1, rolledBack: 1, unchanged: 0, failed: 0 }));
    assert.equal(rolledBack.changed, true);
    assert.deepEqual(matchedRules(['failure', 'changed'], rolledBack), ['changed']);
    assert.equal(summaryOf(rollback('unchanged', { targets: 1, rolledBack: 0, unchanged: 1, failed: 0 })).changed, false, 'already at the rollback target');
    assert.equal(summaryOf(rollback('dry-run')).changed, false);
    assert.equal(summaryOf(rollback('failed')).changed, false);
    // Without per-target data, the count says it.
    assert.equal(summaryOf(resultFile('rollback', 'success', { counts: { rolledBack: 2 } })).changed, true);
    assert.equal(summaryOf(resultFile('rollback', 'success', { counts: { rolledBack: 0 } })).changed, false);
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
    writeResults(dir, { 'smoke.json': resultFile('smoke', 'failed', { data: { unstableOnFailure: true } }) });
    assert.equal(deriveStatus(readResultFiles(dir)), 'unstable', 'smoke.unstableOnFailure');
    writeResults(dir, { 'smoke.json': resultFile('smoke', 'failed', { data: { unstableOnFailure: false } }) });
    assert.equal(deriveStatus(readResultFiles(dir)), 'failure');
    writeResults(dir, { 'smoke.json': resultFile('smoke', 'failed', { data: { unstableOnFailure: true } }), 'deploy.json': resultFile('deploy', 'error') });
    assert.equal(deriveStatus(readResultFiles(dir)), 'failure');
  });
});

describe('notify: --env narrows the summary to one environment', () => {
  it('leaves out result files and targets of other environments of the same build', () => {
    const dir = tempDir();
    writeResults(dir, {
      'deploy-staging.json': resultFile('deploy', 'success', { data: { env: 'staging', targets: [{ env: 'staging', app: 'bot', status: 'deployed', changed: true, versionId: 's-1' }] } }, 1),
      'deploy-production.json': resultFile('deploy', 'failed', { data: { env: 'production', targets: [{ env: 'production', app: 'bot', status: 'failed', changed: false, error: 'boom' }] } }, 2),
      'smoke-staging.json': resultFile('smoke', 'success', { counts: { passed: 10, failed: 0 }, data: { passRate: 1, targets: [{ app: 'bot', env: 'staging', passed: true, passRate: 1, runs: { passed: 10, failed: 0 } }] } }, 3),
    });
    const all = buildSummary({ status: 'failure', results: readResultFiles(dir), environ: {} });
    assert.deepEqual(all.envs, ['staging', 'production']);
    assert.equal(all.targets.length, 2);

    const prod = buildSummary({ status: 'failure', results: readResultFiles(dir), environ: {}, env: 'production' });
    assert.deepEqual(prod.targets.map((t) => [t.env, t.ok]), [['production', false]]);
    assert.equal(prod.smoke, undefined, 'the staging smoke run is not production news');
    assert.equal(prod.changed, false);
    const staging = buildSummary({ status: 'success', results: readResultFiles(dir), environ: {}, env: 'staging' });
    assert.deepEqual([staging.changed, staging.smoke?.passRate, staging.failures.length], [true, 1, 0]);
  });
});
