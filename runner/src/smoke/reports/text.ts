/** Text helpers shared by the reports: masking, excerpts, number formats, XML/HTML escaping. */
import { mask } from '../../core/mask.js';

/** XML 1.0 forbids most control characters and lone surrogates even when escaped. */
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Masks before escaping: once `&` is `&amp;`, a secret holding it no longer matches its registered forms. */
export function escapeXml(s: string): string {
  return mask(s)
    .replace(INVALID_XML, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export const escapeHtml = escapeXml;

/** Masked, and cut to `max` characters (by code point) with a marker. */
export function excerpt(text: string, max = 2000): string {
  const m = mask(text);
  const cps = [...m];
  return cps.length > max ? cps.slice(0, max).join('') + `… [${cps.length - max} more characters]` : m;
}

export function ms(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  return v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`;
}

export function pct(v: number): string {
  return `${(Math.round(v * 1000) / 10).toString()}%`;
}

export function money(total: string, currency: string | null | undefined): string {
  return total === '0' && !currency ? '—' : `${total}${currency ? ` ${currency}` : ''}`;
}
