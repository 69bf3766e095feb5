/** Every console auth mode against the emulator over real HTTP. */
import assert from 'node:assert/strict';
import type { Emulator, EmulatorOptions } from '../../runner/src/emulator/index.js';
import type { EnvironmentConfig } from '../../runner/src/config/types.js';
import { DifyCiError } from '../../runner/src/core/errors.js';
import { clearSecrets, mask } from '../../runner/src/core/mask.js';
import { listAllApps } from '../../runner/src/dify/apps.js';
import { closeConsoles, getConsole } from '../../runner/src/dify/console.js';
import { exportDsl } from '../../runner/src/dify/export.js';
import { importDsl } from '../../runner/src/dify/imports.js';
import { publish } from '../../runner/src/dify/workflows.js';
import { ensureApiKey, listApiKeys } from '../../runner/src/dify/api-keys.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { withEmulator } from '../helpers/emulator.js';

const WF = readFileSync(join(import.meta.dirname, '../deploy/fixtures/workflow.yml'), 'utf8');

function env(url: string, auth: EnvironmentConfig['auth'], over: Partial<EnvironmentConfig> = {}): EnvironmentConfig {
  return {
    key: 'staging', url, apiUrl: `${url}/v1`, auth, apps: {}, variables: {}, secrets: {},
    approval: { required: false, message: '', timeoutMinutes: 60 }, protected: false,
    tls: { rejectUnauthorized: true }, timeoutMs: 10000, dslVersion: '0.6.0', concurrency: 8, tenants: false,
    smoke: {} as never, rollout: {} as never, notify: {}, ...over,
  };
}
const PW = { mode: 'password', email: 'admin@dify-ci.local', passwordEnv: 'PW' } as const;
const environ = { PW: 'dify-ci-Passw0rd' };

const withEmu = (opts: EmulatorOptions, fn: (emu: Emulator) => Promise<void>) => withEmulator(opts, fn);

const loginCalls = (emu: Emulator) => emu.stats.byRoute['POST /console/api/login'] ?? 0;
const route = (emu: Emulator, r: string) => emu.stats.byRoute[r] ?? 0;

describe('dify/auth against the emulator', () => {
  afterEach(() => clearSecrets());

  it('password (modern): Base64 login, cookie jar + X-CSRF-Token, one session shared by every target', async () => {
    await withEmu({}, async (emu) => {
      const a = getConsole(env(emu.url, PW), { environ });
      const b = getConsole(env(emu.url, PW, { key: 'other-env' }), { environ, tenant: { name: 't1' } });
      await Promise.all([listAllApps(a), listAllApps(b), listAllApps(a)]);
      assert.equal(a.authMode, 'password-cookie');
      assert.equal(loginCalls(emu), 1, 'one login for the (server, account)');
      const csrf = await a.session.csrfToken();
      assert.ok(csrf && csrf.length > 20);
      assert.equal(mask(`token ${csrf}`), 'token ***', 'cookie values are registered as secrets');
    });
  });

  it('password: __Host- cookies (https without COOKIE_DOMAIN) are matched by suffix', async () => {
    await withEmu({ secureCookies: true }, async (emu) => {
      const c = getConsole(env(emu.url, PW), { environ });
      await listAllApps(c);
      assert.equal(c.authMode, 'password-cookie');
      const cookies = await c.session.jar!.getCookies(`${emu.url}/console/api/`);
      assert.ok(cookies.some((k) => k.key === '__Host-csrf_token'));
    });
  });

  it('password (legacy ≤ 1.7): Base64 refused → one plaintext retry → JSON tokens used as bearer', async () => {
    await withEmu({ authEra: 'legacy' }, async (emu) => {
      const c = getConsole(env(emu.url, PW), { environ });
      await listAllApps(c);
      assert.equal(c.authMode, 'password-legacy');
      assert.equal(loginCalls(emu), 2);
    });
  });

  it('expired session / CSRF failure → refresh once → the request succeeds', async () => {
    await withEmu({}, async (emu) => {
      const c = getConsole(env(emu.url, PW), { environ });
      await listAllApps(c);
      // A stale CSRF header: A3 "CSRF token is missing or invalid."
      await c.session.jar!.setCookie('csrf_token=not-the-right-one; Path=/', `${emu.url}/console/api/`);
      await listAllApps(c);
      assert.equal(route(emu, 'POST /console/api/refresh-token'), 1);
      // Access and CSRF tokens expire after 60 minutes (server clock).
      emu.advanceClock(61 * 60 * 1000);
      await listAllApps(c);
      assert.equal(route(emu, 'POST /console/api/refresh-token'), 2);
      assert.equal(loginCalls(emu), 1, 'refresh, not a new login');
      // Refresh token gone too (30 days): log in again, once.
      emu.advanceClock(31 * 24 * 3600 * 1000);
      await listAllApps(c);
      assert.equal(loginCalls(emu), 2);
    });
  });

  it('a forced logout (A4) is retried once after recovery, then fails with exit 4 — never a loop', async () => {
    await withEmu({}, async (emu) => {
      const c = getConsole(env(emu.url, PW), { environ });
      await listAllApps(c);
      emu.setForceLogout(true);
      const before = emu.stats.requests;
      await assert.rejects(listAllApps(c), (e: unknown) => e instanceof DifyCiError && e.exitCode === 4 && /unauthorized_and_force_logout/.test(e.message));
      assert.ok(emu.stats.requests - before <= 4, `${emu.stats.requests - before} requests`);
    });
  });

  it('a wrong password fails with exit 4 after exactly two login attempts (Base64, plaintext)', async () => {
    await withEmu({}, async (emu) => {
      const c = getConsole(env(emu.url, PW), { environ: { PW: 'wrong-password-1' } });
      await assert.rejects(listAllApps(c), (e: unknown) => e instanceof DifyCiError && e.exitCode === 4 && /Invalid email or password/.test(e.message) && /admin@dify-ci\.local/.test(e.message));
      assert.equal(loginCalls(emu), 2);
    });
  });

  it('bearer token: works on a legacy server; on a modern one fails clearly (CSRF needed)', async () => {
    await withEmu({ authEra: 'legacy' }, async (emu) => {
      const login = await fetch(`${emu.url}/console/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: emu.admin.email, password: emu.admin.password, remember_me: true }) });
      const token = ((await login.json()) as { data: { access_token: string } }).data.access_token;
      const c = getConsole(env(emu.url, { mode: 'token', tokenEnv: 'TOK' }), { environ: { TOK: token } });
      await listAllApps(c);
      assert.equal(c.authMode, 'token');
    });
    await withEmu({}, async (emu) => {
      // A real access token from a modern login, sent as a bearer without the CSRF cookie/header.
      const login = await fetch(`${emu.url}/console/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: emu.admin.email, password: Buffer.from(emu.admin.password).toString('base64'), remember_me: true }) });
      const access = login.headers.getSetCookie().map((h) => /^access_token=([^;]+)/.exec(h)?.[1]).find(Boolean)!;
      assert.ok(access);
      const c = getConsole(env(emu.url, { mode: 'token', tokenEnv: 'TOK' }), { environ: { TOK: access } });
      await assert.rejects(listAllApps(c), (e: unknown) => e instanceof DifyCiError && e.exitCode === 4 && e.details.some((d) => /password or admin-key/.test(d)));
    });
  });

  it('admin key + X-WORKSPACE-ID, never with cookies; a bad workspace is an auth error', async () => {
    await withEmu({ adminApiKey: 'admin-key-0123456789' }, async (emu) => {
      const c = getConsole(env(emu.url, { mode: 'admin-key', keyEnv: 'AK', workspaceId: emu.workspaceId }), { environ: { AK: 'admin-key-0123456789' } });
      const imp = await importDsl(c, { yaml: WF, name: 'via-admin-key' });
      await publish(c, imp.appId, { markedName: 'abc' });
      assert.ok((await exportDsl(c, imp.appId))?.includes('via-admin-key'));
      assert.equal(c.authMode, 'admin-key');
      assert.equal(c.session.jar, undefined);
      assert.equal(loginCalls(emu), 0);
      closeConsoles();
      const bad = getConsole(env(emu.url, { mode: 'admin-key', keyEnv: 'AK', workspaceId: '00000000-0000-0000-0000-000000000000' }), { environ: { AK: 'admin-key-0123456789' } });
      await assert.rejects(listAllApps(bad), (e: unknown) => e instanceof DifyCiError && e.exitCode === 4 && /Invalid token/.test(e.message) && e.details.some((d) => /workspaceId/.test(d)));
    });
  });

  it('openapi (dfoa_): lists, imports and exports; publish/keys say they need a console session', async () => {
    await withEmu({ openapi: true }, async (emu) => {
      const token = emu.mintOpenApiToken();
      const c = getConsole(env(emu.url, { mode: 'openapi', tokenEnv: 'OT', workspaceId: emu.workspaceId }), { environ: { OT: token } });
      const imp = await importDsl(c, { yaml: WF, name: 'via-openapi' });
      assert.ok((await listAllApps(c)).some((a) => a.id === imp.appId));
      assert.ok((await exportDsl(c, imp.appId))?.includes('via-openapi'));
      assert.equal(c.authMode, 'openapi');
      await assert.rejects(publish(c, imp.appId), (e: unknown) => e instanceof DifyCiError && e.exitCode === 2 && /needs the console API/.test(e.message));
      await assert.rejects(listApiKeys(c, imp.appId), /needs the console API/);
    });
    await withEmu({}, async (emu) => {
      const c = getConsole(env(emu.url, { mode: 'openapi', tokenEnv: 'OT', workspaceId: emu.workspaceId }), { environ: { OT: 'dfoa_abc' } });
      await assert.rejects(listAllApps(c), (e: unknown) => e instanceof DifyCiError && /openapi\/v1 is not enabled/.test(e.message));
    });
  });

  it('ensureApiKey: configured key, else an existing key, else a new one — all masked', async () => {
    await withEmu({}, async (emu) => {
      const c = getConsole(env(emu.url, PW), { environ });
      const imp = await importDsl(c, { yaml: WF, name: 'keyed' });
      const created = await ensureApiKey(c, imp.appId);
      assert.match(created, /^app-[A-Za-z0-9]{24}$/);
      assert.equal(mask(created), '***');
      assert.equal(await ensureApiKey(c, imp.appId), created, 'reuses the existing key');
      assert.equal(emu.state.apiKeys.filter((k) => k.appId === imp.appId).length, 1);
      assert.equal(await ensureApiKey(c, imp.appId, { apiKeyEnv: 'KEY', environ: { KEY: 'app-configuredconfiguredconf' } }), 'app-configuredconfiguredconf');
    });
  });
});
