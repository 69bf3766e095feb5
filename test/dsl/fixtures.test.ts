/**
 * Every real export in shared/fixtures/dify-dsl must validate without errors, except the files holding
 * credentials (flagged by the secrets rule, nothing else) and the deliberate negative case.
 */
import assert from 'node:assert/strict';
import { check, fixtureNames, fixture, ids } from './helpers.js';

/** Files with credential-like strings, and how many each must report (DSL071/DSL070). */
const SECRET_FILES: Record<string, number> = {
  'community/51-': 1, // env apikey sk-…
  'community/54-': 1, // env apikey sk-… (synthetic provider key)
  'community/74-': 6, // Metaso key typed into six http-request nodes (authorization.config.api_key)
  'community/76-': 1, // env apikey sk-…
  'community/87-': 1, // env apikey sk-…
  'community/FLUX': 1, // env apikey sk-… (synthetic provider key)
  'community/人物头像': 1, // env apikey sk-…
  'community/儿童故事绘本文生视频': 1, // env apikey used as a Bearer token
  'community/即梦AI绘画': 2, // env session id used as a Bearer token + WeCom hook_key
  'community/诗句封面': 1, // api key typed into an http-request node
};
const NOT_AN_APP = 'dify-official/minimal_not_an_app.yml';
/** Real defects in real exports: the errors each must report, by rule (and nothing else). */
const REAL_DEFECTS: Record<string, Record<string, number>> = {
  // The start node has no input `marketType` (a parameter extractor makes it): four references that never resolve.
  'community/股票分析': { DSL056: 4 },
};
const defectsOf = (name: string) => Object.entries(REAL_DEFECTS).find(([k]) => name.startsWith(k))?.[1];

function secretCount(name: string): number | undefined {
  const key = Object.keys(SECRET_FILES).find((k) => name.startsWith(k));
  return key ? SECRET_FILES[key] : undefined;
}

describe('dsl: the real fixture folder', () => {
  const names = fixtureNames();

  it('holds the 66 fixtures the suite is written for', () => {
    assert.equal(names.length, 66);
    for (const k of Object.keys(SECRET_FILES)) assert.equal(names.filter((n) => n.startsWith(k)).length, 1, k);
  });

  it('reports errors exactly for the secret-bearing files and the non-app', () => {
    const flagged: string[] = [];
    for (const name of names) {
      const findings = check(fixture(name), {}, name);
      const errors = findings.filter((f) => f.severity === 'error');
      if (name === NOT_AN_APP) {
        assert.deepEqual(ids(errors), ['DSL020'], `${name}: ${JSON.stringify(errors)}`);
        continue;
      }
      const expected = secretCount(name);
      const defects = defectsOf(name);
      if (defects) {
        const byRule: Record<string, number> = {};
        for (const e of errors) byRule[e.ruleId] = (byRule[e.ruleId] ?? 0) + 1;
        assert.deepEqual(byRule, defects, `${name}: ${errors.map((e) => e.message).join('\n')}`);
        continue;
      }
      if (expected === undefined) {
        assert.deepEqual(errors, [], `${name} must have no errors`);
        continue;
      }
      flagged.push(name);
      assert.deepEqual([...new Set(ids(errors))], ['DSL071'], `${name}: only the secrets rule may fail it`);
      assert.equal(errors.length, expected, `${name}: ${errors.map((e) => e.message).join('\n')}`);
    }
    assert.equal(flagged.length, Object.keys(SECRET_FILES).length);
  });

  it('points every secret finding at the line holding the value, and never prints the value', () => {
    for (const name of names.filter((n) => secretCount(n) !== undefined)) {
      const text = fixture(name);
      const lines = text.split('\n');
      for (const f of check(text, {}, name).filter((x) => x.ruleId === 'DSL071')) {
        const line = lines[f.line - 1]!;
        const raw = line.slice(f.column - 1).trim().replace(/^['"]|['"]$/g, '');
        assert.ok(raw.length >= 12, `${name}:${f.line}:${f.column} points at '${line}'`);
        assert.ok(!f.message.includes(raw), `${name}: message shows the secret: ${f.message}`);
        assert.match(f.message, /…/);
      }
    }
  });

  it('flags both synthetic provider keys the fixture README mentions, masked', () => {
    for (const [name, key] of [
      ['community/54-', 'sk-0f3a9c1e7b2d4e6fa8c5b7d9e1f20364'],
      ['community/FLUX', 'sk-qzvtfixturekeyabcdmnopqrstuvwxyzlmnopqrstuvwx'],
    ] as const) {
      const text = fixture(name);
      assert.ok(text.includes(key));
      const [f] = check(text).filter((x) => x.ruleId === 'DSL071');
      assert.ok(f, name);
      assert.equal(text.split('\n')[f.line - 1]!.includes(key), true);
      assert.ok(!f.message.includes(key));
      assert.match(f.message, /OpenAI-style API key\) sk-[0q]…[0-9a-z]{2} \(\d+ chars\)/);
    }
  });

  it('does not flag placeholders (zhouhuixxxx, mk-xxxxxxxx, prose) as credentials', () => {
    for (const name of ['community/股票分析', 'community/83-']) {
      assert.deepEqual(ids(check(fixture(name)), 'error').filter((id) => id.startsWith('DSL07')), [], name);
    }
  });
});
