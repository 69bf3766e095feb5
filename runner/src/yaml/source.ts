/**
 * YAML (or JSON) documents that remember where every value came from, so that any error found later — by a
 * schema, a rule, a resolver — can name file:line:column. Shared by the config, smoke suites and tenant files.
 * Pure: text in, a document or a SourceError out. Reading files in the run's directory and giving errors their
 * category (hence an exit code) is core/source.ts.
 */
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, type Document, type Node } from 'yaml';
import { aliasProblem, lexerDepthProblem, textPosition } from './limits.js';
import { loadPyYaml, pyIssueMessage, type PyIssue } from './pyyaml-load.js';

/** Where in a user's file something is wrong. Lines and columns are 1-based. */
export interface SourcePosition {
  file: string;
  line?: number;
  column?: number;
  /** JSON path into the document, e.g. `environments.staging.auth.mode` */
  path?: string;
}

export function formatPosition(pos: SourcePosition): string {
  let s = pos.file;
  if (pos.line !== undefined) s += `:${pos.line}`;
  if (pos.line !== undefined && pos.column !== undefined) s += `:${pos.column}`;
  return s;
}

/** A file that cannot be read as YAML (or UTF-8), with the first problem's position and up to nine more. */
export class SourceError extends Error {
  constructor(
    message: string,
    readonly position: SourcePosition,
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = 'SourceError';
  }
}

export type PathSegment = string | number;

export interface SourceDoc {
  file: string;
  text: string;
  doc: Document.Parsed;
  lines: LineCounter;
  value: unknown;
}

/** '1.1' for Dify DSL (PyYAML safe_load, exactly: pyyaml-load.ts); '1.2' (default) for our own files. */
export type YamlVersion = '1.1' | '1.2';

/** UTF-8 text of a file's bytes (a BOM dropped); a bad byte is a SourceError at its line and column. */
export function decodeUtf8(buf: Buffer, file: string): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    // Find the first bad byte to point at it.
    let line = 1;
    let col = 1;
    for (let i = 0; i < buf.length; i++) {
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(0, i + 1));
      } catch {
        // An incomplete sequence at the end of the slice is not yet an error; look one char further.
        try {
          new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(0, Math.min(buf.length, i + 4)));
          continue;
        } catch {
          break;
        }
      }
      if (buf[i] === 0x0a) {
        line++;
        col = 1;
      } else if ((buf[i]! & 0xc0) !== 0x80) col++;
    }
    throw new SourceError('file is not valid UTF-8 (save it as UTF-8; Dify reads DSL as UTF-8)', { file, line, column: col });
  }
  // A BOM is legal YAML but confuses position reporting; CRLF is fine for the parser.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return text;
}

export function parseSource(file: string, text: string, version: YamlVersion = '1.2'): SourceDoc {
  if (version === '1.1') return parsePyYaml(file, text);
  const lines = new LineCounter();
  const deep = lexerDepthProblem(text); // before the recursive composer can overflow the stack
  if (deep) {
    const at = textPosition(text, deep.offset);
    throw new SourceError(deep.message, { file, line: at.line, column: at.column });
  }
  const doc = parseDocument(text, {
    lineCounter: lines,
    version: '1.2',
    merge: true, // `<<: *defaults` in hand-written config and tenant files, as in docker-compose
    uniqueKeys: true,
    prettyErrors: false,
    strict: true,
  });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const pos = lines.linePos(first.pos[0]);
    const details = doc.errors.slice(1, 10).map((e) => {
      const p = lines.linePos(e.pos[0]);
      return `${file}:${p.line}:${p.col}: ${cleanYamlMessage(e.message)}`;
    });
    throw new SourceError(cleanYamlMessage(first.message), { file, line: pos.line, column: pos.col }, details);
  }
  // The library's own alias counter refuses a tenant file where 101 rows merge one `<<: *defaults`: measure what
  // aliases expand to instead (billion-laughs files are still refused, at the alias that crosses the limit).
  const limit = aliasProblem(doc);
  if (limit) {
    const p = lines.linePos(limit.offset);
    throw new SourceError(limit.message, { file, line: p.line, column: p.col });
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: -1 }); // bounded by aliasProblem above
  } catch (e) {
    throw new SourceError(`cannot load YAML: ${(e as Error).message}`, { file });
  }
  return { file, text, doc, lines, value };
}

/**
 * Dify DSL: read as PyYAML's safe_load reads it (pyyaml-load.ts). Anything safe_load refuses, anything Dify cannot
 * store (dates, big integers) and duplicate keys stop here with file:line:column — the deploy engine never sends a
 * file that means something else to Dify.
 */
function parsePyYaml(file: string, text: string): SourceDoc {
  const loaded = loadPyYaml(text, { duplicateKeys: true });
  const problems = loaded.issues;
  if (problems.length > 0) {
    const where = (i: PyIssue) => loaded.lines.linePos(i.offset);
    const first = problems[0]!;
    const pos = where(first);
    const details = problems.slice(1, 10).map((i) => `${file}:${where(i).line}:${where(i).col}: ${pyIssueMessage(i)}`);
    throw new SourceError(pyIssueMessage(first), { file, line: pos.line, column: pos.col }, details);
  }
  return { file, text, doc: loaded.doc, lines: loaded.lines, value: loaded.value };
}

function cleanYamlMessage(msg: string): string {
  // The yaml package appends "at line X, column Y" and a code frame; we print our own position.
  return msg.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

/** Converts a JSON pointer (`/a/b/0`) into path segments. */
export function pointerToPath(pointer: string): PathSegment[] {
  if (!pointer) return [];
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

export function pathToString(path: PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out || '(root)';
}

/**
 * Position of the value at `path`, or of its key when `key` is true (for "unknown key" errors). Falls back to the
 * deepest ancestor that exists, so a missing key points at the map that should hold it.
 */
export function positionOf(src: SourceDoc, path: PathSegment[], opts: { key?: boolean } = {}): SourcePosition {
  let node: unknown = src.doc.contents;
  let keyNode: unknown = null;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      keyNode = pair.key;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number' && node.items[seg] !== undefined) {
      keyNode = null;
      node = node.items[seg];
    } else break;
  }
  const target = (opts.key && keyNode ? keyNode : node ?? keyNode) as Node | null;
  const offset = target && 'range' in target && target.range ? target.range[0] : 0;
  const lp = src.lines.linePos(offset);
  return { file: src.file, line: lp.line, column: lp.col, path: pathToString(path) };
}
