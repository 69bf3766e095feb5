/**
 * The knowledge data (`models/dataset.py`): datasets with their process rules and metadata fields, documents with
 * their upload file, indexing progress and metadata values, segments. Plain JSON inside the emulator state.
 */
import type { UploadFileRecord } from './record-types.js';

/** `DatasetProcessRule.AUTOMATIC_RULES`. */
export const AUTOMATIC_RULES = {
  pre_processing_rules: [
    { id: 'remove_extra_spaces', enabled: true },
    { id: 'remove_urls_emails', enabled: false },
  ],
  segmentation: { delimiter: '\n', max_tokens: 500, chunk_overlap: 50 },
};
export const DOC_FORMS = ['text_model', 'hierarchical_model', 'qa_model'];
/** Indexing stages in order; `error` and `paused` leave the sequence. */
export const STAGES = ['waiting', 'parsing', 'cleaning', 'splitting', 'indexing', 'completed'] as const;
export type Stage = (typeof STAGES)[number] | 'error';
export const COMPLETED = STAGES.indexOf('completed');

export interface ProcessRule {
  id: string;
  mode: 'automatic' | 'custom' | 'hierarchical';
  rules: Record<string, unknown> | null;
  createdAt: number;
}

/** The upload row behind a document (the service API's `upload_files`, without the app). */
export type UploadedFile = Omit<UploadFileRecord, 'appId' | 'workspaceId'>;

export interface KSegment {
  id: string;
  position: number;
  content: string;
  answer: string;
  keywords: string[];
  wordCount: number;
  tokens: number;
  indexNodeId: string;
  indexNodeHash: string;
  hitCount: number;
  enabled: boolean;
  disabledAt: number | null;
  status: 'indexing' | 'completed' | 'error';
  createdBy: string;
  createdAt: number;
  updatedAt: number;
  indexingAt: number | null;
  completedAt: number | null;
}

export interface Indexing {
  /** Index into STAGES, or 'error'. */
  stage: number | 'error';
  /** When it was queued (emulated ms); each stage takes `indexingStepMs` from there unless polls move it on. */
  queuedMs: number;
  /** Emulated ms each stage was entered, by stage index. */
  at: (number | null)[];
  error: string | null;
  /** What the splitter produced from the content (or the extraction error), materialised as segments at `indexing`. */
  plan: { content: string; answer: string }[];
  planError: string | null;
}

export interface KDocument {
  id: string;
  position: number;
  name: string;
  docForm: string;
  docLanguage: string;
  createdBy: string;
  createdAt: number;
  updatedAt: number;
  batch: string;
  /** The upload file Dify keeps for the document (`create-by-text` writes the text as one). */
  file: UploadedFile;
  /** What a re-index reads again: the decoded upload (`contentExt` = its extension), or for binary formats the
   *  text extracted from it (`contentExt` = txt). */
  content: string;
  contentExt: string;
  processRuleId: string;
  indexing: Indexing;
  segments: KSegment[];
  enabled: boolean;
  disabledAt: number | null;
  disabledBy: string | null;
  archived: boolean;
  /** `doc_metadata`: values by metadata field name (built-in fields included when enabled). */
  docMetadata: Record<string, unknown> | null;
  /** Metadata field ids bound to the document (`dataset_metadata_bindings`). */
  metadataIds: string[];
}

export interface MetadataField {
  id: string;
  name: string;
  type: 'string' | 'number' | 'time';
  createdBy: string;
  createdAt: number;
}

export interface Dataset {
  id: string;
  workspaceId: string;
  name: string;
  description: string;
  permission: string;
  indexingTechnique: string | null;
  enableApi: boolean;
  createdBy: string;
  createdAt: number;
  updatedBy?: string;
  updatedAt?: number;
  embeddingModel?: string | null;
  embeddingModelProvider?: string | null;
  /** The dataset's `retrieval_model` column: null until set (the view then shows Dify's default). */
  retrievalModel?: Record<string, unknown> | null;
  builtInFieldEnabled?: boolean;
  metadata?: MetadataField[];
  /** Process rules, oldest first (`latest_process_rule` is the last). */
  processRules?: ProcessRule[];
  documents: Record<string, KDocument>;
  nextPosition: number;
}

export const latestRule = (ds: Dataset): ProcessRule | undefined => ds.processRules?.at(-1);
export const ruleOf = (ds: Dataset, d: KDocument): ProcessRule | undefined => ds.processRules?.find((r) => r.id === d.processRuleId);

export function stageName(d: KDocument): Stage {
  return d.indexing.stage === 'error' ? 'error' : STAGES[d.indexing.stage]!;
}

/** `Document.display_status`. */
export function displayStatus(d: KDocument): string {
  const s = stageName(d);
  if (s === 'waiting') return 'queuing';
  if (s === 'error') return 'error';
  if (s !== 'completed') return 'indexing';
  if (d.archived) return 'archived';
  return d.enabled ? 'available' : 'disabled';
}

/**
 * State files written before documents had files, stages and segments: those documents were plain text that indexed
 * after two polls; they are read as completed documents whose segments appear when next re-indexed.
 */
export function upgradeDataset(ds: Dataset): void {
  for (const [id, raw] of Object.entries(ds.documents)) {
    const d = raw as KDocument & { text?: string; uploadFileId?: string; indexingStartedMs?: number };
    if (d.indexing) continue;
    const text = d.text ?? '';
    ds.documents[id] = {
      ...d,
      updatedAt: d.createdAt,
      file: { id: d.uploadFileId ?? id, name: d.name, size: Buffer.byteLength(text), extension: 'txt', mimeType: 'text/plain', createdBy: d.createdBy, createdAt: d.createdAt },
      content: text,
      contentExt: 'txt',
      indexing: { stage: COMPLETED, queuedMs: d.indexingStartedMs ?? d.createdAt * 1000, at: STAGES.map(() => d.createdAt * 1000), error: null, plan: [], planError: null },
      segments: [],
      disabledAt: null,
      disabledBy: null,
      docMetadata: null,
      metadataIds: [],
    };
  }
}
