/**
 * Chat, agent-chat and completion apps have no draft and no publish: the model config is live when saved
 * (dify-api.md §5.4). Posting the whole config keeps the app id and its API keys.
 */
import type { ConsoleClient } from './console.js';

export async function postModelConfig(c: ConsoleClient, appId: string, modelConfig: Record<string, unknown>, where?: string): Promise<void> {
  c.requireConsole('save the model config', where);
  // Saving the same config twice gives the same app: safe to repeat.
  await c.call({ method: 'POST', path: `/apps/${encodeURIComponent(appId)}/model-config`, json: modelConfig, idempotent: true, what: 'save the model config', where });
}
