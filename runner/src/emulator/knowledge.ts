/**
 * The knowledge (dataset) API (§8): workspace dataset keys (console), datasets, documents by text, indexing status,
 * listing with Dify's `has_more = len(data) == limit`, deletion.
 */
import { ADMINS, EDITORS, authenticate, requireRole } from './auth.js';
import { apiKeyOf } from './api-key-auth.js';
import type { Core } from './core.js';
import { Ctx, HttpError, envelope, invalidParam, json, type Router } from './http.js';
import type { ApiKey, Dataset, KDocument } from './state.js';
import { uuid } from './util.js';

const INDEXING_MS = 2000;
const DOC_FORMS = ['text_model', 'hierarchical_model', 'qa_model'];

const datasetAuth = (core: Core, ctx: Ctx): ApiKey => apiKeyOf(core, ctx, 'dataset');

function getDataset(core: Core, key: ApiKey, id: string): Dataset {
  const ds = core.store.data.datasets[id];
  if (!ds || ds.workspaceId !== key.workspaceId) throw envelope(404, 'not_found', 'Dataset not found.');
  if (!ds.enableApi) throw envelope(403, 'forbidden', 'Dataset api access is not enabled.');
  return ds;
}

function indexingStatus(core: Core, d: KDocument): string {
  return d.polls >= 2 || core.clock.nowMs() - d.indexingStartedMs >= INDEXING_MS ? 'completed' : 'indexing';
}

function displayStatus(core: Core, d: KDocument): string {
  if (d.archived) return 'archived';
  if (!d.enabled) return 'disabled';
  return indexingStatus(core, d) === 'completed' ? 'available' : 'indexing';
}

const words = (t: string): number => (t.trim() ? t.trim().split(/\s+/).length : 0);

export function documentView(core: Core, d: KDocument): Record<string, unknown> {
  return {
    id: d.id,
    position: d.position,
    data_source_type: 'upload_file',
    data_source_info: { upload_file_id: d.uploadFileId },
    dataset_process_rule_id: d.processRuleId,
    name: d.name,
    created_from: 'api',
    created_by: d.createdBy,
    created_at: d.createdAt,
    tokens: Math.ceil(d.text.length / 4),
    indexing_status: indexingStatus(core, d),
    error: null,
    enabled: d.enabled,
    disabled_at: null,
    disabled_by: null,
    archived: d.archived,
    display_status: displayStatus(core, d),
    word_count: words(d.text),
    hit_count: 0,
    doc_form: d.docForm,
    doc_language: d.docLanguage,
    doc_metadata: [],
  };
}

export function datasetView(_core: Core, ds: Dataset): Record<string, unknown> {
  const docs = Object.values(ds.documents);
  return {
    id: ds.id,
    name: ds.name,
    description: ds.description,
    provider: 'vendor',
    permission: ds.permission,
    data_source_type: docs.length ? 'upload_file' : null,
    indexing_technique: ds.indexingTechnique,
    app_count: 0,
    document_count: docs.length,
    word_count: docs.reduce((n, d) => n + words(d.text), 0),
    created_by: ds.createdBy,
    created_at: ds.createdAt,
    updated_by: ds.createdBy,
    updated_at: ds.createdAt,
    embedding_model: ds.indexingTechnique === 'high_quality' ? 'text-embedding-3-small' : null,
    embedding_model_provider: ds.indexingTechnique === 'high_quality' ? 'langgenius/openai/openai' : null,
    embedding_available: true,
    retrieval_model_dict: {
      search_method: 'semantic_search',
      reranking_enable: false,
      reranking_model: { reranking_provider_name: '', reranking_model_name: '' },
      top_k: 2,
      score_threshold_enabled: false,
    },
    tags: [],
    doc_form: docs[0]?.docForm ?? null,
    external_knowledge_info: null,
    external_retrieval_model: null,
    enable_api: ds.enableApi,
  };
}

export function createDataset(core: Core, workspaceId: string, accountId: string, b: Record<string, unknown>): Dataset {
  const name = typeof b.name === 'string' ? b.name.trim() : '';
  if (!name || name.length > 40) throw invalidParam('Name must be between 1 to 40 characters.');
  if (Object.values(core.store.data.datasets).some((d) => d.workspaceId === workspaceId && d.name === name)) {
    throw envelope(409, 'dataset_name_duplicate', 'The dataset name already exists. Please modify your dataset name.');
  }
  const tech = b.indexing_technique;
  if (tech !== undefined && tech !== null && tech !== 'high_quality' && tech !== 'economy') throw invalidParam('Invalid indexing technique.');
  const perm = b.permission ?? 'only_me';
  if (!['only_me', 'all_team_members', 'partial_members'].includes(String(perm))) throw invalidParam('Invalid permission.');
  const ds: Dataset = {
    id: uuid(),
    workspaceId,
    name,
    description: typeof b.description === 'string' ? b.description : '',
    permission: String(perm),
    indexingTechnique: (tech as string | undefined) ?? null,
    enableApi: true,
    createdBy: accountId,
    createdAt: core.clock.nowSec(),
    documents: {},
    nextPosition: 1,
  };
  core.store.data.datasets[ds.id] = ds;
  return ds;
}

function batchId(core: Core): string {
  const d = new Date(core.clock.nowMs());
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`;
}

function textArgs(b: Record<string, unknown>, requireName: boolean): { name?: string; text?: string } {
  const name = b.name;
  const text = b.text;
  if (text !== undefined && text !== null && typeof text !== 'string') throw invalidParam('text must be a string');
  if (name !== undefined && name !== null && typeof name !== 'string') throw invalidParam('name must be a string');
  if (requireName && (typeof name !== 'string' || !name)) throw invalidParam('name is required');
  if (typeof text === 'string' && (typeof name !== 'string' || !name)) throw invalidParam('name is required when text is provided');
  if (b.doc_form !== undefined && !DOC_FORMS.includes(String(b.doc_form))) throw invalidParam('Invalid doc_form.');
  return { name: name as string | undefined, text: text as string | undefined };
}

export function registerKnowledge(core: Core, r: Router): void {
  // ---- console: workspace dataset keys and datasets ----
  const keyView = (k: ApiKey) => ({ id: k.id, type: 'dataset', token: k.token, last_used_at: k.lastUsedAt, created_at: k.createdAt });
  r.add('GET', '/console/api/datasets/api-keys', (ctx) => {
    const p = authenticate(core, ctx);
    const keys = Object.values(core.store.data.apiKeys).filter((k) => k.type === 'dataset' && k.workspaceId === p.workspace.id);
    return json(200, { data: keys.map(keyView) });
  });
  r.add('POST', '/console/api/datasets/api-keys', (ctx) => {
    const p = authenticate(core, ctx);
    requireRole(p, ADMINS);
    const n = Object.values(core.store.data.apiKeys).filter((k) => k.type === 'dataset' && k.workspaceId === p.workspace.id).length;
    if (n >= 10) throw new HttpError(400, { message: 'Cannot create more than 10 API keys for this resource type.', custom: 'max_keys_exceeded' });
    return json(200, keyView(core.store.addKey('', p.workspace.id, core.clock.nowSec(), 'dataset')));
  });
  r.add('DELETE', '/console/api/datasets/api-keys/<uuid:keyId>', (ctx) => {
    const p = authenticate(core, ctx);
    requireRole(p, ADMINS);
    const k = core.store.data.apiKeys[ctx.params.keyId!];
    if (!k || k.type !== 'dataset' || k.workspaceId !== p.workspace.id) throw new HttpError(404, { message: 'API key not found' });
    core.store.deleteKey(k.id);
    return { status: 204 };
  });
  r.add('GET', '/console/api/datasets', (ctx) => {
    const p = authenticate(core, ctx);
    const list = Object.values(core.store.data.datasets).filter((d) => d.workspaceId === p.workspace.id);
    return json(200, { data: list.map((d) => datasetView(core, d)), has_more: false, limit: 100, total: list.length, page: 1 });
  });
  r.add('POST', '/console/api/datasets', (ctx) => {
    const p = authenticate(core, ctx);
    requireRole(p, EDITORS);
    return json(201, datasetView(core, createDataset(core, p.workspace.id, p.account.id, ctx.json())));
  });
  r.add('POST', '/console/api/datasets/<uuid:id>/api-keys/:status', (ctx) => {
    const p = authenticate(core, ctx);
    requireRole(p, EDITORS);
    const ds = core.store.data.datasets[ctx.params.id!];
    if (!ds || ds.workspaceId !== p.workspace.id) throw envelope(404, 'not_found', 'Dataset not found.');
    if (ctx.params.status !== 'enable' && ctx.params.status !== 'disable') throw invalidParam('status must be enable or disable');
    ds.enableApi = ctx.params.status === 'enable';
    return json(200, { result: 'success' });
  });

  // ---- service API ----
  r.add('GET', '/v1/datasets', (ctx) => {
    const key = datasetAuth(core, ctx);
    const page = Math.max(1, Number(ctx.query.get('page') ?? 1) || 1);
    const limit = Math.min(100, Math.max(1, Number(ctx.query.get('limit') ?? 20) || 20));
    const kw = ctx.query.get('keyword') ?? '';
    const list = Object.values(core.store.data.datasets)
      .filter((d) => d.workspaceId === key.workspaceId && (!kw || d.name.includes(kw)))
      .sort((a, b) => b.createdAt - a.createdAt);
    const data = list.slice((page - 1) * limit, page * limit).map((d) => datasetView(core, d));
    return json(200, { data, has_more: list.length > page * limit, limit, total: list.length, page });
  });
  r.add('POST', '/v1/datasets', (ctx) => {
    const key = datasetAuth(core, ctx);
    const owner = core.store.ownerOf(key.workspaceId);
    return json(200, datasetView(core, createDataset(core, key.workspaceId, owner?.id ?? '', ctx.json())));
  });
  r.add('GET', '/v1/datasets/<uuid:ds>', (ctx) => json(200, datasetView(core, getDataset(core, datasetAuth(core, ctx), ctx.params.ds!))));

  const createByText = (ctx: Ctx) => {
    const key = datasetAuth(core, ctx);
    const ds = getDataset(core, key, ctx.params.ds!);
    const b = ctx.json();
    const { name, text } = textArgs(b, true);
    if (typeof text !== 'string') throw invalidParam('text is required');
    const tech = b.indexing_technique;
    if (!ds.indexingTechnique) {
      if (tech !== 'high_quality' && tech !== 'economy') throw invalidParam('indexing_technique is required.');
      ds.indexingTechnique = tech;
    }
    const doc: KDocument = {
      id: uuid(),
      position: ds.nextPosition++,
      name: name!,
      text,
      docForm: typeof b.doc_form === 'string' ? b.doc_form : 'text_model',
      docLanguage: typeof b.doc_language === 'string' ? b.doc_language : 'English',
      createdBy: core.store.ownerOf(key.workspaceId)?.id ?? '',
      createdAt: core.clock.nowSec(),
      batch: batchId(core),
      indexingStartedMs: core.clock.nowMs(),
      polls: 0,
      enabled: true,
      archived: false,
      uploadFileId: uuid(),
      processRuleId: uuid(),
    };
    ds.documents[doc.id] = doc;
    return json(200, { document: documentView(core, doc), batch: doc.batch });
  };
  r.add('POST', '/v1/datasets/<uuid:ds>/document/create-by-text', createByText);
  r.add('POST', '/v1/datasets/<uuid:ds>/document/create_by_text', createByText);

  const updateByText = (ctx: Ctx) => {
    const key = datasetAuth(core, ctx);
    const ds = getDataset(core, key, ctx.params.ds!);
    const doc = ds.documents[ctx.params.doc!];
    if (!doc) throw envelope(404, 'not_found', 'Document not found.');
    const b = ctx.json();
    const { name, text } = textArgs(b, false);
    if (name) doc.name = name;
    if (typeof b.doc_form === 'string') doc.docForm = b.doc_form;
    doc.batch = batchId(core);
    if (typeof text === 'string' && text !== doc.text) {
      doc.text = text;
      doc.uploadFileId = uuid();
      doc.indexingStartedMs = core.clock.nowMs();
      doc.polls = 0;
    }
    return json(200, { document: documentView(core, doc), batch: doc.batch });
  };
  r.add('POST', '/v1/datasets/<uuid:ds>/documents/<uuid:doc>/update-by-text', updateByText);
  r.add('POST', '/v1/datasets/<uuid:ds>/documents/<uuid:doc>/update_by_text', updateByText);

  r.add('GET', '/v1/datasets/<uuid:ds>/documents', (ctx) => {
    const key = datasetAuth(core, ctx);
    const ds = getDataset(core, key, ctx.params.ds!);
    const page = Math.max(1, Number(ctx.query.get('page') ?? 1) || 1);
    const limit = Number(ctx.query.get('limit') ?? 20) || 20;
    if (limit < 1 || limit > 100) throw invalidParam('limit must be between 1 and 100');
    const kw = ctx.query.get('keyword') ?? '';
    const status = ctx.query.get('status') ?? '';
    const docs = Object.values(ds.documents)
      .filter((d) => (!kw || d.name.includes(kw)) && (!status || displayStatus(core, d) === (status === 'queuing' ? 'queuing' : status)))
      .sort((a, b) => b.createdAt - a.createdAt || b.position - a.position);
    const data = docs.slice((page - 1) * limit, page * limit).map((d) => documentView(core, d));
    return json(200, { data, has_more: data.length === limit, limit, total: docs.length, page });
  });
  r.add('GET', '/v1/datasets/<uuid:ds>/documents/:batch/indexing-status', (ctx) => {
    const key = datasetAuth(core, ctx);
    const ds = getDataset(core, key, ctx.params.ds!);
    const docs = Object.values(ds.documents).filter((d) => d.batch === ctx.params.batch);
    if (docs.length === 0) throw envelope(404, 'not_found', 'Documents not found.');
    const now = core.clock.nowSec();
    return json(200, {
      data: docs.map((d) => {
        d.polls++;
        const done = indexingStatus(core, d) === 'completed';
        const segments = Math.max(1, Math.ceil(d.text.length / 500));
        return {
          id: d.id,
          indexing_status: done ? 'completed' : 'indexing',
          processing_started_at: Math.floor(d.indexingStartedMs / 1000),
          parsing_completed_at: now,
          cleaning_completed_at: now,
          splitting_completed_at: now,
          completed_at: done ? now : null,
          paused_at: null,
          error: null,
          stopped_at: null,
          completed_segments: done ? segments : 0,
          total_segments: segments,
        };
      }),
    });
  });
  r.add('GET', '/v1/datasets/<uuid:ds>/documents/<uuid:doc>', (ctx) => {
    const key = datasetAuth(core, ctx);
    const doc = getDataset(core, key, ctx.params.ds!).documents[ctx.params.doc!];
    if (!doc) throw envelope(404, 'not_found', 'Document not found.');
    return json(200, documentView(core, doc));
  });
  r.add('DELETE', '/v1/datasets/<uuid:ds>/documents/<uuid:doc>', (ctx) => {
    const key = datasetAuth(core, ctx);
    const ds = getDataset(core, key, ctx.params.ds!);
    const doc = ds.documents[ctx.params.doc!];
    if (!doc) throw envelope(404, 'not_found', 'Document Not Exists.');
    if (doc.archived) throw envelope(403, 'archived_document_immutable', 'The archived document is not editable.');
    if (indexingStatus(core, doc) !== 'completed') throw envelope(400, 'document_indexing', 'Cannot delete document during indexing.');
    delete ds.documents[doc.id];
    return { status: 204 };
  });
}

