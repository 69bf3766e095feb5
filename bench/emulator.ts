/**
 * Emulator throughput against its floor: a bare node:http server that answers a fixed JSON body, measured in the
 * same run with the same keep-alive client and concurrency. Routes: GET /v1/info (key auth), blocking chat,
 * streaming chat, blocking workflow, and console GET /console/api/apps (cookie + CSRF). Best of N rounds.
 * Target: /v1/info sustains ≥ 1000 req/s and ≥ 0.25 of the floor (it does key auth, routing and Python-style JSON).
 * Run: npx tsx bench/emulator.ts
 */
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startEmulator } from '../runner/src/emulator/index.js';
import { adminClient, chatDsl, deployApp, workflowDsl } from '../test/emulator/helpers.js';

const DURATION_MS = Number(process.env.BENCH_MS || 1500);
const CONCURRENCY = 16;
const rounds = Number(process.env.BENCH_ROUNDS || 2);
const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function once(url: URL, method: string, headers: Record<string, string>, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function rate(name: string, url: string, method = 'GET', headers: Record<string, string> = {}, body?: unknown): Promise<number> {
  const u = new URL(url);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const h = payload ? { ...headers, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(payload)) } : headers;
  let done = 0;
  const end = performance.now() + DURATION_MS;
  const worker = async () => {
    while (performance.now() < end) {
      const s = await once(u, method, h, payload);
      if (s !== 200) throw new Error(`${name}: HTTP ${s}`);
      done++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return (done * 1000) / (performance.now() - t0);
}

const floorServer = createServer((_req, res) => {
  const b = Buffer.from('{"name": "x", "description": "", "tags": [], "mode": "chat", "author_name": "admin"}\n');
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': b.length });
  res.end(b);
});
await new Promise<void>((r) => floorServer.listen(0, '127.0.0.1', r));
const floorUrl = `http://127.0.0.1:${(floorServer.address() as AddressInfo).port}/v1/info`;

const emu = await startEmulator({ port: 0 });
const c = await adminClient(emu);
const chat = await deployApp(c, chatDsl());
const wf = await deployApp(c, workflowDsl());
const cookie = [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
const auth = (k: string) => ({ Authorization: `Bearer ${k}` });

let best = { floor: 0, info: 0, chat: 0, stream: 0, workflow: 0, console: 0 };
for (let r = 0; r < rounds; r++) {
  const floor = await rate('floor', floorUrl);
  const info = await rate('info', `${emu.url}/v1/info`, 'GET', auth(chat.key));
  const chatB = await rate('chat', `${emu.url}/v1/chat-messages`, 'POST', auth(chat.key), { inputs: {}, query: 'hello 123', user: 'bench', response_mode: 'blocking' });
  const stream = await rate('stream', `${emu.url}/v1/chat-messages`, 'POST', auth(chat.key), { inputs: {}, query: 'hello 123', user: 'bench', response_mode: 'streaming' });
  const workflow = await rate('workflow', `${emu.url}/v1/workflows/run`, 'POST', auth(wf.key), { inputs: { q: 'x' }, user: 'bench', response_mode: 'blocking' });
  const consoleRate = await rate('console', `${emu.url}/console/api/apps`, 'GET', { Cookie: cookie, 'X-CSRF-Token': c.csrf()! });
  console.error(
    `  round ${r + 1}: floor ${floor.toFixed(0)}/s; info ${info.toFixed(0)}/s (${(info / floor).toFixed(2)}); chat blocking ${chatB.toFixed(0)}/s; chat streaming ${stream.toFixed(0)}/s; workflow ${workflow.toFixed(0)}/s; console apps ${consoleRate.toFixed(0)}/s`,
  );
  if (info / floor > best.info / (best.floor || 1)) best = { floor, info, chat: chatB, stream, workflow, console: consoleRate };
}
await emu.close();
floorServer.close();
agent.destroy();

const ratio = best.info / best.floor;
console.log(
  `emulator: ${CONCURRENCY} concurrent keep-alive clients, ${DURATION_MS} ms per route; floor (bare node:http) ${best.floor.toFixed(0)} req/s; ` +
    `/v1/info ${best.info.toFixed(0)} req/s, ratio ${ratio.toFixed(2)}; chat blocking ${best.chat.toFixed(0)}/s, streaming ${best.stream.toFixed(0)}/s, workflow ${best.workflow.toFixed(0)}/s, console ${best.console.toFixed(0)}/s`,
);
if (best.info < 1000 || ratio < 0.25) {
  console.error(`FAIL: target ≥ 1000 req/s and ratio ≥ 0.25`);
  process.exit(1);
}
