import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempProject } from '../helpers/cli.js';
import { GOOD_CONFIG } from './fixtures.js';

async function context(step: string, env?: string) {
  const dir = tempProject({ 'dify-ci.yml': GOOD_CONFIG });
  const args = ['context', '--step', step, ...(env ? ['--env', env] : [])];
  const r = await runCli(args, { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const printed = JSON.parse(r.stdout);
  const result = JSON.parse(readFileSync(join(dir, '.dify-ci/results/context.json'), 'utf8'));
  assert.deepEqual(result.data, printed, 'the result file carries the same context Groovy reads');
  return printed;
}

describe('dify-ci context', () => {
  it('deploy in staging binds the Dify login and the DSL secrets, not the smoke keys', async () => {
    const c = await context('deploy', 'staging');
    assert.equal(c.env, 'staging');
    assert.deepEqual(
      c.credentials.map((b: any) => [b.type, b.credentialsId, b.variables]),
      [
        ['string', 'dify-staging-password', ['DIFY_STAGING_PASSWORD']],
        ['string', 'openai-staging', ['OPENAI_KEY_STAGING']],
      ],
    );
    assert.equal(c.approval.required, false);
  });

  it('smoke binds the login and the app API keys', async () => {
    const c = await context('smoke', 'staging');
    assert.deepEqual(c.credentials.map((b: any) => b.credentialsId), ['dify-staging-password', 'support-bot-staging-key']);
  });

  it('production: admin key, approval with submitter, protected', async () => {
    const c = await context('deploy', 'production');
    assert.deepEqual(c.credentials.map((b: any) => b.credentialsId), ['dify-admin-key']);
    assert.deepEqual(c.approval, { required: true, submitter: 'release-managers', message: 'Deploy to production?', timeoutMinutes: 30 });
    assert.equal(c.protected, true);
  });

  it('notify binds Slack as a string and SMTP as username + password', async () => {
    const c = await context('notify');
    assert.deepEqual(c.credentials, [
      { type: 'string', credentialsId: 'slack-bot', variables: ['SLACK_BOT_TOKEN'], purpose: 'Slack bot token' },
      { type: 'usernamePassword', credentialsId: 'smtp-login', variables: ['SMTP_USER', 'SMTP_PASSWORD'], purpose: 'SMTP login' },
    ]);
  });

  it('validate binds nothing; pipeline lists the deploy order and every environment', async () => {
    assert.deepEqual((await context('validate')).credentials, []);
    const p = await context('pipeline');
    assert.deepEqual(p.pipeline.environments, ['staging', 'production']);
    assert.equal(p.environmentDetails.production.approvalRequired, true);
    assert.equal(p.environmentDetails.staging.approvalRequired, false);
    assert.ok(p.credentials.length >= 6, 'pipeline binds everything once');
    const ids = p.credentials.map((b: any) => b.credentialsId);
    assert.equal(new Set(ids).size, ids.length, 'no duplicate bindings');
  });

  it('an unknown step is a usage error', async () => {
    const dir = tempProject({ 'dify-ci.yml': GOOD_CONFIG });
    const r = await runCli(['context', '--step', 'deploi'], { cwd: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown step 'deploi'/);
  });
});

describe('dify-ci context with tenants', () => {
  it('binds per-tenant credential overrides from a CSV tenant file', async () => {
    const dir = tempProject({
      'dify-ci.yml': `apps: {bot: {dsl: bot.yml}}
environments:
  prod: {url: 'http://127.0.0.1:5001', auth: {mode: password, email: a@b.c, passwordEnv: P, credentialsId: dify-prod}}
tenants: {file: tenants.csv}
`,
      'tenants.csv': 'name,workspaceId,auth.mode,auth.tokenEnv,auth.credentialsId\nacme,ws-1,token,ACME_TOKEN,acme-token\nglobex,ws-2,,,\n',
    });
    const r = await runCli(['context', '--env', 'prod', '--step', 'deploy'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).credentials.map((b: any) => [b.credentialsId, b.variables]), [
      ['dify-prod', ['P']],
      ['acme-token', ['ACME_TOKEN']],
    ]);
  });
});
