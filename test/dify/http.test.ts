import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostGate, resetHostGates } from '../../runner/src/dify/host-gate.js';
import { DifyRequestError, httpError, proxyFor, Transport, type TransportOptions } from '../../runner/src/dify/http.js';
import { backoffDelay, decideRetry, DEFAULT_RETRY, parseRetryAfter } from '../../runner/src/dify/retry.js';
import { connectProxy } from '../helpers/proxy.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void;

/** A loopback server answering with a script of handlers (the last one repeats). */
async function serve(handlers: Handler[]): Promise<{ url: string; hits: string[]; close: () => Promise<void> }> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    const h = handlers[Math.min(hits.length - 1, handlers.length - 1)]!;
    req.resume();
    req.on('end', () => h(req, res, hits.length));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Handler => (_q, res) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};
const drop: Handler = (req) => req.socket.destroy();

/** A fake clock: sleeping advances time instantly and is recorded. */
function fakeClock() {
  const c = { t: 1_000_000, sleeps: [] as number[] };
  return {
    c,
    opts: { now: () => c.t, sleep: async (ms: number) => { c.sleeps.push(ms); c.t += ms; }, random: () => 0.5 } satisfies Partial<TransportOptions>,
  };
}

describe('dify/http retry policy (pure)', () => {
  const ctx = (o: Partial<Parameters<typeof decideRetry>[1]> = {}) => ({ idempotent: true, retry: 1, policy: DEFAULT_RETRY, now: 0, random: () => 0.5, ...o });

  it('429 honours Retry-After (seconds or date) and the openapi retry_after_ms, host-wide, even for POST', () => {
    const v = decideRetry({ status: 429, headers: { 'retry-after': '2' } }, ctx({ idempotent: false }));
    assert.ok(v.retry && v.hostWide && v.delayMs >= 2000 && v.delayMs <= 2100);
    const w = decideRetry({ status: 429, body: { error: 'rate_limited', retry_after_ms: 1500 } }, ctx());
    assert.ok(w.retry && w.delayMs >= 1500 && w.delayMs <= 1600);
    assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6_000);
  });

  it('429 codes that mean "stop" are not retried; too-long waits give up', () => {
    assert.equal(decideRetry({ status: 429, body: { code: 'rate_limit_error' } }, ctx()).retry, false);
    assert.equal(decideRetry({ status: 429, body: { code: 'email_code_login_limit' } }, ctx()).retry, false);
    assert.equal(decideRetry({ status: 429, headers: { 'retry-after': '3600' } }, ctx()).retry, false);
  });

  it('5xx gateway errors and resets: idempotent only; refused connections: always', () => {
    for (const s of [502, 503, 504]) {
      assert.equal(decideRetry({ status: s }, ctx()).retry, true);
      assert.equal(decideRetry({ status: s }, ctx({ idempotent: false })).retry, false);
    }
    assert.equal(decideRetry({ status: 500 }, ctx()).retry, false);
    assert.equal(decideRetry({ errorCode: 'ECONNRESET' }, ctx()).retry, true);
    assert.equal(decideRetry({ errorCode: 'ECONNRESET' }, ctx({ idempotent: false })).retry, false);
    assert.equal(decideRetry({ errorCode: 'ECONNREFUSED' }, ctx({ idempotent: false })).retry, true);
    assert.equal(decideRetry({ errorCode: 'ECONNRESET' }, ctx({ retry: DEFAULT_RETRY.maxAttempts })).retry, false);
  });

  it('backoff grows exponentially, is jittered and bounded', () => {
    const p = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 1000 };
    assert.equal(backoffDelay(1, p, () => 0), 50);
    assert.equal(backoffDelay(1, p, () => 1), 100);
    assert.equal(backoffDelay(3, p, () => 1), 400);
    for (let r = 1; r < 20; r++) assert.ok(backoffDelay(r, p, Math.random) <= 1000);
  });

  it('errors carry what, where, Dify code/message and status; 401/403 are auth (exit 4)', () => {
    const e = httpError('export app x', 'staging/support', { status: 401, headers: {}, body: { code: 'unauthorized', message: 'Token has expired.', status: 401 }, text: '', malformed: false });
    assert.equal(e.category, 'auth');
    assert.equal(e.exitCode, 4);
    assert.equal(e.message, 'export app x (staging/support) failed: HTTP 401 unauthorized: Token has expired.');
    const f = httpError('import', undefined, { status: 400, headers: {}, body: { message: 'Cannot create more than 10 API keys for this resource type.', custom: 'max_keys_exceeded' }, text: '', malformed: false });
    assert.equal(f.category, 'dify');
    assert.equal(f.difyCode, 'max_keys_exceeded');
  });
});

describe('dify/http transport (loopback)', () => {
  beforeEach(() => resetHostGates());

  it('GET: 503, 502 then 200 → success after three attempts with growing delays', async () => {
    const s = await serve([json(503, { message: 'busy' }), json(502, {}), json(200, { ok: true })]);
    const { c, opts } = fakeClock();
    try {
      const t = new Transport({ baseUrl: s.url, timeoutMs: 5000, ...opts });
      const res = await t.send({ method: 'GET', path: '/x', what: 'read x' });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { ok: true });
      assert.equal(s.hits.length, 3);
      assert.equal(c.sleeps.length, 2);
      assert.ok(c.sleeps[1]! > c.sleeps[0]!);
    } finally {
      await s.close();
    }
  });

  it('POST: a 503 is returned, never repeated', async () => {
    const s = await serve([json(503, { message: 'busy' }), json(200, {})]);
    try {
      const t = new Transport({ baseUrl: s.url, timeoutMs: 5000, ...fakeClock().opts });
      const res = await t.send({ method: 'POST', path: '/create', json: { a: 1 }, what: 'create' });
      assert.equal(res.status, 503);
      assert.equal(s.hits.length, 1);
    } finally {
      await s.close();
    }
  });

  it('a 429 with Retry-After holds every request to that server (host-wide)', async () => {
    const s = await serve([json(429, { code: 'too_many_requests' }, { 'retry-after': '3' }), json(200, { n: 2 })]);
    const { c, opts } = fakeClock();
    try {
      const a = new Transport({ baseUrl: s.url, timeoutMs: 5000, ...opts });
      const res = await a.send({ method: 'POST', path: '/imports', what: 'import' });
      assert.equal(res.status, 200, 'a 429 is safe to repeat even for POST');
      assert.ok(c.sleeps[0]! >= 3000);
      // Another client of the same server now waits for the gate too.
      const gate = hostGate(new URL(s.url).origin);
      gate.notBefore = c.t + 2000;
      const b = new Transport({ baseUrl: s.url, timeoutMs: 5000, ...opts });
      const before = c.sleeps.length;
      await b.send({ method: 'GET', path: '/other', what: 'other' });
      assert.equal(c.sleeps[before], 2000);
    } finally {
      await s.close();
    }
  });

  it('GET survives a dropped connection; POST reports it as uncertain without repeating', async () => {
    const s = await serve([drop, json(200, { ok: 1 })]);
    try {
      const t = new Transport({ baseUrl: s.url, timeoutMs: 5000, ...fakeClock().opts });
      assert.equal((await t.send({ method: 'GET', path: '/a', what: 'a' })).status, 200);
      assert.equal(s.hits.length, 2);
    } finally {
      await s.close();
    }
    const s2 = await serve([drop, json(200, {})]);
    try {
      const t = new Transport({ baseUrl: s2.url, timeoutMs: 5000, ...fakeClock().opts });
      await assert.rejects(t.send({ method: 'POST', path: '/create', what: 'create app x' }, 'staging/x'), (e: unknown) => {
        assert.ok(e instanceof DifyRequestError);
        assert.equal(e.uncertain, true);
        assert.equal(e.category, 'network');
        assert.match(e.message, /^create app x \(staging\/x\): connection to/);
        return true;
      });
      assert.equal(s2.hits.length, 1);
    } finally {
      await s2.close();
    }
  });

  it('a malformed JSON body on GET is retried, then reported', async () => {
    const bad: Handler = (_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"data": ');
    };
    const s = await serve([bad]);
    try {
      const t = new Transport({ baseUrl: s.url, timeoutMs: 5000, retry: { maxAttempts: 3 }, ...fakeClock().opts });
      await assert.rejects(t.send({ method: 'GET', path: '/e', what: 'export' }), /not JSON/);
      assert.equal(s.hits.length, 3);
    } finally {
      await s.close();
    }
  });

  it('per-request timeout: a silent server fails with a clear network error', async () => {
    const s = await serve([() => undefined]);
    try {
      const t = new Transport({ baseUrl: s.url, timeoutMs: 150, retry: { maxAttempts: 2 }, ...fakeClock().opts });
      await assert.rejects(t.send({ method: 'GET', path: '/slow', what: 'read slow' }), (e: unknown) => e instanceof DifyRequestError && /no answer within 150 ms/.test(e.message) && e.category === 'network');
      assert.equal(s.hits.length, 2);
    } finally {
      await s.close();
    }
  });

  it('uses HTTP(S)_PROXY through hpagent and honours NO_PROXY', async () => {
    assert.equal(proxyFor('https://dify.corp.example', { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '.corp.example' }), undefined);
    assert.equal(proxyFor('https://dify.other.example', { HTTPS_PROXY: 'http://proxy:3128', NO_PROXY: '.corp.example' }), 'http://proxy:3128');
    // A loopback CONNECT proxy (hpagent tunnels) that sends every tunnel to a loopback "Dify".
    const target = await serve([json(200, { via: 'proxy' })]);
    const proxy = await connectProxy(Number(new URL(target.url).port));
    const { url: purl, seen } = proxy;
    try {
      const t = new Transport({ baseUrl: 'http://dify.test.invalid:5001', timeoutMs: 5000, environ: { HTTP_PROXY: purl }, ...fakeClock().opts });
      const res = await t.send({ method: 'GET', path: '/console/api/apps', what: 'list' });
      assert.deepEqual(res.body, { via: 'proxy' });
      assert.deepEqual(seen, ['dify.test.invalid:5001']);
      assert.deepEqual(target.hits, ['GET /console/api/apps']);
      t.close();
    } finally {
      await proxy.close();
      await target.close();
    }
  });

  it('verifies TLS; an extra CA file (tls.caFile) makes a private CA trusted', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'dify-ci-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    } catch {
      this.skip();
    }
    const server = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"tls":true}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const strict = new Transport({ baseUrl: url, timeoutMs: 5000, ...fakeClock().opts });
      await assert.rejects(strict.send({ method: 'GET', path: '/', what: 'probe' }), (e: unknown) => e instanceof DifyRequestError && /TLS verification failed/.test(e.message) && e.details.some((d) => d.includes('tls.caFile')));
      strict.close();
      const withCa = new Transport({ baseUrl: url, timeoutMs: 5000, caFile: join(dir, 'cert.pem'), ...fakeClock().opts });
      assert.deepEqual((await withCa.send({ method: 'GET', path: '/', what: 'probe' })).body, { tls: true });
      withCa.close();
      // Turning verification off works, and says so loudly every run.
      const lines: string[] = [];
      const write = process.stderr.write;
      process.stderr.write = ((chunk: string | Uint8Array) => (lines.push(String(chunk)), true)) as typeof process.stderr.write;
      let insecure: Transport;
      try {
        insecure = new Transport({ baseUrl: url, timeoutMs: 5000, rejectUnauthorized: false, ...fakeClock().opts });
      } finally {
        process.stderr.write = write;
      }
      assert.deepEqual((await insecure.send({ method: 'GET', path: '/', what: 'probe' })).body, { tls: true });
      insecure.close();
      assert.equal(lines.filter((l) => /TLS certificate verification is OFF/.test(l) && l.includes(url)).length, 1, lines.join(''));
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
