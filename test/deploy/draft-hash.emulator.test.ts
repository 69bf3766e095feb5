/**
 * A features-only edit in the Dify UI (dify-api.md §5.1 as corrected): Dify's draft hash covers graph + features on
 * most deployed servers and the graph only on the newest, so the concurrent-edit guard and drift detection must
 * compare what the draft holds, not Dify's hash. Both server kinds, against the emulator over real HTTP.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEmulator, type Emulator } from '../../runner/src/emulator/index.js';
import { clearSecrets } from '../../runner/src/core/mask.js';
import { getConsole } from '../../runner/src/dify/console.js';
import { getDraft } from '../../runner/src/dify/workflows.js';
import { deployTargets } from '../../runner/src/deploy/deploy.js';
import { prepareTarget } from '../../runner/src/deploy/plan.js';
import { statusTargets } from '../../runner/src/deploy/status.js';
import { selectTargets } from '../../runner/src/deploy/targets.js';
import { FIX, freshClients, project, type Project } from './helpers.js';

for (const scope of ['graph+features', 'graph'] as const) {
  describe(`a features-only UI edit is caught on a server hashing ${scope}`, function () {
    this.timeout(30_000);
    let emu: Emulator;
    let p: Project;
    before(async () => {
      emu = await startEmulator({ port: 0, draftHash: scope });
    });
    after(async () => {
      freshClients();
      clearSecrets();
      await emu.close();
    });

    it('status shows draft-edited, plan warns, deploy refuses without --force and keeps the edit in its backup', async () => {
      p = project(emu.url);
      const deploy = (force = false) => {
        const cfg = p.config();
        return deployTargets(cfg, cfg.env!, 'support', { environ: p.environ, force });
      };
      const first = await deploy();
      assert.equal(first.targets[0]!.status, 'deployed', first.targets[0]!.error);
      const appId = first.targets[0]!.appId!;

      // Someone changes only the opening statement in the Dify UI (the studio posts the draft with its hash).
      const cfg = p.config();
      const c = getConsole(cfg.env!, { environ: p.environ });
      const before = (await getDraft(c, appId))!;
      const features = { ...(before.features as Record<string, unknown>), opening_statement: 'Hello from the UI' };
      const res = await c.call({
        method: 'POST',
        path: `/apps/${appId}/workflows/draft`,
        json: { graph: before.graph, features, hash: before.hash, environment_variables: before.environment_variables, conversation_variables: [] },
        what: 'ui edit',
      });
      const newHash = (res.body as { hash: string }).hash;
      if (scope === 'graph') assert.equal(newHash, before.hash, 'the newest Dify: a features-only edit leaves the hash as it was');
      else assert.notEqual(newHash, before.hash, 'Dify 2024–2025: the hash covers the features');

      const status = await statusTargets(cfg, cfg.env!, 'support', { environ: p.environ });
      assert.ok(status.targets[0]!.drift.includes('draft-edited'), JSON.stringify(status.targets[0]!.drift));

      const plan = await prepareTarget(c, selectTargets(cfg, cfg.env!, 'support')[0]!, { historyDir: cfg.paths.history, environ: p.environ });
      assert.equal(plan.draftEdited, true);
      assert.ok(plan.warnings.some((w) => /edited in Dify since the last deploy/.test(w)));

      p.write('workflow.yml', readFileSync(join(FIX, 'workflow.yml'), 'utf8').replace('Answer briefly.', 'Answer in detail.'));
      const refused = await deploy();
      assert.equal(refused.targets[0]!.status, 'refused');
      assert.match(refused.targets[0]!.error!, /edited in Dify since the last deploy/);
      assert.equal(emu.state.apps.find((a) => a.id === appId)!.published.length, 1, 'nothing published');

      const forced = await deploy(true);
      assert.equal(forced.targets[0]!.status, 'deployed', forced.targets[0]!.error);
      const draftBackup = forced.targets[0]!.backups.find((b) => b.endsWith('-draft.yml'))!;
      assert.match(readFileSync(draftBackup, 'utf8'), /Hello from the UI/, 'the UI edit is kept in the backup');
    });
  });
}
