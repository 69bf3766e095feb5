/**
 * §8 retrieval: `/v1/datasets/{id}/retrieve` ranks segments deterministically (scores in [0, 1], top_k, score
 * threshold, Q&A matched on the question), and `knowledge-retrieval` nodes of apps use the same ranking, so a RAG
 * app's answer follows what was synced into its knowledge base.
 */
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { startEmulator, type Emulator } from '../../runner/src/emulator/index.js';
import { adminClient, deployApp, service } from './helpers.js';

const AUTO = { mode: 'automatic' };
const edge = (s: string, t: string) => ({ id: `${s}-${t}`, source: s, target: t, sourceHandle: 'source', targetHandle: 'target', type: 'custom' });

/** start(q) → knowledge-retrieval → LLM with the result as context → end(answer, hits). */
function ragDsl(datasetIds: string[]): string {
  return stringify({
    app: { name: 'support-bot', mode: 'workflow', icon: '🤖', icon_background: '#FFEAD5', description: '' },
    kind: 'app',
    version: '0.6.0',
    workflow: {
      graph: {
        nodes: [
          { id: 'start', type: 'custom', data: { type: 'start', title: 'Start', variables: [{ variable: 'q', label: 'q', type: 'text-input', required: true, max_length: 250, options: [] }] } },
          { id: 'kr', type: 'custom', data: { type: 'knowledge-retrieval', title: 'Knowledge', dataset_ids: datasetIds, query_variable_selector: ['start', 'q'], retrieval_mode: 'multiple', multiple_retrieval_config: { top_k: 2, score_threshold: null } } },
          {
            id: 'llm',
            type: 'custom',
            data: {
              type: 'llm',
              title: 'LLM',
              model: { provider: 'langgenius/openai/openai', name: 'gpt-4o', mode: 'chat', completion_params: {} },
              context: { enabled: true, variable_selector: ['kr', 'result'] },
              prompt_template: [
                { role: 'system', text: 'Answer from the context:\n{{#context#}}' },
                { role: 'user', text: '{{#start.q#}}' },
              ],
            },
          },
          { id: 'end', type: 'custom', data: { type: 'end', title: 'End', outputs: [{ variable: 'answer', value_selector: ['llm', 'text'] }, { variable: 'hits', value_selector: ['kr', 'result'] }] } },
        ],
        edges: [edge('start', 'kr'), edge('kr', 'llm'), edge('llm', 'end')],
      },
      features: {},
      environment_variables: [],
      conversation_variables: [],
    },
  });
}

const FAQ = [
  ['refunds.md', 'Refunds are paid back to the original card within 14 days.'],
  ['complaints.md', 'Complaints are escalated to the financial ombudsman after 8 weeks.'],
  ['accounts.md', 'Accounts are frozen after three failed login attempts.'],
];

describe('emulator §8: deterministic retrieval and knowledge-retrieval nodes', function () {
  let emu: Emulator;
  let key: string;
  let ds: string;
  const docs: Record<string, string> = {};

  before(async () => {
    emu = await startEmulator({ port: 0 });
  });
  after(async () => emu.close());
  beforeEach(async () => {
    emu.reset();
    key = emu.createDatasetApiKey();
    ds = (await service(emu, key, 'POST', '/datasets', { name: 'faq', indexing_technique: 'high_quality' })).json.id;
    for (const [name, text] of FAQ) docs[name] = (await service(emu, key, 'POST', `/datasets/${ds}/document/create-by-text`, { name, text, process_rule: AUTO })).json.document.id;
    emu.advanceClock(5_000);
  });

  const retrieve = (query: string, retrieval_model?: unknown) => service(emu, key, 'POST', `/datasets/${ds}/retrieve`, { query, retrieval_model });
  const model = (top_k: number, threshold?: number) => ({ search_method: 'semantic_search', reranking_enable: false, top_k, score_threshold_enabled: threshold !== undefined, score_threshold: threshold ?? null });

  it('ranks by similarity: the matching document first, scores in [0, 1] descending, the same answer twice', async () => {
    const r = await retrieve('how many days until refunds are paid?');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.query, { content: 'how many days until refunds are paid?' });
    const records = r.json.records as { score: number; segment: { content: string; document: { name: string } } }[];
    assert.equal(records[0]!.segment.document.name, 'refunds.md');
    for (const rec of records) assert.ok(rec.score > 0 && rec.score <= 1, String(rec.score));
    assert.deepEqual([...records].sort((a, b) => b.score - a.score), records);
    const again = (await retrieve('how many days until refunds are paid?')).json.records.map((x: { score: number }) => x.score);
    assert.deepEqual(again, records.map((x) => x.score));
    assert.equal((await retrieve(FAQ[2]![1]!)).json.records[0].score, 1, 'the same text scores 1');
    assert.deepEqual((await retrieve('zebra xylophone')).json.records, [], 'no shared word: no hit');
  });

  it('top_k and score_threshold from the request, else the dataset’s retrieval model; hit counts grow', async () => {
    assert.equal((await retrieve('refunds complaints accounts', model(1))).json.records.length, 1);
    assert.equal((await retrieve('refunds complaints accounts', model(3))).json.records.length, 3);
    const scores = (await retrieve('refunds paid card', model(3))).json.records.map((x: { score: number }) => x.score) as number[];
    const cut = (scores[0]! + (scores[1] ?? 0)) / 2;
    assert.equal((await retrieve('refunds paid card', model(3, cut))).json.records.length, 1);
    await service(emu, key, 'PATCH', `/datasets/${ds}`, { retrieval_model: model(1) });
    assert.equal((await retrieve('refunds complaints accounts')).json.records.length, 1);
    const hits = async () => (await service(emu, key, 'GET', `/datasets/${ds}/documents/${docs['refunds.md']}/segments`)).json.data[0].hit_count as number;
    const before = await hits();
    for (let i = 0; i < 2; i++) await retrieve('refunds paid');
    assert.equal(await hits(), before + 2);
  });

  it('only enabled, indexed documents are retrieved; query limits → 400', async () => {
    await service(emu, key, 'PATCH', `/datasets/${ds}/documents/status/disable`, { document_ids: [docs['refunds.md']] });
    assert.ok(!(await retrieve('refunds paid')).json.records.some((x: { segment: { document: { name: string } } }) => x.segment.document.name === 'refunds.md'));
    await service(emu, key, 'POST', `/datasets/${ds}/document/create-by-text`, { name: 'new.md', text: 'Savings interest is paid monthly.' });
    assert.deepEqual((await retrieve('savings interest monthly')).json.records, [], 'still indexing');
    emu.advanceClock(5_000);
    assert.equal((await retrieve('savings interest monthly')).json.records[0].segment.document.name, 'new.md');
    assert.match((await retrieve('x'.repeat(251))).json.message, /at most 250 characters/);
    assert.deepEqual((await retrieve('')).json, { code: 'invalid_param', message: 'Query is required and cannot exceed 250 characters', status: 400 });
    assert.match((await retrieve('q', { top_k: 2 })).json.message, /retrieval_model\.search_method\n {2}Field required/);
  });

  it('Q&A segments match on the question and return the answer', async () => {
    const csv = 'question,answer\nCan I close my account online?,Yes - under Settings > Close account.\n';
    const form = new FormData();
    form.append('data', JSON.stringify({ doc_form: 'qa_model', process_rule: AUTO }));
    form.append('file', new Blob([csv], { type: 'text/csv' }), 'qa.csv');
    const up = await fetch(`${emu.url}/v1/datasets/${ds}/document/create-by-file`, { method: 'POST', headers: { Authorization: `Bearer ${key}` }, body: form });
    assert.equal(up.status, 200, await up.text());
    emu.advanceClock(5_000);
    const top = (await retrieve('close my account online')).json.records[0].segment;
    assert.deepEqual([top.content, top.answer], ['Can I close my account online?', 'Yes - under Settings > Close account.']);
  });

  it('a knowledge-retrieval node ranks the app workspace’s datasets; the LLM answer quotes the best chunk and follows a document update', async () => {
    const c = await adminClient(emu);
    const { key: appKey } = await deployApp(c, ragDsl([ds]));
    const ask = async (q: string) => (await service(emu, appKey, 'POST', '/workflows/run', { inputs: { q }, user: 'u', response_mode: 'blocking' })).json.data;
    const first = await ask('when are refunds paid?');
    assert.equal(first.status, 'succeeded');
    assert.equal(first.outputs.hits.length, 1, 'only the refunds document shares words with the question');
    assert.equal(first.outputs.hits[0].metadata.document_name, 'refunds.md');
    assert.equal(first.outputs.hits[0].metadata.dataset_id, ds);
    assert.match(first.outputs.answer, /Refunds are paid back to the original card within 14 days\.$/);

    await service(emu, key, 'POST', `/datasets/${ds}/documents/${docs['refunds.md']}/update-by-text`, { name: 'refunds.md', text: 'Refunds are paid back within 5 working days.' });
    emu.advanceClock(5_000);
    assert.match((await ask('when are refunds paid?')).outputs.answer, /within 5 working days\.$/);

    // Datasets of another workspace are invisible to the node.
    const ws = emu.createWorkspace('other');
    const foreign = emu.createDataset({ name: 'theirs', workspaceId: ws.id, indexingTechnique: 'economy' });
    const { key: otherKey } = await deployApp(c, ragDsl([foreign.id]));
    const none = (await service(emu, otherKey, 'POST', '/workflows/run', { inputs: { q: 'refunds' }, user: 'u', response_mode: 'blocking' })).json.data;
    assert.deepEqual(none.outputs.hits, []);
  });
});
