/**
 * Cleaning and splitting (`core/rag/cleaner`, `core/rag/splitter`): the process rule's pre-processing, then
 * `automatic` = recursive splitting that merges pieces up to 500 tokens (50 overlap), `custom`/`hierarchical` = the
 * fixed separator first (no merging), pieces over `max_tokens` split recursively. Token lengths are the emulator's
 * model tokens (characters / 4).
 */
import { AUTOMATIC_RULES } from './kb-model.js';
import { countTokens } from './model.js';
import { isObject } from './util.js';

export interface SplitRule {
  separator: string | null;
  maxTokens: number;
  overlap: number;
  removeExtraSpaces: boolean;
  removeUrlsEmails: boolean;
}

const RECURSIVE = ['\n\n', '。', '. ', ' ', ''];

/** The effective splitting rule of a process rule (`mode` + `rules`). */
export function splitRule(mode: string, rules: Record<string, unknown> | null): SplitRule {
  const r: Record<string, unknown> = mode === 'automatic' || !rules ? AUTOMATIC_RULES : rules;
  const seg = (mode === 'hierarchical' && r.parent_mode === 'full-doc' ? null : r.segmentation) as Record<string, unknown> | null | undefined;
  const pre = Array.isArray(r.pre_processing_rules) ? r.pre_processing_rules.filter(isObject) : [];
  const on = (id: string): boolean => pre.some((p) => p.id === id && p.enabled === true);
  return {
    // Dify unescapes the separator a client sends JSON-escaped ("\\n\\n").
    separator: mode === 'automatic' ? null : seg ? String(seg.separator ?? '\n').replace(/\\n/g, '\n') : null,
    maxTokens: mode === 'hierarchical' && !seg ? Number.MAX_SAFE_INTEGER : Number(seg?.max_tokens ?? 500),
    overlap: Number(seg?.chunk_overlap ?? 0),
    removeExtraSpaces: on('remove_extra_spaces'),
    removeUrlsEmails: on('remove_urls_emails'),
  };
}

/** `CleanProcessor.clean`. */
export function clean(text: string, rule: SplitRule): string {
  let t = text.replace(/<\|/g, '<').replace(/\|>/g, '>').replace(/[\x00-\x08\x0B\x0C\x0E-\x1F\x7F\uFFFE]/g, '');
  if (rule.removeExtraSpaces) t = t.replace(/\n{3,}/g, '\n\n').replace(/[\t\f\r\x20\u00a0\u1680\u180e\u2000-\u200a\u202f\u205f\u3000]{2,}/g, ' ');
  if (rule.removeUrlsEmails) t = t.replace(/[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+/g, '').replace(/https?:\/\/[^\s]+/g, '');
  return t;
}

/** LangChain's `_merge_splits`: join pieces while they fit, keep `overlap` tokens of the tail for the next chunk. */
function merge(pieces: string[], sep: string, max: number, overlap: number): string[] {
  const out: string[] = [];
  let cur: string[] = [];
  let total = 0;
  const sepLen = countTokens(sep || 'x') * (sep ? 1 : 0);
  for (const p of pieces) {
    const len = countTokens(p);
    if (cur.length > 0 && total + len + sepLen > max) {
      out.push(cur.join(sep));
      while (cur.length > 0 && (total > overlap || total + len + sepLen > max)) {
        total -= countTokens(cur[0]!) + (cur.length > 1 ? sepLen : 0);
        cur.shift();
      }
    }
    cur.push(p);
    total += len + (cur.length > 1 ? sepLen : 0);
  }
  if (cur.length > 0) out.push(cur.join(sep));
  return out;
}

/** `RecursiveCharacterTextSplitter._split_text`. */
function recursive(text: string, seps: string[], max: number, overlap: number): string[] {
  const i = seps.findIndex((s) => s === '' || text.includes(s));
  const sep = seps[i] ?? '';
  const rest = seps.slice(i + 1);
  const splits = (sep ? text.split(sep) : [...text]).filter((s) => s !== '');
  const out: string[] = [];
  let good: string[] = [];
  for (const s of splits) {
    if (countTokens(s) <= max) good.push(s);
    else {
      if (good.length) out.push(...merge(good, sep, max, overlap));
      good = [];
      out.push(...(rest.length ? recursive(s, rest, max, overlap) : [s]));
    }
  }
  if (good.length) out.push(...merge(good, sep, max, overlap));
  return out;
}

/** Chunks of one extracted piece, trimmed, empty ones dropped. */
export function split(text: string, rule: SplitRule): string[] {
  const cleaned = clean(text, rule);
  let chunks: string[];
  if (rule.separator === null) chunks = recursive(cleaned, RECURSIVE, rule.maxTokens, rule.overlap);
  else {
    chunks = [];
    for (const c of rule.separator ? cleaned.split(rule.separator) : [cleaned]) {
      chunks.push(...(countTokens(c) > rule.maxTokens ? recursive(c, RECURSIVE, rule.maxTokens, rule.overlap) : [c]));
    }
  }
  return chunks.map((c) => c.trim()).filter(Boolean);
}
