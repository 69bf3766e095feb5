/** Gray release against the emulator: waves, the smoke gate, and the rollback of a failed wave. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { rollout } from '../../runner/src/fanout/rollout.js';
import type { RolloutReport } from '../../runner/src/results/rollout.js';
import { Progress } from '../../runner/src/fanout/progress.js';
import { freshClients } from '../deploy/helpers.js';
import { useEmulator } from '../helpers/emulator.js';
import { allTenants, publishedIn, routeCount, tenantProject, type TenantProject } from './helpers.js';

const WAVES = `rollout:
  waves: ['1', '50%', '100%']
  gate: {smoke: true, maxFailedTargets: 0, minPassRate: 1.0}
`;

describe('tenants: waves against the emulator', () => {
  const emu = useEmulator();

  const run = (p: TenantProject, lines: string[] = []): Promise<RolloutReport> => {
    freshClients();
    const cfg = p.config();
    return rollout(cfg, cfg.env!, { selected: allTenants(p), environ: p.environ, progress: new Progress(100, (l) => lines.push(l)) });
  };

  /** v1 everywhere through three passing waves; returns the wave members. */
  async function firstRollout(p: TenantProject): Promise<string[][]> {
    const r = await run(p);
    assert.equal(r.status, 'success', JSON.stringify(r.failures));
    assert.deepEqual(r.waves.map((w) => w.status), ['passed', 'passed', 'passed']);
    assert.ok(r.waves.every((w) => w.gate?.passRate === 1 && w.gate.failedTargets === 0));
    return r.waves.map((w) => w.tenants);
  }

  it('deploys wave by wave, canary first; a failing smoke gate stops the rollout and rolls that wave back', async () => {
    const p = tenantProject(emu(), { tenants: 6, rollout: WAVES, row: (i) => (i === 4 ? 'canary: true' : '') });
    const members = await firstRollout(p);
    assert.deepEqual(members[0], ['t-04'], 'the canary is wave 1');
    assert.deepEqual(members.map((m) => m.length), [1, 2, 3], '1, then up to 50 %, then the rest');
    assert.equal(emu().stats.logins, 1, 'one session for all workspaces (switched per tenant)');

    // v2; the model fails in one workspace of wave 2 only.
    p.editPrompt('Answer in detail.');
    const bad = members[1]![1]!;
    emu().setScript([{ workspace: p.workspaces.get(bad)!, nodeFailure: 'LLM' }]);
    const lines: string[] = [];
    const r = await run(p, lines);

    assert.equal(r.status, 'failed');
    assert.deepEqual(r.waves.map((w) => w.status), ['passed', 'failed', 'skipped']);
    const gate = r.waves[1]!.gate!;
    assert.equal(gate.passed, false);
    assert.equal(gate.failedTargets, 1);
    assert.equal(gate.passRate, 0.5);
    assert.match(gate.reasons.join(' '), /1 failed target\(s\) \(at most 0 allowed\)/);
    assert.deepEqual(r.waves[1]!.rollback, { rolledBack: 2, failed: 0, notPossible: 0 });

    const byTenant = new Map(r.targets.map((t) => [t.tenant, t]));
    assert.equal(byTenant.get('t-04')!.status, 'deployed');
    for (const t of members[1]!) {
      const x = byTenant.get(t)!;
      assert.equal(x.status, 'rolled-back', t);
      assert.match(x.error!, /wave 2 failed its gate .*; rolled back/);
      assert.equal(x.rollback?.status, 'rolled-back');
    }
    assert.equal(byTenant.get(bad)!.smoke?.passed, false);
    assert.match(byTenant.get(bad)!.smoke!.firstFailure!, /answers/);
    for (const t of members[2]!) assert.equal(byTenant.get(t)!.status, 'skipped', t);
    assert.equal(r.counts.skipped, 3);

    // What Dify serves now: the canary runs v2, wave 2 is back on v1's content, wave 3 never saw v2.
    const canary = publishedIn(emu(), p.workspaces.get('t-04')!);
    assert.equal(canary.length, 2);
    assert.notEqual(canary[1]!.hash, canary[0]!.hash);
    for (const t of members[1]!) {
      const v = publishedIn(emu(), p.workspaces.get(t)!);
      assert.equal(v.length, 3, `${t}: v1, v2, rollback`);
      assert.equal(v[2]!.hash, v[0]!.hash, `${t} serves v1 again`);
      assert.match(v[2]!.markedName, /^rollback-/);
    }
    for (const t of members[2]!) assert.equal(publishedIn(emu(), p.workspaces.get(t)!).length, 1, `${t} untouched`);

    // Reports and lines a pipeline shows.
    const junit = r.waves[1]!.smokeReports.junit!;
    assert.ok(existsSync(junit));
    assert.match(readFileSync(junit, 'utf8'), new RegExp(`${bad}/support`));
    assert.ok(lines.some((l) => /^wave 2\/3 \(50%\): 2 tenant\(s\), 2 target\(s\)$/.test(l)));
    assert.ok(lines.some((l) => new RegExp(`^\\[\\s*\\d+/100\\] ${members[2]![0]}/support skipped — not started: wave 2 failed its gate`).test(l)));
    assert.ok(lines.every((l) => !l.includes('\r')));
    const fails = new Map(r.failures.map((f) => [f.target, f]));
    assert.equal(fails.size, 5, 'wave 2 (rolled back) and wave 3 (skipped) are in the table');
    assert.equal(fails.get(`${bad}/support`)!.status, 'rolled-back');
  });

  it('rollbackOnFailure: false leaves the failed wave as deployed', async () => {
    const p = tenantProject(emu(), { tenants: 3, rollout: WAVES + '  rollbackOnFailure: false\n' });
    const members = await firstRollout(p);
    p.editPrompt('Answer in detail.');
    emu().setScript([{ workspace: p.workspaces.get(members[1]![0]!)!, nodeFailure: 'LLM' }]);
    const r = await run(p);
    assert.deepEqual(r.waves.map((w) => w.status), ['passed', 'failed', 'skipped']);
    assert.equal(r.waves[1]!.rollback, null);
    const x = r.targets.find((t) => t.tenant === members[1]![0])!;
    assert.equal(x.status, 'deployed');
    assert.match(x.error!, /wave 2 failed its gate/);
    assert.equal(publishedIn(emu(), p.workspaces.get(members[1]![0]!)!).length, 2, 'no rollback version');
  });

  it('the gate tolerates what maxFailedTargets and minPassRate allow', async () => {
    const p = tenantProject(emu(), { tenants: 4, rollout: `rollout:\n  waves: ['50%', '100%']\n  gate: {smoke: true, maxFailedTargets: 1, minPassRate: 0.5}\n` });
    const cfg = p.config();
    const waves = (await import('../../runner/src/selection/waves.js')).planWaves(allTenants(p), cfg.rollout.waves);
    emu().setScript([{ workspace: p.workspaces.get(waves[0]!.members[0]!.name)!, nodeFailure: 'LLM' }]);
    const r = await run(p);
    assert.deepEqual(r.waves.map((w) => w.status), ['passed', 'passed']);
    assert.equal(r.waves[0]!.gate!.failedTargets, 1);
    assert.equal(r.waves[0]!.gate!.passRate, 0.5);
    assert.equal(r.counts.deployed, 4);
    assert.equal(routeCount(emu(), /^POST \/v1\/workflows\/run$/), 4, 'every target was smoked once');
  });

  it('a single wave (the default) is not gated: no smoke, nothing rolled back', async () => {
    const p = tenantProject(emu(), { tenants: 2 });
    emu().setScript([{ nodeFailure: 'LLM' }]);
    const r = await run(p);
    assert.equal(r.status, 'success');
    assert.equal(r.gated, false);
    assert.deepEqual(r.waves.map((w) => [w.status, w.gate]), [['not-gated', null]]);
    assert.equal(routeCount(emu(), /^POST \/v1\//), 0);
  });
});
