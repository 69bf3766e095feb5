import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DifyCiError } from '../../runner/src/core/errors.js';
import { registerSecret } from '../../runner/src/core/mask.js';
import { runSmoke } from '../../runner/src/smoke/runner.js';
import { parseSuiteText } from '../../runner/src/smoke/suite.js';
import { tempProject } from '../helpers/cli.js';
import { json, sse, startServer, USAGE, type TestServer } from './helpers.js';
import { all, one, parseXml } from './xml.js';

const KEY = 'app-RUNNERtestKEY0123456789';
let server: TestServer;

/** A fake chat app: answers "echo: <query>", fails on "boom", with a required input `tier`. */
async function fakeChat() {
  server = await startServer((req, res) => {
    if (req.url === '/v1/info') return json(res, 200, { name: 'Support Bot', description: '', tags: [], mode: 'chat', author_name: 'ci' });
    if (req.url === '/v1/parameters') return json(res, 200, { user_input_form: [{ 'text-input': { label: 'Tier', variable: 'tier', required: true } }] });
    const q = String(req.body.query);
    if (q === 'boom') return sse(res, [{ event: 'error', status: 400, code: 'completion_request_error', message: 'model exploded' }]);
    sse(res, [{ event: 'message', answer: `echo: ${q}`, conversation_id: 'c1' }, { event: 'message_end', metadata: { usage: USAGE } }]);
  });
}

const quiet = { progress: false, clientOptions: { sleep: async () => {}, random: () => 0 } };

describe('smoke: runner (loopback fake app)', () => {
  afterEach(() => server?.close());

  it('reports every missing required input, with file:line, before any run call', async () => {
    await fakeChat();
    const suite = parseSuiteText('tests/bot.yml', `cases:\n  - name: a\n    query: hi\n  - name: b\n    query: hi\n    inputs: { tier: gold }\n  - name: c\n    conversation:\n      - query: one\n      - query: two\n`);
    await assert.rejects(
      runSmoke(undefined, undefined, [{ app: 'bot', env: 'test', apiUrl: server.url, apiKey: KEY, suite }], quiet),
      (e: unknown) => {
        assert.ok(e instanceof DifyCiError);
        assert.equal(e.exitCode, 2);
        assert.match(e.oneLine(), /^tests\/bot\.yml:2:5: bot@test: case 'a' lacks the required input 'tier' \("Tier"\)/);
        assert.equal(e.details.length, 2);
        assert.match(e.details[0]!, /^tests\/bot\.yml:9:9: .*case 'c', turn 1 lacks the required input 'tier'/);
        return true;
      },
    );
    assert.deepEqual(server.requests.map((r) => `${r.method} ${r.url}`), ['GET /v1/info', 'GET /v1/parameters'], 'no run call was made');
  });

  it('gates on the pass rate; a required case always gates; writes the four reports', async () => {
    await fakeChat();
    const dir = tempProject({});
    const text = `defaults: { inputs: { tier: gold } }
passRate: 0.5
cases:
  - name: echoes
    query: hello
    assert: [ { contains: 'echo: hello' } ]
  - name: explodes
    query: boom
  - name: skipped one
    query: x
    skip: true
`;
    const suite = parseSuiteText('tests/bot.yml', text);
    const run = await runSmoke(undefined, undefined, [{ app: 'bot', env: 'test', apiUrl: server.url, apiKey: KEY, suite }], { ...quiet, reportDir: dir });
    const t = run.targets[0]!;
    assert.equal(t.summary.passRate, 0.5);
    assert.equal(t.summary.passed, true, '1 of 2 ≥ 0.5');
    assert.deepEqual(t.summary.runs, { total: 3, passed: 1, failed: 1, errored: 1, skipped: 1 });
    assert.equal(run.passed, true);
    for (const f of ['smoke-results.json', 'junit-smoke.xml', 'smoke-summary.md', 'smoke-report.html']) assert.ok(existsSync(join(dir, f)), f);

    const required = parseSuiteText('tests/bot.yml', text.replace('  - name: explodes\n', '  - name: explodes\n    required: true\n'));
    const run2 = await runSmoke(undefined, undefined, [{ app: 'bot', env: 'test', apiUrl: server.url, apiKey: KEY, suite: required }], { ...quiet, reportDir: dir, junit: join(dir, 'custom.xml') });
    assert.equal(run2.targets[0]!.summary.passRate, 0.5);
    assert.deepEqual(run2.targets[0]!.summary.requiredFailed, ['explodes']);
    assert.equal(run2.passed, false, 'required case failed');
    const data = run2.data as any;
    assert.equal(data.passed, false);
    assert.equal(data.targets[0].failures[0].case, 'explodes');
    assert.match(data.targets[0].failures[0].reason, /error: completion_request_error: model exploded \(HTTP 400\)/);
    const junit = parseXml(readFileSync(join(dir, 'custom.xml'), 'utf8'));
    const ts = all(junit, 'testsuite');
    assert.equal(ts.length, 1);
    assert.equal(ts[0]!.attrs.errors, '1');
    const tc = all(ts[0]!, 'testcase');
    assert.deepEqual(tc.map((c) => c.attrs.name), ['echoes', 'explodes', 'skipped one']);
    assert.ok(one(tc[1]!, 'error'));
    assert.ok(one(tc[2]!, 'skipped'));
  });

  it('masks secrets in every report, the JUnit system-out included', async () => {
    const secret = 'sk-live-SECRETvalue-987654321';
    registerSecret(secret);
    server = await startServer((req, res) => {
      if (req.url === '/v1/info') return json(res, 200, { name: 'b', mode: 'chat' });
      if (req.url === '/v1/parameters') return json(res, 200, { user_input_form: [] });
      sse(res, [{ event: 'message', answer: `token=${secret} <b>&</b>` }, { event: 'message_end', metadata: {} }]);
    });
    const dir = tempProject({});
    const suite = parseSuiteText('t.yml', `cases:\n  - { name: leak, query: q, assert: [ { not-contains: sk-live } ] }\n`);
    const run = await runSmoke(undefined, undefined, [{ app: 'bot', env: 'test', apiUrl: server.url, apiKey: KEY, suite }], { ...quiet, reportDir: dir });
    assert.equal(run.passed, false, 'the assertion sees the real answer');
    for (const f of ['smoke-results.json', 'junit-smoke.xml', 'smoke-summary.md', 'smoke-report.html']) {
      const text = readFileSync(join(dir, f), 'utf8');
      assert.ok(!text.includes(secret), `${f} leaks the secret`);
      assert.ok(!text.includes(KEY), `${f} leaks the API key`);
    }
    const out = one(all(all(parseXml(readFileSync(join(dir, 'junit-smoke.xml'), 'utf8')), 'testsuite')[0]!, 'testcase')[0]!, 'system-out')!;
    assert.match(out.text, /answer:\ntoken=\*\*\* <b>&<\/b>/, 'masked, and escaped XML reads back as the text');
  });

  it('masks a secret holding XML specials in every report, also inside a cut assertion reason', async () => {
    const secret = 'Pa55&w0rd<x>"q\'-long-enough';
    registerSecret(secret);
    const answer = `${'x'.repeat(70)}${secret} tail`; // the reason quote cuts at 80 characters, mid-secret
    server = await startServer((req, res) => {
      if (req.url === '/v1/info') return json(res, 200, { name: 'b', mode: 'chat' });
      if (req.url === '/v1/parameters') return json(res, 200, { user_input_form: [] });
      sse(res, [{ event: 'message', answer }, { event: 'message_end', metadata: {} }]);
    });
    const dir = tempProject({});
    const suite = parseSuiteText('t.yml', `cases:\n  - { name: leak, query: q, assert: [ { equals: nothing }, { starts-with: nope } ] }\n`);
    const run = await runSmoke(undefined, undefined, [{ app: 'bot', env: 'test', apiUrl: server.url, apiKey: KEY, suite }], { ...quiet, reportDir: dir });
    assert.equal(run.passed, false);
    const escaped = secret.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    for (const f of ['smoke-results.json', 'junit-smoke.xml', 'smoke-summary.md', 'smoke-report.html']) {
      const text = readFileSync(join(dir, f), 'utf8');
      for (const leak of [secret, escaped, 'Pa55&', 'Pa55&amp;']) assert.ok(!text.includes(leak), `${f} leaks ${leak}`);
      assert.ok(text.includes('***'), `${f} shows the mask`);
    }
  });

  it('never has more calls in flight than the concurrency, and uses all of it', async () => {
    let inFlight = 0;
    let peak = 0;
    server = await startServer((req, res) => {
      if (req.url === '/v1/info') return json(res, 200, { name: 'b', mode: 'chat' });
      if (req.url === '/v1/parameters') return json(res, 200, { user_input_form: [] });
      peak = Math.max(peak, ++inFlight);
      setTimeout(() => {
        inFlight--;
        sse(res, [{ event: 'message', answer: 'ok' }, { event: 'message_end', metadata: {} }]);
      }, 40);
    });
    const cases = Array.from({ length: 9 }, (_, i) => `  - { name: c${i}, query: q }`).join('\n');
    const suite = parseSuiteText('t.yml', `cases:\n${cases}\n`);
    const run = await runSmoke(undefined, undefined, [{ app: 'bot', env: 'test', apiUrl: server.url, apiKey: KEY, suite }], { ...quiet, concurrency: 3 });
    assert.equal(run.passed, true);
    assert.equal(peak, 3);
  });

  it('runs a case N times with --repeat and names the repetitions', async () => {
    await fakeChat();
    const suite = parseSuiteText('t.yml', `defaults: { inputs: { tier: gold } }\ncases:\n  - { name: a, query: q, assert: [ { contains: echo } ] }\n`);
    const run = await runSmoke(undefined, undefined, [{ app: 'bot', env: 'test', apiUrl: server.url, apiKey: KEY, suite }], { ...quiet, repeat: 3 });
    assert.deepEqual(run.targets[0]!.results.map((r) => `${r.name} ${r.iteration}/${r.repeat}`), ['a 1/3', 'a 2/3', 'a 3/3']);
    assert.equal(server.requests.filter((r) => r.method === 'POST').length, 3);
  });

  it('--filter keeps matching cases and rejects a filter that matches nothing', async () => {
    await fakeChat();
    const suite = parseSuiteText('t.yml', `defaults: { inputs: { tier: gold } }\ncases:\n  - { name: alpha, query: q }\n  - { name: beta, query: q }\n`);
    const run = await runSmoke(undefined, undefined, [{ app: 'bot', env: 'test', apiUrl: server.url, apiKey: KEY, suite }], { ...quiet, filter: '^b' });
    assert.deepEqual(run.targets[0]!.results.map((r) => r.name), ['beta']);
    await assert.rejects(runSmoke(undefined, undefined, [{ app: 'bot', env: 'test', apiUrl: server.url, apiKey: KEY, suite }], { ...quiet, filter: 'gamma' }), /no case matches --filter/);
    await assert.rejects(runSmoke(undefined, undefined, [{ app: 'bot', env: 'test', apiUrl: server.url, apiKey: KEY, suite }], { ...quiet, filter: '(' }), /invalid regular expression/);
  });

  it('a single target that cannot start throws its error (bad key → exit 4)', async () => {
    server = await startServer((_req, res) => json(res, 401, { code: 'unauthorized', message: 'Access token is invalid', status: 401 }));
    const suite = parseSuiteText('t.yml', `cases:\n  - { name: a, query: q }\n`);
    await assert.rejects(runSmoke(undefined, undefined, [{ app: 'bot', env: 'test', apiUrl: server.url, apiKey: KEY, suite }], quiet), (e: unknown) => {
      assert.ok(e instanceof DifyCiError);
      assert.equal(e.exitCode, 4);
      assert.match(e.message, /^bot@test: GET \/v1\/info: HTTP 401 unauthorized: Access token is invalid/);
      return true;
    });
  });
});
