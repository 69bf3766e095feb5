/** rollback, backup and status against the emulator (programmatic API). */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getConsole } from '../../runner/src/dify/console.js';
import { exportDsl } from '../../runner/src/dify/export.js';
import { importDsl } from '../../runner/src/dify/imports.js';
import { publish } from '../../runner/src/dify/workflows.js';
import { backupEnvironment } from '../../runner/src/deploy/backup.js';
import { deployTargets } from '../../runner/src/deploy/deploy.js';
import { readHistory } from '../../runner/src/deploy/history.js';
import { contentHash } from '../../runner/src/deploy/normalise.js';
import { parseDsl } from '../../runner/src/deploy/render.js';
import { rollbackTargets } from '../../runner/src/deploy/rollback.js';
import { statusTargets } from '../../runner/src/deploy/status.js';
import { selectTargets } from '../../runner/src/deploy/targets.js';
import { assertNoCanary, FIX, freshClients, useEmulatorProject } from './helpers.js';

describe('rollback, backup and status against the emulator', () => {
  const ctx = useEmulatorProject();

  const deploy = (apps?: string) => {
    const cfg = ctx.p.config();
    return deployTargets(cfg, cfg.env!, apps, { environ: ctx.p.environ });
  };
  const rollback = (apps: string, to?: string) => {
    const cfg = ctx.p.config();
    return rollbackTargets(cfg, cfg.env!, apps, { environ: ctx.p.environ, to });
  };
  const setPrompt = (text: string) => ctx.p.write('workflow.yml', readFileSync(join(FIX, 'workflow.yml'), 'utf8').replace('Answer briefly.', text));
  const publishedExportHash = async (appId: string) => {
    const c = getConsole(ctx.p.config().env!, { environ: ctx.p.environ });
    const id = ctx.emu.state.apps.find((a) => a.id === appId)!.workflowId!;
    return contentHash(parseDsl((await exportDsl(c, appId, { workflowId: id }))!, 'x'));
  };

  it('workflow: rollback to previous restores v1 exactly (normalised export equal), publishes it marked, records it', async () => {
    const v1 = (await deploy('support')).targets[0]!;
    setPrompt('Answer in detail.');
    const v2 = (await deploy('support')).targets[0]!;
    assert.notEqual(v1.contentHash, v2.contentHash);
    const r = await rollback('support');
    const t = r.targets[0]!;
    assert.equal(t.status, 'rolled-back', t.error);
    assert.equal(t.from.versionId, v2.versionId);
    assert.equal(t.to.versionId, v1.versionId);
    assert.equal(t.verified, true);
    assert.equal(await publishedExportHash(t.appId!), v1.publishedHash);
    assert.match(t.diffText!, /-Answer in detail\./);
    const app = ctx.emu.state.apps.find((a) => a.id === t.appId)!;
    assert.equal(app.published.length, 3);
    assert.equal(app.published.at(-1)!.markedName, `rollback-${v2.versionId!.slice(0, 11)}`);
    const h = readHistory(ctx.p.config().paths.history, 'staging').at(-1)!;
    assert.equal(h.action, 'rollback');
    assert.equal(h.status, 'rolled-back');
    assert.equal(h.rollbackOf, v2.versionId);
    // The secret survived the restore (Dify keeps it in the version).
    assert.ok(JSON.stringify(app.draft!.environmentVariables).includes('sk-canary'));
    // A deploy after the rollback sees no concurrent edit: the rollback recorded the draft.
    freshClients();
    setPrompt('Answer in detail.');
    assert.equal((await deploy('support')).targets[0]!.status, 'deployed');
  });

  it('workflow: a server without the restore route (Flask 404 not_found) gets the version re-imported, under the target name', async () => {
    const v1 = (await deploy('support')).targets[0]!;
    setPrompt('Answer in detail.');
    await deploy('support');
    ctx.emu.setFaults([{ route: '/console/api/apps/*/workflows/*/restore', method: 'POST', status: 404, body: { code: 'not_found', message: 'The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.', status: 404 } }]);
    const r = await rollback('support');
    ctx.emu.setFaults([]);
    const t = r.targets[0]!;
    assert.equal(t.status, 'rolled-back', t.error);
    assert.ok(t.warnings.some((w) => /no version restore; re-importing/.test(w)), t.warnings.join('; '));
    assert.equal(t.verified, true);
    assert.equal(await publishedExportHash(t.appId!), v1.publishedHash);
    const app = ctx.emu.state.apps.find((a) => a.id === t.appId)!;
    assert.equal(app.name, v1.name, 'the app keeps its name');
    assert.ok(JSON.stringify(app.draft!.environmentVariables).includes('sk-canary'), 'secrets injected again on re-import');
  });

  it('workflow: rollback --to <versionId> and --to <backup file>; unknown versions are refused', async () => {
    const v1 = (await deploy('support')).targets[0]!;
    setPrompt('Second.');
    const v2 = (await deploy('support')).targets[0]!;
    setPrompt('Third.');
    const v3 = (await deploy('support')).targets[0]!;
    const byId = (await rollback('support', v1.versionId!)).targets[0]!;
    assert.equal(byId.status, 'rolled-back');
    assert.equal(await publishedExportHash(byId.appId!), v1.publishedHash);
    const backupOfV2 = v3.backups.find((b) => !b.endsWith('-draft.yml'))!;
    const byFile = (await rollback('support', backupOfV2)).targets[0]!;
    assert.equal(byFile.status, 'rolled-back', byFile.error);
    assert.equal(byFile.to.file, backupOfV2);
    assert.equal(await publishedExportHash(byFile.appId!), v2.publishedHash);
    const bad = (await rollback('support', '99999999-9999-9999-9999-999999999999')).targets[0]!;
    assert.equal(bad.status, 'failed');
    assert.match(bad.error!, /not a published version of app/);
  });

  it('chat: rollback to previous re-applies the newest differing backup', async () => {
    const v1 = (await deploy('faq')).targets[0]!;
    ctx.p.write('chat.yml', readFileSync(join(FIX, 'chat.yml'), 'utf8').replace('Be concise.', 'Be verbose.'));
    await deploy('faq');
    const r = (await rollback('faq')).targets[0]!;
    assert.equal(r.status, 'rolled-back', r.error);
    assert.equal(r.verified, true);
    const c = getConsole(ctx.p.config().env!, { environ: ctx.p.environ });
    assert.equal(contentHash(parseDsl((await exportDsl(c, r.appId!))!, 'x')), v1.publishedHash);
    assert.equal((await rollback('faq', 'some-version-id')).targets[0]!.status, 'failed');
  });

  it('backup: configured apps, or --all apps of the workspace, with index.json; no secrets', async () => {
    await deploy();
    const c = getConsole(ctx.p.config().env!, { environ: ctx.p.environ });
    const other = await importDsl(c, { yaml: readFileSync(join(FIX, 'workflow.yml'), 'utf8'), name: 'not-configured' });
    await publish(c, other.appId);
    const cfg = ctx.p.config();
    const some = await backupEnvironment(c, 'staging', selectTargets(cfg, cfg.env!), { all: false, outDir: join(ctx.p.dir, 'b1') });
    assert.deepEqual(some.apps.map((a) => [a.key, a.mode, a.exported]), [['support', 'workflow', 'published'], ['faq', 'chat', 'live']]);
    const all = await backupEnvironment(c, 'staging', [], { all: true, outDir: join(ctx.p.dir, 'b2') });
    assert.equal(all.apps.length, 3);
    const idx = JSON.parse(readFileSync(join(ctx.p.dir, 'b2', 'index.json'), 'utf8'));
    assert.equal(idx.apps.length, 3);
    for (const a of idx.apps) {
      assert.ok(existsSync(join(ctx.p.dir, 'b2', a.file)));
      assert.equal(contentHash(parseDsl(readFileSync(join(ctx.p.dir, 'b2', a.file), 'utf8'), a.file)), a.hash);
      assert.match(a.id, /^[0-9a-f-]{36}$/);
    }
    assert.ok(idx.apps.find((a: { name: string; version: string | null }) => a.name === 'not-configured').version);
    assertNoCanary(ctx.p.dir);
  });

  it('status: in sync after a deploy; drift when the app is changed in Dify or Git moves', async () => {
    const cfg = ctx.p.config();
    const before = await statusTargets(cfg, cfg.env!, 'support', { environ: { DIFY_PASSWORD: ctx.p.environ.DIFY_PASSWORD } });
    assert.deepEqual(before.targets[0]!.drift, ['not-deployed']);
    const d = (await deploy('support')).targets[0]!;
    let s = await statusTargets(cfg, cfg.env!, undefined, { environ: { DIFY_PASSWORD: ctx.p.environ.DIFY_PASSWORD } });
    assert.deepEqual(s.targets.map((t) => [t.target, t.inSync]), [['staging/support', true], ['staging/faq', false]]);
    assert.equal(s.targets[0]!.versionId, d.versionId);
    assert.equal(s.targets[0]!.publishedHash, d.publishedHash);
    assert.equal(s.targets[0]!.markedName, '0123456789ab');
    assert.equal(s.targets[0]!.last!.gitCommit, '0123456789abcdef0123456789abcdef01234567');
    // Someone imports and publishes another version in Dify.
    const c = getConsole(cfg.env!, { environ: ctx.p.environ });
    await importDsl(c, { yaml: readFileSync(join(FIX, 'workflow.yml'), 'utf8').replace('Answer briefly.', 'UI change.'), appId: d.appId!, name: 'support-flow' });
    await publish(c, d.appId!);
    s = await statusTargets(cfg, cfg.env!, 'support', { environ: { DIFY_PASSWORD: ctx.p.environ.DIFY_PASSWORD } });
    assert.deepEqual(s.targets[0]!.drift, ['live-changed', 'git-differs', 'draft-edited']);
    assert.equal(s.drifted, 1);
  });
});
