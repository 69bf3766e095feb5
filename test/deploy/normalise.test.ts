import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DSL_FIXTURES } from '../helpers/shared.js';
import { canonicalJson, contentHash, isSubset, normaliseDsl, SECRET_MARKER } from '../../runner/src/deploy/normalise.js';
import { loadDsl, parseDsl, toYaml } from '../../runner/src/deploy/render.js';

const FIX = join(import.meta.dirname, 'fixtures');
const OFFICIAL = join(DSL_FIXTURES, 'dify-official');

describe('deploy/normalise', () => {
  const wf = () => structuredClone(loadDsl(join(FIX, 'workflow.yml')));

  it('ignores UI leftovers: positions, sizes, selection, viewport, zIndex, key order', () => {
    const a = wf();
    const b = wf();
    for (const n of b.workflow.graph.nodes) {
      n.position = { x: n.position.x + 500, y: 1 };
      n.positionAbsolute = { x: 1, y: 2 };
      n.width = 999;
      n.selected = !n.selected;
      n.data.selected = true;
      n.zIndex = 7;
      n.data._runningStatus = 'succeeded';
    }
    b.workflow.graph.viewport = { x: 5, y: 5, zoom: 0.4 };
    b.workflow.graph.edges.reverse();
    b.workflow.graph.nodes.reverse();
    for (const e of b.workflow.graph.edges) e.zIndex = 3;
    b.workflow.environment_variables.reverse();
    assert.equal(contentHash(a), contentHash(b));
  });

  it('ignores version, kind, dependencies and variable ids/selectors (Dify rewrites them)', () => {
    const a = wf();
    const b = wf();
    b.version = '0.3.1';
    b.kind = 'app';
    b.dependencies = [{ type: 'marketplace', value: { marketplace_plugin_unique_identifier: 'x/y:1' } }];
    for (const v of b.workflow.environment_variables) {
      v.id = 'other';
      delete v.selector;
    }
    assert.equal(contentHash(a), contentHash(b));
  });

  it('changes the hash on a prompt, model or variable change', () => {
    const base = contentHash(wf());
    const p = wf();
    p.workflow.graph.nodes[1].data.prompt_template[0].text += '\nBe nice.';
    const m = wf();
    m.workflow.graph.nodes[1].data.model.name = 'gpt-4o-mini';
    const v = wf();
    v.workflow.environment_variables[0].value = 'https://other.invalid';
    for (const d of [p, m, v]) assert.notEqual(contentHash(d), base);
  });

  it('redacts secret values, so the hash never depends on (or reveals) a secret', () => {
    const a = wf();
    const b = wf();
    b.workflow.environment_variables[2].value = 'sk-canary-0123456789';
    assert.equal(contentHash(a), contentHash(b));
    const n = normaliseDsl(b);
    assert.ok(!canonicalJson(n).includes('sk-canary'));
    assert.ok(canonicalJson(n).includes(SECRET_MARKER));
    assert.ok(canonicalJson(normaliseDsl(b, { secrets: 'keep' })).includes('sk-canary'));
  });

  it('treats CRLF like LF and null/empty like missing', () => {
    const a = wf();
    const b = wf();
    const t = b.workflow.graph.nodes[1].data.prompt_template[0];
    t.text = t.text.replace(/\n/g, '\r\n');
    b.workflow.conversation_variables = null;
    b.workflow.graph.nodes[0].data.extra = {};
    assert.equal(contentHash(a), contentHash(b));
  });

  it('round-trips every official fixture through toYaml/parseDsl with the same hash', () => {
    let n = 0;
    for (const f of readdirSync(OFFICIAL).filter((x) => x.endsWith('.yml'))) {
      let doc;
      try {
        doc = loadDsl(join(OFFICIAL, f));
      } catch {
        continue; // not an app (minimal_not_an_app.yml)
      }
      assert.equal(contentHash(parseDsl(toYaml(doc), f)), contentHash(doc), f);
      n++;
    }
    assert.ok(n >= 15, `only ${n} fixtures checked`);
  });

  it('isSubset accepts extra keys on the right, not different values', () => {
    assert.ok(isSubset({ a: 1, b: { c: [1, { d: 2 }] } }, { a: 1, x: 0, b: { c: [1, { d: 2, e: 3 }] } }));
    assert.ok(!isSubset({ a: 1 }, { a: 2 }));
    assert.ok(!isSubset({ a: [1, 2] }, { a: [1] }));
  });
});
