/**
 * dify-api.md §11, one test per checklist item (1–51), over real HTTP against the emulator on loopback.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { startEmulator, type Emulator } from '../../runner/src/emulator/index.js';
import { Client, adminClient, chatDsl, chatflowDsl, deployApp, importApp, parseSse, service, specCheck, workflowDsl } from './helpers.js';

const A1 = { code: 'unauthorized', message: 'Invalid Authorization token.', status: 401 };
const A3 = { code: 'unauthorized', message: 'CSRF token is missing or invalid.', status: 401 };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Ids of the published rows of a `GET …/workflows` answer (the draft is one of the rows, §5.2). */
const publishedIds = (r: { json: { items: { id: string; version: string }[] } }): string[] => r.json.items.filter((w) => w.version !== 'draft').map((w) => w.id);

function cookieAttrs(setCookies: string[], name: string): string[] {
  const c = setCookies.find((s) => s.startsWith(`${name}=`));
  assert.ok(c, `no Set-Cookie for ${name} in ${JSON.stringify(setCookies)}`);
  return c.split(';').slice(1).map((s) => s.trim());
}

describe('emulator contract (dify-api.md §11)', function () {
  let emu: Emulator;
  let c: Client;

  before(async () => {
    emu = await startEmulator({ port: 0, adminApiKey: 'admin-key-for-tests', pingIntervalMs: 10_000 });
  });
  after(async () => {
    await emu.close();
    // Every service-API response above went through the OpenAPI checks in helpers.service().
    assert.ok((specCheck.validator?.checked ?? 0) > 50, `only ${specCheck.validator?.checked} responses validated`);
  });
  beforeEach(async () => {
    emu.reset();
    c = await adminClient(emu);
  });

  // ---------------- Console auth ----------------
  it('§11.1 login with a Base64 password sets access/refresh/csrf cookies and returns no token', async () => {
    const cl = new Client(emu.url);
    const r = await cl.login(emu.admin.email, emu.admin.password);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { result: 'success' });
    assert.ok(!/access_token|refresh_token/.test(r.text));
    const a = cookieAttrs(r.setCookies, 'access_token');
    assert.ok(a.includes('HttpOnly') && a.includes('SameSite=Lax') && a.includes('Path=/') && a.includes('Max-Age=3600'), a.join('; '));
    const rt = cookieAttrs(r.setCookies, 'refresh_token');
    assert.ok(rt.includes('HttpOnly') && rt.includes('Max-Age=2592000'));
    const cs = cookieAttrs(r.setCookies, 'csrf_token');
    assert.ok(!cs.includes('HttpOnly') && cs.includes('Max-Age=3600'));
    assert.ok(!a.includes('Secure'));
  });

  it('§11.2 non-Base64 password, wrong password, and the failure limit', async () => {
    const cl = new Client(emu.url);
    let r = await cl.req('POST', '/console/api/login', { body: { email: emu.admin.email, password: 'not-base64!', remember_me: true } });
    assert.equal(r.status, 401);
    assert.deepEqual(r.json, { code: 'authentication_failed', message: 'Invalid encrypted data', status: 401 });
    for (let i = 0; i < 5; i++) {
      r = await cl.login(emu.admin.email, 'wrong-password');
      assert.equal(r.status, 401);
      assert.deepEqual(r.json, { code: 'authentication_failed', message: 'Invalid email or password.', status: 401 });
    }
    r = await cl.login(emu.admin.email, emu.admin.password);
    assert.equal(r.status, 429);
    assert.deepEqual(r.json, { code: 'email_code_login_limit', message: 'Too many incorrect password attempts. Please try again later.', status: 429 });
  });

  it('§11.3 secure mode uses __Host- cookie names, all Secure', async () => {
    const s = await startEmulator({ port: 0, secureCookies: true });
    try {
      const cl = new Client(s.url);
      const r = await cl.login(s.admin.email, s.admin.password);
      assert.equal(r.status, 200);
      for (const n of ['__Host-access_token', '__Host-refresh_token', '__Host-csrf_token']) assert.ok(cookieAttrs(r.setCookies, n).includes('Secure'), n);
      assert.equal((await cl.req('GET', '/console/api/apps')).status, 200);
    } finally {
      await s.close();
    }
  });

  it('§11.4 GET /console/api/apps without credentials → A1 + WWW-Authenticate', async () => {
    const r = await new Client(emu.url).req('GET', '/console/api/apps');
    assert.equal(r.status, 401);
    assert.deepEqual(r.json, A1);
    assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="api"');
  });

  it('§11.5 cookies without X-CSRF-Token, or a different one → A3', async () => {
    let r = await c.req('GET', '/console/api/apps', { csrf: false });
    assert.equal(r.status, 401);
    assert.deepEqual(r.json, A3);
    assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="api"');
    r = await c.req('GET', '/console/api/apps', { headers: { 'X-CSRF-Token': 'something-else' } });
    assert.deepEqual(r.json, A3);
  });

  it('§11.6 cookies + matching header → 200 (GET, POST); bearer + CSRF → 200; bearer without CSRF → A3', async () => {
    assert.equal((await c.req('GET', '/console/api/apps')).status, 200);
    assert.equal((await c.req('POST', '/console/api/apps', { body: { name: 'x', mode: 'chat' } })).status, 201);
    const access = c.cookies.get('access_token')!;
    const csrf = c.csrf()!;
    const bearer = new Client(emu.url);
    let r = await bearer.req('GET', '/console/api/apps', { headers: { Authorization: `Bearer ${access}`, Cookie: `csrf_token=${csrf}`, 'X-CSRF-Token': csrf } });
    assert.equal(r.status, 200);
    r = await bearer.req('GET', '/console/api/apps', { headers: { Authorization: `Bearer ${access}` } });
    assert.equal(r.status, 401);
    assert.deepEqual(r.json, A3);
  });

  it('§11.7 POST …/workflows/draft with cookies and no CSRF header is not rejected for CSRF', async () => {
    const app = (await c.req('POST', '/console/api/apps', { body: { name: 'wf', mode: 'workflow' } })).json;
    const r = await c.req('POST', `/console/api/apps/${app.id}/workflows/draft`, { csrf: false, body: { graph: { nodes: [], edges: [] }, features: {} } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.result, 'success');
  });

  it('§11.8 bearer garbage → "Invalid token."; an access token older than 60 min → "Token has expired."', async () => {
    const cl = new Client(emu.url);
    let r = await cl.req('GET', '/console/api/apps', { headers: { Authorization: 'Bearer garbage' } });
    assert.equal(r.status, 401);
    assert.deepEqual(r.json, { code: 'unauthorized', message: 'Invalid token.', status: 401 });
    emu.advanceClock(61 * 60 * 1000);
    r = await c.req('GET', '/console/api/apps');
    assert.equal(r.status, 401);
    assert.deepEqual(r.json, { code: 'unauthorized', message: 'Token has expired.', status: 401 });
  });

  it('§11.9 refresh rotates all three cookies; the old refresh token and a missing one fail outside the envelope', async () => {
    const oldRefresh = c.cookies.get('refresh_token')!;
    const oldAccess = c.cookies.get('access_token')!;
    const oldCsrf = c.csrf()!;
    // Access and CSRF JWTs carry only user and exp (as in Dify): within the login's second they would be identical.
    emu.advanceClock(1000);
    let r = await c.req('POST', '/console/api/refresh-token');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { result: 'success' });
    assert.equal(r.setCookies.length, 3);
    for (const n of ['access_token', 'refresh_token', 'csrf_token']) assert.ok(!cookieAttrs(r.setCookies, n).includes('Max-Age=0'), n);
    assert.notEqual(c.cookies.get('refresh_token'), oldRefresh);
    assert.ok(c.cookies.get('access_token'));
    assert.notEqual(c.cookies.get('access_token'), oldAccess);
    assert.ok(c.csrf());
    assert.notEqual(c.csrf(), oldCsrf);
    assert.equal((await c.req('GET', '/console/api/apps')).status, 200);
    r = await new Client(emu.url).req('POST', '/console/api/refresh-token', { headers: { Cookie: `refresh_token=${oldRefresh}` } });
    assert.equal(r.status, 401);
    assert.deepEqual(r.json, { result: 'fail', message: 'Invalid refresh token' });
    r = await new Client(emu.url).req('POST', '/console/api/refresh-token');
    assert.equal(r.status, 401);
    assert.deepEqual(r.json, { result: 'fail', message: 'No refresh token provided' });
  });

  it('§11.10 logout → 200 {"result":"success"} + 3 cookie-clearing headers', async () => {
    const r = await c.req('POST', '/console/api/logout');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { result: 'success' });
    assert.equal(r.setCookies.length, 3);
    for (const s of r.setCookies) assert.match(s, /Max-Age=0/);
    assert.equal(c.cookies.size, 0);
  });

  it('§11.11 legacy profile: plaintext login returns tokens in JSON; bearer alone works', async () => {
    const s = await startEmulator({ port: 0, authEra: 'legacy' });
    try {
      const cl = new Client(s.url);
      const r = await cl.req('POST', '/console/api/login', { body: { email: s.admin.email, password: s.admin.password, remember_me: true } });
      assert.equal(r.status, 200);
      assert.equal(r.json.result, 'success');
      assert.equal(typeof r.json.data.access_token, 'string');
      assert.equal(typeof r.json.data.refresh_token, 'string');
      assert.equal(r.setCookies.length, 0);
      const r2 = await new Client(s.url).req('GET', '/console/api/apps', { headers: { Authorization: `Bearer ${r.json.data.access_token}` } });
      assert.equal(r2.status, 200);
      const rr = await new Client(s.url).req('POST', '/console/api/refresh-token', { body: { refresh_token: r.json.data.refresh_token } });
      assert.equal(rr.status, 200);
      assert.equal(typeof rr.json.data.access_token, 'string');
    } finally {
      await s.close();
    }
  });

  it('§11.12 admin key + X-WORKSPACE-ID acts as the owner; bad workspace → "Invalid token."; an access cookie shadows the key', async () => {
    const cl = new Client(emu.url);
    const h = { Authorization: 'Bearer admin-key-for-tests', 'X-WORKSPACE-ID': emu.workspaceId };
    let r = await cl.req('POST', '/console/api/apps', { headers: h, body: { name: 'by-key', mode: 'workflow' } });
    assert.equal(r.status, 201, r.text);
    r = await cl.req('GET', '/console/api/apps', { headers: h });
    assert.equal(r.status, 200);
    assert.equal(r.json.total, 1);
    r = await cl.req('GET', '/console/api/apps', { headers: { ...h, 'X-WORKSPACE-ID': '00000000-0000-0000-0000-000000000000' } });
    assert.equal(r.status, 401);
    assert.deepEqual(r.json, { code: 'unauthorized', message: 'Invalid token.', status: 401 });
    r = await cl.req('GET', '/console/api/apps', { headers: { ...h, Cookie: `access_token=${c.cookies.get('access_token')}` } });
    assert.equal(r.status, 401);
    assert.deepEqual(r.json, A3);
  });

  it('§11.13 /openapi/v1: off → 404; bearer required, invalid_bearer, rate limit, console import bodies, export 403', async () => {
    let r = await new Client(emu.url).req('GET', '/openapi/v1/apps');
    assert.equal(r.status, 404);
    assert.equal(r.json, undefined);
    const s = await startEmulator({ port: 0, openapi: true });
    try {
      const cl = new Client(s.url);
      r = await cl.req('GET', '/openapi/v1/apps');
      assert.equal(r.status, 401);
      assert.deepEqual(r.json, { code: 'unauthorized', message: 'bearer required', status: 401 });
      r = await cl.req('GET', '/openapi/v1/apps', { headers: { Authorization: 'Bearer dfoa_unknown' } });
      assert.equal(r.status, 401);
      assert.deepEqual(r.json, { code: 'unauthorized', message: 'invalid_bearer', status: 401 });
      const token = s.mintOpenApiToken();
      const h = { Authorization: `Bearer ${token}` };
      r = await cl.req('POST', `/openapi/v1/workspaces/${s.workspaceId}/apps/imports`, { headers: h, body: { mode: 'yaml-content', yaml_content: workflowDsl({ version: '0.7.0' }) } });
      assert.equal(r.status, 202);
      assert.equal(r.json.status, 'pending');
      r = await cl.req('POST', `/openapi/v1/workspaces/${s.workspaceId}/apps/imports`, { headers: h, body: { mode: 'yaml-content', yaml_content: '- a' } });
      assert.equal(r.status, 400);
      assert.equal(r.json.error, 'Invalid YAML format: content must be a mapping');
      r = await cl.req('POST', `/openapi/v1/workspaces/${s.workspaceId}/apps/imports`, { headers: h, body: { mode: 'yaml-content', yaml_content: workflowDsl() } });
      assert.equal(r.status, 200);
      assert.equal(r.json.status, 'completed');
      const appId = r.json.app_id;
      r = await cl.req('GET', `/openapi/v1/apps/${appId}/export?include_secret=false`, { headers: h });
      assert.equal(r.status, 200);
      assert.equal(typeof r.json.data, 'string');
      const admin = await adminClient(s);
      await admin.req('POST', `/console/api/apps/${appId}/api-enable`, { body: { enable_api: false } });
      r = await cl.req('GET', `/openapi/v1/apps/${appId}/export`, { headers: h });
      assert.equal(r.status, 403);
      for (let i = 0; i < 55; i++) assert.equal((await cl.req('GET', '/openapi/v1/apps', { headers: h })).status, 200);
      r = await cl.req('GET', '/openapi/v1/apps', { headers: h });
      assert.equal(r.status, 429);
      assert.equal(r.json.error, 'rate_limited');
      assert.ok(r.json.retry_after_ms > 0);
      assert.match(r.headers.get('retry-after') ?? '', /^\d+$/);
      s.advanceClock(61_000);
      assert.equal((await cl.req('GET', '/openapi/v1/apps', { headers: h })).status, 200);
    } finally {
      await s.close();
    }
  });

  // ---------------- Apps and keys ----------------
  it('§11.14 create app → 201 with enable_site/enable_api true and workflow null; bad mode → 400 invalid_param', async () => {
    let r = await c.req('POST', '/console/api/apps', { body: { name: 'x', mode: 'workflow' } });
    assert.equal(r.status, 201);
    assert.equal(r.json.enable_site, true);
    assert.equal(r.json.enable_api, true);
    assert.equal(r.json.workflow, null);
    assert.match(r.json.id, UUID);
    r = await c.req('POST', '/console/api/apps', { body: { name: 'x', mode: 'spaceship' } });
    assert.equal(r.status, 400);
    assert.equal(r.json.code, 'invalid_param');
  });

  it('§11.15 app list: limit 101 → 400; mode and name filters; {page,limit,total,has_more,data}', async () => {
    assert.equal((await c.req('GET', '/console/api/apps?limit=101')).json.code, 'invalid_param');
    for (const [name, mode] of [['alpha', 'chat'], ['beta', 'workflow'], ['alphabet', 'workflow']]) {
      await c.req('POST', '/console/api/apps', { body: { name, mode } });
    }
    let r = await c.req('GET', '/console/api/apps?page=1&limit=2');
    assert.deepEqual(Object.keys(r.json).sort(), ['data', 'has_more', 'limit', 'page', 'total']);
    assert.equal(r.json.total, 3);
    assert.equal(r.json.has_more, true);
    assert.equal(r.json.data.length, 2);
    r = await c.req('GET', '/console/api/apps?mode=workflow');
    assert.equal(r.json.total, 2);
    r = await c.req('GET', '/console/api/apps?name=alpha&mode=workflow');
    assert.deepEqual(r.json.data.map((a: { name: string }) => a.name), ['alphabet']);
  });

  it('§11.16 unknown or other-workspace app → 404 app_not_found', async () => {
    const notFound = { code: 'app_not_found', message: 'App not found.', status: 404 };
    assert.deepEqual((await c.req('GET', '/console/api/apps/00000000-0000-0000-0000-000000000000')).json, notFound);
    const ws = emu.createWorkspace('other');
    emu.createAccount({ email: 'o@x.io', password: 'pw-other-1', role: 'owner', workspaceId: ws.id });
    const other = new Client(emu.url);
    await other.login('o@x.io', 'pw-other-1');
    const app = (await other.req('POST', '/console/api/apps', { body: { name: 'theirs', mode: 'chat' } })).json;
    const r = await c.req('GET', `/console/api/apps/${app.id}`);
    assert.equal(r.status, 404);
    assert.deepEqual(r.json, notFound);
  });

  it('§11.17 DELETE app → 204 with an empty body; its keys stop working', async () => {
    const { appId, key } = await deployApp(c, chatDsl());
    assert.equal((await service(emu, key, 'GET', '/info')).status, 200);
    const r = await c.req('DELETE', `/console/api/apps/${appId}`);
    assert.equal(r.status, 204);
    assert.equal(r.text, '');
    const s = await service(emu, key, 'GET', '/info');
    assert.equal(s.status, 401);
    assert.equal(s.json.message, 'Access token is invalid');
  });

  it('§11.18 api-enable false → /v1/info 403; editors may not toggle it', async () => {
    const { appId, key } = await deployApp(c, chatDsl());
    let r = await c.req('POST', `/console/api/apps/${appId}/api-enable`, { body: { enable_api: false } });
    assert.equal(r.status, 200);
    assert.equal(r.json.enable_api, false);
    const s = await service(emu, key, 'GET', '/info');
    assert.equal(s.status, 403);
    assert.deepEqual(s.json, { code: 'forbidden', message: "The app's API service has been disabled.", status: 403 });
    emu.createAccount({ email: 'ed@x.io', password: 'pw-editor-1', role: 'editor', workspaceId: emu.workspaceId });
    const ed = new Client(emu.url);
    await ed.login('ed@x.io', 'pw-editor-1');
    r = await ed.req('POST', `/console/api/apps/${appId}/api-enable`, { body: { enable_api: true } });
    assert.equal(r.status, 403);
  });

  it('§11.19 API keys: 201 app-…24, max 10 (raw body), delete → 204 then S3', async () => {
    const app = (await c.req('POST', '/console/api/apps', { body: { name: 'k', mode: 'chat' } })).json;
    const keys = [];
    for (let i = 0; i < 10; i++) {
      const r = await c.req('POST', `/console/api/apps/${app.id}/api-keys`);
      assert.equal(r.status, 201);
      assert.match(r.json.token, /^app-[A-Za-z0-9]{24}$/);
      assert.equal(r.json.last_used_at, null);
      keys.push(r.json);
    }
    const r11 = await c.req('POST', `/console/api/apps/${app.id}/api-keys`);
    assert.equal(r11.status, 400);
    assert.deepEqual(r11.json, { message: 'Cannot create more than 10 API keys for this resource type.', custom: 'max_keys_exceeded' });
    assert.equal((await service(emu, keys[0].token, 'GET', '/info')).status, 200);
    const d = await c.req('DELETE', `/console/api/apps/${app.id}/api-keys/${keys[0].id}`);
    assert.equal(d.status, 204);
    const s = await service(emu, keys[0].token, 'GET', '/info');
    assert.deepEqual(s.json, { code: 'unauthorized', message: 'Access token is invalid', status: 401 });
    const list = await c.req('GET', `/console/api/apps/${app.id}/api-keys`);
    assert.equal(list.json.data.length, 9);
  });

  // ---------------- Import and export ----------------
  it('§11.20 version V → 200 completed with app_id, app_mode, both versions, error ""', async () => {
    const r = await importApp(c, workflowDsl());
    assert.equal(r.status, 200);
    assert.equal(r.json.status, 'completed');
    assert.match(r.json.app_id, UUID);
    assert.match(r.json.id, UUID);
    assert.equal(r.json.app_mode, 'workflow');
    assert.equal(r.json.current_dsl_version, '0.6.0');
    assert.equal(r.json.imported_dsl_version, '0.6.0');
    assert.equal(r.json.error, '');
    assert.deepEqual(Object.keys(r.json), ['id', 'status', 'app_id', 'app_mode', 'current_dsl_version', 'imported_dsl_version', 'error']);
  });

  it('§11.21 0.3.1 → completed-with-warnings; no version → the same with 0.1.0', async () => {
    let r = await importApp(c, workflowDsl({ version: '0.3.1' }));
    assert.equal(r.status, 200);
    assert.equal(r.json.status, 'completed-with-warnings');
    const noVersion = workflowDsl().replace(/^version:.*\n/m, '');
    r = await importApp(c, noVersion);
    assert.equal(r.status, 200);
    assert.equal(r.json.status, 'completed-with-warnings');
    assert.equal(r.json.imported_dsl_version, '0.1.0');
  });

  it('§11.22 above V → 202 pending, app_mode null, app_id = request or null; nothing created', async () => {
    for (const v of ['0.7.0', '1.0.0']) {
      const r = await importApp(c, workflowDsl({ version: v }));
      assert.equal(r.status, 202);
      assert.equal(r.json.status, 'pending');
      assert.equal(r.json.app_mode, null);
      assert.equal(r.json.app_id, null);
      assert.equal(r.json.imported_dsl_version, v);
    }
    const existing = (await importApp(c, workflowDsl())).json.app_id;
    const r = await importApp(c, workflowDsl({ version: '0.7.0' }), { app_id: existing });
    assert.equal(r.json.app_id, existing);
    assert.equal((await c.req('GET', '/console/api/apps')).json.total, 1);
  });

  it('§11.23 confirm within 600 s → completed; a second confirm or one at 601 s → failed', async () => {
    const p = await importApp(c, workflowDsl({ version: '0.7.0', name: 'later' }));
    emu.advanceClock(599_000);
    let r = await c.req('POST', `/console/api/apps/imports/${p.json.id}/confirm`);
    assert.equal(r.status, 200);
    assert.equal(r.json.status, 'completed');
    assert.match(r.json.app_id, UUID);
    assert.equal(r.json.imported_dsl_version, '0.7.0');
    const expired = { id: p.json.id, status: 'failed', app_id: null, app_mode: null, current_dsl_version: '0.6.0', imported_dsl_version: '', error: 'Import information expired or does not exist' };
    r = await c.req('POST', `/console/api/apps/imports/${p.json.id}/confirm`);
    assert.equal(r.status, 400);
    assert.deepEqual(r.json, expired);
    const p2 = await importApp(c, workflowDsl({ version: '0.7.0' }));
    emu.advanceClock(601_000);
    r = await c.req('POST', `/console/api/apps/imports/${p2.json.id}/confirm`);
    assert.equal(r.status, 400);
    assert.equal(r.json.error, 'Import information expired or does not exist');
  });

  it('§11.23 expired pending imports are swept when the next import is created (memory and --state)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-sweep-'));
    const s = await startEmulator({ port: 0, statePath: join(dir, 'state.json') });
    try {
      const sc = await adminClient(s);
      const pending = () => s.state.pendingImports.map((p) => p.id).sort();
      const inFile = () => Object.keys(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')).pendingImports).sort();
      const p1 = (await importApp(sc, workflowDsl({ version: '0.7.0' }))).json.id;
      s.advanceClock(300_000);
      const p2 = (await importApp(sc, workflowDsl({ version: '0.7.0' }))).json.id;
      assert.deepEqual(pending(), [p1, p2].sort());
      s.advanceClock(300_000); // p1 is 600 s old: expired; p2 is 300 s old
      assert.equal((await importApp(sc, workflowDsl())).json.status, 'completed');
      assert.deepEqual(pending(), [p2]);
      assert.deepEqual(inFile(), [p2]);
      s.advanceClock(300_000);
      const p3 = (await importApp(sc, workflowDsl({ version: '0.7.0' }))).json.id;
      assert.deepEqual(pending(), [p3]);
      assert.deepEqual(inFile(), [p3]);
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('§11.24 no app: → failed "Missing app data in YAML content", app_id null, imported ""', async () => {
    const r = await importApp(c, 'version: 0.6.0\nkind: app\nworkflow: {}\n');
    assert.equal(r.status, 400);
    assert.equal(r.json.status, 'failed');
    assert.equal(r.json.error, 'Missing app data in YAML content');
    assert.equal(r.json.app_id, null);
    assert.equal(r.json.imported_dsl_version, '');
  });

  it('§11.25 YAML list, syntax error, unquoted 0.6, empty content, bad mode', async () => {
    let r = await importApp(c, '- a\n- b\n');
    assert.equal(r.json.error, 'Invalid YAML format: content must be a mapping');
    r = await importApp(c, 'app: [unclosed\n');
    assert.equal(r.status, 400);
    assert.match(r.json.error, /^Invalid YAML format: /);
    r = await importApp(c, workflowDsl().replace("version: 0.6.0", 'version: 0.6'));
    assert.equal(r.json.error, "Invalid version type, expected str, got <class 'float'>");
    r = await importApp(c, '');
    assert.equal(r.json.error, 'yaml_content is required when import_mode is yaml-content');
    r = await c.req('POST', '/console/api/apps/imports', { body: { mode: 'zip', yaml_content: 'x' } });
    assert.equal(r.status, 400);
    assert.equal(r.json.code, 'invalid_param');
    assert.equal(r.json.status, 400);
  });

  it('§11.26 missing workflow:, missing model_config:, env var value null → failed with Dify messages', async () => {
    let r = await importApp(c, 'version: 0.6.0\napp: {name: w, mode: workflow}\n');
    assert.equal(r.json.error, 'Missing workflow data for workflow/advanced chat app');
    r = await importApp(c, 'version: 0.6.0\napp: {name: w, mode: chat}\n');
    assert.equal(r.json.error, 'Missing model_config for chat/agent-chat/completion app');
    r = await importApp(c, workflowDsl({ env: [{ id: 'e1', name: 'API', value: null, value_type: 'string' }] }));
    assert.equal(r.status, 400);
    assert.equal(r.json.error, 'missing value');
  });

  it('§11.27 app_id of a chat app → "Only workflow or advanced chat apps can be overwritten"; unknown → "App not found"', async () => {
    const chat = (await importApp(c, chatDsl())).json.app_id;
    let r = await importApp(c, workflowDsl(), { app_id: chat });
    assert.equal(r.json.error, 'Only workflow or advanced chat apps can be overwritten');
    r = await importApp(c, workflowDsl(), { app_id: '00000000-0000-0000-0000-000000000000' });
    assert.equal(r.json.error, 'App not found');
  });

  it('§11.28 overwrite of a published app keeps id and keys; /v1 serves the old version until publish', async () => {
    const { appId, key } = await deployApp(c, workflowDsl({ prompt: 'old prompt' }));
    const before = await service(emu, key, 'POST', '/workflows/run', { inputs: { q: 'x' }, user: 'u', response_mode: 'blocking' });
    const r = await importApp(c, workflowDsl({ prompt: 'new prompt' }), { app_id: appId });
    assert.equal(r.status, 200);
    assert.equal(r.json.app_id, appId);
    const draft = await c.req('GET', `/console/api/apps/${appId}/workflows/draft`);
    assert.equal(draft.json.graph.nodes[1].data.prompt_template[0].text, 'new prompt');
    const still = await service(emu, key, 'POST', '/workflows/run', { inputs: { q: 'x' }, user: 'u', response_mode: 'blocking' });
    assert.equal(still.json.data.outputs.result, before.json.data.outputs.result);
    await c.req('POST', `/console/api/apps/${appId}/workflows/publish`, { body: {} });
    const after = await service(emu, key, 'POST', '/workflows/run', { inputs: { q: 'x' }, user: 'u', response_mode: 'blocking' });
    assert.notEqual(after.json.data.outputs.result, before.json.data.outputs.result);
  });

  it('§11.29 fresh workflow import: run → Workflow not published, parameters → app_unavailable; a chat import answers at once', async () => {
    const id = (await importApp(c, workflowDsl())).json.app_id;
    const key = (await c.req('POST', `/console/api/apps/${id}/api-keys`)).json.token;
    let s = await service(emu, key, 'POST', '/workflows/run', { inputs: { q: 'x' }, user: 'u' });
    assert.equal(s.status, 400);
    assert.deepEqual(s.json, { code: 'invalid_param', message: 'Workflow not published', status: 400 });
    s = await service(emu, key, 'GET', '/parameters');
    assert.equal(s.status, 400);
    assert.equal(s.json.code, 'app_unavailable');
    const chat = await deployApp(c, chatDsl());
    s = await service(emu, chat.key, 'POST', '/chat-messages', { inputs: {}, query: 'hello 42', user: 'u', response_mode: 'blocking' });
    assert.equal(s.status, 200);
    assert.match(s.json.answer, /hello 42/);
  });

  it('§11.30 yaml-url over 10 MB → failed "File size exceeds the limit of 10MB"; large yaml_content is accepted', async () => {
    const big = workflowDsl() + '# ' + 'x'.repeat(10 * 1024 * 1024 + 10) + '\n';
    const srv = createServer((_req, res) => res.end(big));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/app.yml`;
      let r = await c.req('POST', '/console/api/apps/imports', { body: { mode: 'yaml-url', yaml_url: url } });
      assert.equal(r.status, 400);
      assert.equal(r.json.error, 'File size exceeds the limit of 10MB');
      r = await importApp(c, big);
      assert.equal(r.status, 200);
      assert.equal(r.json.status, 'completed');
      r = await c.req('POST', '/console/api/apps/imports', { body: { mode: 'yaml-url' } });
      assert.equal(r.json.error, 'yaml_url is required when import_mode is yaml-url');
    } finally {
      srv.close();
    }
  });

  it('§11.30 yaml-url: the 10 MB limit counts bytes, not characters, and the download stops at the limit', async () => {
    // 5.5 M two-byte characters: 11 MB on the wire, far fewer than 10 M characters.
    const wide = workflowDsl() + '# ' + 'é'.repeat(5.5 * 1024 * 1024) + '\n';
    assert.ok(wide.length < 10 * 1024 * 1024 && Buffer.byteLength(wide) > 10 * 1024 * 1024);
    const named = Buffer.from(workflowDsl({ name: 'café ☕' }));
    const cut = named.indexOf(Buffer.from('☕')) + 1; // split inside the multibyte character
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    const srv = createServer((req, res) => {
      if (req.url === '/wide.yml') res.end(wide);
      else if (req.url === '/named.yml') {
        res.write(named.subarray(0, cut));
        setTimeout(() => res.end(named.subarray(cut)), 20);
      } else {
        // No Content-Length and no end: only a capped reader answers before the 10 s fetch timeout.
        res.write('# ');
        const pump = () => {
          if (!res.destroyed && res.write(chunk)) setImmediate(pump);
          else if (!res.destroyed) res.once('drain', pump);
        };
        pump();
      }
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
    try {
      let r = await c.req('POST', '/console/api/apps/imports', { body: { mode: 'yaml-url', yaml_url: `${base}/wide.yml` } });
      assert.equal(r.status, 400);
      assert.equal(r.json.error, 'File size exceeds the limit of 10MB');
      const t0 = Date.now();
      r = await c.req('POST', '/console/api/apps/imports', { body: { mode: 'yaml-url', yaml_url: `${base}/endless.yml` } });
      assert.equal(r.status, 400);
      assert.equal(r.json.error, 'File size exceeds the limit of 10MB');
      assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
      r = await c.req('POST', '/console/api/apps/imports', { body: { mode: 'yaml-url', yaml_url: `${base}/named.yml` } });
      assert.equal(r.status, 200, r.text);
      assert.equal((await c.req('GET', `/console/api/apps/${r.json.app_id}`)).json.name, 'café ☕');
    } finally {
      srv.closeAllConnections();
      srv.close();
    }
  });

  it('§11.31 check-dependencies → {"leaked_dependencies":[…]}; unknown app → 404 app_not_found', async () => {
    const dep = { type: 'marketplace', value: { marketplace_plugin_unique_identifier: 'langgenius/openai:0.2.3@abc', version: null }, current_identifier: null };
    const dsl = workflowDsl().replace('dependencies: []', `dependencies:\n  - ${JSON.stringify(dep)}`);
    const id = (await importApp(c, dsl)).json.app_id;
    let r = await c.req('GET', `/console/api/apps/imports/${id}/check-dependencies`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { leaked_dependencies: [{ type: 'marketplace', value: dep.value, current_identifier: null }] });
    r = await c.req('GET', '/console/api/apps/imports/00000000-0000-0000-0000-000000000000/check-dependencies');
    assert.equal(r.status, 404);
    assert.equal(r.json.code, 'app_not_found');
  });

  it('§11.32 knowledge ids exported from A survive re-import into A, vanish in B; plain UUIDs survive both', async () => {
    const ds = '3f2504e0-4f89-11d3-9a0c-0305e82c3301';
    const id = (await importApp(c, workflowDsl({ datasetIds: [ds] }))).json.app_id;
    const exported = (await c.req('GET', `/console/api/apps/${id}/export?format=yaml`)).json.data as string;
    const enc = parse(exported).workflow.graph.nodes.find((n: { id: string }) => n.id === 'kr').data.dataset_ids[0];
    assert.notEqual(enc, ds);
    const idsOf = async (cl: Client, appId: string) =>
      (await cl.req('GET', `/console/api/apps/${appId}/workflows/draft`)).json.graph.nodes.find((n: { id: string }) => n.id === 'kr').data.dataset_ids;
    const back = (await importApp(c, exported)).json.app_id;
    assert.deepEqual(await idsOf(c, back), [ds]);
    const wsB = emu.createWorkspace('B');
    const b = new Client(emu.url);
    const hb = { Authorization: 'Bearer admin-key-for-tests', 'X-WORKSPACE-ID': wsB.id };
    let r = await b.req('POST', '/console/api/apps/imports', { headers: hb, body: { mode: 'yaml-content', yaml_content: exported } });
    assert.equal(r.json.status, 'completed');
    let draft = await b.req('GET', `/console/api/apps/${r.json.app_id}/workflows/draft`, { headers: hb });
    assert.deepEqual(draft.json.graph.nodes.find((n: { id: string }) => n.id === 'kr').data.dataset_ids, []);
    r = await b.req('POST', '/console/api/apps/imports', { headers: hb, body: { mode: 'yaml-content', yaml_content: workflowDsl({ datasetIds: [ds] }) } });
    draft = await b.req('GET', `/console/api/apps/${r.json.app_id}/workflows/draft`, { headers: hb });
    assert.deepEqual(draft.json.graph.nodes.find((n: { id: string }) => n.id === 'kr').data.dataset_ids, [ds]);
  });

  it('§11.33 export: kind, version, sorted keys, blanked secrets, include_secret, workflow_id, 500 without draft', async () => {
    const env = [{ id: 'e1', name: 'TOKEN', value: 's3cr3t-value', value_type: 'secret', description: '' }];
    const { appId } = await deployApp(c, workflowDsl({ env, tool: true, prompt: 'v1' }));
    const published = publishedIds(await c.req('GET', `/console/api/apps/${appId}/workflows`))[0];
    const draft = await c.req('GET', `/console/api/apps/${appId}/workflows/draft`);
    draft.json.graph.nodes[1].data.prompt_template[0].text = 'v2';
    await c.req('POST', `/console/api/apps/${appId}/workflows/draft`, { body: { graph: draft.json.graph, features: {}, hash: draft.json.hash, environment_variables: draft.json.environment_variables } });
    let r = await c.req('GET', `/console/api/apps/${appId}/export?include_secret=false&format=yaml`);
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.json), ['data']);
    const text = r.json.data as string;
    const d = parse(text);
    assert.equal(d.kind, 'app');
    assert.equal(d.version, '0.6.0');
    const top = text.split('\n').filter((l) => /^\w/.test(l)).map((l) => l.split(':')[0]);
    assert.deepEqual(top, [...top].sort());
    assert.equal(d.workflow.environment_variables[0].value, '');
    assert.equal(d.workflow.graph.nodes.find((n: { id: string }) => n.id === 'tool').data.credential_id, undefined);
    assert.equal(d.workflow.graph.nodes[1].data.prompt_template[0].text, 'v2');
    r = await c.req('GET', `/console/api/apps/${appId}/export?include_secret=true&format=yaml`);
    const s = parse(r.json.data);
    assert.equal(s.workflow.environment_variables[0].value, 's3cr3t-value');
    assert.equal(s.workflow.graph.nodes.find((n: { id: string }) => n.id === 'tool').data.credential_id, 'cred-123');
    r = await c.req('GET', `/console/api/apps/${appId}/export?format=yaml&workflow_id=${published}`);
    assert.equal(parse(r.json.data).workflow.graph.nodes[1].data.prompt_template[0].text, 'v1');
    const empty = (await c.req('POST', '/console/api/apps', { body: { name: 'empty', mode: 'workflow' } })).json.id;
    r = await c.req('GET', `/console/api/apps/${empty}/export?format=yaml`);
    assert.equal(r.status, 500);
    assert.deepEqual(r.json, { message: 'Internal Server Error', code: 'unknown', status: 500 });
  });

  // ---------------- Draft, publish, versions ----------------
  it('§11.34 draft GET → 64-hex hash; chat app → 404 app_not_found; no draft → 404 draft_workflow_not_exist', async () => {
    const id = (await importApp(c, workflowDsl())).json.app_id;
    let r = await c.req('GET', `/console/api/apps/${id}/workflows/draft`);
    assert.equal(r.status, 200);
    assert.match(r.json.hash, /^[0-9a-f]{64}$/);
    assert.equal(r.json.version, 'draft');
    const chat = (await importApp(c, chatDsl())).json.app_id;
    r = await c.req('GET', `/console/api/apps/${chat}/workflows/draft`);
    assert.deepEqual(r.json, { code: 'app_not_found', message: 'App not found.', status: 404 });
    const empty = (await c.req('POST', '/console/api/apps', { body: { name: 'e', mode: 'workflow' } })).json.id;
    r = await c.req('GET', `/console/api/apps/${empty}/workflows/draft`);
    assert.equal(r.status, 404);
    assert.deepEqual(r.json, { code: 'draft_workflow_not_exist', message: 'Draft workflow need to be initialized.', status: 404 });
  });

  it('§11.35 draft POST: stale or omitted hash → 409; current hash → 200; other content types → 415', async () => {
    const id = (await importApp(c, workflowDsl())).json.app_id;
    const d = (await c.req('GET', `/console/api/apps/${id}/workflows/draft`)).json;
    const notSync = { code: 'draft_workflow_not_sync', message: 'Workflow graph might have been modified, please refresh and resubmit.', status: 409 };
    let r = await c.req('POST', `/console/api/apps/${id}/workflows/draft`, { body: { graph: d.graph, features: d.features } });
    assert.equal(r.status, 409);
    assert.deepEqual(r.json, notSync);
    r = await c.req('POST', `/console/api/apps/${id}/workflows/draft`, { body: { graph: d.graph, features: d.features, hash: '0'.repeat(64) } });
    assert.deepEqual(r.json, notSync);
    r = await c.req('POST', `/console/api/apps/${id}/workflows/draft`, { body: { graph: { ...d.graph, viewport: { x: 1, y: 2, zoom: 1 } }, features: d.features, hash: d.hash } });
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.json), ['result', 'hash', 'updated_at']);
    assert.notEqual(r.json.hash, d.hash);
    assert.equal(typeof r.json.updated_at, 'number');
    r = await c.req('POST', `/console/api/apps/${id}/workflows/draft`, { rawBody: 'graph=1', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    assert.equal(r.status, 415);
  });

  it('§11.36 publish → {result, created_at}; 21-char marked_name → 400; versions newest first', async () => {
    const id = (await importApp(c, workflowDsl())).json.app_id;
    let r = await c.req('POST', `/console/api/apps/${id}/workflows/publish`, { body: { marked_name: 'v1', marked_comment: 'first' } });
    assert.equal(r.status, 200);
    assert.equal(r.json.result, 'success');
    assert.ok(Number.isInteger(r.json.created_at));
    r = await c.req('POST', `/console/api/apps/${id}/workflows/publish`, { body: { marked_name: 'x'.repeat(21) } });
    assert.equal(r.status, 400);
    assert.equal(r.json.code, 'invalid_param');
    await c.req('POST', `/console/api/apps/${id}/workflows/publish`, { body: { marked_name: 'v2' } });
    r = await c.req('GET', `/console/api/apps/${id}/workflows?page=1&limit=10`);
    assert.deepEqual(Object.keys(r.json).sort(), ['has_more', 'items', 'limit', 'page']);
    // The draft is one of the rows and sorts first (`version` descending: "draft" > "2025-…"), as in Dify.
    assert.deepEqual(r.json.items.map((w: { version: string; marked_name: string }) => (w.version === 'draft' ? 'draft' : w.marked_name)), ['draft', 'v2', 'v1']);
    const app = await c.req('GET', `/console/api/apps/${id}`);
    assert.equal(app.json.workflow.id, r.json.items[1].id);
  });

  it('§11.37 restore a published id → draft = that version; a draft id → 400 bad_request; unknown → 404', async () => {
    const id = (await importApp(c, workflowDsl({ prompt: 'one' }))).json.app_id;
    await c.req('POST', `/console/api/apps/${id}/workflows/publish`, { body: {} });
    const v1 = (await c.req('GET', `/console/api/apps/${id}/workflows`)).json.items.find((w: { version: string }) => w.version !== 'draft');
    await importApp(c, workflowDsl({ prompt: 'two' }), { app_id: id });
    let d = (await c.req('GET', `/console/api/apps/${id}/workflows/draft`)).json;
    assert.equal(d.graph.nodes[1].data.prompt_template[0].text, 'two');
    let r = await c.req('POST', `/console/api/apps/${id}/workflows/${v1.id}/restore`);
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.json), ['result', 'hash', 'updated_at']);
    d = (await c.req('GET', `/console/api/apps/${id}/workflows/draft`)).json;
    assert.equal(d.graph.nodes[1].data.prompt_template[0].text, 'one');
    assert.equal(r.json.hash, d.hash);
    r = await c.req('POST', `/console/api/apps/${id}/workflows/${d.id}/restore`);
    assert.equal(r.status, 400);
    assert.deepEqual(r.json, { code: 'bad_request', message: 'source workflow must be published', status: 400 });
    r = await c.req('POST', `/console/api/apps/${id}/workflows/00000000-0000-0000-0000-000000000000/restore`);
    assert.equal(r.status, 404);
  });

  it('§11.38 /v1/workflows/{id}/run: published id runs; draft id → 400 bad_request; unknown → 404', async () => {
    const { appId, key } = await deployApp(c, workflowDsl());
    const pub = publishedIds(await c.req('GET', `/console/api/apps/${appId}/workflows`))[0];
    const draftId = (await c.req('GET', `/console/api/apps/${appId}/workflows/draft`)).json.id;
    let s = await service(emu, key, 'POST', `/workflows/${pub}/run`, { inputs: { q: 'pinned' }, user: 'u', response_mode: 'blocking' });
    assert.equal(s.status, 200);
    assert.equal(s.json.data.workflow_id, pub);
    s = await service(emu, key, 'POST', `/workflows/${draftId}/run`, { inputs: { q: 'x' }, user: 'u' });
    assert.equal(s.status, 400);
    assert.equal(s.json.code, 'bad_request');
    const unknown = '00000000-0000-0000-0000-000000000000';
    s = await service(emu, key, 'POST', `/workflows/${unknown}/run`, { inputs: { q: 'x' }, user: 'u' });
    assert.equal(s.status, 404);
    assert.deepEqual(s.json, { code: 'not_found', message: `Workflow not found with id: ${unknown}`, status: 404 });
  });

  it('§11.39 model-config on a chat app → 200 and used by the next call; on a workflow app → 404', async () => {
    const { appId, key } = await deployApp(c, chatDsl());
    const mc = parse(chatDsl()).model_config;
    mc.model.name = 'claude-emulated';
    let r = await c.req('POST', `/console/api/apps/${appId}/model-config`, { body: mc });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { result: 'success' });
    const s = await service(emu, key, 'POST', '/chat-messages', { inputs: {}, query: 'hi', user: 'u', response_mode: 'blocking' });
    assert.match(s.json.answer, /^\[claude-emulated\] /);
    const wf = (await importApp(c, workflowDsl())).json.app_id;
    r = await c.req('POST', `/console/api/apps/${wf}/model-config`, { body: mc });
    assert.equal(r.status, 404);
    assert.equal(r.json.code, 'app_not_found');
  });

  // ---------------- Service API ----------------
  it('§11.40 no header / Basic / unknown key → S1 / S2 / S3', async () => {
    const get = (h: Record<string, string>) => fetch(emu.url + '/v1/info', { headers: h }).then(async (r) => ({ status: r.status, json: await r.json() }));
    let r = await get({});
    assert.equal(r.status, 401);
    assert.deepEqual(r.json, { code: 'unauthorized', message: "Authorization header must be provided and start with 'Bearer'", status: 401 });
    r = await get({ Authorization: 'Basic x' });
    assert.deepEqual(r.json, { code: 'unauthorized', message: "Authorization scheme must be 'Bearer'", status: 401 });
    r = await get({ Authorization: 'Bearer app-unknownunknownunknown1' });
    assert.deepEqual(r.json, { code: 'unauthorized', message: 'Access token is invalid', status: 401 });
  });

  it('§11.41 /v1/info, /v1/meta, /v1/parameters (published start variables + system_parameters)', async () => {
    const { key } = await deployApp(c, workflowDsl({ name: 'Info App' }));
    let s = await service(emu, key, 'GET', '/info');
    assert.deepEqual(s.json, { name: 'Info App', description: '', tags: [], mode: 'workflow', author_name: 'admin' });
    s = await service(emu, key, 'GET', '/meta');
    assert.deepEqual(s.json, { tool_icons: {} });
    s = await service(emu, key, 'GET', '/parameters');
    assert.equal(s.status, 200);
    assert.equal(s.json.user_input_form[0]['text-input'].variable, 'q');
    assert.deepEqual(s.json.system_parameters, { image_file_size_limit: 10, video_file_size_limit: 100, audio_file_size_limit: 50, file_size_limit: 15, workflow_file_upload_limit: 10 });
  });

  it('§11.42 wrong route for the mode → not_chat_app / not_workflow_app / not_completion_app', async () => {
    const wf = await deployApp(c, workflowDsl());
    const chat = await deployApp(c, chatDsl());
    let s = await service(emu, wf.key, 'POST', '/chat-messages', { inputs: {}, query: 'x', user: 'u' });
    assert.deepEqual(s.json, { code: 'not_chat_app', message: 'Please check if your app mode matches the right API route.', status: 400 });
    s = await service(emu, chat.key, 'POST', '/workflows/run', { inputs: {}, user: 'u' });
    assert.deepEqual(s.json, { code: 'not_workflow_app', message: 'Please check if your app mode matches the right API route.', status: 400 });
    s = await service(emu, chat.key, 'POST', '/completion-messages', { inputs: {}, user: 'u' });
    assert.deepEqual(s.json, { code: 'not_completion_app', message: 'Please check if your Completion app mode matches the right API route.', status: 400 });
  });

  it('§11.43 no user → "Arg user must be provided."; missing required q → "q is required in input form"', async () => {
    const { key } = await deployApp(c, workflowDsl());
    let s = await service(emu, key, 'POST', '/workflows/run', { inputs: { q: 'x' } });
    assert.deepEqual(s.json, { code: 'invalid_param', message: 'Arg user must be provided.', status: 400 });
    s = await service(emu, key, 'POST', '/workflows/run', { inputs: {}, user: 'u' });
    assert.deepEqual(s.json, { code: 'invalid_param', message: 'q is required in input form', status: 400 });
  });

  it('§11.44 agent-chat in blocking mode → invalid_param', async () => {
    const { key } = await deployApp(c, chatDsl('agent-chat'));
    const s = await service(emu, key, 'POST', '/chat-messages', { inputs: {}, query: 'x', user: 'u', response_mode: 'blocking' });
    assert.equal(s.status, 400);
    assert.deepEqual(s.json, { code: 'invalid_param', message: 'Agent Chat App does not support blocking mode', status: 400 });
  });

  it('§11.45 blocking chat → message with answer, conversation_id, usage (string prices); unknown conversation → 404', async () => {
    const { key } = await deployApp(c, chatDsl());
    let s = await service(emu, key, 'POST', '/chat-messages', { inputs: { topic: 'tea' }, query: 'order 123', user: 'u', response_mode: 'blocking' });
    assert.equal(s.status, 200);
    assert.equal(s.json.event, 'message');
    assert.equal(s.json.mode, 'chat');
    assert.match(s.json.answer, /order 123/);
    assert.match(s.json.conversation_id, UUID);
    assert.equal(s.json.id, s.json.message_id);
    const u = s.json.metadata.usage;
    for (const k of ['prompt_unit_price', 'prompt_price_unit', 'prompt_price', 'completion_unit_price', 'completion_price_unit', 'completion_price', 'total_price']) {
      assert.equal(typeof u[k], 'string', k);
      assert.match(u[k], /^\d+\.\d+$/);
    }
    assert.ok(Number.isInteger(u.total_tokens) && u.total_tokens === u.prompt_tokens + u.completion_tokens);
    assert.equal(u.currency, 'USD');
    const second = await service(emu, key, 'POST', '/chat-messages', { inputs: {}, query: 'and then?', user: 'u', conversation_id: s.json.conversation_id, response_mode: 'blocking' });
    assert.equal(second.json.conversation_id, s.json.conversation_id);
    assert.match(second.json.answer, /earlier: order 123/);
    s = await service(emu, key, 'POST', '/chat-messages', { inputs: {}, query: 'x', user: 'u', conversation_id: '00000000-0000-0000-0000-000000000000' });
    assert.equal(s.status, 404);
    assert.deepEqual(s.json, { code: 'not_found', message: 'Conversation Not Exists.', status: 404 });
  });

  it('§11.46 blocking workflow → {task_id, workflow_run_id, data}; scripted node failure → 200 with status failed', async () => {
    const { key } = await deployApp(c, workflowDsl());
    let s = await service(emu, key, 'POST', '/workflows/run', { inputs: { q: 'ping 7' }, user: 'u', response_mode: 'blocking' });
    assert.equal(s.status, 200);
    assert.deepEqual(Object.keys(s.json), ['task_id', 'workflow_run_id', 'data']);
    assert.equal(s.json.data.status, 'succeeded');
    assert.equal(s.json.data.id, s.json.workflow_run_id);
    assert.match(s.json.data.outputs.result, /^\[gpt-4o\] [0-9a-f]{8} ping 7$/);
    emu.setScript([{ nodeFailure: 'LLM', error: { message: 'model exploded' } }]);
    s = await service(emu, key, 'POST', '/workflows/run', { inputs: { q: 'x' }, user: 'u', response_mode: 'blocking' });
    assert.equal(s.status, 200);
    assert.equal(s.json.data.status, 'failed');
    assert.equal(s.json.data.error, 'model exploded');
  });

  it('§11.47 streaming: text/event-stream framing; a model stalled past the ping interval sends event: ping', async () => {
    const s2 = await startEmulator({ port: 0, pingIntervalMs: 20 });
    try {
      const cl = await adminClient(s2);
      const { key } = await deployApp(cl, chatDsl());
      s2.setScript([{ latencyMs: 150 }]);
      const r = await service(s2, key, 'POST', '/chat-messages', { inputs: {}, query: 'slow', user: 'u', response_mode: 'streaming' });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-type'), 'text/event-stream; charset=utf-8');
      assert.match(r.text, /^(event: ping\n\n)+data: \{"event": "message"/);
      for (const block of r.text.split('\n\n').filter(Boolean)) assert.match(block, /^(event: ping|data: \{.*\})$/);
    } finally {
      await s2.close();
    }
  });

  it('§11.48 streaming workflow: workflow_started, node pairs, text_chunks, workflow_finished last; task_id + workflow_run_id', async () => {
    const { key } = await deployApp(c, workflowDsl());
    const r = await service(emu, key, 'POST', '/workflows/run', { inputs: { q: 'stream me' }, user: 'u', response_mode: 'streaming' });
    const ev = parseSse(r.text).filter((e) => !e.ping);
    const names = ev.map((e) => e.event);
    assert.equal(names[0], 'workflow_started');
    assert.equal(names[names.length - 1], 'workflow_finished');
    assert.ok(names.includes('text_chunk'));
    assert.equal(names.filter((n) => n === 'node_started').length, 3);
    assert.equal(names.filter((n) => n === 'node_finished').length, 3);
    for (const e of ev) {
      assert.match(e.task_id, UUID);
      assert.equal(e.workflow_run_id, ev[0]!.workflow_run_id);
    }
    const text = ev.filter((e) => e.event === 'text_chunk').map((e) => e.data.text).join('');
    assert.equal(text, ev[ev.length - 1]!.data.outputs.result);
  });

  it('§11.49 streaming chat, advanced-chat and agent-chat event sequences', async () => {
    const chat = await deployApp(c, chatDsl());
    let ev = parseSse((await service(emu, chat.key, 'POST', '/chat-messages', { inputs: {}, query: 'a b c', user: 'u', response_mode: 'streaming' })).text);
    let names = [...new Set(ev.map((e) => e.event))];
    assert.deepEqual(names, ['message', 'message_end']);
    assert.ok(ev[ev.length - 1]!.metadata.usage.total_tokens > 0);
    const cf = await deployApp(c, chatflowDsl());
    ev = parseSse((await service(emu, cf.key, 'POST', '/chat-messages', { inputs: {}, query: 'hello flow', user: 'u', response_mode: 'streaming' })).text);
    names = ev.map((e) => e.event);
    assert.equal(names[0], 'workflow_started');
    assert.ok(names.includes('node_started') && names.includes('message'));
    // Dify's order (generate_task_pipeline.py): workflow_finished, then message_end with the usage.
    assert.deepEqual(names.slice(-2), ['workflow_finished', 'message_end']);
    assert.equal(ev[ev.length - 2]!.data.status, 'succeeded');
    assert.ok(ev[ev.length - 1]!.metadata.usage.total_tokens > 0);
    assert.equal(ev[ev.length - 1]!.metadata.usage.total_tokens, ev[ev.length - 2]!.data.total_tokens);
    for (const e of ev) assert.match(e.conversation_id, UUID);
    assert.match(ev.filter((e) => e.event === 'message').map((e) => e.answer).join(''), /hello flow/);
    const agent = await deployApp(c, chatDsl('agent-chat'));
    ev = parseSse((await service(emu, agent.key, 'POST', '/chat-messages', { inputs: {}, query: 'use tools', user: 'u', response_mode: 'streaming' })).text);
    names = ev.map((e) => e.event);
    assert.ok(names.includes('agent_thought') && names.includes('agent_message'));
    assert.ok(!names.includes('message'));
    assert.equal(names[names.length - 1], 'message_end');
  });

  it('§11.50 scripted mid-stream failure → HTTP 200, a final error event without task_id, then close', async () => {
    const { key } = await deployApp(c, chatDsl());
    emu.setScript([{ answer: 'one two three four', error: { code: 'completion_request_error', message: 'model exploded', status: 400, afterChunks: 2 } }]);
    const r = await service(emu, key, 'POST', '/chat-messages', { inputs: {}, query: 'x', user: 'u', response_mode: 'streaming' });
    assert.equal(r.status, 200);
    const ev = parseSse(r.text);
    assert.deepEqual(ev.map((e) => e.event), ['message', 'message', 'error']);
    const last = ev[2]!;
    assert.equal(last.task_id, undefined);
    assert.equal(last.code, 'completion_request_error');
    assert.equal(last.status, 400);
    assert.equal(last.message, 'model exploded');
    assert.match(last.conversation_id, UUID);
    assert.match(last.message_id, UUID);
  });

  it('§11.51 over the app concurrency limit → 429 too_many_requests', async () => {
    const { appId, key } = await deployApp(c, chatDsl());
    await c.req('PUT', `/console/api/apps/${appId}`, { body: { name: 'bot', max_active_requests: 1 } });
    emu.setScript([{ latencyMs: 300, times: 1 }]);
    const first = await fetch(emu.url + '/v1/chat-messages', {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ inputs: {}, query: 'slow', user: 'u', response_mode: 'streaming' }),
    });
    assert.equal(first.status, 200);
    const s = await service(emu, key, 'POST', '/chat-messages', { inputs: {}, query: 'x', user: 'u', response_mode: 'blocking' });
    assert.equal(s.status, 429);
    assert.deepEqual(s.json, {
      code: 'too_many_requests',
      message: `Too many requests. Please try again later. The current maximum concurrent requests allowed for ${appId} is 1.`,
      status: 429,
    });
    await first.text();
    const after = await service(emu, key, 'POST', '/chat-messages', { inputs: {}, query: 'x', user: 'u', response_mode: 'blocking' });
    assert.equal(after.status, 200);
  });

  // ---------------- Knowledge API ----------------
  it('§11.52 key kinds are not interchangeable; other workspace → "Dataset not found."; API access off → 403', async () => {
    const dkey = emu.createDatasetApiKey();
    const { key } = await deployApp(c, chatDsl());
    let s = await service(emu, dkey, 'GET', '/info');
    assert.deepEqual(s.json, { code: 'unauthorized', message: 'Access token is invalid', status: 401 });
    s = await service(emu, key, 'GET', '/datasets');
    assert.deepEqual(s.json, { code: 'unauthorized', message: 'Access token is invalid', status: 401 });
    const ws = emu.createWorkspace('other');
    const foreign = emu.createDataset({ name: 'theirs', workspaceId: ws.id });
    s = await service(emu, dkey, 'GET', `/datasets/${foreign.id}/documents`);
    assert.equal(s.status, 404);
    assert.deepEqual(s.json, { code: 'not_found', message: 'Dataset not found.', status: 404 });
    const closed = emu.createDataset({ name: 'closed', enableApi: false });
    s = await service(emu, dkey, 'GET', `/datasets/${closed.id}/documents`);
    assert.equal(s.status, 403);
    assert.deepEqual(s.json, { code: 'forbidden', message: 'Dataset api access is not enabled.', status: 403 });
    const created = await c.req('POST', '/console/api/datasets/api-keys');
    assert.equal(created.status, 200);
    assert.match(created.json.token, /^dataset-[A-Za-z0-9]{24}$/);
  });

  it('§11.53 create-by-text without any indexing technique → 400; with one → {document, batch}; underscore alias', async () => {
    const dkey = emu.createDatasetApiKey();
    const ds = emu.createDataset({ name: 'kb' });
    let s = await service(emu, dkey, 'POST', `/datasets/${ds.id}/document/create-by-text`, { name: 'a.md', text: 'hello' });
    assert.equal(s.status, 400);
    assert.deepEqual(s.json, { code: 'invalid_param', message: 'indexing_technique is required.', status: 400 });
    s = await service(emu, dkey, 'POST', `/datasets/${ds.id}/document/create-by-text`, { name: 'a.md', text: 'hello world', indexing_technique: 'economy', process_rule: { mode: 'automatic' } });
    assert.equal(s.status, 200);
    assert.deepEqual(Object.keys(s.json), ['document', 'batch']);
    assert.equal(typeof s.json.batch, 'string');
    assert.equal(s.json.document.name, 'a.md');
    s = await service(emu, dkey, 'POST', `/datasets/${ds.id}/document/create_by_text`, { name: 'b.md', text: 'second' });
    assert.equal(s.status, 200);
  });

  it('§11.54 indexing-status reaches completed; an unknown batch → 404 "Documents not found."', async () => {
    const dkey = emu.createDatasetApiKey();
    const ds = emu.createDataset({ name: 'kb', indexingTechnique: 'high_quality' });
    const doc = await service(emu, dkey, 'POST', `/datasets/${ds.id}/document/create-by-text`, { name: 'a.md', text: 'hello', process_rule: { mode: 'automatic' } });
    const statuses: string[] = [];
    for (let i = 0; i < 6 && statuses[statuses.length - 1] !== 'completed'; i++) {
      const s = await service(emu, dkey, 'GET', `/datasets/${ds.id}/documents/${doc.json.batch}/indexing-status`);
      assert.equal(s.status, 200);
      const e = s.json.data[0];
      for (const k of ['indexing_status', 'completed_segments', 'total_segments']) assert.ok(k in e, k);
      statuses.push(e.indexing_status);
    }
    assert.deepEqual(statuses, ['parsing', 'cleaning', 'splitting', 'indexing', 'completed'], 'each poll moves one stage on');
    const s = await service(emu, dkey, 'GET', `/datasets/${ds.id}/documents/nosuchbatch/indexing-status`);
    assert.equal(s.status, 404);
    assert.equal(s.json.message, 'Documents not found.');
  });

  it('§11.55 list limit=1 → has_more on every full page; update-by-text with text but no name → 400; valid update → 200 with the document\'s batch', async () => {
    const dkey = emu.createDatasetApiKey();
    const ds = emu.createDataset({ name: 'kb', indexingTechnique: 'economy' });
    const ids: string[] = [];
    const batches: string[] = [];
    for (const n of ['a', 'b']) {
      const created = (await service(emu, dkey, 'POST', `/datasets/${ds.id}/document/create-by-text`, { name: n, text: n, process_rule: { mode: 'automatic' } })).json;
      ids.push(created.document.id);
      batches.push(created.batch);
    }
    for (const page of [1, 2]) {
      const s = await service(emu, dkey, 'GET', `/datasets/${ds.id}/documents?page=${page}&limit=1`);
      assert.equal(s.json.data.length, 1);
      assert.equal(s.json.has_more, true);
      assert.equal(s.json.total, 2);
    }
    assert.equal((await service(emu, dkey, 'GET', `/datasets/${ds.id}/documents?page=3&limit=1`)).json.has_more, false);
    let s = await service(emu, dkey, 'POST', `/datasets/${ds.id}/documents/${ids[0]}/update-by-text`, { text: 'new text' });
    assert.equal(s.status, 400);
    assert.equal(s.json.code, 'invalid_param');
    // Dify updates only an available (indexed) document.
    s = await service(emu, dkey, 'POST', `/datasets/${ds.id}/documents/${ids[0]}/update-by-text`, { name: 'a', text: 'new text' });
    assert.deepEqual(s.json, { code: 'invalid_param', message: 'Document is not available', status: 400 });
    emu.advanceClock(10_000);
    const before = (await service(emu, dkey, 'GET', `/datasets/${ds.id}/documents/${ids[0]}`)).json;
    s = await service(emu, dkey, 'POST', `/datasets/${ds.id}/documents/${ids[0]}/update-by-text`, { name: 'a', text: 'new text' });
    assert.equal(s.status, 200);
    // update_document_with_dataset_id keeps the document's batch (dify-api.md §11.55 says "new batch": not in Dify's code).
    assert.equal(s.json.batch, batches[0]);
    assert.equal(s.json.document.id, before.id);
    assert.equal(s.json.document.indexing_status, 'waiting');
  });

  it('§11.56 delete document → 204; again → 404 "Document Not Exists."', async () => {
    const dkey = emu.createDatasetApiKey();
    const ds = emu.createDataset({ name: 'kb', indexingTechnique: 'economy' });
    const doc = (await service(emu, dkey, 'POST', `/datasets/${ds.id}/document/create-by-text`, { name: 'a', text: 'a', process_rule: { mode: 'automatic' } })).json.document;
    emu.advanceClock(5000);
    let s = await service(emu, dkey, 'DELETE', `/datasets/${ds.id}/documents/${doc.id}`);
    assert.equal(s.status, 204);
    assert.equal(s.text, '');
    s = await service(emu, dkey, 'DELETE', `/datasets/${ds.id}/documents/${doc.id}`);
    assert.equal(s.status, 404);
    assert.deepEqual(s.json, { code: 'not_found', message: 'Document Not Exists.', status: 404 });
  });
});
