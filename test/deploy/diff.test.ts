import assert from 'node:assert/strict';
import { join } from 'node:path';
import { diffDsl, summarise, unifiedDiff } from '../../runner/src/deploy/diff.js';
import { normaliseDsl } from '../../runner/src/deploy/normalise.js';
import { formatPlanMarkdown, formatPlanText } from '../../runner/src/deploy/plan.js';
import type { TargetPlan } from '../../runner/src/results/plan.js';
import { loadDsl } from '../../runner/src/deploy/render.js';

const FIX = join(import.meta.dirname, 'fixtures');
const wf = () => structuredClone(loadDsl(join(FIX, 'workflow.yml')));
const chat = () => structuredClone(loadDsl(join(FIX, 'chat.yml')));

function planOf(diff: ReturnType<typeof diffDsl>): TargetPlan {
  return {
    env: 'staging', app: 'support', target: 'staging/support', appId: 'a1', name: 'support-flow', mode: 'workflow', resolvedBy: 'name',
    action: 'update', changed: true, contentHash: 'sha256:x', observed: { versionId: null, publishedHash: null, draftHash: null, difyDraftHash: null },
    draftEdited: false, summary: summarise(diff), secrets: {}, diff, warnings: [],
  };
}

describe('deploy/diff', () => {
  it('no changes between a DSL and itself', () => {
    const s = summarise(diffDsl(normaliseDsl(wf()), normaliseDsl(wf())));
    assert.equal(s.changed, false);
  });

  it('reports nodes added/removed/changed by id and title, and edges', () => {
    const live = wf();
    const git = wf();
    git.workflow.graph.nodes.push({ id: 'code1', type: 'custom', data: { type: 'code', title: 'Format', code: 'def main(): pass', code_language: 'python3' } });
    git.workflow.graph.edges.push({ source: 'llm', target: 'code1', sourceHandle: 'source', targetHandle: 'target' });
    git.workflow.graph.nodes[2].data.title = 'Finish';
    live.workflow.graph.nodes.push({ id: 'old', type: 'custom', data: { type: 'answer', title: 'Old answer', answer: 'x' } });
    const d = diffDsl(normaliseDsl(live), normaliseDsl(git));
    assert.deepEqual(d.nodes.added, [{ id: 'code1', title: 'Format', type: 'code' }]);
    assert.deepEqual(d.nodes.removed, [{ id: 'old', title: 'Old answer', type: 'answer' }]);
    assert.equal(d.nodes.changed.length, 1);
    assert.equal(d.nodes.changed[0]!.id, 'end');
    assert.deepEqual(d.nodes.changed[0]!.fields.map((f) => f.path), ['title']);
    assert.deepEqual(d.edges.added, ['LLM → Format']);
  });

  it('shows prompt text as a unified diff and model/parameter changes separately', () => {
    const git = wf();
    const llm = git.workflow.graph.nodes[1].data;
    llm.prompt_template[0].text = llm.prompt_template[0].text.replace('Answer briefly.', 'Answer in detail.');
    llm.model.name = 'gpt-4o-mini';
    llm.model.completion_params.temperature = 0.2;
    const d = diffDsl(normaliseDsl(wf()), normaliseDsl(git));
    assert.equal(d.prompts.length, 1);
    assert.match(d.prompts[0]!.unified, /^-Answer briefly\.$/m);
    assert.match(d.prompts[0]!.unified, /^\+Answer in detail\.$/m);
    assert.match(d.prompts[0]!.unified, /^ You are a helpful support agent\.$/m);
    assert.equal(d.models.length, 1);
    assert.equal(d.models[0]!.from, 'langgenius/openai/openai/gpt-4o (chat)');
    assert.equal(d.models[0]!.to, 'langgenius/openai/openai/gpt-4o-mini (chat)');
    assert.deepEqual(d.models[0]!.params, [{ path: 'temperature', from: '0.7', to: '0.2' }]);
    const s = summarise(d);
    assert.equal(s.promptChanges, 1);
    assert.equal(s.modelChanges, 1);
    assert.equal(s.nodesChanged, 1);
  });

  it('environment variables: values for plain ones, only changed/unchanged for secrets', () => {
    const live = wf();
    const git = wf();
    live.workflow.environment_variables[2].value = 'sk-live-secret-aaaa';
    git.workflow.environment_variables[2].value = 'sk-git-secret-bbbb';
    git.workflow.environment_variables[0].value = 'https://prod.invalid';
    const d1 = diffDsl(normaliseDsl(live), normaliseDsl(git), { secretChanges: { OPENAI_KEY: true } });
    const text = JSON.stringify(d1);
    assert.ok(!text.includes('sk-live') && !text.includes('sk-git'));
    assert.deepEqual(d1.envVars.find((v) => v.name === 'OPENAI_KEY'), { name: 'OPENAI_KEY', change: 'changed', secret: true });
    const api = d1.envVars.find((v) => v.name === 'API_BASE')!;
    assert.equal(api.change, 'changed');
    assert.equal(api.to, '"https://prod.invalid"');
    const d2 = diffDsl(normaliseDsl(live), normaliseDsl(git), { secretChanges: { OPENAI_KEY: false } });
    assert.deepEqual(d2.envVars.find((v) => v.name === 'OPENAI_KEY'), { name: 'OPENAI_KEY', change: 'unchanged', secret: true });
    assert.equal(summarise(d2).secretChanges, 0);
    assert.equal(summarise(d1).secretChanges, 1);
  });

  it('chat apps: pre_prompt as a prompt diff, model, features', () => {
    const git = chat();
    git.model_config.pre_prompt += '\nNever invent prices.';
    git.model_config.model.completion_params.max_tokens = 1024;
    git.model_config.speech_to_text.enabled = true;
    const d = diffDsl(normaliseDsl(chat()), normaliseDsl(git));
    assert.equal(d.prompts.length, 1);
    assert.match(d.prompts[0]!.unified, /^\+Never invent prices\.$/m);
    assert.deepEqual(d.models[0]!.params, [{ path: 'max_tokens', from: '512', to: '1024' }]);
    assert.deepEqual(d.features, [{ path: 'speech_to_text.enabled', from: 'false', to: 'true' }]);
  });

  it('formats text and markdown plans naming nodes and prompts', () => {
    const git = wf();
    git.workflow.graph.nodes[1].data.prompt_template[0].text += '\nBe kind.';
    const d = diffDsl(normaliseDsl(wf()), normaliseDsl(git));
    const text = formatPlanText('staging', [planOf(d)]);
    assert.match(text, /~ staging\/support \(workflow, app a1\): update/);
    assert.match(text, /prompt node 'LLM' \(llm\) prompt_template\[0\]\.text/);
    assert.match(text, /\+Be kind\./);
    const md = formatPlanMarkdown('staging', [planOf(d)]);
    assert.match(md, /\| `staging\/support` \| workflow \| update \|/);
    assert.match(md, /```diff\n[\s\S]*\+Be kind\.[\s\S]*```/);
  });

  it('unifiedDiff makes hunks with context', () => {
    const a = Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n');
    const b = a.replace('line 3', 'LINE 3').replace('line 17', 'LINE 17');
    const u = unifiedDiff(a, b);
    assert.equal((u.match(/^@@/gm) ?? []).length, 2);
    assert.match(u, /@@ -1,7 \+1,7 @@/);
    assert.equal(unifiedDiff('x', 'x').split('\n').length, 2);
  });
});

describe('deploy/diff unified order', () => {
  it('prints deletions before insertions, like diff(1)', () => {
    const u = unifiedDiff('a\nold\nc', 'a\nnew\nc');
    assert.deepEqual(u.split('\n').slice(2), ['@@ -1,3 +1,3 @@', ' a', '-old', '+new', ' c']);
  });
});
