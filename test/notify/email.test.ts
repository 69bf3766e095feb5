import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clearSecrets, registerSecret } from '../../runner/src/core/mask.js';
import type { EmailConfig } from '../../runner/src/config/types.js';
import { NotifyError } from '../../runner/src/notify/channel.js';
import { sendEmail } from '../../runner/src/notify/email.js';
import { buildSummary, readResultFiles, type RunSummary } from '../../runner/src/notify/summary.js';
import { loadEmailTemplate } from '../../runner/src/notify/templates.js';
import { CANARY, closedPort, failedRunFixture, startFakeSmtp, tempDir, testCertificate, writeResults, type FakeSmtp } from './helpers.js';

const JENKINS = { JOB_NAME: 'dify/support-bot', BUILD_NUMBER: '42', BUILD_URL: 'https://jenkins.example.com/job/x/42/' };

function workspace(): { cwd: string; summary: RunSummary } {
  const cwd = tempDir();
  writeResults(join(cwd, '.dify-ci/results'), failedRunFixture());
  mkdirSync(join(cwd, '.dify-ci/reports'), { recursive: true });
  writeFileSync(join(cwd, '.dify-ci/reports/smoke.html'), `<html><body><h1>Smoke report</h1><p>answer leaked ${CANARY}</p></body></html>`);
  const summary = buildSummary({
    status: 'failure',
    results: readResultFiles(join(cwd, '.dify-ci/results')),
    environ: JENKINS,
    env: 'production',
    reportUrl: ({ reportPath, jenkins }) => `${jenkins.buildUrl}artifact/${reportPath}`,
  });
  return { cwd, summary };
}

describe('notify: email over SMTP (smtp-server on loopback)', () => {
  let smtp: FakeSmtp;
  const tls = { ca: [testCertificate().cert] };
  beforeEach(() => {
    clearSecrets();
    registerSecret(CANARY);
  });
  afterEach(async () => {
    await smtp?.close();
    clearSecrets();
  });

  it('sends HTML + text, the subject line, and the smoke report attached, over STARTTLS with a login', async () => {
    smtp = await startFakeSmtp({ users: { 'ci-mailer': 'smtp-pass-123' } });
    const { cwd, summary } = workspace();
    const cfg: EmailConfig = {
      to: ['ops@example.com', 'dev@example.com'],
      from: 'dify-ci <ci@example.com>',
      smtp: { host: '127.0.0.1', port: smtp.port, userEnv: 'SMTP_USER', passwordEnv: 'SMTP_PASSWORD' },
      attachReport: true,
      on: ['always'],
    };
    const { detail } = await sendEmail(summary, cfg, loadEmailTemplate(undefined, '/'), { environ: { SMTP_USER: 'ci-mailer', SMTP_PASSWORD: 'smtp-pass-123' }, cwd, tls });
    assert.match(detail, /sent to 2 recipient\(s\) via 127\.0\.0\.1:\d+/);
    assert.equal(smtp.mails.length, 1);
    const m = smtp.mails[0]!;
    assert.equal(m.secure, true, 'STARTTLS was used');
    assert.equal(m.user, 'ci-mailer');
    assert.deepEqual(m.envelopeTo, ['ops@example.com', 'dev@example.com']);
    assert.equal(m.parsed.subject, '❌ [dify-ci] support-bot, faq-bot → production failed (#42)');
    const text = m.parsed.text ?? '';
    const html = String(m.parsed.html);
    assert.match(text, /Deployed \(1 changed of 2\):\n {2}- support-bot → production: deployed, version wf-2024-0042/);
    assert.match(text, /Smoke tests: pass rate 90\.0% \(18\/20\), p95 1830 ms/);
    assert.match(text, /Rollback: rolled back 1 target/);
    assert.match(html, /<a href="https:\/\/jenkins\.example\.com\/job\/x\/42\/">dify\/support-bot #42<\/a>/);
    assert.match(html, /Pass rate <b>90\.0%<\/b>/);
    assert.match(html, /&lt;!channel&gt;/, 'values are HTML-escaped');
    assert.match(html, /href="https:\/\/jenkins\.example\.com\/job\/x\/42\/artifact\/\.dify-ci\/reports\/smoke\.html"/);
    assert.equal(m.parsed.attachments.length, 1);
    const a = m.parsed.attachments[0]!;
    assert.equal(a.filename, 'smoke.html');
    assert.equal(a.contentType, 'text/html');
    assert.match(a.content.toString('utf8'), /<h1>Smoke report<\/h1>/);

    // The canary is in the deploy error, the smoke summary and the report: it must be nowhere in the mail.
    for (const part of [m.raw, text, html, m.parsed.subject ?? '', a.content.toString('utf8')]) assert.ok(!part.includes(CANARY));
    assert.ok(!Buffer.from(m.raw).toString('base64').includes(Buffer.from(CANARY).toString('base64').slice(0, 16)));
    assert.match(a.content.toString('utf8'), /answer leaked \*\*\*/);
  });

  it('a wrong SMTP password is a NotifyError, and the password is not in it', async () => {
    // This server's refusal repeats the login it was given, so the password is in the reply that the error quotes.
    smtp = await startFakeSmtp({ users: { 'ci-mailer': 'right' }, echoCredentials: true });
    const { cwd, summary } = workspace();
    const cfg: EmailConfig = { to: ['ops@example.com'], from: 'ci@example.com', smtp: { host: '127.0.0.1', port: smtp.port, userEnv: 'U', passwordEnv: 'P' }, attachReport: false, on: ['always'] };
    let message = '';
    await assert.rejects(sendEmail(summary, cfg, loadEmailTemplate(undefined, '/'), { environ: { U: 'ci-mailer', P: 'wrong-password-77' }, cwd, tls }), (e: unknown) => {
      message = (e as Error).message;
      return e instanceof NotifyError;
    });
    assert.equal(message, `cannot send email via 127.0.0.1:${smtp.port}: 535 Invalid login: user ci-mailer password ***`);
    assert.deepEqual(smtp.logins, [{ user: 'ci-mailer', pass: 'wrong-password-77' }]);
    assert.equal(smtp.mails.length, 0);
  });

  it('without a login it still upgrades to TLS when offered, and attaches nothing when attachReport is false', async () => {
    smtp = await startFakeSmtp();
    const { cwd, summary } = workspace();
    const cfg: EmailConfig = { to: ['ops@example.com'], from: 'ci@example.com', smtp: { host: '127.0.0.1', port: smtp.port }, attachReport: false, on: ['always'] };
    await sendEmail(summary, cfg, loadEmailTemplate(undefined, '/'), { environ: {}, cwd, tls });
    assert.equal(smtp.mails[0]!.secure, true);
    assert.equal(smtp.mails[0]!.parsed.attachments.length, 0);
  });

  it('SMTP down: a NotifyError naming the server', async () => {
    smtp = await startFakeSmtp();
    const port = await closedPort();
    const { cwd, summary } = workspace();
    const cfg: EmailConfig = { to: ['ops@example.com'], from: 'ci@example.com', smtp: { host: '127.0.0.1', port }, attachReport: false, on: ['always'] };
    await assert.rejects(sendEmail(summary, cfg, loadEmailTemplate(undefined, '/'), { environ: {}, cwd }), (e: unknown) => e instanceof NotifyError && e.message.includes(`127.0.0.1:${port}`) && /ECONNREFUSED/.test(e.message));
  });

  it('a password variable that is not set is reported before connecting', async () => {
    smtp = await startFakeSmtp({ users: {} });
    const { cwd, summary } = workspace();
    const cfg: EmailConfig = { to: ['ops@example.com'], from: 'ci@example.com', smtp: { host: '127.0.0.1', port: smtp.port, passwordEnv: 'SMTP_PASSWORD' }, attachReport: false, on: ['always'] };
    await assert.rejects(sendEmail(summary, cfg, loadEmailTemplate(undefined, '/'), { environ: {}, cwd }), /\$SMTP_PASSWORD is not set/);
    assert.equal(smtp.logins.length, 0);
  });
});
