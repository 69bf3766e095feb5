import { strict as assert } from 'node:assert';
import { DifyCiError } from '../../runner/src/core/errors.js';
import { parseSuiteText } from '../../runner/src/smoke/suite.js';

const ISSUE_EXAMPLE = `defaults: { user: ci-smoke, mode: streaming, timeoutMs: 30000, repeat: 1 }
cases:
  - name: greets politely
    query: 你好
    inputs: { customer_tier: gold }
    assert:
      - contains: 您好
      - not-contains: 错误
      - regex: '^.{1,400}$'
      - latency: { maxMs: 8000 }
      - ttft: { maxMs: 2000 }
      - tokens: { max: 2000 }
  - name: workflow output
    inputs: { text: hello }
    assert:
      - output: { path: result, equals: HELLO }
      - status: succeeded
  - name: remembers the order id
    conversation:
      - { query: 'My order is 123', assert: [ { contains: '123' } ] }
      - { query: 'What was my order?', assert: [ { contains: '123' } ] }
`;

function errorOf(text: string): DifyCiError {
  try {
    parseSuiteText('tests/bot.yml', text);
  } catch (e) {
    assert.ok(e instanceof DifyCiError, `expected DifyCiError, got ${e}`);
    return e;
  }
  assert.fail('expected a suite error');
}

describe('smoke: suite files', () => {
  it('parses the example of the issue', () => {
    const s = parseSuiteText('tests/bot.yml', ISSUE_EXAMPLE);
    assert.equal(s.cases.length, 3);
    assert.deepEqual(s.defaults, { user: 'ci-smoke', mode: 'streaming', timeoutMs: 30000, repeat: 1, threshold: undefined, inputs: {} });
    const [greet, wf, conv] = s.cases;
    assert.equal(greet!.turns.length, 1);
    assert.equal(greet!.turns[0]!.query, '你好');
    assert.deepEqual(greet!.turns[0]!.inputs, { customer_tier: 'gold' });
    assert.deepEqual(
      greet!.turns[0]!.assert.map((a) => [a.type, a.negate, a.weight]),
      [['contains', false, 1], ['contains', true, 1], ['regex', false, 1], ['latency', false, 1], ['ttft', false, 1], ['tokens', false, 1]],
    );
    assert.equal(greet!.turns[0]!.assert[1]!.label, 'not-contains: 错误');
    assert.deepEqual(wf!.turns[0]!.assert[0]!.value, { path: 'result', equals: 'HELLO' });
    assert.equal(conv!.conversation, true);
    assert.deepEqual(conv!.turns.map((t) => t.query), ['My order is 123', 'What was my order?']);
    assert.equal(conv!.position?.line, 18);
  });

  it('merges default inputs under case and turn inputs; reads weight, threshold, required', () => {
    const s = parseSuiteText(
      't.yml',
      `defaults: { inputs: { tier: gold, lang: en }, threshold: 0.5 }
passRate: 0.9
cases:
  - name: a
    query: q
    inputs: { lang: zh }
    required: true
    assert:
      - contains: x
        weight: 3
      - is-json
      - not-is-json
  - name: b
    conversation:
      - query: one
        inputs: { turn: 1 }
    threshold: 0.25
`,
    );
    assert.equal(s.passRate, 0.9);
    const [a, b] = s.cases;
    assert.deepEqual(a!.turns[0]!.inputs, { tier: 'gold', lang: 'zh' });
    assert.equal(a!.required, true);
    assert.equal(a!.threshold, 0.5);
    assert.deepEqual(a!.turns[0]!.assert.map((x) => [x.type, x.negate, x.weight]), [['contains', false, 3], ['is-json', false, 1], ['is-json', true, 1]]);
    assert.deepEqual(b!.turns[0]!.inputs, { tier: 'gold', lang: 'en', turn: 1 });
    assert.equal(b!.threshold, 0.25);
  });

  it('names file:line:column and suggests the right key for a misspelt assertion', () => {
    const e = errorOf(`cases:
  - name: a
    query: q
    assert:
      - contians: x
`);
    assert.equal(e.category, 'input');
    assert.equal(e.exitCode, 2);
    assert.match(e.oneLine(), /^tests\/bot\.yml:5:9: unknown key 'contians' .*did you mean 'contains'/);
  });

  it('reports every problem at once, sorted by line', () => {
    const e = errorOf(`cases:
  - name: a
    query: q
    assert:
      - latency: { maxMS: 10 }
  - name: b
    query: q
    assert:
      - status: finished
      - regex: '([a-'
  - name: a
    query: q
`);
    const lines = [e.oneLine(), ...e.details];
    assert.ok(lines.some((l) => /:5:\d+: .*maxMS/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => /:9:\d+: .*status must match/.test(l)), lines.join('\n'));
    // Semantic problems (bad regex, duplicate names) are found once the schema passes.
    const e2 = errorOf(`cases:
  - name: a
    query: q
    assert:
      - regex: '([a-'
      - json-schema: { type: nonsense }
  - name: a
    query: q
`);
    const l2 = [e2.oneLine(), ...e2.details];
    assert.match(l2[0]!, /:5:\d+: regex: invalid regular expression/);
    assert.match(l2[1]!, /:6:\d+: json-schema: invalid JSON schema/);
    assert.match(l2[2]!, /:7:\d+: duplicate case name 'a' \(first at line 2\)/);
  });

  it('rejects two assertion types in one item, query with conversation, and a missing cases list', () => {
    assert.match(errorOf(`cases:\n  - name: a\n    query: q\n    assert:\n      - { contains: x, regex: y }\n`).oneLine(), /:5:\d+: one assertion per list item, found contains, regex/);
    assert.match(
      errorOf(`cases:\n  - name: a\n    query: q\n    conversation: [ { query: b } ]\n`).oneLine(),
      /:3:5: case 'a': use either query or conversation, not both/,
    );
    assert.match(errorOf(`defaults: {}\n`).oneLine(), /missing required key 'cases'/);
    assert.match(errorOf(`- a\n- b\n`).oneLine(), /:1:1: a smoke suite must be a mapping/);
    assert.match(errorOf(`cases:\n  - name: a\n    query: q\n    assert: [ contains ]\n`).oneLine(), /:4:\d+: .*must match \^\(not-\)\?is-json\$/);
  });

  it('reports YAML syntax errors with a position', () => {
    const e = errorOf(`cases:\n  - name: a\n    query: "unterminated\n`);
    assert.match(e.oneLine(), /^tests\/bot\.yml:\d+:\d+: /);
  });
});
