/**
 * Server-sent events as Dify frames them: `data: <json>\n\n` per event, a bare `event: ping\n\n` after an idle
 * interval (10 s in Dify), errors after HTTP 200. Delays use timers only.
 */
import type { ServerResponse } from 'node:http';
import { pyDumps } from './pyjson.js';

export interface SseOptions {
  pingIntervalMs: number;
  /** Delay before each event after the first (fault `slowSseMs`). */
  slowMs?: number;
  style: 'python' | 'compact';
  /** Fault `truncate`: the socket is destroyed after this many events. */
  destroyAfter?: number;
  /** Fault `malformed`: the first event's payload is cut so it is not JSON. */
  malformed?: boolean;
}

export const sleep = (ms: number): Promise<void> => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

export class SseStream {
  private pingTimer?: NodeJS.Timeout;
  private sent = 0;
  closed = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly opts: SseOptions,
  ) {
    res.on('close', () => {
      this.closed = true;
      this.stopPing();
    });
  }

  start(): void {
    this.res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
      'X-Accel-Buffering': 'no',
    });
    // Headers go out at once so clients see the 200 before the model's first token.
    this.res.flushHeaders();
    this.armPing();
  }

  private armPing(): void {
    this.stopPing();
    if (this.closed || this.opts.pingIntervalMs <= 0) return;
    this.pingTimer = setTimeout(() => {
      if (this.closed) return;
      this.res.write('event: ping\n\n');
      this.armPing();
    }, this.opts.pingIntervalMs);
    this.pingTimer.unref?.();
  }

  private stopPing(): void {
    if (this.pingTimer) clearTimeout(this.pingTimer);
    this.pingTimer = undefined;
  }

  async send(event: Record<string, unknown>): Promise<void> {
    if (this.closed) return;
    if (this.sent > 0 && this.opts.slowMs) await sleep(this.opts.slowMs);
    if (this.closed) return;
    let payload = this.opts.style === 'compact' ? JSON.stringify(event) : pyDumps(event);
    if (this.opts.malformed && this.sent === 0) payload = payload.slice(0, Math.max(1, Math.floor(payload.length / 2)));
    this.res.write(`data: ${payload}\n\n`);
    this.sent++;
    if (this.opts.destroyAfter !== undefined && this.sent >= this.opts.destroyAfter) {
      this.destroy();
      return;
    }
    this.armPing();
  }

  /** Model latency: nothing is written meanwhile, so pings appear when it exceeds the ping interval. */
  async stall(ms: number): Promise<void> {
    await sleep(ms);
  }

  end(): void {
    this.stopPing();
    if (!this.closed) this.res.end();
    this.closed = true;
  }

  destroy(): void {
    this.stopPing();
    this.closed = true;
    this.res.destroy();
  }
}
