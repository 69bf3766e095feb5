/**
 * Tenant fan-out against the emulator over real HTTP, what fanout.emulator.test.ts does not cover: per-tenant
 * `variables` in the DSL that Dify actually stores (read back through the console export), a tenant on its own
 * server (`url`), and the global `rollout.concurrency` cap measured on the server side (a counting proxy in front
 * of the emulator), on one server and over two.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { Emulator } from '../../runner/src/emulator/index.js';
import { loadTenants } from '../../runner/src/config/tenants.js';
import { Progress } from '../../runner/src/fanout/progress.js';
import { rollout } from '../../runner/src/fanout/rollout.js';
import type { RolloutReport } from '../../runner/src/results/rollout.js';
import { freshClients, PASSWORD_AUTH } from '../deploy/helpers.js';
import { useEmulator } from '../helpers/emulator.js';
import { ADMIN_KEY, adminKeyAuth, prodProject, publishedIn, routeCount, type ProdProject } from './helpers.js';

type Project = ProdProject;

/** A project whose `tenants:` block (YAML text, or `{file: …}`) and extra files the test writes itself. */
function project(
  url: string,
  tenants: string,
  opts: { auth?: 'admin-key' | 'password'; authWorkspace?: string; rollout?: string; envExtra?: string; files?: Record<string, string> } = {},
): Project {
  return prodProject({
    prefix: 'dify-ci-tenant-gaps-',
    files: opts.files,
    apps: '  support: {dsl: workflow.yml, tests: tests/support.yml}\n',
    url,
    auth: opts.auth === 'password' ? PASSWORD_AUTH : adminKeyAuth(opts.authWorkspace ?? '00000000-0000-4000-8000-000000000000'),
    envExtra: opts.envExtra,
    tail: `${tenants}\n${opts.rollout ?? ''}`,
  });
}

function run(p: Project, lines: string[] = []): Promise<RolloutReport> {
  freshClients();
  const cfg = p.config();
  return rollout(cfg, cfg.env!, { selected: loadTenants(cfg), environ: p.environ, progress: new Progress(100, (l) => lines.push(l)) });
}

/** The DSL the server holds for an app: the console export (draft, or a published version), parsed. */
async function exported(emu: Emulator, workspaceId: string, appId: string, workflowId?: string): Promise<{ text: string; doc: any }> {
  const q = new URLSearchParams({ include_secret: 'false', ...(workflowId ? { workflow_id: workflowId } : {}) });
  const res = await fetch(`${emu.url}/console/api/apps/${appId}/export?${q}`, { headers: { authorization: `Bearer ${ADMIN_KEY}`, 'x-workspace-id': workspaceId } });
  const body = await res.text();
  assert.equal(res.status, 200, `export of ${appId}: ${body}`);
  const text = JSON.parse(body).data as string;
  return { text, doc: parse(text) };
}

function envVar(doc: any, name: string): unknown {
  const v = (doc.workflow?.environment_variables ?? []).find((x: any) => x.name === name);
  assert.ok(v, `${name} is declared in the exported DSL`);
  return v.value;
}

/** Requests in flight, counted where they arrive: a proxy in front of one emulator; gauges can be shared. */
interface Gauge {
  active: number;
  peak: number;
  total: number;
}
const gauge = (): Gauge => ({ active: 0, peak: 0, total: 0 });

async function countingProxy(upstream: string, gauges: Gauge[]): Promise<{ url: string; close(): Promise<void> }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const target = new URL(upstream);
  const server = http.createServer((req, res) => {
    for (const g of gauges) {
      g.active++;
      g.total++;
      g.peak = Math.max(g.peak, g.active);
    }
    let done = false;
    const end = () => {
      if (done) return;
      done = true;
      for (const g of gauges) g.active--;
    };
    res.on('close', end);
    const up = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        agent.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('tenants: gaps — variables, own server, global concurrency (emulator)', function () {
  this.timeout(60_000);
  const emu = useEmulator({ adminApiKey: ADMIN_KEY });
  const other = useEmulator({ adminApiKey: ADMIN_KEY });

  describe('per-tenant variables reach the imported DSL', () => {
    it('inline tenants: each workspace holds its own tenant’s values, never another’s; a tenant without variables gets the environment’s', async () => {
      const ws = ['acme', 'globex', 'plain'].map((n) => emu().createWorkspace(`ws-${n}`).id);
      const p = project(
        emu().url,
        `tenants:
  - {name: acme, workspaceId: ${ws[0]}, variables: {API_BASE: 'https://acme.example', MAX_ITEMS: 11}}
  - {name: globex, workspaceId: ${ws[1]}, variables: {API_BASE: 'https://globex.example'}}
  - {name: plain, workspaceId: ${ws[2]}}
`,
      );
      const r = await run(p);
      assert.equal(r.status, 'success', JSON.stringify(r.failures));
      const byTenant = new Map(r.targets.map((t) => [t.tenant, t]));
      const expect = {
        acme: { API_BASE: 'https://acme.example', MAX_ITEMS: 11 },
        globex: { API_BASE: 'https://globex.example', MAX_ITEMS: 5 },
        plain: { API_BASE: 'https://prod.invalid', MAX_ITEMS: 5 },
      } as const;
      for (const [i, name] of (['acme', 'globex', 'plain'] as const).entries()) {
        const t = byTenant.get(name)!;
        assert.equal(t.status, 'deployed');
        assert.ok(t.appId && t.versionId, `${name}: app and version ids`);
        const app = emu().state.apps.find((a) => a.id === t.appId)!;
        assert.equal(app.workspaceId, ws[i], `${name}'s app lives in ${name}'s workspace`);
        // The published version is what the service API runs; the draft is what the import wrote.
        for (const which of [t.versionId!, undefined]) {
          const { text, doc } = await exported(emu(), ws[i]!, t.appId!, which);
          assert.equal(envVar(doc, 'API_BASE'), expect[name].API_BASE, `${name} (${which ? 'published' : 'draft'})`);
          assert.equal(envVar(doc, 'MAX_ITEMS'), expect[name].MAX_ITEMS, `${name}: MAX_ITEMS stays a number`);
          for (const o of ['acme', 'globex'] as const) {
            if (o !== name) assert.ok(!text.includes(`https://${o}.example`), `${name}'s DSL does not hold ${o}'s value`);
          }
          if (name !== 'plain') assert.ok(!text.includes('https://prod.invalid'), `${name}: the tenant value replaces the environment's`);
          assert.ok(!text.includes('https://example.invalid'), `${name}: the DSL's own default is replaced`);
        }
      }
      const hashes = new Set(r.targets.map((t) => t.contentHash));
      assert.equal(hashes.size, 3, 'different variables, different content hashes (so a changed variable redeploys)');
    });

    it('CSV tenants: variables.<NAME> columns, a number where the DSL declares one; changing one tenant’s value redeploys only that tenant', async () => {
      const ws = ['a', 'b'].map((n) => emu().createWorkspace(`ws-${n}`).id);
      const csv = (bMax: string) => `name,workspaceId,variables.API_BASE,variables.MAX_ITEMS\nt-a,${ws[0]},https://a.example,7\nt-b,${ws[1]},https://b.example,${bMax}\n`;
      const p = project(emu().url, 'tenants: {file: tenants.csv}', { files: { 'tenants.csv': csv('8') } });
      const r = await run(p);
      assert.equal(r.status, 'success', JSON.stringify(r.failures));
      const [a, b] = [r.targets.find((t) => t.tenant === 't-a')!, r.targets.find((t) => t.tenant === 't-b')!];
      const da = (await exported(emu(), ws[0]!, a.appId!, a.versionId!)).doc;
      const db = (await exported(emu(), ws[1]!, b.appId!, b.versionId!)).doc;
      assert.equal(envVar(da, 'API_BASE'), 'https://a.example');
      assert.equal(envVar(db, 'API_BASE'), 'https://b.example');
      assert.strictEqual(envVar(da, 'MAX_ITEMS'), 7, 'a CSV cell becomes a number for a number variable');
      assert.strictEqual(envVar(db, 'MAX_ITEMS'), 8);

      writeFileSync(join(p.dir, 'tenants.csv'), csv('9'));
      const again = await run(p);
      assert.equal(again.status, 'success', JSON.stringify(again.failures));
      assert.deepEqual(
        Object.fromEntries(again.targets.map((t) => [t.tenant, t.status])),
        { 't-a': 'unchanged', 't-b': 'deployed' },
        'only the tenant whose variable changed is deployed again',
      );
      const b2 = again.targets.find((t) => t.tenant === 't-b')!;
      assert.strictEqual(envVar((await exported(emu(), ws[1]!, b2.appId!, b2.versionId!)).doc, 'MAX_ITEMS'), 9);
      assert.equal(publishedIn(emu(), ws[0]!).length, 1);
      assert.equal(publishedIn(emu(), ws[1]!).length, 2);
    });
  });

  describe('a tenant with its own url', () => {
    for (const auth of ['admin-key', 'password'] as const) {
      it(`${auth}: its app is deployed on its own server and not on the environment's; smoke runs against <url>/v1`, async () => {
        const home = [emu().createWorkspace('ws-home-1').id, emu().createWorkspace('ws-home-2').id];
        const away = other().createWorkspace('ws-away').id;
        const p = project(
          emu().url,
          `tenants:
  - {name: home-1, workspaceId: ${home[0]}, canary: true}
  - {name: away, url: ${other().url}, workspaceId: ${away}}
  - {name: home-2, workspaceId: ${home[1]}}
`,
          // Two waves: the first wave's gate smoke-tests the canary; the second wave's gate is the last.
          { auth, rollout: "rollout: {waves: ['1', '100%'], gate: {smoke: true}}" },
        );
        const r = await run(p);
        assert.equal(r.status, 'success', JSON.stringify(r.failures));
        assert.ok(r.targets.every((t) => t.status === 'deployed'), JSON.stringify(r.targets.map((t) => [t.tenant, t.status, t.error])));

        const awayT = r.targets.find((t) => t.tenant === 'away')!;
        const onOther = other().state.apps.filter((a) => a.name === 'support-flow');
        assert.deepEqual(onOther.map((a) => [a.id, a.workspaceId]), [[awayT.appId, away]], 'the away tenant’s app is on its own server, in its workspace');
        assert.equal(publishedIn(other(), away).length, 1);
        const onHome = emu().state.apps.filter((a) => a.name === 'support-flow');
        assert.deepEqual(onHome.map((a) => a.workspaceId).sort(), [...home].sort(), 'the environment’s server has the home tenants’ apps only');
        assert.ok(!onHome.some((a) => a.id === awayT.appId));
        assert.equal(routeCount(emu(), /^POST \/console\/api\/apps\/imports$/), 2, 'two imports on the environment’s server');
        assert.equal(routeCount(other(), /^POST \/console\/api\/apps\/imports$/), 1, 'one import on the tenant’s server');
        if (auth === 'password') {
          assert.equal(emu().stats.logins, 1, 'one login on the environment’s server');
          assert.equal(other().stats.logins, 1, 'and one on the tenant’s own server (a session per server)');
        }
        // Smoke: the service API of each tenant's own server.
        assert.equal(routeCount(other(), /^POST \/v1\/workflows\/run$/), 1, 'the away tenant is smoke-tested on its own server');
        assert.equal(routeCount(emu(), /^POST \/v1\/workflows\/run$/), 2, 'the home tenants on the environment’s server');
        assert.ok(r.targets.every((t) => t.smoke?.passed === true), JSON.stringify(r.targets.map((t) => t.smoke)));
      });
    }
  });

  describe('a tenant without a workspaceId (password auth: the account’s current workspace)', () => {
    it('on its own server it deploys into the account’s workspace there', async () => {
      const home = emu().createWorkspace('ws-home').id;
      const p = project(emu().url, `tenants:\n  - {name: home, workspaceId: ${home}}\n  - {name: away, url: ${other().url}}\n`, { auth: 'password' });
      const r = await run(p);
      assert.equal(r.status, 'success', JSON.stringify(r.failures));
      assert.deepEqual(other().state.apps.map((a) => [a.name, a.workspaceId]), [['support-flow', other().workspaceId]]);
      assert.deepEqual(emu().state.apps.map((a) => [a.name, a.workspaceId]), [['support-flow', home]]);
    });

    it('sharing a login with tenants in other workspaces is refused before any request (it would land in the last switched-to workspace and overwrite that tenant’s app)', async () => {
      const ws = emu().createWorkspace('ws-a').id;
      const p = project(emu().url, `tenants:\n  - {name: t-a, workspaceId: ${ws}}\n  - {name: t-none, variables: {API_BASE: 'https://none.example'}}\n`, { auth: 'password' });
      await assert.rejects(run(p), (e: Error & { category?: string }) => {
        assert.equal(e.category, 'config');
        assert.match(e.message, /tenant 't-none' has no workspaceId, but its login also serves tenant\(s\) in other() workspaces \(t-a\)/);
        return true;
      });
      assert.equal(routeCount(emu(), /imports/), 0, 'nothing was imported');
      assert.equal(emu().state.apps.length, 0);
    });
  });

  describe('rollout.concurrency caps what the server sees', () => {
    const SLOW = [{ regex: '^/console/api/', delayMs: 15 }];

    for (const k of [1, 3]) {
      it(`one server, 8 tenants, concurrency ${k}: never more than ${k} request(s) in flight at the server${k > 1 ? ', and more than one' : ''}`, async () => {
        const g = gauge();
        const proxy = await countingProxy(emu().url, [g]);
        try {
          emu().setFaults(SLOW);
          const rows = Array.from({ length: 8 }, (_, i) => `  - {name: t-${i}, workspaceId: ${emu().createWorkspace(`ws-${i}`).id}}`);
          // perServerConcurrency and the per-server request limit are well above k: only rollout.concurrency limits.
          const p = project(proxy.url, `tenants:\n${rows.join('\n')}\n`, { rollout: `rollout: {concurrency: ${k}, perServerConcurrency: 16}`, envExtra: '    concurrency: 32' });
          const r = await run(p);
          assert.equal(r.status, 'success', JSON.stringify(r.failures));
          assert.equal(r.counts.deployed, 8);
          assert.ok(g.total >= 8 * 3, `the requests went through the proxy (${g.total})`);
          assert.ok(g.peak <= k, `at most ${k} request(s) in flight at the server, saw ${g.peak}`);
          if (k > 1) assert.ok(g.peak > 1, `targets run in parallel: peak ${g.peak}`);
          assert.equal(g.active, 0);
        } finally {
          await proxy.close();
        }
      });
    }

    it('environments.<env>.concurrency: 2 caps requests in flight at the server below rollout.concurrency: 8, for all tenants together', async () => {
      const g = gauge();
      const proxy = await countingProxy(emu().url, [g]);
      try {
        emu().setFaults(SLOW);
        const rows = Array.from({ length: 8 }, (_, i) => `  - {name: t-${i}, workspaceId: ${emu().createWorkspace(`ws-${i}`).id}}`);
        const p = project(proxy.url, `tenants:\n${rows.join('\n')}\n`, { rollout: 'rollout: {concurrency: 8, perServerConcurrency: 8}', envExtra: '    concurrency: 2' });
        const r = await run(p);
        assert.equal(r.status, 'success', JSON.stringify(r.failures));
        assert.equal(r.counts.deployed, 8);
        assert.ok(g.peak <= 2, `at most 2 requests in flight at the server, saw ${g.peak}`);
        assert.equal(g.peak, 2, 'and the limit is used');
      } finally {
        await proxy.close();
      }
    });

    it('two servers, 8 tenants, concurrency 3: the cap is global — at most 3 requests in flight over both servers, and both are used at once', async () => {
      const total = gauge();
      const [ga, gb] = [gauge(), gauge()];
      const pa = await countingProxy(emu().url, [total, ga]);
      const pb = await countingProxy(other().url, [total, gb]);
      // Both servers busy at the same moment.
      let overlap = 0;
      const tick = setInterval(() => {
        if (ga.active > 0 && gb.active > 0) overlap++;
      }, 1);
      try {
        emu().setFaults(SLOW);
        other().setFaults(SLOW);
        const rows = Array.from({ length: 8 }, (_, i) =>
          i % 2 === 0 ? `  - {name: t-${i}, workspaceId: ${emu().createWorkspace(`ws-${i}`).id}}` : `  - {name: t-${i}, url: ${pb.url}, workspaceId: ${other().createWorkspace(`ws-${i}`).id}}`,
        );
        const p = project(pa.url, `tenants:\n${rows.join('\n')}\n`, { rollout: 'rollout: {concurrency: 3, perServerConcurrency: 3}', envExtra: '    concurrency: 32' });
        const r = await run(p);
        assert.equal(r.status, 'success', JSON.stringify(r.failures));
        assert.equal(r.counts.deployed, 8);
        assert.equal(other().state.apps.filter((a) => a.name === 'support-flow').length, 4);
        assert.equal(emu().state.apps.filter((a) => a.name === 'support-flow').length, 4);
        assert.ok(total.peak <= 3, `at most 3 requests in flight over both servers, saw ${total.peak}`);
        assert.ok(total.peak > 1, `peak ${total.peak}`);
        assert.ok(overlap > 0, 'the two servers were worked on at the same time');
      } finally {
        clearInterval(tick);
        await pa.close();
        await pb.close();
      }
    });
  });
});
