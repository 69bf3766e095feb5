/**
 * `deploy --wave K [--shard i/n]` and `smoke --wave K` (the gate), as child processes against the emulator: what a
 * sharded difyPipeline runs, wave by wave, so the waves hold environment-wide.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Emulator } from '../../runner/src/emulator/index.js';
import { useEmulator } from '../helpers/emulator.js';
import { runCli } from '../helpers/cli.js';
import { publishedIn, routeCount, tenantName, tenantProject, type TenantProject } from './helpers.js';

const WAVES = `rollout:
  waves: ['1', '50%', '100%']
  gate: {smoke: true, maxFailedTargets: 0, minPassRate: 1.0}
`;
const canary = (i: number) => (i === 4 ? 'canary: true' : '');

describe('tenants: waves across shards (deploy --wave, smoke --wave) against the emulator', function () {
  this.timeout(120_000);
  const current = useEmulator();
  let emu: Emulator;
  beforeEach(() => (emu = current()));

  const cli = (p: TenantProject, args: string[]) => runCli(args, { cwd: p.dir, env: p.environ as Record<string, string> });
  const read = (p: TenantProject, file: string) => JSON.parse(readFileSync(join(p.dir, file), 'utf8'));
  const tenantsOf = (res: { data: { targets: { tenant: string; status: string }[] } }) => res.data.targets.map((t) => t.tenant);
  const smokeRuns = () => routeCount(emu, /^POST \/v1\/workflows\/run$/);

  /** The unsharded gray release's wave membership (the rollout inside one `deploy`), from a project of its own. */
  async function unshardedMembers(): Promise<string[][]> {
    const q = tenantProject(emu, { tenants: 6, rollout: WAVES, row: canary });
    const r = await cli(q, ['deploy', '--env', 'prod']);
    assert.equal(r.code, 0, r.stderr);
    const res = read(q, '.dify-ci/results/deploy.json');
    assert.deepEqual(res.data.waves.map((w: { status: string }) => w.status), ['passed', 'passed', 'passed']);
    return res.data.waves.map((w: { tenants: string[] }) => w.tenants);
  }

  it('each wave deploys exactly the tenants it adds, over both shards, with no gate inside; membership is the unsharded rollout\'s', async () => {
    const expected = await unshardedMembers();
    assert.deepEqual(expected[0], ['t-04'], 'the canary is wave 1');
    assert.deepEqual(expected.map((m) => m.length), [1, 2, 3]);

    emu.reset();
    const p = tenantProject(emu, { tenants: 6, rollout: WAVES, row: canary });
    const ctx = await cli(p, ['context', '--json']);
    assert.equal(ctx.code, 0, ctx.stderr);
    assert.equal(JSON.parse(ctx.stdout).data.environmentDetails.prod.waves, 3);

    const deployedSoFar = new Set<string>();
    for (let k = 1; k <= 3; k++) {
      const union: string[] = [];
      for (const s of ['1/2', '2/2']) {
        const file = `.dify-ci/results/deploy-w${k}-${s.replace('/', '_')}.json`;
        const r = await cli(p, ['deploy', '--env', 'prod', '--wave', String(k), '--shard', s, '--result-file', file]);
        assert.equal(r.code, 0, r.stderr);
        const res = read(p, file);
        assert.deepEqual(res.data.wave, { index: k, of: 3, spec: ['1', '50%', '100%'][k - 1] });
        assert.ok(res.data.targets.every((t: { status: string; wave: number }) => t.status === 'deployed' && t.wave === k));
        if (res.data.waves.length) {
          assert.equal(res.data.waves.length, 1, 'only this wave');
          assert.equal(res.data.waves[0].gate, null, 'no gate inside');
          assert.ok(['not-gated', 'empty'].includes(res.data.waves[0].status));
        }
        assert.match(res.summary, new RegExp(`^deploy to prod wave ${k}/3 `));
        union.push(...tenantsOf(res));
      }
      assert.deepEqual([...union].sort(), [...expected[k - 1]!].sort(), `wave ${k}: the shards' union is the wave`);
      assert.equal(new Set(union).size, union.length, 'no tenant on two shards');
      for (const t of union) deployedSoFar.add(t);
      for (let i = 0; i < 6; i++) {
        const n = tenantName(i);
        assert.equal(publishedIn(emu, p.workspaces.get(n)!).length, deployedSoFar.has(n) ? 1 : 0, `after wave ${k}: ${n}`);
      }
    }
    assert.equal(smokeRuns(), 0, 'deploy --wave never smokes (the pipeline gates)');

    // Unsharded: the same wave, from one process.
    p.editPrompt('Answer in detail.');
    const one = await cli(p, ['deploy', '--env', 'prod', '--wave', '2']);
    assert.equal(one.code, 0, one.stderr);
    const res = read(p, '.dify-ci/results/deploy.json');
    assert.deepEqual(tenantsOf(res).sort(), [...expected[1]!].sort());
    for (const t of expected[0]!.concat(expected[2]!)) assert.equal(publishedIn(emu, p.workspaces.get(t)!).length, 1, `${t} not in wave 2: untouched`);
    for (const t of expected[1]!) assert.equal(publishedIn(emu, p.workspaces.get(t)!).length, 2, `${t}: v2`);
    assert.equal(smokeRuns(), 0);
  });

  it('smoke --wave K smokes wave K\'s tenants only and applies rollout.gate: exit 1 when a tenant fails', async () => {
    const p = tenantProject(emu, { tenants: 6, rollout: WAVES, row: canary });
    assert.equal((await cli(p, ['deploy', '--env', 'prod'])).code, 0);
    const members: string[][] = read(p, '.dify-ci/results/deploy.json').data.waves.map((w: { tenants: string[] }) => w.tenants);
    const before = smokeRuns();

    const ok = await cli(p, ['smoke', '--env', 'prod', '--wave', '2']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(smokeRuns() - before, 2, 'the two tenants wave 2 adds, once each');
    let res = read(p, '.dify-ci/results/smoke.json');
    assert.equal(res.status, 'success');
    assert.deepEqual(res.data.wave, { index: 2, of: 3, spec: '50%' });
    assert.deepEqual([...res.data.tenants].sort(), [...members[1]!].sort());
    assert.equal(res.data.gate.passed, true);
    assert.equal(res.data.gate.passRate, 1);

    const bad = members[1]![0]!;
    emu.setScript([{ workspace: p.workspaces.get(bad)!, nodeFailure: 'LLM' }]);
    const failed = await cli(p, ['smoke', '--env', 'prod', '--wave', '2']);
    assert.equal(failed.code, 1, failed.stderr);
    res = read(p, '.dify-ci/results/smoke.json');
    assert.equal(res.status, 'failed');
    assert.equal(res.data.gate.passed, false);
    assert.equal(res.data.gate.failedTargets, 1);
    assert.equal(res.data.gate.passRate, 0.5);
    assert.match(res.summary, /^gate of prod wave 2\/3 \(50%\): FAILED, 1 failed of 2 target\(s\)/);
    assert.match(res.summary, /1 failed target\(s\) \(at most 0 allowed\)/);
    assert.match(failed.stdout, new RegExp(`^${bad}/support\\s+failed`, 'm'));
    const junit = res.artifacts.find((a: { kind: string }) => a.kind === 'junit');
    assert.ok(junit && existsSync(join(p.dir, junit.path)), 'the gate\'s JUnit report is an artifact');
    assert.match(readFileSync(join(p.dir, junit.path), 'utf8'), new RegExp(`${bad}/support`));

    // The same failing tenant does not touch another wave's gate.
    const w3 = await cli(p, ['smoke', '--env', 'prod', '--wave', '3']);
    assert.equal(w3.code, 0, w3.stderr);

    // What the gate tolerates is rollout.gate's.
    p.write('dify-ci.yml', readFileSync(join(p.dir, 'dify-ci.yml'), 'utf8').replace('maxFailedTargets: 0, minPassRate: 1.0', 'maxFailedTargets: 1, minPassRate: 0.5'));
    const tolerated = await cli(p, ['smoke', '--env', 'prod', '--wave', '2']);
    assert.equal(tolerated.code, 0, tolerated.stderr);
    assert.equal(read(p, '.dify-ci/results/smoke.json').data.gate.failedTargets, 1);
  });

  it('usage errors exit 2: out-of-range or malformed waves, --wave without waves, smoke --wave with --shard', async () => {
    const p = tenantProject(emu, { tenants: 3, rollout: WAVES });
    const cases: [string[], RegExp][] = [
      [['deploy', '--env', 'prod', '--wave', '4'], /--wave 4: prod has 3 wave\(s\) over the 3 selected tenant\(s\)/],
      [['deploy', '--env', 'prod', '--wave', '4', '--shard', '2/2'], /--wave 4: prod has 3 wave\(s\)/],
      [['deploy', '--env', 'prod', '--wave', '0'], /--wave must be a wave number \(1, 2, \.\.\.\), got '0'/],
      [['smoke', '--env', 'prod', '--wave', 'two'], /--wave must be a wave number/],
      [['smoke', '--env', 'prod', '--wave', '9'], /--wave 9: prod has 3 wave\(s\)/],
      [['smoke', '--env', 'prod', '--wave', '1', '--shard', '1/2'], /smoke --wave gates the whole wave .*drop --shard/],
    ];
    for (const [args, re] of cases) {
      const r = await cli(p, args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re, args.join(' '));
    }
    const plain = tenantProject(emu, { tenants: 2 });
    for (const cmd of ['deploy', 'smoke']) {
      const r = await cli(plain, [cmd, '--env', 'prod', '--wave', '1']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /--wave needs a gray release: prod has rollout.waves \[100%\]/);
    }
    const ctx = await cli(plain, ['context', '--json']);
    assert.equal(JSON.parse(ctx.stdout).data.environmentDetails.prod.waves, 0, 'no gray release: no waves for the pipeline');
    const noFanOut = tenantProject(emu, { tenants: 2, rollout: WAVES, envExtra: '    tenants: false' });
    const r = await cli(noFanOut, ['deploy', '--env', 'prod', '--wave', '1']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--wave needs an environment that fans out over tenants/);
    assert.equal(JSON.parse((await cli(noFanOut, ['context', '--json'])).stdout).data.environmentDetails.prod.waves, 0);
    assert.equal(routeCount(emu, /^POST \/console\/api\/apps\/imports$/), 0, 'nothing was deployed');
  });
});
