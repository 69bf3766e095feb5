/** The contract of an assertion type: a pure function of (value from the suite, what the call produced). */
import { mask } from '../../core/mask.js';
import type { AssertionOutcome, Observation } from '../types.js';

export interface Outcome extends AssertionOutcome {
  /** The data the assertion needs was not there (no TTFT, no outputs…): fails whether negated or not. */
  unknown?: boolean;
}

export interface AssertionDef {
  /** Problems with the value that the JSON schema cannot see (bad regex, bad JSON schema); checked at load time. */
  check?(value: unknown): string | undefined;
  run(value: unknown, obs: Observation): Outcome;
}

export const ok = (pass: boolean, reason: string, score = pass ? 1 : 0): Outcome => ({ pass, score, reason });
export const unknown = (reason: string): Outcome => ({ pass: false, score: 0, reason, unknown: true });

/** Short, single-line quote of a value for reasons; masked before it is cut, so no secret leaves a prefix behind. */
export function quote(v: unknown, max = 80): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  const one = mask(s ?? String(v)).replace(/\s+/g, ' ');
  return JSON.stringify(one.length > max ? one.slice(0, max - 1) + '…' : one);
}
