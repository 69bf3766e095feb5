/**
 * Validates service-API responses against Dify's own OpenAPI description (`openapi_service.json`, OpenAPI 3.0):
 * blocking bodies and SSE events against the component schemas (the SSE discriminator mappings pick the event
 * schema), error bodies against the envelope and the error codes the spec lists for that route and status.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPENAPI_DIR } from '../helpers/shared.js';
import { createAjv, type ValidateFunction } from '../../runner/src/core/ajv.js';

const SPEC_PATH = join(OPENAPI_DIR, 'openapi_service.json');

type Json = Record<string, any>;

/** Known disagreements between the spec and Dify's code (dify-api.md wins); each one is adjusted here on purpose. */
export const SPEC_ADJUSTMENTS = [
  'user_input_form items use oneOf over wrappers whose properties are all optional, so every item matches all three branches and oneOf can never pass: validated as anyOf',
  'Dataset.data_source_type / embedding_model / embedding_model_provider / doc_form / indexing_technique are plain strings in the spec, but Dify returns null before the first document (a dataset created without a technique) and for economy indexing: validated as nullable',
  "retrieval_model_dict.score_threshold is a number in the spec, but Dify stores the request's RetrievalModel.model_dump(), whose unset score_threshold is None: validated as nullable",
  "doc_metadata[].value is a string in the spec, but Dify's number fields and the built-in time fields (upload_date, last_update_date: timestamps) are numbers: validated as any JSON value",
  'WebAppSettingsResponse.chat_color_theme / copyright / privacy_policy are plain strings in the spec, but Dify\'s Site row holds NULL until they are set in the UI (models/model.py Site): validated as nullable',
  '`nullable` beside a `$ref` without a `type` (HumanInputContent.form_definition, …) is not valid for Ajv: validated as anyOf [the $ref, null]',
  'OpenAPI discriminators without oneOf (ChunkChatEvent, ChunkWorkflowEvent, ChunkCompletionEvent) are resolved by hand through their mapping',
];

/** Fields the spec types as plain strings that Dify returns as null (SPEC_ADJUSTMENTS), by schema. */
const NULLABLE_FIELDS: Record<string, string[]> = {
  Dataset: ['data_source_type', 'embedding_model', 'embedding_model_provider', 'doc_form', 'indexing_technique'],
  WebAppSettingsResponse: ['chat_color_theme', 'copyright', 'privacy_policy'],
  retrieval_model_dict: ['score_threshold'],
};

function prepare(node: unknown, path: string[] = []): unknown {
  if (path[path.length - 1] === 'value' && path.includes('doc_metadata') && path[path.length - 2] === 'properties') return {};
  if (path.length >= 3 && path[path.length - 2] === 'properties' && NULLABLE_FIELDS[path[path.length - 3]!]?.includes(path[path.length - 1]!)) {
    return { ...(node as Json), nullable: true };
  }
  if (Array.isArray(node)) return node.map((x, i) => prepare(x, [...path, String(i)]));
  if (node === null || typeof node !== 'object') return node;
  const n = node as Json;
  if (n.nullable === true && n.$ref && n.type === undefined) {
    const { nullable: _n, ...rest } = n;
    return { anyOf: [prepare(rest, path), { enum: [null] }] };
  }
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json)) {
    if (k === 'discriminator' || k === 'example' || k === 'examples') continue;
    if (k === 'oneOf' && (path.includes('user_input_form') || path[path.length - 1] === 'UserInputFormItem')) out.anyOf = prepare(v, [...path, k]);
    else out[k] = prepare(v, [...path, k]);
  }
  return out;
}

export class SpecValidator {
  readonly spec: Json;
  private ajv = createAjv({ validateSchema: false, strict: false, discriminator: false });
  private cache = new Map<string, ValidateFunction>();
  /** How many objects were validated (the test asserts it is not zero). */
  checked = 0;

  constructor() {
    this.spec = JSON.parse(readFileSync(SPEC_PATH, 'utf8')) as Json;
    this.ajv.addFormat('int64', true);
    this.ajv.addFormat('double', true);
    this.ajv.addFormat('float', true);
    this.ajv.addFormat('binary', true);
    this.ajv.addFormat('url', /^https?:\/\//);
    this.ajv.addFormat('decimal', /^-?\d+(\.\d+)?$/);
    this.ajv.addSchema({ $id: 'spec.json', components: prepare(this.spec.components), paths: prepare(this.spec.paths) }, 'spec.json');
  }

  private compiled(name: string): ValidateFunction {
    let v = this.cache.get(name);
    if (!v) {
      if (!this.spec.components.schemas[name]) throw new Error(`no schema ${name} in the spec`);
      v = this.ajv.compile({ $ref: `spec.json#/components/schemas/${name}` });
      this.cache.set(name, v);
    }
    return v;
  }

  /** Throws with Ajv's messages when `value` does not match the component schema `name`. */
  check(name: string, value: unknown, what = name): void {
    const v = this.compiled(name);
    this.checked++;
    if (!v(value)) {
      const errs = (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
      throw new Error(`${what} does not match ${name}: ${errs}\n${JSON.stringify(value).slice(0, 600)}`);
    }
  }

  /** A JSON body against the response schema the spec gives for this route, method and status. */
  checkResponse(route: string, method: string, status: number, value: unknown): void {
    const ptr = ['paths', route, method.toLowerCase(), 'responses', String(status), 'content', 'application/json', 'schema']
      .map((x) => x.replace(/~/g, '~0').replace(/\//g, '~1'))
      .join('/');
    const id = `#${ptr}`;
    let v = this.cache.get(id);
    if (!v) {
      if (!this.spec.paths[route]?.[method.toLowerCase()]?.responses?.[String(status)]?.content?.['application/json']?.schema) throw new Error(`no schema for ${method} ${route} ${status}`);
      v = this.ajv.compile({ $ref: `spec.json#/${ptr}` });
      this.cache.set(id, v);
    }
    this.checked++;
    if (!v(value)) {
      const errs = (v.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
      throw new Error(`${method} ${route} ${status} does not match the spec: ${errs}\n${JSON.stringify(value).slice(0, 600)}`);
    }
  }

  /** An SSE event: the base schema's discriminator mapping names the event's schema. */
  checkEvent(base: 'ChunkChatEvent' | 'ChunkWorkflowEvent' | 'ChunkCompletionEvent', event: Json): void {
    const mapping = this.spec.components.schemas[base].discriminator.mapping as Record<string, string>;
    const ref = mapping[event.event];
    if (!ref) throw new Error(`event ${event.event} is not in ${base}'s mapping`);
    this.check(ref.split('/').pop()!, event, `SSE ${event.event}`);
  }

  /** Codes dify-api.md documents that the spec does not list for that route/status (reported, not failed). */
  unlisted = new Set<string>();

  /** Error bodies: the Dify envelope; codes the spec lists for this route and status must match its example keys. */
  checkError(route: string, method: string, status: number, body: Json): void {
    this.checked++;
    const keys = Object.keys(body).sort().join(',');
    if (keys !== 'code,message,status') throw new Error(`error body is not an envelope: ${JSON.stringify(body)}`);
    if (typeof body.code !== 'string' || typeof body.message !== 'string' || body.status !== status) {
      throw new Error(`bad envelope types: ${JSON.stringify(body)}`);
    }
    const resp = this.spec.paths[route]?.[method.toLowerCase()]?.responses?.[String(status)];
    const examples = resp?.content?.['application/json']?.examples as Record<string, { value: Json }> | undefined;
    if (!examples) return;
    const codes = Object.values(examples).map((e) => e.value?.code);
    if (!codes.includes(body.code)) this.unlisted.add(`${method} ${route} ${status} ${body.code}`);
    for (const e of Object.values(examples)) {
      if (e.value?.code === body.code) {
        const ek = Object.keys(e.value).sort().join(',');
        if (ek !== keys) throw new Error(`${body.code}: keys ${keys} differ from the spec example's ${ek}`);
      }
    }
  }
}
