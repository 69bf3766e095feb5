/**
 * Knowledge bodies as Dify marshals them (`fields/dataset_fields.py`, `fields/document_fields.py`,
 * `fields/segment_fields.py`, `models/dataset.py` properties). Views read a document's indexing progress first,
 * so what a client sees always matches the emulated time.
 */
import type { Core } from './core.js';
import { progress } from './kb-indexing.js';
import { COMPLETED, displayStatus, latestRule, ruleOf, stageName, type Dataset, type KDocument, type KSegment, type ProcessRule } from './kb-model.js';

export const DEFAULT_EMBEDDING = { model: 'text-embedding-3-small', provider: 'langgenius/openai/openai' };
/** `Dataset.retrieval_model_dict` when the column is empty. */
export const DEFAULT_RETRIEVAL = {
  search_method: 'semantic_search',
  reranking_enable: false,
  reranking_model: { reranking_provider_name: '', reranking_model_name: '' },
  top_k: 2,
  score_threshold_enabled: false,
};
const BUILT_IN = [
  ['document_name', 'string'],
  ['uploader', 'string'],
  ['upload_date', 'time'],
  ['last_update_date', 'time'],
  ['source', 'string'],
] as const;

/** Documents of a dataset with their indexing brought up to the emulated now. */
export function documentsOf(core: Core, ds: Dataset): KDocument[] {
  const docs = Object.values(ds.documents);
  for (const d of docs) progress(core, ds, d);
  return docs;
}

const uploader = (core: Core, d: KDocument): string => core.store.data.accounts[d.createdBy]?.name ?? '';

/** `Document.get_built_in_fields`. */
export function builtInValues(core: Core, d: KDocument): Record<string, unknown> {
  return { document_name: d.name, uploader: uploader(core, d), upload_date: d.createdAt, last_update_date: d.updatedAt, source: 'file_upload' };
}

/** `Document.doc_metadata_details`: the bound fields, then the built-in ones; [] without values (the spec's array). */
export function metadataDetails(core: Core, ds: Dataset, d: KDocument): Record<string, unknown>[] {
  if (!d.docMetadata || Object.keys(d.docMetadata).length === 0) return [];
  const bound = (ds.metadata ?? []).filter((m) => d.metadataIds.includes(m.id)).map((m) => ({ id: m.id, name: m.name, type: m.type, value: d.docMetadata![m.name] ?? null }));
  const builtIn = builtInValues(core, d);
  return [...bound, ...BUILT_IN.map(([name, type]) => ({ id: 'built-in', name, type, value: builtIn[name] }))];
}

const words = (d: KDocument): number => d.segments.reduce((n, s) => n + s.wordCount, 0);
const tokens = (d: KDocument): number => d.segments.reduce((n, s) => n + s.tokens, 0);

export function fileView(d: KDocument): Record<string, unknown> {
  const f = d.file;
  return { id: f.id, name: f.name, size: f.size, extension: f.extension, mime_type: f.mimeType, created_by: f.createdBy, created_at: f.createdAt };
}

/** `document_fields` (list items and the `document` of create/update answers). */
export function documentView(core: Core, ds: Dataset, d: KDocument): Record<string, unknown> {
  progress(core, ds, d);
  return {
    id: d.id,
    position: d.position,
    data_source_type: 'upload_file',
    data_source_info: { upload_file_id: d.file.id },
    data_source_detail_dict: { upload_file: fileView(d) },
    dataset_process_rule_id: d.processRuleId,
    name: d.name,
    created_from: 'api',
    created_by: d.createdBy,
    created_at: d.createdAt,
    tokens: tokens(d),
    indexing_status: stageName(d),
    error: d.indexing.error,
    enabled: d.enabled,
    disabled_at: d.disabledAt,
    disabled_by: d.disabledBy,
    archived: d.archived,
    display_status: displayStatus(d),
    word_count: words(d),
    hit_count: d.segments.reduce((n, s) => n + s.hitCount, 0),
    doc_form: d.docForm,
    doc_language: d.docLanguage,
    doc_metadata: metadataDetails(core, ds, d),
    summary_index_status: null,
    need_summary: false,
  };
}

const ruleView = (r: ProcessRule | undefined): Record<string, unknown> => (r ? { id: r.id, mode: r.mode, rules: r.rules } : {});

/** `GET …/documents/{id}` (`DocumentDetailResponse`), shaped by `metadata=all|only|without`. */
export function documentDetail(core: Core, ds: Dataset, d: KDocument, metadata: 'all' | 'only' | 'without'): Record<string, unknown> {
  const v = documentView(core, ds, d);
  if (metadata === 'only') return { id: d.id, doc_type: null, doc_metadata: v.doc_metadata };
  const n = d.segments.length;
  const done = d.indexing.at[COMPLETED];
  const detail: Record<string, unknown> = {
    ...v,
    data_source_info: { upload_file: fileView(d) },
    dataset_process_rule: ruleView(latestRule(ds)),
    document_process_rule: ruleView(ruleOf(ds, d)),
    completed_at: done ? Math.floor(done / 1000) : null,
    updated_at: d.updatedAt,
    indexing_latency: done ? (done - d.indexing.queuedMs) / 1000 : null,
    doc_type: null,
    segment_count: n,
    average_segment_length: n ? Math.floor(words(d) / n) : 0,
  };
  delete detail.data_source_detail_dict;
  if (metadata === 'without') {
    delete detail.doc_type;
    delete detail.doc_metadata;
  }
  return detail;
}

/** `segment_fields`. */
export function segmentView(s: KSegment, documentId: string): Record<string, unknown> {
  return {
    id: s.id,
    position: s.position,
    document_id: documentId,
    content: s.content,
    sign_content: s.content,
    answer: s.answer,
    word_count: s.wordCount,
    tokens: s.tokens,
    keywords: s.keywords,
    index_node_id: s.indexNodeId,
    index_node_hash: s.indexNodeHash,
    hit_count: s.hitCount,
    enabled: s.enabled,
    disabled_at: s.disabledAt,
    disabled_by: null,
    status: s.status,
    created_by: s.createdBy,
    created_at: s.createdAt,
    updated_at: s.updatedAt,
    updated_by: s.createdBy,
    indexing_at: s.indexingAt,
    completed_at: s.completedAt,
    error: null,
    stopped_at: null,
    child_chunks: [],
    attachments: [],
    summary: null,
  };
}

/** Apps of the workspace whose published workflow (knowledge-retrieval nodes) or model config use the dataset. */
export function appsUsing(core: Core, ds: Dataset): number {
  let n = 0;
  for (const app of core.store.appsIn(ds.workspaceId)) {
    const wf = core.store.published(app);
    const text = JSON.stringify([wf?.graph ?? null, app.modelConfig?.dataset_configs ?? null]);
    if (text.includes(ds.id)) n++;
  }
  return n;
}

/** `DatasetDetailResponse` of the service API. */
export function datasetView(core: Core, ds: Dataset): Record<string, unknown> {
  const docs = documentsOf(core, ds);
  const hq = ds.indexingTechnique === 'high_quality';
  const retrieval: Record<string, unknown> = { reranking_mode: null, weights: null, ...(ds.retrievalModel ?? DEFAULT_RETRIEVAL) };
  // DatasetApi.get forces keyword search for economy datasets.
  if (ds.indexingTechnique === 'economy') retrieval.search_method = 'keyword_search';
  const author = core.store.data.accounts[ds.createdBy]?.name ?? null;
  return {
    id: ds.id,
    name: ds.name,
    description: ds.description,
    provider: 'vendor',
    permission: ds.permission,
    data_source_type: docs.length ? 'upload_file' : null,
    indexing_technique: ds.indexingTechnique,
    app_count: appsUsing(core, ds),
    document_count: docs.length,
    word_count: docs.reduce((n, d) => n + words(d), 0),
    created_by: ds.createdBy,
    author_name: author,
    created_at: ds.createdAt,
    updated_by: ds.updatedBy ?? ds.createdBy,
    updated_at: ds.updatedAt ?? ds.createdAt,
    embedding_model: hq ? (ds.embeddingModel ?? DEFAULT_EMBEDDING.model) : null,
    embedding_model_provider: hq ? (ds.embeddingModelProvider ?? DEFAULT_EMBEDDING.provider) : null,
    embedding_available: true,
    retrieval_model_dict: retrieval,
    tags: [],
    doc_form: docs[0]?.docForm ?? null,
    external_knowledge_info: null,
    external_retrieval_model: null,
    doc_metadata: (ds.metadata ?? []).map((m) => ({ id: m.id, name: m.name, type: m.type })),
    built_in_field_enabled: ds.builtInFieldEnabled ?? false,
    pipeline_id: null,
    runtime_mode: null,
    chunk_structure: null,
    icon_info: null,
    summary_index_setting: null,
    is_published: false,
    total_documents: docs.length,
    total_available_documents: docs.filter((d) => displayStatus(d) === 'available').length,
    enable_api: ds.enableApi,
    is_multimodal: false,
    maintainer: author,
  };
}
