/**
 * Every service-API response the emulator gives — blocking bodies, each SSE event, error bodies — validated
 * against Dify's OpenAPI file (`shared/dify-openapi/openapi_service.json`).
 */
import assert from 'node:assert/strict';
import { startEmulator, type Emulator } from '../../runner/src/emulator/index.js';
import { Client, adminClient, chatDsl, chatflowDsl, deployApp, parseSse, service, workflowDsl } from './helpers.js';
import { SPEC_ADJUSTMENTS, SpecValidator } from './openapi-validator.js';

describe('emulator responses match openapi_service.json', function () {
  let emu: Emulator;
  let c: Client;
  const spec = new SpecValidator();
  const keys: Record<string, string> = {};
  let pinned = '';
  let wfAppId = '';

  before(async () => {
    emu = await startEmulator({ port: 0 });
    c = await adminClient(emu);
    for (const [name, dsl] of [
      ['chat', chatDsl('chat')],
      ['agent-chat', chatDsl('agent-chat')],
      ['completion', chatDsl('completion')],
      ['workflow', workflowDsl()],
      ['advanced-chat', chatflowDsl()],
    ] as const) {
      const d = await deployApp(c, dsl);
      keys[name] = d.key;
      if (name === 'workflow') wfAppId = d.appId;
    }
    pinned = (await c.req('GET', `/console/api/apps/${wfAppId}/workflows`)).json.items.find((w: { version: string }) => w.version !== 'draft').id;
  });
  after(async () => {
    await emu.close();
    if (spec.unlisted.size > 0) process.stdout.write(`      (codes dify-api.md documents but the spec does not list: ${[...spec.unlisted].join('; ')})\n`);
  });
  afterEach(() => emu.setScript([]));

  const sse = async (key: string, path: string, body: unknown, base: 'ChunkChatEvent' | 'ChunkWorkflowEvent' | 'ChunkCompletionEvent') => {
    const r = await service(emu, key, 'POST', path, body);
    assert.equal(r.status, 200, r.text);
    const events = parseSse(r.text).filter((e) => !e.ping);
    assert.ok(events.length > 0);
    for (const e of events) spec.checkEvent(base, e);
    return events;
  };

  it('metadata: /info, /parameters, /meta for every mode', async () => {
    for (const key of Object.values(keys)) {
      spec.check('AppInfoResponse', (await service(emu, key, 'GET', '/info')).json);
      spec.check('AppParametersResponse', (await service(emu, key, 'GET', '/parameters')).json);
      spec.check('AppMetaResponse', (await service(emu, key, 'GET', '/meta')).json);
    }
  });

  it('blocking bodies: chat, advanced-chat, completion, workflow, pinned workflow', async () => {
    spec.check('ChatCompletionResponse', (await service(emu, keys.chat!, 'POST', '/chat-messages', { inputs: {}, query: 'hi', user: 'u', response_mode: 'blocking' })).json);
    spec.check('ChatCompletionResponse', (await service(emu, keys['advanced-chat']!, 'POST', '/chat-messages', { inputs: {}, query: 'hi', user: 'u', response_mode: 'blocking' })).json);
    spec.check('CompletionResponse', (await service(emu, keys.completion!, 'POST', '/completion-messages', { inputs: { text: 'hallo' }, user: 'u', response_mode: 'blocking' })).json);
    spec.check('WorkflowBlockingResponse', (await service(emu, keys.workflow!, 'POST', '/workflows/run', { inputs: { q: 'x' }, user: 'u', response_mode: 'blocking' })).json);
    spec.check('WorkflowBlockingResponse', (await service(emu, keys.workflow!, 'POST', `/workflows/${pinned}/run`, { inputs: { q: 'x' }, user: 'u', response_mode: 'blocking' })).json);
    emu.setScript([{ nodeFailure: 'LLM' }]);
    const failed = (await service(emu, keys.workflow!, 'POST', '/workflows/run', { inputs: { q: 'x' }, user: 'u', response_mode: 'blocking' })).json;
    assert.equal(failed.data.status, 'failed');
    spec.check('WorkflowBlockingResponse', failed);
  });

  it('every SSE event of every mode, including error events and failed runs', async () => {
    await sse(keys.chat!, '/chat-messages', { inputs: {}, query: 'one two', user: 'u', response_mode: 'streaming' }, 'ChunkChatEvent');
    await sse(keys['agent-chat']!, '/chat-messages', { inputs: {}, query: 'one two', user: 'u', response_mode: 'streaming' }, 'ChunkChatEvent');
    await sse(keys['advanced-chat']!, '/chat-messages', { inputs: {}, query: 'one two', user: 'u', response_mode: 'streaming' }, 'ChunkChatEvent');
    await sse(keys.completion!, '/completion-messages', { inputs: { text: 'x y' }, user: 'u', response_mode: 'streaming' }, 'ChunkCompletionEvent');
    await sse(keys.workflow!, '/workflows/run', { inputs: { q: 'x y' }, user: 'u', response_mode: 'streaming' }, 'ChunkWorkflowEvent');
    const error = { code: 'completion_request_error', message: 'boom', status: 400, afterChunks: 1 };
    for (const [k, path, body, base] of [
      ['chat', '/chat-messages', { inputs: {}, query: 'a b c', user: 'u', response_mode: 'streaming' }, 'ChunkChatEvent'],
      ['advanced-chat', '/chat-messages', { inputs: {}, query: 'a b c', user: 'u', response_mode: 'streaming' }, 'ChunkChatEvent'],
      ['completion', '/completion-messages', { inputs: { text: 'a b c' }, user: 'u', response_mode: 'streaming' }, 'ChunkCompletionEvent'],
      ['workflow', '/workflows/run', { inputs: { q: 'a b c' }, user: 'u', response_mode: 'streaming' }, 'ChunkWorkflowEvent'],
    ] as const) {
      emu.setScript([{ error }]);
      const ev = await sse(keys[k]!, path, body, base);
      assert.equal(ev[ev.length - 1]!.event, 'error', k);
    }
    emu.setScript([{ nodeFailure: 'LLM' }]);
    const ev = await sse(keys['advanced-chat']!, '/chat-messages', { inputs: {}, query: 'x', user: 'u', response_mode: 'streaming' }, 'ChunkChatEvent');
    assert.deepEqual(ev.slice(-2).map((e) => e.event), ['workflow_finished', 'error']);
  });

  it('error bodies: auth, validation, routing, conversations, pinned versions, concurrency', async () => {
    const err = async (key: string, method: string, path: string, route: string, body?: unknown, status?: number) => {
      const r = await service(emu, key, method, path, body);
      if (status) assert.equal(r.status, status, r.text);
      assert.ok(r.status >= 400);
      spec.checkError(route, method, r.status, r.json);
    };
    await err('app-nothing', 'GET', '/info', '/info', undefined, 401);
    await err(keys.workflow!, 'POST', '/chat-messages', '/chat-messages', { inputs: {}, query: 'x', user: 'u' }, 400);
    await err(keys.chat!, 'POST', '/workflows/run', '/workflows/run', { inputs: {}, user: 'u' }, 400);
    await err(keys.chat!, 'POST', '/completion-messages', '/completion-messages', { inputs: {}, user: 'u' }, 400);
    await err(keys.chat!, 'POST', '/chat-messages', '/chat-messages', { inputs: {}, query: 'x' }, 400);
    await err(keys.workflow!, 'POST', '/workflows/run', '/workflows/run', { inputs: {}, user: 'u' }, 400);
    await err(keys['agent-chat']!, 'POST', '/chat-messages', '/chat-messages', { inputs: {}, query: 'x', user: 'u', response_mode: 'blocking' }, 400);
    await err(keys.chat!, 'POST', '/chat-messages', '/chat-messages', { inputs: {}, query: 'x', user: 'u', conversation_id: '00000000-0000-0000-0000-000000000000' }, 404);
    await err(keys.workflow!, 'POST', '/workflows/not-a-uuid/run', '/workflows/{workflow_id}/run', { inputs: { q: 'x' }, user: 'u' }, 400);
    await err(keys.workflow!, 'POST', '/workflows/00000000-0000-0000-0000-000000000000/run', '/workflows/{workflow_id}/run', { inputs: { q: 'x' }, user: 'u' }, 404);
    emu.setScript([{ error: { code: 'completion_request_error', message: 'boom', status: 400 } }]);
    await err(keys.chat!, 'POST', '/chat-messages', '/chat-messages', { inputs: {}, query: 'x', user: 'u', response_mode: 'blocking' }, 400);
    const fresh = (await c.req('POST', '/console/api/apps/imports', { body: { mode: 'yaml-content', yaml_content: workflowDsl() } })).json.app_id;
    const freshKey = (await c.req('POST', `/console/api/apps/${fresh}/api-keys`)).json.token;
    await err(freshKey, 'GET', '/parameters', '/parameters', undefined, 400);
    await c.req('PUT', `/console/api/apps/${wfAppId}`, { body: { name: 'wf', max_active_requests: 1 } });
    emu.setScript([{ latencyMs: 200, times: 1 }]);
    const slow = await fetch(emu.url + '/v1/workflows/run', {
      method: 'POST',
      headers: { Authorization: `Bearer ${keys.workflow}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ inputs: { q: 'x' }, user: 'u', response_mode: 'streaming' }),
    });
    await err(keys.workflow!, 'POST', '/workflows/run', '/workflows/run', { inputs: { q: 'x' }, user: 'u' }, 429);
    await slow.text();
    await c.req('PUT', `/console/api/apps/${wfAppId}`, { body: { name: 'wf', max_active_requests: null } });
  });

  it('knowledge API bodies: datasets, documents, batches, indexing status, errors', async () => {
    const dkey = emu.createDatasetApiKey();
    const created = await service(emu, dkey, 'POST', '/datasets', { name: 'spec kb', indexing_technique: 'economy' });
    spec.checkResponse('/datasets', 'POST', 200, created.json);
    const ds = created.json.id as string;
    spec.checkResponse('/datasets', 'GET', 200, (await service(emu, dkey, 'GET', '/datasets?page=1&limit=20')).json);
    const doc = await service(emu, dkey, 'POST', `/datasets/${ds}/document/create-by-text`, { name: 'a.md', text: 'alpha beta', process_rule: { mode: 'automatic' } });
    spec.checkResponse('/datasets/{dataset_id}/document/create-by-text', 'POST', 200, doc.json);
    emu.advanceClock(10_000); // indexed: an update needs an available document
    const upd = await service(emu, dkey, 'POST', `/datasets/${ds}/documents/${doc.json.document.id}/update-by-text`, { name: 'a.md', text: 'gamma' });
    spec.checkResponse('/datasets/{dataset_id}/documents/{document_id}/update-by-text', 'POST', 200, upd.json);
    spec.checkResponse('/datasets/{dataset_id}/documents', 'GET', 200, (await service(emu, dkey, 'GET', `/datasets/${ds}/documents?limit=1`)).json);
    const st = await service(emu, dkey, 'GET', `/datasets/${ds}/documents/${upd.json.batch}/indexing-status`);
    spec.checkResponse('/datasets/{dataset_id}/documents/{batch}/indexing-status', 'GET', 200, st.json);
    const dup = await service(emu, dkey, 'POST', '/datasets', { name: 'spec kb' });
    assert.equal(dup.status, 409);
    spec.checkError('/datasets', 'POST', 409, dup.json);
    const missing = await service(emu, dkey, 'GET', `/datasets/00000000-0000-0000-0000-000000000000/documents`);
    spec.checkError('/datasets/{dataset_id}/documents', 'GET', 404, missing.json);
  });

  it('the validator itself rejects wrong shapes (so the checks above can fail)', () => {
    assert.throws(() => spec.check('ChatCompletionResponse', { event: 'message', metadata: { usage: { prompt_price: 0.001 } } }));
    assert.throws(() => spec.checkEvent('ChunkWorkflowEvent', { event: 'workflow_started', task_id: 'not-a-uuid' }));
    assert.throws(() => spec.checkEvent('ChunkChatEvent', { event: 'no_such_event' }));
    assert.throws(() => spec.checkError('/chat-messages', 'POST', 400, { message: 'x', code: 'invalid_param' }));
  });

  it('validated a meaningful number of objects (and documents the spec adjustments)', () => {
    assert.ok(spec.checked > 60, `only ${spec.checked} objects validated`);
    assert.ok(SPEC_ADJUSTMENTS.length > 0);
  });
});
