/**
 * The file Jenkins runs, run as Jenkins runs it: `node resources/dify-ci/runner.cjs` (or the sources with
 * DIFY_CI_TEST_RUNNER=source) as its own process, from a copy of examples/tenant-repo with no node_modules, against
 * the emulator over real HTTP, with Slack and SMTP stand-ins on loopback: every command once, the cases building on
 * each other like a pipeline. The apps have no appId or name in the config, so smoke finds them by their DSL's
 * app.name — the path a dynamic import() broke in the bundle.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { startEmulator, type Emulator } from '../../runner/src/emulator/index.js';
import { startSlackCapture, startSmtpCapture, type SlackCapture, type SmtpCapture } from '../../runner/src/demo/capture.js';
import { ROOT, runRunner, tempProject, type CliResult } from '../helpers/cli.js';

const TICKETS_KEY = 'tk-e2e-canary-5150';

describe('end to end: every command of the runner against the emulator', function () {
  this.timeout(120_000);
  let emu: Emulator;
  let slack: SlackCapture;
  let smtp: SmtpCapture;
  let dir: string;
  const outputs: string[] = [];
  const env = () => ({
    DIFY_STAGING_PASSWORD: emu.admin.password,
    TICKETS_API_KEY_STAGING: TICKETS_KEY,
    SLACK_BOT_TOKEN: 'xoxb-e2e-0000',
    JOB_NAME: 'acme/support-apps/main',
    BUILD_NUMBER: '7',
    BUILD_URL: 'http://jenkins.example.com/job/acme/7/',
    GIT_COMMIT: 'c0ffee1d15ea5e0123456789abcdef0123456789',
  });
  const run = async (...args: string[]): Promise<CliResult> => {
    const r = await runRunner(args, { cwd: dir, env: env() });
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  const result = (command: string) => JSON.parse(readFileSync(join(dir, `.dify-ci/results/${command}.json`), 'utf8'));

  before(async () => {
    emu = await startEmulator({ port: 0 });
    slack = await startSlackCapture();
    smtp = await startSmtpCapture();
    dir = tempProject({});
    cpSync(join(ROOT, 'examples/tenant-repo'), dir, { recursive: true });
    const file = join(dir, 'dify-ci.yml');
    const doc = parseDocument(readFileSync(file, 'utf8'));
    doc.delete('$schema');
    doc.setIn(['environments', 'staging', 'url'], emu.url);
    doc.setIn(['notify', 'slack', 'apiUrl'], slack.url);
    doc.setIn(['notify', 'email', 'smtp'], doc.createNode({ host: '127.0.0.1', port: smtp.port, secure: false }));
    writeFileSync(file, doc.toString({ lineWidth: 0 }));
  });
  after(async () => {
    await Promise.all([emu.close(), slack.close(), smtp.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('validate checks every app DSL of the configuration and writes JUnit for Jenkins', async () => {
    const r = await run('validate', '--format', 'junit', '--output', '.dify-ci/reports/validate.xml');
    assert.equal(r.code, 0, r.stderr);
    assert.match(readFileSync(join(dir, '.dify-ci/reports/validate.xml'), 'utf8'), /<testsuites[^>]*>[\s\S]*apps\/support-bot\.yml/);
    assert.deepEqual(result('validate').counts, { files: 2, errors: 0, warnings: 0, infos: result('validate').counts.infos });
  });

  it('context names the credentials a deploy to staging binds', async () => {
    const r = await run('context', '--step', 'deploy', '--env', 'staging');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).credentials.map((b: { credentialsId: string }) => b.credentialsId), ['dify-staging-password', 'tickets-api-key-staging']);
  });

  it('plan shows two new apps, saves the plan and exits 3 with --detailed-exitcode', async () => {
    const r = await run('plan', '--env', 'staging', '--detailed-exitcode', '--out', '.dify-ci/plan.json');
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stdout, /^\+ staging\/support-bot /m);
    assert.match(r.stdout, /^\+ staging\/text-summarizer /m);
    assert.equal(result('plan').counts.changed, 2);
    assert.equal(JSON.parse(readFileSync(join(dir, '.dify-ci/plan.json'), 'utf8')).targets.length, 2);
  });

  it('deploys, then smoke-tests apps found by their DSL name', async () => {
    const deploy = await run('deploy', '--env', 'staging');
    assert.equal(deploy.code, 0, deploy.stderr);
    assert.deepEqual(result('deploy').counts, { targets: 2, deployed: 2, unchanged: 0, failed: 0, refused: 0 });
    const smoke = await run('smoke', '--env', 'staging');
    assert.equal(smoke.code, 0, smoke.stderr);
    const res = result('smoke');
    assert.equal(res.status, 'success', smoke.stderr);
    assert.doesNotMatch(smoke.stderr, /cannot tell which Dify app/);
    assert.ok(!smoke.stderr.includes(TICKETS_KEY) && !smoke.stdout.includes(TICKETS_KEY), 'the secret is masked');
    assert.ok(existsSync(join(dir, '.dify-ci/reports/smoke/junit-smoke.xml')), 'the JUnit report for Jenkins');
  });

  it('status shows both apps in sync; backup exports them with an index', async () => {
    const s = await run('status', '--env', 'staging', '--fail-on-drift');
    assert.equal(s.code, 0, s.stderr);
    assert.deepEqual([result('status').counts.targets, result('status').counts.drifted], [2, 0]);
    const b = await run('backup', '--env', 'staging', '--out', '.dify-ci/full-backup');
    assert.equal(b.code, 0, b.stderr);
    const index = JSON.parse(readFileSync(join(dir, '.dify-ci/full-backup/index.json'), 'utf8'));
    assert.deepEqual(index.apps.map((a: { app?: string; file: string }) => a.file).sort(), ['support-bot.yml', 'text-summarizer.yml']);
  });

  it('a bad change deploys, then the smoke gate fails with exit 1', async () => {
    const file = join(dir, 'apps/support-bot.yml');
    const text = readFileSync(file, 'utf8');
    const broken = text.replace(/answer: '\{\{#llm\.text#\}\}[^']*'/, "answer: 'Sorry, our support desk is closed.'");
    assert.notEqual(broken, text, 'the example answer template was found');
    writeFileSync(file, broken);
    const d = await run('deploy', '--env', 'staging', '--app', 'support-bot');
    assert.equal(d.code, 0, d.stderr);
    const s = await run('smoke', '--env', 'staging', '--app', 'support-bot');
    assert.equal(s.code, 1, s.stderr);
    assert.equal(result('smoke').status, 'failed');
  });

  it('rollback brings the previous version back, and smoke passes again', async () => {
    const r = await run('rollback', '--env', 'staging', '--app', 'support-bot');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^✔ staging\/support-bot: rolled back to /m);
    const s = await run('smoke', '--env', 'staging', '--app', 'support-bot');
    assert.equal(s.code, 0, s.stderr);
  });

  it('notify tells Slack and email that the build failed', async () => {
    const r = await run('notify', '--status', 'failure');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(slack.messages.length, 1, r.stderr);
    assert.match(String(slack.messages[0]!.body.text), /failed \(#7\)/);
    assert.equal(smtp.messages.length, 1, r.stderr);
    assert.deepEqual(smtp.messages[0]!.to, ['devops@example.com']);
  });

  it('no command printed the secret', () => {
    assert.ok(outputs.length >= 20);
    for (const out of outputs) assert.ok(!out.includes(TICKETS_KEY) && !out.includes(emu.admin.password), 'a secret leaked');
  });
});
