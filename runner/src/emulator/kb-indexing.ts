/**
 * Document indexing over emulated time (`core/indexing_runner.py`): a queued document moves `waiting → parsing →
 * cleaning → splitting → indexing → completed`, one stage per `indexingStepMs` of the emulated clock or per
 * `indexing-status` poll (so a client that polls never waits, and one that does not can move the clock). A document
 * whose content cannot be extracted stops at `error` after parsing. Segments appear when splitting is done and are
 * retrievable once completed.
 */
import type { Core } from './core.js';
import { extract, qaPairs } from './kb-extract.js';
import { COMPLETED, STAGES, ruleOf, type Dataset, type KDocument, type KSegment } from './kb-model.js';
import { split, splitRule } from './kb-split.js';
import { countTokens } from './model.js';
import { keywordsOf } from './kb-text.js';
import { sha256Hex, uuid } from './util.js';

const INDEXING = STAGES.indexOf('indexing');

const BINARY = ['pdf', 'docx', 'xlsx', 'xls'];

/** What indexing will produce from the upload (or, without one, from the kept content): segments or an error. */
export function planDocument(ds: Dataset, d: KDocument, upload?: { bytes: Buffer; extension: string }): void {
  if (!upload && d.indexing.planError) return; // an unreadable upload stays unreadable on a re-index
  const bytes = upload?.bytes ?? Buffer.from(d.content, 'utf8');
  const ext = upload?.extension ?? d.contentExt;
  const ex = extract(bytes, d.file.name, ext);
  if (upload) {
    const binary = BINARY.includes(ext);
    d.content = binary ? ex.pieces.join('\n') : ex.error ? '' : new TextDecoder().decode(bytes);
    d.contentExt = binary ? 'txt' : ext;
  }
  d.indexing.plan = [];
  d.indexing.planError = ex.error ?? null;
  if (ex.error) return;
  const rule = ruleOf(ds, d);
  const sr = splitRule(rule?.mode ?? 'automatic', rule?.rules ?? null);
  if (d.docForm === 'qa_model') {
    // Dify asks an LLM for Q&A pairs; the emulator takes question/answer columns, else each chunk answers itself.
    const pairs = qaPairs(ex, ex.pieces.join('\n'));
    if (pairs) {
      d.indexing.plan = pairs;
      return;
    }
  }
  for (const piece of ex.pieces) for (const chunk of split(piece, sr)) d.indexing.plan.push({ content: chunk, answer: d.docForm === 'qa_model' ? chunk : '' });
}

/** (Re)queues a document: stage `waiting`, old segments gone (Dify re-segments from scratch). */
export function queue(core: Core, d: KDocument): void {
  const now = core.clock.nowMs();
  d.indexing.stage = 0;
  d.indexing.queuedMs = now;
  d.indexing.at = STAGES.map((_, i) => (i === 0 ? now : null));
  d.indexing.error = null;
  d.segments = [];
}

function materialise(ds: Dataset, d: KDocument, atMs: number): void {
  const sec = Math.floor(atMs / 1000);
  const hq = ds.indexingTechnique === 'high_quality';
  d.segments = d.indexing.plan.map(
    (p, i): KSegment => ({
      id: uuid(),
      position: i + 1,
      content: p.content,
      answer: p.answer,
      keywords: hq ? [] : keywordsOf(p.content),
      wordCount: p.content.length + p.answer.length,
      tokens: hq ? countTokens(p.content + p.answer) : 0,
      indexNodeId: uuid(),
      indexNodeHash: sha256Hex(p.content),
      hitCount: 0,
      enabled: true,
      disabledAt: null,
      status: 'indexing',
      createdBy: d.createdBy,
      createdAt: sec,
      updatedAt: sec,
      indexingAt: sec,
      completedAt: null,
    }),
  );
}

/** Moves a document to the stage its time (and, for a status poll, one more step) has reached. */
export function progress(core: Core, ds: Dataset, d: KDocument, poll = false): void {
  const ix = d.indexing;
  if (ix.stage === 'error' || ix.stage >= COMPLETED) return;
  const now = core.clock.nowMs();
  const step = Math.max(1, core.opts.indexingStepMs);
  const byTime = Math.floor((now - ix.queuedMs) / step);
  const target = Math.min(COMPLETED, Math.max(ix.stage + (poll ? 1 : 0), byTime));
  for (let s = ix.stage + 1; s <= target; s++) {
    // A stage reached by time is dated when it was due; one reached by a poll, now.
    const at = Math.min(now, ix.queuedMs + s * step);
    if (s === STAGES.indexOf('cleaning') && ix.planError) {
      ix.stage = 'error';
      ix.error = ix.planError;
      ix.at[COMPLETED + 1] = at; // stopped_at
      return;
    }
    ix.stage = s;
    ix.at[s] = at;
    if (s === INDEXING) materialise(ds, d, at);
    if (s === COMPLETED) {
      for (const seg of d.segments) {
        seg.status = 'completed';
        seg.completedAt = Math.floor(at / 1000);
      }
    }
  }
}

const sec = (ms: number | null | undefined): number | null => (ms === null || ms === undefined ? null : Math.floor(ms / 1000));

/** One entry of `GET …/documents/{batch}/indexing-status` (`document_status_fields`). */
export function statusView(d: KDocument): Record<string, unknown> {
  const ix = d.indexing;
  return {
    id: d.id,
    indexing_status: ix.stage === 'error' ? 'error' : STAGES[ix.stage],
    processing_started_at: sec(ix.at[1]),
    parsing_completed_at: sec(ix.at[2]),
    cleaning_completed_at: sec(ix.at[3]),
    splitting_completed_at: sec(ix.at[4]),
    completed_at: sec(ix.at[COMPLETED]),
    paused_at: null,
    error: ix.error,
    stopped_at: ix.stage === 'error' ? sec(ix.at[COMPLETED + 1]) : null,
    completed_segments: d.segments.filter((s) => s.completedAt !== null).length,
    total_segments: d.segments.length,
  };
}
