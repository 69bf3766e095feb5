import { strict as assert } from 'node:assert';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { BUNDLE, cleanEnv, runCli, tempProject } from '../helpers/cli.js';
import { GOOD_CONFIG } from './fixtures.js';

describe('the bundled runner (resources/dify-ci/runner.cjs)', () => {
  it('is pure ASCII and starts with a node shebang', () => {
    const text = readFileSync(BUNDLE, 'utf8');
    assert.ok(text.startsWith('#!/usr/bin/env node\n'));
    const bad = text.search(/[^\x00-\x7f]/);
    assert.equal(bad, -1, `non-ASCII character at offset ${bad}`);
  });

  it('runs alone from an empty directory (no node_modules) and reports the same version as the sources', async () => {
    const dir = tempProject({ 'dify-ci.yml': GOOD_CONFIG });
    copyFileSync(BUNDLE, join(dir, 'runner.cjs'));
    const run = (...args: string[]) => spawnSync(process.execPath, [join(dir, 'runner.cjs'), ...args], { cwd: dir, env: cleanEnv(), encoding: 'utf8' });
    const v = run('--version');
    assert.equal(v.status, 0, v.stderr);
    const dev = await runCli(['--version']);
    assert.equal(v.stdout, dev.stdout, 'bundle and sources print the same version line (bundle is fresh)');
    const ctx = run('context', '--env', 'staging', '--step', 'deploy');
    assert.equal(ctx.status, 0, ctx.stderr);
    assert.equal(JSON.parse(ctx.stdout).credentials[0].credentialsId, 'dify-staging-password');
    const bad = run('context', '--env', 'nope');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown environment 'nope'/);
  });
});
