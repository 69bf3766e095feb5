/**
 * What service-API calls leave behind in Dify's tables: end users (`end_users`), messages and their feedback
 * (`messages`, `message_feedbacks`), workflow runs and their app logs (`workflow_runs`, `workflow_app_logs`) and
 * uploaded files (`upload_files`). Kept bounded: benchmarks run thousands of calls against one emulator.
 */
import type { Core } from './core.js';
import type { App } from './state.js';
import { uuid } from './util.js';

export interface EndUser {
  id: string;
  appId: string;
  /** The `user` the caller sent (`session_id`); `DEFAULT-USER` when it sent none. */
  sessionId: string;
  createdAt: number;
}

/** Dify's `InvokeFrom` of a message: the studio's debugger is left out of the app statistics (§12, §13). */
export type InvokeFrom = 'service-api' | 'debugger';

export interface MessageRecord {
  id: string;
  appId: string;
  /** Null for completion apps (their conversation is internal to Dify). */
  conversationId: string | null;
  /** The end user's id; '' for a debugger message (an account's, `fromAccountId`). */
  endUserId: string;
  /** Absent in state files written before §13: service-api. */
  invokeFrom?: InvokeFrom;
  fromAccountId?: string | null;
  /** `error` when the model call failed after the message row was written (Dify keeps it; it counts in §12). */
  status?: 'normal' | 'error';
  error?: string | null;
  query: string;
  answer: string;
  inputs: Record<string, unknown>;
  createdAt: number;
  messageTokens: number;
  answerTokens: number;
  totalPrice: string;
  latency: number;
  workflowRunId: string | null;
  feedback: { rating: 'like' | 'dislike'; content: string | null } | null;
}

export interface WorkflowRunRecord {
  id: string;
  appId: string;
  workflowId: string;
  /** The workflow's `version` string (its publish time). */
  version: string;
  status: 'succeeded' | 'failed' | 'stopped' | 'partial-succeeded';
  /** The run's inputs with the `sys.*` values, as Dify stores them. */
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
  error: string | null;
  totalSteps: number;
  totalTokens: number;
  exceptionsCount: number;
  createdAt: number;
  finishedAt: number;
  elapsedTime: number;
  /** `created_by`: the end user's id, or the account's for a debugger run (`createdByRole`). */
  endUserId: string;
  /** `triggered_from`: `app-run` (service API, web app) or `debugging` (§13); absent in older state files = app-run. */
  triggeredFrom?: 'app-run' | 'debugging';
  createdByRole?: 'end_user' | 'account';
  /** Workflow apps write a `workflow_app_logs` row per run (advanced-chat apps do not). */
  logId: string | null;
}

export interface UploadFileRecord {
  id: string;
  appId: string;
  workspaceId: string;
  name: string;
  size: number;
  extension: string;
  mimeType: string;
  createdBy: string;
  createdAt: number;
}

export const DEFAULT_USER = 'DEFAULT-USER';
const MAX_RECORDS = 20_000;

/** `EndUserService.get_or_create_end_user`: one end user per app and `user` value. */
export function endUserOf(core: Core, app: App, user: string | null | undefined): EndUser {
  const sessionId = user ? String(user) : DEFAULT_USER;
  const key = `${app.id}/${sessionId}`;
  const all = core.store.data.endUsers;
  return (all[key] ??= { id: uuid(), appId: app.id, sessionId, createdAt: core.clock.nowSec() });
}

/** Adds a record, dropping the oldest once a table holds more than MAX_RECORDS (checked every 1000 inserts). */
function remember<T extends { id: string }>(table: Record<string, T>, r: T, counter: { n: number }): T {
  table[r.id] = r;
  if (++counter.n % 1000 === 0) {
    const ids = Object.keys(table);
    for (const id of ids.slice(0, Math.max(0, ids.length - MAX_RECORDS))) delete table[id];
  }
  return r;
}
const written = { messages: { n: 0 }, runs: { n: 0 }, files: { n: 0 } };

export const rememberMessage = (core: Core, m: MessageRecord): MessageRecord => remember(core.store.data.messages, m, written.messages);
export const rememberRun = (core: Core, r: WorkflowRunRecord): WorkflowRunRecord => remember(core.store.data.workflowRuns, r, written.runs);
export const rememberFile = (core: Core, f: UploadFileRecord): UploadFileRecord => remember(core.store.data.uploadFiles, f, written.files);
