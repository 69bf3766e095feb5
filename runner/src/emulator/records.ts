/**
 * What service-API calls leave behind in Dify's tables: end users (`end_users`), messages and their feedback
 * (`messages`, `message_feedbacks`), workflow runs and their app logs (`workflow_runs`, `workflow_app_logs`) and
 * uploaded files (`upload_files`). Kept bounded: benchmarks run thousands of calls against one emulator.
 */
import type { Core } from './core.js';
import type { App } from './state.js';
import { uuid } from './util.js';

export type { EndUser, InvokeFrom, MessageRecord, UploadFileRecord, WorkflowRunRecord } from './record-types.js';
import type { EndUser, MessageRecord, UploadFileRecord, WorkflowRunRecord } from './record-types.js';

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
