/**
 * Judges one turn / one case from its observations. A call that did not succeed fails its turn unless the turn
 * asserts on `status` (then that assertion decides: `status: failed` is how a suite expects a failure).
 */
import { runAssertion, scoreOf } from './assertions/index.js';
import { addDecimals } from './decimal.js';
import type { AssertionSpec, Observation, TurnResult } from './types.js';

export function statusReason(o: Observation): string {
  const e = o.error;
  const detail = e ? `${e.code ? `${e.code}: ` : ''}${e.message}${e.httpStatus ? ` (HTTP ${e.httpStatus})` : ''}` : '';
  switch (o.status) {
    case 'succeeded':
      return 'succeeded';
    case 'timeout':
      return `timed out: ${detail}`;
    case 'incomplete':
      return `incomplete answer: ${detail}`;
    case 'error':
      return `error: ${detail}`;
    default: {
      const nodes = o.nodeFailures.map((n) => `'${n.title}'${n.error ? ` (${n.error})` : ''}`).join(', ');
      return `workflow ${o.status}${detail ? `: ${detail}` : ''}${nodes && !detail.includes(o.nodeFailures[0]!.title) ? `; failed node(s): ${nodes}` : ''}`;
    }
  }
}

export function judge(asserts: AssertionSpec[], obs: Observation, threshold?: number): { result: Omit<TurnResult, 'query'>; reasons: string[] } {
  const assertions = asserts.map((a) => runAssertion(a, obs));
  let { score, pass } = scoreOf(assertions, threshold);
  const reasons = pass ? [] : assertions.filter((r) => !r.pass && r.weight > 0).map((r) => `${r.label} — ${r.reason}`);
  if (threshold !== undefined && !pass) reasons.unshift(`score ${score.toFixed(2)} < threshold ${threshold}`);
  if (obs.status !== 'succeeded' && !asserts.some((a) => a.type === 'status')) {
    pass = false;
    score = 0;
    reasons.unshift(statusReason(obs));
  }
  return { result: { observation: obs, assertions, score, pass }, reasons };
}

/** The conversation as one observation for case-level assertions: last answer, summed latency, tokens and cost. */
export function combine(observations: Observation[]): Observation {
  const last = observations[observations.length - 1]!;
  const worst = observations.find((o) => o.status !== 'succeeded');
  const tokens = observations.map((o) => o.usage.totalTokens);
  return {
    ...last,
    status: worst?.status ?? last.status,
    error: worst?.error ?? last.error,
    latencyMs: observations.reduce((a, o) => a + o.latencyMs, 0),
    ttftMs: observations[0]!.ttftMs,
    usage: {
      totalTokens: tokens.every((t) => t === undefined) ? undefined : tokens.reduce<number>((a, t) => a + (t ?? 0), 0),
      totalPrice: observations.every((o) => o.usage.totalPrice === undefined) ? undefined : addDecimals(observations.map((o) => o.usage.totalPrice)),
      currency: last.usage.currency,
    },
    nodeFailures: observations.flatMap((o) => o.nodeFailures),
    retries: observations.reduce((a, o) => a + o.retries, 0),
    retryReasons: observations.flatMap((o) => o.retryReasons),
    notes: observations.flatMap((o) => o.notes),
    events: observations.reduce((a, o) => a + o.events, 0),
  };
}
