/** `dify-ci deploy|smoke|rollback` on a multi-tenant environment, in-process through main(argv, io), against the emulator (test/e2e/fanout runs the bundle). */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Emulator } from '../../runner/src/emulator/index.js';
import { useEmulator } from '../helpers/emulator.js';
import { runCli } from '../helpers/cli.js';
import { publishedIn, routeCount, tenantProject, type TenantProject } from './helpers.js';

describe('tenants: CLI against the emulator', function () {
  this.timeout(60_000);
  const current = useEmulator();
  let emu: Emulator;
  beforeEach(() => (emu = current()));

  const gold = (i: number) => ({ tier: i % 2 === 0 ? 'gold' : 'silver', region: i < 3 ? 'cn' : 'eu' });
  const cli = (p: TenantProject, args: string[], env: Record<string, string> = {}) => runCli(args, { cwd: p.dir, env: { ...(p.environ as Record<string, string>), ...env } });
  const result = (p: TenantProject, name = 'deploy') => JSON.parse(readFileSync(join(p.dir, `.dify-ci/results/${name}.json`), 'utf8'));

  it('deploy --tenants picks by label from a CSV tenant file; Jenkins-friendly progress; flat targets + waves', async () => {
    const p = tenantProject(emu, { tenants: 6, csv: true, labels: gold });
    const r = await cli(p, ['deploy', '--env', 'prod', '--tenants', 'tier=gold,region=cn']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stderr.includes('\r'), 'no carriage returns when stderr is not a TTY');
    const progress = r.stderr.split('\n').filter((l) => /^\[\d\/\d\] /.test(l));
    assert.deepEqual(progress.map((l) => l.replace(/ v[0-9a-f]{8}$/, ' v…')), ['[1/2] t-00/support deployed v…', '[2/2] t-02/support deployed v…']);
    assert.match(r.stdout, /all 2 target\(s\) ok/);
    const res = result(p);
    assert.equal(res.status, 'success');
    assert.deepEqual(
      res.data.targets.map((t: Record<string, unknown>) => [t.env, t.app, t.tenant, typeof t.appId, t.status, t.wave]),
      [['prod', 'support', 't-00', 'string', 'deployed', 1], ['prod', 'support', 't-02', 'string', 'deployed', 1]],
    );
    assert.equal(res.data.waves.length, 1);
    assert.equal(res.data.waves[0].status, 'not-gated');
    assert.equal(publishedIn(emu, p.workspaces.get('t-04')!).length, 0, 'gold but eu: not selected');
    assert.equal(publishedIn(emu, p.workspaces.get('t-01')!).length, 0, 'silver: not selected');
  });

  it('continues past a failed tenant, prints the failure table, exits 1; --fail-fast stops; usage errors exit 2', async () => {
    const p = tenantProject(emu, { tenants: 4, rollout: 'rollout: {concurrency: 1}\n' });
    emu.setFaults([{ regex: '^/console/api/apps/[^/]+/workflows/publish$', method: 'POST', status: 400, body: { code: 'invalid_param', message: 'publish refused', status: 400 }, times: 1 }]);
    const r = await cli(p, ['deploy', '--env', 'prod']);
    assert.equal(r.code, 1, r.stderr);
    const res = result(p);
    assert.deepEqual(res.data.targets.map((t: { status: string }) => t.status), ['failed', 'deployed', 'deployed', 'deployed']);
    assert.equal(res.summary, 'deploy to prod: 3 deployed, 0 unchanged, 1 failed of 4 target(s) in 4 tenant(s)');
    assert.match(r.stdout, /^TARGET\s+STATUS\s+REASON$/m);
    assert.match(r.stdout, /^t-00\/support\s+failed\s+.*HTTP 400 invalid_param: publish refused/m);
    assert.match(r.stderr, /targets that did not end well:\nTARGET/);

    emu.reset();
    const q = tenantProject(emu, { tenants: 4, rollout: 'rollout: {concurrency: 1}\n', row: (i) => (i === 1 ? 'apps: {support: {appId: 00000000-0000-4000-8000-00000000dead}}' : '') });
    // Parameters from Jenkins arrive in a file, like difyDeploy(failFast: true, …).
    const params = join(q.dir, 'params.json');
    writeFileSync(params, JSON.stringify({ env: 'prod', failFast: true, shard: '1/1' }));
    const ff = await cli(q, ['deploy'], { DIFY_CI_PARAMS_FILE: params });
    assert.equal(ff.code, 2, 'a config problem of one tenant is a config error (exit 2)');
    assert.deepEqual(result(q).data.targets.map((t: { status: string }) => t.status), ['deployed', 'failed', 'skipped', 'skipped']);
    assert.match(ff.stdout, /^t-02\/support\s+skipped\s+not started: --fail-fast/m);

    const typo = await cli(q, ['deploy', '--env', 'prod', '--tenant', 't-7']);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /unknown tenant 't-7'/);
    const badShard = await cli(q, ['deploy', '--env', 'prod', '--shard', '3/2']);
    assert.equal(badShard.code, 2);
    assert.match(badShard.stderr, /--shard 3\/2: i must be between 1 and n/);
  });

  it('shards from separate processes cover every tenant exactly once', async () => {
    const p = tenantProject(emu, { tenants: 5 });
    const seen: string[] = [];
    for (const s of ['1/2', '2/2']) {
      const r = await cli(p, ['deploy', '--env', 'prod', '--shard', s]);
      assert.equal(r.code, 0, r.stderr);
      seen.push(...result(p).data.targets.map((t: { tenant: string }) => t.tenant));
    }
    assert.deepEqual([...seen].sort(), ['t-00', 't-01', 't-02', 't-03', 't-04']);
    for (const ws of p.workspaces.values()) assert.equal(publishedIn(emu, ws).length, 1);
    assert.equal(routeCount(emu, /^POST \/console\/api\/login$/), 2, 'one login per process (shard)');
  });

  it('smoke and rollback fan out too', async () => {
    const p = tenantProject(emu, { tenants: 3, labels: gold });
    assert.equal((await cli(p, ['deploy', '--env', 'prod'])).code, 0);
    p.editPrompt('Answer in detail.');
    assert.equal((await cli(p, ['deploy', '--env', 'prod'])).code, 0);

    const s = await cli(p, ['smoke', '--env', 'prod', '--tenants', 'tier=gold']);
    assert.equal(s.code, 0, s.stderr);
    const sres = result(p, 'smoke');
    assert.deepEqual(sres.data.targets.map((t: { tenant: string; passed: boolean }) => [t.tenant, t.passed]), [['t-00', true], ['t-02', true]]);

    const rb = await cli(p, ['rollback', '--env', 'prod', '--tenant', 't-01']);
    assert.equal(rb.code, 0, rb.stderr);
    assert.match(rb.stderr, /\[1\/1\] t-01\/support rolled-back/);
    const v = publishedIn(emu, p.workspaces.get('t-01')!);
    assert.equal(v.length, 3);
    assert.equal(v[2]!.hash, v[0]!.hash);
    assert.equal(publishedIn(emu, p.workspaces.get('t-00')!).length, 2, 'other tenants untouched');
    const many = await cli(p, ['rollback', '--env', 'prod', '--to', v[0]!.id]);
    assert.equal(many.code, 2);
    assert.match(many.stderr, /needs a single target/);
  });
});
