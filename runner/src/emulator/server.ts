/** The node:http server: routing, faults, counters, error bodies, persistence after mutations. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { registerConsoleAppLogs } from './app-logs.js';
import { registerApps } from './apps.js';
import { registerAuth } from './auth.js';
import { registerDebugger } from './debugger.js';
import type { Core } from './core.js';
import { pickFault, type ActiveFault } from './faults.js';
import { Ctx, HttpError, Router, methodNotAllowed, notFoundRoute, serialize, type Reply } from './http.js';
import { registerKnowledge } from './knowledge.js';
import { registerOpenApi } from './openapi.js';
import { pyDumps } from './pyjson.js';
import { registerService, runDirect } from './service.js';
import { sleep } from './sse.js';
import { registerStatistics } from './statistics.js';
import { registerWorkflows } from './workflows.js';

const MAX_BODY = 64 * 1024 * 1024;
const HTML_404 =
  '<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n';

export function buildRouter(core: Core): { router: Router; faults: WeakMap<Ctx, ActiveFault> } {
  const router = new Router();
  const faults = new WeakMap<Ctx, ActiveFault>();
  const faultOf = (ctx: Ctx): ActiveFault | undefined => faults.get(ctx);
  registerAuth(core, router);
  registerWorkflows(core, router);
  registerApps(core, router);
  registerService(core, router, faultOf);
  registerKnowledge(core, router);
  registerStatistics(core, router);
  registerDebugger(core, router, faultOf);
  registerConsoleAppLogs(core, router);
  registerOpenApi(core, router, (ctx, app) => runDirect({ core, ctx, fault: faultOf(ctx) }, app));
  return { router, faults };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, { code: 'request_entity_too_large', message: 'The data value transmitted exceeds the capacity limit.', status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function writeReply(res: ServerResponse, reply: Reply, fault?: ActiveFault): void {
  if (res.headersSent || res.destroyed) return;
  const { body, contentType } = serialize(reply);
  const headers: Record<string, string | string[]> = { 'Content-Type': contentType, ...(reply.headers ?? {}) };
  if (fault?.rule.drop && fault.rule.afterResponse) {
    res.destroy();
    return;
  }
  if (fault?.rule.malformed) {
    const text = body.length > 2 ? body.subarray(0, Math.floor(body.length / 2)).toString('utf8') : '{"result": ';
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
    return;
  }
  if (fault?.rule.truncate) {
    res.writeHead(reply.status, { ...headers, 'Content-Length': String(body.length) });
    res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.destroy());
    return;
  }
  if (reply.status === 204 || reply.status === 304) {
    delete headers['Content-Type'];
    res.writeHead(reply.status, headers);
    res.end();
    return;
  }
  headers['Content-Length'] = String(body.length);
  res.writeHead(reply.status, headers);
  res.end(body);
}

export function createEmulatorServer(core: Core): Server {
  const { router, faults } = buildRouter(core);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    core.stats.requests++;
    let raw: Buffer;
    try {
      raw = await readBody(req);
    } catch (e) {
      if (e instanceof HttpError) writeReply(res, { status: e.status, body: e.body });
      return;
    }
    const ctx = new Ctx(req, res, raw);
    const fault = pickFault(core, ctx.method, ctx.path);
    if (fault) faults.set(ctx, fault);
    const f = fault?.rule;
    if (f?.delayMs) await sleep(f.delayMs);
    if (f?.drop && !f.afterResponse) {
      req.socket.destroy();
      return;
    }
    if (f?.status !== undefined) {
      const body = f.body === undefined ? { code: 'emulated_fault', message: `Emulated fault ${f.status}`, status: f.status } : f.body;
      writeReply(res, { status: f.status, body: typeof body === 'string' ? body : body, contentType: typeof body === 'string' ? 'text/plain; charset=utf-8' : undefined, headers: f.headers });
      return;
    }

    let reply: Reply | void;
    const matched = router.match(ctx.method, ctx.path);
    const routeKey = `${ctx.method} ${matched && matched !== 'method' ? matched.route.pattern : '<unmatched>'}`;
    core.stats.byRoute[routeKey] = (core.stats.byRoute[routeKey] ?? 0) + 1;
    try {
      if (ctx.path.startsWith('/openapi/') && !core.opts.openapi) {
        reply = { status: 404, body: HTML_404, contentType: 'text/html; charset=utf-8' };
      } else if (ctx.method === 'OPTIONS') {
        reply = { status: 200, body: '', contentType: 'text/plain' };
      } else if (matched === undefined) throw notFoundRoute();
      else if (matched === 'method') throw methodNotAllowed();
      else {
        ctx.params = matched.params;
        ctx.route = matched.route.pattern;
        reply = await matched.route.handler(ctx);
      }
    } catch (e) {
      if (e instanceof HttpError) reply = { status: e.status, body: e.body, headers: e.headers };
      else {
        if (process.env.DIFY_CI_EMULATOR_DEBUG) process.stderr.write(`emulator: ${(e as Error).stack}\n`);
        reply = { status: 500, body: { message: 'Internal Server Error', code: 'unknown', status: 500 } };
      }
    }
    if (ctx.path.startsWith('/v1/')) {
      // Service API: conversations, documents, key last_used_at, indexing polls (GETs too); coalesced writes.
      core.persistSoon();
    } else if (ctx.method !== 'GET' && ctx.method !== 'HEAD' && ctx.method !== 'OPTIONS') {
      try {
        core.persist();
      } catch (e) {
        process.stderr.write(`emulator: cannot write the state file: ${(e as Error).message}\n`);
      }
    }
    if (ctx.streaming) {
      // A stream that failed after its headers went out ends without a terminal event (as a crashed worker would).
      if ((f?.drop && f.afterResponse) || (reply && reply.status > 0 && !res.writableEnded)) res.destroy();
      return;
    }
    if (reply && reply.status > 0) writeReply(res, reply, fault);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent) {
        const body = Buffer.from(pyDumps({ message: 'Internal Server Error', code: 'unknown', status: 500 }) + '\n');
        res.writeHead(500, { 'Content-Type': 'application/json', 'Content-Length': body.length });
        res.end(body);
      } else res.destroy();
      if (process.env.DIFY_CI_EMULATOR_DEBUG) process.stderr.write(`emulator: ${(e as Error).stack}\n`);
    });
  });
  server.keepAliveTimeout = 5000;
  return server;
}

export function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}
