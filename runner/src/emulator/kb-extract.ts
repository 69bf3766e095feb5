/**
 * Text extraction of knowledge uploads (`core/rag/extractor/*`): the emulator reads what a test can build —
 * UTF-8 text, Markdown (links reduced to their text), HTML (tags dropped), CSV (one `col: value;…` line per row),
 * DOCX/XLSX (the XML inside the zip), PDF (uncompressed `(text) Tj` operators) — and fails the document's indexing
 * with the extractor's kind of error where Dify's would (a PDF that is not one, a DOCX that is not a zip, bytes that
 * are not text).
 */
import { inflateRawSync } from 'node:zlib';
import { parse as parseCsv } from 'csv-parse/sync';

/** Dify's `DOCUMENT_EXTENSIONS` (ETL_TYPE=dify): what `source="datasets"` uploads accept. */
export const DOCUMENT_EXTENSIONS = ['txt', 'markdown', 'md', 'mdx', 'pdf', 'html', 'htm', 'xlsx', 'xls', 'docx', 'csv', 'vtt', 'properties'];

export interface Extracted {
  /** Pieces the splitter handles one by one (a CSV row each; else one). */
  pieces: string[];
  /** CSV rows as records (Q&A documents read question/answer columns from them). */
  rows?: Record<string, string>[];
  error?: string;
}

function decodeText(bytes: Buffer, name: string): string | { error: string } {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    return { error: `Decode failed: ${name}, all detected encodings failed.` };
  }
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', '#39': "'" };
function htmlText(html: string): string {
  return html
    .replace(/<(script|style)\b[\s\S]*?<\/\1>/gi, '')
    .replace(/<br\s*\/?>|<\/(p|div|li|h[1-6]|tr)>/gi, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&(#\d+|#39|[a-z]+);/gi, (m, e: string) => ENTITIES[e.toLowerCase()] ?? (e.startsWith('#') ? String.fromCodePoint(Number(e.slice(1))) : m))
    .replace(/[ \t]+\n/g, '\n');
}

/** The entries of a zip archive (stored or deflated), by name. */
function unzip(bytes: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let i = 0;
  while (i + 30 <= bytes.length && bytes.readUInt32LE(i) === 0x04034b50) {
    const method = bytes.readUInt16LE(i + 8);
    const size = bytes.readUInt32LE(i + 18);
    const nameLen = bytes.readUInt16LE(i + 26);
    const extraLen = bytes.readUInt16LE(i + 28);
    const name = bytes.subarray(i + 30, i + 30 + nameLen).toString('utf8');
    const start = i + 30 + nameLen + extraLen;
    const data = bytes.subarray(start, start + size);
    out.set(name, method === 8 ? inflateRawSync(data) : data);
    i = start + size;
  }
  return out;
}

function officeText(bytes: Buffer, ext: string): string {
  const files = unzip(bytes);
  const xml = (n: string): string => files.get(n)?.toString('utf8') ?? '';
  if (ext === 'docx') return htmlText(xml('word/document.xml').replace(/<\/w:p>/g, '</p>'));
  const strings = [...xml('xl/sharedStrings.xml').matchAll(/<t[^>]*>([^<]*)<\/t>/g)].map((m) => m[1]!);
  return htmlText(strings.join('\n'));
}

/** Text shown by `Tj`/`TJ` in uncompressed PDF content streams. */
function pdfText(bytes: Buffer): string {
  const s = bytes.toString('latin1');
  const parts = [...s.matchAll(/\(((?:\\.|[^\\)])*)\)\s*T[jJ']/g)].map((m) => m[1]!.replace(/\\([()\\])/g, '$1').replace(/\\n/g, '\n'));
  return parts.join('\n');
}

/** `CSVExtractor`: a document per row, `header: value` pairs joined by `;`. */
function csvRows(text: string): Record<string, string>[] {
  return parseCsv(text, { columns: (h: string[]) => h.map((x) => x.trim()), skip_empty_lines: true, relax_column_count: true, trim: true }) as Record<string, string>[];
}

export function extract(bytes: Buffer, name: string, ext: string): Extracted {
  if (ext === 'pdf') {
    if (!bytes.subarray(0, 5).equals(Buffer.from('%PDF-'))) return { pieces: [], error: 'Failed to load document (PDFium: Data format error).' };
    return { pieces: [pdfText(bytes)] };
  }
  if (ext === 'docx' || ext === 'xlsx') {
    if (bytes.readUInt32LE(0) !== 0x04034b50 || bytes.length < 30) return { pieces: [], error: 'File is not a zip file' };
    return { pieces: [officeText(bytes, ext)] };
  }
  if (ext === 'xls') {
    // Legacy binary Excel: printable runs stand in for xlrd's cells.
    return { pieces: [(bytes.toString('latin1').match(/[\x20-\x7e]{4,}/g) ?? []).join('\n')] };
  }
  const text = decodeText(bytes, name);
  if (typeof text !== 'string') return { pieces: [], error: text.error };
  if (/\x00/.test(text)) return { pieces: [], error: `Decode failed: ${name}, all detected encodings failed.` };
  if (ext === 'html' || ext === 'htm') return { pieces: [htmlText(text)] };
  if (ext === 'md' || ext === 'markdown' || ext === 'mdx') return { pieces: [text.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')] };
  if (ext === 'csv') {
    let rows: Record<string, string>[];
    try {
      rows = csvRows(text);
    } catch (e) {
      return { pieces: [], error: `Error reading CSV file: ${(e as Error).message}` };
    }
    return { pieces: rows.map((r) => Object.entries(r).map(([k, v]) => `${k}: ${v}`).join(';')), rows };
  }
  return { pieces: [text] };
}

/** Q&A rows of a CSV (or CSV-shaped text) with `question` and `answer` columns (any case); undefined otherwise. */
export function qaPairs(ex: Extracted, text: string): { content: string; answer: string }[] | undefined {
  let rows = ex.rows;
  if (!rows && /^\s*[^\n]*question[^\n]*,[^\n]*answer/i.test(text)) {
    try {
      rows = csvRows(text);
    } catch {
      return undefined;
    }
  }
  if (!rows?.length) return undefined;
  const key = (want: string): string | undefined => Object.keys(rows![0]!).find((k) => k.toLowerCase() === want);
  const q = key('question');
  const a = key('answer');
  if (!q || !a) return undefined;
  return rows.filter((r) => (r[q] ?? '').trim()).map((r) => ({ content: r[q]!.trim(), answer: (r[a] ?? '').trim() }));
}
