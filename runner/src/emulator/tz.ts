/**
 * Time zones as Dify's statistics use them (`libs/datetime_utils.py`, PostgreSQL `AT TIME ZONE`): the local date of
 * an instant, and the UTC instant of a local wall-clock time (zoneinfo semantics: an ambiguous time resolves to its
 * later instant, a time in a DST gap is shifted forward by the gap). Built on Intl (the ICU time-zone database).
 */
const formats = new Map<string, Intl.DateTimeFormat>();

function format(tz: string): Intl.DateTimeFormat {
  let f = formats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formats.set(tz, f);
  }
  return f;
}

/** An IANA name this machine knows (pytz's `all_timezones` in Dify). */
export function isTimezone(tz: unknown): tz is string {
  if (typeof tz !== 'string' || !tz) return false;
  try {
    format(tz);
    return true;
  } catch {
    return false;
  }
}

/** Local wall-clock fields of a UTC instant. */
function wall(tz: string, ms: number): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
  const p: Record<string, number> = {};
  for (const part of format(tz).formatToParts(new Date(ms))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return { y: p.year!, mo: p.month!, d: p.day!, h: p.hour!, mi: p.minute!, s: p.second! };
}

/** UTC offset in ms at an instant. */
function offsetAt(tz: string, ms: number): number {
  const w = wall(tz, ms);
  return Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s) - Math.floor(ms / 1000) * 1000;
}

/** `DATE(created_at AT TIME ZONE 'UTC' AT TIME ZONE tz)` as `YYYY-MM-DD`. */
export function localDate(tz: string, ms: number): string {
  const w = wall(tz, ms);
  return `${String(w.y).padStart(4, '0')}-${String(w.mo).padStart(2, '0')}-${String(w.d).padStart(2, '0')}`;
}

/** `localize_datetime(naive, ZoneInfo(tz)).astimezone(UTC)` in ms; `naiveMs` is the wall time read as UTC. */
export function wallToUtc(tz: string, naiveMs: number): number {
  const day = 86_400_000;
  const candidates = [...new Set([offsetAt(tz, naiveMs - day), offsetAt(tz, naiveMs + day), offsetAt(tz, naiveMs)])].map((o) => ({ t: naiveMs - o, o }));
  // A candidate is real when the zone has that offset at that instant; none real = a gap: zoneinfo takes the later.
  const real = candidates.filter((c) => offsetAt(tz, c.t) === c.o);
  return Math.max(...(real.length ? real : candidates).map((c) => c.t));
}
