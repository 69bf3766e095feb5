import { strict as assert } from 'node:assert';
import { applyEvent, finishStream, fromBlocking, newStreamState, workflowAnswer } from '../../runner/src/smoke/events.js';
import type { AppMode } from '../../runner/src/smoke/types.js';

const T = { startedAt: 1000, endedAt: 1500, retries: 0, retryReasons: [] };

function stream(mode: AppMode, events: Record<string, unknown>[]) {
  const s = newStreamState(mode);
  events.forEach((e, i) => applyEvent(s, e, 1100 + i * 10));
  return finishStream(s, 'streaming', T);
}

describe('smoke: SSE events → observation', () => {
  it('message_replace replaces the answer and leaves a note', () => {
    const o = stream('chat', [{ event: 'message', answer: 'bad words' }, { event: 'message_replace', answer: 'filtered', reason: 'moderation' }, { event: 'message_end', metadata: {} }]);
    assert.equal(o.answer, 'filtered');
    assert.deepEqual(o.notes, ['answer replaced by Dify (moderation)']);
    assert.equal(o.ttftMs, 100);
    assert.equal(o.latencyMs, 500);
  });

  it('New Agent: agent_message chunks, then one closing message with the whole answer (not appended)', () => {
    const o = stream('agent', [{ event: 'agent_message', answer: 'Hel' }, { event: 'agent_message', answer: 'lo' }, { event: 'message', answer: 'Hello' }, { event: 'message_end', metadata: {} }]);
    assert.equal(o.answer, 'Hello');
    assert.equal(o.status, 'succeeded');
  });

  it('advanced-chat in Dify\'s order: workflow_finished is not the end; usage and price come from message_end', () => {
    const ok = stream('advanced-chat', [
      { event: 'workflow_started', data: {} },
      { event: 'message', answer: 'fine', conversation_id: 'c1' },
      { event: 'workflow_finished', data: { status: 'succeeded', outputs: { answer: 'fine' }, total_tokens: 7 } },
      { event: 'message_end', metadata: { usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7, total_price: '0.0000110', currency: 'USD' } } },
      { event: 'message', answer: ' ignored' },
    ]);
    assert.equal(ok.status, 'succeeded');
    assert.equal(ok.answer, 'fine', 'events after message_end are ignored');
    assert.deepEqual(ok.usage, { promptTokens: 3, completionTokens: 4, totalTokens: 7, totalPrice: '0.000011', currency: 'USD' });
    assert.equal(ok.events, 4);
    assert.deepEqual(ok.notes, []);
  });

  it('advanced-chat failure: workflow_finished failed, then error; the failed status and its error win', () => {
    const o = stream('advanced-chat', [
      { event: 'message', answer: 'partial', conversation_id: 'c1' },
      { event: 'workflow_finished', data: { status: 'failed', error: 'LLM quota', outputs: {} } },
      { event: 'error', code: 'invalid_param', status: 400, message: 'Run failed: LLM quota' },
    ]);
    assert.equal(o.status, 'failed');
    assert.equal(o.error?.message, 'LLM quota');
    assert.equal(o.conversationId, 'c1');
    assert.equal(o.events, 3, 'the error event was read');
  });

  it('advanced-chat streams that end early: after workflow_finished (no usage), after message_end (older order)', () => {
    const noEnd = stream('advanced-chat', [{ event: 'message', answer: 'fine' }, { event: 'workflow_finished', data: { status: 'succeeded', outputs: {}, total_tokens: 5 } }]);
    assert.equal(noEnd.status, 'succeeded');
    assert.equal(noEnd.usage.totalTokens, 5);
    assert.equal(noEnd.usage.totalPrice, undefined);
    assert.match(noEnd.notes[0]!, /without message_end: no usage or price/);
    const older = stream('advanced-chat', [
      { event: 'message', answer: 'fine' },
      { event: 'message_end', metadata: { usage: { total_tokens: 5, total_price: '0.01', currency: 'USD' } } },
      { event: 'workflow_finished', data: { status: 'failed', outputs: {} } },
    ]);
    assert.equal(older.status, 'succeeded', 'message_end is the last event a chat mode sends');
    assert.equal(older.usage.totalPrice, '0.01');
    const cut = stream('advanced-chat', [{ event: 'message', answer: 'fi' }]);
    assert.equal(cut.status, 'incomplete');
  });

  it('workflow_paused is terminal with status paused; a running/unknown final status is a failure', () => {
    assert.equal(stream('workflow', [{ event: 'workflow_paused', data: {} }]).status, 'paused');
    assert.equal(stream('workflow', [{ event: 'workflow_finished', data: { status: 'weird' } }]).status, 'failed');
  });

  it('workflow answers: the only string output, else JSON of the outputs, else the streamed text', () => {
    assert.equal(workflowAnswer({ result: 'HELLO' }, 'x'), 'HELLO');
    assert.equal(workflowAnswer({ a: 1, b: 'x' }, 'x'), '{"a":1,"b":"x"}');
    assert.equal(workflowAnswer({}, 'streamed'), 'streamed');
  });

  it('blocking bodies: chat envelope and workflow data', () => {
    const chat = fromBlocking('chat', { event: 'message', answer: 'Hi', conversation_id: 'c', metadata: { usage: { prompt_tokens: 1, completion_tokens: 2, total_price: '0.0000030' } } }, T);
    assert.equal(chat.answer, 'Hi');
    assert.equal(chat.usage.totalTokens, 3, 'total computed when Dify omits it');
    assert.equal(chat.usage.totalPrice, '0.000003');
    const wf = fromBlocking('workflow', { task_id: 't', workflow_run_id: 'r', data: { status: 'failed', outputs: null, error: 'boom', total_tokens: 4 } }, T);
    assert.equal(wf.status, 'failed');
    assert.deepEqual(wf.outputs, {});
    assert.equal(wf.error?.message, 'boom');
  });
});
