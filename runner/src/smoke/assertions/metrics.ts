/** Assertions over how the call went: status, latency, time to first token, tokens, cost. */
import { ok, unknown, type AssertionDef } from './types.js';
import type { RunStatus } from '../types.js';

function limit(value: unknown, key: string): number {
  return typeof value === 'number' ? value : (value as Record<string, number>)[key]!;
}

export const status: AssertionDef = {
  run(value, obs) {
    const wanted = (Array.isArray(value) ? value : [value]) as RunStatus[];
    const pass = wanted.includes(obs.status);
    const detail = obs.error ? ` (${obs.error.code ? obs.error.code + ': ' : ''}${obs.error.message})` : '';
    return ok(pass, `status is ${obs.status}${pass ? '' : `, expected ${wanted.join(' or ')}`}${detail}`);
  },
};

export const latency: AssertionDef = {
  run(value, obs) {
    const max = limit(value, 'maxMs');
    const ms = Math.round(obs.latencyMs);
    return ok(ms <= max, `latency ${ms} ms ${ms <= max ? '≤' : '>'} ${max} ms`);
  },
};

export const ttft: AssertionDef = {
  run(value, obs) {
    if (obs.ttftMs === undefined) return unknown(`no time to first token (nothing streamed; response mode ${obs.responseMode})`);
    const max = limit(value, 'maxMs');
    const ms = Math.round(obs.ttftMs);
    return ok(ms <= max, `time to first token ${ms} ms ${ms <= max ? '≤' : '>'} ${max} ms`);
  },
};

export const tokens: AssertionDef = {
  run(value, obs) {
    const n = obs.usage.totalTokens;
    if (n === undefined) return unknown('no token usage reported');
    const { min, max } = typeof value === 'number' ? { min: undefined, max: value } : (value as { min?: number; max?: number });
    const pass = (min === undefined || n >= min) && (max === undefined || n <= max);
    const bounds = [min !== undefined ? `≥ ${min}` : '', max !== undefined ? `≤ ${max}` : ''].filter(Boolean).join(' and ');
    return ok(pass, `${n} tokens (${pass ? 'within' : 'not'} ${bounds})`);
  },
};

export const cost: AssertionDef = {
  run(value, obs) {
    if (obs.usage.totalPrice === undefined) return unknown('no price reported');
    const max = limit(value, 'max');
    const price = Number(obs.usage.totalPrice);
    const cur = obs.usage.currency ?? '';
    return ok(price <= max, `cost ${obs.usage.totalPrice} ${cur} ${price <= max ? '≤' : '>'} ${max}`.replace(/\s+/g, ' '));
  },
};
