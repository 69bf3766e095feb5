import { strict as assert } from 'node:assert';
import { ASSERTION_TYPES, runAssertion, scoreOf } from '../../runner/src/smoke/assertions/index.js';
import { countWords } from '../../runner/src/smoke/assertions/text.js';
import { levenshtein, similarityRatio } from '../../runner/src/smoke/assertions/similarity.js';
import { addDecimals } from '../../runner/src/smoke/decimal.js';
import type { AssertionSpec, Observation } from '../../runner/src/smoke/types.js';

function obs(over: Partial<Observation> = {}): Observation {
  return {
    mode: 'chat',
    responseMode: 'streaming',
    status: 'succeeded',
    answer: '您好，您的订单 123 已发货。',
    nodeFailures: [],
    latencyMs: 120,
    ttftMs: 40,
    usage: { totalTokens: 30, totalPrice: '0.0001500', currency: 'USD' },
    retries: 0,
    retryReasons: [],
    notes: [],
    events: 5,
    ...over,
  };
}

function spec(key: string, value: unknown, weight = 1): AssertionSpec {
  const negate = key.startsWith('not-');
  return { type: negate ? key.slice(4) : key, negate, value, weight, label: key };
}

function check(key: string, value: unknown, o: Observation = obs()) {
  return runAssertion(spec(key, value), o);
}

/** Every assertion type with a value that passes and one that fails on the given observation. */
const CASES: Array<{ type: string; pass: unknown; fail: unknown; o?: Observation; failObs?: Observation }> = [
  { type: 'equals', pass: '您好，您的订单 123 已发货。', fail: '您好' },
  { type: 'contains', pass: '123', fail: '错误' },
  { type: 'icontains', pass: 'HELLO', fail: 'bye', o: obs({ answer: 'hello World' }) },
  { type: 'contains-any', pass: ['x', '订单'], fail: ['x', 'y'] },
  { type: 'contains-all', pass: ['订单', '123'], fail: ['订单', '456'] },
  { type: 'starts-with', pass: '您好', fail: '你好' },
  { type: 'regex', pass: '^.{1,400}$', fail: '^\\d+$' },
  { type: 'is-json', pass: true, fail: true, o: obs({ answer: ' {"a": [1, 2]} ' }), failObs: obs({ answer: 'plain text' }) },
  { type: 'json-schema', pass: { type: 'object', required: ['a'] }, fail: { type: 'object', required: ['b'] }, o: obs({ answer: '{"a": 1}' }) },
  { type: 'output', pass: { path: 'result', equals: 'HELLO' }, fail: { path: 'result', equals: 'hello' }, o: obs({ mode: 'workflow', outputs: { result: 'HELLO' }, answer: 'HELLO' }) },
  { type: 'status', pass: 'succeeded', fail: ['failed', 'error'] },
  { type: 'latency', pass: { maxMs: 120 }, fail: 119 },
  { type: 'ttft', pass: 40, fail: { maxMs: 39 } },
  { type: 'tokens', pass: { max: 30 }, fail: { min: 31 } },
  { type: 'cost', pass: 0.00015, fail: { max: 0.0001 } },
  { type: 'word-count', pass: { min: 3, max: 20 }, fail: 2 },
  { type: 'similarity', pass: { value: '您好，您的订单 123 已发货', threshold: 0.9 }, fail: '完全不同的一句话' },
];

describe('smoke: assertions', () => {
  it('covers every registered type in this table', () => {
    assert.deepEqual(CASES.map((c) => c.type).sort(), [...ASSERTION_TYPES].sort());
  });

  for (const c of CASES) {
    it(`${c.type}: passes, fails, and not-${c.type} flips both`, () => {
      const o = c.o ?? obs();
      const p = check(c.type, c.pass, o);
      assert.equal(p.pass, true, `${c.type} should pass: ${p.reason}`);
      if (c.type === 'similarity') assert.ok(p.score > 0 && p.score <= 1, `similarity score ${p.score}`);
      else assert.equal(p.score, 1);
      const f = check(c.type, c.fail, c.failObs ?? o);
      assert.equal(f.pass, false, `${c.type} should fail: ${f.reason}`);
      assert.ok(f.reason.length > 0);
      assert.equal(check(`not-${c.type}`, c.pass, o).pass, false, `not-${c.type} of a passing value fails`);
      assert.equal(check(`not-${c.type}`, c.fail, c.failObs ?? o).pass, true, `not-${c.type} of a failing value passes`);
    });
  }

  it('reasons state facts, so a negated failure explains itself', () => {
    const r = check('not-contains', '123');
    assert.equal(r.pass, false);
    assert.equal(r.reason, 'answer contains "123"');
    assert.equal(r.type, 'not-contains');
    assert.match(check('latency', { maxMs: 100 }).reason, /latency 120 ms > 100 ms/);
    assert.match(check('status', 'succeeded', obs({ status: 'error', error: { code: 'completion_request_error', message: 'boom' } })).reason, /status is error, expected succeeded \(completion_request_error: boom\)/);
  });

  it('missing data fails both the assertion and its negation', () => {
    const noTtft = obs({ ttftMs: undefined, responseMode: 'blocking' });
    assert.equal(check('ttft', 1000, noTtft).pass, false);
    assert.equal(check('not-ttft', 1000, noTtft).pass, false);
    const chat = obs();
    assert.equal(check('output', { path: 'x' }, chat).pass, false);
    assert.equal(check('not-output', { path: 'x' }, chat).pass, false);
    assert.equal(check('not-tokens', 5, obs({ usage: {} })).pass, false);
    assert.equal(check('not-cost', 5, obs({ usage: {} })).pass, false);
  });

  it('equals compares structured values with the answer parsed as JSON', () => {
    assert.equal(check('equals', 42, obs({ answer: ' 42\n' })).pass, true);
    assert.equal(check('equals', { a: [1, 2] }, obs({ answer: '{"a":[1,2]}' })).pass, true);
    assert.equal(check('equals', { a: [2, 1] }, obs({ answer: '{"a":[1,2]}' })).pass, false);
  });

  it('output navigates paths and supports contains, regex and exists', () => {
    const o = obs({ mode: 'workflow', outputs: { items: [{ name: 'Ada' }], n: 3 } });
    assert.equal(check('output', { path: 'items[0].name', equals: 'Ada' }, o).pass, true);
    assert.equal(check('output', { path: 'items.0.name', contains: 'd' }, o).pass, true);
    assert.equal(check('output', { path: 'n', equals: 3 }, o).pass, true);
    assert.equal(check('output', { path: 'n', regex: '^\\d$' }, o).pass, true);
    assert.equal(check('output', { path: 'missing', exists: false }, o).pass, true);
    assert.equal(check('output', { path: 'missing' }, o).pass, false);
    assert.match(check('output', { path: 'missing' }, o).reason, /outputs\.missing is absent \(outputs: items, n\)/);
  });

  it('regex defaults to dotAll so multi-line answers match length limits', () => {
    assert.equal(check('regex', '^.{1,400}$', obs({ answer: 'line one\nline two' })).pass, true);
    assert.equal(check('regex', { pattern: '^.{1,400}$', flags: '' }, obs({ answer: 'line one\nline two' })).pass, false);
    assert.equal(check('regex', '^.{1,5}$', obs({ answer: 'x'.repeat(6) })).pass, false);
  });

  it('counts CJK words and measures similarity over code points', () => {
    assert.equal(countWords('Hello world, 123'), 3);
    assert.ok(countWords('你好，我是客服') >= 3);
    assert.equal(levenshtein('kitten', 'sitting'), 3);
    assert.equal(levenshtein('😀a', '😀b'), 1);
    assert.equal(similarityRatio('', ''), 1);
    const r = check('similarity', 'hello world', obs({ answer: 'hello wrld' }));
    assert.ok(r.pass && r.score > 0.8 && r.score < 1, r.reason);
  });

  it('scores by weight, with or without a threshold; weight 0 is informational', () => {
    const o = obs();
    const results = [runAssertion(spec('contains', '123', 3), o), runAssertion(spec('contains', 'nope', 1), o), runAssertion(spec('contains', 'nope', 0), o)];
    assert.deepEqual(scoreOf(results), { score: 0.75, pass: false });
    assert.deepEqual(scoreOf(results, 0.75), { score: 0.75, pass: true });
    assert.deepEqual(scoreOf(results, 0.8), { score: 0.75, pass: false });
    assert.deepEqual(scoreOf([runAssertion(spec('contains', 'nope', 0), o)]), { score: 1, pass: true });
  });

  it('sums decimal price strings exactly', () => {
    assert.equal(addDecimals(['0.1', '0.2']), '0.3');
    assert.equal(addDecimals(['0.0012890', '0.0000110', undefined, 'garbage']), '0.0013');
    assert.equal(addDecimals([]), '0');
  });
});
