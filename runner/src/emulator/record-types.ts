/**
 * The shapes of the rows service-API calls leave behind (records.ts keeps them). Types only, importing nothing, so
 * the store (state.ts) and the knowledge model can name them without a cycle through the emulator's core.
 */
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
