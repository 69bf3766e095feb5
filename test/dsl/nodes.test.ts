/**
 * Mutants for the node-configuration rules (DSL040 condition operators, DSL041 assigner items) and for DSL056 as
 * an error: each takes a real export, breaks it the way a person or another tool would, and checks that exactly
 * the expected rule fires, at the right line, with a message that says what Dify does and how to fix it.
 */
import assert from 'node:assert/strict';
import type { Finding } from '../../runner/src/dsl/types.js';
import { check, fixture, lineOf, replaceOnce } from './helpers.js';

const CHB = 'dify-official/conditional_hello_branching_workflow.yml'; // start (query: text-input) → if-else contains 'hello'
const LOOP = 'dify-official/increment_loop_with_break_condition_workflow.yml'; // loop: break when num ≥ 5; assigner v2 += 1
const TSCV = 'dify-official/test_streaming_conversation_variables.yml'; // assigner v2 over-writes conversation.str
const BLW = 'dify-official/basic_llm_chat_workflow.yml';
const COND = '          - comparison_operator: contains\n            id: 8c8a76f8-d3c2-4203-ab52-87b0abf486b9\n            value: hello\n            varType: string\n';

/** Findings of `rule` in the mutant, after checking that no other rule fires more often than on the original. */
function fires(name: string, mutate: (t: string) => string, rule: string): { found: Finding[]; text: string } {
  const original = fixture(name);
  const text = mutate(original);
  const count = (fs: Finding[]) => fs.reduce((m, f) => m.set(f.ruleId, (m.get(f.ruleId) ?? 0) + 1), new Map<string, number>());
  const before = count(check(original, {}, name));
  const all = check(text, {}, name);
  for (const [id, n] of count(all)) if (id !== rule) assert.ok(n <= (before.get(id) ?? 0), `${id} fired too: ${all.filter((f) => f.ruleId === id).map((f) => f.message).join('; ')}`);
  return { found: all.filter((f) => f.ruleId === rule), text };
}

const r = (search: string, replacement: string) => (t: string) => replaceOnce(t, search, replacement);

describe('dsl: if-else and loop conditions use operators Dify has, for the variable type (DSL040)', () => {
  it('reports an operator Dify does not have, with its spelling in Dify', () => {
    const { found, text } = fires(CHB, r('comparison_operator: contains', 'comparison_operator: is empty'), 'DSL040');
    assert.equal(found.length, 1);
    assert.equal(found[0]!.severity, 'error');
    assert.equal(found[0]!.line, lineOf(text, 'comparison_operator: is empty'));
    assert.match(found[0]!.message, /if-else '\d+' .*case 'true'.*'is empty', which Dify does not have — Dify spells it 'empty'.*fails when it runs/);
  });

  it('reports a number operator on a string (varType), as Dify fails the run', () => {
    const { found } = fires(CHB, r('comparison_operator: contains', "comparison_operator: '='"), 'DSL040');
    assert.equal(found.length, 1);
    assert.match(found[0]!.message, /'=' cannot compare 1754154032319\.query \(string\).*Invalid actual value type.*contains, not contains, start with/);
  });

  it('knows the type from the start node when the condition has no varType', () => {
    const { found } = fires(CHB, r(COND, COND.replace('contains', '≥').replace('            varType: string\n', '')), 'DSL040');
    assert.match(found[0]!.message, /'≥' cannot compare 1754154032319\.query \(text-input\)/);
  });

  it('checks loop break conditions (a string operator on a number)', () => {
    const { found, text } = fires(LOOP, r('comparison_operator: ≥', 'comparison_operator: start with'), 'DSL040');
    assert.equal(found[0]!.line, lineOf(text, 'comparison_operator: start with'));
    assert.match(found[0]!.message, /loop '\d+'.*break condition.*\(number\).*=, ≠, >, <, ≥, ≤, empty, not empty/);
  });

  it('needs a sub-condition for contains on a file list, and Dify operators in sub-conditions', () => {
    const fileList = COND.replace('varType: string', 'varType: array[file]');
    const none = fires(CHB, r(COND, fileList), 'DSL040').found;
    assert.match(none[0]!.message, /needs a sub-condition on a file attribute.*Sub variable is required/);
    const sub = `${fileList}            sub_variable_condition:\n              logical_operator: and\n              conditions:\n              - {key: extension, comparison_operator: ends with, value: .pdf}\n`;
    const bad = fires(CHB, r(COND, sub), 'DSL040').found;
    assert.match(bad[0]!.message, /a sub-condition uses the operator 'ends with', which Dify does not have — Dify spells it 'end with'/);
    assert.deepEqual(fires(CHB, r(COND, sub.replace('ends with', 'is')), 'DSL040').found, []);
  });

  it('accepts every operator the editor offers for the type, and a condition without an operator is reported', () => {
    for (const op of ['contains', 'not contains', 'start with', 'end with', 'is', 'is not', 'empty', 'not empty']) {
      assert.deepEqual(fires(CHB, r('comparison_operator: contains', `comparison_operator: ${op}`), 'DSL040').found, [], op);
    }
    assert.deepEqual(fires(CHB, r(COND, COND.replace('varType: string', 'varType: boolean').replace('contains', 'is')), 'DSL040').found, []);
    assert.deepEqual(fires(CHB, r(COND, COND.replace('varType: string', 'varType: file').replace('contains', 'not exists')), 'DSL040').found, []);
    const missing = fires(CHB, r('          - comparison_operator: contains\n            id:', '          - id:'), 'DSL040').found;
    assert.match(missing[0]!.message, /has no comparison_operator \(Dify: "Field required"\)/);
  });
});

describe('dsl: variable assigners are configured as Dify reads them (DSL041)', () => {
  it('reports `actions:` instead of `items` at the key, as Dify fails the node', () => {
    const { found, text } = fires(TSCV, r('          items:\n            - input_type', '          actions:\n            - input_type'), 'DSL041');
    assert.equal(found.length, 1);
    assert.equal(found[0]!.line, lineOf(text, 'actions:'));
    assert.match(found[0]!.message, /assigner '\d+' \(Variable Assigner\): a version-2 assigner needs `items`.*`actions` is a key Dify does not read.*fails when it runs/);
  });

  it("reports items without version: '2' (Dify reads version 1 and finds none of its fields)", () => {
    const { found } = fires(TSCV, r("          type: assigner\n          version: '2'\n", '          type: assigner\n'), 'DSL041');
    assert.match(found[0]!.message, /has `items` \(a version-2 assigner\) but no `version: '2'`.*lacks assigned_variable_selector, write_mode, input_variable_selector/);
  });

  it('reports an operation, input type or selector Dify does not have, and accepts a complete version-1 node', () => {
    const op = fires(LOOP, r('operation: +=', 'operation: increment'), 'DSL041').found;
    assert.match(op[0]!.message, /items\[0\]\.operation 'increment' is not one of over-write, clear, append, extend, set, \+=, -=, \*=, \/=/);
    const input = fires(TSCV, r('            - input_type: variable', '            - input_type: selector'), 'DSL041').found;
    assert.match(input[0]!.message, /input_type 'selector' is not variable or constant/);
    const v1 = "          assigned_variable_selector: [conversation, str]\n          input_variable_selector: [sys, query]\n          write_mode: over-write\n          type: assigner\n";
    const block = /          items:\n[\s\S]*?          type: assigner\n          version: '2'\n/;
    assert.deepEqual(fires(TSCV, (t) => t.replace(block, `          selected: false\n          title: Variable Assigner\n${v1}`), 'DSL041').found, []);
    const wm = fires(TSCV, (t) => t.replace(block, `          title: Variable Assigner\n${v1.replace('over-write', 'overwrite')}`), 'DSL041').found;
    assert.match(wm[0]!.message, /write_mode 'overwrite' is not one of over-write, append, clear/);
  });
});

describe('dsl: a reference to a start variable that does not exist is an error (DSL056)', () => {
  it('reports {{#start.qeury#}} as an error that never resolves, suggesting the declared name', () => {
    const { found, text } = fires(BLW, r("'{{#start_node.query#}}'", "'{{#start_node.qeury#}}'"), 'DSL056');
    assert.equal(found.length, 1);
    assert.equal(found[0]!.severity, 'error');
    assert.equal(found[0]!.line, lineOf(text, 'start_node.qeury'));
    assert.match(found[0]!.message, /no input variable 'qeury' — did you mean 'query'\?; the reference is empty on every run/);
  });
});
