import { strict as assert } from 'node:assert';
import { parseDsl } from '../../runner/src/deploy/render.js';

// PyYAML (YAML 1.1 as Dify reads it) keeps `y`/`n` keys as strings; the yaml package's plain 1.1 schema does not.
describe('deploy: DSL text is read as PyYAML reads it', () => {
  it('keeps node positions {x, y} and yes/no values as Dify sees them', () => {
    const doc = parseDsl('app: {name: a, mode: workflow}\nkind: app\nversion: 0.6.0\nworkflow:\n  graph:\n    nodes:\n    - id: a\n      position: {x: 1, y: 2}\n      data: {type: start, title: Start, flag: yes}\n    edges: []\n', 'test.yml');
    const node = doc.workflow.graph.nodes[0];
    assert.deepEqual(Object.keys(node.position), ['x', 'y']);
    assert.equal(node.position.y, 2);
    assert.equal(node.data.flag, true, 'yes is a boolean in YAML 1.1');
  });

  it('unwraps the {"data": "<yaml>"} export wrapper with the same rules', () => {
    const inner = 'app: {name: a, mode: workflow}\nkind: app\nversion: 0.6.0\nworkflow: {graph: {nodes: [{id: a, position: {x: 0, y: 5}, data: {type: start}}], edges: []}}\n';
    const doc = parseDsl(JSON.stringify({ data: inner }), 'wrapped.json');
    assert.equal(doc.workflow.graph.nodes[0].position.y, 5);
  });
});
