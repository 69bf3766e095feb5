/**
 * Loopback stand-ins for the notify tests: Slack's Web API and an incoming webhook (node:http), an SMTP server with
 * STARTTLS (smtp-server, certificate made with openssl for 127.0.0.1), fixture result files, and the CLI.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import { main } from '../../runner/src/program.js';
import { Captured, runnerArgs } from '../helpers/cli.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CANARY = 'canary-9f3Kq-s3cr3t-7Zx';

// ---------------------------------------------------------------- result file fixtures

const t0 = Date.parse('2030-01-01T10:00:00Z');
export function resultFile(command: string, status: string, extra: Record<string, unknown> = {}, minute = 1): Record<string, unknown> {
  return {
    command,
    status,
    summary: `${command} ${status}`,
    counts: {},
    artifacts: [],
    error: null,
    startedAt: new Date(t0 + (minute - 1) * 60000).toISOString(),
    finishedAt: new Date(t0 + minute * 60000).toISOString(),
    exitCode: status === 'success' ? 0 : 1,
    ...extra,
  };
}

/** A plan or deploy change summary (results/changes.ts) with these counts, the others 0. */
export function changeSummary(counts: Record<string, number | boolean> = {}): Record<string, number | boolean> {
  const zero = { nodesAdded: 0, nodesRemoved: 0, nodesChanged: 0, edgesChanged: 0, promptChanges: 0, modelChanges: 0, envVarChanges: 0, secretChanges: 0, conversationVarChanges: 0, featureChanges: 0, appChanges: 0, otherChanges: 0 };
  return { changed: Object.values(counts).some((v) => v !== 0 && v !== false), create: false, ...zero, ...counts };
}

/** A failed production deploy: one target changed, one failed with the canary in its error, a rollback. */
export function failedRunFixture(): Record<string, Record<string, unknown>> {
  const planned = (app: string, action: string, counts: Record<string, number>) => ({ env: 'production', app, target: `production/${app}`, action, changed: action !== 'noop', summary: changeSummary(counts) });
  return {
    'validate.json': resultFile('validate', 'success', { summary: '2 DSL files valid', counts: { errors: 0, warnings: 2 } }, 1),
    'plan.json': resultFile('plan', 'changes', {
      summary: '2 targets change',
      data: {
        env: 'production',
        changed: 2,
        targets: [planned('support-bot', 'update', { promptChanges: 1, modelChanges: 1 }), planned('faq-bot', 'update', { nodesAdded: 1, nodesChanged: 2 }), planned('docs-bot', 'noop', {})],
      },
    }, 2),
    'deploy.json': resultFile('deploy', 'failed', {
      summary: '1 of 2 targets failed',
      counts: { targets: 2, deployed: 1, unchanged: 0, failed: 1, refused: 0 },
      error: null,
      data: {
        env: 'production',
        targets: [
          { env: 'production', app: 'support-bot', target: 'production/support-bot', appId: 'a-1', versionId: 'wf-2024-0042', contentHash: 'sha256:0123456789abcdef0123', changed: true, status: 'deployed' },
          { env: 'production', app: 'faq-bot', target: 'production/faq-bot', appId: 'a-2', changed: false, status: 'failed', error: `import failed: key ${CANARY} rejected <!channel>` },
        ],
      },
    }, 3),
    'smoke.json': resultFile('smoke', 'failed', {
      summary: `18/20 cases passed (token ${CANARY})`,
      counts: { passed: 18, failed: 2 },
      artifacts: [{ path: '.dify-ci/reports/smoke.html', kind: 'html' }, { path: '.dify-ci/reports/smoke.xml', kind: 'junit' }],
      data: {
        passed: false,
        passRate: 0.9,
        totals: { runs: 20, runsPassed: 18, runsFailed: 2 },
        latencyMs: { p50: 420, p95: 1830 },
        targets: [
          { app: 'support-bot', env: 'production', passed: false, passRate: 0.9, runs: { total: 10, passed: 9, failed: 1 }, latencyMs: { p50: 420, p95: 1830 }, failures: [] },
          { app: 'faq-bot', env: 'production', passed: false, passRate: 0.9, runs: { total: 10, passed: 9, failed: 1 }, latencyMs: { p50: 300, p95: 900 }, failures: [] },
        ],
        reports: { html: '.dify-ci/reports/smoke.html' },
      },
    }, 4),
    'rollback.json': resultFile('rollback', 'success', {
      summary: 'rolled back 1 target to the previous version',
      data: {
        env: 'production',
        targets: [{ app: 'support-bot', env: 'production', target: 'production/support-bot', status: 'rolled-back', from: { versionId: 'wf-2024-0042' }, to: { versionId: 'wf-2024-0041', file: null }, versionId: 'wf-2024-0043' }],
      },
    }, 5),
  };
}

export function writeResults(dir: string, files: Record<string, unknown>): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, v] of Object.entries(files)) writeFileSync(join(dir, name), typeof v === 'string' ? v : JSON.stringify(v, null, 2));
}

export function tempDir(prefix = 'dify-ci-notify-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

// ---------------------------------------------------------------- Slack stand-in

export interface SlackCall {
  method: string;
  auth?: string;
  contentType?: string;
  raw: string;
  params: Record<string, unknown>;
}

export interface FakeSlack {
  url: string;
  calls: SlackCall[];
  webhookCalls: { raw: string; body: Record<string, unknown> }[];
  /** Answer the next N chat.postMessage calls with 429 and this Retry-After. */
  rateLimitNext(n: number, retryAfter: string): void;
  /** Answer chat.postMessage with {ok:false, error}. */
  failWith(error: string | null): void;
  /** Answer the next N chat.postMessage calls with this HTTP status and body (a gateway's error page). */
  httpErrorNext(n: number, status: number, body: (call: SlackCall) => string): void;
  /** Answer webhook posts with this status and a body that echoes the request path (as some proxies do). */
  webhookFailWith(status: number | null): void;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeSlack(): Promise<FakeSlack> {
  const calls: SlackCall[] = [];
  const webhookCalls: FakeSlack['webhookCalls'] = [];
  let limited = 0;
  let retryAfter = '0';
  let failure: string | null = null;
  let httpErrors = 0;
  let httpError: { status: number; body: (call: SlackCall) => string } = { status: 500, body: () => '' };
  let webhookStatus: number | null = null;
  let ts = 1700000000;
  const server: Server = createServer(async (req, res) => {
    const raw = await readBody(req);
    if (req.url?.startsWith('/webhook/')) {
      webhookCalls.push({ raw, body: JSON.parse(raw) });
      if (webhookStatus !== null) {
        res.writeHead(webhookStatus, { 'content-type': 'text/plain' }).end(`no_service: nothing is configured at POST ${req.url}`);
        return;
      }
      if (limited > 0) {
        limited--;
        res.writeHead(429, { 'retry-after': retryAfter }).end('rate_limited');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    const method = (req.url ?? '').replace(/^\/api\//, '');
    const ct = req.headers['content-type'] ?? '';
    const params: Record<string, unknown> = {};
    if (ct.includes('json')) Object.assign(params, JSON.parse(raw));
    else for (const [k, v] of new URLSearchParams(raw)) params[k] = k === 'blocks' ? JSON.parse(v) : v;
    const call = { method, auth: req.headers.authorization, contentType: ct, raw, params };
    calls.push(call);
    if (method === 'chat.postMessage' && httpErrors > 0) {
      httpErrors--;
      res.writeHead(httpError.status, { 'content-type': 'application/json' }).end(httpError.body(call));
      return;
    }
    if (method === 'chat.postMessage' && limited > 0) {
      limited--;
      res.writeHead(429, { 'retry-after': retryAfter, 'content-type': 'application/json' }).end('{"ok":false,"error":"ratelimited"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    if (failure) res.end(JSON.stringify({ ok: false, error: failure }));
    else res.end(JSON.stringify({ ok: true, channel: 'C0123', ts: `${ts++}.000100` }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    webhookCalls,
    rateLimitNext(n, ra) {
      limited = n;
      retryAfter = ra;
    },
    failWith(e) {
      failure = e;
    },
    httpErrorNext(n, status, body) {
      httpErrors = n;
      httpError = { status, body };
    },
    webhookFailWith(status) {
      webhookStatus = status;
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

// ---------------------------------------------------------------- SMTP stand-in

let certCache: { key: string; cert: string; certFile: string } | undefined;
/** A throw-away certificate for 127.0.0.1 (trusted by the tests only). */
export function testCertificate(): { key: string; cert: string; certFile: string } {
  if (certCache) return certCache;
  const dir = tempDir('dify-ci-cert-');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ], { stdio: 'ignore' });
  certCache = { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), certFile: join(dir, 'cert.pem') };
  return certCache;
}

export interface ReceivedMail {
  raw: string;
  parsed: ParsedMail;
  secure: boolean;
  user?: string;
  envelopeTo: string[];
}

export interface FakeSmtp {
  port: number;
  mails: ReceivedMail[];
  logins: { user: string; pass: string }[];
  close(): Promise<void>;
}

/** `echoCredentials`: the AUTH failure reply repeats the login it was given (some servers and relays do). */
export async function startFakeSmtp(opts: { users?: Record<string, string>; echoCredentials?: boolean } = {}): Promise<FakeSmtp> {
  const { key, cert } = testCertificate();
  const mails: ReceivedMail[] = [];
  const logins: FakeSmtp['logins'] = [];
  const server = new SMTPServer({
    key,
    cert,
    logger: false,
    authOptional: !opts.users,
    disabledCommands: opts.users ? [] : ['AUTH'],
    onAuth(auth, _session, cb) {
      logins.push({ user: auth.username ?? '', pass: auth.password ?? '' });
      if (opts.users && opts.users[auth.username ?? ''] === auth.password) cb(null, { user: auth.username });
      else cb(new Error(opts.echoCredentials ? `Invalid login: user ${auth.username} password ${auth.password}` : 'Invalid username or password'));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        mails.push({ raw, parsed: await simpleParser(raw), secure: session.secure, user: session.user as string | undefined, envelopeTo: session.envelope.rcptTo.map((r) => r.address) });
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.server.address() as AddressInfo).port;
  return { port, mails, logins, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

// ---------------------------------------------------------------- CLI

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `dify-ci <args>` as its own process (the bundle, or the sources with DIFY_CI_TEST_RUNNER=source) in `cwd`,
 * with only the given environment (plus PATH/HOME): NODE_EXTRA_CA_CERTS works only at a process's start.
 */
export function runCli(args: string[], cwd: string, env: Record<string, string> = {}): Promise<CliRun> {
  const base: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' };
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [...runnerArgs(), ...args], { cwd, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', rej);
    child.on('close', (code) => res({ code: code ?? -1, stdout, stderr }));
  });
}

/** The same, in this process through main(argv, io): for cases that need no trusted test CA (NODE_EXTRA_CA_CERTS). */
export async function runInProcess(args: string[], cwd: string, env: Record<string, string> = {}): Promise<CliRun> {
  const stdout = new Captured();
  const stderr = new Captured();
  const code = await main(args, { stdout, stderr, cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', ...env } });
  return { code, stdout: stdout.text, stderr: stderr.text };
}
