/**
 * One gate per Dify server and run: a concurrency limit every client shares (the fan-out relies on it) and a
 * "not before" time, so one 429 slows every request to that server.
 */
import pLimit, { type LimitFunction } from 'p-limit';
import { currentScope } from '../core/run.js';

/** Per-server state shared by every client of a run (the fan-out relies on it). */
export interface HostGate {
  origin: string;
  /** Epoch ms before which no request may start. */
  notBefore: number;
  limit: LimitFunction;
}

const GATES = Symbol('dify-ci.hostGates');

/** The host gates of the current run (core/run.ts): another run in the same process has its own. */
function gates(): Map<string, HostGate> {
  return currentScope().slot(GATES, () => new Map<string, HostGate>());
}

export function hostGate(origin: string, concurrency = 8): HostGate {
  const all = gates();
  let g = all.get(origin);
  if (!g) {
    g = { origin, notBefore: 0, limit: pLimit(Math.max(1, concurrency)) };
    all.set(origin, g);
  }
  return g;
}

/** Holds every request to `origin` until `until` (epoch ms). */
export function backoffHost(origin: string, until: number): void {
  const g = hostGate(origin);
  if (until > g.notBefore) g.notBefore = until;
}

/** For tests: forget the host gates (of the code outside any run). */
export function resetHostGates(): void {
  currentScope().drop(GATES);
}
