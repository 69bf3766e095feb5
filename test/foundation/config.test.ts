import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { resolveConfig } from '../../runner/src/config/resolve.js';
import { DifyCiError } from '../../runner/src/core/errors.js';
import { lineOf, runCli, tempProject } from '../helpers/cli.js';
import { GOOD_CONFIG } from './fixtures.js';

function load(text: string, opts: { envName?: string; environ?: NodeJS.ProcessEnv; name?: string } = {}) {
  const dir = tempProject({ [opts.name ?? 'dify-ci.yml']: text });
  return resolveConfig({ cwd: dir, envName: opts.envName, environ: opts.environ ?? {} });
}

function configErrorOf(text: string, opts: { envName?: string; name?: string } = {}): DifyCiError {
  try {
    load(text, opts);
  } catch (e) {
    assert.ok(e instanceof DifyCiError, `expected DifyCiError, got ${e}`);
    return e;
  }
  assert.fail('expected a configuration error');
}

describe('config: loading and defaults', () => {
  it('resolves apps, environments and defaults', () => {
    const c = load(GOOD_CONFIG);
    assert.deepEqual(Object.keys(c.apps), ['support-bot', 'summarizer']);
    assert.ok(c.apps['support-bot']!.dsl.endsWith(join('apps', 'support-bot.yml')));
    const staging = c.environments.staging!;
    assert.equal(staging.url, 'http://127.0.0.1:5001', 'trailing slash removed');
    assert.equal(staging.apiUrl, 'http://127.0.0.1:5001/v1', 'apiUrl defaults to url + /v1');
    assert.equal(c.environments.production!.apiUrl, 'https://api.dify.example.com/v1');
    assert.equal(staging.dslVersion, '0.6.0');
    assert.equal(c.environments.production!.approval.required, true, 'protected implies approval');
    assert.equal(c.environments.production!.approval.submitter, 'release-managers');
    assert.equal(staging.approval.required, false);
    assert.deepEqual(c.notify.email!.to, ['devops@example.com']);
    assert.deepEqual(c.notify.slack!.on, ['failure', 'fixed'], 'default on: rules');
  });

  it('accepts the same structure as JSON', () => {
    const c = load(JSON.stringify({ apps: { a: { dsl: 'a.yml' } }, environments: { dev: { url: 'http://x', auth: { mode: 'token', tokenEnv: 'T' } } } }), {
      name: 'dify-ci.json',
    });
    assert.equal(c.environments.dev!.auth.mode, 'token');
  });

  it('selects an environment and applies its overrides', () => {
    const c = load(GOOD_CONFIG, { envName: 'staging' });
    assert.equal(c.env?.key, 'staging');
    assert.equal(c.env!.smoke.concurrency, 2, 'environment beats file-level smoke');
    assert.equal(c.env!.smoke.passRate, 0.9, 'file-level value kept where the environment is silent');
    assert.equal(c.environments.production!.smoke.concurrency, 6);
  });
});

describe('config: layer precedence (defaults < file < environment < DIFY_CI_* < flags)', () => {
  it('DIFY_CI_* variables beat the environment section', () => {
    const c = load(GOOD_CONFIG, {
      envName: 'staging',
      environ: { DIFY_CI_SMOKE_CONCURRENCY: '9', DIFY_CI_URL: 'http://10.0.0.1:8080', DIFY_CI_DSL_VERSION: '0.7.0' },
    });
    assert.equal(c.env!.smoke.concurrency, 9);
    assert.equal(c.env!.url, 'http://10.0.0.1:8080');
    assert.equal(c.env!.apiUrl, 'http://10.0.0.1:8080/v1', 'apiUrl follows an overridden url when not set explicitly');
    assert.equal(c.env!.dslVersion, '0.7.0');
  });

  it('defaults apply where nothing is set', () => {
    const c = load('apps: {a: {dsl: a.yml}}\nenvironments: {dev: {url: "http://x", auth: {mode: token, tokenEnv: T}}}\n', { envName: 'dev' });
    assert.equal(c.env!.smoke.concurrency, 4);
    assert.equal(c.env!.smoke.passRate, 1);
    assert.equal(c.env!.timeoutMs, 30000);
  });

  it('DIFY_CI_ENV selects the environment, --env beats it', async () => {
    const dir = tempProject({ 'dify-ci.yml': GOOD_CONFIG });
    const viaEnv = await runCli(['config', '--format', 'json'], { cwd: dir, env: { DIFY_CI_ENV: 'production' } });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    assert.equal(JSON.parse(viaEnv.stdout).selectedEnvironment, 'production');
    const viaFlag = await runCli(['config', '--format', 'json', '--env', 'staging'], { cwd: dir, env: { DIFY_CI_ENV: 'production' } });
    assert.equal(JSON.parse(viaFlag.stdout).selectedEnvironment, 'staging');
  });

  it('a non-numeric DIFY_CI_* number is a configuration error', () => {
    assert.throws(() => load(GOOD_CONFIG, { envName: 'staging', environ: { DIFY_CI_SMOKE_CONCURRENCY: 'lots' } }), /DIFY_CI_SMOKE_CONCURRENCY="lots" is not a number/);
  });
});

describe('config: every error names file:line:column and exits 2', () => {
  it('unknown key, with a did-you-mean hint', () => {
    const text = GOOD_CONFIG.replace('    protected: true', '    protectd: true');
    const e = configErrorOf(text);
    assert.equal(e.category, 'config');
    assert.equal(e.exitCode, 2);
    assert.equal(e.position?.line, lineOf(text, 'protectd'));
    assert.equal(e.position?.column, 5);
    assert.match(e.message, /unknown key 'protectd' in environments\.production \(did you mean 'protected'\?\)/);
  });

  it('unknown key deep inside an inline mapping points at the key', () => {
    const text = GOOD_CONFIG.replace('passwordEnv: DIFY_STAGING_PASSWORD', 'pasword: DIFY_STAGING_PASSWORD');
    const e = configErrorOf(text);
    assert.equal(e.position?.line, lineOf(text, 'pasword'));
    assert.equal(e.position?.column, text.split('\n')[lineOf(text, 'pasword') - 1]!.indexOf('pasword') + 1);
    assert.match(e.message, /environments\.staging\.auth/);
  });

  it('an unknown auth mode lists the valid ones', () => {
    const text = GOOD_CONFIG.replace('mode: admin-key', 'mode: apikey');
    const e = configErrorOf(text);
    assert.equal(e.position?.line, lineOf(text, 'apikey'));
    assert.match(e.message, /unknown value "apikey".*password, token, admin-key, openapi/);
  });

  it('a missing required key names it', () => {
    const e = configErrorOf('apps: {a: {dsl: a.yml}}\nenvironments:\n  dev:\n    url: http://x\n');
    assert.match(e.message, /environments\.dev is missing required key 'auth'/);
    assert.equal(e.position?.line, 3);
  });

  it('a wrong type is reported at the value', () => {
    const text = GOOD_CONFIG.replace('passRate: 0.9', 'passRate: high');
    const e = configErrorOf(text);
    assert.match(e.message, /smoke\.passRate must be number/);
    assert.equal(e.position?.line, lineOf(text, 'passRate: high'));
    assert.equal(e.position?.column, 13);
  });

  it('YAML syntax errors and duplicate keys carry positions', () => {
    const syntax = configErrorOf('apps:\n  a: {dsl: a.yml\nenvironments: {}\n');
    assert.ok(syntax.position?.line, 'has a line');
    const dup = configErrorOf('apps: {a: {dsl: a.yml}}\napps: {}\nenvironments: {}\n');
    assert.equal(dup.position?.line, 2);
    assert.match(dup.message, /unique|duplicate/i);
  });

  it('an environment app that is not declared under apps:', () => {
    const text = GOOD_CONFIG.replace('      support-bot: {apiKeyEnv', '      support-bott: {apiKeyEnv');
    const e = configErrorOf(text);
    assert.match(e.message, /no app 'support-bott'/);
    assert.equal(e.position?.line, lineOf(text, 'support-bott'));
  });

  it('an unknown --env lists the known environments (usage error, exit 2)', () => {
    const e = configErrorOf(GOOD_CONFIG, { envName: 'prod' });
    assert.equal(e.category, 'usage');
    assert.match(e.message, /unknown environment 'prod' \(known: staging, production\)/);
  });

  it('a configuration that is not a mapping', () => {
    const e = configErrorOf('- a\n- b\n');
    assert.match(e.message, /must be a mapping/);
  });

  it('through the CLI: a typo exits 2 and prints file:line:column on stderr only', async () => {
    const dir = tempProject({ 'dify-ci.yml': GOOD_CONFIG.replace('    protected: true', '    protectd: true') });
    const r = await runCli(['config'], { cwd: dir });
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '', 'no data on stdout when the command failed');
    assert.match(r.stderr, new RegExp(`^error: dify-ci\\.yml:${lineOf(GOOD_CONFIG, 'protected: true')}:5: unknown key 'protectd'`, 'm'));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });

  it('through the CLI: a file that is not a mapping is named like every other config error (relative, 1:1)', async () => {
    const dir = tempProject({ 'dify-ci.yml': '- a\n- b\n' });
    const r = await runCli(['config'], { cwd: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error: dify-ci\.yml:1:1: the configuration must be a mapping/m);
  });

  it('through the CLI: a missing file exits 2', async () => {
    const dir = tempProject({});
    const r = await runCli(['config'], { cwd: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /configuration file not found: .*dify-ci\.yml/);
  });
});
