/**
 * Every real DSL in shared/fixtures/dify-dsl imports with the status real Dify gives, exports back equivalent
 * content, and — once published — answers a service-API call.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DSL_FIXTURES } from '../helpers/shared.js';
import { parseDocument } from 'yaml';
import { pyyamlTags } from '../../runner/src/dsl/parse.js';
import { startEmulator, type Emulator } from '../../runner/src/emulator/index.js';
import { Client, adminClient, importApp, parseSse, service } from './helpers.js';

const ROOT = DSL_FIXTURES;
const files = ['dify-official', 'community'].flatMap((d) =>
  readdirSync(join(ROOT, d))
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => join(ROOT, d, f)),
);

const load = (text: string): any => parseDocument(text, { version: '1.1', customTags: pyyamlTags, uniqueKeys: false }).toJS({ maxAliasCount: -1 });

/** What the exporter legitimately changes: tool credential ids (no include_secret), secrets, knowledge ids. */
function normaliseGraph(graph: any): any {
  const g = structuredClone(graph ?? {});
  for (const n of g.nodes ?? []) {
    const d = n?.data;
    if (!d) continue;
    if (d.type === 'tool') delete d.credential_id;
    if (d.type === 'knowledge-retrieval') delete d.dataset_ids;
    if (d.type === 'agent') for (const t of d.agent_parameters?.tools?.value ?? []) delete t.credential_id;
  }
  return g;
}

function sampleInputs(vars: any[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const v of vars ?? []) {
    if (!v?.variable) continue;
    switch (v.type) {
      case 'number':
        out[v.variable] = 1;
        break;
      case 'select':
        out[v.variable] = v.options?.[0] ?? 'a';
        break;
      case 'file':
        out[v.variable] = { type: 'document', transfer_method: 'remote_url', url: 'https://example.com/a.pdf' };
        break;
      case 'file-list':
        out[v.variable] = [{ type: 'document', transfer_method: 'remote_url', url: 'https://example.com/a.pdf' }];
        break;
      case 'checkbox':
        out[v.variable] = true;
        break;
      case 'json_object':
        out[v.variable] = { a: 1 };
        break;
      default:
        out[v.variable] = 'hello 123';
    }
  }
  return out;
}

describe('real DSL fixtures: import, export, publish, run', function () {
  let emu: Emulator;
  let c: Client;
  before(async () => {
    emu = await startEmulator({ port: 0 });
    c = await adminClient(emu);
  });
  after(async () => emu.close());

  it('found both fixture folders', () => {
    assert.ok(files.filter((f) => f.includes('/dify-official/')).length >= 20);
    assert.ok(files.filter((f) => f.includes('/community/')).length >= 40);
  });

  for (const file of files) {
    const short = file.slice(ROOT.length + 1);
    it(short, async () => {
      const text = readFileSync(file, 'utf8');
      const src = load(text);
      const r = await importApp(c, text);
      if (short.endsWith('minimal_not_an_app.yml')) {
        assert.equal(r.status, 400);
        assert.equal(r.json.status, 'failed');
        assert.equal(r.json.error, 'Missing app data in YAML content');
        assert.equal(r.json.app_id, null);
        return;
      }
      // Every fixture is older than 0.6.0 (or has no version at all: 0.1.0).
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.status, 'completed-with-warnings');
      assert.equal(r.json.imported_dsl_version, src.version ?? '0.1.0');
      assert.equal(r.json.app_mode, src.app.mode);
      const appId = r.json.app_id as string;

      // Export: equivalent content.
      const exp = await c.req('GET', `/console/api/apps/${appId}/export?include_secret=false&format=yaml`);
      assert.equal(exp.status, 200);
      const out = load(exp.json.data);
      assert.equal(out.kind, 'app');
      assert.equal(out.version, '0.6.0');
      assert.equal(out.app.name, src.app.name);
      assert.equal(out.app.mode, src.app.mode);
      const workflowMode = ['workflow', 'advanced-chat'].includes(src.app.mode);
      if (workflowMode) {
        assert.deepEqual(normaliseGraph(out.workflow.graph), normaliseGraph(src.workflow.graph));
        assert.deepEqual(out.workflow.features, src.workflow.features ?? {});
        assert.deepEqual(
          out.workflow.environment_variables.map((v: any) => [v.name, v.value_type, v.value_type === 'secret' ? '' : v.value]),
          (src.workflow.environment_variables ?? []).map((v: any) => [v.name, v.value_type, v.value_type === 'secret' ? '' : v.value]),
        );
        assert.deepEqual(
          out.workflow.conversation_variables.map((v: any) => [v.name, v.value_type, v.value]),
          (src.workflow.conversation_variables ?? []).map((v: any) => [v.name, v.value_type, v.value]),
        );
        // A second round trip is stable.
        const again = await importApp(c, exp.json.data);
        assert.equal(again.json.status, 'completed');
        const exp2 = await c.req('GET', `/console/api/apps/${again.json.app_id}/export?include_secret=false&format=yaml`);
        assert.deepEqual(normaliseGraph(load(exp2.json.data).workflow.graph), normaliseGraph(out.workflow.graph));
        await c.req('DELETE', `/console/api/apps/${again.json.app_id}`);
        const pub = await c.req('POST', `/console/api/apps/${appId}/workflows/publish`, { body: {} });
        assert.equal(pub.status, 200);
      } else {
        const strip = (mc: any) => {
          const m = structuredClone(mc);
          for (const t of m?.agent_mode?.tools ?? []) delete t.credential_id;
          return m;
        };
        assert.deepEqual(strip(out.model_config), strip(src.model_config));
      }

      // Service API.
      const key = (await c.req('POST', `/console/api/apps/${appId}/api-keys`)).json.token as string;
      const params = await service(emu, key, 'GET', '/parameters');
      assert.equal(params.status, 200, params.text);
      const form = (params.json.user_input_form as Record<string, any>[]).map((item) => {
        const [type, v] = Object.entries(item)[0]!;
        return { ...v, type };
      });
      const inputs = sampleInputs(form);
      const mode = src.app.mode as string;
      if (mode === 'workflow') {
        const s = await service(emu, key, 'POST', '/workflows/run', { inputs, user: 'fixture', response_mode: 'blocking' });
        assert.equal(s.status, 200, s.text);
        assert.equal(s.json.data.status, 'succeeded', s.json.data.error);
      } else if (mode === 'completion') {
        const s = await service(emu, key, 'POST', '/completion-messages', { inputs, user: 'fixture', response_mode: 'blocking' });
        assert.equal(s.status, 200, s.text);
        assert.ok(s.json.answer.length > 0);
      } else {
        const s = await service(emu, key, 'POST', '/chat-messages', { inputs, query: 'hello 123', user: 'fixture', response_mode: 'streaming' });
        assert.equal(s.status, 200, s.text);
        const events = parseSse(s.text).filter((e) => !e.ping);
        const last = events[events.length - 1]!;
        assert.notEqual(last.event, 'error', JSON.stringify(last));
        assert.equal(last.event, 'message_end');
        if (mode === 'advanced-chat') {
          const finished = events[events.length - 2]!;
          assert.equal(finished.event, 'workflow_finished');
          assert.equal(finished.data.status, 'succeeded', finished.data.error);
        }
      }
    });
  }
});
