/**
 * The version list (dify-api.md §5.2, as corrected): Dify's `GET …/workflows` lists the draft among the rows, so a
 * client skips it and pages on `has_more` — never on how many non-draft rows a page held.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { EnvironmentConfig } from '../../runner/src/config/types.js';
import { getConsole, type ConsoleClient } from '../../runner/src/dify/console.js';
import { importDsl } from '../../runner/src/dify/imports.js';
import { listAllVersions, listVersions, publish } from '../../runner/src/dify/workflows.js';
import { freshClients, useEmulator } from '../helpers/emulator.js';

const WF = readFileSync(join(import.meta.dirname, '../deploy/fixtures/workflow.yml'), 'utf8');
const PW = { mode: 'password', email: 'admin@dify-ci.local', passwordEnv: 'PW' } as const;
const environ = { PW: 'dify-ci-Passw0rd' };

function env(url: string, auth: EnvironmentConfig['auth'] = PW): EnvironmentConfig {
  return {
    key: 'staging', url, apiUrl: `${url}/v1`, auth, apps: {}, variables: {}, secrets: {},
    approval: { required: false, message: '', timeoutMinutes: 60 }, protected: false,
    tls: { rejectUnauthorized: true }, timeoutMs: 10000, dslVersion: '0.6.0', concurrency: 8, tenants: false,
    smoke: {} as never, rollout: {} as never, notify: {},
  };
}

describe('dify/workflows: the version list against the emulator', function () {
  this.timeout(60_000);
  const emu = useEmulator();
  let c: ConsoleClient;
  let appId: string;

  beforeEach(async () => {
    c = getConsole(env(emu().url), { environ });
    appId = (await importDsl(c, { yaml: WF, name: 'versions' })).appId;
  });

  it('130 published versions: every one comes back, newest first, no draft, each once (page 1 = draft + 99)', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 130; i++) ids.push((await publish(c, appId, { markedName: `v${i}` })).id);
    const page1 = await listVersions(c, appId, 1, 100);
    assert.equal(page1.rows, 100);
    assert.equal(page1.items.length, 99, 'the draft is one of the 100 rows');
    assert.equal(page1.has_more, true);
    const all = await listAllVersions(c, appId, 200);
    assert.equal(all.length, 130);
    assert.deepEqual(all.map((v) => v.id), [...ids].reverse());
    assert.ok(all.every((v) => v.version !== 'draft'));
    assert.equal((await listAllVersions(c, appId, 120)).length, 120, 'max is honoured');
  });

  it('the raw list: draft first, has_more over all rows, user_id and named_only filters, nothing before a publish', async () => {
    const raw = async (q: string) => (await c.call({ method: 'GET', path: `/apps/${appId}/workflows`, searchParams: Object.fromEntries(new URLSearchParams(q)), what: 'list' })).body as { items: { id: string; version: string; marked_name: string }[]; has_more: boolean };
    assert.deepEqual((await raw('page=1&limit=10')).items, [], 'an app never published lists nothing, not even its draft');
    await publish(c, appId, { markedName: 'one' });
    await publish(c, appId);
    const l = await raw('page=1&limit=2');
    assert.deepEqual(l.items.map((v) => v.version === 'draft'), [true, false]);
    assert.equal(l.has_more, true);
    const l2 = await raw('page=2&limit=2');
    assert.equal(l2.items.length, 1);
    assert.equal(l2.has_more, false);
    const named = await raw('page=1&limit=10&named_only=true');
    assert.deepEqual(named.items.map((v) => v.marked_name), ['one'], 'the draft has no name');
    const me = emu().state.accounts[0]!.id;
    assert.equal((await raw(`page=1&limit=10&user_id=${me}`)).items.length, 3);
    assert.equal((await raw('page=1&limit=10&user_id=00000000-0000-0000-0000-000000000000')).items.length, 0);
  });
});

describe('dify/workflows: paging stops on has_more, and on a page that claims more but is empty', () => {
  let server: Server;
  const seen: string[] = [];
  before(async () => {
    server = createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      seen.push(u.search);
      res.setHeader('Content-Type', 'application/json');
      if (u.pathname === '/console/api/login') {
        res.setHeader('Set-Cookie', ['access_token=a; Path=/', 'csrf_token=c; Path=/', 'refresh_token=r; Path=/']);
        return res.end(JSON.stringify({ result: 'success' }));
      }
      const page = Number(u.searchParams.get('page'));
      // Page 1: the draft and one version, has_more; page 2: one version, has_more; page 3: empty but has_more.
      const items = page === 1 ? [{ id: 'd', version: 'draft' }, { id: 'v3', version: '3' }] : page === 2 ? [{ id: 'v2', version: '2' }] : [];
      res.end(JSON.stringify({ items, page, limit: 100, has_more: true }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  after(async () => {
    freshClients();
    await new Promise((r) => server.close(r));
  });

  it('follows has_more past short pages and stops at an empty one', async () => {
    const c = getConsole(env(`http://127.0.0.1:${(server.address() as AddressInfo).port}`), { environ });
    const all = await listAllVersions(c, 'app-1', 200);
    assert.deepEqual(all.map((v) => v.id), ['v3', 'v2']);
    const pages = seen.filter((q) => q.includes('page='));
    assert.equal(pages.length, 3);
    assert.ok(pages.every((q) => q.includes('limit=100')));
  });
});
