/**
 * Retrieval (`controllers/service_api/dataset/hit_testing.py`, `services/hit_testing_service.py`): the enabled
 * segments of completed, enabled, unarchived documents ranked by the emulator's TF-IDF cosine similarity (kb-text.ts;
 * a Q&A segment is matched on its question, as Dify embeds only that), `top_k` and `score_threshold` from the
 * request's `retrieval_model` or the dataset's. `knowledge-retrieval` nodes of apps use the same ranking.
 */
import type { Core } from './core.js';
import { invalidParam, json, type Router } from './http.js';
import { keyedDataset } from './kb-access.js';
import type { Dataset, KDocument, KSegment } from './kb-model.js';
import { similarity } from './kb-text.js';
import { documentsOf, segmentView } from './kb-views.js';
import { validationError } from './params.js';
import { isObject } from './util.js';

export interface Hit {
  ds: Dataset;
  doc: KDocument;
  seg: KSegment;
  score: number;
}

/** `HitTestingService` default when neither the request nor the dataset has a retrieval model. */
const DEFAULT_TOP_K = 4;

/** Ranked hits over several datasets (counted in each segment's `hit_count`). */
export function rank(core: Core, datasets: Dataset[], query: string, topK: number, threshold: number | null): Hit[] {
  const pool: Omit<Hit, 'score'>[] = [];
  for (const ds of datasets) {
    for (const doc of documentsOf(core, ds)) {
      if (!doc.enabled || doc.archived || doc.indexing.stage === 'error') continue;
      for (const seg of doc.segments) if (seg.enabled && seg.status === 'completed') pool.push({ ds, doc, seg });
    }
  }
  const scores = similarity(query, pool.map((h) => h.seg.content));
  const hits = pool
    .map((h, i) => ({ ...h, score: Math.round(scores[i]! * 1e6) / 1e6 }))
    .filter((h) => h.score > 0 && (threshold === null || h.score >= threshold))
    .sort((a, b) => b.score - a.score || a.doc.position - b.doc.position || a.seg.position - b.seg.position)
    .slice(0, Math.max(0, topK));
  for (const h of hits) h.seg.hitCount++;
  return hits;
}

/** top_k and the threshold (only when enabled) of a retrieval model. */
function settings(model: Record<string, unknown> | null | undefined): { topK: number; threshold: number | null } {
  const m = model ?? {};
  const topK = Number.isInteger(m.top_k) ? (m.top_k as number) : DEFAULT_TOP_K;
  const threshold = m.score_threshold_enabled === true && typeof m.score_threshold === 'number' ? m.score_threshold : null;
  return { topK, threshold };
}

export function registerRetrieval(core: Core, r: Router): void {
  const retrieve = (ctx: Parameters<Parameters<Router['add']>[2]>[0]) => {
    const { ds } = keyedDataset(core, ctx);
    const b = ctx.json();
    const M = 'HitTestingPayload';
    if (b.query === undefined || b.query === null) validationError(M, 'query', 'Field required');
    if (typeof b.query !== 'string') validationError(M, 'query', 'Input should be a valid string');
    if (b.query.length > 250) validationError(M, 'query', 'String should have at most 250 characters');
    if (!b.query) throw invalidParam('Query is required and cannot exceed 250 characters');
    const rm = b.retrieval_model;
    if (rm !== undefined && rm !== null) {
      if (!isObject(rm)) validationError(M, 'retrieval_model', 'Input should be a valid dictionary or instance of RetrievalModel');
      for (const f of ['search_method', 'reranking_enable', 'top_k', 'score_threshold_enabled']) if (!(f in rm)) validationError(M, `retrieval_model.${f}`, 'Field required');
      if (!Number.isInteger(rm.top_k)) validationError(M, 'retrieval_model.top_k', 'Input should be a valid integer');
    }
    const { topK, threshold } = settings(isObject(rm) ? rm : ds.retrievalModel);
    const hits = rank(core, [ds], b.query, topK, threshold);
    return json(200, {
      query: { content: b.query },
      records: hits.map((h) => ({
        segment: { ...segmentView(h.seg, h.doc.id), document: { id: h.doc.id, data_source_type: 'upload_file', name: h.doc.name, doc_type: null, doc_metadata: h.doc.docMetadata } },
        child_chunks: [],
        score: h.score,
        tsne_position: null,
        files: [],
        summary: null,
      })),
    });
  };
  r.add('POST', '/v1/datasets/<uuid:ds>/retrieve', retrieve);
  r.add('POST', '/v1/datasets/<uuid:ds>/hit-testing', retrieve);
}

/**
 * A `knowledge-retrieval` node's `result` (`KnowledgeRetrievalNode`): the app workspace's datasets of the node,
 * ranked together; Q&A content as `question:… answer:…`.
 */
export function retrieveForNode(core: Core, workspaceId: string, datasetIds: string[], query: string, opts: { topK?: number; threshold?: number | null }): Record<string, unknown>[] {
  const datasets = datasetIds.map((id) => core.store.data.datasets[id]).filter((ds): ds is Dataset => Boolean(ds && ds.workspaceId === workspaceId));
  if (!query || datasets.length === 0) return [];
  return rank(core, datasets, query, opts.topK ?? DEFAULT_TOP_K, opts.threshold ?? null).map((h, i) => ({
    metadata: {
      _source: 'knowledge',
      position: i + 1,
      dataset_id: h.ds.id,
      dataset_name: h.ds.name,
      document_id: h.doc.id,
      document_name: h.doc.name,
      data_source_type: 'upload_file',
      segment_id: h.seg.id,
      retriever_from: 'workflow',
      score: h.score,
      segment_hit_count: h.seg.hitCount,
      segment_word_count: h.seg.wordCount,
      segment_position: h.seg.position,
      segment_index_node_hash: h.seg.indexNodeHash,
      doc_metadata: h.doc.docMetadata,
    },
    title: h.doc.name,
    content: h.seg.answer ? `question:${h.seg.content} answer:${h.seg.answer}` : h.seg.content,
  }));
}
