/**
 * Exit codes and error categories shared by every command. The numbers are part of the public contract
 * (README, Jenkins steps): never renumber.
 */
import { formatPosition, type SourcePosition } from '../yaml/source.js';

// Errors carry positions in user files; the type lives with the YAML reader that finds them.
export { formatPosition, type SourcePosition };

export const ExitCode = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  CHANGES: 3,
  AUTH: 4,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * usage/config/input → exit 2 (the caller must fix something); auth → exit 4; the rest → exit 1.
 * `dify` is an error answer from Dify that is not about credentials; `network` a transport failure.
 */
export type ErrorCategory =
  | 'usage'
  | 'config'
  | 'input'
  | 'auth'
  | 'operation'
  | 'dify'
  | 'network'
  | 'internal';

const EXIT_BY_CATEGORY: Record<ErrorCategory, ExitCodeValue> = {
  usage: ExitCode.USAGE,
  config: ExitCode.USAGE,
  input: ExitCode.USAGE,
  auth: ExitCode.AUTH,
  operation: ExitCode.FAILED,
  dify: ExitCode.FAILED,
  network: ExitCode.FAILED,
  internal: ExitCode.FAILED,
};

/** The one error type commands throw on purpose: it carries a category, hence an exit code. */
export class DifyCiError extends Error {
  readonly category: ErrorCategory;
  readonly position?: SourcePosition;
  /** Further lines shown under the message (e.g. every config error, not just the first). */
  readonly details: string[];
  /** Dify's own error code when the error came from Dify. */
  readonly difyCode?: string;
  readonly httpStatus?: number;

  constructor(
    message: string,
    category: ErrorCategory,
    opts: { position?: SourcePosition; details?: string[]; cause?: unknown; difyCode?: string; httpStatus?: number } = {},
  ) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'DifyCiError';
    this.category = category;
    this.position = opts.position;
    this.details = opts.details ?? [];
    this.difyCode = opts.difyCode;
    this.httpStatus = opts.httpStatus;
  }

  get exitCode(): ExitCodeValue {
    return EXIT_BY_CATEGORY[this.category];
  }

  /** One line: `file:line:col: message` when there is a position. */
  oneLine(): string {
    return this.position ? `${formatPosition(this.position)}: ${this.message}` : this.message;
  }
}

export const usageError = (msg: string, opts?: ConstructorParameters<typeof DifyCiError>[2]) =>
  new DifyCiError(msg, 'usage', opts);
export const configError = (msg: string, opts?: ConstructorParameters<typeof DifyCiError>[2]) =>
  new DifyCiError(msg, 'config', opts);
export const inputError = (msg: string, opts?: ConstructorParameters<typeof DifyCiError>[2]) =>
  new DifyCiError(msg, 'input', opts);
export const operationError = (msg: string, opts?: ConstructorParameters<typeof DifyCiError>[2]) =>
  new DifyCiError(msg, 'operation', opts);

/** What the user reads about an error: `file:line:col: message`, or for anything unplanned, a bug said so. */
export function errorMessage(err: unknown): string {
  return err instanceof DifyCiError ? err.oneLine() : `internal error: ${(err as Error)?.message ?? String(err)}`;
}

export function exitCodeFor(err: unknown): ExitCodeValue {
  return err instanceof DifyCiError ? err.exitCode : ExitCode.FAILED;
}

/** The exit code of a category as written in a result file (an unknown one is a failure: 1). */
export function exitCodeForCategory(category: string | undefined): ExitCodeValue {
  return (category !== undefined && Object.hasOwn(EXIT_BY_CATEGORY, category) ? EXIT_BY_CATEGORY[category as ErrorCategory] : undefined) ?? ExitCode.FAILED;
}

export function categoryOf(err: unknown): ErrorCategory {
  return err instanceof DifyCiError ? err.category : 'internal';
}
