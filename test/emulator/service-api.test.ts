/**
 * The service-API routes beyond the runs (dify-api.md §7, Dify's service_api controllers, openapi_service.json):
 * conversation listing checks, conversation variables, the Site, workflow run detail and logs, upload refusals,
 * and the error bodies Flask's routing and flask_restx.abort give. Every /v1 answer through `service()` is also
 * validated against the OpenAPI file.
 */
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { startEmulator, type Emulator } from '../../runner/src/emulator/index.js';
import { Client, adminClient, chatDsl, deployApp, service, workflowDsl } from './helpers.js';

const VAR_ID = '3d7b5a30-1c2e-4f4e-9a51-6a3c2b1d0e9f';
const NOT_FOUND = { code: 'not_found', message: 'The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.', status: 404 };

/** A chatflow with a conversation variable `topic` that its answer shows. */
function chatflowWithVariable(): string {
  const edge = (s: string, t: string) => ({ id: `${s}-${t}`, source: s, target: t, sourceHandle: 'source', targetHandle: 'target', type: 'custom' });
  return stringify({
    app: { name: 'vars', mode: 'advanced-chat', icon: '🤖', icon_background: '#FFEAD5', description: '' },
    kind: 'app',
    version: '0.6.0',
    workflow: {
      graph: {
        nodes: [
          { id: 'start', type: 'custom', data: { type: 'start', title: 'Start', variables: [] } },
          { id: 'answer', type: 'custom', data: { type: 'answer', title: 'Answer', answer: 'topic={{#conversation.topic#}} q={{#sys.query#}}' } },
        ],
        edges: [edge('start', 'answer')],
      },
      features: { opening_statement: 'Welcome!' },
      environment_variables: [],
      conversation_variables: [
        { id: VAR_ID, name: 'topic', value_type: 'string', value: 'none', description: 'what we talk about', selector: ['conversation', 'topic'] },
        { id: '5a1f0c3e-8b2d-4c6a-9e7f-0d1c2b3a4f5e', name: 'count', value_type: 'number', value: 0, description: '', selector: ['conversation', 'count'] },
      ],
    },
  });
}

describe('emulator service API: conversations, variables, site, workflow runs, uploads, error bodies', function () {
  this.timeout(20_000);
  let emu: Emulator;
  let c: Client;
  const keys: Record<string, string> = {};
  const ids: Record<string, string> = {};

  before(async () => {
    emu = await startEmulator({ port: 0 });
    c = await adminClient(emu);
    for (const [k, dsl] of [['chat', chatDsl('chat')], ['workflow', workflowDsl({ name: 'logs' })], ['flow', chatflowWithVariable()]] as const) {
      const d = await deployApp(c, dsl);
      keys[k] = d.key;
      ids[k] = d.appId;
    }
  });
  after(async () => emu.close());

  it('GET /v1/conversations checks limit, last_id, sort_by and the app mode; no user means DEFAULT-USER', async () => {
    const chat = (q: string) => service(emu, keys.chat!, 'GET', `/conversations?${q}`);
    for (const [q, msg] of [
      ['limit=0', 'limit\n  Input should be greater than or equal to 1'],
      ['limit=101', 'limit\n  Input should be less than or equal to 100'],
      ['limit=x', 'limit\n  Input should be a valid integer, unable to parse string as an integer'],
      ['last_id=abc', 'last_id\n  Value error, must be a valid UUID'],
      ['sort_by=name', "sort_by\n  Input should be 'created_at', '-created_at', 'updated_at' or '-updated_at'"],
    ]) {
      const r = await chat(`user=u&${q}`);
      assert.equal(r.status, 400, q);
      assert.deepEqual(r.json, { code: 'invalid_param', message: `1 validation error for ConversationListQuery\n${msg}`, status: 400 }, q);
    }
    const unknown = await chat('user=u&last_id=00000000-0000-0000-0000-000000000000');
    assert.deepEqual(unknown.json, { code: 'not_found', message: 'Last Conversation Not Exists.', status: 404 });
    assert.deepEqual((await service(emu, keys.chat!, 'GET', '/messages?user=u&conversation_id=')).json, { limit: 20, has_more: false, data: [] }, 'an empty conversation_id lists nothing');
    assert.equal((await service(emu, keys.chat!, 'GET', '/messages?user=u')).json.message, '1 validation error for MessageListQuery\nconversation_id\n  Field required');
    const wf = await service(emu, keys.workflow!, 'GET', '/conversations?user=u&limit=500');
    assert.equal(wf.json.code, 'not_chat_app', 'the mode is checked before the query');

    // Without a user Dify acts for its DEFAULT-USER end user: it sees what a call without user made, and nothing else.
    const made = await service(emu, keys.chat!, 'POST', '/chat-messages', { inputs: {}, query: 'as alice', user: 'alice', response_mode: 'blocking' });
    assert.deepEqual((await chat('')).json, { limit: 20, has_more: false, data: [] });
    const first = (await chat('user=alice')).json.data;
    assert.deepEqual(first.map((x: { id: string }) => x.id), [made.json.conversation_id]);
    // Paging with last_id, in both orders.
    const second = await service(emu, keys.chat!, 'POST', '/chat-messages', { inputs: {}, query: 'again', user: 'alice', response_mode: 'blocking' });
    const page1 = (await chat('user=alice&limit=1')).json;
    assert.deepEqual([page1.data[0].id, page1.has_more], [second.json.conversation_id, true]);
    const page2 = (await chat(`user=alice&limit=1&last_id=${page1.data[0].id}`)).json;
    assert.deepEqual([page2.data[0].id, page2.has_more], [made.json.conversation_id, false]);
    assert.deepEqual((await chat('user=alice&sort_by=created_at')).json.data.map((x: { id: string }) => x.id), [made.json.conversation_id, second.json.conversation_id]);
  });

  it('conversation variables: listed with their ids and types, paged, filtered, updated with type checks, used by the next turn', async () => {
    const start = await service(emu, keys.flow!, 'POST', '/chat-messages', { inputs: {}, query: 'hi', user: 'vic', response_mode: 'blocking' });
    assert.match(start.json.answer, /^topic=none q=hi$/);
    const conv = start.json.conversation_id as string;
    const list = await service(emu, keys.flow!, 'GET', `/conversations/${conv}/variables?user=vic`);
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(
      list.json.data.map((v: Record<string, unknown>) => [v.id, v.name, v.value_type, v.value, v.description]),
      [[VAR_ID, 'topic', 'string', 'none', 'what we talk about'], ['5a1f0c3e-8b2d-4c6a-9e7f-0d1c2b3a4f5e', 'count', 'number', '0', '']],
    );
    const paged = await service(emu, keys.flow!, 'GET', `/conversations/${conv}/variables?user=vic&limit=1`);
    assert.deepEqual([paged.json.data.length, paged.json.has_more], [1, true]);
    const rest = await service(emu, keys.flow!, 'GET', `/conversations/${conv}/variables?user=vic&last_id=${VAR_ID}`);
    assert.deepEqual(rest.json.data.map((v: { name: string }) => v.name), ['count']);
    assert.deepEqual((await service(emu, keys.flow!, 'GET', `/conversations/${conv}/variables?user=vic&variable_name=cou`)).json.data.map((v: { name: string }) => v.name), ['count']);
    const badLast = await service(emu, keys.flow!, 'GET', `/conversations/${conv}/variables?user=vic&last_id=00000000-0000-0000-0000-000000000000`);
    assert.deepEqual(badLast.json, { code: 'invalid_param', message: '', status: 400 });
    assert.equal((await service(emu, keys.flow!, 'GET', `/conversations/${conv}/variables?user=mallory`)).json.message, 'Conversation Not Exists.');

    const put = (varId: string, value: unknown) => service(emu, keys.flow!, 'PUT', `/conversations/${conv}/variables/${varId}`, { value, user: 'vic' });
    const ok = await put(VAR_ID, 'billing');
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.value, 'billing');
    assert.deepEqual((await put(VAR_ID, 42)).json, { code: 'bad_request', message: "Type mismatch: variable 'topic' expects string, but got number type", status: 400 });
    assert.deepEqual((await put('00000000-0000-0000-0000-000000000000', 'x')).json, { code: 'not_found', message: 'Conversation Variable Not Exists.', status: 404 });
    const next = await service(emu, keys.flow!, 'POST', '/chat-messages', { inputs: {}, query: 'again', user: 'vic', conversation_id: conv, response_mode: 'blocking' });
    assert.match(next.json.answer, /^topic=billing q=again$/);
    // The conversation shows the app's opening statement as its introduction.
    assert.equal((await service(emu, keys.flow!, 'GET', '/conversations?user=vic')).json.data[0].introduction, 'Welcome!');
  });

  it('GET /v1/site: the app\'s Site settings', async () => {
    const r = await service(emu, keys.chat!, 'GET', '/site');
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.json).sort(), ['chat_color_theme', 'chat_color_theme_inverted', 'copyright', 'custom_disclaimer', 'default_language', 'description', 'icon', 'icon_background', 'icon_type', 'icon_url', 'input_placeholder', 'privacy_policy', 'show_workflow_steps', 'title', 'use_icon_as_answer_icon']);
    assert.equal(r.json.title, 'bot');
    assert.equal(r.json.chat_color_theme, null);
  });

  it('workflow runs: detail by id (inputs as stored JSON text), logs with paging and filters', async () => {
    const run = async (q: string, user: string) => (await service(emu, keys.workflow!, 'POST', '/workflows/run', { inputs: { q }, user, response_mode: 'blocking' })).json;
    const a = await run('alpha', 'ann');
    emu.setScript([{ nodeFailure: 'LLM', times: 1 }]);
    const b = await run('beta', 'bob');
    const detail = await service(emu, keys.workflow!, 'GET', `/workflows/run/${a.workflow_run_id}`);
    assert.equal(detail.status, 200, detail.text);
    assert.equal(detail.json.status, 'succeeded');
    assert.deepEqual(detail.json.outputs, a.data.outputs);
    const inputs = JSON.parse(detail.json.inputs);
    assert.equal(inputs.q, 'alpha');
    assert.equal(inputs['sys.user_id'], 'ann');
    assert.equal(detail.json.total_steps, a.data.total_steps);
    assert.equal((await service(emu, keys.workflow!, 'GET', `/workflows/run/${b.workflow_run_id}`)).json.status, 'failed');
    assert.deepEqual((await service(emu, keys.workflow!, 'GET', '/workflows/run/00000000-0000-0000-0000-000000000000')).json, { code: 'not_found', message: 'Workflow run not found.', status: 404 });
    assert.equal((await service(emu, keys.chat!, 'GET', `/workflows/run/${a.workflow_run_id}`)).json.code, 'not_workflow_app');
    // A chatflow's run is readable too, through its own key only.
    const flow = await service(emu, keys.flow!, 'POST', '/chat-messages', { inputs: {}, query: 'x', user: 'u', response_mode: 'streaming' });
    const flowRun = flow.text.match(/"workflow_run_id": "([^"]+)"/)![1]!;
    assert.equal((await service(emu, keys.flow!, 'GET', `/workflows/run/${flowRun}`)).status, 200);
    assert.equal((await service(emu, keys.workflow!, 'GET', `/workflows/run/${flowRun}`)).status, 404);

    const logs = async (q = '') => (await service(emu, keys.workflow!, 'GET', `/workflows/logs?${q}`)).json;
    const all = await logs();
    assert.equal(all.total, 2);
    assert.deepEqual(all.data.map((l: { workflow_run: { id: string } }) => l.workflow_run.id), [b.workflow_run_id, a.workflow_run_id]);
    assert.equal(all.data[1].created_by_end_user.session_id, 'ann');
    assert.equal(all.data[1].created_from, 'service-api');
    assert.deepEqual((await logs('limit=1')).has_more, true);
    assert.deepEqual((await logs('status=failed')).data.map((l: { workflow_run: { status: string } }) => l.workflow_run.status), ['failed']);
    assert.equal((await logs('keyword=alpha')).total, 1);
    assert.equal((await logs('created_by_end_user_session_id=bob')).total, 1);
    assert.equal((await logs('created_at__before=2000-01-01T00:00:00Z')).total, 0);
    assert.equal((await logs(`created_by_account=${emu.admin.email}`)).total, 0, 'service-API runs are no account\'s');
    assert.deepEqual(await logs('created_by_account=nobody@example.com'), { code: 'invalid_param', message: 'Account not found: nobody@example.com', status: 400 });
    assert.equal((await logs('limit=101')).code, 'invalid_param');
    assert.equal((await service(emu, keys.flow!, 'GET', '/workflows/logs')).json.total, 0, 'chatflows write no workflow app logs');
  });

  it('file upload refusals in Dify\'s order: no file, two files, no MIME type, no filename, too large', async () => {
    const upload = async (body: FormData | Buffer, contentType?: string) => {
      const r = await fetch(`${emu.url}/v1/files/upload`, { method: 'POST', headers: { Authorization: `Bearer ${keys.chat}`, ...(contentType ? { 'Content-Type': contentType } : {}) }, body });
      return { status: r.status, json: (await r.json()) as Record<string, unknown> };
    };
    const form = (...files: [string, Blob, string][]) => {
      const f = new FormData();
      f.append('user', 'up');
      for (const [k, v, n] of files) f.append(k, v, n);
      return f;
    };
    const txt = new Blob(['x'], { type: 'text/plain' });
    assert.deepEqual(await upload(form()), { status: 400, json: { code: 'no_file_uploaded', message: 'Please upload your file.', status: 400 } });
    assert.equal((await upload(form(['file', txt, 'a.txt'], ['other', txt, 'b.txt']))).json.code, 'too_many_files');
    const raw = (headers: string) =>
      upload(Buffer.from(`--B\r\nContent-Disposition: form-data; name="file"; ${headers}\r\n\r\nhello\r\n--B--\r\n`), 'multipart/form-data; boundary=B');
    assert.deepEqual(await raw('filename="a.txt"'), { status: 415, json: { code: 'unsupported_file_type', message: 'File type not allowed.', status: 415 } });
    assert.deepEqual((await raw('filename=""\r\nContent-Type: text/plain')).json.code, 'filename_not_exists_error');
    const big = await upload(form(['file', new Blob([new Uint8Array(10 * 1024 * 1024 + 1)], { type: 'image/png' }), 'big.png']));
    assert.deepEqual(big, { status: 413, json: { code: 'file_too_large', message: '', status: 413 } });
    const fine = await upload(form(['file', new Blob([new Uint8Array(10 * 1024 * 1024 + 1)], { type: 'application/pdf' }), 'big.pdf']));
    assert.equal(fine.status, 201, 'documents may be 15 MB');
  });

  it('routes with UUID converters: another id is Flask\'s routing 404, never the view', async () => {
    for (const [method, path] of [
      ['DELETE', '/conversations/not-a-uuid'],
      ['POST', '/conversations/not-a-uuid/name'],
      ['GET', '/conversations/not-a-uuid/variables'],
      ['POST', '/messages/123/feedbacks'],
    ] as const) {
      const r = await service(emu, keys.chat!, method, path, method === 'GET' ? undefined : { user: 'u', name: 'x' });
      assert.deepEqual([r.status, r.json], [404, NOT_FOUND], `${method} ${path}`);
    }
    for (const path of ['/console/api/apps/not-a-uuid', '/console/api/apps/not-a-uuid/api-keys', '/console/api/apps/not-a-uuid/workflows/draft']) {
      const r = await c.req('GET', path);
      assert.deepEqual([r.status, r.json], [404, NOT_FOUND], path);
    }
  });

  it('console API-key routes answer flask_restx.abort bodies: {"message": …}, not the envelope', async () => {
    const unknownApp = '00000000-0000-4000-8000-000000000000';
    assert.deepEqual(await c.req('GET', `/console/api/apps/${unknownApp}/api-keys`).then((r) => [r.status, r.json]), [404, { message: 'App not found.' }]);
    assert.deepEqual(await c.req('POST', `/console/api/apps/${unknownApp}/api-keys`).then((r) => [r.status, r.json]), [404, { message: 'App not found.' }]);
    assert.deepEqual(await c.req('DELETE', `/console/api/apps/${ids.chat}/api-keys/${unknownApp}`).then((r) => [r.status, r.json]), [404, { message: 'API key not found' }]);
    // The other app routes keep Dify's envelope.
    assert.equal((await c.req('GET', `/console/api/apps/${unknownApp}`)).json.code, 'app_not_found');
    // A member who may not edit is refused before the app is looked up (edit_permission_required wraps the view).
    emu.createAccount({ email: 'viewer@example.com', password: 'Viewer-pass1', role: 'normal', workspaceId: emu.workspaceId });
    const viewer = new Client(emu.url);
    await viewer.login('viewer@example.com', 'Viewer-pass1');
    const denied = await viewer.req('POST', `/console/api/apps/${unknownApp}/api-keys`);
    assert.deepEqual([denied.status, denied.json.code], [403, 'forbidden']);
  });

  it('JSON-user routes need a JSON body: another Content-Type is 415, an empty body 400', async () => {
    const conv = (await service(emu, keys.chat!, 'POST', '/chat-messages', { inputs: {}, query: 'q', user: 'j', response_mode: 'blocking' })).json.conversation_id;
    const del = (body: string | undefined, type: string) =>
      fetch(`${emu.url}/v1/conversations/${conv}`, { method: 'DELETE', headers: { Authorization: `Bearer ${keys.chat}`, 'Content-Type': type }, body }).then(async (r) => [r.status, await r.json()]);
    assert.deepEqual(await del('user=j', 'application/x-www-form-urlencoded'), [415, { code: 'unsupported_media_type', message: "Did not attempt to load JSON data because the request Content-Type was not 'application/json'.", status: 415 }]);
    assert.deepEqual(await del(undefined, 'application/json'), [400, { code: 'bad_request', message: 'Invalid JSON payload received or JSON payload is empty.', status: 400 }]);
    const rename = await service(emu, keys.chat!, 'POST', `/conversations/${conv}/name`, { user: 'j' });
    assert.deepEqual(rename.json, { code: 'invalid_param', message: '1 validation error for ConversationRenamePayload\n  Value error, name is required when auto_generate is false', status: 400 });
  });
});
