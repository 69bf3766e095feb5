/** Shapes shared by the smoke suite loader, the assertions, the client, the runner and the reports. */
import type { SourcePosition } from '../core/errors.js';

/** `AppMode` as reported by `GET /v1/info` (dify-api.md §0). */
export type AppMode = 'chat' | 'agent-chat' | 'advanced-chat' | 'agent' | 'completion' | 'workflow' | (string & {});

export type ResponseMode = 'streaming' | 'blocking';

/**
 * How a call ended. The workflow values are Dify's (`data.status`, §7.4); `error` = an error envelope or an SSE
 * `error` event; `incomplete` = the stream stopped without a terminal event; `timeout` = the case's time ran out.
 */
export type RunStatus =
  | 'succeeded'
  | 'failed'
  | 'stopped'
  | 'partial-succeeded'
  | 'paused'
  | 'error'
  | 'incomplete'
  | 'timeout';

export const RUN_STATUSES: RunStatus[] = ['succeeded', 'failed', 'stopped', 'partial-succeeded', 'paused', 'error', 'incomplete', 'timeout'];

/** One assertion as written in the suite, after normalisation (`- contains: x` → {type: 'contains', value: 'x'}). */
export interface AssertionSpec {
  type: string;
  negate: boolean;
  value: unknown;
  weight: number;
  /** The text shown in reports, e.g. `not-contains: 错误`. */
  label: string;
  position?: SourcePosition;
}

export interface TurnSpec {
  query?: string;
  inputs: Record<string, unknown>;
  assert: AssertionSpec[];
  position?: SourcePosition;
}

export interface FileSpec {
  type: string;
  transfer_method: 'remote_url';
  url: string;
}

export interface CaseSpec {
  name: string;
  description?: string;
  /** One turn for a plain case, several for a conversation. */
  turns: TurnSpec[];
  conversation: boolean;
  /** Assertions over the whole conversation (answer = last answer; latency, tokens, cost summed). */
  caseAssert: AssertionSpec[];
  files: FileSpec[];
  threshold?: number;
  required: boolean;
  skip: boolean;
  repeat?: number;
  timeoutMs?: number;
  mode?: ResponseMode;
  user?: string;
  position?: SourcePosition;
}

export interface SuiteDefaults {
  user?: string;
  mode?: ResponseMode;
  timeoutMs?: number;
  repeat?: number;
  threshold?: number;
  inputs: Record<string, unknown>;
}

export interface Suite {
  file: string;
  description?: string;
  defaults: SuiteDefaults;
  passRate?: number;
  cases: CaseSpec[];
}

/** Token usage and price of one call; prices come from Dify as decimal strings and are summed exactly. */
export interface CallUsage {
  promptTokens?: number;
  completionTokens?: number;
  totalTokens?: number;
  /** Decimal string, e.g. "0.0012890". */
  totalPrice?: string;
  currency?: string;
}

export interface CallError {
  code?: string;
  message: string;
  httpStatus?: number;
}

export interface NodeFailure {
  title: string;
  nodeType?: string;
  error?: string;
}

/** What one call to the service API produced: the input of every assertion. */
export interface Observation {
  mode: AppMode;
  responseMode: ResponseMode;
  status: RunStatus;
  /** The text that text assertions look at (for workflows: the single string output, or the outputs as JSON). */
  answer: string;
  outputs?: Record<string, unknown>;
  error?: CallError;
  nodeFailures: NodeFailure[];
  latencyMs: number;
  /** Time to the first answer chunk (streaming); absent when nothing was streamed. */
  ttftMs?: number;
  usage: CallUsage;
  conversationId?: string;
  messageId?: string;
  workflowRunId?: string;
  /** Attempts that failed with 429/5xx/network before this one. */
  retries: number;
  retryReasons: string[];
  /** Things worth knowing that are not failures (e.g. Dify quirks detected). */
  notes: string[];
  events: number;
}

export interface AssertionOutcome {
  pass: boolean;
  /** 0..1; fractional for graded assertions (similarity). */
  score: number;
  reason: string;
}

export interface AssertionResult extends AssertionOutcome {
  label: string;
  type: string;
  weight: number;
}

export interface TurnResult {
  query?: string;
  observation: Observation;
  assertions: AssertionResult[];
  score: number;
  pass: boolean;
}

export interface CaseRunResult {
  name: string;
  /** 1-based repetition number. */
  iteration: number;
  repeat: number;
  required: boolean;
  pass: boolean;
  skipped: boolean;
  score: number;
  threshold?: number;
  /** Why it failed, one line per problem (empty when it passed). */
  reasons: string[];
  turns: TurnResult[];
  caseAssertions: AssertionResult[];
  /** Sum over turns. */
  latencyMs: number;
  /** TTFT of the first turn. */
  ttftMs?: number;
  tokens: number;
  cost: number;
  currency?: string;
  retries: number;
  status: RunStatus;
  startedAt: string;
}
