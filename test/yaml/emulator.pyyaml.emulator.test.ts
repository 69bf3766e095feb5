/**
 * The emulator imports and exports DSL through the PyYAML layer: it refuses what Dify's `yaml.safe_load` refuses
 * (a plain `=` → "Invalid YAML format"), what Dify cannot store (a date), keeps what PyYAML keeps as strings
 * (`08257`), and its exports read back in the real PyYAML as the data imported.
 */
import assert from 'node:assert/strict';
import { useEmulator } from '../helpers/emulator.js';
import { adminClient, importApp } from '../emulator/helpers.js';
import { pySafeLoad, pyyamlMissing } from './oracle.js';

const dsl = (operator: string, options: string, since = "''") => `app: {name: ops, mode: workflow, icon: '🤖', icon_background: '#FFEAD5', description: ''}
kind: app
version: 0.3.1
workflow:
  graph:
    edges:
    - {id: e1, source: start, sourceHandle: source, target: check, targetHandle: target}
    - {id: e2, source: check, sourceHandle: 'true', target: end, targetHandle: target}
    nodes:
    - id: start
      position: {x: 0, y: 0}
      data:
        type: start
        title: Start
        variables:
        - {variable: zip, label: Zip, type: select, required: true, options: ${options}, default: ${since}}
    - id: check
      position: {x: 300, y: 0}
      data:
        type: if-else
        title: Check
        cases:
        - case_id: 'true'
          logical_operator: and
          conditions:
          - {id: c1, variable_selector: [start, zip], comparison_operator: ${operator}, value: '08257'}
    - id: end
      position: {x: 600, y: 0}
      data: {type: end, title: End, outputs: []}
  features: {}
  environment_variables: []
  conversation_variables: []
`;

describe('yaml: the emulator reads and writes DSL as Dify (PyYAML) does', function () {
  this.timeout(60_000);
  const emu = useEmulator();

  it('refuses a plain `=` like Dify ("Invalid YAML format: … tag:yaml.org,2002:value") and accepts the quoted one', async () => {
    const c = await adminClient(emu());
    const bad = await importApp(c, dsl('=', '[a]'));
    assert.equal(bad.status, 400);
    assert.equal(bad.json.status, 'failed');
    assert.match(bad.json.error, /^Invalid YAML format: could not determine a constructor for the tag 'tag:yaml\.org,2002:value'/);
    const good = await importApp(c, dsl("'='", '[a]'));
    assert.equal(good.status, 200, good.text);
  });

  it('refuses a date Dify could not store, with the json.dumps error', async () => {
    const c = await adminClient(emu());
    const r = await importApp(c, dsl("'='", '[a]', '2024-01-01'));
    assert.equal(r.json.status, 'failed');
    assert.match(r.json.error, /Object of type date is not JSON serializable/);
  });

  it('keeps 000568 and 08257 strings (not octal-looking numbers) and exports them so PyYAML reads strings', async function () {
    const c = await adminClient(emu());
    const imp = await importApp(c, dsl("'='", '[000568, 08257, 0777, yes, y]'));
    assert.equal(imp.status, 200, imp.text);
    const exp = await c.req('GET', `/console/api/apps/${imp.json.app_id}/export?include_secret=false`);
    const text = exp.json.data as string;
    assert.match(text, /comparison_operator: '='/);
    if (pyyamlMissing()) this.skip();
    const [answer] = pySafeLoad([text]);
    assert.ok(answer && 'value' in answer, JSON.stringify(answer));
    const start = (answer.value as any).workflow.graph.nodes.find((n: any) => n.id === 'start');
    assert.deepEqual(start.data.variables[0].options, ['000568', '08257', 511, true, 'y']);
  });
});
