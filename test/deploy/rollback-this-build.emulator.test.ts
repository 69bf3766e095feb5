/**
 * `rollback --this-build` against the emulator over loopback HTTP: only what this Jenkins build (BUILD_URL)
 * deployed goes back, each target to what was live before the build's first deploy of it; targets where a newer
 * deploy is live are skipped; deploys of other agents arrive as result files in --results. Builds are told apart
 * by BUILD_URL, agents by separate project directories (own history, backups and results) on one emulator.
 */
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getConsole, type ConsoleClient } from '../../runner/src/dify/console.js';
import { exportDsl } from '../../runner/src/dify/export.js';
import { importDsl } from '../../runner/src/dify/imports.js';
import { getPublished, listAllVersions, publish } from '../../runner/src/dify/workflows.js';
import { deployTargets } from '../../runner/src/deploy/deploy.js';
import type { DeployTargetResult } from '../../runner/src/results/deploy.js';
import { readHistory } from '../../runner/src/deploy/history.js';
import { contentHash } from '../../runner/src/deploy/normalise.js';
import { parseDsl } from '../../runner/src/deploy/render.js';
import { rollbackTargets } from '../../runner/src/deploy/rollback.js';
import { runCli } from '../helpers/cli.js';
import { useEmulator } from '../helpers/emulator.js';
import { publishedIn, tenantProject, type TenantProject } from '../tenants/helpers.js';
import { assertNoCanary, CANARY, FIX, freshClients, type Project, useEmulatorProject } from './helpers.js';

const A = 'https://jenkins.invalid/job/app/41/';
const B = 'https://jenkins.invalid/job/app/42/';
const C = 'https://jenkins.invalid/job/app/43/';

describe('rollback --this-build against the emulator', function () {
  this.timeout(60_000);
  const ctx = useEmulatorProject();

  const as = (build: string) => ({ ...ctx.p.environ, BUILD_URL: build });
  const deploy = async (build: string, apps?: string): Promise<DeployTargetResult[]> => {
    const cfg = ctx.p.config();
    const r = await deployTargets(cfg, cfg.env!, apps, { environ: as(build) });
    for (const t of r.targets) assert.equal(t.status, 'deployed', `${t.target}: ${t.error}`);
    return r.targets;
  };
  const rollbackAs = (build: string, apps?: string) => {
    const cfg = ctx.p.config();
    return rollbackTargets(cfg, cfg.env!, apps, { environ: as(build), thisBuild: true });
  };
  const setPrompt = (text: string) => ctx.p.write('workflow.yml', readFileSync(join(FIX, 'workflow.yml'), 'utf8').replace('Answer briefly.', text));
  const setChat = (text: string) => ctx.p.write('chat.yml', readFileSync(join(FIX, 'chat.yml'), 'utf8').replace('Be concise.', text));
  const console = (): ConsoleClient => getConsole(ctx.p.config().env!, { environ: ctx.p.environ });
  /** What the console API says is live: the published workflow (workflow apps) or the live config (chat apps). */
  const live = async (appId: string, mode: 'workflow' | 'chat' = 'workflow') => {
    const c = console();
    if (mode === 'chat') {
      const yaml = (await exportDsl(c, appId))!;
      return { versionId: null, yaml, hash: contentHash(parseDsl(yaml, 'live')) };
    }
    const pub = await getPublished(c, appId);
    const yaml = (await exportDsl(c, appId, { workflowId: pub!.id }))!;
    return { versionId: pub!.id, yaml, hash: contentHash(parseDsl(yaml, 'live')) };
  };
  const versionCount = async (appId: string) => (await listAllVersions(console(), appId, 200)).length;
  const cli = (args: string[], env: Record<string, string | undefined> = {}, dir = ctx.p.dir) => runCli(args, { cwd: dir, env: { ...(ctx.p.environ as Record<string, string>), ...env } });
  const resultOf = (dir: string, name: string) => JSON.parse(readFileSync(join(dir, '.dify-ci/results', name), 'utf8'));
  /** A second agent: the same project files in its own directory (own history, backups and results). */
  const agent = (from: Project): string => {
    const dir = mkdtempSync(join(tmpdir(), 'dify-ci-agent-'));
    for (const f of ['dify-ci.yml', 'workflow.yml', 'chat.yml']) copyFileSync(join(from.dir, f), join(dir, f));
    return dir;
  };

  it('(a) workflow: goes back to what was live before the build, not to its own earlier deploy; recorded', async () => {
    const [v1] = await deploy(A, 'support');
    setPrompt('Second.');
    const [v2] = await deploy(B, 'support');
    setPrompt('Third.');
    const [v3] = await deploy(B, 'support'); // B deployed twice: --to previous would land on v2
    assert.equal((await live(v1!.appId!)).versionId, v3!.versionId);

    // --dry-run: says where it would go, changes nothing.
    const n0 = await versionCount(v1!.appId!);
    const cfg = ctx.p.config();
    const dry = (await rollbackTargets(cfg, cfg.env!, 'support', { environ: as(B), thisBuild: true, dryRun: true })).targets[0]!;
    assert.equal(dry.status, 'dry-run', dry.error);
    assert.equal(dry.to.versionId, v1!.versionId);
    assert.match(dry.diffText!, /-Third\./);
    assert.equal(await versionCount(v1!.appId!), n0);
    assert.equal((await live(v1!.appId!)).versionId, v3!.versionId);

    const r = await rollbackAs(B, 'support');
    assert.equal(r.status, 'success');
    assert.deepEqual(r.thisBuild, { build: B, deployed: 1 });
    const t = r.targets[0]!;
    assert.equal(t.status, 'rolled-back', t.error);
    assert.equal(t.from.versionId, v3!.versionId);
    assert.equal(t.to.versionId, v1!.versionId, 'the version before the build, not v2');
    assert.equal(t.verified, true);
    const now = await live(t.appId!);
    assert.equal(now.versionId, t.versionId, 'a new version was published');
    assert.notEqual(now.versionId, v2!.versionId);
    assert.equal(now.hash, v1!.publishedHash);
    assert.match(now.yaml, /Answer briefly\./);
    assert.doesNotMatch(now.yaml, /Second\.|Third\./);
    assert.deepEqual(r.counts, { targets: 1, rolledBack: 1, unchanged: 0, skipped: 0, failed: 0 });
    const h = readHistory(ctx.p.config().paths.history, 'staging').at(-1)!;
    assert.deepEqual([h.action, h.status, h.buildUrl, h.rollbackOf], ['rollback', 'rolled-back', B, v3!.versionId]);

    // Run again (a retried post stage): this build already undid it, nothing is published twice.
    freshClients();
    const n = await versionCount(t.appId!);
    const again = (await rollbackAs(B, 'support')).targets[0]!;
    assert.equal(again.status, 'skipped');
    assert.match(again.reason!, /already rolled back by this build/);
    assert.equal(await versionCount(t.appId!), n);
  });

  it('(b) a newer deploy by another build is live: skipped with a reason, nothing changes', async () => {
    await deploy(A, 'support');
    setPrompt('Second.');
    await deploy(B, 'support');
    setPrompt('Third.');
    const [v3] = await deploy(C, 'support');
    const n = await versionCount(v3!.appId!);

    const r = await rollbackAs(B, 'support');
    assert.equal(r.status, 'success', 'a skip is not a failure');
    const t = r.targets[0]!;
    assert.equal(t.status, 'skipped');
    assert.match(t.reason!, /newer deploy is live/);
    assert.ok(t.reason!.includes(C), `names the newer build: ${t.reason}`);
    assert.deepEqual(r.counts, { targets: 1, rolledBack: 0, unchanged: 0, skipped: 1, failed: 0 });
    const now = await live(v3!.appId!);
    assert.equal(now.versionId, v3!.versionId);
    assert.equal(now.hash, v3!.publishedHash);
    assert.equal(await versionCount(v3!.appId!), n, 'nothing published');

    // The same when the newer version is not in this agent's history (another agent, or the Dify UI): the live
    // version is not the one this build published.
    ctx.restart();
    await deploy(A, 'support');
    setPrompt('Second.');
    const [b] = await deploy(B, 'support');
    const c = console();
    await importDsl(c, { yaml: readFileSync(join(FIX, 'workflow.yml'), 'utf8').replace('Answer briefly.', 'Elsewhere.'), appId: b!.appId!, name: 'support-flow' });
    const other = await publish(c, b!.appId!);
    const t2 = (await rollbackAs(B, 'support')).targets[0]!;
    assert.equal(t2.status, 'skipped');
    assert.match(t2.reason!, new RegExp(`newer deploy is live \\(version ${other.id}, this build deployed ${b!.versionId}\\)`));
    assert.equal((await live(b!.appId!)).versionId, other.id);
  });

  it('(c) targets this build never deployed are not touched and not in the result', async () => {
    const [s1, f1] = await deploy(A);
    setPrompt('Second.');
    setChat('Be verbose.');
    await deploy(B, 'support');
    // faq was last deployed by A, and has a differing backup a plain `rollback` would apply.
    await deploy(C, 'faq');
    const faqBefore = await live(f1!.appId!, 'chat');

    const r = await rollbackAs(B); // every app of the environment
    assert.deepEqual(r.targets.map((t) => [t.target, t.status]), [['staging/support', 'rolled-back']]);
    assert.deepEqual(r.thisBuild, { build: B, deployed: 1 });
    assert.equal((await live(s1!.appId!)).hash, s1!.publishedHash);
    assert.equal((await live(f1!.appId!, 'chat')).hash, faqBefore.hash, 'faq untouched');

    // A build that deployed nothing here: nothing to do, no request at all.
    const calls = ctx.emu.stats.requests;
    const none = await rollbackAs('https://jenkins.invalid/job/app/99/');
    assert.deepEqual(none.targets, []);
    assert.deepEqual(none.thisBuild, { build: 'https://jenkins.invalid/job/app/99/', deployed: 0 });
    assert.equal(none.authMode, null);
    assert.equal(ctx.emu.stats.requests, calls, 'no login, no request');
  });

  it('(d) apps the build created (nothing live before) are left alone: skipped, exit 0', async () => {
    const d = await cli(['deploy', '--env', 'staging'], { BUILD_URL: B });
    assert.equal(d.code, 0, d.stderr);
    const deployed = resultOf(ctx.p.dir, 'deploy.json').data.targets as DeployTargetResult[];
    assert.deepEqual(deployed.map((t) => [t.target, t.resolvedBy]), [['staging/support', 'create'], ['staging/faq', 'create']]);
    const [s, f] = deployed;
    const n = await versionCount(s!.appId!);

    const r = await cli(['rollback', '--env', 'staging', '--this-build'], { BUILD_URL: B });
    assert.equal(r.code, 0, r.stderr);
    const res = resultOf(ctx.p.dir, 'rollback.json');
    assert.equal(res.status, 'success');
    assert.deepEqual(res.data.targets.map((t: { target: string; status: string }) => [t.target, t.status]), [['staging/support', 'skipped'], ['staging/faq', 'skipped']]);
    for (const t of res.data.targets) assert.match(t.reason, /nothing was live before this build/);
    assert.equal(res.counts.skipped, 2);
    assert.equal(res.summary, 'rollback in staging (this build): 0 rolled back, 0 unchanged, 2 skipped');
    assert.match(r.stdout, /^- staging\/support: skipped: nothing was live before/m);
    // Still there and unchanged.
    assert.equal(await versionCount(s!.appId!), n);
    assert.equal((await live(s!.appId!)).hash, s!.publishedHash);
    assert.equal((await live(f!.appId!, 'chat')).hash, f!.publishedHash);
  });

  it('(e) chat app: back to the backup the build\'s first deploy took (history alone, or result files alone)', async () => {
    const [v1] = await deploy(A, 'faq');
    setChat('Be verbose.');
    await deploy(B, 'faq');
    setChat('Be loud.');
    const [v3] = await deploy(B, 'faq'); // the newest backup (v2, B's own) is what --to previous would take

    const t = (await rollbackAs(B, 'faq')).targets[0]!;
    assert.equal(t.status, 'rolled-back', t.error);
    assert.equal(t.verified, true);
    assert.ok(t.to.file && existsSync(t.to.file), `a backup file: ${t.to.file}`);
    const now = await live(v1!.appId!, 'chat');
    assert.equal(now.hash, v1!.publishedHash);
    assert.match(now.yaml, /Be concise\./);
    assert.notEqual(now.hash, v3!.publishedHash);
    assertNoCanary(ctx.p.dir);

    // The same through the CLI with only result files (a shard whose history is elsewhere, backups unstashed):
    // the backups they name decide.
    ctx.restart();
    assert.equal((await cli(['deploy', '--env', 'staging', '--app', 'faq'], { BUILD_URL: A })).code, 0);
    const w1 = resultOf(ctx.p.dir, 'deploy.json').data.targets[0] as DeployTargetResult;
    setChat('Be verbose.');
    assert.equal((await cli(['deploy', '--env', 'staging', '--app', 'faq', '--result-file', '.dify-ci/results/deploy-staging-1.json'], { BUILD_URL: B })).code, 0);
    setChat('Be loud.');
    assert.equal((await cli(['deploy', '--env', 'staging', '--app', 'faq', '--result-file', '.dify-ci/results/deploy-staging-2.json'], { BUILD_URL: B })).code, 0);
    rmSync(join(ctx.p.dir, '.dify-ci/history'), { recursive: true });
    const r = await cli(['rollback', '--env', 'staging', '--this-build'], { BUILD_URL: B });
    assert.equal(r.code, 0, r.stderr);
    const res = resultOf(ctx.p.dir, 'rollback.json');
    assert.equal(res.data.targets[0].status, 'rolled-back', res.data.targets[0].error);
    assert.equal(res.data.targets[0].to.file, resultOf(ctx.p.dir, 'deploy-staging-1.json').data.targets[0].backups[0]);
    assert.equal((await live(w1.appId!, 'chat')).hash, w1.publishedHash);

    // Without the backup on this agent it is a failure that says where to look, not a guess.
    ctx.restart();
    await deploy(A, 'faq');
    setChat('Be verbose.');
    const [b] = await deploy(B, 'faq');
    rmSync(join(ctx.p.dir, '.dify-ci/backups'), { recursive: true });
    const lost = await rollbackAs(B, 'faq');
    assert.equal(lost.status, 'failed');
    assert.match(lost.targets[0]!.error!, /the backup this build's deploy took.* is not on this agent/);
    assert.equal((await live(b!.appId!, 'chat')).hash, b!.publishedHash, 'nothing applied');
  });

  it('(f) deploys of other agents arrive as result files in --results; a stale result file of another build is ignored', async () => {
    const agent2 = agent(ctx.p);
    const agent3 = agent(ctx.p);
    // Before this build: support v1 and faq v1, both by build A.
    const [s1, f1] = await deploy(A);
    // A stale result file left from an older build Z that deployed faq (on a third agent).
    ctx.p.write('chat.yml', readFileSync(join(FIX, 'chat.yml'), 'utf8').replace('Be concise.', 'Stale.'));
    copyFileSync(join(ctx.p.dir, 'chat.yml'), join(agent3, 'chat.yml'));
    assert.equal((await cli(['deploy', '--env', 'staging', '--app', 'faq'], { BUILD_URL: 'https://jenkins.invalid/job/app/7/' }, agent3)).code, 0);
    const faqLive = await live(f1!.appId!, 'chat');
    // Build B deploys support on agent 2 only: agent 1 (p) has no history of it.
    setPrompt('Second.');
    copyFileSync(join(ctx.p.dir, 'workflow.yml'), join(agent2, 'workflow.yml'));
    const d = await cli(['deploy', '--env', 'staging', '--app', 'support', '--result-file', '.dify-ci/results/deploy-staging-2-2.json'], { BUILD_URL: B }, agent2);
    assert.equal(d.code, 0, d.stderr);
    const v2 = resultOf(agent2, 'deploy-staging-2-2.json').data.targets[0];
    assert.equal((await live(s1!.appId!)).versionId, v2.versionId);

    // Without agent 2's results, agent 1 knows of nothing this build deployed.
    const blind = await cli(['rollback', '--env', 'staging', '--this-build'], { BUILD_URL: B });
    assert.equal(blind.code, 0, blind.stderr);
    assert.equal(resultOf(ctx.p.dir, 'rollback.json').summary, 'rollback in staging (this build): nothing to do, this build deployed none of the selected targets');
    assert.equal((await live(s1!.appId!)).versionId, v2.versionId);

    // Unstash: every agent's results in one directory, the way the pipeline does it (parameters from a file).
    const unstashed = join(ctx.p.dir, 'unstashed');
    mkdirSync(unstashed);
    copyFileSync(join(agent2, '.dify-ci/results/deploy-staging-2-2.json'), join(unstashed, 'deploy-staging-2-2.json'));
    copyFileSync(join(agent3, '.dify-ci/results/deploy.json'), join(unstashed, 'deploy-staging-1-2.json'));
    writeFileSync(join(unstashed, 'smoke-staging.json'), ''); // blanked by difyRun before a run that never finished
    const params = join(ctx.p.dir, 'params.json');
    writeFileSync(params, JSON.stringify({ env: 'staging', thisBuild: true, results: 'unstashed' }));
    const r = await cli(['rollback'], { BUILD_URL: B, DIFY_CI_PARAMS_FILE: params });
    assert.equal(r.code, 0, r.stderr);
    const res = resultOf(ctx.p.dir, 'rollback.json');
    assert.deepEqual(res.data.targets.map((t: { target: string; status: string }) => [t.target, t.status]), [['staging/support', 'rolled-back']]);
    assert.equal(res.data.targets[0].to.versionId, s1!.versionId);
    assert.deepEqual(res.data.thisBuild, { build: B, deployed: 1 });
    assert.equal((await live(s1!.appId!)).hash, s1!.publishedHash);
    assert.equal((await live(f1!.appId!, 'chat')).hash, faqLive.hash, 'the stale file of build 7 changed nothing');
    assert.ok(!r.stdout.includes(CANARY) && !r.stderr.includes(CANARY));
  });

  it('(h) usage errors exit 2 with a clear message, before any request', async () => {
    await deploy(B);
    const calls = ctx.emu.stats.requests;
    const cases: [string[], Record<string, string | undefined>, RegExp][] = [
      [['--this-build', '--to', 'previous'], {}, /--this-build goes back to what was live before this build; it cannot be combined with --to/],
      [['--results', '.dify-ci/results'], {}, /--results is only for --this-build/],
      [['--this-build', '--results', 'no-such-dir'], {}, /--results no-such-dir: no such directory/],
      [['--this-build'], { BUILD_URL: undefined, BUILD_TAG: undefined }, /--this-build needs the identity of the build: BUILD_URL or BUILD_TAG/],
    ];
    for (const [args, env, re] of cases) {
      const r = await cli(['rollback', '--env', 'staging', ...args], env);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.doesNotMatch(r.stderr, /\n\s+at .*\.ts:\d+/, 'no stack trace');
      assert.equal(resultOf(ctx.p.dir, 'rollback.json').error.category, 'usage');
    }
    assert.equal(ctx.emu.stats.requests, calls, 'nothing asked of Dify');
    // BUILD_TAG is the identity when there is no BUILD_URL: it matches nothing B deployed, so nothing to do.
    const tag = await cli(['rollback', '--env', 'staging', '--this-build'], { BUILD_URL: undefined, BUILD_TAG: 'jenkins-app-42' });
    assert.equal(tag.code, 0, tag.stderr);
    assert.deepEqual(resultOf(ctx.p.dir, 'rollback.json').data.thisBuild, { build: 'jenkins-app-42', deployed: 0 });
  });
});

describe('rollback --this-build: the multi-tenant fan-out', function () {
  this.timeout(90_000);
  const emu = useEmulator();

  const cli = (p: TenantProject, dir: string, args: string[], env: Record<string, string | undefined> = {}) => runCli(args, { cwd: dir, env: { ...(p.environ as Record<string, string>), ...env } });
  const resultOf = (dir: string, name: string) => JSON.parse(readFileSync(join(dir, '.dify-ci/results', name), 'utf8'));
  const agent = (p: TenantProject): string => {
    const dir = mkdtempSync(join(tmpdir(), 'dify-ci-agent-'));
    for (const f of ['dify-ci.yml', 'workflow.yml', 'chat.yml', 'tests']) cpSync(join(p.dir, f), join(dir, f), { recursive: true });
    return dir;
  };

  it('(g) two tenants deployed by this build on two agents go back; a newer deploy is skipped; other tenants untouched', async () => {
    const p = tenantProject(emu(), { tenants: 4 });
    const agent2 = agent(p);
    const ws = (i: number) => p.workspaces.get(`t-0${i}`)!;
    // Build A: every tenant at v1.
    assert.equal((await cli(p, p.dir, ['deploy', '--env', 'prod'], { BUILD_URL: A })).code, 0);
    const v1 = [0, 1, 2, 3].map((i) => publishedIn(emu(), ws(i))[0]!);
    // Build B: t-00 and t-01 on agent 1 (shard 1/2), t-02 on agent 2 (shard 2/2); t-03 not in this build.
    p.editPrompt('Second.');
    copyFileSync(join(p.dir, 'workflow.yml'), join(agent2, 'workflow.yml'));
    const d1 = await cli(p, p.dir, ['deploy', '--env', 'prod', '--tenant', 't-00,t-01', '--result-file', '.dify-ci/results/deploy-prod-1-2.json'], { BUILD_URL: B });
    assert.equal(d1.code, 0, d1.stderr);
    const d2 = await cli(p, agent2, ['deploy', '--env', 'prod', '--tenant', 't-02', '--result-file', '.dify-ci/results/deploy-prod-2-2.json'], { BUILD_URL: B });
    assert.equal(d2.code, 0, d2.stderr);
    // Build C (agent 2) deploys t-01 again: its newer version is live there.
    p.editPrompt('Third.');
    copyFileSync(join(p.dir, 'workflow.yml'), join(agent2, 'workflow.yml'));
    assert.equal((await cli(p, agent2, ['deploy', '--env', 'prod', '--tenant', 't-01', '--result-file', '.dify-ci/results/deploy-c.json'], { BUILD_URL: C })).code, 0);
    const t01Live = publishedIn(emu(), ws(1)).at(-1)!;
    const before = [0, 1, 2, 3].map((i) => publishedIn(emu(), ws(i)).length);
    // Unstash agent 2's result of build B beside agent 1's.
    copyFileSync(join(agent2, '.dify-ci/results/deploy-prod-2-2.json'), join(p.dir, '.dify-ci/results/deploy-prod-2-2.json'));

    const r = await cli(p, p.dir, ['rollback', '--env', 'prod', '--this-build', '--results', '.dify-ci/results'], { BUILD_URL: B });
    assert.equal(r.code, 0, r.stderr);
    const res = resultOf(p.dir, 'rollback.json');
    assert.equal(res.data.fanOut, true);
    assert.deepEqual(
      res.data.targets.map((t: { tenant: string; status: string }) => [t.tenant, t.status]),
      [['t-00', 'rolled-back'], ['t-01', 'skipped'], ['t-02', 'rolled-back']],
    );
    assert.match(res.data.targets[1].reason, /newer deploy is live/);
    assert.deepEqual(res.data.thisBuild, { build: B, deployed: 3 });
    assert.deepEqual(res.counts, { targets: 3, rolledBack: 2, unchanged: 0, skipped: 1, failed: 0 });
    assert.equal(res.summary, 'rollback in prod (this build): 2 rolled back, 0 unchanged, 1 skipped of 3 target(s) in 3 tenant(s)');
    assert.match(r.stdout, /^t-01\/support\s+skipped\s+a newer deploy is live/m);
    assert.match(r.stderr, /\[\d\/3\] t-01\/support skipped — a newer deploy is live/);
    // Live content through the emulator's versions: t-00 and t-02 at v1's content again, one new version each.
    for (const i of [0, 2]) {
      const v = publishedIn(emu(), ws(i));
      assert.equal(v.length, before[i]! + 1, `t-0${i}: one rollback version`);
      assert.equal(v.at(-1)!.hash, v1[i]!.hash, `t-0${i}: v1 content`);
    }
    assert.equal(publishedIn(emu(), ws(1)).length, before[1], 't-01: nothing published');
    assert.equal(publishedIn(emu(), ws(1)).at(-1)!.id, t01Live.id);
    assert.equal(publishedIn(emu(), ws(3)).length, before[3], 't-03: not touched');
    assert.ok(!res.data.targets.some((t: { tenant: string }) => t.tenant === 't-03'));
  });

  it('(h) fan-out usage errors exit 2; a build that deployed nothing here logs in nowhere', async () => {
    const p = tenantProject(emu(), { tenants: 2 });
    assert.equal((await cli(p, p.dir, ['deploy', '--env', 'prod'], { BUILD_URL: A })).code, 0);
    const cases: [string[], Record<string, string | undefined>, RegExp][] = [
      [['--this-build', '--to', 'previous'], {}, /cannot be combined with --to/],
      [['--results', '.dify-ci/results'], {}, /--results is only for --this-build/],
      [['--this-build'], { BUILD_URL: undefined, BUILD_TAG: undefined }, /--this-build needs the identity of the build: BUILD_URL or BUILD_TAG/],
    ];
    for (const [args, env, re] of cases) {
      const r = await cli(p, p.dir, ['rollback', '--env', 'prod', ...args], env);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.doesNotMatch(r.stderr, /\n\s+at .*\.ts:\d+/);
    }
    const logins = emu().stats.logins;
    const none = await cli(p, p.dir, ['rollback', '--env', 'prod', '--this-build'], { BUILD_URL: B });
    assert.equal(none.code, 0, none.stderr);
    const res = resultOf(p.dir, 'rollback.json');
    assert.deepEqual(res.data.targets, []);
    assert.deepEqual(res.data.thisBuild, { build: B, deployed: 0 });
    assert.match(none.stdout, /this build deployed none of the selected targets/);
    assert.equal(emu().stats.logins, logins, 'no login');
    for (const ws of p.workspaces.values()) assert.equal(publishedIn(emu(), ws).length, 1);
  });
});
