/**
 * §13 draft runs (the studio's debugger) over real HTTP: the draft graph or the candidate model_config, streaming
 * forced for workflow draft runs, edit permission, debugger conversations apart from the service API's, and no
 * trace in the §12 statistics or the app logs.
 */
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { startEmulator, type Emulator } from '../../runner/src/emulator/index.js';
import { Client, adminClient, chatDsl, chatflowDsl, deployApp, importApp, parseSse, service, workflowDsl, type SseEvent } from './helpers.js';

const edge = (s: string, t: string) => ({ id: `${s}-${t}`, source: s, target: t, sourceHandle: 'source', targetHandle: 'target', type: 'custom' });

/** start(q) → template "{{ g }} {{ q }}" with g = env.greeting → end(out). */
function greeterDsl(greeting: string): string {
  return stringify({
    app: { name: 'greeter', mode: 'workflow', icon: '🤖', icon_background: '#FFEAD5', description: '' },
    kind: 'app',
    version: '0.6.0',
    workflow: {
      graph: {
        nodes: [
          { id: 'start', type: 'custom', data: { type: 'start', title: 'Start', variables: [{ variable: 'q', label: 'q', type: 'text-input', required: true, max_length: 64, options: [] }] } },
          {
            id: 'tt',
            type: 'custom',
            data: {
              type: 'template-transform',
              title: 'T',
              template: '{{ g }} {{ q }}',
              variables: [
                { variable: 'g', value_selector: ['env', 'greeting'] },
                { variable: 'q', value_selector: ['start', 'q'] },
              ],
            },
          },
          { id: 'end', type: 'custom', data: { type: 'end', title: 'End', outputs: [{ variable: 'out', value_selector: ['tt', 'output'] }] } },
        ],
        edges: [edge('start', 'tt'), edge('tt', 'end')],
      },
      features: {},
      environment_variables: [{ id: '6f1d2c3b-4a5e-4f60-8a9b-0c1d2e3f4a5b', name: 'greeting', value: greeting, value_type: 'string', description: '', selector: ['env', 'greeting'] }],
      conversation_variables: [],
    },
  });
}

const last = (events: SseEvent[], name: string): SseEvent | undefined => [...events].reverse().find((e) => e.event === name);

describe('emulator §13: draft runs in the studio debugger', function () {
  let emu: Emulator;
  let c: Client;

  before(async () => {
    emu = await startEmulator({ port: 0 });
  });
  after(async () => emu.close());
  beforeEach(async () => {
    emu.reset();
    c = await adminClient(emu);
  });

  const draftRun = (appId: string, body: unknown) => c.req('POST', `/console/api/apps/${appId}/workflows/draft/run`, { body });

  it('a workflow draft run streams (forced) the draft before any publish; the service API still has nothing to run', async () => {
    const imp = await importApp(c, greeterDsl('Hello'));
    const appId = imp.json.app_id as string;
    const key = (await c.req('POST', `/console/api/apps/${appId}/api-keys`)).json.token as string;
    const live = await service(emu, key, 'POST', '/workflows/run', { inputs: { q: 'x' }, user: 'u', response_mode: 'blocking' });
    assert.deepEqual(live.json, { code: 'invalid_param', message: 'Workflow not published', status: 400 });

    const r = await draftRun(appId, { inputs: { q: 'Ada' }, response_mode: 'blocking' });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/event-stream/);
    const events = parseSse(r.text);
    assert.equal(events[0]!.event, 'workflow_started');
    assert.ok(events.some((e) => e.event === 'node_finished' && e.data.node_type === 'template-transform'));
    const fin = last(events, 'workflow_finished')!;
    assert.equal(fin.data.status, 'succeeded');
    assert.deepEqual(fin.data.outputs, { out: 'Hello Ada' });
    assert.equal(fin.data.created_by.id, (await c.req('GET', '/console/api/account/profile')).json.id, 'the run is the account’s');

    const missing = await draftRun(appId, { files: [] });
    assert.deepEqual(missing.json, { code: 'invalid_param', message: '1 validation error for DraftWorkflowRunPayload\ninputs\n  Field required', status: 400 });
    const required = await draftRun(appId, { inputs: {} });
    assert.deepEqual(required.json, { code: 'invalid_param', message: 'q is required in input form', status: 400 });
  });

  it('the draft, not the published version: a changed draft (env value) runs in the debugger while /v1 serves the live one', async () => {
    const { appId, key } = await deployApp(c, greeterDsl('Hello'));
    const draft = (await c.req('GET', `/console/api/apps/${appId}/workflows/draft`)).json;
    const env = draft.environment_variables.map((v: Record<string, unknown>) => ({ ...v, value: 'Bonjour' }));
    const sync = await c.req('POST', `/console/api/apps/${appId}/workflows/draft`, { body: { graph: draft.graph, features: draft.features, environment_variables: env, conversation_variables: [], hash: draft.hash } });
    assert.equal(sync.status, 200, sync.text);
    const debug = last(parseSse((await draftRun(appId, { inputs: { q: 'Ada' } })).text), 'workflow_finished')!;
    assert.deepEqual(debug.data.outputs, { out: 'Bonjour Ada' });
    const live = await service(emu, key, 'POST', '/workflows/run', { inputs: { q: 'Ada' }, user: 'u', response_mode: 'blocking' });
    assert.deepEqual(live.json.data.outputs, { out: 'Hello Ada' });

    // Left out of the statistics and the app logs; the live run is in both.
    assert.deepEqual((await c.req('GET', `/console/api/apps/${appId}/workflow/statistics/daily-conversations`)).json.data.map((d: { runs: number }) => d.runs), [1]);
    const logs = (await c.req('GET', `/console/api/apps/${appId}/workflow-app-logs`)).json;
    assert.equal(logs.total, 1);
    assert.equal(logs.data[0].workflow_run.id, live.json.workflow_run_id);
  });

  it('an app without a draft → 400 "Workflow not initialized"; a chat app on the workflow route → mode refusal', async () => {
    const created = await c.req('POST', '/console/api/apps', { body: { name: 'empty', mode: 'workflow' } });
    assert.deepEqual((await draftRun(created.json.id, { inputs: {} })).json, { code: 'invalid_param', message: 'Workflow not initialized', status: 400 });
    const chat = (await importApp(c, chatDsl('chat'))).json.app_id;
    assert.deepEqual((await draftRun(chat, { inputs: {} })).json, { code: 'app_not_found', message: "App mode is not in the supported list: {'workflow'}", status: 404 });
    assert.equal((await c.req('POST', `/console/api/apps/${created.json.id}/workflow-runs/tasks/some-task/stop`)).json.result, 'success');
  });

  it('chatflow draft runs: forced SSE with workflow_finished then message_end; debugger conversations are not the service API’s', async () => {
    const { appId, key } = await deployApp(c, chatflowDsl('flow'));
    const run = (body: unknown) => c.req('POST', `/console/api/apps/${appId}/advanced-chat/workflows/draft/run`, { body });
    const first = parseSse((await run({ query: 'hello', inputs: {}, response_mode: 'blocking' })).text);
    const names = first.map((e) => e.event);
    assert.equal(names[0], 'workflow_started');
    assert.deepEqual(names.slice(-2), ['workflow_finished', 'message_end']);
    const conversationId = first[0]!.conversation_id as string;
    const second = parseSse((await run({ query: 'again', conversation_id: conversationId })).text);
    const answer = second.filter((e) => e.event === 'message').map((e) => e.answer).join('');
    assert.match(answer, / again$/);
    assert.equal(second[0]!.conversation_id, conversationId);

    assert.deepEqual((await run({ query: '' })).json, { code: 'invalid_param', message: 'query is required', status: 400 });
    assert.equal((await run({ query: 'x', conversation_id: '00000000-0000-4000-8000-000000000000' })).json.message, 'Conversation Not Exists.');
    const viaApi = await service(emu, key, 'POST', '/chat-messages', { inputs: {}, query: 'x', user: 'u', conversation_id: conversationId, response_mode: 'blocking' });
    assert.deepEqual(viaApi.json, { code: 'not_found', message: 'Conversation Not Exists.', status: 404 });
    assert.deepEqual((await service(emu, key, 'GET', '/conversations?user=u')).json.data, []);
    assert.deepEqual((await c.req('GET', `/console/api/apps/${appId}/statistics/daily-messages`)).json, { data: [] });
  });

  it('chat debug calls use the candidate model_config for that call only; agent-chat refuses blocking; completion too', async () => {
    const { appId, key } = await deployApp(c, chatDsl('chat', 'bot'));
    const candidate = { model: { provider: 'openai', name: 'gpt-4o-candidate', mode: 'chat', completion_params: {} }, pre_prompt: 'You are new.', user_input_form: [{ 'text-input': { label: 'lang', variable: 'lang', required: true, default: '' } }] };
    const debug = (body: unknown) => c.req('POST', `/console/api/apps/${appId}/chat-messages`, { body });
    assert.equal((await debug({ inputs: {}, query: 'hi', model_config: candidate })).json.message, 'lang is required in input form');
    const r = await debug({ inputs: { lang: 'fr' }, query: 'hi', model_config: candidate, response_mode: 'blocking' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.event, 'message');
    assert.match(r.json.answer, /^\[gpt-4o-candidate\] /);
    const saved = await debug({ inputs: {}, query: 'hi' });
    assert.match(saved.json.answer, /^\[gpt-4o-mini\] /, 'no model_config: the saved one');
    const live = await service(emu, key, 'POST', '/chat-messages', { inputs: {}, query: 'hi', user: 'u', response_mode: 'blocking' });
    assert.match(live.json.answer, /^\[gpt-4o-mini\] /, 'the live app is untouched');
    assert.equal((await debug({ inputs: {}, query: 'hi', model_config: { model: 'x' } })).json.message, 'model must be of object type');
    const stream = parseSse((await debug({ inputs: { lang: 'de' }, query: 'hi', model_config: candidate, response_mode: 'streaming' })).text);
    assert.equal(stream.at(-1)!.event, 'message_end');
    // Only the live call counts.
    assert.deepEqual((await c.req('GET', `/console/api/apps/${appId}/statistics/daily-messages`)).json.data.map((d: { message_count: number }) => d.message_count), [1]);

    const agent = (await importApp(c, chatDsl('agent-chat', 'agent'))).json.app_id;
    const blocking = await c.req('POST', `/console/api/apps/${agent}/chat-messages`, { body: { inputs: {}, query: 'hi' } });
    assert.deepEqual(blocking.json, { code: 'invalid_param', message: 'Agent Chat App does not support blocking mode', status: 400 });
    const streamed = parseSse((await c.req('POST', `/console/api/apps/${agent}/chat-messages`, { body: { inputs: {}, query: 'hi', response_mode: 'streaming' } })).text);
    assert.ok(streamed.some((e) => e.event === 'agent_message'));

    const writer = (await importApp(c, chatDsl('completion', 'writer'))).json.app_id;
    const done = await c.req('POST', `/console/api/apps/${writer}/completion-messages`, { body: { inputs: { text: 'bonjour' }, model_config: { ...candidate, user_input_form: [{ paragraph: { label: 'text', variable: 'text', required: true, default: '' } }] }, response_mode: 'blocking' } });
    assert.match(done.json.answer, /^\[gpt-4o-candidate\] .*bonjour/);
    assert.equal((await c.req('POST', `/console/api/apps/${writer}/chat-messages`, { body: { inputs: {}, query: 'x' } })).json.code, 'app_not_found');
    assert.equal((await c.req('POST', `/console/api/apps/${writer}/completion-messages/t1/stop`)).json.result, 'success');
  });

  it('edit permission: a normal member gets 403 (chat-messages: before the app is looked up)', async () => {
    const { appId } = await deployApp(c, greeterDsl('Hi'));
    const chat = (await importApp(c, chatDsl('chat'))).json.app_id;
    emu.createAccount({ email: 'viewer@example.com', password: 'viewer-Passw0rd', role: 'normal', workspaceId: emu.workspaceId });
    const v = new Client(emu.url);
    assert.equal((await v.login('viewer@example.com', 'viewer-Passw0rd')).status, 200);
    const forbidden = { code: 'forbidden', message: "You don't have the permission to access the requested resource. It is either read-protected or not readable by the server.", status: 403 };
    assert.deepEqual((await v.req('POST', `/console/api/apps/${appId}/workflows/draft/run`, { body: { inputs: { q: 'x' } } })).json, forbidden);
    assert.deepEqual((await v.req('POST', `/console/api/apps/${chat}/chat-messages`, { body: { inputs: {}, query: 'x' } })).json, forbidden);
    assert.deepEqual((await v.req('POST', '/console/api/apps/00000000-0000-4000-8000-000000000000/chat-messages', { body: {} })).json, forbidden);
    assert.equal((await v.req('POST', '/console/api/apps/00000000-0000-4000-8000-000000000000/workflows/draft/run', { body: {} })).json.message, 'App not found.');
  });
});
