/** The official Dify Node SDK (`dify-client`), unchanged, against the emulator's service API. */
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { ChatClient, CompletionClient, DifyClient } from 'dify-client';
import { startEmulator, type Emulator } from '../../runner/src/emulator/index.js';
import { adminClient, chatDsl, deployApp, parseSse, workflowDsl } from './helpers.js';

async function readStream(s: Readable): Promise<string> {
  let out = '';
  for await (const chunk of s) out += chunk.toString();
  return out;
}

describe('dify-client SDK against the emulator', function () {
  let emu: Emulator;
  let base: string;
  const keys: Record<string, string> = {};

  before(async () => {
    emu = await startEmulator({ port: 0 });
    base = `${emu.url}/v1`;
    const c = await adminClient(emu);
    keys.chat = (await deployApp(c, chatDsl('chat', 'SDK Bot'))).key;
    keys.completion = (await deployApp(c, chatDsl('completion', 'SDK Writer'))).key;
    keys.workflow = (await deployApp(c, workflowDsl({ name: 'SDK Flow' }))).key;
  });
  after(async () => emu.close());

  it('info (through the SDK request helper)', async () => {
    const r = await new DifyClient(keys.chat!, base).sendRequest('GET', '/info');
    assert.equal(r.status, 200);
    assert.deepEqual(r.data, { name: 'SDK Bot', description: 'd', tags: [], mode: 'chat', author_name: 'admin' });
  });

  it('getApplicationParameters', async () => {
    const r = await new ChatClient(keys.chat!, base).getApplicationParameters('sdk-user');
    assert.equal(r.status, 200);
    assert.equal(r.data.user_input_form[0]['text-input'].variable, 'topic');
    assert.equal(r.data.system_parameters.file_size_limit, 15);
  });

  it('createChatMessage blocking, then a second turn in the same conversation', async () => {
    const chat = new ChatClient(keys.chat!, base);
    const r = await chat.createChatMessage({ topic: 'orders' }, 'where is order 123?', 'sdk-user', false, null);
    assert.equal(r.status, 200);
    assert.equal(r.data.event, 'message');
    assert.match(r.data.answer, /where is order 123\?/);
    const r2 = await chat.createChatMessage({}, 'thanks', 'sdk-user', false, r.data.conversation_id);
    assert.equal(r2.data.conversation_id, r.data.conversation_id);
    assert.match(r2.data.answer, /earlier: where is order 123\?/);
  });

  it('createChatMessage streaming', async () => {
    const r = await new ChatClient(keys.chat!, base).createChatMessage({}, 'stream this please', 'sdk-user', true);
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/event-stream/);
    const events = parseSse(await readStream(r.data as Readable));
    const answer = events.filter((e) => e.event === 'message').map((e) => e.answer).join('');
    assert.match(answer, /stream this please$/);
    assert.equal(events[events.length - 1]!.event, 'message_end');
  });

  it('createCompletionMessage blocking and streaming', async () => {
    const comp = new CompletionClient(keys.completion!, base);
    const r = await comp.createCompletionMessage({ text: 'Guten Tag' }, 'sdk-user', false);
    assert.equal(r.status, 200);
    assert.equal(r.data.mode, 'completion');
    assert.match(r.data.answer, /Guten Tag/);
    const s = await comp.createCompletionMessage({ text: 'Hallo Welt' }, 'sdk-user', true);
    const events = parseSse(await readStream(s.data as Readable));
    assert.match(events.filter((e) => e.event === 'message').map((e) => e.answer).join(''), /Hallo Welt/);
  });

  it('runWorkflow blocking and streaming', async () => {
    const wf = new CompletionClient(keys.workflow!, base) as CompletionClient & { runWorkflow(inputs: unknown, user: string, stream?: boolean): Promise<any> };
    const r = await wf.runWorkflow({ q: 'run 99' }, 'sdk-user', false);
    assert.equal(r.status, 200);
    assert.equal(r.data.data.status, 'succeeded');
    assert.match(r.data.data.outputs.result, /run 99$/);
    const s = await wf.runWorkflow({ q: 'run 100' }, 'sdk-user', true);
    const events = parseSse(await readStream(s.data as Readable));
    assert.equal(events[0]!.event, 'workflow_started');
    assert.equal(events[events.length - 1]!.event, 'workflow_finished');
    assert.match(events[events.length - 1]!.data.outputs.result, /run 100$/);
  });

  it('SDK errors carry the Dify envelope (axios rejects with the response)', async () => {
    const chat = new ChatClient('app-doesnotexist00000000000', base);
    await assert.rejects(chat.createChatMessage({}, 'x', 'u'), (e: { response?: { status: number; data: unknown } }) => {
      assert.equal(e.response?.status, 401);
      assert.deepEqual(e.response?.data, { code: 'unauthorized', message: 'Access token is invalid', status: 401 });
      return true;
    });
  });
});
