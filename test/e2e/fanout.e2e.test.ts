/**
 * A tenant fan-out as Jenkins runs it: the runner (the bundle, see DIFY_CI_TEST_RUNNER) as its own process deploys
 * one app to every tenant's workspace in waves, canary first, each wave gated by its smoke tests, then smokes all.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useEmulator } from '../helpers/emulator.js';
import { runRunner } from '../helpers/cli.js';
import { publishedIn, routeCount, tenantProject } from '../tenants/helpers.js';

const WAVES = `rollout:
  waves: ['1', '100%']
  gate: {smoke: true, maxFailedTargets: 0, minPassRate: 1.0}
`;

describe('end to end: a tenant fan-out', function () {
  this.timeout(120_000);
  const emu = useEmulator();

  it('deploys wave by wave, canary first, with the smoke gate, then smokes every tenant', async () => {
    const p = tenantProject(emu(), { tenants: 4, rollout: WAVES, row: (i) => (i === 2 ? 'canary: true' : '') });
    const env = p.environ as Record<string, string>;
    const d = await runRunner(['deploy', '--env', 'prod'], { cwd: p.dir, env });
    assert.equal(d.code, 0, d.stderr);
    const res = JSON.parse(readFileSync(join(p.dir, '.dify-ci/results/deploy.json'), 'utf8'));
    assert.deepEqual(res.data.waves.map((w: { tenants: string[]; status: string }) => [w.tenants.length, w.status]), [[1, 'passed'], [3, 'passed']]);
    assert.deepEqual(res.data.waves[0].tenants, ['t-02'], 'the canary goes first');
    for (const ws of p.workspaces.values()) assert.equal(publishedIn(emu(), ws).length, 1);
    assert.equal(routeCount(emu(), /^POST \/console\/api\/login$/), 1, 'one login for every tenant');

    const s = await runRunner(['smoke', '--env', 'prod'], { cwd: p.dir, env });
    assert.equal(s.code, 0, s.stderr);
    const smoke = JSON.parse(readFileSync(join(p.dir, '.dify-ci/results/smoke.json'), 'utf8'));
    assert.deepEqual(smoke.data.targets.map((t: { tenant: string; passed: boolean }) => [t.tenant, t.passed]), [['t-00', true], ['t-01', true], ['t-02', true], ['t-03', true]]);
  });
});
