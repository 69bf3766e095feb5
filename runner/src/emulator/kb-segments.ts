/**
 * Segment (chunk) routes (`controllers/service_api/dataset/segment.py`, `SegmentService`): list with `status`,
 * `keyword`, paging; add segments to a completed, enabled document (`answer` required for Q&A documents); read,
 * update (content, answer, keywords, enabled) and delete one.
 */
import type { Core } from './core.js';
import { envelope, invalidParam, json, type Router } from './http.js';
import { keyedDataset, ownerOf } from './kb-access.js';
import { progress } from './kb-indexing.js';
import { stageName, type Dataset, type KDocument, type KSegment } from './kb-model.js';
import { keywordsOf } from './kb-text.js';
import { segmentView } from './kb-views.js';
import { countTokens } from './model.js';
import { isObject, sha256Hex, uuid } from './util.js';

/** `SegmentService.segment_create_args_validate`. */
function validate(args: Record<string, unknown>, d: KDocument): void {
  if (d.docForm === 'qa_model' && (typeof args.answer !== 'string' || !args.answer)) throw invalidParam('Answer is required');
  if (typeof args.content !== 'string' || !args.content.trim()) throw invalidParam('Content is empty');
}

function fill(ds: Dataset, s: KSegment, content: string, answer: string, keywords: unknown): void {
  const hq = ds.indexingTechnique === 'high_quality';
  s.content = content;
  s.answer = answer;
  s.wordCount = content.length + answer.length;
  s.tokens = hq ? countTokens(content + answer) : 0;
  s.keywords = Array.isArray(keywords) ? keywords.map(String) : hq ? [] : keywordsOf(content);
  s.indexNodeHash = sha256Hex(content);
}

export function registerSegments(core: Core, r: Router): void {
  const path = '/v1/datasets/<uuid:ds>/documents/<uuid:doc>/segments';
  const target = (ctx: Parameters<Parameters<Router['add']>[2]>[0]): { ds: Dataset; d: KDocument; by: string } => {
    const { key, ds } = keyedDataset(core, ctx);
    const d = ds.documents[ctx.params.doc!.toLowerCase()];
    if (!d) throw envelope(404, 'not_found', 'Document not found.');
    progress(core, ds, d);
    return { ds, d, by: ownerOf(core, key) };
  };
  const segment = (d: KDocument, id: string): KSegment => {
    const s = d.segments.find((x) => x.id === id.toLowerCase());
    if (!s) throw envelope(404, 'not_found', 'Segment not found.');
    return s;
  };

  r.add('GET', path, (ctx) => {
    const { d } = target(ctx);
    const page = Math.max(1, Number(ctx.query.get('page') ?? 1) || 1);
    const limit = Math.min(100, Math.max(1, Number(ctx.query.get('limit') ?? 20) || 20));
    const statuses = ctx.query.getAll('status');
    const kw = (ctx.query.get('keyword') ?? '').toLowerCase();
    const all = d.segments.filter((s) => (!statuses.length || statuses.includes(s.status)) && (!kw || s.content.toLowerCase().includes(kw)));
    const data = all.slice((page - 1) * limit, page * limit).map((s) => segmentView(s, d.id));
    return json(200, { data, doc_form: d.docForm, total: all.length, has_more: data.length === limit, limit, page });
  });

  r.add('POST', path, (ctx) => {
    const { ds, d, by } = target(ctx);
    if (stageName(d) !== 'completed') throw envelope(404, 'not_found', 'Document is not completed.');
    if (!d.enabled) throw envelope(404, 'not_found', 'Document is disabled.');
    const list = ctx.json().segments;
    if (!Array.isArray(list)) return json(400, { error: 'Segments is required' });
    for (const a of list) validate(isObject(a) ? a : {}, d);
    const now = core.clock.nowSec();
    const added = list.filter(isObject).map((a) => {
      const s: KSegment = {
        id: uuid(),
        position: (d.segments.at(-1)?.position ?? 0) + 1,
        content: '',
        answer: '',
        keywords: [],
        wordCount: 0,
        tokens: 0,
        indexNodeId: uuid(),
        indexNodeHash: '',
        hitCount: 0,
        enabled: true,
        disabledAt: null,
        status: 'completed',
        createdBy: by,
        createdAt: now,
        updatedAt: now,
        indexingAt: now,
        completedAt: now,
      };
      fill(ds, s, String(a.content), typeof a.answer === 'string' ? a.answer : '', a.keywords);
      d.segments.push(s);
      return s;
    });
    return json(200, { data: added.map((s) => segmentView(s, d.id)), doc_form: d.docForm });
  });

  r.add('GET', `${path}/<uuid:seg>`, (ctx) => {
    const { d } = target(ctx);
    return json(200, { data: segmentView(segment(d, ctx.params.seg!), d.id), doc_form: d.docForm });
  });

  r.add('POST', `${path}/<uuid:seg>`, (ctx) => {
    const { ds, d } = target(ctx);
    const s = segment(d, ctx.params.seg!);
    const args = ctx.json().segment;
    if (!isObject(args)) throw invalidParam('1 validation error for SegmentUpdatePayload\nsegment\n  Field required');
    if (s.status !== 'completed') throw invalidParam('Segment is indexing, please try again later');
    const now = core.clock.nowSec();
    if (args.enabled === false) {
      s.enabled = false;
      s.disabledAt = now;
    } else {
      validate({ content: args.content ?? s.content, answer: args.answer ?? s.answer }, d);
      fill(ds, s, String(args.content ?? s.content), String(args.answer ?? s.answer), args.keywords ?? s.keywords);
      s.enabled = true;
      s.disabledAt = null;
    }
    s.updatedAt = now;
    return json(200, { data: segmentView(s, d.id), doc_form: d.docForm });
  });

  r.add('DELETE', `${path}/<uuid:seg>`, (ctx) => {
    const { d } = target(ctx);
    const s = segment(d, ctx.params.seg!);
    d.segments = d.segments.filter((x) => x !== s);
    return { status: 204 };
  });
}
