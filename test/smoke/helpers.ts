/** A tiny loopback HTTP server for smoke client tests (before/besides the emulator). */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: any;
}

export interface TestServer {
  url: string;
  requests: Recorded[];
  close(): Promise<void>;
}

export type Handler = (req: Recorded, res: http.ServerResponse, n: number) => void;

export async function startServer(handler: Handler): Promise<TestServer> {
  const requests: Recorded[] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (d) => (text += d));
    req.on('end', () => {
      let body: any = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        /* keep text */
      }
      const r = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      requests.push(r);
      handler(r, res, requests.length);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export function sse(res: http.ServerResponse, events: Array<Record<string, unknown> | 'ping'>, opts: { end?: boolean; cut?: boolean } = {}): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  for (const e of events) res.write(e === 'ping' ? 'event: ping\n\n' : `data: ${JSON.stringify(e)}\n\n`);
  // Let the bytes leave before cutting, as a proxy or a crashed worker would.
  if (opts.cut) setTimeout(() => res.socket?.destroy(), 30);
  else if (opts.end !== false) res.end();
}

export function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

export const USAGE = {
  prompt_tokens: 10,
  prompt_unit_price: '0.001',
  prompt_price_unit: '0.001',
  prompt_price: '0.0000100',
  completion_tokens: 20,
  completion_unit_price: '0.002',
  completion_price_unit: '0.001',
  completion_price: '0.0000400',
  total_tokens: 30,
  total_price: '0.0000500',
  currency: 'USD',
  latency: 0.5,
};
