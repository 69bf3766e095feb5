/**
 * Service-API messages (`api/controllers/service_api/app/message.py`, `services/message_service.py`): a
 * conversation's history, newest page first (`first_id` pages back), and end-user feedback on a message.
 */
import { appAuth } from './api-key-auth.js';
import { CHAT_MODES, getConversation } from './conversations.js';
import type { Core } from './core.js';
import { envelope, invalidParam, json, notChatApp, type Router } from './http.js';
import { intParam, literalParam, uuidParam, validationError } from './params.js';
import { endUserOf, type MessageRecord } from './records.js';

/** `MessageListItem`. */
export function messageView(m: MessageRecord): Record<string, unknown> {
  return {
    id: m.id,
    conversation_id: m.conversationId,
    parent_message_id: null,
    inputs: m.inputs,
    query: m.query,
    answer: m.answer,
    status: m.status ?? 'normal',
    error: m.error ?? null,
    message_files: [],
    feedback: m.feedback ? { rating: m.feedback.rating } : null,
    retriever_resources: [],
    agent_thoughts: [],
    created_at: m.createdAt,
    extra_contents: [],
    message_tokens: m.messageTokens,
    answer_tokens: m.answerTokens,
    total_tokens: m.messageTokens + m.answerTokens,
    provider_response_latency: m.latency,
    total_price: m.totalPrice,
    currency: 'USD',
  };
}

export function registerMessages(core: Core, r: Router): void {
  r.add('GET', '/v1/messages', (ctx) => {
    const { app } = appAuth(core, ctx);
    const user = endUserOf(core, app, ctx.query.get('user')).sessionId;
    const M = 'MessageListQuery';
    if (ctx.query.get('conversation_id') === null) validationError(M, 'conversation_id', 'Field required');
    const conversationId = uuidParam(ctx.query.get('conversation_id'), 'conversation_id', M);
    const firstId = uuidParam(ctx.query.get('first_id'), 'first_id', M);
    const limit = intParam(ctx.query, 'limit', 20, 1, 100, M);
    if (![...CHAT_MODES, 'agent'].includes(app.mode)) throw notChatApp();
    // An empty conversation_id is valid and lists nothing (pagination_by_first_id).
    if (!conversationId) return json(200, { limit, has_more: false, data: [] });
    const c = getConversation(core, app, user, conversationId);
    let ids = c.messageIds;
    if (firstId) {
      const i = ids.findIndex((id) => id.toLowerCase() === firstId);
      if (i < 0) throw envelope(404, 'not_found', 'First Message Not Exists.');
      ids = ids.slice(0, i);
    }
    // The newest `limit` messages before the cursor, returned oldest first.
    const page = ids.slice(Math.max(0, ids.length - limit));
    const messages = page.map((id) => core.store.data.messages[id]).filter((m): m is MessageRecord => Boolean(m));
    return json(200, { limit, has_more: ids.length > limit, data: messages.map(messageView) });
  });

  r.add('POST', '/v1/messages/<uuid:id>/feedbacks', (ctx) => {
    const { app } = appAuth(core, ctx);
    const body = ctx.jsonStrict();
    if (body.user === undefined || body.user === null || body.user === '') throw invalidParam('Arg user must be provided.');
    const endUser = endUserOf(core, app, String(body.user));
    const M = 'MessageFeedbackPayload';
    if (body.rating !== null && body.rating !== undefined && typeof body.rating !== 'string') validationError(M, 'rating', "Input should be 'like' or 'dislike'");
    const rating = literalParam(body.rating as string | null | undefined, ['like', 'dislike'] as const, undefined, 'rating', M);
    if (body.content !== undefined && body.content !== null && typeof body.content !== 'string') validationError(M, 'content', 'Input should be a valid string');
    const m = core.store.data.messages[ctx.params.id!.toLowerCase()];
    if (!m || m.appId !== app.id || m.endUserId !== endUser.id) throw envelope(404, 'not_found', 'Message Not Exists.');
    if (rating) m.feedback = { rating, content: typeof body.content === 'string' ? body.content : null };
    else if (m.feedback) m.feedback = null;
    else throw invalidParam('rating cannot be None when feedback not exists');
    return json(200, { result: 'success' });
  });
}
