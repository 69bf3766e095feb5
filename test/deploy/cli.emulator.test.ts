/** The plan/deploy/rollback/backup/status commands as a real CLI process against the emulator. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEmulator, type Emulator } from '../../runner/src/emulator/index.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { allFiles, CANARY, FIX, project, type Project } from './helpers.js';

describe('deploy commands (CLI) against the emulator', function () {
  this.timeout(120_000);
  let emu: Emulator;
  let p: Project;
  const outputs: CliResult[] = [];
  before(async () => {
    emu = await startEmulator({ port: 0 });
    p = project(emu.url);
  });
  after(async () => {
    await emu.close();
  });

  const cli = async (args: string[], env: Record<string, string> = {}) => {
    const r = await runCli(args, { cwd: p.dir, env: { ...(p.environ as Record<string, string>), ...env } });
    outputs.push(r);
    return r;
  };
  const result = (cmd: string) => JSON.parse(readFileSync(join(p.dir, '.dify-ci/results', `${cmd}.json`), 'utf8'));

  it('plan: text/markdown/json, --detailed-exitcode 3 with changes, --out saves hashes', async () => {
    const text = await cli(['plan', '--env', 'staging', '--detailed-exitcode', '--out', 'plan.json']);
    assert.equal(text.code, 3, text.stderr);
    assert.match(text.stdout, /\+ staging\/support \(workflow\): create/);
    assert.match(text.stdout, /2 to create, 0 to update, 0 unchanged\./);
    const plan = JSON.parse(readFileSync(join(p.dir, 'plan.json'), 'utf8'));
    assert.equal(plan.kind, 'dify-ci-plan');
    assert.match(plan.targets[0].contentHash, /^sha256:[0-9a-f]{64}$/);
    assert.deepEqual(plan.targets[0].secrets, { OPENAI_KEY: 'added' });
    const res = result('plan');
    assert.equal(res.status, 'changes');
    assert.equal(res.data.changed, 2);
    assert.equal(res.data.targets[0].summary.nodesAdded, 3);
    const md = await cli(['plan', '--env', 'staging', '--format', 'markdown']);
    assert.equal(md.code, 0);
    assert.match(md.stdout, /^### dify-ci plan — `staging`/);
    const js = await cli(['plan', '--env', 'staging', '--format', 'json', '--app', 'faq']);
    assert.equal(JSON.parse(js.stdout)[0].action, 'create');
  });

  it('deploy --plan applies the saved plan; then no changes (exit 0 with --detailed-exitcode)', async () => {
    const d = await cli(['deploy', '--env', 'staging', '--plan', 'plan.json']);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /✔ staging\/support: deployed version [0-9a-f-]{36} \(app [0-9a-f-]{36}, verified\)/);
    const res = result('deploy');
    assert.equal(res.data.authMode, 'password-cookie');
    const t = res.data.targets[0];
    for (const k of ['env', 'app', 'appId', 'mode', 'versionId', 'publishedAt', 'contentHash', 'changed', 'status']) assert.ok(k in t, k);
    assert.equal(t.status, 'deployed');
    assert.ok(res.artifacts.some((a: { kind: string }) => a.kind === 'backup') === false, 'nothing to back up on create');
    const again = await cli(['plan', '--env', 'staging', '--detailed-exitcode']);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /0 to create, 0 to update, 2 unchanged\./);
    const stale = await cli(['deploy', '--env', 'staging', '--plan', 'plan.json']);
    assert.equal(stale.code, 1);
    assert.match(stale.stdout, /refused: the target moved since the plan/);
  });

  it('a change → deploy → status in sync; a Dify-side change → status --fail-on-drift exits 1', async () => {
    p.write('workflow.yml', readFileSync(join(FIX, 'workflow.yml'), 'utf8').replace('Answer briefly.', 'Answer with care.'));
    const d = await cli(['deploy', '--env', 'staging', '--app', 'support']);
    assert.equal(d.code, 0, d.stderr);
    const ok = await cli(['status', '--env', 'staging', '--fail-on-drift']);
    assert.equal(ok.code, 0, ok.stdout);
    assert.match(ok.stdout, /2 in sync, 0 drifted\./);
    p.write('workflow.yml', readFileSync(join(FIX, 'workflow.yml'), 'utf8').replace('Answer briefly.', 'Not deployed yet.'));
    const drift = await cli(['status', '--env', 'staging', '--fail-on-drift']);
    assert.equal(drift.code, 1);
    assert.match(drift.stdout, /drift: git-differs/);
    assert.equal(result('status').data.drifted, 1);
  });

  it('rollback to previous and a cold backup of the whole workspace', async () => {
    const r = await cli(['rollback', '--env', 'staging', '--app', 'support']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /✔ staging\/support: rolled back to [0-9a-f-]{36} \(new version [0-9a-f-]{36}\)/);
    assert.match(r.stderr, /-Answer with care\./, 'the diff is shown first');
    const b = await cli(['backup', '--env', 'staging', '--all', '--out', 'cold']);
    assert.equal(b.code, 0, b.stderr);
    const idx = JSON.parse(readFileSync(join(p.dir, 'cold', 'index.json'), 'utf8'));
    assert.equal(idx.apps.length, 2);
    assert.ok(existsSync(join(p.dir, 'cold', idx.apps[0].file)));
  });

  it('exit codes: protected without --approved-by → 2; wrong password → 4', async () => {
    p.write('dify-ci.yml', readFileSync(join(p.dir, 'dify-ci.yml'), 'utf8').replace('    timeoutMs: 10000', '    timeoutMs: 10000\n    protected: true'));
    const noApproval = await cli(['deploy', '--env', 'staging', '--force']);
    assert.equal(noApproval.code, 2);
    assert.match(noApproval.stderr, /protected: deploying needs --approved-by/);
    const approved = await cli(['deploy', '--env', 'staging', '--app', 'faq', '--force', '--approved-by', 'carol']);
    assert.equal(approved.code, 0, approved.stderr);
    const hist = readFileSync(join(p.dir, '.dify-ci/history/staging.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(hist.at(-1).approvedBy, 'carol');
    const bad = await cli(['status', '--env', 'staging'], { DIFY_PASSWORD: 'not-the-password' });
    assert.equal(bad.code, 4);
    assert.match(bad.stderr, /Invalid email or password/);
  });

  it('the canary secret appears in no output, result, plan, backup or history', () => {
    assert.ok(outputs.length >= 10);
    for (const o of outputs) {
      assert.ok(!o.stdout.includes(CANARY) && !o.stderr.includes(CANARY));
    }
    let n = 0;
    for (const f of allFiles(p.dir)) {
      assert.ok(!readFileSync(f, 'utf8').includes(CANARY), f);
      n++;
    }
    assert.ok(n > 10, `${n} files checked`);
  });
});
