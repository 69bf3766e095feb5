/** docs/rules.md documents every rule: a section per id with what, why, a bad and a good example. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli.js';
import { allRuleMeta } from '../../runner/src/dsl/rules/index.js';
import { MAX_ALIAS_EXPANSION, MAX_DSL_DEPTH } from '../../runner/src/dsl/parse.js';

describe('dsl: docs/rules.md', () => {
  const doc = readFileSync(join(ROOT, 'docs/rules.md'), 'utf8');
  const sections = new Map(doc.split(/^## /m).slice(1).map((s) => [s.split('\n')[0]!.trim(), s]));

  it('has one section per rule, in sync with the registry, each with a bad and a good example', () => {
    const rules = allRuleMeta();
    assert.deepEqual([...sections.keys()], rules.map((r) => r.id));
    for (const r of rules) {
      const s = sections.get(r.id)!;
      assert.ok(s.includes(`**${r.name}** · ${r.severity} · ${r.group}`), r.id);
      assert.ok(s.includes(r.summary) && s.includes(r.help), `${r.id}: summary/help differ from the registry`);
      assert.match(s, /Bad:\n\n```\w+\n[\s\S]+?```\n\nGood:\n\n```\w+\n[\s\S]+?```/, r.id);
    }
  });

  it('states the DSL001 limits (nesting depth, alias expansion, refused characters) with the values the parser uses', () => {
    const s = sections.get('DSL001')!;
    assert.ok(s.includes(`at most ${MAX_DSL_DEPTH} levels of lists/mappings`), 'depth limit');
    assert.ok(s.includes(`may not exceed ${MAX_ALIAS_EXPANSION.toLocaleString('en-US')} nodes`), 'alias expansion limit');
    assert.match(s, /Reader\.NON_PRINTABLE/);
  });
});
