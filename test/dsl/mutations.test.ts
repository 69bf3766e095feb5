/**
 * Mutation tests: for each rule, take a real fixture, break it in exactly that way, and check that the rule fires
 * at the right line and nothing unrelated appears (only the rules listed in `also` may come along).
 */
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { RULES_BY_ID } from '../../runner/src/dsl/rules/index.js';
import type { Finding, ValidateOptions } from '../../runner/src/dsl/types.js';
import { check, fixture, lineOf, replaceOnce } from './helpers.js';

const BLW = 'dify-official/basic_llm_chat_workflow.yml'; // workflow: start_node → llm_node → end_node
const CHB = 'dify-official/conditional_hello_branching_workflow.yml'; // workflow with if-else and two ends
const BCF = 'dify-official/basic_chatflow.yml'; // advanced-chat
const ITR = 'dify-official/iteration_flatten_output_enabled_workflow.yml';
const HTTP = 'dify-official/http_request_with_json_tool_workflow.yml';
const TSCV = 'dify-official/test_streaming_conversation_variables.yml'; // conversation variables
const WEB = 'dify-official/recommended_apps__website_generator__chat.yml'; // chat app, model_config
const C58 = 'community/58-'; // environment variable `offset`

const LLM_PROMPT = "'{{#start_node.query#}}'";
const END2_OUTPUT = "          - '1754154032319'\n          - query\n          value_type: string\n          variable: 'false'";

interface Mutation {
  rule: string;
  fixture: string;
  mutate: (text: string) => string;
  /** Text on the line the finding must point at (in the mutated file), or a function giving the line. */
  at: string | ((text: string) => number);
  also?: string[];
  options?: ValidateOptions;
  /** How many findings of the rule (default: at least one, one at `at`). */
  count?: number;
}

const r = (search: string, replacement: string) => (t: string) => replaceOnce(t, search, replacement);

const MUTATIONS: Mutation[] = [
  // parse
  { rule: 'DSL001', fixture: BLW, mutate: r('          title: LLM\n', '          title: LLM: broken\n'), at: 'title: LLM: broken' },
  { rule: 'DSL002', fixture: BLW, mutate: r('          title: LLM\n', '          title: LLM\n          title: LLM again\n'), at: 'title: LLM again' },
  { rule: 'DSL004', fixture: BLW, mutate: (t) => t.replace(/\n/g, '\r\n'), at: () => 1 },
  { rule: 'DSL005', fixture: BLW, mutate: r('          title: LLM\n', '          title: 2024-01-01\n'), at: 'title: 2024-01-01' },
  // structure
  { rule: 'DSL010', fixture: BLW, mutate: (t) => `[${JSON.stringify(parse(t, { version: '1.1' }))}]`, at: () => 1 },
  { rule: 'DSL011', fixture: BLW, mutate: r('version: 0.3.1', 'version: 0.6'), at: 'version: 0.6' },
  { rule: 'DSL012', fixture: BLW, mutate: r('version: 0.3.1', 'version: latest'), at: 'version: latest' },
  { rule: 'DSL013', fixture: BLW, mutate: r('version: 0.3.1', "version: '0.4.7'"), at: "version: '0.4.7'" },
  { rule: 'DSL014', fixture: BLW, mutate: r('version: 0.3.1', 'version: 0.7.0'), at: 'version: 0.7.0' },
  { rule: 'DSL015', fixture: BLW, mutate: (t) => t, at: 'version: 0.3.1', options: { targetDslVersion: '1.0.0' } },
  { rule: 'DSL016', fixture: BLW, mutate: (t) => t, at: 'version: 0.3.1' },
  { rule: 'DSL017', fixture: BLW, mutate: r('dependencies: []\nkind: app\nversion: 0.3.1', 'kind: app\nversion: 0.1.5'), at: 'version: 0.1.5' },
  { rule: 'DSL020', fixture: BLW, mutate: r('app:\n', 'application:\n'), at: 'application:', also: ['DSL025'] },
  { rule: 'DSL021', fixture: BLW, mutate: r('mode: workflow', 'mode: flow'), at: 'mode: flow' },
  { rule: 'DSL022', fixture: BLW, mutate: r('kind: app', 'kind: plugin'), at: 'kind: plugin' },
  { rule: 'DSL023', fixture: BLW, mutate: r('\nworkflow:\n', '\nworkflows:\n'), at: () => 1, also: ['DSL025'] },
  { rule: 'DSL024', fixture: BLW, mutate: r('          title: LLM\n', '          title: [a, b]\n'), at: 'title: [a, b]' },
  { rule: 'DSL025', fixture: BLW, mutate: r('kind: app\n', 'kind: app\nworkfow: {}\n'), at: 'workfow: {}' },
  { rule: 'DSL026', fixture: BLW, mutate: r('mode: workflow', 'mode: agent'), at: 'mode: agent' },
  // graph
  { rule: 'DSL030', fixture: CHB, mutate: r("      id: '1754217363584'", "      id: '1754154034161'"), at: (t) => lastLineOf(t, "      id: '1754154034161'"), also: ['DSL031'], count: 1 },
  { rule: 'DSL031', fixture: BLW, mutate: r("target: 'end_node'", "target: 'nowhere'"), at: "target: 'nowhere'", also: ['DSL034', 'DSL035'] },
  { rule: 'DSL032', fixture: CHB, mutate: r("sourceHandle: 'false'", "sourceHandle: 'maybe'"), at: "sourceHandle: 'maybe'" },
  { rule: 'DSL033', fixture: BCF, mutate: r('        type: start', '        type: trigger-webhook'), at: 'type: trigger-webhook', count: 2 },
  { rule: 'DSL034', fixture: BLW, mutate: r('          type: end', '          type: answer'), at: (t) => lineOf(t, '    nodes:') + 1 },
  { rule: 'DSL035', fixture: CHB, mutate: r("      target: '1754217363584'", "      target: '1754154034161'"), at: "      id: '1754217363584'" },
  {
    rule: 'DSL036',
    fixture: BLW,
    mutate: r('    edges:\n', "    edges:\n      - {id: back, source: 'end_node', target: 'llm_node', sourceHandle: source}\n"),
    at: 'id: back',
  },
  { rule: 'DSL037', fixture: ITR, mutate: r('      id: code_inner_node\n      parentId: iteration_node', '      id: code_inner_node\n      parentId: code_node'), at: 'parentId: code_node', also: ['DSL038', 'DSL050', 'DSL051', 'DSL057'] },
  { rule: 'DSL038', fixture: ITR, mutate: r('        desc: \'\'\n        isInIteration: true\n        isInLoop: false\n        iteration_id', '        desc: \'\'\n        isInIteration: false\n        isInLoop: false\n        iteration_id'), at: (t) => lineOf(t, 'title: Generate Pair') - 8 },
  { rule: 'DSL039', fixture: BLW, mutate: r('          type: llm\n', '          type: llm-v9\n'), at: 'type: llm-v9' },
  // nodes (more in test/dsl/nodes.test.ts)
  { rule: 'DSL040', fixture: CHB, mutate: r('          - comparison_operator: contains\n', '          - comparison_operator: is empty\n'), at: 'comparison_operator: is empty' },
  { rule: 'DSL041', fixture: TSCV, mutate: r('          items:\n            - input_type', '          actions:\n            - input_type'), at: 'actions:' },
  // references
  { rule: 'DSL050', fixture: BLW, mutate: r(LLM_PROMPT, "'{{#ghost_node.query#}}'"), at: 'ghost_node' },
  { rule: 'DSL051', fixture: BLW, mutate: r(LLM_PROMPT, "'{{#end_node.answer#}}'"), at: '{{#end_node.answer#}}' },
  { rule: 'DSL052', fixture: BLW, mutate: r(LLM_PROMPT, "'{{#start-node.query#}}'"), at: 'start-node' },
  { rule: 'DSL053', fixture: BLW, mutate: r(LLM_PROMPT, "'{{#env.API_BASE#}}'"), at: 'env.API_BASE' },
  { rule: 'DSL054', fixture: BLW, mutate: r(LLM_PROMPT, "'{{#sys.query#}}'"), at: 'sys.query' },
  { rule: 'DSL055', fixture: WEB, mutate: r('  pre_prompt: Your task is', '  pre_prompt: Use {{topic}}. Your task is'), at: '{{topic}}' },
  { rule: 'DSL056', fixture: BLW, mutate: r(LLM_PROMPT, "'{{#start_node.question#}}'"), at: 'start_node.question' },
  { rule: 'DSL057', fixture: CHB, mutate: r(END2_OUTPUT, END2_OUTPUT.replace('1754154032319', '1754154034161')), at: "          - '1754154034161'\n          - query\n          value_type: string\n          variable: 'false'" },
  {
    rule: 'DSL058',
    fixture: 'dify-official/recommended_apps__question_classifier_knowledge_chatbot__advanced-chat.yml',
    mutate: r('        - 0e6a8774-3341-4643-a185-cf38bedfd7fe', '        - 3q2+7wAAAAAAAAAAAAAAAKh0dHBzOi8vZGlmeS5haS9kYXRhc2V0cw=='),
    at: '3q2+7w',
  },
  // variables
  { rule: 'DSL060', fixture: C58, mutate: r("    value: '0'\n    value_type: string", "    value: '0'\n    value_type: number"), at: "value: '0'" },
  { rule: 'DSL061', fixture: TSCV, mutate: r('      value: default\n      value_type: string', '      value: default\n      value_type: array[number]'), at: 'value: default' },
  {
    rule: 'DSL062',
    fixture: CHB,
    mutate: r('          type: text-input\n          variable: query\n', '          type: text-input\n          variable: query\n        - label: again\n          type: text-input\n          variable: query\n'),
    at: 'label: again',
  },
  { rule: 'DSL063', fixture: CHB, mutate: r('type: text-input', 'type: text-inputx'), at: 'text-inputx' },
  // secrets
  { rule: 'DSL070', fixture: C58, mutate: r("    value: '0'\n    value_type: string", "    value: '0'\n    value_type: secret"), at: "value: '0'" },
  { rule: 'DSL071', fixture: HTTP, mutate: r("headers: ''", "headers: 'Authorization: Bearer 9f8e7d6c5b4a39281706abcdefABCDEF'"), at: 'Authorization: Bearer' },
  // model
  { rule: 'DSL080', fixture: BLW, mutate: r('            provider: openai\n', '            providr: openai\n'), at: '          model:' },
  { rule: 'DSL081', fixture: BLW, mutate: r('provider: openai', "provider: ''"), at: "provider: ''" },
  { rule: 'DSL082', fixture: WEB, mutate: r('temperature: 0\n', 'temperature: 3.5\n'), at: 'temperature: 3.5' },
  // policy (the config's validate.policy)
  { rule: 'DSL090', fixture: WEB, mutate: (t) => t, at: 'provider: openai', options: { policy: { allowedProviders: ['anthropic', 'langgenius/azure*'] } } },
  { rule: 'DSL091', fixture: WEB, mutate: (t) => t, at: 'name: gpt-3.5-turbo-0125', options: { policy: { allowedModels: ['gpt-4o*', 'anthropic/*'] } } },
  { rule: 'DSL092', fixture: WEB, mutate: r('temperature: 0\n', 'temperature: 0.9\n'), at: 'temperature: 0.9', options: { policy: { maxTemperature: 0.5 } } },
  { rule: 'DSL093', fixture: BLW, mutate: (t) => t, at: '          type: llm\n', options: { policy: { forbiddenNodeTypes: ['llm', 'code'] } } },
  { rule: 'DSL094', fixture: WEB, mutate: (t) => t, at: 'app:', options: { policy: { requireDescription: true } } },
];

function countBy(fs: Finding[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const f of fs) m.set(f.ruleId, (m.get(f.ruleId) ?? 0) + 1);
  return m;
}

describe('dsl: one mutation per rule', () => {
  it('covers every rule of the registry', () => {
    const covered = new Set(MUTATIONS.map((m) => m.rule));
    const missing = [...RULES_BY_ID.keys()].filter((id) => !covered.has(id) && id !== 'DSL003'); // DSL003: test/dsl/cli.test.ts
    assert.deepEqual(missing, []);
  });

  for (const m of MUTATIONS) {
    it(`${m.rule} (${RULES_BY_ID.get(m.rule)?.name}) fires on ${m.fixture.split('/')[1]}`, () => {
      const original = fixture(m.fixture);
      const mutated = m.mutate(original);
      const baseline = countBy(check(original, m.options?.policy ? {} : m.options));
      const found = check(mutated, m.options);
      const hits = found.filter((f) => f.ruleId === m.rule);
      const line = typeof m.at === 'function' ? m.at(mutated) : lineOf(mutated, m.at.split('\n')[0]!) + (m.at.includes('\n') ? findMultiline(mutated, m.at) : 0);
      assert.ok(hits.length > 0, `${m.rule} did not fire; got ${JSON.stringify(found.map((f) => `${f.ruleId}@${f.line}`))}`);
      assert.ok(hits.some((f) => f.line === line), `${m.rule} fired at ${hits.map((f) => f.line).join(', ')}, expected line ${line}: ${hits[0]!.message}`);
      if (m.count !== undefined) assert.equal(hits.length, m.count, JSON.stringify(hits));
      assert.equal(hits[0]!.severity, RULES_BY_ID.get(m.rule)!.severity);
      // Nothing unrelated: every other rule fires at most as often as on the untouched fixture.
      const allowed = new Set([m.rule, ...(m.also ?? [])]);
      for (const [id, n] of countBy(found)) {
        if (!allowed.has(id)) assert.ok(n <= (baseline.get(id) ?? 0), `${m.rule} mutation also fired ${id}: ${found.filter((f) => f.ruleId === id).map((f) => f.message).join(' | ')}`);
      }
    });
  }
});

function lastLineOf(text: string, needle: string): number {
  return text.slice(0, text.lastIndexOf(needle)).split('\n').length;
}

/** For a multi-line `at`: the offset (in lines) from the first occurrence of its first line to the real match. */
function findMultiline(text: string, at: string): number {
  const i = text.indexOf(at);
  if (i < 0) throw new Error(`'${at}' not in text`);
  const line = text.slice(0, i).split('\n').length;
  return line - lineOf(text, at.split('\n')[0]!);
}
