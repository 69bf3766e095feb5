/**
 * Local stand-ins for Slack's Web API and an SMTP server, so the demo (and anyone trying dify-ci) can see the
 * notifications without a network. Slack: `POST /api/chat.postMessage` and incoming-webhook posts are recorded.
 * SMTP: smtp-server on loopback, without STARTTLS (no certificate here), every message recorded raw.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackCapture {
  url: string;
  messages: { method: string; body: Record<string, unknown> }[];
  close(): Promise<void>;
}

export async function startSlackCapture(): Promise<SlackCapture> {
  const messages: SlackCapture['messages'] = [];
  let ts = 1700000000;
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      let body: Record<string, unknown> = {};
      try {
        body = (req.headers['content-type'] ?? '').includes('json') ? JSON.parse(raw || '{}') : Object.fromEntries(new URLSearchParams(raw));
      } catch {
        // A stand-in records what it got, parseable or not: the raw body is the record.
        body = { raw };
      }
      const method = (req.url ?? '/').replace(/^\/api\//, '').split('?')[0]!;
      messages.push({ method, body });
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(JSON.stringify({ ok: true, channel: body.channel ?? 'C0DEMO', ts: `${ts++}.000100` }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/api/`, messages, close: () => new Promise((r) => server.close(() => r())) };
}

export interface SmtpCapture {
  host: string;
  port: number;
  messages: { from: string; to: string[]; raw: string; subject: string }[];
  close(): Promise<void>;
}

export async function startSmtpCapture(): Promise<SmtpCapture> {
  const { SMTPServer } = await import('smtp-server');
  const messages: SmtpCapture['messages'] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => (raw += d));
      stream.on('end', () => {
        const subjectLine = /^Subject: (.*(?:\r?\n[ \t].*)*)/m.exec(raw)?.[1] ?? '';
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          subject: decodeMimeWords(subjectLine.replace(/\r?\n[ \t]/g, ' ')),
        });
        callback();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.server.address() as AddressInfo).port;
  return { host: '127.0.0.1', port, messages, close: () => new Promise((r) => server.close(() => r())) };
}

/** RFC 2047 encoded words (`=?UTF-8?B?…?=`), enough to print the subjects nodemailer writes. */
function decodeMimeWords(s: string): string {
  return s
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_m, _cs, enc: string, text: string) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_x, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'),
    );
}
