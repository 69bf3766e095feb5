/** What the service API offers a smoke test (dify-api.md §7): app info, its input form, and a run by app mode. */
import { DifyCiError } from '../core/errors.js';
import type { AppMode, FileSpec, ResponseMode } from './types.js';

export interface AppInfo {
  name: string;
  description?: string;
  mode: AppMode;
  tags?: string[];
  author_name?: string;
}

/** One field of the app's input form (`user_input_form`, §7.7). */
export interface InputField {
  type: string;
  variable: string;
  label?: string;
  required: boolean;
  default?: unknown;
  options?: string[];
}

export interface AppParameters {
  inputs: InputField[];
  raw: Record<string, unknown>;
}

export interface RunRequest {
  mode: AppMode;
  responseMode: ResponseMode;
  query?: string;
  inputs: Record<string, unknown>;
  user: string;
  conversationId?: string;
  files?: FileSpec[];
}

export const CHAT_MODES = new Set(['chat', 'agent-chat', 'advanced-chat', 'agent']);

/** Endpoint of a run by app mode (§7.3). */
export function runPath(mode: AppMode): string {
  if (CHAT_MODES.has(mode)) return '/chat-messages';
  if (mode === 'completion') return '/completion-messages';
  if (mode === 'workflow') return '/workflows/run';
  throw new DifyCiError(`app mode '${mode}' cannot be smoke-tested through the service API`, 'input');
}

/** Agent-chat rejects blocking (§10.1): it is always streamed. */
export function effectiveResponseMode(mode: AppMode, wanted: ResponseMode): ResponseMode {
  return mode === 'agent-chat' ? 'streaming' : wanted;
}

export function parseInputForm(form: unknown): InputField[] {
  if (!Array.isArray(form)) return [];
  const out: InputField[] = [];
  for (const item of form) {
    if (!item || typeof item !== 'object') continue;
    const [type, f] = Object.entries(item as Record<string, any>)[0] ?? [];
    if (!type || !f || typeof f.variable !== 'string') continue;
    out.push({ type, variable: f.variable, label: f.label, required: Boolean(f.required), default: f.default, options: Array.isArray(f.options) ? f.options : undefined });
  }
  return out;
}
