/**
 * Writing documents (`services/dataset_service.py` `DocumentService.save_document_with_dataset_id` and
 * `update_document_with_dataset_id`): the dataset's indexing technique on its first document, the process rule (a
 * new one from the request, else the dataset's latest), Dify's `duplicate` behaviour (a new document with the name of
 * an enabled one re-indexes that one), re-indexing on every update.
 */
import type { Core } from './core.js';
import { HttpError, envelope, invalidParam } from './http.js';
import { newBatch } from './kb-access.js';
import { planDocument, progress, queue } from './kb-indexing.js';
import { AUTOMATIC_RULES, DOC_FORMS, STAGES, displayStatus, latestRule, type Dataset, type KDocument, type ProcessRule } from './kb-model.js';
import { DEFAULT_EMBEDDING } from './kb-views.js';
import { validationError } from './params.js';
import { isObject, uuid } from './util.js';

export interface Content {
  name: string;
  bytes: Buffer;
  extension: string;
  mimeType: string;
}

/** `DocForm` of the payload; `model` names the pydantic model of the route for the error text. */
export function docForm(b: Record<string, unknown>, model: string, fallback = 'text_model'): string {
  const f = b.doc_form ?? fallback;
  if (typeof f !== 'string' || !DOC_FORMS.includes(f)) validationError(model, 'doc_form', 'Value error, Invalid doc_form.');
  return f;
}

/** `process_rule_args_validate`, then a new rule row (automatic → AUTOMATIC_RULES). */
export function newRule(core: Core, raw: unknown): ProcessRule {
  if (!isObject(raw)) throw invalidParam('Process rule is required');
  const mode = raw.mode;
  if (!mode) throw invalidParam('Process rule mode is required');
  if (mode !== 'automatic' && mode !== 'custom' && mode !== 'hierarchical') throw invalidParam('Process rule mode is invalid');
  let rules: Record<string, unknown> | null = null;
  if (mode === 'automatic') rules = structuredClone(AUTOMATIC_RULES);
  else {
    const r = raw.rules;
    if (!isObject(r)) throw invalidParam('Process rule rules is required');
    if (!Array.isArray(r.pre_processing_rules)) throw invalidParam('Process rule pre_processing_rules is required');
    for (const p of r.pre_processing_rules) {
      if (!isObject(p) || !p.id) throw invalidParam('Process rule pre_processing_rules id is required');
      if (typeof p.enabled !== 'boolean') throw invalidParam('Process rule pre_processing_rules enabled is invalid');
    }
    const seg = r.segmentation;
    if (!isObject(seg)) throw invalidParam('Process rule segmentation is required');
    if (!seg.separator) throw invalidParam('Process rule segmentation separator is required');
    if (typeof seg.separator !== 'string') throw invalidParam('Process rule segmentation separator is invalid');
    if (!(mode === 'hierarchical' && r.parent_mode === 'full-doc')) {
      if (!seg.max_tokens) throw invalidParam('Process rule segmentation max_tokens is required');
      if (!Number.isInteger(seg.max_tokens)) throw invalidParam('Process rule segmentation max_tokens is invalid');
    }
    rules = structuredClone(r);
  }
  return { id: uuid(), mode, rules, createdAt: core.clock.nowSec() };
}

/** `RetrievalModel.model_dump()`: the fields a client left out are stored as null (an empty reranking model here). */
export function retrievalModel(raw: Record<string, unknown>): Record<string, unknown> {
  return { reranking_mode: null, score_threshold: null, weights: null, ...raw, reranking_model: isObject(raw.reranking_model) ? raw.reranking_model : { reranking_provider_name: '', reranking_model_name: '' } };
}

/** The dataset's technique, set by its first document (with the default embedding model and retrieval settings). */
export function adoptTechnique(ds: Dataset, b: Record<string, unknown>): void {
  if (ds.indexingTechnique) return;
  const t = b.indexing_technique;
  if (t !== 'high_quality' && t !== 'economy') throw invalidParam('Indexing technique is invalid');
  ds.indexingTechnique = t;
  if (t === 'high_quality') {
    ds.embeddingModel = typeof b.embedding_model === 'string' && b.embedding_model_provider ? b.embedding_model : DEFAULT_EMBEDDING.model;
    ds.embeddingModelProvider = typeof b.embedding_model_provider === 'string' && b.embedding_model ? b.embedding_model_provider : DEFAULT_EMBEDDING.provider;
    ds.retrievalModel ??= isObject(b.retrieval_model)
      ? retrievalModel(b.retrieval_model)
      : { search_method: 'semantic_search', reranking_enable: false, reranking_model: { reranking_provider_name: '', reranking_model_name: '' }, top_k: 4, score_threshold_enabled: false };
  }
}

/** The request's rule (new) or the dataset's latest; none at all is Dify's failed assertion (nothing is written). */
function ruleFor(core: Core, ds: Dataset, b: Record<string, unknown>): { rule: ProcessRule; isNew: boolean } {
  if (b.process_rule !== undefined && b.process_rule !== null) return { rule: newRule(core, b.process_rule), isNew: true };
  const latest = latestRule(ds);
  // `assert dataset_process_rule` (500): send a process_rule with a dataset's first document.
  if (!latest) throw new HttpError(500, { message: 'Internal Server Error', code: 'unknown', status: 500 });
  return { rule: latest, isNew: false };
}

const fileOf = (core: Core, c: Content, by: string): KDocument['file'] => ({
  id: uuid(),
  name: c.name,
  size: c.bytes.length,
  extension: c.extension,
  mimeType: c.mimeType,
  createdBy: by,
  createdAt: core.clock.nowSec(),
});

/** Create (or, for the name of an enabled document, re-index) a document; returns it with its batch. */
export function saveDocument(core: Core, ds: Dataset, by: string, c: Content, b: Record<string, unknown>, form: string): KDocument {
  const { rule, isNew } = ruleFor(core, ds, b);
  adoptTechnique(ds, b);
  if (isNew) (ds.processRules ??= []).push(rule);
  const now = core.clock.nowSec();
  const batch = newBatch(core);
  const language = typeof b.doc_language === 'string' ? b.doc_language : 'English';
  const same = Object.values(ds.documents).find((d) => d.enabled && d.name === c.name);
  const d: KDocument = same ?? {
    id: uuid(),
    position: ds.nextPosition++,
    name: c.name,
    docForm: form,
    docLanguage: language,
    createdBy: by,
    createdAt: now,
    updatedAt: now,
    batch,
    file: fileOf(core, c, by),
    content: '',
    contentExt: c.extension,
    processRuleId: rule.id,
    indexing: { stage: 0, queuedMs: 0, at: STAGES.map(() => null), error: null, plan: [], planError: null },
    segments: [],
    enabled: true,
    disabledAt: null,
    disabledBy: null,
    archived: false,
    docMetadata: null,
    metadataIds: [],
  };
  if (same) Object.assign(d, { processRuleId: rule.id, updatedAt: now, docForm: form, docLanguage: language, batch, file: fileOf(core, c, by) });
  ds.documents[d.id] = d;
  planDocument(ds, d, c);
  queue(core, d);
  return d;
}

/** `update_document_with_dataset_id`: only an available document; always re-indexed; the batch is the document's. */
export function updateDocument(core: Core, ds: Dataset, d: KDocument | undefined, by: string, c: Content | undefined, b: Record<string, unknown>, form: string): KDocument {
  if (!d) throw envelope(404, 'not_found', 'Document not found');
  progress(core, ds, d);
  if (displayStatus(d) !== 'available') throw invalidParam('Document is not available');
  if (b.process_rule !== undefined && b.process_rule !== null) {
    const r = newRule(core, b.process_rule);
    (ds.processRules ??= []).push(r);
    d.processRuleId = r.id;
  }
  if (c) {
    d.file = fileOf(core, c, by);
    d.name = c.name;
    d.indexing.planError = null;
  }
  if (typeof b.name === 'string' && b.name) d.name = b.name;
  // Dify writes the request's doc_form (default text_model) on every update.
  d.docForm = form;
  d.updatedAt = core.clock.nowSec();
  planDocument(ds, d, c);
  queue(core, d);
  return d;
}
