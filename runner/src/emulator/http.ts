/** Request context, replies, a tiny router and Dify's standard error bodies. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pyDumps } from './pyjson.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string | string[]> = {},
  ) {
    super(typeof body === 'object' && body && 'message' in body ? String((body as { message: unknown }).message) : `HTTP ${status}`);
  }
}

export interface Reply {
  status: number;
  /** Objects are serialised like flask-restx (Python json.dumps + "\n"); strings/buffers sent as-is. */
  body?: unknown;
  headers?: Record<string, string | string[]>;
  contentType?: string;
}

export const envelope = (status: number, code: string, message: string): HttpError =>
  new HttpError(status, { code, message, status });
export const invalidParam = (message: string): HttpError => envelope(400, 'invalid_param', message);
export const appUnavailable = (): HttpError => envelope(400, 'app_unavailable', 'App unavailable, please check your app configurations.');
const WRONG_ROUTE = 'Please check if your app mode matches the right API route.';
export const notChatApp = (): HttpError => envelope(400, 'not_chat_app', WRONG_ROUTE);
export const notWorkflowApp = (): HttpError => envelope(400, 'not_workflow_app', WRONG_ROUTE);
export const appNotFound = (): HttpError => envelope(404, 'app_not_found', 'App not found.');
export const forbidden = (): HttpError =>
  envelope(
    403,
    'forbidden',
    "You don't have the permission to access the requested resource. It is either read-protected or not readable by the server.",
  );
export const notFoundRoute = (): HttpError =>
  envelope(
    404,
    'not_found',
    'The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.',
  );

export const json = (status: number, body: unknown, headers?: Record<string, string | string[]>): Reply => ({ status, body, headers });

export class Ctx {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  params: Record<string, string> = {};
  route = '';
  private _cookies?: Record<string, string>;
  private parsed?: { ok: boolean; value: unknown };
  /** Set once an SSE stream started writing. */
  streaming = false;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    readonly raw: Buffer,
  ) {
    this.method = (req.method ?? 'GET').toUpperCase();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    this.path = decodeURIComponentSafe(q < 0 ? url : url.slice(0, q));
    this.query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  }

  header(name: string): string | undefined {
    const v = this.req.headers[name.toLowerCase()];
    return Array.isArray(v) ? v[0] : v;
  }

  get cookies(): Record<string, string> {
    if (!this._cookies) {
      const out: Record<string, string> = {};
      for (const part of (this.header('cookie') ?? '').split(';')) {
        const i = part.indexOf('=');
        if (i < 0) continue;
        const k = part.slice(0, i).trim();
        let v = part.slice(i + 1).trim();
        if (v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
        if (k && !(k in out)) out[k] = v;
      }
      this._cookies = out;
    }
    return this._cookies;
  }

  /** JSON body; `{"message": "Invalid JSON data"}` (400) when it does not parse, like Dify's request parser. */
  json(): Record<string, unknown> {
    if (!this.parsed) {
      if (this.raw.length === 0) this.parsed = { ok: true, value: {} };
      else {
        try {
          this.parsed = { ok: true, value: JSON.parse(this.raw.toString('utf8')) };
        } catch {
          this.parsed = { ok: false, value: undefined };
        }
      }
    }
    if (!this.parsed.ok) throw new HttpError(400, { message: 'Invalid JSON data' });
    const v = this.parsed.value;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      if (this.raw.length === 0) return {};
      throw invalidParam('Invalid JSON body: expected an object');
    }
    return v as Record<string, unknown>;
  }

  /**
   * Flask's `request.get_json()` as the `user`-in-JSON routes call it: a non-JSON Content-Type is 415, an empty body
   * 400 (Dify's handler rewrites Werkzeug's decode error, `libs/external_api.py`).
   */
  jsonStrict(): Record<string, unknown> {
    if (!(this.header('content-type') ?? '').toLowerCase().includes('application/json')) {
      throw envelope(415, 'unsupported_media_type', "Did not attempt to load JSON data because the request Content-Type was not 'application/json'.");
    }
    if (this.raw.length === 0) throw envelope(400, 'bad_request', 'Invalid JSON payload received or JSON payload is empty.');
    return this.json();
  }

  /** A multipart/form-data body (undici's parser, built into Node); undefined when it is not one. */
  async formData(): Promise<FormData | undefined> {
    const ct = this.header('content-type') ?? '';
    if (!/^multipart\/form-data\b/i.test(ct)) return undefined;
    try {
      return await new Response(this.raw, { headers: { 'content-type': ct } }).formData();
    } catch {
      return undefined;
    }
  }
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function serialize(reply: Reply): { body: Buffer; contentType: string } {
  if (reply.body === undefined) return { body: Buffer.alloc(0), contentType: reply.contentType ?? 'application/json' };
  if (Buffer.isBuffer(reply.body)) return { body: reply.body, contentType: reply.contentType ?? 'application/octet-stream' };
  if (typeof reply.body === 'string' && reply.contentType) return { body: Buffer.from(reply.body, 'utf8'), contentType: reply.contentType };
  return { body: Buffer.from(pyDumps(reply.body) + '\n', 'utf8'), contentType: reply.contentType ?? 'application/json' };
}

// ---- router ----
/** Werkzeug's `UUIDConverter` regex. */
const UUID_SEGMENT = '[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}';
export type Handler = (ctx: Ctx) => Reply | void | Promise<Reply | void>;
interface Route {
  method: string;
  pattern: string;
  re: RegExp;
  names: string[];
  handler: Handler;
}

export class Router {
  private routes: Route[] = [];

  /**
   * `:name` matches one path segment; `<uuid:name>` only a UUID, like Werkzeug's converter — any other segment is
   * no route at all (Flask's 404), so such ids never reach the handler.
   */
  add(method: string, pattern: string, handler: Handler): this {
    const names: string[] = [];
    const re = new RegExp(
      '^' +
        pattern
          .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
          .replace(/<uuid:([a-zA-Z_]+)>|:([a-zA-Z_]+)/g, (_m, u: string | undefined, n: string | undefined) => {
            names.push((u ?? n)!);
            return u ? `(${UUID_SEGMENT})` : '([^/]+)';
          }) +
        '/?$',
    );
    this.routes.push({ method, pattern, re, names, handler });
    return this;
  }

  /** The matching route, or 'method' when only the method differs, or undefined. */
  match(method: string, path: string): { route: Route; params: Record<string, string> } | 'method' | undefined {
    let methodMismatch = false;
    for (const r of this.routes) {
      const m = r.re.exec(path);
      if (!m) continue;
      if (r.method !== method && !(method === 'HEAD' && r.method === 'GET')) {
        methodMismatch = true;
        continue;
      }
      const params: Record<string, string> = {};
      r.names.forEach((n, i) => (params[n] = m[i + 1]!));
      return { route: r, params };
    }
    return methodMismatch ? 'method' : undefined;
  }
}

export const methodNotAllowed = (): HttpError =>
  envelope(405, 'method_not_allowed', 'The method is not allowed for the requested URL.');

export type { IncomingMessage, ServerResponse };
