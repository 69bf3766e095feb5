/**
 * `on:` rules of a channel. A build matches a rule when:
 *   success | failure | unstable | aborted   it has that result
 *   fixed                                    it succeeded after a failed or unstable build (as Jenkins' `fixed`)
 *   changed                                  the live app changed: a deployed target changed, or a rollback went through
 *   always                                   every build
 */
import type { NotifyOn } from '../config/types.js';
import type { RunSummary } from './summary.js';

export function matchedRules(on: readonly NotifyOn[], s: Pick<RunSummary, 'status' | 'fixed' | 'changed'>): NotifyOn[] {
  return on.filter((rule) => {
    switch (rule) {
      case 'always':
        return true;
      case 'fixed':
        return s.fixed;
      case 'changed':
        return s.changed;
      default:
        return rule === s.status;
    }
  });
}

export function shouldSend(on: readonly NotifyOn[], s: Pick<RunSummary, 'status' | 'fixed' | 'changed'>): boolean {
  return matchedRules(on, s).length > 0;
}

/** The facts the rules look at, as words: `failure`, `success, fixed, changed`. */
export function describeFacts(s: Pick<RunSummary, 'status' | 'fixed' | 'changed'>): string {
  return [s.status, s.fixed && 'fixed', s.changed && 'changed'].filter(Boolean).join(', ');
}
