/**
 * Document routes of the knowledge API (`controllers/service_api/dataset/document.py`, `dataset.py`): create and
 * update by text and by file (hyphenated paths canonical, underscore aliases, `PATCH …/documents/{id}`), list
 * (`has_more = len(data) == limit`), detail, indexing status per batch, batch status actions, delete.
 */
import type { Core } from './core.js';
import { Ctx, envelope, invalidParam, json, type Reply, type Router } from './http.js';
import { keyedDataset, ownerOf } from './kb-access.js';
import { fileRequest, takeFile, type Upload } from './kb-files.js';
import { progress, statusView } from './kb-indexing.js';
import { displayStatus, stageName, type Dataset, type KDocument } from './kb-model.js';
import { docForm, saveDocument, updateDocument, type Content } from './kb-save.js';
import { documentDetail, documentView, documentsOf } from './kb-views.js';
import { looseIntParam, validationError } from './params.js';

const TEXT_CREATE = 'DocumentTextCreatePayload';
const TEXT_UPDATE = 'DocumentTextUpdate';
const IN_PROGRESS = ['parsing', 'cleaning', 'splitting', 'indexing'];

/** `FileService.upload_text`: the text becomes a .txt upload named after the document. */
const textContent = (name: string, text: string): Content => ({ name: name.slice(0, 200), bytes: Buffer.from(text, 'utf8'), extension: 'txt', mimeType: 'text/plain' });

function optionalString(b: Record<string, unknown>, field: string, model: string): string | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') validationError(model, field, 'Input should be a valid string');
  return v;
}

function techniqueCheck(ds: Dataset, b: Record<string, unknown>, model: string): void {
  const t = b.indexing_technique;
  if (t !== undefined && t !== null && t !== 'high_quality' && t !== 'economy') validationError(model, 'indexing_technique', "Input should be 'high_quality' or 'economy'");
  if (!ds.indexingTechnique && !t) throw invalidParam('indexing_technique is required.');
}

const answer = (core: Core, ds: Dataset, d: KDocument): Reply => json(200, { document: documentView(core, ds, d), batch: d.batch });

export function registerDocuments(core: Core, r: Router): void {
  const both = (method: string, paths: string[], h: (ctx: Ctx) => Reply | Promise<Reply>): void => {
    for (const p of paths) r.add(method, p, h);
  };
  const base = '/v1/datasets/<uuid:ds>';
  const doc = (ds: Dataset, ctx: Ctx): KDocument | undefined => ds.documents[ctx.params.doc!.toLowerCase()];

  both('POST', [`${base}/document/create-by-text`, `${base}/document/create_by_text`], (ctx) => {
    const { key, ds } = keyedDataset(core, ctx);
    const b = ctx.json();
    const name = optionalString(b, 'name', TEXT_CREATE);
    const text = optionalString(b, 'text', TEXT_CREATE);
    if (name === undefined) validationError(TEXT_CREATE, 'name', 'Field required');
    if (text === undefined) validationError(TEXT_CREATE, 'text', 'Field required');
    const form = docForm(b, TEXT_CREATE);
    techniqueCheck(ds, b, TEXT_CREATE);
    return answer(core, ds, saveDocument(core, ds, ownerOf(core, key), textContent(name!, text!), b, form));
  });

  both('POST', [`${base}/documents/<uuid:doc>/update-by-text`, `${base}/documents/<uuid:doc>/update_by_text`], (ctx) => {
    const { key, ds } = keyedDataset(core, ctx);
    const b = ctx.json();
    const name = optionalString(b, 'name', TEXT_UPDATE);
    const text = optionalString(b, 'text', TEXT_UPDATE);
    if (text !== undefined && name === undefined) throw invalidParam(`1 validation error for ${TEXT_UPDATE}\n  Value error, name is required when text is provided`);
    const form = docForm(b, TEXT_UPDATE);
    const content = text ? textContent(name!, text) : undefined;
    return answer(core, ds, updateDocument(core, ds, doc(ds, ctx), ownerOf(core, key), content, b, form));
  });

  both('POST', [`${base}/document/create-by-file`, `${base}/document/create_by_file`], async (ctx) => {
    const { key, ds } = keyedDataset(core, ctx);
    const req = await fileRequest(ctx);
    const b = req.args;
    if (!ds.indexingTechnique && !b.indexing_technique) throw invalidParam('indexing_technique is required.');
    const upload = (await takeFile(req, 'create')) as Upload;
    const form = docForm(b, 'KnowledgeConfig');
    if (b.process_rule === undefined && !ds.processRules?.length) throw invalidParam('process_rule is required.');
    return answer(core, ds, saveDocument(core, ds, ownerOf(core, key), upload, b, form));
  });

  const updateByFile = async (ctx: Ctx): Promise<Reply> => {
    const { key, ds } = keyedDataset(core, ctx);
    const req = await fileRequest(ctx);
    const upload = await takeFile(req, 'update');
    const form = docForm(req.args, 'KnowledgeConfig');
    return answer(core, ds, updateDocument(core, ds, doc(ds, ctx), ownerOf(core, key), upload, req.args, form));
  };
  both('POST', [`${base}/documents/<uuid:doc>/update-by-file`, `${base}/documents/<uuid:doc>/update_by_file`], updateByFile);
  r.add('PATCH', `${base}/documents/<uuid:doc>`, updateByFile);

  r.add('GET', `${base}/documents`, (ctx) => {
    const { ds } = keyedDataset(core, ctx);
    const q = ctx.query;
    const page = Math.max(1, looseIntParam(q, 'page', 1, 'DocumentListQuery'));
    const limit = looseIntParam(q, 'limit', 20, 'DocumentListQuery');
    // paginate(max_per_page=100): the page holds at most 100, the answer still echoes the limit asked for.
    const perPage = limit < 1 ? 20 : Math.min(limit, 100);
    const kw = q.get('keyword') ?? '';
    const status = q.get('status');
    const docs = documentsOf(core, ds)
      .filter((d) => (!kw || d.name.includes(kw)) && (!status || displayStatus(d) === status))
      .sort((a, b) => b.createdAt - a.createdAt || b.position - a.position);
    const data = docs.slice((page - 1) * perPage, page * perPage).map((d) => documentView(core, ds, d));
    return json(200, { data, has_more: data.length === limit, limit, total: docs.length, page });
  });

  r.add('GET', `${base}/documents/:batch/indexing-status`, (ctx) => {
    const { ds } = keyedDataset(core, ctx);
    const docs = Object.values(ds.documents).filter((d) => d.batch === ctx.params.batch);
    if (docs.length === 0) throw envelope(404, 'not_found', 'Documents not found.');
    // A status poll moves each document on by a stage (besides the emulated time).
    for (const d of docs) progress(core, ds, d, true);
    return json(200, { data: docs.map(statusView) });
  });

  r.add('GET', `${base}/documents/<uuid:doc>`, (ctx) => {
    const { ds } = keyedDataset(core, ctx);
    const d = doc(ds, ctx);
    if (!d) throw envelope(404, 'not_found', 'Document not found.');
    const m = ctx.query.get('metadata') ?? 'all';
    if (m !== 'all' && m !== 'only' && m !== 'without') throw envelope(400, 'invalid_metadata', `Invalid metadata value: ${m}`);
    return json(200, documentDetail(core, ds, d, m));
  });

  r.add('DELETE', `${base}/documents/<uuid:doc>`, (ctx) => {
    const { ds } = keyedDataset(core, ctx);
    const d = doc(ds, ctx);
    if (!d) throw envelope(404, 'not_found', 'Document Not Exists.');
    progress(core, ds, d);
    if (d.archived) throw envelope(403, 'archived_document_immutable', 'The archived document is not editable.');
    if (IN_PROGRESS.includes(stageName(d))) throw envelope(400, 'document_indexing', 'Cannot delete document during indexing.');
    delete ds.documents[d.id];
    return { status: 204 };
  });

  r.add('PATCH', `${base}/documents/status/:action`, (ctx) => {
    const { key, ds } = keyedDataset(core, ctx);
    const action = ctx.params.action!;
    if (!['enable', 'disable', 'archive', 'un_archive'].includes(action)) throw envelope(400, 'invalid_action', 'Invalid action.');
    const ids = ctx.json().document_ids;
    const now = core.clock.nowSec();
    for (const id of Array.isArray(ids) ? ids.map(String) : []) {
      const d = ds.documents[id.toLowerCase()];
      if (!d) continue;
      progress(core, ds, d);
      if (IN_PROGRESS.includes(stageName(d))) throw envelope(400, 'invalid_action', `Document:${d.name} is being indexed, please try again later`);
      if (action === 'disable' && stageName(d) !== 'completed') throw envelope(400, 'invalid_action', 'Document is not completed.');
      if (action === 'enable' || action === 'disable') {
        d.enabled = action === 'enable';
        d.disabledAt = d.enabled ? null : now;
        d.disabledBy = d.enabled ? null : ownerOf(core, key);
      } else d.archived = action === 'archive';
      d.updatedAt = now;
    }
    return json(200, { result: 'success' });
  });
}
