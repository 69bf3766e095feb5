/** main(argv, io): one run, its own I/O and resources; runs in one process share nothing. */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../runner/src/program.js';
import { Captured, cleanEnv, runCli, tempProject } from '../helpers/cli.js';
import { useEmulator } from '../helpers/emulator.js';
import { GOOD_CONFIG } from './fixtures.js';

const SECRET_A = 'run-a-S3cret-7e1f';

/** Open TCP sockets of this process (client and server side). */
const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;

async function settle(check: () => boolean): Promise<boolean> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  return check();
}

describe('main(argv, io): the run', () => {
  it('writes only to the given streams, returns the exit code and leaves process.exitCode alone', async () => {
    const dir = tempProject({ 'dify-ci.yml': GOOD_CONFIG });
    const stdout = new Captured();
    const stderr = new Captured();
    const written: string[] = [];
    const saved = { out: process.stdout.write, err: process.stderr.write, exitCode: process.exitCode };
    const spy = (chunk: unknown) => (written.push(String(chunk)), true);
    process.stdout.write = spy as typeof process.stdout.write;
    process.stderr.write = spy as typeof process.stderr.write;
    let ok: number;
    let bad: number;
    try {
      ok = await main(['context', '--env', 'staging', '--step', 'deploy'], { stdout, stderr, env: cleanEnv(), cwd: dir });
      bad = await main(['context', '--env', 'nope'], { stdout, stderr, env: cleanEnv(), cwd: dir });
    } finally {
      process.stdout.write = saved.out;
      process.stderr.write = saved.err;
    }
    assert.deepEqual([ok, bad], [0, 2]);
    assert.equal(process.exitCode, saved.exitCode);
    assert.deepEqual(written, [], 'nothing went to the process streams');
    assert.equal(JSON.parse(stdout.text).env, 'staging');
    assert.match(stderr.text, /error: .*unknown environment 'nope'/);
    assert.equal(JSON.parse(readFileSync(join(dir, '.dify-ci/results/context.json'), 'utf8')).exitCode, 2, 'relative to the run cwd');
  });

  it('two runs at the same time keep their own environment, working directory and secrets', async () => {
    const named = GOOD_CONFIG.replace('dsl: apps/summarizer.yml', `dsl: apps/summarizer.yml\n    name: "${SECRET_A}"`);
    const a = tempProject({ 'dify-ci.yml': named });
    const b = tempProject({ 'dify-ci.yml': named });
    const [ra, rb] = await Promise.all([
      runCli(['config', '--env', 'staging'], { cwd: a, env: { DIFY_STAGING_PASSWORD: SECRET_A } }),
      runCli(['config'], { cwd: b, env: { DIFY_CI_ENV: 'production' } }),
    ]);
    assert.equal(ra.code, 0, ra.stderr);
    assert.equal(rb.code, 0, rb.stderr);
    assert.match(ra.stdout, /name: \*\*\*/, 'run A masks its secret');
    assert.ok(rb.stdout.includes(`name: ${SECRET_A}`), 'run B never learnt run A\'s secret (it is no secret there)');
    const file = (dir: string) => JSON.parse(readFileSync(join(dir, '.dify-ci/results/config.json'), 'utf8'));
    assert.match(file(a).summary, /\(environment staging\)$/);
    assert.match(file(b).summary, /\(environment production\)$/, 'DIFY_CI_ENV of run B only');
  });

  describe('against the emulator', function () {
    this.timeout(20_000);
    const emu = useEmulator();

    it('each run logs in with its own session and closes its connections before main returns', async () => {
      const dir = tempProject({
        'x.yml': 'app: {name: x, mode: workflow}\nkind: app\nversion: 0.6.0\n',
        'dify-ci.yml': `apps: {x: {dsl: x.yml}}\nenvironments:\n  staging:\n    url: ${emu().url}\n    auth: { mode: password, email: ${emu().admin.email}, passwordEnv: PW }\n`,
      });
      const before = sockets();
      for (let i = 0; i < 2; i++) {
        const r = await runCli(['backup', '--env', 'staging', '--all', '--out', `backup-${i}`], { cwd: dir, env: { PW: emu().admin.password } });
        assert.equal(r.code, 0, r.stderr);
        assert.ok(await settle(() => sockets() <= before), `run ${i + 1}: ${sockets() - before} socket(s) left open`);
      }
      assert.equal(emu().stats.byRoute['POST /console/api/login'], 2, 'no session shared between runs');
    });
  });
});
