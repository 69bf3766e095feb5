/** `dify-ci smoke` end to end: the CLI as a child process against the emulator, config and ad-hoc modes. */
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempProject } from '../helpers/cli.js';
import { ADMIN_KEY, chatDsl, EmulatorApps, workflowDsl } from './emulator-apps.js';
import { all, parseXml } from './xml.js';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('smoke: CLI end to end (emulator)', function () {
  this.timeout(60_000);
  let e: EmulatorApps;
  let botKey: string;

  before(async () => {
    e = await EmulatorApps.start();
    botKey = (await e.create(chatDsl('support-bot'))).apiKey;
    await e.create(workflowDsl('upper'));
  });
  after(() => e.close());
  beforeEach(() => e.emu.setScript([]));

  function project(botSuite: string, upperSuite = `cases:\n  - { name: runs, inputs: { text: hi }, assert: [ { status: succeeded } ] }\n`) {
    return tempProject({
      'dify-ci.yml': `apps:
  support-bot: { dsl: apps/support-bot.yml, tests: tests/support-bot.yml }
  upper: { dsl: apps/upper.yml, tests: tests/upper.yml }
  no-tests: { dsl: apps/none.yml }
environments:
  staging:
    url: ${e.emu.url}
    auth: { mode: admin-key, workspaceId: ${e.emu.workspaceId}, keyEnv: DIFY_ADMIN_KEY }
    apps:
      support-bot: { apiKeyEnv: SUPPORT_BOT_KEY }
smoke: { concurrency: 3, retries: 0 }
`,
      'apps/support-bot.yml': chatDsl('support-bot'),
      'apps/upper.yml': workflowDsl('upper'),
      'tests/support-bot.yml': botSuite,
      'tests/upper.yml': upperSuite,
    });
  }
  const env = () => ({ SUPPORT_BOT_KEY: botKey, DIFY_ADMIN_KEY: ADMIN_KEY });
  const GOOD = `defaults: { inputs: { customer_tier: gold } }
cases:
  - { name: greets, query: hello, assert: [ { contains: hello }, { latency: { maxMs: 20000 } } ] }
  - name: remembers
    conversation:
      - { query: 'My order is 123' }
      - { query: 'What was my order?', assert: [ { contains: '123' } ] }
`;

  it('passes: exit 0, result file with the figures, four reports as artifacts, no key anywhere', async () => {
    const dir = project(GOOD);
    const r = await runCli(['smoke', '--env', 'staging'], { cwd: dir, env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /no-tests: no smoke suite/);
    assert.match(r.stdout, /^## ✅ Smoke tests — staging: passed/);
    assert.match(r.stdout, /\| support-bot@staging \| chat \| ✅ passed \| 100% \(≥ 100%\) \| 2\/2 \|/);
    const result = JSON.parse(readFileSync(join(dir, '.dify-ci/results/smoke.json'), 'utf8'));
    assert.equal(result.status, 'success');
    assert.equal(result.exitCode, 0);
    assert.deepEqual(result.counts, { targets: 2, runs: 3, passed: 3, failed: 0, skipped: 0, casesPassed: 3, casesFailed: 0, retries: 0 });
    assert.deepEqual(result.artifacts.map((a: { kind: string }) => a.kind).sort(), ['junit', 'smoke-html', 'smoke-json', 'smoke-markdown']);
    assert.ok(result.artifacts.every((a: { path: string }) => a.path.startsWith('.dify-ci/reports/smoke/')));
    const d = result.data;
    assert.equal(d.passed, true);
    assert.equal(d.passRate, 1);
    assert.deepEqual(d.targets.map((t: { id: string; mode: string }) => `${t.id} ${t.mode}`), ['support-bot@staging chat', 'upper@staging workflow']);
    assert.equal(d.totals.calls, 4);
    for (const t of d.targets) {
      assert.equal(typeof t.latencyMs.p50, 'number');
      assert.equal(typeof t.latencyMs.p95, 'number');
      assert.equal(typeof t.ttftMs.p50, 'number');
      assert.ok(t.tokens.total > 0);
      assert.match(t.cost.total, /^0\.\d+$/);
    }
    assert.equal(d.unstableOnFailure, false);
    // The upper key came from the console (no apiKeyEnv): it was created there, and is nowhere on disk or output.
    const keys = e.emu.state.apiKeys.map((k) => k.token);
    assert.ok(keys.length >= 2);
    const texts = [r.stdout, r.stderr, ...filesUnder(join(dir, '.dify-ci')).map((f) => readFileSync(f, 'utf8'))];
    for (const k of keys) assert.ok(!texts.some((t) => t.includes(k)), 'API key leaked');
    const junit = parseXml(readFileSync(join(dir, '.dify-ci/reports/smoke/junit-smoke.xml'), 'utf8'));
    assert.deepEqual(all(junit, 'testsuite').map((s) => s.attrs.name), ['smoke support-bot@staging', 'smoke upper@staging']);
  });

  it('fails the gate: exit 1, status failed, the failure named; --junit and --report-dir honoured', async () => {
    e.emu.setScript([{ app: 'support-bot', query: '^hello$', answer: 'Sorry, an error occurred' }]);
    const dir = project(GOOD);
    const r = await runCli(['smoke', '--env', 'staging', '--app', 'support-bot', '--junit', 'out/junit.xml', '--report-dir', 'out/smoke'], { cwd: dir, env: env() });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /✘ support-bot@staging greets .*contains: hello — answer does not contain "hello"/);
    assert.match(r.stderr, /gate FAILED/);
    const result = JSON.parse(readFileSync(join(dir, '.dify-ci/results/smoke.json'), 'utf8'));
    assert.equal(result.status, 'failed');
    assert.equal(result.data.targets[0].failures[0].case, 'greets');
    assert.deepEqual(result.artifacts.map((a: { path: string }) => a.path).sort(), ['out/junit.xml', 'out/smoke/smoke-report.html', 'out/smoke/smoke-results.json', 'out/smoke/smoke-summary.md']);
    const tc = all(all(parseXml(readFileSync(join(dir, 'out/junit.xml'), 'utf8')), 'testsuite')[0]!, 'testcase');
    assert.equal(tc[0]!.children.find((c) => c.name === 'failure')?.attrs.message, 'contains: hello — answer does not contain "hello"');
  });

  it('--filter, --repeat, --pass-rate', async () => {
    e.emu.setScript([{ app: 'support-bot', query: '^hello$', answer: 'nope', times: 1 }]);
    const dir = project(GOOD);
    const r = await runCli(['smoke', '--env', 'staging', '--app', 'support-bot', '--filter', '^greets$', '--repeat', '4', '--pass-rate', '0.75'], { cwd: dir, env: env() });
    assert.equal(r.code, 0, r.stderr);
    const d = JSON.parse(readFileSync(join(dir, '.dify-ci/results/smoke.json'), 'utf8')).data;
    assert.equal(d.totals.runs, 4);
    assert.equal(d.passRate, 0.75);
    assert.equal(d.targets[0].gatePassRate, 0.75);
  });

  it('input errors exit 2 with file:line; a bad key exits 4; usage errors exit 2', async () => {
    let r = await runCli(['smoke', '--env', 'staging', '--app', 'support-bot'], { cwd: project(`cases:\n  - { name: a, query: hi }\n`), env: env() });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /tests\/support-bot\.yml:2:5: support-bot@staging: case 'a' lacks the required input 'customer_tier'/);
    r = await runCli(['smoke', '--env', 'staging', '--app', 'support-bot'], { cwd: project(`cases:\n  - { name: a, query: hi, assert: [ { contians: x } ] }\n`), env: env() });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /tests\/support-bot\.yml:2:\d+: unknown key 'contians' .*did you mean 'contains'/);
    r = await runCli(['smoke', '--env', 'staging', '--app', 'support-bot'], { cwd: project(GOOD), env: { ...env(), SUPPORT_BOT_KEY: 'app-doesnotexist0000000000' } });
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /support-bot@staging: GET \/v1\/info: HTTP 401 unauthorized: Access token is invalid/);
    assert.ok(!r.stderr.includes('app-doesnotexist0000000000'));
    r = await runCli(['smoke', '--env', 'staging', '--app', 'no-tests'], { cwd: project(GOOD), env: env() });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /app 'no-tests' has no smoke suite/);
    r = await runCli(['smoke', '--env', 'staging', '--concurrency', '0'], { cwd: project(GOOD), env: env() });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--concurrency must be a whole number ≥ 1/);
  });

  it('ad-hoc: --url and --api-key-env, no configuration file', async () => {
    const dir = tempProject({ 'suite.yml': GOOD });
    const r = await runCli(['smoke', '--url', `${e.emu.url}/v1`, '--api-key-env', 'MY_KEY', '--suite', 'suite.yml'], { cwd: dir, env: { MY_KEY: botKey } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\| suite@adhoc \| chat \| ✅ passed/);
    const result = JSON.parse(readFileSync(join(dir, '.dify-ci/results/smoke.json'), 'utf8'));
    assert.equal(result.data.totals.runs, 2);
    assert.ok(!readFileSync(join(dir, '.dify-ci/reports/smoke/smoke-report.html'), 'utf8').includes(botKey));
    const missing = await runCli(['smoke', '--url', `${e.emu.url}/v1`, '--api-key-env', 'MY_KEY', '--suite', 'suite.yml'], { cwd: dir, env: {} });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /MY_KEY is not set/);
  });
});
