/**
 * What the statistics routes share (`controllers/console/app/statistic.py`, `workflow_statistic.py`): the
 * `start`/`end` query in the account's time zone (`libs/datetime_utils.py` `parse_time_range`), day grouping in that
 * zone, the `get_app_model(mode=…)` refusal, and Flask's `jsonify` body (compact, sorted keys).
 */
import { envelope, type HttpError, type Reply } from './http.js';
import { localDate, wallToUtc } from './tz.js';

/** `AppNotFoundError(f"App mode is not in the supported list: {mode_values}")` (a Python set; declared order here). */
export const modeNotSupported = (modes: string[]): HttpError =>
  envelope(404, 'app_not_found', `App mode is not in the supported list: {${modes.map((m) => `'${m}'`).join(', ')}}`);

const FORMAT = "'%Y-%m-%d %H:%M'";

/** Python `repr(str)` for the ASCII text of a query value. */
function pyRepr(s: string): string {
  const body = s.replace(/\\/g, '\\\\').replace(/[\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return s.includes("'") && !s.includes('"') ? `"${body}"` : `'${body.replace(/'/g, "\\'")}'`;
}
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** `datetime.strptime(v, '%Y-%m-%d %H:%M')` as a naive time (ms, read as UTC); throws Python's ValueError text. */
function strptime(v: string): number {
  const m = /^(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{1,2})$/.exec(v);
  const bad = `time data ${pyRepr(v)} does not match format ${FORMAT}`;
  if (!m) throw new Error(bad);
  const [y, mo, d, h, mi] = m.slice(1).map(Number) as [number, number, number, number, number];
  if (mo < 1 || mo > 12 || h > 23 || mi > 59 || d < 1 || d > 31) throw new Error(bad);
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  if (d > (mo === 2 && leap ? 29 : DAYS[mo - 1]!)) throw new Error('day is out of range for month');
  return Date.UTC(y, mo - 1, d, h, mi);
}

export interface TimeRange {
  /** UTC ms, inclusive; undefined = open. */
  startMs?: number;
  /** UTC ms, exclusive. */
  endMs?: number;
}

/** `parse_time_range(args.start, args.end, account.timezone)`; `abort(400, description)` on a bad value. */
export function timeRange(q: URLSearchParams, tz: string): TimeRange {
  const parse = (label: 'start' | 'end'): number | undefined => {
    const v = q.get(label);
    if (!v) return undefined; // absent or '' (empty_string_to_none)
    let naive: number;
    try {
      naive = strptime(v);
    } catch (e) {
      throw envelope(400, 'bad_request', `Invalid ${label} time format: ${(e as Error).message}`);
    }
    return wallToUtc(tz, naive);
  };
  const startMs = parse('start');
  const endMs = parse('end');
  if (startMs !== undefined && endMs !== undefined && startMs > endMs) throw envelope(400, 'bad_request', 'start must be earlier than or equal to end');
  return { startMs, endMs };
}

export const inRange = (r: TimeRange, sec: number): boolean =>
  (r.startMs === undefined || sec * 1000 >= r.startMs) && (r.endMs === undefined || sec * 1000 < r.endMs);

/** `GROUP BY date ORDER BY date`: rows per local day, oldest first; days without rows are absent. */
export function byDay<T>(rows: T[], tz: string, sec: (r: T) => number): [string, T[]][] {
  const days = new Map<string, T[]>();
  for (const r of rows) {
    const d = localDate(tz, sec(r) * 1000);
    const list = days.get(d);
    if (list) list.push(r);
    else days.set(d, [r]);
  }
  return [...days.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Flask `jsonify`: `json.dumps(…, separators=(",", ":"), sort_keys=True)` + newline. */
export function jsonify(body: unknown): Reply {
  const sorted = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sorted) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])])) : v;
  return { status: 200, body: `${JSON.stringify(sorted(body))}\n`, contentType: 'application/json' };
}
