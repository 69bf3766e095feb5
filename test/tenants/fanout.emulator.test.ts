/** The tenant fan-out against the emulator over real HTTP: sessions, workspaces, limits, backoff, shards, resume. */
import assert from 'node:assert/strict';
import { getConsole } from '../../runner/src/dify/console.js';
import { rollout } from '../../runner/src/fanout/rollout.js';
import type { RolloutReport } from '../../runner/src/results/rollout.js';
import { Progress } from '../../runner/src/fanout/progress.js';
import { chooseTenants } from '../../runner/src/fanout/targets.js';
import { freshClients } from '../deploy/helpers.js';
import { useEmulator } from '../helpers/emulator.js';
import { ADMIN_KEY, allTenants, publishedIn, routeCount, tenantName, tenantProject, type TenantProject } from './helpers.js';

describe('tenants: fan-out against the emulator', () => {
  const emu = useEmulator({ adminApiKey: ADMIN_KEY });

  const run = (p: TenantProject, extra: Partial<Parameters<typeof rollout>[2]> = {}, lines: string[] = []): Promise<RolloutReport> => {
    const cfg = p.config();
    const selected = extra.selected ?? allTenants(p);
    return rollout(cfg, cfg.env!, { selected, environ: p.environ, progress: new Progress(1000, (l) => lines.push(l)), ...extra });
  };

  it('password auth: one login for every tenant, each tenant lands in its own workspace', async () => {
    const p = tenantProject(emu(), { tenants: 5, apps: ['support', 'faq'], rollout: 'rollout: {concurrency: 8}\n' });
    const lines: string[] = [];
    const r = await run(p, {}, lines);
    assert.equal(r.status, 'success', JSON.stringify(r.failures));
    assert.equal(r.targets.length, 10);
    assert.ok(r.targets.every((t) => t.status === 'deployed'));
    assert.equal(emu().stats.logins, 1, 'one login per server and account, not per target');
    for (const [name, ws] of p.workspaces) {
      const apps = emu().state.apps.filter((a) => a.workspaceId === ws);
      assert.deepEqual(apps.map((a) => a.name).sort(), ['faq-bot', 'support-flow'].sort(), `apps of ${name}`);
    }
    assert.equal(routeCount(emu(), /^POST \/console\/api\/workspaces\/switch$/), 5, 'one switch per tenant');
    assert.equal(lines.filter((l) => /^\[\s*\d+\/1000\] t-0\d\/(support|faq) deployed/.test(l)).length, 10);
  });

  it('a tenant with its own account is a second session; admin-key tenants need no login at all', async () => {
    const p = tenantProject(emu(), { tenants: 3, row: (i) => (i === 2 ? 'auth: {mode: password, email: ops@t.example, passwordEnv: T2_PASSWORD}' : '') });
    emu().createAccount({ email: 'ops@t.example', password: 'Other-Passw0rd', role: 'editor', workspaceId: p.workspaces.get('t-02')! });
    p.environ.T2_PASSWORD = 'Other-Passw0rd';
    const r = await run(p);
    assert.equal(r.status, 'success', JSON.stringify(r.failures));
    assert.equal(emu().stats.logins, 2);

    emu().reset();
    freshClients();
    const k = tenantProject(emu(), { tenants: 4, auth: 'admin-key' });
    const rk = await run(k);
    assert.equal(rk.status, 'success', JSON.stringify(rk.failures));
    assert.equal(emu().stats.logins, 0);
    assert.equal(routeCount(emu(), /workspaces\/switch/), 0, 'the admin key names the workspace per request');
    for (const ws of k.workspaces.values()) assert.equal(publishedIn(emu(), ws).length, 1);
  });

  it('a wrong password is one failed login, not one per target', async () => {
    const p = tenantProject(emu(), { tenants: 6 });
    p.environ.DIFY_PASSWORD = 'wrong-password';
    const r = await run(p);
    assert.equal(r.status, 'failed');
    assert.ok(r.targets.every((t) => t.status === 'failed' && t.errorCategory === 'auth'), JSON.stringify(r.targets.map((t) => t.error)));
    // Base64 then one plaintext retry (auth.ts), for the one shared session.
    assert.ok(routeCount(emu(), /^POST \/console\/api\/login$/) <= 2, `logins: ${routeCount(emu(), /login/)}`);
    assert.equal(routeCount(emu(), /imports/), 0);
  });

  it('the per-server limit caps targets in flight on one server', async () => {
    const p = tenantProject(emu(), { tenants: 8, auth: 'admin-key', rollout: 'rollout: {concurrency: 16, perServerConcurrency: 2}\n' });
    let active = 0;
    let peak = 0;
    const cfg = p.config();
    const lines: string[] = [];
    const progress = new Progress(8, (l) => lines.push(l));
    const origTarget = progress.target.bind(progress);
    progress.target = (label, status, detail) => {
      active--;
      origTarget(label, status, detail);
    };
    // Count targets started: the first request of each target is the app lookup (GET /apps?name=…).
    const c = getConsole(cfg.env!, { environ: p.environ });
    const send = c.transport.send.bind(c.transport);
    const started = new Set<string>();
    c.transport.send = async (req, where) => {
      if (where && !started.has(where) && req.method === 'GET' && req.path === '/console/api/apps') {
        started.add(where);
        active++;
        peak = Math.max(peak, active);
      }
      return send(req, where);
    };
    const r = await rollout(cfg, cfg.env!, { selected: allTenants(p), environ: p.environ, progress });
    assert.equal(r.status, 'success', JSON.stringify(r.failures));
    assert.equal(started.size, 8);
    assert.ok(peak <= 2, `at most 2 targets in flight on one server, saw ${peak}`);
    assert.equal(peak, 2, 'and the limit is used');
  });

  it('a 429 with Retry-After holds every request to that server, not only the one that got it', async () => {
    const p = tenantProject(emu(), { tenants: 6, auth: 'admin-key', rollout: 'rollout: {concurrency: 4}\n' });
    const cfg = p.config();
    // A clock the test moves: time passes only when the test says so, so nothing here depends on real timing.
    let now = 1_000_000;
    const sleepers: { until: number; requests: number; wake: () => void }[] = [];
    getConsole(cfg.env!, {
      environ: p.environ,
      transport: { now: () => now, random: () => 0, sleep: (ms) => new Promise<void>((wake) => sleepers.push({ until: now + ms, requests: emu().stats.requests, wake })) },
    });
    emu().setFaults([{ route: '/console/api/apps/imports', method: 'POST', status: 429, headers: { 'Retry-After': '5' }, body: { code: 'too_many_requests', message: 'slow down', status: 429 }, times: 1 }]);
    let done = 0;
    const running = rollout(cfg, cfg.env!, { selected: allTenants(p), environ: p.environ, progress: new Progress(6, (l) => void (l.startsWith('[') && done++)) });
    // Wait until every target in flight is parked (or, if the back-off were per request, the others finish).
    while (sleepers.length < 4 && done < 5) await new Promise((r) => setTimeout(r, 5));
    assert.equal(sleepers.length, 4, 'all four targets in flight wait, not only the one that got the 429');
    assert.equal(done, 0, 'no target got past the back-off');
    assert.deepEqual(new Set(sleepers.map((s) => s.until)), new Set([now + 5000]), 'every request waits for the same server-wide deadline (Retry-After: 5)');
    const parked = emu().stats.requests;
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    assert.equal(emu().stats.requests, parked, 'nothing is sent to the server while it is backing off');

    now += 5000;
    for (const s of sleepers.splice(0)) s.wake();
    const r = await running;
    assert.equal(r.status, 'success', JSON.stringify(r.failures));
    assert.equal(routeCount(emu(), /^POST \/console\/api\/apps\/imports$/), 6, 'the refused import went through on its retry, once');
    assert.equal(sleepers.length, 0, 'no further waits after the window');
  });

  it('shards are disjoint and complete over real targets', async () => {
    const p = tenantProject(emu(), { tenants: 7, auth: 'admin-key' });
    const seen: string[] = [];
    for (const i of [1, 2, 3]) {
      freshClients();
      const cfg = p.config();
      const { selected, mine, shard } = chooseTenants(cfg, { shard: `${i}/3` });
      const r = await rollout(cfg, cfg.env!, { selected, tenants: mine, shard, environ: p.environ, progress: new Progress(10, () => {}) });
      assert.equal(r.status, 'success');
      assert.ok(r.targets.every((t) => t.status === 'deployed'), 'nothing deployed twice: every target of a shard is new');
      seen.push(...r.targets.map((t) => t.target));
    }
    assert.equal(seen.length, 7);
    assert.deepEqual([...seen].sort(), [...p.workspaces.keys()].map((n) => `prod/${n}/support`).sort());
    for (const ws of p.workspaces.values()) assert.equal(publishedIn(emu(), ws).length, 1, 'each workspace deployed exactly once');
  });

  it('resume: a re-run after a --fail-fast stop deploys only what was not finished', async () => {
    const p = tenantProject(emu(), { tenants: 6, auth: 'admin-key', rollout: 'rollout: {concurrency: 1}\n', row: (i) => (i === 3 ? 'apps: {support: {appId: 00000000-0000-4000-8000-00000000dead}}' : '') });
    const first = await run(p, { failFast: true });
    assert.equal(first.status, 'failed');
    assert.deepEqual(first.targets.map((t) => t.status), ['deployed', 'deployed', 'deployed', 'failed', 'skipped', 'skipped']);
    assert.ok(first.stopped);
    assert.match(first.failures.find((f) => f.target === 't-04/support')!.reason, /fail-fast/);
    const imports = () => routeCount(emu(), /^POST \/console\/api\/apps\/imports$/);
    const publishes = () => routeCount(emu(), /^POST .*\/workflows\/publish$/);
    const [i0, p0] = [imports(), publishes()];

    // Fix the bad row and run again: the finished tenants are skipped by content hash.
    p.write('dify-ci.yml', p.config().source.text.replace(', apps: {support: {appId: 00000000-0000-4000-8000-00000000dead}}', ''));
    freshClients();
    const again = await run(p);
    assert.equal(again.status, 'success', JSON.stringify(again.failures));
    assert.deepEqual(again.targets.map((t) => t.status), ['unchanged', 'unchanged', 'unchanged', 'deployed', 'deployed', 'deployed']);
    assert.equal(imports() - i0, 3, 'imports only for the unfinished tenants');
    assert.equal(publishes() - p0, 3, 'publishes only for the unfinished tenants');
    freshClients();
    const third = await run(p);
    assert.ok(third.targets.every((t) => t.status === 'unchanged'));
    assert.equal(imports() - i0, 3, 'a finished rollout costs no import at all');
  });

  it('resume: a target interrupted between import and publish is deployed on the re-run', async () => {
    const p = tenantProject(emu(), { tenants: 3, auth: 'admin-key', rollout: 'rollout: {concurrency: 1}\n' });
    assert.equal((await run(p)).status, 'success');
    p.editPrompt('Answer in detail.');
    emu().setFaults([{ regex: '^/console/api/apps/[^/]+/workflows/publish$', method: 'POST', status: 400, body: { code: 'invalid_param', message: 'publish refused', status: 400 }, times: 1 }]);
    freshClients();
    const cut = await run(p, { failFast: true });
    assert.deepEqual(cut.targets.map((t) => t.status), ['failed', 'skipped', 'skipped']);
    emu().setFaults([]);
    freshClients();
    const again = await run(p);
    assert.equal(again.status, 'success', JSON.stringify(again.failures));
    assert.deepEqual(again.targets.map((t) => t.status), ['deployed', 'deployed', 'deployed']);
    for (const ws of p.workspaces.values()) assert.equal(publishedIn(emu(), ws).length, 2);
  });
});
