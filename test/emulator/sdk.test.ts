/**
 * The official Dify Node SDK (`dify-client`), unchanged, against the emulator's service API: every method the SDK
 * has. Each answer also goes through the OpenAPI checks of openapi.test.ts (the SDK's axios is not `service()`, so
 * they are validated here).
 */
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { ChatClient, CompletionClient, DifyClient } from 'dify-client';
import { startEmulator, type Emulator } from '../../runner/src/emulator/index.js';
import { adminClient, chatDsl, deployApp, parseSse, workflowDsl } from './helpers.js';
import { SpecValidator } from './openapi-validator.js';

async function readStream(s: Readable): Promise<string> {
  let out = '';
  for await (const chunk of s) out += chunk.toString();
  return out;
}

/** The methods this file calls, per SDK class; the first test proves the SDK has no others. */
const COVERED: Record<string, string[]> = {
  DifyClient: ['fileUpload', 'getApplicationParameters', 'messageFeedback', 'sendRequest', 'updateApiKey'],
  CompletionClient: ['createCompletionMessage', 'runWorkflow'],
  ChatClient: ['createChatMessage', 'deleteConversation', 'getConversationMessages', 'getConversations', 'renameConversation'],
};

/** The SDK's index.d.ts is behind its index.js (no runWorkflow, rating typed as a number, no auto_generate): call
 * what the JavaScript has. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Sdk = any;
const sdk = (c: DifyClient): Sdk => c;

type AxiosError = { response?: { status: number; data: unknown } };
const rejectsWith = async (p: Promise<unknown>, status: number, data: unknown): Promise<void> => {
  await assert.rejects(p, (e: AxiosError) => {
    assert.equal(e.response?.status, status);
    assert.deepEqual(e.response?.data, data);
    return true;
  });
};

describe('dify-client SDK against the emulator: every method', function () {
  this.timeout(20_000);
  let emu: Emulator;
  let base: string;
  const keys: Record<string, string> = {};
  const spec = new SpecValidator();

  before(async () => {
    emu = await startEmulator({ port: 0 });
    base = `${emu.url}/v1`;
    const c = await adminClient(emu);
    keys.chat = (await deployApp(c, chatDsl('chat', 'SDK Bot'))).key;
    keys.completion = (await deployApp(c, chatDsl('completion', 'SDK Writer'))).key;
    keys.workflow = (await deployApp(c, workflowDsl({ name: 'SDK Flow' }))).key;
  });
  after(async () => emu.close());

  it('the SDK has exactly the methods this file covers', () => {
    for (const [name, cls] of Object.entries({ DifyClient, CompletionClient, ChatClient })) {
      const own = Object.getOwnPropertyNames(cls.prototype).filter((m) => m !== 'constructor').sort();
      assert.deepEqual(own, COVERED[name], `${name}: a method was added to or removed from the SDK`);
    }
  });

  it('sendRequest (info) and updateApiKey: a wrong key is 401, the same client works after updateApiKey', async () => {
    const client = new DifyClient('app-doesnotexist00000000000', base);
    await rejectsWith(client.sendRequest('GET', '/info'), 401, { code: 'unauthorized', message: 'Access token is invalid', status: 401 });
    client.updateApiKey(keys.chat!);
    const r = await client.sendRequest('GET', '/info');
    assert.equal(r.status, 200);
    assert.deepEqual(r.data, { name: 'SDK Bot', description: 'd', tags: [], mode: 'chat', author_name: 'admin' });
    spec.check('AppInfoResponse', r.data);
  });

  it('getApplicationParameters', async () => {
    const r = await new ChatClient(keys.chat!, base).getApplicationParameters('sdk-user');
    assert.equal(r.status, 200);
    assert.equal(r.data.user_input_form[0]['text-input'].variable, 'topic');
    assert.equal(r.data.system_parameters.file_size_limit, 15);
    spec.check('AppParametersResponse', r.data);
  });

  it('createChatMessage blocking, a second turn, and streaming', async () => {
    const chat = new ChatClient(keys.chat!, base);
    const r = await chat.createChatMessage({ topic: 'orders' }, 'where is order 123?', 'sdk-user', false, null);
    assert.equal(r.status, 200);
    assert.equal(r.data.event, 'message');
    assert.match(r.data.answer, /where is order 123\?/);
    spec.check('ChatCompletionResponse', r.data);
    const r2 = await chat.createChatMessage({}, 'thanks', 'sdk-user', false, r.data.conversation_id);
    assert.equal(r2.data.conversation_id, r.data.conversation_id);
    assert.match(r2.data.answer, /earlier: where is order 123\?/);
    const s = await chat.createChatMessage({}, 'stream this please', 'sdk-user', true);
    assert.match(String(s.headers['content-type']), /^text\/event-stream/);
    const events = parseSse(await readStream(s.data as Readable));
    for (const e of events) spec.checkEvent('ChunkChatEvent', e);
    assert.match(events.filter((e) => e.event === 'message').map((e) => e.answer).join(''), /stream this please$/);
    assert.equal(events[events.length - 1]!.event, 'message_end');
  });

  it('createCompletionMessage and runWorkflow, blocking and streaming', async () => {
    const comp = new CompletionClient(keys.completion!, base);
    const r = await comp.createCompletionMessage({ text: 'Guten Tag' }, 'sdk-user', false);
    assert.equal(r.data.mode, 'completion');
    assert.match(r.data.answer, /Guten Tag/);
    spec.check('CompletionResponse', r.data);
    const s = await comp.createCompletionMessage({ text: 'Hallo Welt' }, 'sdk-user', true);
    assert.match(parseSse(await readStream(s.data as Readable)).filter((e) => e.event === 'message').map((e) => e.answer).join(''), /Hallo Welt/);
    const wf = sdk(new CompletionClient(keys.workflow!, base));
    const w = await wf.runWorkflow({ q: 'run 99' }, 'sdk-user', false);
    assert.equal(w.data.data.status, 'succeeded');
    assert.match(w.data.data.outputs.result, /run 99$/);
    spec.check('WorkflowBlockingResponse', w.data);
    const ws = parseSse(await readStream((await wf.runWorkflow({ q: 'run 100' }, 'sdk-user', true)).data as Readable));
    assert.equal(ws[0]!.event, 'workflow_started');
    assert.equal(ws[ws.length - 1]!.event, 'workflow_finished');
  });

  it('getConversations, getConversationMessages (paging back with first_id), renameConversation, deleteConversation', async () => {
    const chat = sdk(new ChatClient(keys.chat!, base));
    const user = 'sdk-history';
    const first = await chat.createChatMessage({ topic: 'billing' }, 'first question', user);
    const conv = first.data.conversation_id as string;
    const second = await chat.createChatMessage({}, 'second question', user, false, conv);
    await chat.createChatMessage({}, 'another chat', user);

    const list = await chat.getConversations(user, null, 10);
    spec.checkResponse('/conversations', 'GET', 200, list.data);
    assert.deepEqual(list.data.data.map((c: { name: string }) => c.name), ['another chat', 'first question'], 'newest updated first, named from the first query');
    assert.deepEqual(list.data.data[1].inputs, { topic: 'billing' });
    assert.equal(list.data.has_more, false);
    assert.equal((await chat.getConversations(user, null, 1)).data.has_more, true);
    assert.deepEqual((await chat.getConversations('someone-else')).data.data, [], 'only the end user\'s own');

    const latest = await chat.getConversationMessages(user, conv, null, 1);
    spec.checkResponse('/messages', 'GET', 200, latest.data);
    assert.equal(latest.data.has_more, true);
    assert.deepEqual(latest.data.data.map((m: { id: string }) => m.id), [second.data.message_id]);
    const older = await chat.getConversationMessages(user, conv, second.data.message_id, 5);
    assert.equal(older.data.has_more, false);
    const m = older.data.data[0];
    assert.equal(m.id, first.data.message_id);
    assert.equal(m.query, 'first question');
    assert.equal(m.answer, first.data.answer);
    assert.deepEqual(m.inputs, { topic: 'billing' });
    assert.equal(m.total_tokens, first.data.metadata.usage.total_tokens);
    assert.equal(m.total_price, first.data.metadata.usage.total_price);
    assert.equal(m.feedback, null);

    const renamed = await chat.renameConversation(conv, 'Billing help', user);
    spec.checkResponse('/conversations/{conversation_id}/name', 'POST', 200, renamed.data);
    assert.equal(renamed.data.name, 'Billing help');
    assert.equal((await chat.renameConversation(conv, undefined, user, true)).data.name, 'first question', 'auto_generate names it again');

    const del = await chat.deleteConversation(conv, user);
    assert.equal(del.status, 204);
    await rejectsWith(chat.getConversationMessages(user, conv), 404, { code: 'not_found', message: 'Conversation Not Exists.', status: 404 });
    await rejectsWith(chat.deleteConversation(conv, user), 404, { code: 'not_found', message: 'Conversation Not Exists.', status: 404 });
  });

  it('messageFeedback: like, shown in the history, revoked; revoking twice or another user\'s message fails', async () => {
    const chat = sdk(new ChatClient(keys.chat!, base));
    const r = await chat.createChatMessage({}, 'rate me', 'sdk-rater');
    const id = r.data.message_id as string;
    const liked = await chat.messageFeedback(id, 'like', 'sdk-rater');
    assert.deepEqual(liked.data, { result: 'success' });
    const hist = await chat.getConversationMessages('sdk-rater', r.data.conversation_id);
    assert.deepEqual(hist.data.data[0].feedback, { rating: 'like' });
    assert.deepEqual((await chat.messageFeedback(id, null, 'sdk-rater')).data, { result: 'success' });
    assert.equal((await chat.getConversationMessages('sdk-rater', r.data.conversation_id)).data.data[0].feedback, null);
    await rejectsWith(chat.messageFeedback(id, null, 'sdk-rater'), 400, { code: 'invalid_param', message: 'rating cannot be None when feedback not exists', status: 400 });
    await rejectsWith(chat.messageFeedback(id, 'like', 'somebody-else'), 404, { code: 'not_found', message: 'Message Not Exists.', status: 404 });
    // Completion messages take feedback too (DifyClient's method).
    const comp = await new CompletionClient(keys.completion!, base).createCompletionMessage({ text: 'x' }, 'sdk-rater');
    assert.deepEqual((await sdk(new DifyClient(keys.completion!, base)).messageFeedback(comp.data.message_id, 'dislike', 'sdk-rater')).data, { result: 'success' });
  });

  it('fileUpload (multipart through axios): 201 with the file\'s metadata, owned by the end user', async () => {
    const form = new FormData();
    form.append('file', new Blob(['hello, file'], { type: 'text/plain' }), 'notes.txt');
    form.append('user', 'sdk-uploader');
    const r = await new DifyClient(keys.chat!, base).fileUpload(form);
    assert.equal(r.status, 201);
    spec.checkResponse('/files/upload', 'POST', 201, r.data);
    assert.equal(r.data.name, 'notes.txt');
    assert.equal(r.data.size, 11);
    assert.equal(r.data.extension, 'txt');
    assert.equal(r.data.mime_type, 'text/plain');
    assert.equal(r.data.tenant_id, emu.workspaceId);
    assert.match(r.data.source_url, new RegExp(`^${emu.url}/files/${r.data.id}/file-preview\\?timestamp=\\d+&nonce=`));
    // created_by is the end user of `user`: the same for the same user, another for another one.
    const again = new FormData();
    again.append('file', new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], { type: 'image/png' }), 'logo.png');
    again.append('user', 'sdk-uploader');
    const r2 = await new DifyClient(keys.chat!, base).fileUpload(again);
    assert.equal(r2.data.created_by, r.data.created_by);
    assert.equal(r2.data.mime_type, 'image/png');
    const other = new FormData();
    other.append('file', new Blob(['x'], { type: 'text/plain' }), 'x.txt');
    assert.notEqual((await new DifyClient(keys.chat!, base).fileUpload(other)).data.created_by, r.data.created_by, 'no user: DEFAULT-USER');
  });

  it('validated the SDK\'s answers against the OpenAPI file', () => {
    assert.ok(spec.checked >= 12, `only ${spec.checked}`);
  });
});
