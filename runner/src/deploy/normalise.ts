/**
 * The canonical form of a DSL, so that "what Git says" and "what Dify exports" compare equal when they mean the
 * same app. Dropped: `version`/`kind`/`dependencies` (Dify rewrites them on export), UI leftovers (positions,
 * sizes, selection, viewport, zIndex, `_`-prefixed runtime keys, dify-api.md §9.8), variable ids/selectors,
 * nulls and empty lists/maps. Sorted: keys, nodes and edges. Secret values are replaced by a marker: exports blank
 * them, and hashes of secrets must never be written to plans or history.
 */
import { createDecipheriv, createHash } from 'node:crypto';
import { BoundedCache, plainJson } from '../yaml/plain-json.js';
import { log } from '../core/log.js';

export const SECRET_MARKER = '<secret>';

const NODE_UI_KEYS = new Set([
  'position',
  'positionAbsolute',
  'width',
  'height',
  'selected',
  'sourcePosition',
  'targetPosition',
  'dragging',
  'draggable',
  'selectable',
  'zIndex',
  'paramSchemas',
  'params',
]);
const EDGE_UI_KEYS = new Set(['id', 'zIndex', 'selected', 'animated', 'style', 'markerEnd']);
const DATA_UI_KEYS = new Set(['selected']);

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type NormalisedDsl = { [k: string]: Json };

export interface NormaliseOptions {
  /** 'redact' (default): secret values → marker. 'keep': values kept (in-memory comparisons only). */
  secrets?: 'redact' | 'keep';
}

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Deep clean: CRLF → LF, nulls and empty containers dropped from maps, `_` keys dropped. */
function clean(v: unknown, dropUnderscore: boolean): Json | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'string') return v.replace(/\r\n/g, '\n');
  if (typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map((x) => clean(x, dropUnderscore) ?? null);
  if (isObj(v)) {
    const out: Record<string, Json> = {};
    for (const [k, x] of Object.entries(v)) {
      if (dropUnderscore && k.startsWith('_')) continue;
      const c = clean(x, dropUnderscore);
      if (c === undefined) continue;
      if (Array.isArray(c) && c.length === 0) continue;
      if (isObj(c) && Object.keys(c).length === 0) continue;
      out[k] = c;
    }
    return out;
  }
  if (v instanceof Date) return v.toISOString();
  return String(v);
}

function normaliseNode(n: unknown): Json {
  if (!isObj(n)) return clean(n, true) ?? null;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(n)) {
    if (NODE_UI_KEYS.has(k)) continue;
    if (k === 'data' && isObj(v)) {
      const data: Record<string, unknown> = {};
      for (const [dk, dv] of Object.entries(v)) if (!DATA_UI_KEYS.has(dk)) data[dk] = dv;
      out.data = data;
    } else out[k] = v;
  }
  return clean(out, true) ?? {};
}

function edgeKey(e: Json): string {
  const o = (isObj(e) ? e : {}) as Record<string, unknown>;
  return `${o.source ?? ''}\u0000${o.sourceHandle ?? 'source'}\u0000${o.target ?? ''}\u0000${o.targetHandle ?? 'target'}`;
}

function normaliseEdge(e: unknown): Json {
  if (!isObj(e)) return clean(e, true) ?? null;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) if (!EDGE_UI_KEYS.has(k)) out[k] = v;
  // Handles default to 'source'/'target' when absent.
  out.sourceHandle ??= 'source';
  out.targetHandle ??= 'target';
  return clean(out, true) ?? {};
}

function normaliseVariables(list: unknown, secrets: 'redact' | 'keep'): Json[] | undefined {
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const out = list.map((v) => {
    if (!isObj(v)) return clean(v, false) ?? null;
    const { id: _id, selector: _sel, ...rest } = v;
    void _id;
    void _sel;
    if (rest.value_type === 'secret' && secrets === 'redact') rest.value = SECRET_MARKER;
    // Dify stores '' for "no description".
    if (rest.description === '') delete rest.description;
    return clean(rest, false) ?? {};
  });
  return out.sort((a, b) => String((a as Record<string, Json>)?.name ?? '').localeCompare(String((b as Record<string, Json>)?.name ?? '')));
}

/** Unwraps `{"data": "<yaml>"}` raw export JSON (some backup scripts commit that). */
export function isWrappedExport(doc: unknown): doc is { data: string } {
  return isObj(doc) && typeof doc.data === 'string' && Object.keys(doc).length === 1;
}

/**
 * Normal forms (secrets redacted) by the content of the document: a fan-out normalises the same rendered DSL for
 * every target, several times each (content hash, plan, verification). A memoised normal form is shared, so it is
 * frozen (callers only read normal forms); its hash is memoised with it.
 */
const normals = new BoundedCache<NormalisedDsl>(64, 1024 * 1024);
const hashes = new WeakMap<object, string>();

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export function normaliseDsl(doc: unknown, opts: NormaliseOptions = {}): NormalisedDsl {
  const secrets = opts.secrets ?? 'redact';
  const key = secrets === 'redact' && isObj(doc) ? plainJson(doc) : undefined;
  if (key === undefined) return normalise(doc, secrets);
  const hit = normals.get(key);
  if (hit) return hit;
  const n = deepFreeze(normalise(doc, secrets));
  hashes.set(n, `sha256:${sha256(canonicalJson(n))}`);
  return normals.set(key, n);
}

function normalise(doc: unknown, secrets: 'redact' | 'keep'): NormalisedDsl {
  if (!isObj(doc)) return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) {
    if (k === 'version' || k === 'kind' || k === 'dependencies') continue;
    if (k === 'workflow' && isObj(v)) {
      const w: Record<string, unknown> = {};
      for (const [wk, wv] of Object.entries(v)) {
        if (wk === 'graph' && isObj(wv)) {
          const g: Record<string, unknown> = {};
          for (const [gk, gv] of Object.entries(wv)) {
            if (gk === 'viewport') continue;
            if (gk === 'nodes' && Array.isArray(gv)) {
              g.nodes = gv.map(normaliseNode).sort((a, b) => String((a as Record<string, Json>)?.id ?? '').localeCompare(String((b as Record<string, Json>)?.id ?? '')));
            } else if (gk === 'edges' && Array.isArray(gv)) {
              g.edges = gv.map(normaliseEdge).sort((a, b) => edgeKey(a).localeCompare(edgeKey(b)));
            } else g[gk] = gv;
          }
          w.graph = g;
        } else if (wk === 'environment_variables' || wk === 'conversation_variables' || wk === 'rag_pipeline_variables') {
          w[wk] = normaliseVariables(wv, secrets);
        } else w[wk] = wv;
      }
      out.workflow = w;
    } else out[k] = v;
  }
  return (clean(out, false) ?? {}) as NormalisedDsl;
}

/** JSON with sorted keys at every level: the input of every hash. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (isObj(v)) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** `sha256:<hex>` of the normalised DSL (secrets always redacted: safe to write down). */
export function contentHash(doc: unknown): string {
  return hashNormalised(normaliseDsl(doc, { secrets: 'redact' }));
}

/** Same as contentHash, for an already normalised document. */
export function hashNormalised(n: NormalisedDsl): string {
  return hashes.get(n) ?? `sha256:${sha256(canonicalJson(n))}`;
}

/**
 * True when every value in `sub` is also in `sup` (objects may have extra keys in `sup`; arrays must have the same
 * length, element-wise). Used to accept exports where the server added defaults.
 */
export function isSubset(sub: unknown, sup: unknown): boolean {
  if (Array.isArray(sub)) {
    return Array.isArray(sup) && sub.length === sup.length && sub.every((x, i) => isSubset(x, sup[i]));
  }
  if (isObj(sub)) {
    return isObj(sup) && Object.entries(sub).every(([k, v]) => isSubset(v, sup[k]));
  }
  return sub === sup;
}

/** Secret environment variable values of a DSL, by name (memory only). */
export function secretValues(doc: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const vars = isObj(doc) && isObj(doc.workflow) ? doc.workflow.environment_variables : undefined;
  for (const v of Array.isArray(vars) ? vars : []) {
    if (isObj(v) && v.value_type === 'secret' && typeof v.name === 'string') out[v.name] = v.value == null ? '' : String(v.value);
  }
  return out;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(v: unknown): v is string {
  return typeof v === 'string' && UUID.test(v);
}

/** Dify's export encryption of knowledge-base ids: AES-256-CBC, key sha256(workspace id), IV = first 16 key bytes. */
export function decryptDatasetId(value: string, workspaceId: string): string | undefined {
  if (isUuid(value)) return value;
  try {
    const key = createHash('sha256').update(workspaceId).digest();
    const d = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
    const text = Buffer.concat([d.update(Buffer.from(value, 'base64')), d.final()]).toString('utf8');
    return isUuid(text) ? text : undefined;
  } catch (e) {
    // Not encrypted with this workspace's key (a plain id, another workspace's export): left as it is.
    log.debug(`dataset id not decrypted for workspace ${workspaceId}: ${(e as Error).message}`);
    return undefined;
  }
}

function knowledgeNodes(doc: unknown): Record<string, unknown>[] {
  const nodes = isObj(doc) && isObj(doc.workflow) && isObj(doc.workflow.graph) ? doc.workflow.graph.nodes : undefined;
  return (Array.isArray(nodes) ? nodes : [])
    .map((n) => (isObj(n) && isObj(n.data) ? n.data : undefined))
    .filter((d): d is Record<string, unknown> => d !== undefined && String(d.type ?? '').startsWith('knowledge-retrieval') && Array.isArray(d.dataset_ids));
}

/** Replaces the encrypted knowledge-base ids of an export by plain UUIDs (in place), so it compares with Git. */
export function decryptDatasetIds(doc: unknown, workspaceId: string | undefined): void {
  if (!workspaceId) return;
  for (const d of knowledgeNodes(doc)) {
    d.dataset_ids = (d.dataset_ids as unknown[]).map((x) => (typeof x === 'string' ? (decryptDatasetId(x, workspaceId) ?? x) : x));
  }
}

/** Knowledge-base ids that are not plain UUIDs (encrypted by another workspace's export). */
export function encryptedDatasetIds(doc: unknown): number {
  return knowledgeNodes(doc).reduce((n, d) => n + (d.dataset_ids as unknown[]).filter((x) => !isUuid(x)).length, 0);
}
