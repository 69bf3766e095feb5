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

/** Three kinds of environment: plain, approval-required (not protected), protected (approval required by default). */
const POLICY_CONFIG = `apps: {bot: {dsl: bot.yml}}
environments:
  dev: {url: 'http://127.0.0.1:5001', auth: {mode: token, tokenEnv: T, credentialsId: t}}
  qa: {url: 'http://127.0.0.1:5001', auth: {mode: token, tokenEnv: T, credentialsId: t}, approval: {required: true}}
  prod: {url: 'http://127.0.0.1:5001', auth: {mode: token, tokenEnv: T, credentialsId: t}, protected: true}
pipeline:
  environments: [dev, qa, prod]
  approval: {policy: always, everyNth: 3, mainBranch: trunk}
  shards: 2
  agentLabel: linux
`;

/** `dify-ci context --step pipeline` with its parameters in DIFY_CI_PARAMS_FILE, the way difyRun passes them. */
async function pipelineContext(params: Record<string, unknown>, config = POLICY_CONFIG) {
  const dir = tempProject({ 'dify-ci.yml': config, 'params.json': JSON.stringify({ step: 'pipeline', ...params }) });
  const r = await runCli(['context', '--result-file', join(dir, 'result.json')], { cwd: dir, env: { DIFY_CI_PARAMS_FILE: join(dir, 'params.json') } });
  const result = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'));
  return { code: r.code, stderr: r.stderr, result, data: result.data };
}

async function gates(params: Record<string, unknown>): Promise<Record<string, string>> {
  const c = await pipelineContext(params);
  assert.equal(c.code, 0, c.stderr);
  return Object.fromEntries(Object.entries(c.data.environmentDetails).map(([k, d]: [string, any]) => [k, d.gate]));
}

describe('dify-ci context --step pipeline: the approval policy', () => {
  const facts = { branch: 'feature/x', tag: null };
  const cases: [string, Record<string, unknown>, Record<string, string>][] = [
    ['always asks for approval-required and protected environments', { ...facts }, { dev: 'go', qa: 'ask', prod: 'ask' }],
    ['never: only the protected environment still asks (the runner needs an approver)', { ...facts, overrides: { approvalPolicy: 'never' } }, { dev: 'go', qa: 'go', prod: 'ask' }],
    ['main-branch: another branch stops before the environments that need approval', { ...facts, overrides: { approvalPolicy: 'main-branch' } }, { dev: 'go', qa: 'stop', prod: 'stop' }],
    ['main-branch: the main branch (pipeline.approval.mainBranch) asks', { ...facts, branch: 'trunk', overrides: { approvalPolicy: 'main-branch' } }, { dev: 'go', qa: 'ask', prod: 'ask' }],
    ['main-branch: the mainBranch option wins over the file', { ...facts, branch: 'trunk', overrides: { approvalPolicy: 'main-branch', mainBranch: 'main' } }, { dev: 'go', qa: 'stop', prod: 'stop' }],
    ['main-branch: no branch known stops', { overrides: { approvalPolicy: 'main-branch' } }, { dev: 'go', qa: 'stop', prod: 'stop' }],
    ['tags: a branch build stops', { ...facts, overrides: { approvalPolicy: 'tags' } }, { dev: 'go', qa: 'stop', prod: 'stop' }],
    ['tags: an empty tag is no tag', { ...facts, tag: '', overrides: { approvalPolicy: 'tags' } }, { dev: 'go', qa: 'stop', prod: 'stop' }],
    ['tags: a tag build (TAG_NAME or DIFY_DEPLOY_TAG) asks', { ...facts, tag: 'v1.2.0', overrides: { approvalPolicy: 'tags' } }, { dev: 'go', qa: 'ask', prod: 'ask' }],
    // every-nth counts good main builds in the deploy history: test/foundation/context-trusted.test.ts
    ['every-nth: another branch stops', { ...facts, overrides: { approvalPolicy: 'every-nth' } }, { dev: 'go', qa: 'stop', prod: 'stop' }],
    ['every-nth: a tag build asks', { ...facts, tag: 'v1.2.0', overrides: { approvalPolicy: 'every-nth' } }, { dev: 'go', qa: 'ask', prod: 'ask' }],
  ];
  for (const [title, params, expected] of cases) {
    it(title, async () => {
      assert.deepEqual(await gates(params), expected);
    });
  }

  it('the policy of the file applies without overrides', async () => {
    const file = POLICY_CONFIG.replace('policy: always', 'policy: main-branch');
    const c = await pipelineContext({ branch: 'trunk' }, file);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(c.data.pipeline.approvalPolicy, 'main-branch');
    assert.deepEqual(Object.values(c.data.environmentDetails).map((d: any) => d.gate), ['go', 'ask', 'ask']);
  });


  it('other steps carry no gate', async () => {
    const c = await context('deploy', 'staging');
    assert.equal(c.environmentDetails.production.gate, null);
  });
});

describe('dify-ci context --step pipeline: difyPipeline options', () => {
  it('the options win over pipeline: of the file; the rest comes from the file', async () => {
    const c = await pipelineContext({
      overrides: { environments: ['qa'], approvalPolicy: 'never', shards: 4, smokeUnstable: true, nodejsTool: 'node-20' },
    });
    assert.equal(c.code, 0, c.stderr);
    assert.deepEqual(c.data.pipeline, {
      environments: ['qa'],
      approvalPolicy: 'never',
      everyNth: 3,
      mainBranch: 'trunk',
      nodejsTool: 'node-20',
      agentLabel: 'linux',
      shards: 4,
      smokeUnstable: true,
    });
  });

  it('agentLabel and nodejsTool may be null (none), overriding the file', async () => {
    const c = await pipelineContext({ overrides: { agentLabel: null, nodejsTool: null } });
    assert.equal(c.code, 0, c.stderr);
    assert.deepEqual([c.data.pipeline.agentLabel, c.data.pipeline.nodejsTool], [null, null]);
  });

  it('without options the settings are the file\'s, with its defaults', async () => {
    const c = await pipelineContext({});
    assert.deepEqual(c.data.pipeline, {
      environments: ['dev', 'qa', 'prod'],
      approvalPolicy: 'always',
      everyNth: 3,
      mainBranch: 'trunk',
      nodejsTool: null,
      agentLabel: 'linux',
      shards: 2,
      smokeUnstable: false,
    });
  });

  const errors: [string, Record<string, unknown>, string][] = [
    ['an unknown environment', { environments: ['dev', 'prod2'] }, "difyPipeline: environments: no environment 'prod2' in dify-ci.yml (known: dev, qa, prod)"],
    ['environments that are not a list', { environments: 'dev' }, "difyPipeline: environments must be a list of environment keys, e.g. ['staging', 'production'] (got dev)"],
    ['everyNth as a string', { everyNth: '3' }, "difyPipeline: everyNth must be a whole number \u2265 1 (got '3')"],
    ['everyNth 0', { everyNth: 0 }, 'difyPipeline: everyNth must be a whole number \u2265 1 (got 0)'],
    ['everyNth -3', { everyNth: -3 }, 'difyPipeline: everyNth must be a whole number \u2265 1 (got -3)'],
    ['everyNth 2.5', { everyNth: 2.5 }, 'difyPipeline: everyNth must be a whole number \u2265 1 (got 2.5)'],
    ['everyNth null', { everyNth: null }, 'difyPipeline: everyNth must be a whole number \u2265 1 (got null)'],
    ['an unknown policy', { approvalPolicy: 'sometimes' }, "difyPipeline: approvalPolicy must be one of always, never, main-branch, tags, every-nth (got 'sometimes')"],
    ['shards above the schema maximum', { shards: 65 }, 'difyPipeline: shards must be a whole number from 1 to 64 (got 65)'],
    ['smokeUnstable as a string', { smokeUnstable: 'true' }, "difyPipeline: smokeUnstable must be true or false (got 'true')"],
    ['mainBranch that is not a string', { mainBranch: 1 }, 'difyPipeline: mainBranch must be a non-empty string (got 1)'],
    ['agentLabel that is not a string', { agentLabel: ['a'] }, 'difyPipeline: agentLabel must be a string or null (got ["a"])'],
    [
      'an unknown option',
      { aprovalPolicy: 'never' },
      "difyPipeline: unknown option 'aprovalPolicy' (known: environments, approvalPolicy, mainBranch, everyNth, agentLabel, nodejsTool, shards, smokeUnstable, config, pollSCM, jobProperties, extraProperties)",
    ],
  ];
  for (const [title, overrides, message] of errors) {
    it(`${title} is a usage error naming the option (exit 2)`, async () => {
      const c = await pipelineContext({ overrides });
      assert.equal(c.code, 2, c.stderr);
      assert.equal(c.result.status, 'error');
      assert.deepEqual([c.result.error.message, c.result.error.category], [message, 'usage']);
      assert.equal(c.result.data, undefined);
      assert.match(c.stderr, new RegExp(message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    });
  }

  it('--overrides must be a JSON object', async () => {
    for (const bad of ['[1]', '{"a":', 'null']) {
      const dir = tempProject({ 'dify-ci.yml': POLICY_CONFIG });
      const r = await runCli(['context', '--overrides', bad], { cwd: dir });
      assert.equal(r.code, 2, bad);
      assert.match(r.stderr, /--overrides must be a JSON object/);
    }
  });

  it('an unknown context parameter is still rejected', async () => {
    const c = await pipelineContext({ brnach: 'main' });
    assert.equal(c.code, 2);
    assert.match(c.result.error.message, /unknown parameter 'brnach' for 'context' \(known: .*branch.*\)/);
  });
});
