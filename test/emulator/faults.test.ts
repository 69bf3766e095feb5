/** Each fault kind, and scripted stream cuts, observed from plain HTTP clients. */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startEmulator, type Emulator } from '../../runner/src/emulator/index.js';
import { Client, adminClient, chatDsl, deployApp, parseSse, service, specCheck } from './helpers.js';

/** Raw GET with node:http: what arrived before the connection ended, and how it ended. */
function raw(url: string, headers: Record<string, string> = {}): Promise<{ status?: number; contentLength?: number; body: string; ended: 'complete' | 'error' }> {
  return new Promise((resolve) => {
    let status: number | undefined;
    let contentLength: number | undefined;
    let body = '';
    const req = request(url, { headers }, (res) => {
      status = res.statusCode;
      contentLength = res.headers['content-length'] ? Number(res.headers['content-length']) : undefined;
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status, contentLength, body, ended: 'complete' }));
      res.on('error', () => resolve({ status, contentLength, body, ended: 'error' }));
      res.on('aborted', () => resolve({ status, contentLength, body, ended: 'error' }));
    });
    req.on('error', () => resolve({ status, contentLength, body, ended: 'error' }));
    req.end();
  });
}

describe('emulator faults', function () {
  let emu: Emulator;
  let c: Client;
  let key: string;
  before(async () => {
    emu = await startEmulator({ port: 0, seed: 7 });
    specCheck.enabled = false; // fault bodies are not Dify's on purpose
  });
  after(async () => {
    specCheck.enabled = true;
    await emu.close();
  });
  beforeEach(async () => {
    emu.reset();
    c = await adminClient(emu);
    key = (await deployApp(c, chatDsl())).key;
  });

  it('status + body + headers for the first N matching requests', async () => {
    emu.setFaults([{ route: '/v1/info', status: 429, body: { code: 'too_many_requests', message: 'slow down', status: 429 }, headers: { 'Retry-After': '1' }, times: 2 }]);
    for (let i = 0; i < 2; i++) {
      const r = await service(emu, key, 'GET', '/info');
      assert.equal(r.status, 429);
      assert.deepEqual(r.json, { code: 'too_many_requests', message: 'slow down', status: 429 });
      assert.equal(r.headers.get('retry-after'), '1');
    }
    assert.equal((await service(emu, key, 'GET', '/info')).status, 200);
  });

  it('method filter and regex routes', async () => {
    emu.setFaults([{ regex: '^/console/api/apps$', method: 'POST', status: 503 }]);
    assert.equal((await c.req('GET', '/console/api/apps')).status, 200);
    const r = await c.req('POST', '/console/api/apps', { body: { name: 'x', mode: 'chat' } });
    assert.equal(r.status, 503);
    assert.equal(r.json.status, 503);
  });

  it('delayMs holds the answer back (lower bound only) while other routes answer', async () => {
    emu.setFaults([{ route: '/v1/info', delayMs: 250 }]);
    const order: string[] = [];
    const t0 = Date.now();
    const slow = service(emu, key, 'GET', '/info').then((r) => (order.push('info'), r));
    const fast = service(emu, key, 'GET', '/meta').then((r) => (order.push('meta'), r));
    const [a, b] = await Promise.all([slow, fast]);
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.ok(Date.now() - t0 >= 240);
    assert.deepEqual(order, ['meta', 'info']);
  });

  it('drop destroys the connection without a response', async () => {
    emu.setFaults([{ route: '/v1/**', drop: true, times: 1 }]);
    await assert.rejects(service(emu, key, 'GET', '/info'));
    assert.equal((await service(emu, key, 'GET', '/info')).status, 200);
  });

  it('drop + afterResponse processes the request (state changes) and then drops', async () => {
    emu.setFaults([{ route: '/console/api/apps', method: 'POST', drop: true, afterResponse: true }]);
    await assert.rejects(c.req('POST', '/console/api/apps', { body: { name: 'ghost', mode: 'chat' } }));
    const list = await c.req('GET', '/console/api/apps?name=ghost');
    assert.equal(list.json.total, 1);
  });

  it('truncate sends the headers and half the body, then closes', async () => {
    emu.setFaults([{ route: '/v1/parameters', truncate: true }]);
    const r = await raw(`${emu.url}/v1/parameters`, { Authorization: `Bearer ${key}` });
    assert.equal(r.status, 200);
    assert.equal(r.ended, 'error');
    assert.ok(r.contentLength! > 0);
    assert.ok(r.body.length > 0 && Buffer.byteLength(r.body) < r.contentLength!);
    assert.throws(() => JSON.parse(r.body));
  });

  it('malformed answers 200 with a body that is not JSON', async () => {
    emu.setFaults([{ route: '/console/api/apps', method: 'GET', malformed: true }]);
    const r = await c.req('GET', '/console/api/apps');
    assert.equal(r.status, 200);
    assert.equal(r.json, undefined);
    assert.ok(r.text.length > 0);
  });

  it('slowSseMs spaces SSE events (lower bound only)', async () => {
    emu.setFaults([{ route: '/v1/chat-messages', slowSseMs: 60 }]);
    emu.setScript([{ answer: 'one two three four' }]);
    const t0 = Date.now();
    const r = await service(emu, key, 'POST', '/chat-messages', { inputs: {}, query: 'x', user: 'u', response_mode: 'streaming' });
    const ev = parseSse(r.text);
    assert.equal(ev.length, 5);
    assert.ok(Date.now() - t0 >= 4 * 60 - 10);
  });

  it('truncate and malformed on an SSE stream', async () => {
    emu.setFaults([{ route: '/v1/chat-messages', truncate: true, times: 1 }]);
    const t = await fetch(`${emu.url}/v1/chat-messages`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ inputs: {}, query: 'a b c', user: 'u', response_mode: 'streaming' }),
    });
    assert.equal(t.status, 200);
    let text = '';
    try {
      text = await t.text();
    } catch {
      /* the socket was destroyed mid-body */
    }
    assert.ok(!text.includes('message_end'));
    emu.setFaults([{ route: '/v1/chat-messages', malformed: true, times: 1 }]);
    const m = await service(emu, key, 'POST', '/chat-messages', { inputs: {}, query: 'a b c', user: 'u', response_mode: 'streaming' });
    assert.equal(m.status, 200);
    assert.throws(() => parseSse(m.text));
  });

  it('probability uses the seeded RNG: some requests fail, and the same seed repeats the pattern', async () => {
    const pattern = async () => {
      emu.setFaults([{ route: '/v1/meta', status: 500, probability: 0.5 }]);
      const out: number[] = [];
      for (let i = 0; i < 30; i++) out.push((await service(emu, key, 'GET', '/meta')).status);
      return out;
    };
    const first = await pattern();
    assert.ok(first.includes(500) && first.includes(200), first.join(','));
    emu.reset();
    c = await adminClient(emu);
    key = (await deployApp(c, chatDsl())).key;
    assert.deepEqual(await pattern(), first);
  });

  it('scripted cutAfterChunks closes the stream without a terminal event', async () => {
    emu.setScript([{ answer: 'w1 w2 w3 w4 w5', cutAfterChunks: 2 }]);
    const r = await fetch(`${emu.url}/v1/chat-messages`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ inputs: {}, query: 'x', user: 'u', response_mode: 'streaming' }),
    });
    assert.equal(r.status, 200);
    let text = '';
    let failed = false;
    try {
      text = await r.text();
    } catch {
      failed = true;
    }
    assert.ok(failed || !text.includes('message_end'));
  });

  it('faults count in stats and clear with []', async () => {
    emu.setFaults([{ route: '/v1/info', status: 418 }]);
    assert.equal((await service(emu, key, 'GET', '/info')).status, 418);
    emu.setFaults([]);
    assert.equal((await service(emu, key, 'GET', '/info')).status, 200);
    assert.ok(emu.stats.requests > 0);
    assert.ok((emu.stats.byRoute['GET /v1/info'] ?? 0) >= 1);
  });
});
