/**
 * Metadata (`controllers/service_api/dataset/metadata.py`, `services/metadata_service.py`): a dataset's fields
 * (string, number, time), the built-in fields and their switch, and the values of documents
 * (`POST …/documents/metadata`), which is where a client keeps a content hash and a source path on the Dify side.
 */
import type { Core } from './core.js';
import { envelope, invalidParam, json, type Router } from './http.js';
import { keyedDataset, ownerOf } from './kb-access.js';
import type { Dataset, MetadataField } from './kb-model.js';
import { builtInValues } from './kb-views.js';
import { validationError } from './params.js';
import { isObject, uuid } from './util.js';

const BUILT_IN = ['document_name', 'uploader', 'upload_date', 'last_update_date', 'source'];
const TYPES = ['string', 'number', 'time'] as const;

const fieldView = (m: MetadataField): Record<string, unknown> => ({ id: m.id, name: m.name, type: m.type });

/** Name checks of create and rename (`MetadataService`). */
function checkName(ds: Dataset, name: string, model: string): void {
  if (name.length > 255) validationError(model, 'name', 'String should have at most 255 characters');
  if ((ds.metadata ?? []).some((m) => m.name === name)) throw invalidParam('Metadata name already exists.');
  if (BUILT_IN.includes(name)) throw invalidParam('Metadata name already exists in Built-in fields.');
}

export function registerMetadata(core: Core, r: Router): void {
  const base = '/v1/datasets/<uuid:ds>/metadata';

  r.add('POST', base, (ctx) => {
    const { key, ds } = keyedDataset(core, ctx);
    const b = ctx.json();
    const M = 'MetadataArgs';
    if (b.type === undefined) validationError(M, 'type', 'Field required');
    if (!TYPES.includes(b.type as (typeof TYPES)[number])) validationError(M, 'type', "Input should be 'string', 'number' or 'time'");
    if (typeof b.name !== 'string') validationError(M, 'name', b.name === undefined ? 'Field required' : 'Input should be a valid string');
    checkName(ds, b.name as string, M);
    const m: MetadataField = { id: uuid(), name: b.name as string, type: b.type as MetadataField['type'], createdBy: ownerOf(core, key), createdAt: core.clock.nowSec() };
    (ds.metadata ??= []).push(m);
    return json(201, fieldView(m));
  });

  r.add('GET', base, (ctx) => {
    const { ds } = keyedDataset(core, ctx);
    const docs = Object.values(ds.documents);
    return json(200, {
      doc_metadata: (ds.metadata ?? []).map((m) => ({ ...fieldView(m), count: docs.filter((d) => d.metadataIds.includes(m.id)).length })),
      built_in_field_enabled: ds.builtInFieldEnabled ?? false,
    });
  });

  r.add('GET', `${base}/built-in`, (ctx) => {
    keyedDataset(core, ctx);
    return json(200, { fields: BUILT_IN.map((name) => ({ name, type: name.endsWith('_date') ? 'time' : 'string' })) });
  });

  r.add('POST', `${base}/built-in/:action`, (ctx) => {
    const { ds } = keyedDataset(core, ctx);
    const action = ctx.params.action;
    if (action !== 'enable' && action !== 'disable') throw envelope(400, 'invalid_action', 'Invalid action.');
    const on = action === 'enable';
    if ((ds.builtInFieldEnabled ?? false) !== on) {
      ds.builtInFieldEnabled = on;
      for (const d of Object.values(ds.documents)) {
        if (!d.enabled || d.archived) continue;
        const meta = { ...(d.docMetadata ?? {}) };
        if (on) Object.assign(meta, builtInValues(core, d));
        else for (const k of BUILT_IN) delete meta[k];
        d.docMetadata = meta;
      }
    }
    return json(200, { result: 'success' });
  });

  const field = (ds: Dataset, id: string): MetadataField => {
    const m = (ds.metadata ?? []).find((x) => x.id === id.toLowerCase());
    if (!m) throw invalidParam('Metadata not found.');
    return m;
  };

  r.add('PATCH', `${base}/<uuid:mid>`, (ctx) => {
    const { ds } = keyedDataset(core, ctx);
    const name = ctx.json().name;
    if (typeof name !== 'string') validationError('MetadataUpdatePayload', 'name', 'Field required');
    checkName(ds, name as string, 'MetadataUpdatePayload');
    const m = field(ds, ctx.params.mid!);
    // Documents keep their values under the new name.
    for (const d of Object.values(ds.documents)) {
      if (!d.docMetadata || !d.metadataIds.includes(m.id)) continue;
      const { [m.name]: value, ...rest } = d.docMetadata;
      d.docMetadata = { ...rest, [name as string]: value ?? null };
    }
    m.name = name as string;
    return json(200, fieldView(m));
  });

  r.add('DELETE', `${base}/<uuid:mid>`, (ctx) => {
    const { ds } = keyedDataset(core, ctx);
    const m = field(ds, ctx.params.mid!);
    ds.metadata = (ds.metadata ?? []).filter((x) => x !== m);
    for (const d of Object.values(ds.documents)) {
      if (!d.metadataIds.includes(m.id)) continue;
      d.metadataIds = d.metadataIds.filter((x) => x !== m.id);
      if (d.docMetadata) delete d.docMetadata[m.name];
    }
    return { status: 204 };
  });

  // `update_documents_metadata`: replace a document's values (or merge them with partial_update).
  r.add('POST', '/v1/datasets/<uuid:ds>/documents/metadata', (ctx) => {
    const { ds } = keyedDataset(core, ctx);
    const ops = ctx.json().operation_data;
    const M = 'MetadataOperationData';
    if (!Array.isArray(ops)) validationError(M, 'operation_data', ops === undefined ? 'Field required' : 'Input should be a valid list');
    for (const [i, op] of (ops as unknown[]).entries()) {
      if (!isObject(op) || typeof op.document_id !== 'string') validationError(M, `operation_data.${i}.document_id`, 'Field required');
      if (!Array.isArray(op.metadata_list)) validationError(M, `operation_data.${i}.metadata_list`, 'Field required');
    }
    for (const op of ops as Record<string, unknown>[]) {
      const d = ds.documents[String(op.document_id).toLowerCase()];
      if (!d) throw invalidParam('Document not found.');
      const list = (op.metadata_list as unknown[]).filter(isObject);
      const meta: Record<string, unknown> = op.partial_update === true ? { ...(d.docMetadata ?? {}) } : {};
      const ids = op.partial_update === true ? [...d.metadataIds] : [];
      for (const v of list) {
        meta[String(v.name)] = v.value ?? null;
        if (!ids.includes(String(v.id))) ids.push(String(v.id));
      }
      if (ds.builtInFieldEnabled) Object.assign(meta, builtInValues(core, d));
      d.docMetadata = meta;
      d.metadataIds = ids;
    }
    return json(200, { result: 'success' });
  });
}
