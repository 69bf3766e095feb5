import { strict as assert } from 'node:assert';
import { DifyCiError } from '../../runner/src/core/errors.js';
import { ServiceClient } from '../../runner/src/smoke/client.js';
import { json, sse, startServer, USAGE, type Handler, type TestServer } from './helpers.js';

const KEY = 'app-TESTKEYtestkey0123456789';
let server: TestServer | undefined;
const delays: number[] = [];

async function client(handler: Handler, opts: { retries?: number } = {}) {
  server = await startServer(handler);
  delays.length = 0;
  return new ServiceClient({
    apiUrl: server.url,
    apiKey: KEY,
    retries: opts.retries ?? 2,
    timeoutMs: 5000,
    random: () => 0,
    sleep: async (ms) => {
      delays.push(ms);
    },
  });
}

const chatEvent = (answer: string) => ({ event: 'message', task_id: 't', message_id: 'm1', conversation_id: 'c1', answer, created_at: 1 });

describe('smoke: service API client (loopback server)', () => {
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('streams a chat answer: skips pings, joins chunks, reads usage and prices, measures TTFT', async () => {
    const c = await client((req, res) => {
      assert.equal(req.url, '/v1/chat-messages');
      assert.equal(req.headers.authorization, `Bearer ${KEY}`);
      assert.deepEqual(req.body, { inputs: { tier: 'gold' }, user: 'ci', response_mode: 'streaming', query: '你好', conversation_id: '' });
      sse(res, ['ping', chatEvent('您好'), 'ping', chatEvent('，很高兴'), { event: 'message_end', task_id: 't', message_id: 'm1', conversation_id: 'c1', metadata: { usage: USAGE } }]);
    });
    const o = await c.run({ mode: 'chat', responseMode: 'streaming', query: '你好', inputs: { tier: 'gold' }, user: 'ci' });
    assert.equal(o.status, 'succeeded');
    assert.equal(o.answer, '您好，很高兴');
    assert.equal(o.conversationId, 'c1');
    assert.equal(o.usage.totalTokens, 30);
    assert.equal(o.usage.totalPrice, '0.00005');
    assert.equal(o.usage.currency, 'USD');
    assert.ok(o.ttftMs !== undefined && o.ttftMs >= 0 && o.ttftMs <= o.latencyMs);
    assert.equal(o.retries, 0);
    c.close();
  });

  it('reports an error event that arrives after HTTP 200, keeping the partial answer', async () => {
    const c = await client((_req, res) =>
      sse(res, [chatEvent('half'), { event: 'error', message_id: 'm1', conversation_id: 'c1', status: 400, code: 'completion_request_error', message: 'model exploded' }]),
    );
    const o = await c.run({ mode: 'chat', responseMode: 'streaming', query: 'x', inputs: {}, user: 'ci' });
    assert.equal(o.status, 'error');
    assert.deepEqual(o.error, { code: 'completion_request_error', message: 'model exploded', httpStatus: 400 });
    assert.equal(o.answer, 'half');
    assert.equal(server!.requests.length, 1, 'not retried');
    c.close();
  });

  it('a stream cut mid-way is incomplete and not retried', async () => {
    const c = await client((_req, res) => sse(res, [chatEvent('par'), chatEvent('tial')], { cut: true }));
    const o = await c.run({ mode: 'chat', responseMode: 'streaming', query: 'x', inputs: {}, user: 'ci' });
    assert.equal(o.status, 'incomplete');
    assert.equal(o.error?.code, 'stream_incomplete');
    assert.match(o.error!.message, /after 2 event\(s\) without a terminal event/);
    assert.equal(o.answer, 'partial');
    assert.equal(server!.requests.length, 1);
    c.close();
  });

  it('a stream that ends cleanly without a terminal event is incomplete too', async () => {
    const c = await client((_req, res) => sse(res, [{ event: 'workflow_started', workflow_run_id: 'r', data: {} }]));
    const o = await c.run({ mode: 'workflow', responseMode: 'streaming', inputs: {}, user: 'ci' });
    assert.equal(o.status, 'incomplete');
    c.close();
  });

  it('retries 5xx and 429 (honouring Retry-After), and reports the retries', async () => {
    const c = await client((_req, res, n) => {
      if (n === 1) return json(res, 503, { code: 'internal_server_error', message: 'busy', status: 503 });
      if (n === 2) return json(res, 429, { code: 'too_many_requests', message: 'slow down', status: 429 }, { 'retry-after': '2' });
      sse(res, [chatEvent('ok'), { event: 'message_end', metadata: { usage: USAGE } }]);
    });
    const o = await c.run({ mode: 'chat', responseMode: 'streaming', query: 'x', inputs: {}, user: 'ci' });
    assert.equal(o.status, 'succeeded');
    assert.equal(o.retries, 2);
    assert.deepEqual(o.retryReasons, ['HTTP 503 internal_server_error', 'HTTP 429 too_many_requests']);
    assert.deepEqual(delays, [125, 2000], 'backoff, then the Retry-After');
    assert.ok(o.notes.some((n) => /retried 2×/.test(n)));
    c.close();
  });

  it('gives up after the configured retries; never retries 4xx or a final rate_limit_error', async () => {
    let c = await client((_req, res) => json(res, 500, { code: 'internal_server_error', message: 'boom', status: 500 }), { retries: 1 });
    let o = await c.run({ mode: 'chat', responseMode: 'streaming', query: 'x', inputs: {}, user: 'ci' });
    assert.equal(o.status, 'error');
    assert.equal(o.error?.httpStatus, 500);
    assert.equal(server!.requests.length, 2);
    c.close();
    await server!.close();
    c = await client((_req, res) => json(res, 400, { code: 'invalid_param', message: 'q is required in input form', status: 400 }));
    o = await c.run({ mode: 'workflow', responseMode: 'streaming', inputs: {}, user: 'ci' });
    assert.deepEqual(o.error, { code: 'invalid_param', message: 'q is required in input form', httpStatus: 400 });
    assert.equal(server!.requests.length, 1);
    c.close();
    await server!.close();
    c = await client((_req, res) => json(res, 429, { code: 'rate_limit_error', message: 'Rate Limit Error', status: 429 }));
    o = await c.run({ mode: 'chat', responseMode: 'streaming', query: 'x', inputs: {}, user: 'ci' });
    assert.equal(o.error?.code, 'rate_limit_error');
    assert.equal(server!.requests.length, 1);
    c.close();
  });

  it('retries a connection reset before any response', async () => {
    const c = await client((_req, res, n) => {
      if (n === 1) return res.socket!.destroy();
      sse(res, [chatEvent('ok'), { event: 'message_end', metadata: {} }]);
    });
    const o = await c.run({ mode: 'chat', responseMode: 'streaming', query: 'x', inputs: {}, user: 'ci' });
    assert.equal(o.status, 'succeeded');
    assert.equal(o.retries, 1);
    assert.match(o.retryReasons[0]!, /ECONNRESET|socket hang up/i);
    c.close();
  });

  it('times out through the signal and keeps what had streamed', async () => {
    const c = await client((_req, res) => sse(res, [chatEvent('slow')], { end: false }));
    const o = await c.run({ mode: 'chat', responseMode: 'streaming', query: 'x', inputs: {}, user: 'ci' }, AbortSignal.timeout(300));
    assert.equal(o.status, 'timeout');
    assert.equal(o.answer, 'slow');
    assert.match(o.error!.message, /within the case timeout/);
    c.close();
  });

  it('parses a workflow stream: text chunks, node failure, outputs, node prices', async () => {
    const c = await client((req, res) => {
      assert.equal(req.url, '/v1/workflows/run');
      assert.equal(req.body.query, undefined);
      sse(res, [
        { event: 'workflow_started', task_id: 't', workflow_run_id: 'r1', data: { id: 'r1' } },
        { event: 'text_chunk', task_id: 't', workflow_run_id: 'r1', data: { text: 'HEL' } },
        { event: 'node_finished', task_id: 't', workflow_run_id: 'r1', data: { title: 'LLM', node_type: 'llm', status: 'failed', error: 'quota', execution_metadata: { total_price: '0.001', currency: 'USD' } } },
        { event: 'node_finished', task_id: 't', workflow_run_id: 'r1', data: { title: 'Code', status: 'succeeded', execution_metadata: { total_price: '0.002' } } },
        { event: 'workflow_finished', task_id: 't', workflow_run_id: 'r1', data: { status: 'failed', outputs: { result: 'HELLO' }, error: 'node LLM failed', total_tokens: 12 } },
      ]);
    });
    const o = await c.run({ mode: 'workflow', responseMode: 'streaming', inputs: { text: 'hello' }, user: 'ci' });
    assert.equal(o.status, 'failed');
    assert.deepEqual(o.outputs, { result: 'HELLO' });
    assert.equal(o.answer, 'HELLO');
    assert.deepEqual(o.nodeFailures, [{ title: 'LLM', nodeType: 'llm', error: 'quota' }]);
    assert.equal(o.usage.totalTokens, 12);
    assert.equal(o.usage.totalPrice, '0.003');
    assert.equal(o.workflowRunId, 'r1');
    c.close();
  });

  it('blocking: parses JSON, but follows a chatflow that streams anyway (Content-Type decides)', async () => {
    let c = await client((req, res) => {
      assert.equal(req.body.response_mode, 'blocking');
      json(res, 200, { event: 'message', answer: 'Hi', conversation_id: 'c9', metadata: { usage: USAGE } });
    });
    let o = await c.run({ mode: 'chat', responseMode: 'blocking', query: 'x', inputs: {}, user: 'ci' });
    assert.equal(o.answer, 'Hi');
    assert.equal(o.conversationId, 'c9');
    assert.equal(o.ttftMs, undefined);
    assert.equal(o.usage.totalTokens, 30);
    c.close();
    await server!.close();
    c = await client((_req, res) =>
      sse(res, [chatEvent('streamed'), { event: 'workflow_finished', data: { status: 'succeeded', outputs: {}, total_tokens: 1 } }, { event: 'message_end', metadata: { usage: USAGE } }]),
    );
    o = await c.run({ mode: 'advanced-chat', responseMode: 'blocking', query: 'x', inputs: {}, user: 'ci' });
    assert.equal(o.status, 'succeeded');
    assert.equal(o.answer, 'streamed');
    assert.equal(o.usage.totalTokens, 30, 'usage from message_end, which follows workflow_finished');
    assert.ok(o.notes.some((n) => /streamed although blocking/.test(n)));
    c.close();
  });

  it('agent-chat is always streamed; blocking workflow with empty outputs gets a note', async () => {
    let c = await client((req, res) => {
      assert.equal(req.body.response_mode, 'streaming');
      sse(res, [{ event: 'agent_thought', thought: 'hmm' }, { event: 'agent_message', answer: 'A' }, { event: 'agent_message', answer: 'B' }, { event: 'message_end', metadata: {} }]);
    });
    let o = await c.run({ mode: 'agent-chat', responseMode: 'blocking', query: 'x', inputs: {}, user: 'ci' });
    assert.equal(o.answer, 'AB');
    assert.equal(o.responseMode, 'streaming');
    assert.ok(o.notes.some((n) => /agent-chat apps only stream/.test(n)));
    c.close();
    await server!.close();
    c = await client((_req, res) => json(res, 200, { task_id: 't', workflow_run_id: 'r', data: { id: 'r', status: 'succeeded', outputs: {}, total_tokens: 3 } }));
    o = await c.run({ mode: 'workflow', responseMode: 'blocking', inputs: {}, user: 'ci' });
    assert.equal(o.status, 'succeeded');
    assert.ok(o.notes.some((n) => /empty outputs/.test(n)));
    c.close();
  });

  it('metadata: info and parameters; 401 is an auth error (exit 4), 5xx is retried', async () => {
    let c = await client((req, res, n) => {
      if (req.url === '/v1/info') return n === 1 ? json(res, 502, {}) : json(res, 200, { name: 'bot', description: '', tags: [], mode: 'chat', author_name: 'x' });
      json(res, 200, { user_input_form: [{ 'text-input': { label: 'Q', variable: 'q', required: true, default: '' } }, { select: { label: 'T', variable: 'tier', required: false, options: ['a', 'b'] } }] });
    });
    assert.equal((await c.info()).mode, 'chat');
    const p = await c.parameters();
    assert.deepEqual(p.inputs.map((i) => [i.type, i.variable, i.required]), [['text-input', 'q', true], ['select', 'tier', false]]);
    c.close();
    await server!.close();
    c = await client((_req, res) => json(res, 401, { code: 'unauthorized', message: 'Access token is invalid', status: 401 }));
    await assert.rejects(c.info(), (e: unknown) => e instanceof DifyCiError && e.category === 'auth' && e.exitCode === 4 && /Access token is invalid/.test(e.message));
    c.close();
  });
});
