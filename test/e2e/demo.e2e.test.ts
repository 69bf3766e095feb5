/**
 * `dify-ci demo` as `npm run demo` plays it: the runner (the bundle, see DIFY_CI_TEST_RUNNER) as its own process,
 * which runs every pipeline step as a further runner process against two emulators and the Slack/SMTP stand-ins.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runRunner, useTempDir } from '../helpers/cli.js';

describe('end to end: the demo', function () {
  this.timeout(180_000); // a bound for a loaded machine; it takes seconds alone
  const tmp = useTempDir('dify-ci-demo-');

  it('plays the whole pipeline, each step with the exit code a real pipeline expects', async () => {
    const out = join(tmp(), 'demo');
    const resultFile = join(tmp(), 'demo.json');
    const r = await runRunner(['demo', '--out', out, '--latency', '0', '--result-file', resultFile]);
    assert.equal(r.code, 0, r.stderr);
    const res = JSON.parse(readFileSync(resultFile, 'utf8'));
    assert.equal(res.status, 'success', r.stderr);
    assert.deepEqual(res.counts, { steps: 15, unexpected: 0, slackMessages: 2, emails: 1 });
    const steps = res.data.steps.map((s: { command: string; exitCode: number }) => `${s.command.split(' ')[0]} ${s.exitCode}`);
    assert.deepEqual(steps.filter((s: string) => !s.endsWith(' 0')), ['plan 3', 'smoke 1'], 'the bad change: plan shows changes, the smoke gate fails');
    assert.match(r.stderr, /every step behaved as a real pipeline should/);
    rmSync(out, { recursive: true, force: true });
  });
});
