/**
 * How a target (or a channel) that failed is written down, and what exit code a command with failed targets
 * ends with — one rule for single and fanned-out runs.
 */
import { categoryOf, errorMessage, ExitCode, exitCodeForCategory, type ErrorCategory, type ExitCodeValue } from '../core/errors.js';

export interface Failure {
  error: string;
  errorCategory: ErrorCategory;
}

/** The `error` and `errorCategory` of a target result, from what was thrown. */
export function failure(e: unknown): Failure {
  return { error: errorMessage(e), errorCategory: categoryOf(e) };
}

/**
 * The exit code of a command whose targets failed: the worst thing the user has to fix decides — usage, config or
 * input (2) before credentials (auth, 4) before everything else (1). It is core/errors.ts' category rule over
 * many failures: a fan-out where one tenant's login was refused exits 4, as a single deploy does.
 */
export function failureExit(categories: (string | undefined)[]): ExitCodeValue {
  const codes = new Set(categories.map(exitCodeForCategory));
  if (codes.has(ExitCode.USAGE)) return ExitCode.USAGE;
  if (codes.has(ExitCode.AUTH)) return ExitCode.AUTH;
  return ExitCode.FAILED;
}
