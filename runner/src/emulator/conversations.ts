/** Service-API conversations: lookup (`Conversation Not Exists.`), creation and the turns a chat keeps. */
import type { Core } from './core.js';
import { envelope } from './http.js';
import type { App, Conversation } from './state.js';
import { uuid } from './util.js';

export function getConversation(core: Core, app: App, user: string, id: string): Conversation {
  const c = core.store.data.conversations[id];
  if (!c || c.appId !== app.id || c.user !== user) throw envelope(404, 'not_found', 'Conversation Not Exists.');
  return c;
}

export function newConversation(core: Core, app: App, user: string, variables: Record<string, unknown>): Conversation {
  return { id: uuid(), appId: app.id, user, createdAt: core.clock.nowSec(), turns: [], variables };
}

const MAX_CONVERSATIONS = 10_000;
let conversationWrites = 0;

export function saveTurn(core: Core, c: Conversation, query: string, answer: string): void {
  c.turns.push({ query, answer });
  if (c.turns.length > 50) c.turns.shift();
  const all = core.store.data.conversations;
  all[c.id] = c;
  // Benchmarks create a conversation per call: keep memory (and the state file) bounded, oldest first out.
  if (++conversationWrites % 1000 === 0) {
    const ids = Object.keys(all);
    for (const id of ids.slice(0, Math.max(0, ids.length - MAX_CONVERSATIONS))) delete all[id];
  }
}
