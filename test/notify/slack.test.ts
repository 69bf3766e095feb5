import { strict as assert } from 'node:assert';
import { clearSecrets, registerSecret } from '../../runner/src/core/mask.js';
import type { SlackConfig } from '../../runner/src/config/types.js';
import { NotifyError } from '../../runner/src/notify/channel.js';
import { LIMITS, fitBlocks, renderSlackMessage, truncateText, type Block } from '../../runner/src/notify/slack-blocks.js';
import { INLINE_WHEN_THREADED, sendSlack, THREAD_THRESHOLD } from '../../runner/src/notify/slack.js';
import { buildSummary, readResultFiles, type RunSummary } from '../../runner/src/notify/summary.js';
import { compileSlackTemplate, loadSlackTemplate } from '../../runner/src/notify/templates.js';
import { buildView } from '../../runner/src/notify/view.js';
import { CANARY, failedRunFixture, resultFile, startFakeSlack, tempDir, writeResults, type FakeSlack } from './helpers.js';

const JENKINS = {
  JOB_NAME: 'dify/support-bot',
  BUILD_NUMBER: '42',
  BUILD_URL: 'https://jenkins.example.com/job/dify/job/support-bot/42/',
  GIT_COMMIT: '0123456789abcdef0123',
  GIT_BRANCH: 'origin/main',
  CHANGE_ID: '17',
  CHANGE_URL: 'https://git.example.com/pr/17',
  CHANGE_AUTHOR: 'ann',
};
const FAST = { retries: 2, minTimeout: 5, maxTimeout: 10, factor: 1 };

function failedSummary(): RunSummary {
  const dir = tempDir();
  writeResults(dir, failedRunFixture());
  return buildSummary({
    status: 'failure',
    results: readResultFiles(dir),
    environ: JENKINS,
    env: 'production',
    reportUrl: ({ reportPath, jenkins }) => `${jenkins.buildUrl}artifact/${reportPath}`,
  });
}

/** A deploy with `n` failed tenants. */
function manyFailures(n: number): RunSummary {
  const dir = tempDir();
  const targets = Array.from({ length: n }, (_, i) => ({ app: 'support-bot', env: 'production', tenant: `tenant-${String(i).padStart(3, '0')}`, changed: false, status: 'failed', error: `HTTP 500 from Dify (${'x'.repeat(40)})` }));
  writeResults(dir, { 'deploy.json': resultFile('deploy', 'failed', { data: { targets } }) });
  return buildSummary({ status: 'failure', results: readResultFiles(dir), environ: JENKINS, env: 'production' });
}

const texts = (blocks: Block[]) => JSON.stringify(blocks);

describe('notify: Slack Web API (local stand-in for slack.com/api)', () => {
  let slack: FakeSlack;
  let cfg: SlackConfig;
  beforeEach(async () => {
    slack = await startFakeSlack();
    cfg = { channel: '#deploys', tokenEnv: 'SLACK_BOT_TOKEN', apiUrl: `${slack.url}/api/`, on: ['always'] };
    clearSecrets();
    registerSecret(CANARY);
  });
  afterEach(async () => {
    await slack.close();
    clearSecrets();
  });

  it('posts Block Kit: header, environment, targets + versions, changes, smoke, rollback, failures, buttons', async () => {
    const tpl = loadSlackTemplate(undefined, '/');
    const { detail } = await sendSlack(failedSummary(), cfg, tpl, { environ: { SLACK_BOT_TOKEN: 'xoxb-test-token-1' }, retryConfig: FAST });
    assert.equal(detail, 'posted to #deploys');
    assert.equal(slack.calls.length, 1);
    const call = slack.calls[0]!;
    assert.equal(call.method, 'chat.postMessage');
    assert.equal(call.auth, 'Bearer xoxb-test-token-1');
    assert.ok(!call.raw.includes('xoxb-test-token-1'), 'the token travels in the header only');
    assert.equal(call.params.channel, '#deploys');
    assert.equal(call.params.text, '❌ support-bot, faq-bot → production failed (#42)');
    const blocks = call.params.blocks as Block[];
    const byType = (t: string) => blocks.filter((b) => b.type === t);
    assert.deepEqual(byType('header')[0]!.text, { type: 'plain_text', text: '❌ support-bot, faq-bot → production failed', emoji: true });
    const all = texts(blocks);
    assert.match(all, /\*Environment\*\\nproduction/);
    assert.match(all, /✅ support-bot → production → `wf-2024-0042`/);
    assert.match(all, /\*What changed\*\\n• support-bot → production: 1 prompt changes, 1 model changes/);
    assert.match(all, /pass rate \*90\.0%\* \(18\/20\) · p95 1830 ms/);
    assert.match(all, /:rewind: \*Rollback\* done: rolled back 1 target/);
    assert.match(all, /support-bot → production → `wf-2024-0041`/);
    assert.match(all, /<https:\/\/git\.example\.com\/pr\/17\|PR #17>/, 'our own link markup survives');
    assert.match(all, /&lt;!channel&gt;/, 'a value cannot ping the channel');
    const buttons = (byType('actions')[0]!.elements as { url: string }[]).map((e) => e.url);
    assert.deepEqual(buttons, [
      JENKINS.BUILD_URL,
      `${JENKINS.BUILD_URL}artifact/.dify-ci/reports/smoke.html`,
      JENKINS.CHANGE_URL,
    ]);
    assert.ok(!call.raw.includes(CANARY) && !all.includes(CANARY), 'the canary never reaches Slack');
    assert.match(all, /\*\*\*/, 'it was masked, not dropped');
  });

  it('retries after a 429 with Retry-After', async () => {
    slack.rateLimitNext(1, '0');
    const tpl = loadSlackTemplate(undefined, '/');
    const { detail } = await sendSlack(failedSummary(), cfg, tpl, { environ: { SLACK_BOT_TOKEN: 'xoxb-test-token-1' }, retryConfig: FAST });
    assert.equal(detail, 'posted to #deploys');
    assert.equal(slack.calls.length, 2, 'the first call was answered 429, the second went through');
    assert.deepEqual(slack.calls[1]!.params.blocks, slack.calls[0]!.params.blocks);
  });

  it('gives up after its retries and reports a masked error', async () => {
    slack.rateLimitNext(10, '0');
    const tpl = loadSlackTemplate(undefined, '/');
    const environ = { SLACK_BOT_TOKEN: 'xoxb-test-token-1' };
    await assert.rejects(sendSlack(failedSummary(), cfg, tpl, { environ, retryConfig: { ...FAST, retries: 1 } }), (e: unknown) => e instanceof NotifyError && /rate limit/.test(e.message));
    assert.equal(slack.calls.length, 2);

    // A gateway in front of Slack whose error page repeats the request's Authorization header and a secret.
    slack.rateLimitNext(0, '0');
    slack.httpErrorNext(10, 502, (call) => JSON.stringify({ ok: false, error: `upstream refused (${call.auth}; key ${CANARY})` }));
    let message = '';
    await assert.rejects(sendSlack(failedSummary(), cfg, tpl, { environ, retryConfig: { ...FAST, retries: 1 } }), (e: unknown) => {
      message = (e as Error).message;
      return e instanceof NotifyError;
    });
    assert.equal(slack.calls.length, 4, 'the 502 was retried once, then given up');
    assert.equal(message, 'Slack answered HTTP 502 Bad Gateway: upstream refused (Bearer ***; key ***)');
  });

  it("reports Slack's error word (channel_not_found) as a NotifyError", async () => {
    slack.failWith('channel_not_found');
    const tpl = loadSlackTemplate(undefined, '/');
    await assert.rejects(
      sendSlack(failedSummary(), cfg, tpl, { environ: { SLACK_BOT_TOKEN: 'xoxb-test-token-1' }, retryConfig: FAST }),
      (e: unknown) => e instanceof NotifyError && /chat\.postMessage failed: channel_not_found/.test(e.message),
    );
  });

  it('says which variable is missing when there is no token and no webhook', async () => {
    const tpl = loadSlackTemplate(undefined, '/');
    await assert.rejects(sendSlack(failedSummary(), { ...cfg, webhookUrlEnv: 'SLACK_HOOK' }, tpl, { environ: {} }), /\$SLACK_BOT_TOKEN or \$SLACK_HOOK is not set/);
    assert.equal(slack.calls.length, 0);
  });

  it('many per-target failures: a few in the message, all of them in a thread reply', async () => {
    const tpl = loadSlackTemplate(undefined, '/');
    const n = 120;
    const { detail } = await sendSlack(manyFailures(n), cfg, tpl, { environ: { SLACK_BOT_TOKEN: 'xoxb-test-token-1' }, retryConfig: FAST });
    assert.match(detail, /thread \(120\)/);
    assert.equal(slack.calls.length, 2);
    const [main, reply] = slack.calls as [typeof slack.calls[0], typeof slack.calls[0]];
    assert.equal(reply.params.thread_ts, '1700000000.000100', 'the reply hangs off the first post');
    assert.equal(reply.params.channel, 'C0123');
    const mainText = texts(main.params.blocks as Block[]);
    assert.equal((mainText.match(/• \*support-bot → tenant-/g) ?? []).length, INLINE_WHEN_THREADED);
    assert.match(mainText, new RegExp(`_\\+${n - INLINE_WHEN_THREADED} more, listed in the thread_`));
    const replyBlocks = reply.params.blocks as Block[];
    const listed = replyBlocks.map((b) => (b.text as { text: string }).text).join('\n');
    for (let i = 0; i < n; i++) assert.ok(listed.includes(`tenant-${String(i).padStart(3, '0')}@production`), `tenant ${i} is in the thread`);
    for (const b of replyBlocks) assert.ok((b.text as { text: string }).text.length <= LIMITS.text);
    assert.ok(replyBlocks.length > 1, 'the long list was split over several blocks rather than cut');
  });

  it(`up to ${THREAD_THRESHOLD} failures stay in the message, without a thread`, async () => {
    const tpl = loadSlackTemplate(undefined, '/');
    await sendSlack(manyFailures(THREAD_THRESHOLD), cfg, tpl, { environ: { SLACK_BOT_TOKEN: 'xoxb-test-token-1' }, retryConfig: FAST });
    assert.equal(slack.calls.length, 1);
    assert.equal((texts(slack.calls[0]!.params.blocks as Block[]).match(/• \*support-bot → tenant-/g) ?? []).length, THREAD_THRESHOLD);
  });
});

describe('notify: Slack incoming webhook (local stand-in)', () => {
  let slack: FakeSlack;
  beforeEach(async () => {
    slack = await startFakeSlack();
    clearSecrets();
    registerSecret(CANARY);
  });
  afterEach(async () => {
    await slack.close();
    clearSecrets();
  });

  it('POSTs the same blocks as JSON, with every failure inline (no thread), after a 429', async () => {
    const hook = `${slack.url}/webhook/T000/B000/${'h'.repeat(24)}`;
    slack.rateLimitNext(1, '0');
    const tpl = loadSlackTemplate(undefined, '/');
    const { detail } = await sendSlack(manyFailures(8), { webhookUrlEnv: 'SLACK_WEBHOOK_URL', on: ['always'] }, tpl, { environ: { SLACK_WEBHOOK_URL: hook } });
    assert.equal(detail, 'posted to the incoming webhook');
    assert.equal(slack.webhookCalls.length, 2);
    const body = slack.webhookCalls[1]!.body as { text: string; blocks: Block[] };
    assert.match(body.text, /failed/);
    assert.equal((texts(body.blocks).match(/• \*support-bot → tenant-/g) ?? []).length, 8);
    assert.equal(slack.calls.length, 0, 'the Web API is not used');
  });

  it('the canary in the result files never reaches the webhook', async () => {
    const tpl = loadSlackTemplate(undefined, '/');
    await sendSlack(failedSummary(), { webhookUrlEnv: 'SLACK_WEBHOOK_URL', on: ['always'] }, tpl, { environ: { SLACK_WEBHOOK_URL: `${slack.url}/webhook/x` } });
    const raw = slack.webhookCalls[0]!.raw;
    assert.match(raw, /import failed: key \*\*\* rejected/);
    assert.ok(!raw.includes(CANARY));
  });

  it('a failing webhook is a NotifyError that does not show the URL (it is a secret)', async () => {
    const tpl = loadSlackTemplate(undefined, '/');
    const path = `/webhook/T000/B000/${'s'.repeat(24)}`;
    slack.webhookFailWith(500);
    let message = '';
    await assert.rejects(
      sendSlack(failedSummary(), { webhookUrlEnv: 'SLACK_WEBHOOK_URL', on: ['always'] }, tpl, { environ: { SLACK_WEBHOOK_URL: `${slack.url}${path}` } }),
      (e: unknown) => {
        message = (e as Error).message;
        return e instanceof NotifyError;
      },
    );
    assert.equal(slack.webhookCalls.length, 1, 'the server was reached and answered');
    assert.ok(!message.includes(path) && !message.includes('s'.repeat(24)), message);
    assert.equal(message, 'the Slack webhook answered 500: no_service: nothing is configured at POST ***');
  });

  it('a failing webhook that echoes only the token at the end of its URL does not show it either', async () => {
    const { createServer } = await import('node:http');
    const token = 'WbT0k3nXq8h2Lm4Pz6Rv9Yc1';
    const server = createServer((_req, res) => res.writeHead(403, { 'content-type': 'text/plain' }).end(`invalid_token: ${token}`));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const hook = `http://127.0.0.1:${(server.address() as { port: number }).port}/services/T000/B000/${token}`;
    try {
      const tpl = loadSlackTemplate(undefined, '/');
      await assert.rejects(
        sendSlack(failedSummary(), { webhookUrlEnv: 'SLACK_WEBHOOK_URL', on: ['always'] }, tpl, { environ: { SLACK_WEBHOOK_URL: hook } }),
        (e: unknown) => e instanceof NotifyError && e.message === 'the Slack webhook answered 403: invalid_token: ***',
      );
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe("notify: Slack's limits", () => {
  it('truncates a long text at a line boundary with a "+N more" line', () => {
    const lines = Array.from({ length: 400 }, (_, i) => `line ${i} ${'y'.repeat(20)}`);
    const out = truncateText(lines.join('\n'), 3000);
    assert.ok(out.length <= 3000);
    const kept = out.split('\n').length - 1;
    assert.match(out, new RegExp(`\\n_\\+${400 - kept} more_$`));
    assert.equal(truncateText('short', 3000), 'short');
    const one = truncateText('z'.repeat(5000), 3000);
    assert.ok(one.length <= 3000 && one.endsWith('_(truncated)_'));
  });

  it('caps a message at 50 blocks, keeps the buttons and says how many were left out', () => {
    const blocks: Block[] = Array.from({ length: 80 }, (_, i) => ({ type: 'section', text: { type: 'mrkdwn', text: `block ${i}` } }));
    blocks.push({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open build' }, url: 'https://ci/1' }] });
    const out = fitBlocks(blocks);
    assert.equal(out.length, LIMITS.blocks);
    assert.equal(out[out.length - 1]!.type, 'actions');
    assert.deepEqual(out[out.length - 2], { type: 'context', elements: [{ type: 'mrkdwn', text: '_+32 more_' }] });
  });

  it('fields over 10, context elements over 10 and buttons over 25 end in a "+N more" instead of vanishing', () => {
    const md = (text: string) => ({ type: 'mrkdwn', text });
    const button = (i: number) => ({ type: 'button', text: { type: 'plain_text', text: `link ${i}` }, url: `https://ci/${i}` });
    const out = fitBlocks([
      { type: 'section', fields: Array.from({ length: 14 }, (_, i) => md(`field ${i}`)) },
      { type: 'context', elements: Array.from({ length: 12 }, (_, i) => md(`fact ${i}`)) },
      { type: 'actions', elements: Array.from({ length: 30 }, (_, i) => button(i)) },
      { type: 'section', fields: Array.from({ length: LIMITS.fields }, (_, i) => md(`ok ${i}`)) },
    ]);
    const fields = out[0]!.fields as { text: string }[];
    assert.equal(fields.length, LIMITS.fields);
    assert.deepEqual(fields.slice(-2), [md('field 8'), md('_+5 more_')], '9 fields kept, the 10th place says how many are not');
    const facts = out[1]!.elements as { text: string }[];
    assert.equal(facts.length, LIMITS.contextElements);
    assert.deepEqual(facts.slice(-2), [md('fact 8'), md('_+3 more_')]);
    assert.equal((out[2]!.elements as unknown[]).length, LIMITS.actionsElements);
    assert.deepEqual((out[2]!.elements as unknown[]).at(-1), button(24), 'every button kept is a real link');
    assert.deepEqual(out[3], { type: 'context', elements: [md('_+5 more links_')] }, 'the note on the buttons left out is right under them');
    assert.equal((out[4]!.fields as unknown[]).length, LIMITS.fields, 'exactly 10 fields need no note');
    assert.ok(!JSON.stringify(out[4]).includes('more'));

    // Over 50 blocks, the buttons and their note stay at the bottom together.
    const many: Block[] = Array.from({ length: 60 }, (_, i) => ({ type: 'section', text: md(`block ${i}`) }));
    const capped = fitBlocks([...many, { type: 'actions', elements: Array.from({ length: 26 }, (_, i) => button(i)) }]);
    assert.equal(capped.length, LIMITS.blocks);
    assert.deepEqual(capped.slice(-3).map((b) => b.type), ['context', 'actions', 'context']);
    assert.deepEqual(capped.at(-1), { type: 'context', elements: [md('_+1 more link_')] });
    assert.deepEqual(capped.at(-3), { type: 'context', elements: [md('_+13 more_')] });
  });

  it('a template with one block per target stays within every limit', () => {
    const tpl = compileSlackTemplate(
      {
        text: '{{title}}',
        blocks: [
          { type: 'header', text: { type: 'plain_text', text: '{{title}} {{#targets}}{{label}} {{/targets}}' } },
          { each: 'targets', type: 'section', text: { type: 'mrkdwn', text: '{{label}}: {{error}} {{error}} {{error}} {{error}}' }, fields: [{ type: 'mrkdwn', text: '{{label}}' }] },
          { type: 'section', text: { type: 'mrkdwn', text: '{{#failures}}{{label}}: {{message}}\n{{/failures}}' } },
          { type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open' }, url: '{{buildUrl}}' }] },
        ],
      },
      'test',
    );
    const p = renderSlackMessage(tpl.message, buildView(manyFailures(300)));
    assert.equal(p.blocks.length, LIMITS.blocks);
    const header = p.blocks[0]!.text as { text: string };
    assert.ok(header.text.length <= LIMITS.headerText);
    for (const b of p.blocks) {
      const t = (b.text as { text?: string } | undefined)?.text;
      if (t) assert.ok(t.length <= LIMITS.text, `block text ${t.length} chars`);
    }
    assert.match(JSON.stringify(p.blocks), /_\+\d+ more_/);
    assert.equal(p.blocks[p.blocks.length - 1]!.type, 'actions');
  });

  it('drops a button whose link is missing and blocks left empty', () => {
    const tpl = loadSlackTemplate(undefined, '/');
    const dir = tempDir();
    writeResults(dir, { 'validate.json': resultFile('validate', 'success', { counts: { errors: 0, warnings: 0 } }) });
    const p = renderSlackMessage(tpl.message, buildView(buildSummary({ status: 'success', results: readResultFiles(dir), environ: {} })));
    assert.equal(p.blocks.some((b) => b.type === 'actions'), false, 'no BUILD_URL, no report, no PR: no buttons');
    assert.equal(p.blocks.some((b) => b.type === 'context'), false, 'no Jenkins facts: no context line');
    assert.ok(!JSON.stringify(p).includes('"text":""'));
  });

  it('a javascript: link from a template value is not sent', () => {
    const tpl = compileSlackTemplate({ blocks: [{ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'x' }, url: '{{changeUrl}}' }] }] }, 'test');
    const s = failedSummary();
    s.jenkins.changeUrl = 'javascript:alert(1)';
    assert.deepEqual(renderSlackMessage(tpl.message, buildView(s)).blocks, []);
  });
});

describe('notify: HTTP through a proxy (HTTP_PROXY)', () => {
  it('the webhook POST is tunnelled through the proxy named in the environment', async () => {
    const { createServer } = await import('node:http');
    const { connect } = await import('node:net');
    const slack = await startFakeSlack();
    const upstream = Number(new URL(slack.url).port);
    const tunnels: string[] = [];
    const sockets: { destroy(): void }[] = [];
    // A CONNECT proxy that records where it was asked to go and tunnels to the local stand-in instead.
    const proxy = createServer();
    proxy.on('connect', (req, client, head) => {
      tunnels.push(req.url ?? '');
      sockets.push(client);
      const up = connect(upstream, '127.0.0.1', () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        up.write(head);
        up.pipe(client);
        client.pipe(up);
      });
      sockets.push(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const saved = { HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY, http_proxy: process.env.http_proxy, no_proxy: process.env.no_proxy };
    process.env.HTTP_PROXY = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
    delete process.env.NO_PROXY;
    delete process.env.no_proxy;
    delete process.env.http_proxy;
    try {
      const tpl = loadSlackTemplate(undefined, '/');
      await sendSlack(failedSummary(), { webhookUrlEnv: 'HOOK', on: ['always'] }, tpl, { environ: { HOOK: 'http://hooks.slack.invalid/webhook/T0/B0/abc' } });
      assert.deepEqual(tunnels, ['hooks.slack.invalid:80'], 'the connection went to the proxy, not to the host');
      assert.equal(slack.webhookCalls.length, 1);
      assert.ok(Array.isArray(slack.webhookCalls[0]!.body.blocks));
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
      for (const sock of sockets) sock.destroy();
      await new Promise<void>((r) => proxy.close(() => r()));
      await slack.close();
    }
  });
});
