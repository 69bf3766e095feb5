import { strict as assert } from 'node:assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pkg from '../../package.json' with { type: 'json' };
import { runCli, tempProject } from '../helpers/cli.js';
import { GOOD_CONFIG } from './fixtures.js';

describe('dify-ci CLI conventions', () => {
  it('--version prints the package version and a source hash', async () => {
    const r = await runCli(['--version']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, new RegExp(`^dify-ci ${pkg.version.replace(/\./g, '\\.')} \\(runner [0-9a-f]{12}\\)\\n$`));
  });

  it('usage errors exit 2: unknown command, unknown option, no command', async () => {
    const unknownCommand = await runCli(['deplooy']);
    assert.equal(unknownCommand.code, 2);
    assert.match(unknownCommand.stderr, /unknown command 'deplooy'/);
    const unknownOption = await runCli(['context', '--stepp', 'deploy']);
    assert.equal(unknownOption.code, 2);
    assert.match(unknownOption.stderr, /unknown option '--stepp'/);
    const none = await runCli([]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /Usage: dify-ci/);
  });

  it('--json prints the result object on stdout and the same object goes to the result file', async () => {
    const dir = tempProject({ 'dify-ci.yml': GOOD_CONFIG });
    const r = await runCli(['config', '--json', '--env', 'staging', '--result-file', 'out/config-result.json'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const printed = JSON.parse(r.stdout);
    const file = JSON.parse(readFileSync(join(dir, 'out/config-result.json'), 'utf8'));
    assert.deepEqual(printed, file);
    for (const key of ['command', 'status', 'summary', 'counts', 'artifacts', 'error', 'startedAt', 'finishedAt']) assert.ok(key in file, key);
    assert.equal(file.command, 'config');
    assert.equal(file.status, 'success');
    assert.equal(file.error, null);
    assert.ok(Date.parse(file.finishedAt) >= Date.parse(file.startedAt));
    assert.equal(existsSync(join(dir, '.dify-ci/results/config.json')), false, '--result-file replaces the default path');
  });

  it('a failed command still writes its result file, with the error and category', async () => {
    const dir = tempProject({ 'dify-ci.yml': 'apps: {}\n' });
    const r = await runCli(['config'], { cwd: dir });
    assert.equal(r.code, 2);
    const file = JSON.parse(readFileSync(join(dir, '.dify-ci/results/config.json'), 'utf8'));
    assert.equal(file.status, 'error');
    assert.equal(file.error.category, 'config');
    assert.equal(file.error.exitCode, 2);
    assert.match(file.error.message, /^dify-ci\.yml:1:1: /);
  });

  it('takes step parameters from DIFY_CI_PARAMS_FILE; argv still wins; unknown keys are refused', async () => {
    const dir = tempProject({ 'dify-ci.yml': GOOD_CONFIG, 'params.json': JSON.stringify({ env: 'production', step: 'deploy' }) });
    const fromFile = await runCli(['context'], { cwd: dir, env: { DIFY_CI_PARAMS_FILE: join(dir, 'params.json') } });
    assert.equal(fromFile.code, 0, fromFile.stderr);
    const c = JSON.parse(fromFile.stdout);
    assert.equal(c.env, 'production');
    assert.equal(c.step, 'deploy');
    const argvWins = await runCli(['context', '--step', 'smoke'], { cwd: dir, env: { DIFY_CI_PARAMS_FILE: join(dir, 'params.json') } });
    assert.equal(JSON.parse(argvWins.stdout).step, 'smoke');
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ stepp: 'deploy' }));
    const bad = await runCli(['context'], { cwd: dir, env: { DIFY_CI_PARAMS_FILE: join(dir, 'bad.json') } });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown parameter 'stepp' for 'context'/);
    const badResult = JSON.parse(readFileSync(join(dir, '.dify-ci/results/context.json'), 'utf8'));
    assert.equal(badResult.error.category, 'usage', 'the reason reaches the result file Jenkins reads');
    assert.match(badResult.error.message, /unknown parameter 'stepp'/);
    writeFileSync(join(dir, 'broken.json'), '{');
    const broken = await runCli(['context'], { cwd: dir, env: { DIFY_CI_PARAMS_FILE: join(dir, 'broken.json') } });
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /cannot read the step parameters/);
  });

  it('no colour when NO_COLOR is set or stderr is not a TTY; FORCE_COLOR turns it on', async () => {
    const dir = tempProject({ 'dify-ci.yml': 'apps: {}\n' });
    const plain = await runCli(['config'], { cwd: dir });
    assert.doesNotMatch(plain.stderr, /\u001b\[/);
    const forced = await runCli(['config'], { cwd: dir, env: { NO_COLOR: undefined, FORCE_COLOR: '1' } });
    assert.match(forced.stderr, /\u001b\[31merror: /);
    const both = await runCli(['config', '--no-color'], { cwd: dir, env: { NO_COLOR: undefined, FORCE_COLOR: '1' } });
    assert.doesNotMatch(both.stderr, /\u001b\[/);
  });
});
