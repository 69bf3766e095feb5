/**
 * Smoke tests of a completion app (mode `completion`) against the emulator over real HTTP: the runner calls
 * POST /v1/completion-messages with the case's inputs, in streaming and blocking mode; a failing assertion fails the
 * case; an SSE `error` event after HTTP 200 (dify-api.md §7.5) is a failure that carries Dify's code and message.
 */
import { strict as assert } from 'node:assert';
import type { SmokeRun } from '../../runner/src/smoke/outcome.js';
import { runSmoke, type SmokeOptions } from '../../runner/src/smoke/runner.js';
import { parseSuiteText } from '../../runner/src/smoke/suite.js';
import type { CaseRunResult } from '../../runner/src/smoke/types.js';
import { chatDsl, EmulatorApps } from './emulator-apps.js';

const OPTS: SmokeOptions = { progress: false, clientOptions: { sleep: async () => {}, random: () => 0 } };

describe('smoke: a completion app against the emulator', function () {
  this.timeout(30_000);
  let e: EmulatorApps;
  let app: { appId: string; apiKey: string };

  before(async () => {
    e = await EmulatorApps.start({ pingIntervalMs: 50 });
    app = await e.create(chatDsl('summariser', 'completion'));
  });
  after(() => e.close());
  beforeEach(() => {
    e.emu.setScript([]);
    e.emu.setFaults([]);
  });

  const calls = (route: string) => e.emu.stats.byRoute[route] ?? 0;

  async function run(yaml: string, opts: SmokeOptions = {}): Promise<SmokeRun> {
    const suite = parseSuiteText('tests/summariser.yml', yaml);
    return runSmoke(undefined, undefined, [{ app: 'summariser', env: 'emu', apiUrl: e.apiUrl, apiKey: app.apiKey, suite }], { ...OPTS, ...opts });
  }
  const byName = (r: SmokeRun, name: string): CaseRunResult => {
    const c = r.targets[0]!.results.find((x) => x.name === name);
    assert.ok(c, `case ${name} in ${JSON.stringify(r.targets[0]!.results.map((x) => x.name))} (target error: ${r.targets[0]!.error?.message})`);
    return c;
  };

  it('the emulator app is a completion app and refuses the chat route (the seeding is what the test thinks)', async () => {
    const info = await fetch(`${e.apiUrl}/info`, { headers: { authorization: `Bearer ${app.apiKey}` } }).then((r) => r.json() as Promise<{ mode?: string }>);
    assert.equal(info.mode, 'completion');
    const chat = await fetch(`${e.apiUrl}/chat-messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${app.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: { text: 'x' }, query: 'x', user: 'u' }),
    });
    assert.equal(chat.status, 400);
    assert.equal(((await chat.json()) as { code?: string }).code, 'not_chat_app');
  });

  for (const mode of ['streaming', 'blocking'] as const) {
    it(`${mode}: cases with inputs pass through /v1/completion-messages; a failing assertion fails its case`, async () => {
      const before = { completion: calls('POST /v1/completion-messages'), chat: calls('POST /v1/chat-messages') };
      const r = await run(`defaults: { mode: ${mode} }
cases:
  - name: echoes the text
    inputs: { text: 'refund policy for order 4711' }
    assert:
      - contains: 'refund policy for order 4711'
      - status: succeeded
  - name: other input
    inputs: { text: 'shipping to Norway' }
    assert:
      - contains: Norway
      - not-contains: '4711'
  - name: wrong expectation
    inputs: { text: 'shipping to Norway' }
    assert:
      - contains: 'this text is not in the answer'
`);
      assert.equal(calls('POST /v1/completion-messages') - before.completion, 3, 'one completion call per case');
      assert.equal(calls('POST /v1/chat-messages') - before.chat, 0, 'no chat call for a completion app');

      const ok = byName(r, 'echoes the text');
      assert.equal(ok.pass, true, ok.reasons.join('; '));
      const obs = ok.turns[0]!.observation;
      assert.equal(obs.mode, 'completion');
      assert.equal(obs.responseMode, mode);
      assert.match(obs.answer, /refund policy for order 4711/, 'the input reached the app: the emulator echoes it');
      assert.ok(obs.messageId, 'the message id is read from the answer');
      assert.ok((obs.usage.totalTokens ?? 0) > 0, `usage read from the ${mode === 'streaming' ? 'message_end event' : 'blocking body'}`);
      if (mode === 'streaming') assert.ok(obs.events >= 2, `streamed: message chunks and message_end (${obs.events} events)`);
      else assert.equal(obs.events, 0, 'blocking: one JSON body, no events');

      const other = byName(r, 'other input');
      assert.equal(other.pass, true, other.reasons.join('; '));
      assert.doesNotMatch(other.turns[0]!.observation.answer, /4711/, 'each case sends its own inputs');

      const bad = byName(r, 'wrong expectation');
      assert.equal(bad.pass, false);
      assert.equal(bad.status, 'succeeded', 'the app answered; only the assertion failed');
      assert.equal(bad.turns[0]!.assertions[0]!.pass, false);
      assert.match(bad.reasons.join('\n'), /this text is not in the answer/);

      assert.equal(r.targets[0]!.summary.passed, false, 'one failed case fails the target');
      assert.equal(r.targets[0]!.summary.runs.passed, 2);
    });
  }

  it('streaming: an SSE error event after HTTP 200 fails the case with its code and message; `status: error` can expect it', async () => {
    e.emu.setScript([
      { app: 'summariser', query: 'explode', answer: 'alpha beta gamma delta', error: { code: 'completion_request_error', message: 'the model ran out of tokens', status: 400, afterChunks: 2 } },
    ]);
    const before = calls('POST /v1/completion-messages');
    const r = await run(`defaults: { mode: streaming }
cases:
  - { name: unexpected, inputs: { text: explode }, assert: [ { contains: alpha } ] }
  - { name: expected, inputs: { text: explode }, assert: [ { status: error } ] }
  - { name: fine, inputs: { text: calm }, assert: [ { contains: calm } ] }
`);
    const c = byName(r, 'unexpected');
    assert.equal(c.pass, false, 'the answer contains alpha, but the run failed');
    assert.equal(c.status, 'error');
    assert.equal(c.reasons[0], 'error: completion_request_error: the model ran out of tokens (HTTP 400)');
    const obs = c.turns[0]!.observation;
    assert.equal(obs.responseMode, 'streaming');
    assert.equal(obs.answer, 'alpha beta ', 'the two chunks before the error');
    assert.equal(obs.error?.message, 'the model ran out of tokens');
    assert.equal(byName(r, 'expected').pass, true);
    assert.equal(byName(r, 'fine').pass, true, 'the script hits only the exploding input');
    assert.equal(calls('POST /v1/completion-messages') - before, 3, 'one call per case: an error after HTTP 200 is not retried');
    assert.equal(r.targets[0]!.summary.passed, false);
  });

  it('blocking: the same scripted failure is an error envelope, reported with its code and message', async () => {
    e.emu.setScript([{ app: 'summariser', query: 'explode', error: { code: 'completion_request_error', message: 'the model ran out of tokens', status: 400 } }]);
    const r = await run(`defaults: { mode: blocking }
cases:
  - { name: unexpected, inputs: { text: explode }, assert: [ { contains: explode } ] }
  - { name: fine, inputs: { text: calm }, assert: [ { contains: calm } ] }
`);
    const c = byName(r, 'unexpected');
    assert.equal(c.pass, false);
    assert.equal(c.status, 'error');
    assert.equal(c.reasons[0], 'error: completion_request_error: the model ran out of tokens (HTTP 400)');
    assert.equal(c.turns[0]!.observation.responseMode, 'blocking');
    assert.equal(byName(r, 'fine').pass, true);
  });
});
