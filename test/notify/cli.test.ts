/**
 * `dify-ci notify` end to end: the runner as its own process in a temp workspace, talking to a local Slack stand-in
 * and a local SMTP server with STARTTLS (trusted through NODE_EXTRA_CA_CERTS, as a real install with an internal CA
 * would). Cases that send no email run in-process.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clearSecrets, registerSecret } from '../../runner/src/core/mask.js';
import { writeResult, type CommandResult } from '../../runner/src/core/result.js';
import type { Block } from '../../runner/src/notify/slack-blocks.js';
import { CANARY, closedPort, failedRunFixture, resultFile, runCli, runInProcess, startFakeSlack, startFakeSmtp, tempDir, testCertificate, writeResults, type FakeSlack, type FakeSmtp } from './helpers.js';

function project(slackUrl: string, smtpPort: number, extra = ''): string {
  const dir = tempDir();
  mkdirSync(join(dir, 'apps'));
  writeFileSync(
    join(dir, 'dify-ci.yml'),
    `apps:
  support-bot: { dsl: apps/support-bot.yml }
  faq-bot: { dsl: apps/faq-bot.yml }
environments:
  production:
    url: http://127.0.0.1:9
    auth: { mode: token, tokenEnv: DIFY_TOKEN }
    secrets:
      OPENAI_KEY: { env: OPENAI_KEY }
notify:
  slack:
    channel: "#deploys"
    tokenEnv: SLACK_BOT_TOKEN
    apiUrl: ${slackUrl}/api/
    on: [failure, fixed]
  email:
    to: [ops@example.com]
    from: dify-ci <ci@example.com>
    smtp: { host: 127.0.0.1, port: ${smtpPort}, userEnv: SMTP_USER, passwordEnv: SMTP_PASSWORD }
    attachReport: true
    on: [failure]
${extra}`,
  );
  return dir;
}

/** Result files as the other commands of this build just wrote them. */
function writeFresh(dir: string, files: Record<string, Record<string, unknown>>): void {
  const now = new Date().toISOString();
  writeResults(join(dir, '.dify-ci/results'), Object.fromEntries(Object.entries(files).map(([k, v]) => [k, { ...v, startedAt: now, finishedAt: now }])));
}

const env = (build: string, extra: Record<string, string> = {}) => ({
  JOB_NAME: 'dify/support-bot',
  BUILD_NUMBER: build,
  BUILD_URL: `https://jenkins.example.com/job/support-bot/${build}/`,
  GIT_COMMIT: 'fedcba9876543210',
  GIT_BRANCH: 'origin/main',
  OPENAI_KEY: CANARY,
  SLACK_BOT_TOKEN: 'xoxb-e2e-token-42',
  SMTP_USER: 'ci-mailer',
  SMTP_PASSWORD: 'smtp-e2e-pass-42',
  NODE_EXTRA_CA_CERTS: testCertificate().certFile,
  ...extra,
});

const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

describe('notify: the CLI end to end', function () {
  this.timeout(60000);
  let slack: FakeSlack;
  let smtp: FakeSmtp;
  beforeEach(async () => {
    slack = await startFakeSlack();
    smtp = await startFakeSmtp({ users: { 'ci-mailer': 'smtp-e2e-pass-42' } });
  });
  afterEach(async () => {
    await slack.close();
    await smtp.close();
  });

  it('failure → Slack + email; next build fixed → Slack only; stale result files are ignored; then quiet', async () => {
    const dir = project(slack.url, smtp.port);
    writeFresh(dir, failedRunFixture());
    mkdirSync(join(dir, '.dify-ci/reports'), { recursive: true });
    writeFileSync(join(dir, '.dify-ci/reports/smoke.html'), `<p>${CANARY}</p>`);

    const r1 = await runCli(['notify', '--env', 'production', '--status', 'FAILURE'], dir, env('42'));
    assert.equal(r1.code, 0, r1.stderr);
    assert.match(r1.stderr, /slack: posted to #deploys \(matched on: failure\)/);
    assert.match(r1.stderr, /email: sent to 1 recipient\(s\)/);
    assert.equal(slack.calls.length, 1);
    assert.equal(smtp.mails.length, 1);
    const blocks = slack.calls[0]!.params.blocks as Block[];
    assert.equal((blocks[0]!.text as { text: string }).text, '❌ support-bot, faq-bot → production failed');
    const mail = smtp.mails[0]!;
    assert.equal(mail.secure, true);
    assert.equal(mail.parsed.subject, '❌ [dify-ci] support-bot, faq-bot → production failed (#42)');
    assert.equal(mail.parsed.attachments[0]?.filename, 'smoke.html');
    for (const s of [slack.calls[0]!.raw, mail.raw, mail.parsed.attachments[0]!.content.toString('utf8'), r1.stderr, r1.stdout]) {
      assert.ok(!s.includes(CANARY), 'the canary secret never leaves the runner');
      assert.ok(!s.includes('smtp-e2e-pass-42') && !s.includes('xoxb-e2e-token-42'), 'nor do the SMTP password and the Slack token');
    }
    const res1 = readJson(join(dir, '.dify-ci/results/notify.json'));
    assert.equal(res1.status, 'success');
    assert.deepEqual(res1.counts, { sent: 2, skipped: 0, failed: 0, results: 5 });
    const hist = readFileSync(join(dir, '.dify-ci/history/notify.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(hist.map((h: { build: string; status: string; env: string }) => [h.build, h.status, h.env]), [['42', 'failure', 'production']]);

    // Build 43 in the same workspace: only smoke ran again; deploy.json etc. are left over from build 42.
    await new Promise((r) => setTimeout(r, 20));
    writeFresh(dir, { 'smoke.json': resultFile('smoke', 'success', { summary: 'all passed', counts: { passed: 20, failed: 0 }, data: { passRate: 1, totals: { runsPassed: 20, runsFailed: 0 }, latencyMs: { p95: 800 } } }) });
    const r2 = await runCli(['notify', '--env', 'production', '--status', 'success'], dir, env('43'));
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stderr, /ignoring .*deploy\.json: left over from an earlier build/);
    assert.match(r2.stderr, /slack: posted to #deploys \(matched on: fixed\)/);
    assert.match(r2.stderr, /email: not sent — on: \[failure\], this build: success, fixed/);
    assert.equal(slack.calls.length, 2);
    assert.equal(smtp.mails.length, 1);
    const b2 = JSON.stringify(slack.calls[1]!.params.blocks);
    assert.match(b2, /\*Result\*\\nsucceeded \(fixed\)/);
    assert.match(b2, /pass rate \*100%\* \(20\/20\) · p95 800 ms/);
    assert.ok(!b2.includes('faq-bot'), 'nothing from the previous build leaks into this message');

    // Build 44: success after success — the default rules stay quiet (and build 43's smoke.json is stale now).
    const r3 = await runCli(['notify', '--env', 'production', '--status', 'success'], dir, env('44'));
    assert.equal(r3.code, 0, r3.stderr);
    assert.match(r3.stderr, /slack: not sent — on: \[failure, fixed\], this build: success$/m);
    assert.equal(slack.calls.length, 2);
    assert.deepEqual(readJson(join(dir, '.dify-ci/results/notify.json')).counts, { sent: 0, skipped: 2, failed: 0, results: 0 });
  });

  it('--previous-status overrides the history (for pipelines that pass currentBuild.previousBuild.result)', async () => {
    const dir = project(slack.url, smtp.port);
    const r = await runCli(['notify', '--env', 'production', '--status', 'success', '--previous-status', 'UNSTABLE', '--channel', 'slack'], dir, env('7'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /matched on: fixed/);
    assert.equal(slack.calls.length, 1);
  });

  it('SMTP down: a warning and exit 0; with --strict exit 1; Slack is still sent', async () => {
    const dir = project(slack.url, await closedPort());
    writeFresh(dir, failedRunFixture());
    const r = await runCli(['notify', '--env', 'production', '--status', 'failure'], dir, env('50'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: email: cannot send email via 127\.0\.0\.1:\d+: .*ECONNREFUSED.*use --strict/);
    assert.equal(slack.calls.length, 1);
    const res = readJson(join(dir, '.dify-ci/results/notify.json'));
    assert.equal(res.status, 'failed');
    assert.equal(res.exitCode, 0);
    assert.equal(res.data.channels.find((c: { channel: string }) => c.channel === 'email').status, 'failed');

    const strict = await runCli(['notify', '--env', 'production', '--status', 'failure', '--strict'], dir, env('51'));
    assert.equal(strict.code, 1, strict.stderr);
    assert.match(strict.stderr, /error: email: cannot send email/);
    assert.equal(slack.calls.length, 2, 'Slack was still posted');
    assert.equal(readJson(join(dir, '.dify-ci/results/notify.json')).status, 'error');
  });

  it('an unexpected error in one channel (the report to attach is a directory) is that channel failing, not notify', async () => {
    const dir = project(slack.url, smtp.port);
    writeFresh(dir, failedRunFixture());
    // smoke.json names .dify-ci/reports/smoke.html; here it is a directory, so reading it fails with EISDIR.
    mkdirSync(join(dir, '.dify-ci/reports/smoke.html'), { recursive: true });
    const history = () => readFileSync(join(dir, '.dify-ci/history/notify.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).build);

    const r = await runCli(['notify', '--env', 'production', '--status', 'failure'], dir, env('90'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^warning: email: internal error: EISDIR[^\n]* — not failing the build \(use --strict to fail it\)$/m);
    assert.ok(!r.stderr.includes('    at '), 'no stack trace without --verbose');
    assert.equal(slack.calls.length, 1, 'Slack was delivered');
    assert.equal(smtp.mails.length, 0);
    const res = readJson(join(dir, '.dify-ci/results/notify.json'));
    assert.deepEqual([res.status, res.exitCode, res.counts.sent, res.counts.failed], ['failed', 0, 1, 1]);
    assert.match(res.data.channels.find((c: { channel: string }) => c.channel === 'email').detail, /^internal error: EISDIR/);
    assert.deepEqual(history(), ['90'], 'the build is in the history, so the next one can be `fixed`');

    await new Promise((res) => setTimeout(res, 20));
    writeFresh(dir, failedRunFixture());
    const strict = await runCli(['notify', '--env', 'production', '--status', 'failure', '--strict'], dir, env('91'));
    assert.equal(strict.code, 1, strict.stderr);
    assert.match(strict.stderr, /^error: email: internal error: EISDIR/m);
    assert.equal(slack.calls.length, 2);
    assert.deepEqual(history(), ['90', '91']);
    assert.equal(readJson(join(dir, '.dify-ci/results/notify.json')).status, 'error');
  });

  it("a secret that only the producing command knew is masked by that command's result file, not by notify", async () => {
    const dir = project(slack.url, smtp.port);
    const resultsDir = join(dir, '.dify-ci/results');
    // As deploy and smoke do in their own Jenkins steps, with OPENAI_KEY bound: registered, then written.
    registerSecret(CANARY);
    try {
      const now = new Date().toISOString();
      for (const [name, v] of Object.entries(failedRunFixture())) writeResult(join(resultsDir, name), { ...v, startedAt: now, finishedAt: now } as unknown as CommandResult);
    } finally {
      clearSecrets();
    }
    assert.ok(!readFileSync(join(resultsDir, 'deploy.json'), 'utf8').includes(CANARY));
    // The notify step binds the notify credentials only: its environment does not hold the canary.
    const { OPENAI_KEY: _, ...notifyEnv } = env('100');
    const r = await runCli(['notify', '--env', 'production', '--status', 'failure'], dir, notifyEnv);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(slack.calls.length, 1);
    assert.equal(smtp.mails.length, 1);
    const body = slack.calls[0]!.raw;
    const mail = smtp.mails[0]!;
    assert.match(JSON.stringify(slack.calls[0]!.params.blocks), /import failed: key \*\*\* rejected/, 'masked, not dropped');
    for (const s of [body, mail.raw, mail.parsed.text ?? '', String(mail.parsed.html), r.stderr, r.stdout]) assert.ok(!s.includes(CANARY));

    // Control: the same files written without masking do reach Slack — notify could not have masked them itself.
    await new Promise((res) => setTimeout(res, 20));
    writeFresh(dir, failedRunFixture());
    const leak = await runCli(['notify', '--env', 'production', '--status', 'failure', '--channel', 'slack'], dir, { ...notifyEnv, BUILD_NUMBER: '101' });
    assert.equal(leak.code, 0, leak.stderr);
    assert.ok(slack.calls[1]!.raw.includes(CANARY), 'notify does not know the canary');
  });

  it('a broken org template: a warning with file:line:column; with --strict exit 2', async () => {
    const dir = project(slack.url, smtp.port);
    writeFileSync(join(dir, 'slack.yml'), 'text: "{{title}}"\nblocks:\n  - type: section\n    text: {type: mrkdwn, text: "{{#targets}}{{labl}}{{/targets}}"}\n');
    const cfg = readFileSync(join(dir, 'dify-ci.yml'), 'utf8').replace('    on: [failure, fixed]', '    template: slack.yml\n    on: [failure, fixed]');
    writeFileSync(join(dir, 'dify-ci.yml'), cfg);
    const r = await runInProcess(['notify', '--env', 'production', '--status', 'failure', '--channel', 'slack'], dir, env('60'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: slack: slack\.yml:4:\d+: template blocks\[0\]\.text\.text: unknown placeholder 'labl' \(did you mean 'label'\?\)/);
    const s = await runInProcess(['notify', '--env', 'production', '--status', 'failure', '--channel', 'slack', '--strict'], dir, env('61'));
    assert.equal(s.code, 2, s.stderr);
    assert.equal(slack.calls.length, 0);
  });

  it('a bad notify.reportUrl placeholder: a warning with its position, the artifact link instead', async () => {
    const dir = project(slack.url, smtp.port, '  reportUrl: "https://reports.example.com/{{jbo}}"\n');
    writeFresh(dir, failedRunFixture());
    const r = await runInProcess(['notify', '--env', 'production', '--status', 'failure', '--dry-run'], dir, env('80'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: dify-ci\.yml:22:14: notify\.reportUrl: unknown placeholder 'jbo' \(did you mean 'job'\?\)/);
    assert.match(r.stdout, /"url": "https:\/\/jenkins\.example\.com\/job\/support-bot\/80\/artifact\/\.dify-ci\/reports\/smoke\.html"/);
  });

  it('usage errors exit 2: a bad --status, an unconfigured --channel', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'dify-ci.yml'), 'apps:\n  a: { dsl: a.yml }\nenvironments:\n  staging:\n    url: http://127.0.0.1:9\n    auth: { mode: token, tokenEnv: T }\n');
    const bad = await runInProcess(['notify', '--status', 'green'], dir, env('1'));
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--status must be one of success, failure, unstable, aborted \(got 'green'\)/);
    const ch = await runInProcess(['notify', '--status', 'failure', '--channel', 'slack'], dir, env('1'));
    assert.equal(ch.code, 2);
    assert.match(ch.stderr, /notify\.slack is not configured/);
    const none = await runInProcess(['notify', '--status', 'failure'], dir, env('1'));
    assert.equal(none.code, 0);
    assert.match(readJson(join(dir, '.dify-ci/results/notify.json')).summary, /no notification channel is configured/);
  });

  it('--dry-run prints both rendered messages and sends nothing, records no history', async () => {
    const dir = project(slack.url, smtp.port, '  reportUrl: "https://reports.example.com/{{job}}/{{buildNumber}}/{{reportPath}}"\n');
    writeFresh(dir, failedRunFixture());
    const r = await runInProcess(['notify', '--env', 'production', '--status', 'success', '--dry-run'], dir, env('70'));
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.slack.mode, 'api');
    assert.ok(Array.isArray(out.slack.message.blocks));
    assert.match(out.email.subject, /^✅ \[dify-ci\] support-bot, faq-bot → production succeeded \(#70\)$/);
    assert.ok(!r.stdout.includes(CANARY));
    const urls = JSON.stringify(out.slack.message.blocks).match(/"url":"[^"]+"/g);
    assert.ok(urls?.includes('"url":"https://reports.example.com/dify/support-bot/70/.dify-ci/reports/smoke.html"'), String(urls));
    assert.equal(slack.calls.length + smtp.mails.length, 0);
    assert.equal(existsSync(join(dir, '.dify-ci/history/notify.jsonl')), false);
  });
});
