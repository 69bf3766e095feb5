/**
 * Reads a Dify DSL file the way Dify does (PyYAML `safe_load`, YAML 1.1, exactly: yaml/pyyaml-load.ts) and keeps
 * the source positions, so every later finding — a rule, the deploy engine, the emulator — can name
 * file:line:column. Never throws for bad content: problems become findings (DSL001–DSL005) so one broken file
 * does not hide the others.
 */
import { readFileSync, statSync } from 'node:fs';
import { DifyCiError } from '../core/errors.js';
import { positionOf, pathToString, type PathSegment, type SourceDoc } from '../yaml/source.js';
import { displayPath } from '../core/source.js';
import { loadPyYaml, pyIssueMessage } from '../yaml/pyyaml-load.js';
import { pyyamlTags } from '../yaml/pyyaml-scalars.js';
import type { Finding, ParsedDsl, Severity } from './types.js';
import { MAX_ALIAS_EXPANSION, MAX_DSL_DEPTH, firstNonPrintable, textPosition } from '../yaml/limits.js';

export { pyyamlTags };

export { MAX_ALIAS_EXPANSION, MAX_DSL_DEPTH };

/** Dify refuses DSL fetched from a URL above 10 MB; we apply it to every file so CI fails before Dify does. */
export const MAX_DSL_BYTES = 10 * 1024 * 1024;

export interface ParseDslOptions {
  /** The name used in findings; default: the path as given, relative to the working directory when inside it. */
  name?: string;
  /** Hint from the file extension; content starting with `{` is treated as JSON anyway. */
  json?: boolean;
}

const SEVERITY: Record<string, Severity> = { DSL001: 'error', DSL002: 'warning', DSL003: 'warning', DSL004: 'info', DSL005: 'error' };

function finding(ruleId: string, message: string, file: string, line: number, column: number, path: PathSegment[] = []): Finding {
  return { ruleId, severity: SEVERITY[ruleId]!, message, file, line, column, path: pathToString(path) };
}

function failed(file: string, findings: Finding[], doc: SourceDoc | null = null, format: ParsedDsl['format'] = 'yaml'): ParsedDsl {
  return { file, format, doc, value: undefined, findings };
}

/** Reads and parses a DSL file. I/O problems (missing file, directory) throw: they are usage errors, not findings. */
export function parseDslFile(path: string, opts: ParseDslOptions = {}): ParsedDsl {
  const file = opts.name ?? displayPath(path);
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new DifyCiError(`cannot read ${file}: is a directory`, 'usage', { position: { file } });
    size = st.size;
  } catch (e) {
    if (e instanceof DifyCiError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new DifyCiError(`cannot read ${file}: ${code === 'ENOENT' ? 'file not found' : (e as Error).message}`, 'usage', { position: { file } });
  }
  if (size > MAX_DSL_BYTES) {
    return failed(file, [finding('DSL001', `file is ${(size / 1048576).toFixed(1)} MB; Dify refuses DSL above 10 MB ("File size exceeds the limit of 10MB")`, file, 1, 1)]);
  }
  return parseDslBuffer(readFileSync(path), { ...opts, name: file, json: opts.json ?? /\.json$/i.test(path) });
}

/** Offset of the first byte that is not part of valid UTF-8, or -1. Linear, unlike decoding ever longer prefixes. */
export function firstInvalidUtf8(buf: Uint8Array): number {
  let i = 0;
  const n = buf.length;
  while (i < n) {
    const b = buf[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) (need = 1), (min = 0x80);
    else if (b >= 0xe0 && b <= 0xef) (need = 2), (min = 0x800);
    else if (b >= 0xf0 && b <= 0xf4) (need = 3), (min = 0x10000);
    else return i;
    if (i + need >= n) return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = buf[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

function lineColAt(buf: Uint8Array, offset: number): { line: number; column: number } {
  let line = 1;
  let column = 1;
  for (let i = 0; i < offset; i++) {
    const b = buf[i]!;
    if (b === 0x0a) (line++, (column = 1));
    else if ((b & 0xc0) !== 0x80) column++;
  }
  return { line, column };
}

export function parseDslBuffer(buf: Uint8Array, opts: ParseDslOptions & { name: string }): ParsedDsl {
  const file = opts.name;
  if (buf.length > MAX_DSL_BYTES) {
    return failed(file, [finding('DSL001', `content is ${(buf.length / 1048576).toFixed(1)} MB; Dify refuses DSL above 10 MB`, file, 1, 1)]);
  }
  const pre: Finding[] = [];
  let start = 0;
  if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
    start = 3;
    pre.push(finding('DSL004', 'file starts with a UTF-8 byte-order mark; Dify ignores it, but some tools do not (save as UTF-8 without BOM)', file, 1, 1));
  } else if ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff)) {
    return failed(file, [finding('DSL001', 'file is UTF-16 (it starts with a UTF-16 byte-order mark); save it as UTF-8', file, 1, 1)]);
  }
  const body = start ? buf.subarray(start) : buf;
  const bad = firstInvalidUtf8(body);
  if (bad >= 0) {
    const at = lineColAt(body, bad);
    const byte = body[bad]!.toString(16).padStart(2, '0');
    return failed(file, [
      finding('DSL001', `file is not valid UTF-8 (byte 0x${byte}); save it as UTF-8 — Dify reads DSL as UTF-8`, file, at.line, at.column),
    ]);
  }
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  const parsed = parseDslText(text, opts);
  parsed.findings.unshift(...pre);
  return parsed;
}

/** Parses DSL text (YAML 1.1, JSON, or the export wrapper `{"data": "<yaml>"}`). */
export function parseDslText(text: string, opts: ParseDslOptions & { name: string }): ParsedDsl {
  const file = opts.name;
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const json = Boolean(opts.json) || /^\s*\{/.test(text);
  const findings: Finding[] = [];
  const crlf = text.indexOf('\r\n');
  if (crlf >= 0) {
    const lf = text.indexOf('\n');
    const mixed = /(^|[^\r])\n/.test(text);
    findings.push(
      finding(
        'DSL004',
        mixed ? 'file mixes CRLF and LF line endings; Dify accepts both, but diffs will be noisy' : 'file uses CRLF (Windows) line endings; Dify accepts them',
        file,
        text.slice(0, lf).split('\n').length,
        1,
      ),
    );
  }
  const np = firstNonPrintable(text);
  if (np) {
    const at = textPosition(text, np.offset);
    findings.push(finding('DSL001', np.message, file, at.line, at.column));
    return failed(file, findings);
  }
  if (text.trim() === '') {
    findings.push(finding('DSL001', 'file is empty (Dify: "yaml_content is required")', file, 1, 1));
    return failed(file, findings);
  }
  const { src, ok } = loadYaml(text, file, findings);
  if (!ok) return failed(file, findings, src, json ? 'json' : 'yaml');
  const value = src.value;
  const base: ParsedDsl = { file, format: json ? 'json' : 'yaml', doc: src, value, findings };
  const wrapped = unwrapExport(value);
  if (wrapped !== null) {
    const at = positionOf(src, ['data'], { key: true });
    findings.push(
      finding('DSL003', 'export wrapper {"data": "<yaml>"} unwrapped: commit the YAML itself (positions below are inside "data")', file, at.line!, at.column!, ['data']),
    );
    const inner = parseDslText(wrapped, { name: file });
    const dataPos = positionOf(src, ['data']);
    for (const f of inner.findings) {
      findings.push({ ...f, line: dataPos.line!, column: dataPos.column!, embedded: { line: f.line, column: f.column } });
    }
    return { ...inner, format: 'wrapper', outer: src, findings };
  }
  return describe(base);
}

function describe(p: ParsedDsl): ParsedDsl {
  const v = p.value;
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const rec = v as Record<string, unknown>;
    const app = rec.app as Record<string, unknown> | undefined;
    if (app && typeof app === 'object' && typeof app.mode === 'string') p.mode = app.mode;
    if ('version' in rec) p.version = rec.version;
  }
  return p;
}

/** The embedded YAML when `value` is an export wrapper, else null. */
export function unwrapExport(value: unknown): string | null {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return null;
  const rec = value as Record<string, unknown>;
  if (typeof rec.data !== 'string') return null;
  if ('app' in rec || 'workflow' in rec || 'model_config' in rec || 'version' in rec || 'kind' in rec) return null;
  return rec.data;
}

/**
 * One read, exactly as PyYAML's safe_load (yaml/pyyaml-load.ts): the Document (for positions) and the value.
 * Duplicate keys become DSL002, values Dify cannot store DSL005, everything that stops the load DSL001.
 */
function loadYaml(text: string, file: string, findings: Finding[]): { src: SourceDoc; ok: boolean } {
  const loaded = loadPyYaml(text, { duplicateKeys: true });
  const { doc, lines } = loaded;
  let dsl001 = 0;
  for (const issue of loaded.issues) {
    const lp = lines.linePos(issue.offset);
    if (issue.kind === 'duplicate-key') {
      const key = loaded.parsed.slice(issue.offset, issue.offset + 80).split(/:(?:\s|$)|\n/)[0]!.trim();
      findings.push(finding('DSL002', `duplicate key ${key ? `'${key}' ` : ''}(Dify keeps only the last one; the earlier value is silently lost)`, file, lp.line, lp.col));
    } else if (issue.kind === 'unstorable') {
      findings.push(finding('DSL005', issue.message, file, lp.line, lp.col, issue.path));
    } else if (dsl001++ < 10) {
      findings.push(finding('DSL001', pyIssueMessage(issue), file, lp.line, lp.col));
    }
  }
  return { src: { file, text, doc, lines, value: loaded.ok ? loaded.value : undefined }, ok: loaded.ok };
}
