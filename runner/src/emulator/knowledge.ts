/**
 * The knowledge (dataset) API (§8): the console's workspace dataset keys and datasets, the service API's dataset
 * routes (`controllers/service_api/dataset/dataset.py`), and the registration of the document, segment, metadata
 * and retrieval routes (kb-*.ts).
 */
import { ADMINS, EDITORS, authenticate, requireRole } from './auth.js';
import type { Core } from './core.js';
import { HttpError, envelope, invalidParam, json, type Router } from './http.js';
import { datasetKey, keyedDataset, ownerOf } from './kb-access.js';
import { registerDocuments } from './kb-documents.js';
import { registerMetadata } from './kb-metadata.js';
import type { Dataset } from './kb-model.js';
import { registerRetrieval } from './kb-retrieval.js';
import { retrievalModel } from './kb-save.js';
import { registerSegments } from './kb-segments.js';
import { appsUsing, datasetView } from './kb-views.js';
import { looseIntParam, validationError } from './params.js';
import type { ApiKey } from './state.js';
import { isObject, uuid } from './util.js';

const PERMISSIONS = ['only_me', 'all_team_members', 'partial_members'];

/** Name, description, technique and permission as DatasetCreatePayload / DatasetUpdatePayload check them. */
function checkFields(b: Record<string, unknown>, model: string, create: boolean): void {
  const name = b.name;
  if (create && name === undefined) validationError(model, 'name', 'Field required');
  if (name !== undefined && (create || name !== null)) {
    if (typeof name !== 'string') validationError(model, 'name', 'Input should be a valid string');
    if (name.length < 1) validationError(model, 'name', 'String should have at least 1 character');
    if (name.length > 40) validationError(model, 'name', 'String should have at most 40 characters');
  }
  if (typeof b.description === 'string' && b.description.length > 400) validationError(model, 'description', 'String should have at most 400 characters');
  const t = b.indexing_technique;
  if (t !== undefined && t !== null && t !== 'high_quality' && t !== 'economy') validationError(model, 'indexing_technique', "Input should be 'high_quality' or 'economy'");
  const p = b.permission;
  if (p !== undefined && p !== null && !PERMISSIONS.includes(String(p))) validationError(model, 'permission', "Input should be 'only_me', 'all_team_members' or 'partial_members'");
  if (b.retrieval_model !== undefined && b.retrieval_model !== null && !isObject(b.retrieval_model)) validationError(model, 'retrieval_model', 'Input should be a valid dictionary or instance of RetrievalModel');
}

export function createDataset(core: Core, workspaceId: string, accountId: string, b: Record<string, unknown>, model = 'DatasetCreatePayload'): Dataset {
  checkFields(b, model, true);
  const name = b.name as string;
  if (Object.values(core.store.data.datasets).some((d) => d.workspaceId === workspaceId && d.name === name)) {
    throw envelope(409, 'dataset_name_duplicate', 'The dataset name already exists. Please modify your dataset name.');
  }
  const now = core.clock.nowSec();
  const tech = (b.indexing_technique as string | null | undefined) ?? null;
  const ds: Dataset = {
    id: uuid(),
    workspaceId,
    name,
    description: typeof b.description === 'string' ? b.description : '',
    permission: String(b.permission ?? 'only_me'),
    indexingTechnique: tech,
    enableApi: true,
    createdBy: accountId,
    createdAt: now,
    updatedBy: accountId,
    updatedAt: now,
    embeddingModel: typeof b.embedding_model === 'string' ? b.embedding_model : null,
    embeddingModelProvider: typeof b.embedding_model_provider === 'string' ? b.embedding_model_provider : null,
    retrievalModel: isObject(b.retrieval_model) ? retrievalModel(b.retrieval_model) : null,
    builtInFieldEnabled: false,
    metadata: [],
    processRules: [],
    documents: {},
    nextPosition: 1,
  };
  core.store.data.datasets[ds.id] = ds;
  return ds;
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

  // ---- service API: datasets ----
  /** `DatasetService.get_datasets` for the key's owner: team datasets and the owner's own (all with include_all). */
  const visible = (key: ApiKey, ds: Dataset, all: boolean): boolean =>
    ds.workspaceId === key.workspaceId && (all || ds.permission === 'all_team_members' || ds.createdBy === ownerOf(core, key));
  r.add('GET', '/v1/datasets', (ctx) => {
    const key = datasetKey(core, ctx);
    const q = ctx.query;
    const page = looseIntParam(q, 'page', 1, 'DatasetListQuery');
    const limit = Math.min(looseIntParam(q, 'limit', 20, 'DatasetListQuery'), 100);
    const kw = (q.get('keyword') ?? '').toLowerCase();
    const all = ['true', '1', 'yes', 'on'].includes((q.get('include_all') ?? '').toLowerCase());
    const list = Object.values(core.store.data.datasets)
      .filter((d) => visible(key, d, all) && (!kw || d.name.toLowerCase().includes(kw)))
      .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1));
    const data = list.slice((page - 1) * limit, page * limit).map((d) => datasetView(core, d));
    return json(200, { data, has_more: page * limit < list.length, limit, total: list.length, page });
  });
  r.add('POST', '/v1/datasets', (ctx) => {
    const key = datasetKey(core, ctx);
    return json(200, datasetView(core, createDataset(core, key.workspaceId, ownerOf(core, key), ctx.json())));
  });
  r.add('GET', '/v1/datasets/<uuid:ds>', (ctx) => json(200, datasetView(core, keyedDataset(core, ctx).ds)));
  r.add('PATCH', '/v1/datasets/<uuid:ds>', (ctx) => {
    const { key, ds } = keyedDataset(core, ctx);
    const b = ctx.json();
    const M = 'DatasetUpdatePayload';
    checkFields(b, M, false);
    if (typeof b.name === 'string' && Object.values(core.store.data.datasets).some((d) => d.id !== ds.id && d.workspaceId === ds.workspaceId && d.name === b.name)) {
      throw invalidParam('Dataset name already exists');
    }
    if (typeof b.name === 'string') ds.name = b.name;
    if (typeof b.description === 'string') ds.description = b.description;
    if (typeof b.permission === 'string') ds.permission = b.permission;
    if (typeof b.indexing_technique === 'string') ds.indexingTechnique = b.indexing_technique;
    if (typeof b.embedding_model === 'string') ds.embeddingModel = b.embedding_model;
    if (typeof b.embedding_model_provider === 'string') ds.embeddingModelProvider = b.embedding_model_provider;
    if (isObject(b.retrieval_model)) ds.retrievalModel = retrievalModel(b.retrieval_model);
    ds.updatedBy = ownerOf(core, key);
    ds.updatedAt = core.clock.nowSec();
    return json(200, { ...datasetView(core, ds), partial_member_list: [] });
  });
  r.add('DELETE', '/v1/datasets/<uuid:ds>', (ctx) => {
    const { ds } = keyedDataset(core, ctx);
    if (appsUsing(core, ds) > 0) {
      throw envelope(409, 'dataset_in_use', 'The dataset is being used by some apps. Please remove the dataset from the apps before deleting it.');
    }
    delete core.store.data.datasets[ds.id];
    return { status: 204 };
  });

  registerDocuments(core, r);
  registerSegments(core, r);
  registerMetadata(core, r);
  registerRetrieval(core, r);
}
