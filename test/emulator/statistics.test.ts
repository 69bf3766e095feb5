/**
 * §12 app statistics and the console workflow-app-logs, computed from traffic the test sends through the service
 * API: exact counts, tokens and prices, the account's time zone, absent days, the range query and its errors.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startEmulator, type Emulator } from '../../runner/src/emulator/index.js';
import { localDate, wallToUtc } from '../../runner/src/emulator/tz.js';
import { Client, adminClient, chatDsl, deployApp, service, workflowDsl } from './helpers.js';

type Usage = { prompt_tokens: number; completion_tokens: number; total_tokens: number; total_price: string; latency: number };

const APP_STATS = ['daily-messages', 'daily-conversations', 'daily-end-users', 'token-costs', 'user-satisfaction-rate', 'tokens-per-second'];

describe('emulator §12: app statistics from served traffic', function () {
  let emu: Emulator;
  let c: Client;

  beforeEach(async () => {
    emu = await startEmulator({ port: 0 });
    c = await adminClient(emu);
  });
  afterEach(async () => emu.close());

  const stat = (appId: string, name: string, q = '') => c.req('GET', `/console/api/apps/${appId}/statistics/${name}${q}`);
  const wstat = (appId: string, name: string, q = '') => c.req('GET', `/console/api/apps/${appId}/workflow/statistics/${name}${q}`);
  const chat = async (key: string, user: string, query: string, conversationId = ''): Promise<{ id: string; conversation_id: string; usage: Usage }> => {
    const r = await service(emu, key, 'POST', '/chat-messages', { inputs: {}, query, user, response_mode: 'blocking', conversation_id: conversationId });
    assert.equal(r.status, 200, r.text);
    return { id: r.json.id, conversation_id: r.json.conversation_id, usage: r.json.metadata.usage };
  };

  it('chat app: messages, conversations, end users, tokens and price, satisfaction per mille, session interactions, tokens per second', async () => {
    emu.setClock('2025-03-08T15:00:00Z'); // 10:00 in New York
    const { appId, key } = await deployApp(c, chatDsl('chat', 'stats-bot'));
    emu.setScript([{ app: 'stats-bot', latencyMs: 20 }]);
    for (const name of APP_STATS) assert.deepEqual((await stat(appId, name)).json, { data: [] }, `${name} before any traffic`);

    const a1 = await chat(key, 'alice', 'first question');
    const a2 = await chat(key, 'alice', 'follow up', a1.conversation_id);
    const b1 = await chat(key, 'bob', 'hello there');
    const all = [a1, a2, b1];
    assert.equal((await service(emu, key, 'POST', `/messages/${a2.id}/feedbacks`, { user: 'alice', rating: 'like' })).status, 200);
    assert.equal((await service(emu, key, 'POST', `/messages/${b1.id}/feedbacks`, { user: 'bob', rating: 'dislike' })).status, 200);

    const day = '2025-03-08';
    assert.deepEqual((await stat(appId, 'daily-messages')).json, { data: [{ date: day, message_count: 3 }] });
    assert.deepEqual((await stat(appId, 'daily-conversations')).json, { data: [{ date: day, conversation_count: 2 }] });
    assert.deepEqual((await stat(appId, 'daily-end-users')).json, { data: [{ date: day, terminal_count: 2 }] });
    const tokens = all.reduce((s, m) => s + m.usage.total_tokens, 0);
    const price = all.reduce((s, m) => s + Math.round(Number(m.usage.total_price) * 1e7), 0);
    assert.deepEqual((await stat(appId, 'token-costs')).json, { data: [{ currency: 'USD', date: day, token_count: tokens, total_price: (price / 1e7).toFixed(7) }] });
    // One like in three messages: 333.33 per mille, not 33 %.
    assert.deepEqual((await stat(appId, 'user-satisfaction-rate')).json, { data: [{ date: day, rate: 333.33 }] });
    assert.deepEqual((await stat(appId, 'average-session-interactions')).json, { data: [{ date: day, interactions: 1.5 }] });
    for (const m of all) assert.equal(m.usage.latency, 0.02, 'the provider latency is the scripted model time');
    const answerTokens = all.reduce((s, m) => s + m.usage.completion_tokens, 0);
    assert.deepEqual((await stat(appId, 'tokens-per-second')).json, { data: [{ date: day, tps: Math.round((answerTokens / (0.02 * 3)) * 1e4) / 1e4 }] });

    // Flask jsonify: compact, sorted keys, trailing newline.
    const raw = await stat(appId, 'daily-messages');
    assert.equal(raw.text, `{"data":[{"date":"${day}","message_count":3}]}\n`);
    assert.match(raw.headers.get('content-type') ?? '', /^application\/json/);
  });

  it("days are the account's local days (default America/New_York), days without traffic are absent, the zone can be changed", async () => {
    const { appId, key } = await deployApp(c, chatDsl('chat', 'tz-bot'));
    emu.setClock('2025-03-09T03:30:00Z'); // Mar 8, 22:30 in New York
    await chat(key, 'u1', 'late evening');
    emu.setClock('2025-03-11T16:00:00Z');
    await chat(key, 'u1', 'two days later');
    await chat(key, 'u2', 'same day');
    assert.equal((await c.req('GET', '/console/api/account/profile')).json.timezone, 'America/New_York');
    assert.deepEqual((await stat(appId, 'daily-messages')).json, { data: [{ date: '2025-03-08', message_count: 1 }, { date: '2025-03-11', message_count: 2 }] });

    const set = await c.req('POST', '/console/api/account/timezone', { body: { timezone: 'UTC' } });
    assert.equal(set.status, 200);
    assert.equal(set.json.timezone, 'UTC');
    assert.deepEqual((await stat(appId, 'daily-messages')).json, { data: [{ date: '2025-03-09', message_count: 1 }, { date: '2025-03-11', message_count: 2 }] });
    const bad = await c.req('POST', '/console/api/account/timezone', { body: { timezone: 'Mars/Olympus' } });
    assert.deepEqual(bad.json, { code: 'invalid_param', message: 'Invalid timezone string.', status: 400 });
  });

  it('start (inclusive) and end (exclusive) are wall times in the account zone; bad values → 400 bad_request', async () => {
    const { appId, key } = await deployApp(c, chatDsl('chat', 'range-bot'));
    for (const at of ['2025-06-01T03:59:00Z', '2025-06-01T04:00:00Z', '2025-06-02T03:59:00Z', '2025-06-02T04:00:00Z']) {
      emu.setClock(at);
      await chat(key, 'u', at);
    }
    // New York is UTC-4 in June: 2025-06-01 00:00 local = 04:00Z.
    const q = '?start=2025-06-01%2000:00&end=2025-06-02%2000:00';
    assert.deepEqual((await stat(appId, 'daily-messages', q)).json, { data: [{ date: '2025-06-01', message_count: 2 }] });
    assert.deepEqual((await stat(appId, 'daily-messages', '?start=&end=')).json.data.map((d: { date: string }) => d.date), ['2025-05-31', '2025-06-01', '2025-06-02'], 'empty strings are absent');
    for (const [query, message] of [
      ['?start=2025-13-01%2000:00', "Invalid start time format: time data '2025-13-01 00:00' does not match format '%Y-%m-%d %H:%M'"],
      ['?end=2025-02-30%2000:00', 'Invalid end time format: day is out of range for month'],
      ['?start=2025-06-02%2000:00&end=2025-06-01%2000:00', 'start must be earlier than or equal to end'],
    ] as const) {
      assert.deepEqual((await stat(appId, 'daily-messages', query)).json, { code: 'bad_request', message, status: 400 }, query);
    }
  });

  it('a failed call leaves an error message that counts; mode-specific routes refuse other modes; another workspace → App not found.', async () => {
    const { appId, key } = await deployApp(c, chatDsl('chat', 'err-bot'));
    const ok = await chat(key, 'u', 'fine');
    emu.setScript([{ app: 'err-bot', error: { code: 'completion_request_error', message: 'model exploded' }, times: 1 }]);
    const failed = await service(emu, key, 'POST', '/chat-messages', { inputs: {}, query: 'boom', user: 'u', response_mode: 'blocking', conversation_id: ok.conversation_id });
    assert.equal(failed.status, 400);
    assert.equal((await stat(appId, 'daily-messages')).json.data[0].message_count, 2);
    const history = await service(emu, key, 'GET', `/messages?user=u&conversation_id=${ok.conversation_id}`);
    assert.deepEqual(history.json.data.map((m: { status: string; error: string | null }) => [m.status, m.error]), [['normal', null], ['error', 'model exploded']]);

    assert.deepEqual((await stat(appId, 'average-response-time')).json, { code: 'app_not_found', message: "App mode is not in the supported list: {'completion'}", status: 404 });
    assert.deepEqual((await wstat(appId, 'average-app-interactions')).json, { code: 'app_not_found', message: "App mode is not in the supported list: {'workflow'}", status: 404 });
    assert.deepEqual((await wstat(appId, 'daily-conversations')).json, { data: [] }, 'workflow statistics of a chat app: no runs');
    const ws = emu.createWorkspace('elsewhere');
    const sw = await c.req('POST', '/console/api/workspaces/switch', { body: { tenant_id: ws.id } });
    assert.equal(sw.status, 200);
    assert.deepEqual((await stat(appId, 'daily-messages')).json, { code: 'app_not_found', message: 'App not found.', status: 404 });
  });

  it('completion app: each message is its own conversation; average response time in ms', async () => {
    emu.setClock('2025-01-15T12:00:00Z');
    const { appId, key } = await deployApp(c, chatDsl('completion', 'writer'));
    emu.setScript([{ app: 'writer', latencyMs: 30, times: 1 }, { app: 'writer', latencyMs: 10 }]);
    for (const t of ['a', 'b']) assert.equal((await service(emu, key, 'POST', '/completion-messages', { inputs: { text: t }, user: 'w', response_mode: 'blocking' })).status, 200);
    assert.deepEqual((await stat(appId, 'daily-conversations')).json, { data: [{ date: '2025-01-15', conversation_count: 2 }] });
    assert.deepEqual((await stat(appId, 'average-response-time')).json, { data: [{ date: '2025-01-15', latency: 20 }] });
    assert.deepEqual((await stat(appId, 'average-session-interactions')).json.code, 'app_not_found');
  });

  it('workflow app: runs, terminals, tokens, interactions per user; failed runs in workflow-app-logs?status=failed', async () => {
    emu.setClock('2025-02-03T14:00:00Z');
    const { appId, key } = await deployApp(c, workflowDsl({ name: 'wf-stats' }));
    const tokens: number[] = [];
    for (const user of ['a', 'a', 'b']) {
      const r = await service(emu, key, 'POST', '/workflows/run', { inputs: { q: `hi ${user}` }, user, response_mode: 'blocking' });
      assert.equal(r.json.data.status, 'succeeded');
      tokens.push(r.json.data.total_tokens);
    }
    emu.setScript([{ app: 'wf-stats', nodeFailure: 'LLM', times: 1 }]);
    const f = await service(emu, key, 'POST', '/workflows/run', { inputs: { q: 'fail' }, user: 'b', response_mode: 'blocking' });
    assert.equal(f.json.data.status, 'failed');
    const day = '2025-02-03';
    assert.deepEqual((await wstat(appId, 'daily-conversations')).json, { data: [{ date: day, runs: 4 }] });
    assert.deepEqual((await wstat(appId, 'daily-terminals')).json, { data: [{ date: day, terminal_count: 2 }] });
    assert.deepEqual((await wstat(appId, 'token-costs')).json, { data: [{ date: day, token_count: tokens.reduce((s, n) => s + n, 0) + f.json.data.total_tokens }] });
    assert.deepEqual((await wstat(appId, 'average-app-interactions')).json, { data: [{ date: day, interactions: 2 }] });
    assert.deepEqual((await stat(appId, 'daily-messages')).json, { data: [] }, 'a workflow app writes no messages');

    const logs = await c.req('GET', `/console/api/apps/${appId}/workflow-app-logs?status=failed`);
    assert.equal(logs.status, 200);
    assert.equal(logs.json.total, 1);
    assert.equal(logs.json.data[0].workflow_run.id, f.json.workflow_run_id);
    assert.equal(logs.json.data[0].workflow_run.status, 'failed');
    assert.match(logs.json.data[0].workflow_run.error, /LLM/);
    assert.equal((await c.req('GET', `/console/api/apps/${appId}/workflow-app-logs?limit=2`)).json.has_more, true);
    const bad = await c.req('GET', `/console/api/apps/${appId}/workflow-app-logs?status=exploded`);
    assert.equal(bad.status, 400);
    assert.equal(bad.json.code, 'invalid_param');
    const { appId: chatId } = await deployApp(c, chatDsl('chat', 'not-a-workflow'));
    assert.equal((await c.req('GET', `/console/api/apps/${chatId}/workflow-app-logs`)).json.message, "App mode is not in the supported list: {'workflow'}");
  });
});

describe('emulator time zones agree with Python zoneinfo (differential)', function () {
  const python = (() => {
    try {
      execFileSync('python3', ['-c', 'import zoneinfo; zoneinfo.ZoneInfo("America/New_York")'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  it('localize (DST gaps and folds) and local dates for a spread of zones and instants', function () {
    if (!python) this.skip(); // needs python3 with the system tz database, as on Debian
    const zones = ['America/New_York', 'Europe/Berlin', 'Asia/Kolkata', 'Australia/Lord_Howe', 'America/Sao_Paulo', 'UTC', 'Pacific/Chatham'];
    const walls: number[] = [];
    for (let i = 0; i < 60; i++) walls.push(Date.UTC(2024, 0, 1) + i * 6 * 86_400_000 + ((i * 37) % 24) * 3_600_000 + (i % 2) * 1_800_000);
    // DST edges in New York and Berlin (gaps and folds).
    walls.push(Date.UTC(2025, 2, 9, 2, 30), Date.UTC(2025, 10, 2, 1, 30), Date.UTC(2025, 2, 30, 2, 15), Date.UTC(2025, 9, 26, 2, 45));
    const script = `
import datetime, json, sys
from zoneinfo import ZoneInfo
zones, walls = json.load(sys.stdin)
out = []
for z in zones:
    tz = ZoneInfo(z)
    for w in walls:
        dt = datetime.datetime.fromtimestamp(w / 1000, datetime.UTC).replace(tzinfo=None)
        c = (dt.replace(tzinfo=tz, fold=0), dt.replace(tzinfo=tz, fold=1))
        utc = max(c, key=datetime.datetime.timestamp).astimezone(datetime.UTC)
        out.append([int(utc.timestamp() * 1000), datetime.datetime.fromtimestamp(w / 1000, tz).date().isoformat()])
print(json.dumps(out))`;
    const expected = JSON.parse(execFileSync('python3', ['-c', script], { input: JSON.stringify([zones, walls]) }).toString()) as [number, string][];
    let i = 0;
    for (const z of zones) {
      for (const w of walls) {
        const [utc, date] = expected[i++]!;
        assert.equal(wallToUtc(z, w), utc, `${z} ${new Date(w).toISOString()}`);
        assert.equal(localDate(z, w), date, `${z} date of ${new Date(w).toISOString()}`);
      }
    }
  });
});
