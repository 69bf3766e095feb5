/** Behaviour beyond the §11 checklist: hashing, A4, the device flow, workspaces, roles, secrets, state view, model. */
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { startEmulator, type Emulator } from '../../runner/src/emulator/index.js';
import { pyDumps, pyNumber } from '../../runner/src/emulator/pyjson.js';
import { workflowHash } from '../../runner/src/emulator/state.js';
import { renderJinja } from '../../runner/src/emulator/jinja.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DSL_FIXTURES } from '../helpers/shared.js';
import { Client, adminClient, chatDsl, chatflowDsl, deployApp, importApp, parseSse, service, workflowDsl } from './helpers.js';

describe('emulator extras', function () {
  let emu: Emulator;
  let c: Client;
  before(async () => {
    emu = await startEmulator({ port: 0, openapi: true });
  });
  after(async () => emu.close());
  beforeEach(async () => {
    emu.reset();
    c = await adminClient(emu);
  });

  it('draft hash is byte-for-byte Dify\'s: sha256(json.dumps({"graph": g, "features": f}, sort_keys=True) + "None"), graph only on the newest', () => {
    const g = { nodes: [{ id: '1', data: { title: 'Début', x: 0.1, y: 1e-5, z: 1e16, w: 123.456, emoji: '🤖', n: null, t: true } }], edges: [] };
    // Expected values computed with CPython's json.dumps and hashlib.
    assert.equal(
      pyDumps({ graph: g }, { sortKeys: true }),
      '{"graph": {"edges": [], "nodes": [{"data": {"emoji": "\\ud83e\\udd16", "n": null, "t": true, "title": "D\\u00e9but", "w": 123.456, "x": 0.1, "y": 1e-05, "z": 1e+16}, "id": "1"}]}}',
    );
    const f = { opening_statement: 'Grüß', suggested_questions: ['a'], file_upload: { enabled: false } };
    assert.equal(workflowHash({ graph: g, features: f }), 'b51899071c623e84341af2611f8bd14267e13d6dc4bf007562adcbd3d37d2e14');
    assert.equal(workflowHash({ graph: g, features: {} }), 'a2981ae3985564052bda9bee74b189f1a8364f7ad95ec6fc376a5fd2c6a15b8f');
    assert.equal(workflowHash({ graph: g, features: f }, 'graph'), 'c39ecc9e1db5043aa88a124cf7d9dd602e91ddc0f40b9887ce6ae563958997a2');
    assert.deepEqual([1.5, 100, 1e-7, 0.0001, 12345678901234567890, -2.5e-10].map(pyNumber), ['1.5', '100', '1e-07', '0.0001', '1.2345678901234567e+19', '-2.5e-10']);
  });

  it('template-transform Jinja subset: expressions, if/elif/else, for loops, filters, comments', () => {
    const vars = { user: { name: 'Ada' }, items: ['a', 'b'], n: 0, tier: 'gold' };
    assert.equal(renderJinja('Hi {{ user.name }}{# note #}!', vars), 'Hi Ada!');
    assert.equal(renderJinja('{% if n %}x{% elif tier == "gold" %}G{% else %}y{% endif %}', vars), 'G');
    assert.equal(renderJinja('{% for i in items %}{{ loop.index }}={{ i }};{% endfor %}', vars), '1=a;2=b;');
    assert.equal(renderJinja('{{ missing | default("none") }} {{ items | length }} {% if not n and "a" in items %}ok{% endif %}', vars), 'none 2 ok');
  });

  it('A4: forced logout answers unauthorized_and_force_logout and clears the cookies', async () => {
    emu.setForceLogout(true);
    const r = await c.req('GET', '/console/api/apps');
    assert.equal(r.status, 401);
    assert.deepEqual(r.json, { code: 'unauthorized_and_force_logout', message: 'Unauthorized and force logout.', status: 401 });
    assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="api"');
    assert.equal(r.setCookies.length, 3);
    emu.setForceLogout(false);
  });

  it('OAuth device flow mints a dfoa_ token that lists apps and runs one over SSE', async () => {
    const cl = new Client(emu.url);
    const code = await cl.req('POST', '/openapi/v1/oauth/device/code', { body: { client_id: 'difyctl', device_label: 'ci' } });
    assert.equal(code.status, 200);
    let t = await cl.req('POST', '/openapi/v1/oauth/device/token', { body: { device_code: code.json.device_code } });
    assert.equal(t.status, 400);
    assert.deepEqual(t.json, { error: 'authorization_pending' });
    const ap = await c.req('POST', '/openapi/v1/oauth/device/approve', { body: { user_code: code.json.user_code } });
    assert.equal(ap.status, 200);
    t = await cl.req('POST', '/openapi/v1/oauth/device/token', { body: { device_code: code.json.device_code } });
    assert.equal(t.status, 200);
    assert.match(t.json.token, /^dfoa_/);
    assert.equal(t.json.workspaces[0].id, emu.workspaceId);
    const { appId } = await deployApp(c, workflowDsl({ name: 'oa' }));
    const h = { Authorization: `Bearer ${t.json.token}` };
    const list = await cl.req('GET', `/openapi/v1/apps?workspace_id=${emu.workspaceId}`, { headers: h });
    assert.deepEqual(list.json.data.map((a: { id: string }) => a.id), [appId]);
    const run = await cl.req('POST', `/openapi/v1/apps/${appId}:run`, { headers: h, body: { inputs: { q: 'via openapi' } } });
    assert.equal(run.status, 200);
    const ev = parseSse(run.text);
    assert.equal(ev[ev.length - 1]!.event, 'workflow_finished');
    assert.match(ev[ev.length - 1]!.data.outputs.result, /via openapi$/);
    const failedImport = await cl.req('POST', `/openapi/v1/workspaces/${emu.workspaceId}/apps/imports`, {
      headers: h,
      body: { mode: 'yaml-content', yaml_content: 'version: 0.6.0\napp: {name: stray, mode: workflow}\n' },
    });
    assert.equal(failedImport.json.error, 'Missing workflow data for workflow/advanced chat app');
    assert.equal((await c.req('GET', '/console/api/apps?name=stray')).json.total, 0, '/openapi/v1 rolls failed imports back');
  });

  it('version rules as Dify\'s check_version_compatibility: newer (even 0.6.1) pending, older minor warnings; an unparsable version fails yet creates the app', async () => {
    const status = async (v: string) => (await importApp(c, workflowDsl({ version: v }))).json;
    // dify-api.md §3.2's example list says 0.6.1 → completed, but its rule (and Dify's code) says imported > current → pending.
    assert.equal((await status('0.6.1')).status, 'pending');
    assert.equal((await status('0.6.0')).status, 'completed');
    assert.equal((await status('0.6')).status, 'completed');
    assert.equal((await status('0.5.0')).status, 'completed-with-warnings');
    assert.equal((await status('1.0.0')).status, 'pending');
    const r = await importApp(c, workflowDsl({ version: 'latest', name: 'latest-app' }));
    assert.equal(r.status, 400);
    assert.equal(r.json.status, 'failed');
    assert.match(r.json.app_id, /^[0-9a-f-]{36}$/);
    assert.equal(r.json.imported_dsl_version, 'latest');
    assert.equal((await c.req('GET', '/console/api/apps?name=latest-app')).json.total, 1);
  });

  it('the console route leaves the app row of a failed import behind (like Dify)', async () => {
    const r = await importApp(c, 'version: 0.6.0\napp: {name: stray, mode: workflow}\n');
    assert.equal(r.json.status, 'failed');
    assert.equal((await c.req('GET', '/console/api/apps?name=stray')).json.total, 1);
  });

  it('workspaces: list, switch, and apps scoped to the current workspace; pending imports bound to theirs', async () => {
    const ws = emu.createWorkspace('Tenant 2');
    const p = await importApp(c, workflowDsl({ version: '0.7.0' }));
    let r = await c.req('GET', '/console/api/workspaces');
    assert.equal(r.json.workspaces.length, 2);
    assert.equal(r.json.workspaces.find((w: { current: boolean }) => w.current).id, emu.workspaceId);
    r = await c.req('POST', '/console/api/workspaces/switch', { body: { tenant_id: ws.id } });
    assert.equal(r.status, 200);
    assert.equal(r.json.new_tenant.id, ws.id);
    r = await c.req('POST', `/console/api/apps/imports/${p.json.id}/confirm`);
    assert.equal(r.json.error, 'Import information expired or does not exist');
    await c.req('POST', '/console/api/apps', { body: { name: 'in-two', mode: 'chat' } });
    assert.deepEqual((await c.req('GET', '/console/api/apps')).json.data.map((a: { name: string }) => a.name), ['in-two']);
    await c.req('POST', '/console/api/workspaces/switch', { body: { tenant_id: emu.workspaceId } });
    assert.equal((await c.req('GET', '/console/api/apps')).json.total, 0);
  });

  it('roles: a normal member may read but not write', async () => {
    emu.createAccount({ email: 'n@x.io', password: 'pw-normal-1', role: 'normal', workspaceId: emu.workspaceId });
    const n = new Client(emu.url);
    assert.equal((await n.login('n@x.io', 'pw-normal-1')).status, 200);
    assert.equal((await n.req('GET', '/console/api/apps')).status, 200);
    const r = await n.req('POST', '/console/api/apps', { body: { name: 'x', mode: 'chat' } });
    assert.equal(r.status, 403);
    assert.equal(r.json.code, 'forbidden');
  });

  it('secrets: masked in draft reads, kept when the masked value is sent back, exported only with include_secret', async () => {
    const env = [{ id: 'e1', name: 'TOKEN', value: 'sk-live-abcdef123456', value_type: 'secret', description: '' }];
    const id = (await importApp(c, workflowDsl({ env }))).json.app_id;
    const d = (await c.req('GET', `/console/api/apps/${id}/workflows/draft`)).json;
    assert.equal(d.environment_variables[0].value, 'sk-liv************56');
    const r = await c.req('POST', `/console/api/apps/${id}/workflows/draft`, { body: { graph: d.graph, features: d.features, hash: d.hash, environment_variables: d.environment_variables } });
    assert.equal(r.status, 200);
    const exp = (await c.req('GET', `/console/api/apps/${id}/export?include_secret=true`)).json.data as string;
    assert.match(exp, /value: sk-live-abcdef123456/);
  });

  it('emu.state shows drafts, published versions and keys consistently with the API', async () => {
    const { appId, key } = await deployApp(c, workflowDsl({ name: 'stateful' }));
    const app = emu.state.apps.find((a) => a.id === appId)!;
    const draft = (await c.req('GET', `/console/api/apps/${appId}/workflows/draft`)).json;
    assert.equal(app.draft!.hash, draft.hash);
    assert.equal(app.published.length, 1);
    assert.equal(app.workflowId, app.published[0]!.id);
    assert.ok(emu.state.apiKeys.some((k) => k.token === key && k.appId === appId));
  });

  it('model: if-else branches, template-transform, conversation memory in chatflows, prompt changes change answers', async () => {
    const cond = await deployApp(c, readFileSync(join(DSL_FIXTURES, 'dify-official/conditional_hello_branching_workflow.yml'), 'utf8'));
    let s = await service(emu, cond.key, 'POST', '/workflows/run', { inputs: { query: 'say hello' }, user: 'u', response_mode: 'blocking' });
    assert.deepEqual(s.json.data.outputs, { true: 'say hello' });
    s = await service(emu, cond.key, 'POST', '/workflows/run', { inputs: { query: 'bye' }, user: 'u', response_mode: 'blocking' });
    assert.deepEqual(s.json.data.outputs, { false: 'bye' });

    const tt = stringify({
      app: { name: 'tt', mode: 'workflow' },
      version: '0.6.0',
      workflow: {
        graph: {
          nodes: [
            { id: 's', data: { type: 'start', title: 'Start', variables: [{ variable: 'name', type: 'text-input', required: true }] } },
            { id: 't', data: { type: 'template-transform', title: 'T', template: 'Hi {{ who }}!{% if x %}ignored{% endif %}', variables: [{ variable: 'who', value_selector: ['s', 'name'] }] } },
            { id: 'e', data: { type: 'end', title: 'End', outputs: [{ variable: 'out', value_selector: ['t', 'output'] }] } },
          ],
          edges: [
            { id: 'a', source: 's', target: 't', sourceHandle: 'source' },
            { id: 'b', source: 't', target: 'e', sourceHandle: 'source' },
          ],
        },
        features: {},
      },
    });
    const tapp = await deployApp(c, tt);
    s = await service(emu, tapp.key, 'POST', '/workflows/run', { inputs: { name: 'Ada' }, user: 'u', response_mode: 'blocking' });
    assert.equal(s.json.data.outputs.out, 'Hi Ada!');

    const cf = await deployApp(c, chatflowDsl());
    const first = await service(emu, cf.key, 'POST', '/chat-messages', { inputs: {}, query: 'first question', user: 'u', response_mode: 'blocking' });
    const second = await service(emu, cf.key, 'POST', '/chat-messages', { inputs: {}, query: 'second', user: 'u', conversation_id: first.json.conversation_id, response_mode: 'blocking' });
    const fresh = await service(emu, cf.key, 'POST', '/chat-messages', { inputs: {}, query: 'second', user: 'u', response_mode: 'blocking' });
    assert.match(second.json.answer, /second$/);
    assert.notEqual(second.json.answer, fresh.json.answer, 'the history is part of the prompt');

    const a = await deployApp(c, chatDsl('chat', 'a'));
    const b = await deployApp(c, chatDsl('chat', 'b'));
    const mc = { model: { provider: 'openai', name: 'gpt-4o-mini', mode: 'chat' }, pre_prompt: 'A different prompt.' };
    await c.req('POST', `/console/api/apps/${b.appId}/model-config`, { body: mc });
    const ra = await service(emu, a.key, 'POST', '/chat-messages', { inputs: {}, query: 'same', user: 'u', response_mode: 'blocking' });
    const rb = await service(emu, b.key, 'POST', '/chat-messages', { inputs: {}, query: 'same', user: 'u', response_mode: 'blocking' });
    assert.notEqual(ra.json.answer, rb.json.answer);
    assert.match(rb.json.answer, /same$/);
  });

  it('quirks reproduce §10.2 (chatflow streams in blocking mode) and §10.3 (empty blocking outputs)', async () => {
    const q = await startEmulator({ port: 0, quirks: ['chatflow-streams-blocking', 'blocking-workflow-empty-outputs'] });
    try {
      const qc = await adminClient(q);
      const cf = await deployApp(qc, chatflowDsl());
      const r = await service(q, cf.key, 'POST', '/chat-messages', { inputs: {}, query: 'hi', user: 'u', response_mode: 'blocking' });
      assert.equal(r.headers.get('content-type'), 'text/event-stream; charset=utf-8');
      assert.deepEqual(parseSse(r.text).slice(-2).map((e) => e.event), ['workflow_finished', 'message_end']);
      const wf = await deployApp(qc, workflowDsl());
      const b = await service(q, wf.key, 'POST', '/workflows/run', { inputs: { q: 'x' }, user: 'u', response_mode: 'blocking' });
      assert.equal(b.json.data.status, 'succeeded');
      assert.deepEqual(b.json.data.outputs, {});
      const s = await service(q, wf.key, 'POST', '/workflows/run', { inputs: { q: 'x' }, user: 'u', response_mode: 'streaming' });
      assert.match(parseSse(s.text).pop()!.data.outputs.result, / x$/);
    } finally {
      await q.close();
    }
  });

  it('script rules match by app glob, workspace and query regex, and count `times`', async () => {
    const bot = await deployApp(c, chatDsl('chat', 'support-bot-eu'));
    const other = await deployApp(c, chatDsl('chat', 'sales'));
    emu.setScript([{ app: 'support-bot*', query: 'order', answer: 'Your order 123 ships today', times: 1, usage: { prompt_tokens: 10, completion_tokens: 20 } }]);
    const ask = (key: string, q: string) => service(emu, key, 'POST', '/chat-messages', { inputs: {}, query: q, user: 'u', response_mode: 'blocking' });
    assert.match((await ask(other.key, 'my order')).json.answer, /my order$/);
    const hit = await ask(bot.key, 'where is my order?');
    assert.equal(hit.json.answer, 'Your order 123 ships today');
    assert.equal(hit.json.metadata.usage.total_tokens, 30);
    assert.match((await ask(bot.key, 'where is my order?')).json.answer, /where is my order\?$/);
  });
});
