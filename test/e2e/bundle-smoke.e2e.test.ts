/**
 * The file Jenkins runs, run as Jenkins runs it: `node resources/dify-ci/runner.cjs` as its own process, from a copy
 * of examples/tenant-repo with no node_modules, against the emulator over real HTTP. The apps have no appId or name
 * in the config, so smoke finds them by their DSL's app.name — the path a dynamic import() broke in the bundle.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEmulator, type Emulator } from '../../runner/src/emulator/index.js';
import { ROOT, runRunner, tempProject } from '../helpers/cli.js';

describe('bundle end to end: examples/tenant-repo against the emulator', function () {
  this.timeout(60_000);
  let emu: Emulator;
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    emu = await startEmulator({ port: 0 });
    dir = tempProject({});
    cpSync(join(ROOT, 'examples/tenant-repo'), dir, { recursive: true });
    const cfg = join(dir, 'dify-ci.yml');
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replaceAll('http://127.0.0.1:5001', emu.url).replace(/^\$schema:.*$/m, ''));
    env = { DIFY_STAGING_PASSWORD: emu.admin.password, TICKETS_API_KEY_STAGING: 'tk-canary-4711' };
  });
  after(async () => {
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('deploys, then smoke-tests apps found by their DSL name', async () => {
    const deploy = await runRunner(['deploy', '--env', 'staging'], { cwd: dir, env });
    assert.equal(deploy.code, 0, deploy.stderr);
    const smoke = await runRunner(['smoke', '--env', 'staging'], { cwd: dir, env });
    assert.equal(smoke.code, 0, smoke.stderr);
    const res = JSON.parse(readFileSync(join(dir, '.dify-ci/results/smoke.json'), 'utf8'));
    assert.equal(res.status, 'success', smoke.stderr);
    assert.doesNotMatch(smoke.stderr, /cannot tell which Dify app/);
    assert.ok(!smoke.stderr.includes('tk-canary-4711') && !smoke.stdout.includes('tk-canary-4711'), 'the secret is masked');
  });
});
