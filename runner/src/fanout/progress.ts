/**
 * Progress for long fan-outs, one finished line per target — `[ 37/200] tenant-a/support-bot deployed v1a2b3c4d`
 * — so a Jenkins console log reads top to bottom. Never a carriage return or a spinner: a log file keeps every
 * byte, and redrawn lines turn into noise there. Colour only where core/log.ts allows it (TTY, FORCE_COLOR).
 * The final failure table goes to stdout (data) and is mirrored on stderr by the caller's summary.
 */
import { log, paint, type Colour } from '../core/log.js';
import type { TargetRow } from '../results/target.js';

const COLOUR: Record<string, Colour> = {
  deployed: 'green',
  'rolled-back': 'yellow',
  unchanged: 'gray',
  'dry-run': 'cyan',
  skipped: 'gray',
  passed: 'green',
  failed: 'red',
  refused: 'red',
};

export class Progress {
  private done = 0;
  private readonly width: number;

  constructor(
    private readonly total: number,
    private readonly write: (line: string) => void = (l) => log.info(l),
  ) {
    this.width = String(total).length;
  }

  /** One target finished: `[n/N] label status detail`. */
  target(label: string, status: string, detail?: string): void {
    this.done++;
    const count = `[${String(this.done).padStart(this.width)}/${this.total}]`;
    const shown = status === 'failed' || status === 'refused' ? status.toUpperCase() : status;
    this.write(`${count} ${label} ${paint(COLOUR[status] ?? 'bold', shown)}${detail ? ` ${detail}` : ''}`);
  }

  /** A line that is not a target (wave start, gate verdict). */
  note(line: string): void {
    this.write(line);
  }
}

/** A plain-text table (fixed columns, one row per line, reasons on one line and cut at 200 characters). */
export function formatTable(rows: TargetRow[], header: TargetRow = { target: 'TARGET', status: 'STATUS', reason: 'REASON' }): string {
  const clean = (s: string) => s.replace(/\s+/g, ' ').trim();
  const all = [header, ...rows.map((r) => ({ target: r.target, status: r.status, reason: cut(clean(r.reason), 200) }))];
  const w1 = Math.max(...all.map((r) => r.target.length));
  const w2 = Math.max(...all.map((r) => r.status.length));
  return all.map((r) => `${r.target.padEnd(w1)}  ${r.status.padEnd(w2)}  ${r.reason}`.trimEnd()).join('\n');
}

function cut(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}
