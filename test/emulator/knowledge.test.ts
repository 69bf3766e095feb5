/**
 * §8 Knowledge API over real HTTP: datasets, documents by text, indexing over emulated time (and its error path),
 * Dify's quirks (first document needs a process rule, a name already used re-indexes that document, updates only
 * of available documents keep their batch and reset doc_form), metadata for content hashes. Every /v1 body is also
 * checked against openapi_service.json by `service()`.
 */
import assert from 'node:assert/strict';
import { startEmulator, type Emulator } from '../../runner/src/emulator/index.js';
import { Client, adminClient, deployApp, service, workflowDsl } from './helpers.js';

const AUTO = { mode: 'automatic' };

describe('emulator §8: knowledge datasets, documents, indexing, metadata', function () {
  let emu: Emulator;
  let key: string;

  before(async () => {
    emu = await startEmulator({ port: 0, indexingStepMs: 1000 });
  });
  after(async () => emu.close());
  beforeEach(() => {
    emu.reset();
    key = emu.createDatasetApiKey();
  });

  const kb = (method: string, path: string, body?: unknown) => service(emu, key, method, path, body);
  const newDataset = async (body: Record<string, unknown> = {}): Promise<string> => {
    const r = await kb('POST', '/datasets', { name: 'Compliance FAQ', ...body });
    assert.equal(r.status, 200, r.text);
    return r.json.id as string;
  };
  const addText = async (ds: string, name: string, text: string, extra: Record<string, unknown> = {}) => {
    const r = await kb('POST', `/datasets/${ds}/document/create-by-text`, { name, text, indexing_technique: 'high_quality', process_rule: AUTO, ...extra });
    assert.equal(r.status, 200, r.text);
    return r.json as { document: { id: string; indexing_status: string }; batch: string };
  };

  it('datasets: create with indexing settings, get, list (real has_more), rename, duplicate names, delete, and a dataset an app uses', async () => {
    const id = await newDataset({ description: 'rules', indexing_technique: 'high_quality', permission: 'all_team_members', retrieval_model: { search_method: 'semantic_search', reranking_enable: false, top_k: 3, score_threshold_enabled: true, score_threshold: 0.3 } });
    const got = (await kb('GET', `/datasets/${id}`)).json;
    assert.equal(got.indexing_technique, 'high_quality');
    assert.equal(got.embedding_model, 'text-embedding-3-small');
    assert.equal(got.retrieval_model_dict.top_k, 3);
    assert.deepEqual((await kb('POST', '/datasets', { name: 'Compliance FAQ' })).json, { code: 'dataset_name_duplicate', message: 'The dataset name already exists. Please modify your dataset name.', status: 409 });
    assert.match((await kb('POST', '/datasets', { name: 'x'.repeat(41) })).json.message, /at most 40 characters/);
    for (const n of ['b', 'c']) await newDataset({ name: n, permission: 'all_team_members' });
    const page1 = (await kb('GET', '/datasets?limit=2&page=1')).json;
    assert.deepEqual([page1.total, page1.data.length, page1.has_more], [3, 2, true]);
    assert.equal((await kb('GET', '/datasets?limit=2&page=2')).json.has_more, false, 'datasets: has_more = page*limit < total');
    assert.deepEqual((await kb('GET', '/datasets?keyword=compliance')).json.data.map((d: { name: string }) => d.name), ['Compliance FAQ']);

    const renamed = await kb('PATCH', `/datasets/${id}`, { name: 'Regulation FAQ', description: 'new' });
    assert.equal(renamed.status, 200);
    assert.equal(renamed.json.name, 'Regulation FAQ');
    assert.deepEqual((await kb('PATCH', `/datasets/${id}`, { name: 'b' })).json, { code: 'invalid_param', message: 'Dataset name already exists', status: 400 });

    // A published workflow whose knowledge-retrieval node uses the dataset: app_count 1, delete → 409.
    const c = await adminClient(emu);
    await deployApp(c, workflowDsl({ name: 'rag', datasetIds: [id] }));
    assert.equal((await kb('GET', `/datasets/${id}`)).json.app_count, 1);
    assert.equal((await kb('DELETE', `/datasets/${id}`)).status, 409);
    const other = (await kb('GET', '/datasets?keyword=c')).json.data.find((d: { name: string }) => d.name === 'c').id;
    const del = await kb('DELETE', `/datasets/${other}`);
    assert.equal(del.status, 204);
    assert.equal((await kb('GET', `/datasets/${other}`)).json.message, 'Dataset not found.');
  });

  it('another workspace’s dataset → 404, API access off → 403, an app key → 401', async () => {
    const ws = emu.createWorkspace('tenant-b');
    const theirs = emu.createDataset({ name: 'theirs', workspaceId: ws.id });
    assert.deepEqual((await kb('GET', `/datasets/${theirs.id}/documents`)).json, { code: 'not_found', message: 'Dataset not found.', status: 404 });
    assert.equal((await kb('POST', `/datasets/${theirs.id}/retrieve`, { query: 'x' })).status, 404);
    const off = emu.createDataset({ name: 'off', enableApi: false });
    assert.deepEqual((await kb('GET', `/datasets/${off.id}`)).json, { code: 'forbidden', message: 'Dataset api access is not enabled.', status: 403 });
    const c = await adminClient(emu);
    const { key: appKey } = await deployApp(c, workflowDsl());
    assert.equal((await service(emu, appKey, 'GET', '/datasets')).status, 401);
  });

  it('indexing moves waiting → parsing → cleaning → splitting → indexing → completed over emulated time; segments appear at indexing', async () => {
    const ds = await newDataset();
    emu.setClock('2025-04-01T10:00:00Z');
    const text = 'Refunds are processed within 14 days.\n\nComplaints go to the ombudsman.\n\nAccounts are frozen after 3 failed logins.';
    const { document, batch } = await addText(ds, 'policy.md', text, { process_rule: { mode: 'custom', rules: { pre_processing_rules: [{ id: 'remove_extra_spaces', enabled: true }], segmentation: { separator: '\\n\\n', max_tokens: 200 } } } });
    assert.equal(document.indexing_status, 'waiting');
    const status = async () => (await kb('GET', `/datasets/${ds}/documents/${document.id}`)).json;
    assert.equal((await status()).display_status, 'queuing');
    const seen: [string, number][] = [];
    for (let i = 0; i < 5; i++) {
      emu.advanceClock(1000);
      const d = await status();
      seen.push([d.indexing_status, d.segment_count]);
    }
    assert.deepEqual(seen, [['parsing', 0], ['cleaning', 0], ['splitting', 0], ['indexing', 3], ['completed', 3]]);
    const st = (await kb('GET', `/datasets/${ds}/documents/${batch}/indexing-status`)).json.data[0];
    assert.equal(st.indexing_status, 'completed');
    assert.deepEqual([st.completed_segments, st.total_segments], [3, 3]);
    const t0 = Date.parse('2025-04-01T10:00:00Z') / 1000;
    assert.deepEqual([st.processing_started_at, st.parsing_completed_at, st.cleaning_completed_at, st.splitting_completed_at, st.completed_at], [t0 + 1, t0 + 2, t0 + 3, t0 + 4, t0 + 5]);
    const doc = await status();
    assert.equal(doc.display_status, 'available');
    assert.equal(doc.word_count, text.split('\n\n').reduce((n, p) => n + p.length, 0));
    assert.ok(doc.tokens > 0, 'high_quality documents count embedding tokens');
    assert.equal(doc.document_process_rule.mode, 'custom');
  });

  it('Dify’s document quirks: no process rule anywhere → 500; the same name re-indexes that document; updates keep the batch and reset doc_form', async () => {
    const ds = await newDataset();
    const first = await kb('POST', `/datasets/${ds}/document/create-by-text`, { name: 'a.md', text: 'alpha', indexing_technique: 'economy' });
    assert.deepEqual(first.json, { message: 'Internal Server Error', code: 'unknown', status: 500 });
    assert.deepEqual((await kb('POST', `/datasets/${ds}/document/create-by-text`, { name: 'a.md', text: 'alpha' })).json, { code: 'invalid_param', message: 'indexing_technique is required.', status: 400 });
    const a = await addText(ds, 'a.md', 'alpha', { indexing_technique: 'economy', doc_form: 'qa_model' });
    const again = (await kb('POST', `/datasets/${ds}/document/create-by-text`, { name: 'a.md', text: 'alpha two' })).json;
    assert.equal(again.document.id, a.document.id, 'a document with that name is re-indexed, not duplicated');
    assert.notEqual(again.batch, a.batch);
    assert.equal((await kb('GET', `/datasets/${ds}/documents`)).json.total, 1);
    assert.match(a.batch, /^\d{20}$/);

    emu.advanceClock(10_000);
    const upd = (await kb('POST', `/datasets/${ds}/documents/${a.document.id}/update-by-text`, { name: 'renamed.md' })).json;
    assert.equal(upd.batch, again.batch, 'the document keeps its batch');
    assert.equal(upd.document.name, 'renamed.md');
    assert.equal(upd.document.indexing_status, 'waiting', 'every update re-indexes');
    assert.equal(upd.document.doc_form, 'text_model', 'doc_form defaults to text_model on update');
    assert.deepEqual((await kb('POST', `/datasets/${ds}/documents/${a.document.id}/update-by-text`, { text: 'x', name: 'y' })).json.message, 'Document is not available');
    assert.equal((await kb('POST', `/datasets/${ds}/documents/00000000-0000-4000-8000-000000000000/update-by-text`, { name: 'n' })).json.message, 'Document not found');
    assert.match((await kb('POST', `/datasets/${ds}/document/create-by-text`, { name: 'b', text: 'b', doc_form: 'pdf_model' })).json.message, /Invalid doc_form/);
  });

  it('document list: has_more = len(data) == limit (also on the last full page), status and keyword filters; delete rules', async () => {
    const ds = await newDataset({ indexing_technique: 'economy' });
    for (const n of ['one', 'two']) await addText(ds, `${n}.md`, n);
    const page = async (q: string) => (await kb('GET', `/datasets/${ds}/documents?${q}`)).json;
    assert.deepEqual([(await page('limit=2')).has_more, (await page('limit=2')).total], [true, 2]);
    assert.equal((await page('limit=2&page=2')).has_more, false);
    assert.equal((await page('status=queuing')).total, 2);
    assert.equal((await page('keyword=two')).data[0].name, 'two.md');
    const one = (await page('keyword=one')).data[0].id;
    emu.advanceClock(1500); // parsing
    assert.deepEqual((await kb('DELETE', `/datasets/${ds}/documents/${one}`)).json, { code: 'document_indexing', message: 'Cannot delete document during indexing.', status: 400 });
    emu.advanceClock(10_000);
    assert.equal((await page('status=available')).total, 2);
    assert.equal((await kb('PATCH', `/datasets/${ds}/documents/status/archive`, { document_ids: [one] })).status, 200);
    assert.equal((await page('status=archived')).total, 1);
    assert.equal((await kb('DELETE', `/datasets/${ds}/documents/${one}`)).json.code, 'archived_document_immutable');
    assert.equal((await kb('PATCH', `/datasets/${ds}/documents/status/explode`, { document_ids: [one] })).json.code, 'invalid_action');
    await kb('PATCH', `/datasets/${ds}/documents/status/un_archive`, { document_ids: [one] });
    assert.equal((await kb('DELETE', `/datasets/${ds}/documents/${one}`)).status, 204);
    assert.equal((await kb('DELETE', `/datasets/${ds}/documents/${one}`)).json.message, 'Document Not Exists.');
  });

  it('metadata: fields for a content hash and a source path, values per document, rename, built-in fields, detail modes', async () => {
    const ds = await newDataset({ indexing_technique: 'economy' });
    const { document } = await addText(ds, 'faq.md', 'Q: when? A: now.');
    const field = async (name: string, type = 'string') => {
      const r = await kb('POST', `/datasets/${ds}/metadata`, { type, name });
      assert.equal(r.status, 201, r.text);
      return r.json as { id: string; name: string; type: string };
    };
    const hash = await field('content_hash');
    const source = await field('source_path');
    assert.deepEqual((await kb('POST', `/datasets/${ds}/metadata`, { type: 'string', name: 'content_hash' })).json.message, 'Metadata name already exists.');
    assert.deepEqual((await kb('POST', `/datasets/${ds}/metadata`, { type: 'string', name: 'uploader' })).json.message, 'Metadata name already exists in Built-in fields.');
    const set = await kb('POST', `/datasets/${ds}/documents/metadata`, {
      operation_data: [{ document_id: document.id, metadata_list: [{ id: hash.id, name: 'content_hash', value: 'sha256:abc' }, { id: source.id, name: 'source_path', value: 'kb/faq.md' }] }],
    });
    assert.equal(set.status, 200, set.text);
    const values = (d: { doc_metadata: { name: string; value: unknown }[] }) => Object.fromEntries(d.doc_metadata.filter((m) => !['document_name', 'uploader', 'upload_date', 'last_update_date', 'source'].includes(m.name)).map((m) => [m.name, m.value]));
    const listed = (await kb('GET', `/datasets/${ds}/documents`)).json.data[0];
    assert.deepEqual(values(listed), { content_hash: 'sha256:abc', source_path: 'kb/faq.md' });
    assert.deepEqual((await kb('GET', `/datasets/${ds}/metadata`)).json.doc_metadata.map((m: { name: string; count: number }) => [m.name, m.count]), [['content_hash', 1], ['source_path', 1]]);

    await kb('POST', `/datasets/${ds}/documents/metadata`, { operation_data: [{ document_id: document.id, partial_update: true, metadata_list: [{ id: hash.id, name: 'content_hash', value: 'sha256:def' }] }] });
    assert.deepEqual(values((await kb('GET', `/datasets/${ds}/documents/${document.id}`)).json), { content_hash: 'sha256:def', source_path: 'kb/faq.md' });
    assert.equal((await kb('PATCH', `/datasets/${ds}/metadata/${source.id}`, { name: 'path' })).json.name, 'path');
    assert.deepEqual(values((await kb('GET', `/datasets/${ds}/documents/${document.id}?metadata=only`)).json), { content_hash: 'sha256:def', path: 'kb/faq.md' });
    const without = (await kb('GET', `/datasets/${ds}/documents/${document.id}?metadata=without`)).json;
    assert.ok(!('doc_metadata' in without) && 'segment_count' in without);
    assert.equal((await kb('GET', `/datasets/${ds}/documents/${document.id}?metadata=some`)).json.code, 'invalid_metadata');
    assert.equal((await kb('POST', `/datasets/${ds}/metadata/built-in/enable`)).json.result, 'success');
    assert.equal((await kb('GET', `/datasets/${ds}`)).json.built_in_field_enabled, true);
    assert.deepEqual((await kb('GET', `/datasets/${ds}/metadata/built-in`)).json.fields.map((f: { name: string }) => f.name), ['document_name', 'uploader', 'upload_date', 'last_update_date', 'source']);
    assert.equal((await kb('DELETE', `/datasets/${ds}/metadata/${hash.id}`)).status, 204);
    assert.deepEqual(values((await kb('GET', `/datasets/${ds}/documents/${document.id}`)).json), { path: 'kb/faq.md' });
    assert.deepEqual((await kb('POST', `/datasets/${ds}/documents/metadata`, { operation_data: [{ document_id: '00000000-0000-4000-8000-000000000000', metadata_list: [] }] })).json.message, 'Document not found.');
  });
});
