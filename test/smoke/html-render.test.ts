/**
 * The HTML report in a real browser: Debian's chromium driven by playwright-core (no browser download). Skips when
 * /usr/bin/chromium is absent (CI machines may lack it). Screenshot: /tmp/dify-ci-smoke-report.png.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { registerSecret } from '../../runner/src/core/mask.js';
import { runSmoke } from '../../runner/src/smoke/runner.js';
import { parseSuiteText } from '../../runner/src/smoke/suite.js';
import { json, sse, startServer, USAGE, type TestServer } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const SECRET = 'sk-leaked-in-answer-0123456789';

describe('smoke: HTML report renders in headless Chromium', function () {
  this.timeout(60_000);
  let server: TestServer;

  before(function () {
    if (!existsSync(CHROMIUM)) {
      console.log(`      (skipped: ${CHROMIUM} not installed — apt-get install -y chromium to run this check)`);
      this.skip();
    }
  });
  after(() => server?.close());

  it('shows the verdict, the cases, the chart and expandable masked answers, with no external request', async () => {
    server = await startServer((req, res) => {
      if (req.url === '/v1/info') return json(res, 200, { name: '客服助手', mode: 'chat' });
      if (req.url === '/v1/parameters') return json(res, 200, { user_input_form: [] });
      const q = String(req.body.query);
      if (q === 'boom') return sse(res, [{ event: 'message', answer: '部分' }, { event: 'error', status: 400, code: 'completion_request_error', message: 'model exploded' }]);
      const answer = q === 'leak' ? `the key is ${SECRET}` : q === 'long' ? '很长的回答。'.repeat(200) + '\n<script>alert(1)</script>' : `您好！您问的是：${q}`;
      setTimeout(() => sse(res, [{ event: 'message', answer: answer.slice(0, 5) }, { event: 'message', answer: answer.slice(5) }, { event: 'message_end', metadata: { usage: USAGE } }]), 5);
    });
    registerSecret(SECRET);
    const suite = parseSuiteText(
      'tests/support-bot.yml',
      `cases:
  - { name: greets politely, query: 你好, assert: [ { contains: 您好 }, { not-contains: 错误 }, { latency: { maxMs: 8000 } } ] }
  - { name: long answer, query: long, assert: [ { regex: '^.{1,400}$' } ] }
  - { name: model failure, query: boom, required: true }
  - { name: leaks no key, query: leak, assert: [ { not-contains: sk- } ] }
  - name: remembers the order id
    conversation:
      - { query: 'My order is 123', assert: [ { contains: '123' } ] }
      - { query: 'What was my order?', assert: [ { contains: 'order' } ] }
  - { name: later, query: x, skip: true }
`,
    );
    const dir = mkdtempSync(join(tmpdir(), 'dify-ci-html-'));
    const run = await runSmoke(undefined, undefined, [{ app: 'support-bot', env: 'staging', apiUrl: server.url, apiKey: 'app-HTMLtestKEY012345678901', suite }], {
      progress: false,
      reportDir: dir,
      title: 'Smoke tests — staging',
    });
    const file = join(dir, 'smoke-report.html');
    const html = readFileSync(file, 'utf8');
    assert.ok(!html.includes(SECRET), 'the secret is masked in the file');
    assert.ok(!html.includes('<script>'), 'answers are escaped');

    const { chromium } = await import('playwright-core');
    const profile = mkdtempSync(join(tmpdir(), 'dify-ci-chromium-'));
    // A fresh profile directory (playwright passes it as --user-data-dir).
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      const errors: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await page.goto(pathToFileURL(file).href);
      assert.deepEqual(requests, [pathToFileURL(file).href], 'self-contained: no other request');
      assert.deepEqual(errors, []);

      assert.equal(await page.title(), 'Smoke tests — staging — FAILED');
      assert.equal(await page.locator('header .badge').innerText(), 'FAILED');
      const rows = page.locator('section tbody tr');
      assert.equal(await rows.count(), 6);
      assert.deepEqual(await page.locator('section tbody tr td:first-child').allInnerTexts(), ['✔ PASS', '✘ FAIL', '✘ ERROR', '✘ FAIL', '✔ PASS', 'SKIP']);
      assert.match(await page.locator('section .error').first().innerText(), /Required case\(s\) failed: model failure/);

      // The chart: one latency bar per run that ran, drawn with a real size.
      const svg = page.locator('.chart svg');
      assert.equal(await svg.count(), 1);
      const box = await svg.boundingBox();
      assert.ok(box && box.width > 600 && box.height > 100, JSON.stringify(box));
      assert.equal(await page.locator('.chart svg rect[fill="#9ecbff"]').count(), 1 + 5, 'legend + 5 runs');

      // Answers are collapsed until clicked.
      const answer = rows.nth(0).locator('pre.answer');
      assert.equal(await answer.isVisible(), false);
      await rows.nth(0).locator('summary').click();
      assert.equal(await answer.isVisible(), true);
      assert.match(await answer.innerText(), /您好！您问的是：你好/);
      await rows.nth(3).locator('summary').click();
      assert.match(await rows.nth(3).locator('pre.answer').innerText(), /the key is \*\*\*/);
      await rows.nth(4).locator('summary').click();
      assert.equal(await rows.nth(4).locator('pre.answer').count(), 2, 'one answer per conversation turn');
      await rows.nth(2).locator('summary').click();
      assert.match(await rows.nth(2).innerText(), /completion_request_error: model exploded/);

      await page.screenshot({ path: '/tmp/dify-ci-smoke-report.png', fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
