import { strict as assert } from 'node:assert';
import { copyFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { Script } from 'node:vm';
import { build } from 'esbuild';
import { dynamicExternals } from '../../scripts/bundle-guard.js';
import { BUNDLE, cleanEnv, runCli, runRunner, tempProject } from '../helpers/cli.js';
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

  it('runs the emulator alone from an empty directory: prints its URL, accepts a console login, exits 0 on SIGTERM', async () => {
    const dir = tempProject({});
    copyFileSync(BUNDLE, join(dir, 'runner.cjs'));
    // Only flags the committed bundle already knows (it may predate newer emulator options).
    const child = spawn(process.execPath, [join(dir, 'runner.cjs'), 'emulator', '--port', '0'], { cwd: dir, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const info = await new Promise<{ url: string; email: string; password: string }>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
          const nl = out.indexOf('\n');
          if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)));
        });
        child.on('exit', (code) => reject(new Error(`exited (${code}) before printing its URL: ${stderr}`)));
      });
      assert.match(info.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.ok(stderr.includes(`admin: ${info.email} / ${info.password}`), 'the seeded credentials are printed');
      const res = await fetch(`${info.url}/console/api/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ email: info.email, password: Buffer.from(info.password, 'utf8').toString('base64'), remember_me: true, invite_token: null }),
      });
      assert.equal(res.status, 200, stderr);
      assert.deepEqual(await res.json(), { result: 'success' });
      const cookies = res.headers.getSetCookie().map((c) => c.slice(0, c.indexOf('=')));
      assert.deepEqual(cookies.sort(), ['access_token', 'csrf_token', 'refresh_token']);
      child.kill('SIGTERM');
      assert.equal(await exit, 0, stderr);
      assert.match(stderr, /emulator stopped \(SIGTERM\)/);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exit;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps a V8 code cache beside itself, survives a corrupt one, and can be told not to', () => {
    const dir = tempProject({});
    copyFileSync(BUNDLE, join(dir, 'runner.cjs'));
    const run = (env: Record<string, string> = {}) => spawnSync(process.execPath, [join(dir, 'runner.cjs'), '--version'], { cwd: dir, env: cleanEnv(env), encoding: 'utf8' });
    const caches = () => readdirSync(dir).filter((f) => f.endsWith('.v8cache'));
    assert.equal(run({ DIFY_CI_NO_COMPILE_CACHE: '1' }).status, 0);
    assert.deepEqual(caches(), [], 'no cache when switched off');
    const first = run();
    assert.equal(first.status, 0);
    assert.equal(caches().length, 1, 'the first run writes the cache');
    writeFileSync(join(dir, caches()[0]!), 'not a V8 code cache');
    const corrupt = run();
    assert.equal(corrupt.status, 0, corrupt.stderr);
    assert.equal(corrupt.stdout, first.stdout);
    assert.notEqual(readFileSync(join(dir, caches()[0]!), 'utf8'), 'not a V8 code cache', 'a rejected cache is rewritten');
  });

  it('cannot hold a dynamic import() of a module outside it: the build names it, the wrapper could not load it', async () => {
    const dir = tempProject({
      'entry.ts': "export async function fs() { return (await import('node:fs')).existsSync('.'); }\nexport async function local() { return (await import('./local.js')).x; }\n",
      'local.ts': 'export const x = 1;\n',
    });
    const out = await build({ absWorkingDir: dir, entryPoints: ['entry.ts'], bundle: true, platform: 'node', format: 'cjs', write: false, metafile: true, logLevel: 'silent' });
    assert.deepEqual(dynamicExternals(out.metafile), ["entry.ts: import('node:fs')"], 'the bundled local module is fine');
    // What scripts/bundle.mjs would otherwise ship: the code run the way runner.cjs runs it, in a vm.Script.
    const mod = { exports: {} as { fs(): Promise<boolean>; local(): Promise<number> } };
    new Script(`(function (exports, require, module) {${out.outputFiles[0]!.text}\n})`, { filename: join(dir, 'runner.cjs') }).runInThisContext()(mod.exports, createRequire(join(dir, 'runner.cjs')), mod);
    assert.equal(await mod.exports.local(), 1);
    await assert.rejects(mod.exports.fs(), { code: 'ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING' });
  });

  it('checks configuration, tenant lists, smoke suites and DSL exactly as the sources do (its schemas are precompiled)', async () => {
    const dir = tempProject({
      'bad-config/dify-ci.yml': 'apps:\n  a: {dsl: a.yml, tets: t.yml}\nenvironments:\n  s:\n    url: 5\n    auth: {mode: pasword, email: a@b.c}\n    protectd: true\n',
      'bad-tenants/dify-ci.yml': "apps: {a: {dsl: a.yml}}\nenvironments:\n  p: {url: 'http://127.0.0.1:9', auth: {mode: token, tokenEnv: T}}\ntenants: {file: tenants.yml}\n",
      'bad-tenants/tenants.yml': '- {name: t1, workspaceId: 1}\n- {nme: t2, workspaceId: w2, labels: {tier: [gold]}}\n',
      'suite.yml': 'cases:\n  - {name: a, inputs: x, assert: [{contans: b}]}\n  - {query: hi, repeat: -1}\n',
      'bad-dsl.yml': 'app: {name: x, mode: workflow, icon: 3}\nkind: app\nversion: 0.6.0\nworkflow:\n  graph: {nodes: {}, edges: 1}\n  features: []\n',
    });
    const runs: [string, string[], Record<string, string>][] = [
      ['bad-config', ['config'], {}],
      ['bad-tenants', ['config'], {}],
      ['.', ['smoke', '--url', 'http://127.0.0.1:9/v1', '--api-key-env', 'K', '--suite', 'suite.yml'], { K: 'app-key-1234' }],
      ['.', ['validate', 'bad-dsl.yml', '--format', 'json'], {}],
    ];
    for (const [sub, args, env] of runs) {
      const cwd = join(dir, sub);
      const bundled = await runRunner(args, { cwd, env, runner: 'bundle' });
      const source = await runCli(args, { cwd, env });
      assert.notEqual(bundled.code, 0, `${args.join(' ')} finds problems: ${bundled.stderr}`);
      const volatile = (t: string) => t.replace(/"(startedAt|finishedAt|toolVersion)": "[^"]*"/g, '');
      assert.deepEqual(
        { code: bundled.code, stdout: volatile(bundled.stdout), stderr: bundled.stderr },
        { code: source.code, stdout: volatile(source.stdout), stderr: source.stderr },
        `${sub}: ${args.join(' ')}`,
      );
    }
  });
});
