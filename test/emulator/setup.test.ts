/**
 * `fresh` (an uninstalled Dify and its setup step), `cookieDomain` (COOKIE_DOMAIN, §1.1) and `--state` persistence of
 * service-API changes — over real HTTP, programmatically and through the CLI.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../runner/src/emulator/index.js';
import type { EnvironmentConfig } from '../../runner/src/config/types.js';
import { DifyCiError } from '../../runner/src/core/errors.js';
import { listAllApps } from '../../runner/src/dify/apps.js';
import { closeConsoles, getConsole } from '../../runner/src/dify/console.js';
import { importDsl } from '../../runner/src/dify/imports.js';
import { spawnCli, useTempDir } from '../helpers/cli.js';
import { withEmulator } from '../helpers/emulator.js';
import { connectProxy } from '../helpers/proxy.js';
import { Client, adminClient, chatDsl, service } from './helpers.js';

const NOT_SETUP = {
  code: 'not_setup',
  message: 'Dify has not been initialized and installed yet. Please proceed with the initialization and installation process first.',
  status: 401,
};
const ALREADY = {
  code: 'already_setup',
  message: 'Dify has been successfully installed. Please refresh the page or return to the dashboard homepage.',
  status: 403,
};
const OWNER = { email: 'Owner@Example.com', name: 'Ops', password: 'Passw0rd-123', language: 'en-US' };

const withEmu = (opts: EmulatorOptions, fn: (emu: Emulator) => Promise<void>) => withEmulator(opts, fn, { clearSecrets: true });

function env(url: string, email: string, over: Partial<EnvironmentConfig> = {}): EnvironmentConfig {
  return {
    key: 'staging', url, apiUrl: `${url}/v1`, auth: { mode: 'password', email, passwordEnv: 'PW' }, apps: {}, variables: {}, secrets: {},
    approval: { required: false, message: '', timeoutMinutes: 60 }, protected: false,
    tls: { rejectUnauthorized: true }, timeoutMs: 10000, dslVersion: '0.6.0', concurrency: 8, tenants: false,
    smoke: {} as never, rollout: {} as never, notify: {}, ...over,
  };
}

describe('emulator: fresh (uninstalled) instance and setup', () => {
  it('GET /console/api/setup → not_started; nothing seeded; setup_required routes → 401 not_setup (login too), refresh and system-features are not guarded', async () => {
    await withEmu({ fresh: true }, async (emu) => {
      const c = new Client(emu.url);
      const st = await c.req('GET', '/console/api/setup');
      assert.equal(st.status, 200);
      assert.deepEqual(st.json, { step: 'not_started' });
      assert.equal(emu.setUp, false);
      assert.deepEqual(emu.state.accounts, []);
      assert.deepEqual(emu.state.workspaces, []);
      assert.deepEqual(emu.admin, { email: '', password: '' });
      assert.equal(emu.workspaceId, '');

      // The default credentials do not exist: setup_required answers before the password is even looked at.
      const login = await c.login('admin@dify-ci.local', 'dify-ci-Passw0rd');
      assert.equal(login.status, 401);
      assert.deepEqual(login.json, NOT_SETUP);
      assert.equal(login.headers.get('www-authenticate'), 'Bearer realm="api"');
      assert.equal(login.setCookies.length, 0);
      for (const [m, p] of [['GET', '/console/api/apps'], ['POST', '/console/api/apps/imports'], ['GET', '/console/api/workspaces'], ['POST', '/console/api/logout']] as const) {
        const r = await c.req(m, p, { body: m === 'POST' ? {} : undefined });
        assert.equal(r.status, 401, `${m} ${p}`);
        assert.deepEqual(r.json, NOT_SETUP, `${m} ${p}: not_setup, not A1`);
      }
      const refresh = await c.req('POST', '/console/api/refresh-token');
      assert.deepEqual([refresh.status, refresh.json], [401, { result: 'fail', message: 'No refresh token provided' }]);
      assert.equal((await c.req('GET', '/console/api/system-features')).status, 200);
      // Service API: there are no keys yet.
      assert.equal((await service(emu, 'app-xxxxxxxxxxxxxxxxxxxxxxxx', 'GET', '/info')).status, 401);
      assert.throws(() => emu.createWorkspace('early'), /not set up yet/);
      assert.throws(() => emu.createDataset({ name: 'kb' }), /not set up yet/);
      assert.throws(() => emu.mintOpenApiToken(), /not set up yet/);
    });
  });

  it('POST /console/api/setup validates like SetupRequestPayload (valid_password: letters + digits, ≥ 8; name ≤ 30) → 400 invalid_param, nothing created', async () => {
    await withEmu({ fresh: true }, async (emu) => {
      const c = new Client(emu.url);
      const none = await c.req('POST', '/console/api/setup', { body: {} });
      assert.equal(none.status, 400);
      assert.equal(none.json.code, 'invalid_param');
      assert.equal(none.json.message, '3 validation errors for SetupRequestPayload\nemail\n  Field required\nname\n  Field required\npassword\n  Field required');
      for (const password of ['short1a', 'lettersonly', '12345678901']) {
        const r = await c.req('POST', '/console/api/setup', { body: { ...OWNER, password } });
        assert.equal(r.status, 400, password);
        assert.deepEqual(r.json, {
          code: 'invalid_param',
          message: '1 validation error for SetupRequestPayload\npassword\n  Value error, Password must contain letters and numbers, and the length must be greater than 8.',
          status: 400,
        });
      }
      const longName = await c.req('POST', '/console/api/setup', { body: { ...OWNER, name: 'x'.repeat(31) } });
      assert.equal(longName.status, 400);
      assert.match(longName.json.message, /^1 validation error for SetupRequestPayload\nname\n {2}String should have at most 30 characters$/);
      const badEmail = await c.req('POST', '/console/api/setup', { body: { ...OWNER, email: 'nobody' } });
      assert.equal(badEmail.status, 400);
      assert.match(badEmail.json.message, /\nemail\n/);
      assert.equal(emu.setUp, false);
      assert.deepEqual((await c.req('GET', '/console/api/setup')).json, { step: 'not_started' });
      assert.deepEqual(emu.state.accounts, []);
    });
  });

  it('setup → 201 {"result":"success"}: owner + "<name>\'s Workspace", step finished, Base64 login works, console works; a second setup → 403 already_setup', async () => {
    await withEmu({ fresh: true }, async (emu) => {
      const c = new Client(emu.url);
      const r = await c.req('POST', '/console/api/setup', { body: OWNER });
      assert.equal(r.status, 201, r.text);
      assert.deepEqual(r.json, { result: 'success' });
      assert.equal(r.setCookies.length, 0, 'setup does not log in');
      const st = await c.req('GET', '/console/api/setup');
      assert.equal(st.json.step, 'finished');
      assert.match(st.json.setup_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/, 'Python isoformat() of a naive UTC datetime');
      assert.equal(emu.setUp, true);
      assert.deepEqual(emu.admin, { email: 'owner@example.com', password: OWNER.password }, 'email normalised to lower case');
      assert.equal(emu.state.workspaces.length, 1);
      assert.equal(emu.state.workspaces[0]!.name, "Ops's Workspace");
      assert.equal(emu.workspaceId, emu.state.workspaces[0]!.id);
      assert.deepEqual(emu.state.accounts[0]!.workspaces, [{ id: emu.workspaceId, role: 'owner' }]);

      assert.equal((await c.login('owner@example.com', 'wrong-Passw0rd')).status, 401);
      const login = await c.login('owner@example.com', OWNER.password);
      assert.equal(login.status, 200, login.text);
      const cur = await c.req('GET', '/console/api/workspaces/current');
      assert.equal(cur.status, 200);
      assert.deepEqual([cur.json.id, cur.json.role], [emu.workspaceId, 'owner']);
      const profile = await c.req('GET', '/console/api/account/profile');
      assert.deepEqual([profile.json.email, profile.json.name], ['owner@example.com', 'Ops']);

      const again = await new Client(emu.url).req('POST', '/console/api/setup', { body: { ...OWNER, email: 'second@example.com' } });
      assert.equal(again.status, 403);
      assert.deepEqual(again.json, ALREADY);
      // Modern Dify validates the payload before the already-set-up check.
      assert.equal((await new Client(emu.url).req('POST', '/console/api/setup', { body: {} })).status, 400);
      assert.equal(emu.state.accounts.length, 1);
      // The programmatic API now works on the set-up owner.
      const ws = emu.createWorkspace('later');
      assert.ok(emu.state.accounts[0]!.workspaces.some((w) => w.id === ws.id && w.role === 'owner'));
      assert.match(emu.mintOpenApiToken(), /^dfoa_/);

      emu.reset();
      assert.deepEqual((await c.req('GET', '/console/api/setup')).json, { step: 'not_started' }, 'reset() returns a fresh instance to not_started');
    });
  });

  it('the seeded (default) instance: GET finished, POST → 403 already_setup for a valid payload', async () => {
    await withEmu({}, async (emu) => {
      const c = new Client(emu.url);
      const st = await c.req('GET', '/console/api/setup');
      assert.equal(st.json.step, 'finished');
      assert.equal(typeof st.json.setup_at, 'string');
      const r = await c.req('POST', '/console/api/setup', { body: OWNER });
      assert.deepEqual([r.status, r.json], [403, ALREADY]);
      assert.equal(emu.setUp, true);
    });
  });

  it('the runner console client logs in to a freshly set-up instance', async () => {
    await withEmu({ fresh: true }, async (emu) => {
      assert.equal((await new Client(emu.url).req('POST', '/console/api/setup', { body: OWNER })).status, 201);
      const c = getConsole(env(emu.url, 'owner@example.com'), { environ: { PW: OWNER.password } });
      assert.deepEqual(await listAllApps(c), []);
      assert.equal(c.authMode, 'password-cookie');
    });
  });

  it('fresh + statePath: the setup is persisted; a restart with fresh on the same file is an installed instance with that owner, nothing seeded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-fresh-'));
    const statePath = join(dir, 'state.json');
    try {
      await withEmu({ fresh: true, statePath }, async (emu) => {
        assert.equal((await new Client(emu.url).req('POST', '/console/api/setup', { body: OWNER })).status, 201);
      });
      await withEmu({ fresh: true, statePath }, async (emu) => {
        assert.equal(emu.setUp, true);
        assert.deepEqual(emu.admin, { email: 'owner@example.com', password: OWNER.password });
        assert.equal(emu.state.accounts.length, 1, 'no default admin seeded');
        const c = new Client(emu.url);
        assert.equal((await c.req('GET', '/console/api/setup')).json.step, 'finished');
        assert.equal((await c.login('owner@example.com', OWNER.password)).status, 200);
        assert.equal((await c.req('POST', '/console/api/setup', { body: OWNER })).status, 403);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('emulator: cookieDomain (COOKIE_DOMAIN, §1.1)', () => {
  it('every Set-Cookie gets Domain= (leading dot dropped) right after the value, no __Host- prefix even with secureCookies; Secure stays; logout clears with the domain', async () => {
    await withEmu({ secureCookies: true, cookieDomain: ' .dify.example.com ' }, async (emu) => {
      const c = new Client(emu.url);
      const r = await c.login(emu.admin.email, emu.admin.password);
      assert.equal(r.status, 200);
      assert.equal(r.setCookies.length, 3);
      assert.deepEqual(r.setCookies.map((s) => s.split('=')[0]).sort(), ['access_token', 'csrf_token', 'refresh_token']);
      for (const sc of r.setCookies) {
        // Werkzeug's dump_cookie order: k=v; Domain; Expires; Max-Age; Secure; HttpOnly; Path; SameSite.
        assert.match(sc, /^[a-z_]+=[^;]+; Domain=dify\.example\.com; Expires=[^;]+; Max-Age=\d+; Secure; (HttpOnly; )?Path=\/; SameSite=Lax$/, sc);
        assert.doesNotMatch(sc, /__Host-/);
      }
      assert.equal((await c.req('GET', '/console/api/apps')).status, 200, 'the unprefixed cookies + X-CSRF-Token authenticate');
      const out = await c.req('POST', '/console/api/logout');
      assert.equal(out.setCookies.length, 3);
      for (const sc of out.setCookies) assert.match(sc, /^[a-z_]+=; Domain=dify\.example\.com; Expires=Thu, 01 Jan 1970 00:00:00 GMT; /);
    });
    // Without a cookie domain secure mode keeps the prefix and sends no Domain.
    await withEmu({ secureCookies: true }, async (emu) => {
      const r = await new Client(emu.url).login(emu.admin.email, emu.admin.password);
      for (const sc of r.setCookies) {
        assert.match(sc, /^__Host-/);
        assert.doesNotMatch(sc, /Domain=/);
      }
    });
  });

  it('the runner console client (tough-cookie jar, names matched by suffix) logs in, writes and refreshes against a Domain=127.0.0.1 emulator', async () => {
    await withEmu({ secureCookies: true, cookieDomain: '127.0.0.1' }, async (emu) => {
      const c = getConsole(env(emu.url, emu.admin.email), { environ: { PW: emu.admin.password } });
      await listAllApps(c);
      assert.equal(c.authMode, 'password-cookie');
      const jar = await c.session.jar!.getCookies(`${emu.url}/console/api/`);
      assert.deepEqual(jar.map((k) => k.key).sort(), ['access_token', 'csrf_token', 'refresh_token']);
      for (const k of jar) assert.deepEqual([k.domain, k.hostOnly], ['127.0.0.1', false], `${k.key} is a domain cookie`);
      const out = await importDsl(c, { yaml: chatDsl('chat', 'cookie-domain-bot'), name: 'cookie-domain-bot' });
      assert.equal(out.status, 'completed');
      // Tokens expire (60 min): one refresh with the domain cookies, the new ones replace the old ones in the jar.
      emu.advanceClock(61 * 60 * 1000);
      assert.deepEqual((await listAllApps(c)).map((a) => a.name), ['cookie-domain-bot']);
      assert.equal(emu.stats.byRoute['POST /console/api/refresh-token'], 1);
      assert.equal(emu.stats.byRoute['POST /console/api/login'], 1);
      assert.equal((await c.session.jar!.getCookies(`${emu.url}/console/api/`)).length, 3, 'no duplicate cookies after the refresh');
    });
  });

  /** A CONNECT proxy that maps any host name to the emulator, like DNS would; `fn` gets its URL. */
  async function viaNameProxy(emu: Emulator, fn: (proxyUrl: string, port: number, seen: string[]) => Promise<void>): Promise<void> {
    const port = Number(new URL(emu.url).port);
    const proxy = await connectProxy(port);
    try {
      await fn(proxy.url, port, proxy.seen);
    } finally {
      closeConsoles();
      await proxy.close();
    }
  }

  it('real deployment shape: COOKIE_DOMAIN is a parent of the host the runner calls (console.dify-ci.test via a proxy) → the jar accepts and sends the cookies', async () => {
    // Plain http here: Secure cookies are only stored for https (or loopback) URLs — real https deployments keep Secure.
    await withEmu({ cookieDomain: 'dify-ci.test' }, async (emu) => {
      await viaNameProxy(emu, async (purl, port, seen) => {
        const url = `http://console.dify-ci.test:${port}`;
        const c = getConsole(env(url, emu.admin.email), { environ: { PW: emu.admin.password, HTTP_PROXY: purl } });
        await listAllApps(c);
        assert.equal(c.authMode, 'password-cookie');
        const jar = await c.session.jar!.getCookies(`${url}/console/api/`);
        assert.equal(jar.length, 3);
        for (const k of jar) assert.deepEqual([k.domain, k.hostOnly], ['dify-ci.test', false]);
        // The same cookies go to a sibling host under the domain (split console/API hosts, §10.6).
        assert.equal((await c.session.jar!.getCookies(`http://api.dify-ci.test:${port}/console/api/`)).length, 3);
        assert.ok(seen.length > 0 && seen.every((s) => s === `console.dify-ci.test:${port}`));
      });
    });
  });

  it('Secure cookies (https Dify) reached over a plain-http, non-loopback url are refused → config error (exit 2), not a network error', async () => {
    await withEmu({ secureCookies: true, cookieDomain: 'dify-ci.test' }, async (emu) => {
      await viaNameProxy(emu, async (purl, port) => {
        const c = getConsole(env(`http://console.dify-ci.test:${port}`, emu.admin.email), { environ: { PW: emu.admin.password, HTTP_PROXY: purl } });
        await assert.rejects(listAllApps(c), (e: unknown) => {
          assert.ok(e instanceof DifyCiError);
          assert.match(e.message, /were refused: Cookie is Secure but this is not a secure connection/);
          assert.equal(e.exitCode, 2);
          return true;
        });
      });
    });
  });

  it('a COOKIE_DOMAIN the called host is not under: the jar refuses the cookies (as a browser would) and the login fails — no silent success', async () => {
    await withEmu({ cookieDomain: 'other.example' }, async (emu) => {
      const c = getConsole(env(emu.url, emu.admin.email), { environ: { PW: emu.admin.password } });
      await assert.rejects(listAllApps(c), (e: unknown) => {
        const err = e as DifyCiError;
        assert.ok(err instanceof DifyCiError);
        assert.match(err.message, /session cookies from http:\/\/127\.0\.0\.1:\d+ were refused: Cookie not in this host's domain/);
        assert.equal(err.exitCode, 2, 'a configuration mismatch, not a network error');
        assert.ok(err.details.some((d) => /COOKIE_DOMAIN must be the host of the configured url or a parent/.test(d)));
        return true;
      });
      assert.equal(emu.stats.byRoute['POST /console/api/login'], 1, 'not retried');
    });
  });
});

describe('emulator: --state persists service-API changes', () => {
  const dir = useTempDir('emu-state-v1-');

  async function until(cond: () => boolean, ms = 3000): Promise<void> {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error('timed out waiting for the state file');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('conversations and knowledge documents written by /v1 reach the file shortly after the request (before exit), a burst costs a few writes, not one per request', async () => {
    const statePath = join(dir(), 'v1.json');
    const emu = await startEmulator({ port: 0, statePath, stateWriteDelayMs: 100 });
    try {
      const admin = await adminClient(emu);
      const imp = await admin.req('POST', '/console/api/apps/imports', { body: { mode: 'yaml-content', yaml_content: chatDsl('chat', 'persisted-bot') } });
      const key = (await admin.req('POST', `/console/api/apps/${imp.json.app_id}/api-keys`)).json.token as string;
      const chat = await service(emu, key, 'POST', '/chat-messages', { inputs: {}, query: 'hello', user: 'u1', response_mode: 'blocking' });
      assert.equal(chat.status, 200, chat.text);
      const convId = chat.json.conversation_id as string;
      await until(() => Boolean(read(statePath).conversations[convId]));
      assert.equal(read(statePath).conversations[convId].turns.length, 1);
      assert.ok(read(statePath).apiKeys[Object.keys(read(statePath).apiKeys)[0]!].lastUsedAt, 'key last_used_at too');

      // Streaming second turn: persisted after the stream ended.
      const s = await service(emu, key, 'POST', '/chat-messages', { inputs: {}, query: 'again', user: 'u1', response_mode: 'streaming', conversation_id: convId });
      assert.equal(s.status, 200);
      await until(() => read(statePath).conversations[convId].turns.length === 2);

      // Knowledge documents through the dataset key.
      const ds = emu.createDataset({ name: 'kb', indexingTechnique: 'economy' });
      const dkey = emu.createDatasetApiKey();
      const doc = await service(emu, dkey, 'POST', `/datasets/${ds.id}/document/create-by-text`, { name: 'a.txt', text: 'alpha', process_rule: { mode: 'automatic' } });
      assert.equal(doc.status, 200, doc.text);
      await until(() => Boolean(read(statePath).datasets[ds.id].documents[doc.json.document.id]));

      // A burst: 30 service requests in a row → a handful of writes.
      const before = emu.stats.stateWrites;
      for (let i = 0; i < 30; i++) {
        assert.equal((await service(emu, key, 'POST', '/chat-messages', { inputs: {}, query: `q${i}`, user: 'burst', response_mode: 'blocking' })).status, 200);
      }
      await until(() => Object.values(read(statePath).conversations as Record<string, { user: string }>).filter((c) => c.user === 'burst').length === 30);
      const writes = emu.stats.stateWrites - before;
      assert.ok(writes >= 1 && writes < 15, `${writes} writes for 30 requests`);
    } finally {
      await emu.close();
    }
  });

  it('a change still pending at close() is flushed; a restart sees it', async () => {
    const statePath = join(dir(), 'flush.json');
    const emu = await startEmulator({ port: 0, statePath, stateWriteDelayMs: 60_000 });
    let convId = '';
    try {
      const admin = await adminClient(emu);
      const imp = await admin.req('POST', '/console/api/apps/imports', { body: { mode: 'yaml-content', yaml_content: chatDsl('chat', 'flush-bot') } });
      const key = (await admin.req('POST', `/console/api/apps/${imp.json.app_id}/api-keys`)).json.token as string;
      convId = (await service(emu, key, 'POST', '/chat-messages', { inputs: {}, query: 'hi', user: 'u', response_mode: 'blocking' })).json.conversation_id;
      assert.equal(read(statePath).conversations[convId], undefined, 'not yet written (60 s delay)');
    } finally {
      await emu.close();
    }
    assert.equal(read(statePath).conversations[convId].turns.length, 1);
    const again = await startEmulator({ port: 0, statePath });
    try {
      assert.ok(again.state.apps.some((a) => a.name === 'flush-bot'));
    } finally {
      await again.close();
    }
  });
});

// ---- the CLI ----
function run(args: string[], cwd: string, extraEnv: Record<string, string> = {}) {
  const e: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...extraEnv };
  if (!('DIFY_CI_EMULATOR_ADMIN' in extraEnv)) delete e.DIFY_CI_EMULATOR_ADMIN;
  return spawnCli(args, cwd, e);
}

describe('dify-ci emulator --fresh / --cookie-domain (CLI)', function () {
  this.timeout(60_000);
  const dir = useTempDir('emu-cli-fresh-');

  it('--fresh: the banner says fresh with no credentials, the JSON line has none; setup over HTTP; a restart on the same --state is installed (owner, no password printed)', async () => {
    const state = join(dir(), 'fresh.json');
    const r1 = run(['emulator', '--port', '0', '--fresh', '--state', state], dir());
    const info = await r1.line;
    assert.deepEqual(Object.keys(info).sort(), ['fresh', 'url', 'workspaces']);
    assert.equal(info.fresh, true);
    assert.deepEqual(info.workspaces, []);
    assert.match(r1.stderr(), /fresh instance: not set up, no credentials seeded/);
    assert.doesNotMatch(r1.stderr(), /admin: /);
    const c = new Client(info.url);
    assert.deepEqual((await c.req('GET', '/console/api/setup')).json, { step: 'not_started' });
    assert.deepEqual((await c.login('admin@dify-ci.local', 'dify-ci-Passw0rd')).json, NOT_SETUP);
    assert.equal((await c.req('POST', '/console/api/setup', { body: OWNER })).status, 201);
    assert.equal((await c.login('owner@example.com', OWNER.password)).status, 200);
    // Written after the change, not only at exit.
    assert.ok(existsSync(state) && Object.keys(read(state).accounts).length === 1);
    r1.child.kill('SIGTERM');
    assert.equal(await r1.exit, 0, r1.stderr());

    const r2 = run(['emulator', '--port', '0', '--fresh', '--state', state], dir());
    const info2 = await r2.line;
    assert.equal(info2.email, 'owner@example.com');
    assert.equal(info2.password, undefined, 'a set-up password is not printed');
    assert.equal(info2.fresh, undefined);
    assert.match(r2.stderr(), /--fresh: the state file is already set up/);
    assert.equal((await new Client(info2.url).login('owner@example.com', OWNER.password)).status, 200);
    r2.child.kill('SIGTERM');
    assert.equal(await r2.exit, 0);
  });

  it('--fresh with --admin (flag or DIFY_CI_EMULATOR_ADMIN) or with --workspaces > 1 is a usage error (exit 2)', async () => {
    const a = run(['emulator', '--port', '0', '--fresh', '--admin', 'x@example.com:Passw0rd1'], dir());
    assert.equal(await a.exit, 2);
    assert.match(a.stderr(), /--fresh starts without any account: it cannot be combined with --admin/);
    const b = run(['emulator', '--port', '0', '--fresh'], dir(), { DIFY_CI_EMULATOR_ADMIN: 'x@example.com:Passw0rd1' });
    assert.equal(await b.exit, 2);
    assert.match(b.stderr(), /cannot be combined with DIFY_CI_EMULATOR_ADMIN/);
    const w = run(['emulator', '--port', '0', '--fresh', '--workspaces', '2'], dir());
    assert.equal(await w.exit, 2);
    assert.match(w.stderr(), /--workspaces needs the seeded admin/);
  });

  it('--cookie-domain: cookies carry Domain= and no __Host- prefix with --secure-cookies; the banner says so', async () => {
    const r = run(['emulator', '--port', '0', '--secure-cookies', '--cookie-domain', '127.0.0.1'], dir());
    const info = await r.line;
    const res = await new Client(info.url).login(info.email, info.password);
    assert.equal(res.status, 200);
    for (const sc of res.setCookies) assert.match(sc, /^(access|refresh|csrf)_token=[^;]+; Domain=127\.0\.0\.1; .*Secure/);
    assert.match(r.stderr(), /cookie domain: 127\.0\.0\.1/);
    r.child.kill('SIGTERM');
    assert.equal(await r.exit, 0);
    const empty = run(['emulator', '--port', '0', '--cookie-domain', ' . '], dir());
    assert.equal(await empty.exit, 2);
  });
});

function read(p: string) {
  return JSON.parse(readFileSync(p, 'utf8'));
}
