/** deploy / plan end to end against the emulator over real HTTP (programmatic API). */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEmulator, type Emulator } from '../../runner/src/emulator/index.js';
import { DifyCiError } from '../../runner/src/core/errors.js';
import { getConsole } from '../../runner/src/dify/console.js';
import { getDraft } from '../../runner/src/dify/workflows.js';
import { createApiKey } from '../../runner/src/dify/api-keys.js';
import { deployTargets } from '../../runner/src/deploy/deploy.js';
import { readHistory } from '../../runner/src/deploy/history.js';
import { prepareTarget, toTargetPlan } from '../../runner/src/deploy/plan.js';
import type { PlanFile } from '../../runner/src/results/plan.js';
import { selectTargets } from '../../runner/src/deploy/targets.js';
import { assertNoCanary, CANARY, freshClients, project, useEmulatorProject } from './helpers.js';

const appsNamed = (emu: Emulator, name: string) => emu.state.apps.filter((a) => a.name === name);

describe('deploy against the emulator', () => {
  const ctx = useEmulatorProject();

  const deploy = (opts: Parameters<typeof deployTargets>[3] = {}, apps?: string) => {
    const cfg = ctx.p.config();
    return deployTargets(cfg, cfg.env!, apps, { environ: ctx.p.environ, ...opts });
  };
  const editPrompt = (text: string) => {
    ctx.p.write('workflow.yml', readFileSync(join(import.meta.dirname, 'fixtures/workflow.yml'), 'utf8').replace('Answer briefly.', text));
  };

  it('creates, publishes (marked with commit and build), verifies and records; re-deploy is a no-op', async () => {
    const r = await deploy({}, 'support,faq');
    assert.equal(r.status, 'success');
    assert.equal(r.authMode, 'password-cookie');
    const [wf, chat] = r.targets;
    assert.equal(wf!.status, 'deployed');
    assert.equal(wf!.resolvedBy, 'create');
    assert.equal(wf!.verified, true);
    assert.equal(wf!.contentHash, wf!.publishedHash);
    const app = appsNamed(ctx.emu, 'support-flow');
    assert.equal(app.length, 1);
    assert.equal(app[0]!.published.length, 1);
    assert.equal(app[0]!.published[0]!.markedName, '0123456789ab');
    assert.equal(app[0]!.workflowId, wf!.versionId);
    assert.equal(chat!.status, 'deployed');
    assert.equal(chat!.mode, 'chat');
    const hist = readHistory(ctx.p.config().paths.history, 'staging');
    assert.deepEqual(hist.map((h) => [h.target, h.status]), [['staging/support', 'deployed'], ['staging/faq', 'deployed']]);
    assert.equal(hist[0]!.gitCommit, '0123456789abcdef0123456789abcdef01234567');
    assert.equal(hist[0]!.buildUrl, 'https://jenkins.invalid/job/x/42/');

    freshClients();
    const again = await deploy();
    assert.deepEqual(again.targets.map((t) => [t.target, t.status, t.changed]), [['staging/support', 'unchanged', false], ['staging/faq', 'unchanged', false]]);
    assert.equal(appsNamed(ctx.emu, 'support-flow')[0]!.published.length, 1, 'no new version');

    const forced = await deploy({ force: true }, 'support');
    assert.equal(forced.targets[0]!.status, 'deployed');
    assert.equal(appsNamed(ctx.emu, 'support-flow')[0]!.published.length, 2, '--force republishes');
  });

  it('a changed prompt: plan shows it, deploy overwrites the same app and backs up the old version', async () => {
    const first = await deploy({}, 'support');
    editPrompt('Answer in detail.');
    const cfg = ctx.p.config();
    const c = getConsole(cfg.env!, { environ: ctx.p.environ });
    const [t] = selectTargets(cfg, cfg.env!, 'support');
    const plan = toTargetPlan(await prepareTarget(c, t!, { historyDir: cfg.paths.history, environ: ctx.p.environ }));
    assert.equal(plan.action, 'update');
    assert.equal(plan.summary!.promptChanges, 1);
    assert.match(plan.diff!.prompts[0]!.unified, /\+Answer in detail\./);
    assert.equal(plan.secrets.OPENAI_KEY, 'unchanged');
    const second = await deploy({}, 'support');
    const t2 = second.targets[0]!;
    assert.equal(t2.status, 'deployed');
    assert.equal(t2.appId, first.targets[0]!.appId, 'same app (overwrite by app_id)');
    assert.notEqual(t2.versionId, first.targets[0]!.versionId);
    assert.equal(t2.backups.length, 2, 'published + draft backed up');
    assert.ok(t2.backups.every((b) => existsSync(b) && b.includes(join('backups', 'staging', 'support'))));
    assert.match(readFileSync(t2.backups[0]!, 'utf8'), /Answer briefly\./);
  });

  it('a changed secret value is detected (changed/unchanged only) and deployed', async () => {
    await deploy({}, 'support');
    freshClients();
    ctx.p.environ.CANARY_SECRET = 'sk-rotated-Qw9900aa11';
    const r = await deploy({}, 'support');
    assert.equal(r.targets[0]!.status, 'deployed');
    assert.equal(r.targets[0]!.summary!.secretChanges, 1);
    assert.equal(r.targets[0]!.verified, true);
  });

  it('pending (newer DSL): a clear failure without --allow-version-upgrade, nothing created; confirmed with it', async () => {
    ctx.p.write('workflow.yml', readFileSync(join(ctx.p.dir, 'workflow.yml'), 'utf8').replace('version: 0.6.0', 'version: 0.7.0'));
    const r = await deploy({}, 'support');
    assert.equal(r.status, 'failed');
    assert.match(r.targets[0]!.error!, /pending: the DSL version 0\.7\.0 is newer than the server's 0\.6\.0; nothing was changed/);
    assert.ok(r.targets[0]!.warnings.some((w) => /--allow-version-upgrade/.test(w)));
    assert.equal(appsNamed(ctx.emu, 'support-flow').length, 0);
    const ok = await deploy({ allowVersionUpgrade: true }, 'support');
    assert.equal(ok.targets[0]!.status, 'deployed');
    assert.equal(appsNamed(ctx.emu, 'support-flow').length, 1);
  });

  it('bad input in any target stops the deploy before anything is written, naming file:line:column', async () => {
    ctx.p.write('workflow.yml', readFileSync(join(ctx.p.dir, 'workflow.yml'), 'utf8').replace("    value: https://example.invalid\n", '    value: null\n').replace('name: API_BASE', 'name: OTHER_VAR'));
    const before = ctx.emu.stats.requests;
    await assert.rejects(deploy({}), (e: unknown) => {
      assert.ok(e instanceof DifyCiError);
      assert.equal(e.exitCode, 2);
      assert.match(e.message, /nothing was changed in Dify/);
      assert.ok(e.details.some((d) => /workflow\.yml:\d+:\d+: error DSL\d{3}: /.test(d)), e.details.join('\n'));
      return true;
    });
    assert.equal(ctx.emu.stats.requests, before, 'not one request to Dify');
    assert.equal(appsNamed(ctx.emu, 'support-flow').length, 0);
  });

  it("a failed import reports Dify's error; missing plugins fail with their names before publishing", async () => {
    ctx.emu.setFaults([{ route: '/console/api/apps/imports', method: 'POST', status: 400, times: 1, body: { id: 'imp-1', status: 'failed', app_id: null, app_mode: null, current_dsl_version: '0.6.0', imported_dsl_version: '0.3.0', error: 'missing value' } }]);
    const r = await deploy({}, 'support');
    ctx.emu.setFaults([]);
    assert.equal(r.targets[0]!.status, 'failed');
    assert.match(r.targets[0]!.error!, /import of support-flow \(staging\/support\) failed: .*missing value/);
    assert.equal(appsNamed(ctx.emu, 'support-flow').length, 0);

    ctx.p.write('workflow.yml', readFileSync(join(import.meta.dirname, 'fixtures/workflow.yml'), 'utf8').replace('dependencies: []', 'dependencies:\n- {type: marketplace, value: {marketplace_plugin_unique_identifier: "langgenius/openai:0.2.3@0123456789abcdef0123456789abcdef"}, current_identifier: null}'));
    const d = await deploy({}, 'support');
    assert.equal(d.targets[0]!.status, 'failed');
    assert.match(d.targets[0]!.error!, /missing plugin\(s\) in the workspace: langgenius\/openai:0\.2\.3; the draft was updated but NOT published/);
    assert.equal(appsNamed(ctx.emu, 'support-flow')[0]!.published.length, 0);
  });

  it('a deploy that failed after importing does not make the next deploy see a UI edit', async () => {
    await deploy({}, 'support');
    const withDep = (text: string) =>
      readFileSync(join(import.meta.dirname, 'fixtures/workflow.yml'), 'utf8')
        .replace('Answer briefly.', text)
        .replace('dependencies: []', 'dependencies:\n- {type: marketplace, value: {marketplace_plugin_unique_identifier: "langgenius/openai:0.2.3"}, current_identifier: null}');
    ctx.p.write('workflow.yml', withDep('Second try.'));
    assert.equal((await deploy({}, 'support')).targets[0]!.status, 'failed');
    editPrompt('Third try.');
    const r = await deploy({}, 'support');
    assert.equal(r.targets[0]!.status, 'deployed', r.targets[0]!.error);
  });

  it('knowledge-base ids (encrypted by Dify on export) still verify and stay idempotent', async () => {
    const dsId = '3b5c8e0a-1111-4222-8333-944455556666';
    const kr = `    - data:
        dataset_ids: ['${dsId}']
        desc: ''
        query_variable_selector: [start, q]
        retrieval_mode: multiple
        title: Knowledge
        type: knowledge-retrieval
      id: kr
      position: {x: 0, y: 0}
      type: custom
`;
    ctx.p.write('workflow.yml', readFileSync(join(import.meta.dirname, 'fixtures/workflow.yml'), 'utf8').replace('    nodes:\n', `    nodes:\n${kr}`));
    const r = await deploy({}, 'support');
    assert.equal(r.targets[0]!.status, 'deployed', r.targets[0]!.error);
    assert.equal(r.targets[0]!.verified, true);
    assert.equal(r.targets[0]!.publishedHash, r.targets[0]!.contentHash, 'decrypted export equals Git');
    freshClients();
    assert.equal((await deploy({}, 'support')).targets[0]!.status, 'unchanged');
  });

  it('429 with Retry-After and 5xx-then-success are ridden out', async () => {
    ctx.emu.setFaults([
      { route: '/console/api/apps', method: 'GET', status: 429, body: { code: 'too_many_requests', message: 'slow down', status: 429 }, headers: { 'Retry-After': '1' }, times: 1 },
      { route: '/console/api/apps/*/export', method: 'GET', status: 503, times: 2 },
    ]);
    const r = await deploy({}, 'support');
    assert.equal(r.targets[0]!.status, 'deployed', r.targets[0]!.error);
    assert.equal(r.targets[0]!.verified, true);
    assert.deepEqual(ctx.emu.faultsFired(), [1, 2], 'the 429 and both 503s were really served');
  });

  it('a connection dropped after the create was processed never makes a duplicate app', async () => {
    ctx.emu.setFaults([{ route: '/console/api/apps/imports', method: 'POST', drop: true, afterResponse: true, times: 1 }]);
    const r = await deploy({}, 'support');
    assert.equal(r.targets[0]!.status, 'deployed', r.targets[0]!.error);
    assert.equal(appsNamed(ctx.emu, 'support-flow').length, 1);
    assert.equal(ctx.emu.stats.byRoute['POST /console/api/apps/imports'], 1, 'looked up by name, not imported again');
    assert.deepEqual(ctx.emu.faultsFired(), [1], 'the answer to the create was really dropped');
  });

  it('a dropped create that was NOT processed is retried once', async () => {
    ctx.emu.setFaults([{ route: '/console/api/apps/imports', method: 'POST', drop: true, times: 1 }]);
    const r = await deploy({}, 'support');
    assert.equal(r.targets[0]!.status, 'deployed', r.targets[0]!.error);
    assert.equal(appsNamed(ctx.emu, 'support-flow').length, 1);
    assert.deepEqual(ctx.emu.faultsFired(), [1], 'the first create was really dropped');
  });

  it('concurrent edit in the Dify UI: refused (nothing changed), then --force deploys over it with a backup', async () => {
    const first = await deploy({}, 'support');
    const appId = first.targets[0]!.appId!;
    // Someone edits the draft in the UI.
    const cfg = ctx.p.config();
    const c = getConsole(cfg.env!, { environ: ctx.p.environ });
    const draft = (await getDraft(c, appId))!;
    const graph = structuredClone(draft.graph) as { nodes: { id: string; data: { title: string } }[] };
    graph.nodes.find((n) => n.id === 'end')!.data.title = 'Edited in UI';
    await c.call({ method: 'POST', path: `/apps/${appId}/workflows/draft`, json: { graph, features: draft.features, hash: draft.hash, environment_variables: draft.environment_variables, conversation_variables: [] }, what: 'ui edit' });
    editPrompt('Answer in detail.');
    const refused = await deploy({}, 'support');
    assert.equal(refused.targets[0]!.status, 'refused');
    assert.match(refused.targets[0]!.error!, /edited in Dify since the last deploy/);
    assert.equal(refused.status, 'failed');
    assert.equal(ctx.emu.state.apps.find((a) => a.id === appId)!.published.length, 1);
    assert.equal(readHistory(cfg.paths.history, 'staging').at(-1)!.status, 'refused');
    const forced = await deploy({ force: true }, 'support');
    assert.equal(forced.targets[0]!.status, 'deployed');
    const draftBackup = forced.targets[0]!.backups.find((b) => b.endsWith('-draft.yml'))!;
    assert.match(readFileSync(draftBackup, 'utf8'), /Edited in UI/, 'the UI edit is kept in the backup');
  });

  it('deploy --plan applies an unchanged plan and refuses when the target moved', async () => {
    await deploy({}, 'support');
    editPrompt('Answer in detail.');
    const cfg = ctx.p.config();
    const c = getConsole(cfg.env!, { environ: ctx.p.environ });
    const mkPlan = async (): Promise<PlanFile> => ({
      kind: 'dify-ci-plan', version: 1, createdAt: new Date().toISOString(), env: 'staging', gitCommit: null,
      targets: [toTargetPlan(await prepareTarget(c, selectTargets(cfg, cfg.env!, 'support')[0]!, { historyDir: cfg.paths.history, environ: ctx.p.environ }))],
    });
    const plan = await mkPlan();
    // The target moves: someone publishes from Dify.
    const appId = plan.targets[0]!.appId!;
    await c.call({ method: 'POST', path: `/apps/${appId}/workflows/publish`, json: { marked_name: 'ui' }, what: 'ui publish' });
    const refused = await deploy({ plan }, 'support');
    assert.equal(refused.targets[0]!.status, 'refused');
    assert.match(refused.targets[0]!.error!, /moved since the plan: the published version changed/);
    const fresh = await mkPlan();
    const applied = await deploy({ plan: fresh }, 'support');
    assert.equal(applied.targets[0]!.status, 'deployed');
    // The DSL changes after the plan: refused too.
    editPrompt('Answer in three sentences.');
    const old = await deploy({ plan: fresh }, 'support');
    assert.match(old.targets[0]!.error!, /the DSL \(or its variables\) changed since the plan/);
  });

  it('chat apps: model-config keeps the app id and its API keys', async () => {
    const first = await deploy({}, 'faq');
    const appId = first.targets[0]!.appId!;
    const c = getConsole(ctx.p.config().env!, { environ: ctx.p.environ });
    const key = await createApiKey(c, appId);
    ctx.p.write('chat.yml', readFileSync(join(ctx.p.dir, 'chat.yml'), 'utf8').replace('Be concise.', 'Be very concise.'));
    const r = await deploy({}, 'faq');
    assert.equal(r.targets[0]!.status, 'deployed');
    assert.equal(r.targets[0]!.appId, appId);
    assert.equal(r.targets[0]!.verified, true);
    assert.ok(ctx.emu.state.apiKeys.some((k) => k.id === key.id && k.appId === appId));
    assert.match(JSON.stringify(ctx.emu.state.apps.find((a) => a.id === appId)!.modelConfig), /Be very concise/);
  });

  it('protected environments need --approved-by, which is recorded', async () => {
    ctx.p = project(ctx.emu.url, { envExtra: '    protected: true' });
    await assert.rejects(deploy({}, 'support'), (e: unknown) => e instanceof DifyCiError && e.exitCode === 2 && /protected.*--approved-by/.test(e.message));
    assert.equal(appsNamed(ctx.emu, 'support-flow').length, 0);
    const r = await deploy({ approvedBy: 'alice' }, 'support');
    assert.equal(r.targets[0]!.status, 'deployed');
    assert.equal(readHistory(ctx.p.config().paths.history, 'staging')[0]!.approvedBy, 'alice');
  });

  it('a configured app id that does not exist is refused, never created; ambiguous names too', async () => {
    ctx.p = project(ctx.emu.url, { envExtra: '    apps:\n      support: {appId: 11111111-2222-3333-4444-555555555555}' });
    const r = await deploy({}, 'support');
    assert.equal(r.targets[0]!.status, 'failed');
    assert.equal(r.targets[0]!.errorCategory, 'config');
    assert.match(r.targets[0]!.error!, /configured app id 11111111-2222-3333-4444-555555555555 does not exist/);
    assert.equal(ctx.emu.state.apps.length, 0);
  });

  it('--dry-run changes nothing and records nothing', async () => {
    const r = await deploy({ dryRun: true });
    assert.deepEqual(r.targets.map((t) => t.status), ['dry-run', 'dry-run']);
    assert.equal(ctx.emu.state.apps.length, 0);
    assert.equal(readHistory(ctx.p.config().paths.history, 'staging').length, 0);
  });

  it('openapi only: plan works, deploy says clearly that publishing needs a console session', async () => {
    const o = await startEmulator({ port: 0, openapi: true });
    try {
      ctx.p = project(o.url, { auth: `{mode: openapi, workspaceId: '${o.workspaceId}', tokenEnv: DFOA}`, environ: { DFOA: o.mintOpenApiToken() } });
      const cfg = ctx.p.config();
      const c = getConsole(cfg.env!, { environ: ctx.p.environ });
      const plan = toTargetPlan(await prepareTarget(c, selectTargets(cfg, cfg.env!, 'support')[0]!, { historyDir: cfg.paths.history, environ: ctx.p.environ }));
      assert.equal(plan.action, 'create');
      await assert.rejects(deploy({}, 'support'), (e: unknown) => e instanceof DifyCiError && e.exitCode === 2 && /needs the console API/.test(e.message) && e.details.some((d) => /password, token or admin-key/.test(d)));
      assert.equal(o.state.apps.length, 0);
    } finally {
      freshClients();
      await o.close();
    }
  });

  it('the canary secret never reaches Dify exports, backups, history or results', async () => {
    await deploy({}, 'support');
    editPrompt('Answer in detail.');
    await deploy({}, 'support');
    assert.ok(assertNoCanary(ctx.p.dir) >= 5);
    // It did reach Dify (where it belongs), encrypted at rest in the real thing.
    assert.match(JSON.stringify(ctx.emu.state.apps[0]!.draft!.environmentVariables), new RegExp(CANARY));
    assert.ok(readdirSync(join(ctx.p.dir, '.dify-ci')).includes('history'));
  });
});
