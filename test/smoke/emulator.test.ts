/**
 * Smoke runner against the Dify emulator (real HTTP on loopback): script answers and faults drive every assertion
 * type, SSE errors after HTTP 200, cut streams, retries, timeouts, conversations and the gate.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DifyCiError } from '../../runner/src/core/errors.js';
import type { SmokeRun } from '../../runner/src/smoke/outcome.js';
import { runSmoke, type SmokeOptions } from '../../runner/src/smoke/runner.js';
import { parseSuiteText } from '../../runner/src/smoke/suite.js';
import type { CaseRunResult } from '../../runner/src/smoke/types.js';
import { tempProject } from '../helpers/cli.js';
import { chatDsl, chatflowDsl, EmulatorApps, workflowDsl } from './emulator-apps.js';
import { all, one, parseXml } from './xml.js';

const retryWaits: number[] = [];
const OPTS: SmokeOptions = {
  progress: false,
  // Retry waits are recorded, not slept: the test checks the policy, not the clock.
  clientOptions: { sleep: async (ms) => void retryWaits.push(ms), random: () => 0 },
};

describe('smoke: against the emulator', function () {
  this.timeout(30_000);
  let e: EmulatorApps;
  let bot: { appId: string; apiKey: string };
  let wf: { appId: string; apiKey: string };
  let flow: { appId: string; apiKey: string };

  before(async () => {
    e = await EmulatorApps.start({ pingIntervalMs: 50 });
    bot = await e.create(chatDsl('support-bot'));
    wf = await e.create(workflowDsl('upper'));
    flow = await e.create(chatflowDsl('order-flow'));
  });
  after(() => e.close());
  beforeEach(() => {
    e.emu.setScript([]);
    e.emu.setFaults([]);
    retryWaits.length = 0;
  });

  async function run(app: { apiKey: string }, yaml: string, opts: SmokeOptions = {}): Promise<SmokeRun> {
    const suite = parseSuiteText('tests/app.yml', yaml);
    return runSmoke(undefined, undefined, [{ app: 'app', env: 'emu', apiUrl: e.apiUrl, apiKey: app.apiKey, suite }], { ...OPTS, ...opts });
  }
  const byName = (r: SmokeRun, name: string): CaseRunResult => r.targets[0]!.results.find((x) => x.name === name)!;
  const verdicts = (c: CaseRunResult) => Object.fromEntries(c.turns[0]!.assertions.map((a) => [a.label, a.pass]));

  it('every assertion type and its negation, on scripted chat and JSON answers and workflow outputs', async () => {
    e.emu.setScript([
      { app: 'support-bot', query: '^hello$', answer: '您好，您的订单 123 已发货。Hello Customer', latencyMs: 60, usage: { prompt_tokens: 10, completion_tokens: 20 } },
      { app: 'support-bot', query: '^json$', answer: '{"order": 123, "status": "shipped"}' },
      { app: 'upper', query: 'hello', outputs: { result: 'HELLO', items: [{ id: 7 }] } },
    ]);
    // Each case lists true statements only, positive and negated, so every assertion must pass…
    const positive = `defaults: { inputs: { customer_tier: gold } }
cases:
  - name: text
    query: hello
    assert:
      - equals: '您好，您的订单 123 已发货。Hello Customer'
      - not-equals: 'something else'
      - contains: 订单 123
      - not-contains: 错误
      - icontains: hello customer
      - not-icontains: goodbye
      - contains-any: [nope, 已发货]
      - not-contains-any: [nope, nada]
      - contains-all: [您好, '123']
      - not-contains-all: [您好, absent]
      - starts-with: 您好
      - not-starts-with: Hello
      - regex: '^.{1,400}$'
      - not-regex: '^\\d+$'
      - not-is-json
      - latency: { maxMs: 20000 }
      - not-latency: { maxMs: 10 }
      - ttft: 20000
      - not-ttft: { maxMs: 10 }
      - tokens: { min: 30, max: 30 }
      - not-tokens: { max: 29 }
      - cost: { max: 0.001 }
      - not-cost: 0.00001
      - word-count: { min: 3, max: 30 }
      - not-word-count: 1
      - similarity: { value: '您好，您的订单 123 已发货。Hello customer', threshold: 0.9 }
      - not-similarity: 'totally different text'
      - status: succeeded
      - not-status: [failed, error]
  - name: json
    query: json
    assert:
      - is-json
      - json-schema: { type: object, required: [order, status], properties: { order: { type: integer } } }
      - not-json-schema: { type: object, required: [missing] }
`;
    const r = await run(bot, positive);
    for (const c of r.targets[0]!.results) {
      const failed = c.turns[0]!.assertions.filter((a) => !a.pass);
      assert.deepEqual(failed, [], `${c.name}: ${failed.map((a) => `${a.label} — ${a.reason}`).join('; ')}`);
      assert.equal(c.pass, true);
    }
    const text = byName(r, 'text').turns[0]!.observation;
    assert.equal(text.usage.totalTokens, 30);
    assert.equal(text.usage.totalPrice, '0.00005', '10×0.001/1k + 20×0.002/1k, from the decimal strings');
    assert.ok(text.ttftMs! >= 60, `TTFT ${text.ttftMs} includes the scripted 60 ms model latency`);

    const wfRun = await run(wf, `cases:
  - name: workflow output
    inputs: { text: hello }
    assert:
      - output: { path: result, equals: HELLO }
      - not-output: { path: result, equals: hello }
      - output: { path: 'items[0].id', equals: 7 }
      - output: { path: missing, exists: false }
      - status: succeeded
`);
    assert.deepEqual(Object.values(verdicts(byName(wfRun, 'workflow output'))), [true, true, true, true, true]);

    // …and the same statements negated all fail: the negation really flips.
    const flipped = positive.replace(/^( {6}- )not-/gm, '$1__POS__').replace(/^( {6}- )(?!__POS__)/gm, '$1not-').replace(/__POS__/g, '');
    const r2 = await run(bot, flipped);
    for (const c of r2.targets[0]!.results) {
      const passed = c.turns[0]!.assertions.filter((a) => a.pass);
      assert.deepEqual(passed.map((a) => a.label), [], `${c.name}: all flipped assertions must fail`);
      assert.equal(c.pass, false);
    }
    assert.equal(r2.targets[0]!.results[0]!.turns[0]!.assertions.length, 29);
  });

  it('an SSE error after HTTP 200 fails the case with Dify’s code; `status: error` can expect it', async () => {
    e.emu.setScript([{ app: 'support-bot', query: 'explode', answer: 'one two three four five', error: { code: 'completion_request_error', message: 'model exploded', status: 400, afterChunks: 2 } }]);
    const calls = () => e.emu.stats.byRoute['POST /v1/chat-messages'] ?? 0;
    const before = calls();
    const r = await run(bot, `defaults: { inputs: { customer_tier: gold } }
cases:
  - { name: unexpected, query: explode, assert: [ { contains: one } ] }
  - { name: expected, query: explode, assert: [ { status: error } ] }
`);
    const c = byName(r, 'unexpected');
    assert.equal(c.pass, false);
    assert.equal(c.status, 'error');
    assert.equal(c.reasons[0], 'error: completion_request_error: model exploded (HTTP 400)');
    assert.equal(c.turns[0]!.observation.answer, 'one two ', 'the two chunks before the error');
    assert.equal(byName(r, 'expected').pass, true);
    assert.equal(calls() - before, 2, 'one call per case: an error after HTTP 200 is not retried');
  });

  it('a stream cut mid-way (no terminal event) fails as incomplete and is not retried', async () => {
    e.emu.setScript([{ app: 'support-bot', query: 'cut', answer: 'a b c d e f g', cutAfterChunks: 3 }]);
    // Spaced events, so the chunks leave the emulator before it closes the socket (as a dying worker's would).
    e.emu.setFaults([{ route: '/v1/chat-messages', slowSseMs: 5 }]);
    const before = e.emu.stats.requests;
    const r = await run(bot, `defaults: { inputs: { customer_tier: gold } }\ncases:\n  - { name: cut, query: cut, assert: [ { contains: a } ] }\n`);
    const c = byName(r, 'cut');
    assert.equal(c.pass, false);
    assert.equal(c.status, 'incomplete');
    assert.match(c.reasons[0]!, /^incomplete answer: stream_incomplete: the stream ended after \d+ event\(s\) without a terminal event/);
    // What arrived before the cut (the emulator may lose the last chunk it wrote just before destroying the socket).
    assert.ok(['a b ', 'a b c '].includes(c.turns[0]!.observation.answer), JSON.stringify(c.turns[0]!.observation.answer));
    assert.equal(c.retries, 0);
    assert.equal(e.emu.stats.requests - before, 3, 'info + parameters + one run');
  });

  it('retries 5xx, 429 (Retry-After) and dropped connections, reports them, and still passes', async () => {
    e.emu.setFaults([
      { route: '/v1/chat-messages', method: 'POST', status: 503, body: { code: 'internal_server_error', message: 'busy', status: 503 }, times: 1 },
      { route: '/v1/chat-messages', method: 'POST', status: 429, body: { code: 'too_many_requests', message: 'slow down', status: 429 }, headers: { 'Retry-After': '3' }, times: 1 },
      { route: '/v1/workflows/run', method: 'POST', drop: true, times: 1 },
    ]);
    const r = await run(bot, `defaults: { inputs: { customer_tier: gold } }\ncases:\n  - { name: flaky, query: hi, assert: [ { contains: hi } ] }\n`);
    const c = byName(r, 'flaky');
    assert.equal(c.pass, true);
    assert.equal(c.retries, 2);
    assert.deepEqual(c.turns[0]!.observation.retryReasons, ['HTTP 503 internal_server_error', 'HTTP 429 too_many_requests']);
    assert.deepEqual(retryWaits, [125, 3000]);
    assert.equal((r.data as any).totals.retries, 2);

    const w = await run(wf, `cases:\n  - { name: dropped, inputs: { text: x }, assert: [ { status: succeeded } ] }\n`);
    assert.equal(byName(w, 'dropped').pass, true);
    assert.equal(byName(w, 'dropped').retries, 1);
    assert.match(byName(w, 'dropped').turns[0]!.observation.retryReasons[0]!, /^(ECONNRESET|EPIPE)/);
  });

  it('does not retry a 400, and gives up on a 5xx after smoke.retries', async () => {
    e.emu.setFaults([{ route: '/v1/chat-messages', method: 'POST', status: 500, body: { code: 'internal_server_error', message: 'down', status: 500 } }]);
    const r = await run(bot, `defaults: { inputs: { customer_tier: gold } }\ncases:\n  - { name: down, query: hi }\n`, { retries: 1 });
    assert.equal(byName(r, 'down').retries, 1);
    assert.match(byName(r, 'down').reasons[0]!, /error: internal_server_error: down \(HTTP 500\)/);
    e.emu.setFaults([{ route: '/v1/chat-messages', method: 'POST', status: 400, body: { code: 'invalid_param', message: 'Arg user must be provided.', status: 400 } }]);
    const before = e.emu.stats.requests;
    const r2 = await run(bot, `defaults: { inputs: { customer_tier: gold } }\ncases:\n  - { name: rejected, query: hi }\n`);
    assert.equal(byName(r2, 'rejected').retries, 0);
    assert.equal(byName(r2, 'rejected').reasons[0], 'error: invalid_param: Arg user must be provided. (HTTP 400)');
    assert.equal(e.emu.stats.requests - before, 3, 'info + parameters + one run');
  });

  it('times out a slow call at the case timeout, keeping what streamed', async () => {
    e.emu.setScript([{ app: 'support-bot', query: 'slow', answer: 'late answer', latencyMs: 5000 }]);
    const r = await run(bot, `defaults: { inputs: { customer_tier: gold } }\ncases:\n  - { name: slow, query: slow, timeoutMs: 300, assert: [ { contains: late } ] }\n`);
    const c = byName(r, 'slow');
    assert.equal(c.pass, false);
    assert.equal(c.status, 'timeout');
    assert.match(c.reasons[0]!, /^timed out: timeout: no complete answer within the case timeout/);
    assert.ok(c.latencyMs < 5000);
  });

  it('a multi-turn conversation keeps the conversation id, so the app remembers', async () => {
    const r = await run(bot, `defaults: { inputs: { customer_tier: gold } }
cases:
  - name: remembers the order id
    conversation:
      - { query: 'My order is 123', assert: [ { contains: '123' } ] }
      - { query: 'What was my order?', assert: [ { contains: '123' } ] }
    assert:
      - tokens: { max: 1000 }
`);
    const c = byName(r, 'remembers the order id');
    assert.equal(c.pass, true, c.reasons.join('; '));
    const [t1, t2] = c.turns;
    assert.ok(t1!.observation.conversationId);
    assert.equal(t2!.observation.conversationId, t1!.observation.conversationId);
    assert.match(t2!.observation.answer, /earlier: My order is 123/);
    assert.equal(c.tokens, t1!.observation.usage.totalTokens! + t2!.observation.usage.totalTokens!);
    assert.equal(c.caseAssertions[0]!.pass, true);

    // Chatflows too (advanced-chat: message events, workflow_finished, then message_end with the usage).
    const f = await run(flow, `cases:\n  - name: flow\n    conversation:\n      - { query: 'hi there', assert: [ { contains: 'hi there' } ] }\n      - { query: again, assert: [ { status: succeeded } ] }\n`);
    assert.equal(byName(f, 'flow').pass, true, byName(f, 'flow').reasons.join('; '));
    for (const t of byName(f, 'flow').turns) {
      const o = t.observation;
      assert.match(o.usage.totalPrice ?? '', /^0\.\d+$/, 'the price arrives only in message_end, after workflow_finished');
      assert.equal(o.usage.totalTokens, (o.usage.promptTokens ?? 0) + (o.usage.completionTokens ?? 0));
      assert.equal(o.usage.currency, 'USD');
    }
  });

  it('a workflow node failure is status failed: it fails the case unless the suite expects it', async () => {
    e.emu.setScript([{ app: 'upper', query: 'bad', nodeFailure: 'LLM' }]);
    const r = await run(wf, `cases:
  - { name: unexpected, inputs: { text: bad } }
  - { name: expected, inputs: { text: bad }, assert: [ { status: failed } ] }
`);
    assert.equal(byName(r, 'unexpected').pass, false);
    assert.match(byName(r, 'unexpected').reasons[0]!, /^workflow failed: .*LLM/);
    assert.equal(byName(r, 'expected').pass, true);
    assert.deepEqual(byName(r, 'expected').turns[0]!.observation.nodeFailures.map((n) => n.title), ['LLM']);
  });

  it('reports a missing required input before any run call', async () => {
    const before = e.emu.stats.byRoute['POST /v1/chat-messages'] ?? 0;
    await assert.rejects(run(bot, `cases:\n  - { name: no tier, query: hi }\n`), (err: unknown) => {
      assert.ok(err instanceof DifyCiError && err.exitCode === 2);
      assert.match(err.oneLine(), /^tests\/app\.yml:2:5: app@emu: case 'no tier' lacks the required input 'customer_tier'/);
      return true;
    });
    assert.equal(e.emu.stats.byRoute['POST /v1/chat-messages'] ?? 0, before, 'no run call');
  });

  it('the gate: pass rate threshold, required cases, weights and thresholds; JUnit read back', async () => {
    e.emu.setScript([{ app: 'support-bot', query: 'fail', answer: 'wrong' }]);
    const dir = tempProject({});
    const yaml = (passRate: number, required: boolean) => `defaults: { inputs: { customer_tier: gold } }
passRate: ${passRate}
cases:
  - { name: ok 1, query: hello }
  - { name: ok 2, query: hello }
  - { name: ok 3, query: hello }
  - name: bad
    query: fail
    required: ${required}
    assert:
      - contains: right
  - name: weighted
    query: fail
    threshold: 0.7
    assert:
      - { contains: wrong, weight: 3 }
      - { contains: right, weight: 1 }
`;
    const passing = await run(bot, yaml(0.8, false), { reportDir: dir });
    assert.equal(passing.targets[0]!.summary.passRate, 0.8, '4 of 5 (the weighted case scores 0.75 ≥ 0.7)');
    assert.equal(passing.passed, true);
    assert.equal(byName(passing, 'weighted').score, 0.75);

    assert.equal((await run(bot, yaml(0.9, false))).passed, false, 'below the pass rate');
    const req = await run(bot, yaml(0, true), { reportDir: dir, junit: join(dir, 'junit.xml') });
    assert.equal(req.passed, false, 'a required case gates even at passRate 0');
    assert.deepEqual(req.targets[0]!.summary.requiredFailed, ['bad']);

    const x = parseXml(readFileSync(join(dir, 'junit.xml'), 'utf8'));
    assert.equal(x.name, 'testsuites');
    assert.equal(x.attrs.tests, '5');
    assert.equal(x.attrs.failures, '1');
    const suite = one(x, 'testsuite')!;
    assert.equal(suite.attrs.name, 'smoke app@emu');
    const props = Object.fromEntries(all(one(suite, 'properties')!, 'property').map((p) => [p.attrs.name, p.attrs.value]));
    assert.equal(props.gate, 'failed');
    assert.equal(props.passRate, '0.8000');
    const cases = all(suite, 'testcase');
    assert.deepEqual(cases.map((c) => c.attrs.name), ['ok 1', 'ok 2', 'ok 3', 'bad', 'weighted']);
    assert.ok(cases.every((c) => c.attrs.classname === 'smoke.emu.app'));
    const failure = one(cases[3]!, 'failure')!;
    assert.equal(failure.attrs.message, 'contains: right — answer does not contain "right"');
    assert.match(one(cases[3]!, 'system-out')!.text, /answer:\nwrong/);
    assert.match(one(cases[0]!, 'system-out')!.text, /status: succeeded; latency \d+ ms; TTFT \d+ ms; \d+ tokens; cost 0\.\d+ USD/);
    assert.equal(one(cases[0]!, 'failure'), undefined);
  });

  it('blocking mode, agent-chat forced to stream, and the result data for notifications', async () => {
    const agent = await e.create(chatDsl('agent', 'agent-chat'));
    const r = await run(agent, `defaults: { mode: blocking, inputs: { customer_tier: gold } }\ncases:\n  - { name: a, query: hi, assert: [ { contains: hi }, { ttft: 20000 } ] }\n`);
    assert.equal(byName(r, 'a').pass, true);
    assert.ok(byName(r, 'a').turns[0]!.observation.notes.some((n) => /only stream/.test(n)));
    const b = await run(bot, `defaults: { mode: blocking, inputs: { customer_tier: gold } }\ncases:\n  - { name: b, query: hi, assert: [ { contains: hi }, { not-ttft: 1 } ] }\n`);
    assert.equal(byName(b, 'b').turns[0]!.observation.responseMode, 'blocking');
    assert.equal(byName(b, 'b').turns[0]!.assertions[1]!.pass, false, 'no TTFT in blocking mode: neither ttft nor not-ttft pass');
    const d = r.data as any;
    assert.equal(d.passed, true);
    assert.equal(d.targets[0].mode, 'agent-chat');
    assert.equal(d.targets[0].appName, 'agent');
    for (const k of ['p50', 'p95', 'max']) assert.equal(typeof d.latencyMs[k], 'number');
    assert.equal(typeof d.ttftMs.p50, 'number');
    assert.equal(d.totals.calls, 1);
    assert.match(d.totals.cost, /^0\.\d+$/);
  });
});
