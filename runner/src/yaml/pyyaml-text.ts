/**
 * Where PyYAML's scanner (yaml/scanner.py) reads the characters of a file differently from the `yaml` package,
 * which follows YAML 1.2:
 *
 * - quoted scalars: PyYAML ignores indentation inside quotes (a continuation line may start at column 0) and has
 *   its own folding of NEL/LS/PS line breaks: {@link scanQuoted} is a port, {@link repairIndentation} indents
 *   such lines (and those of flow collections, where PyYAML has no indentation rule either) so the `yaml` package
 *   tokenises the file as PyYAML does;
 * - tabs: PyYAML refuses a tab anywhere outside quotes, comments and block-scalar content ("found character '\t'
 *   that cannot start any token"), even after a value (`a: b<TAB>`);
 * - U+2028/U+2029 are line breaks for PyYAML, plain text for YAML 1.2: accepted inside quotes (where this reader
 *   follows PyYAML exactly), refused elsewhere; NEL (U+0085) and a lone CR are plain line breaks for both once
 *   {@link normaliseBreaks} has turned them into LF.
 */
import { Lexer, type CST } from 'yaml';

export interface TextProblem {
  offset: number;
  message: string;
  /** PyYAML reads it (as something else than YAML 1.2 tools do); refused by us so that no reader is misled. */
  ambiguous?: boolean;
}

const BREAKS = '\r\n\x85\u2028\u2029';
const ESCAPES: Record<string, string> = {
  '0': '\0',
  a: '\x07',
  b: '\x08',
  t: '\x09',
  '\t': '\x09',
  n: '\x0A',
  v: '\x0B',
  f: '\x0C',
  r: '\x0D',
  e: '\x1B',
  ' ': ' ',
  '"': '"',
  '\\': '\\',
  '/': '/',
  N: '\x85',
  _: '\xA0',
  L: '\u2028',
  P: '\u2029',
};
const CODES: Record<string, number> = { x: 2, u: 4, U: 8 };

/** NEL and a lone CR are line breaks to PyYAML exactly like LF: same length, so offsets do not move. */
export function normaliseBreaks(text: string): string {
  return /[\x85\r]/.test(text) ? text.replace(/\x85|\r(?!\n)/g, '\n') : text;
}

class ScanError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

/**
 * PyYAML's `scan_flow_scalar` from the quote at `start`: the value and the offset after the closing quote, or the
 * error PyYAML raises (with its offset).
 */
export function scanQuoted(text: string, start: number): { end: number; value: string } | { error: string; at: number } {
  const quote = text[start];
  const double = quote === '"';
  let i = start + 1;
  const out: string[] = [];
  const peek = (k = 0) => (i + k < text.length ? text[i + k]! : '\0');
  const isBreak = (ch: string) => ch !== '\0' && BREAKS.includes(ch);
  const lineBreak = (): string => {
    const ch = peek();
    if (ch === '\r' && peek(1) === '\n') return (i += 2), '\n';
    if (ch === '\r' || ch === '\n' || ch === '\x85') return (i += 1), '\n';
    if (ch === '\u2028' || ch === '\u2029') return (i += 1), ch;
    return '';
  };
  const breaks = (): string[] => {
    const got: string[] = [];
    for (;;) {
      const prefix = text.slice(i, i + 3);
      if ((prefix === '---' || prefix === '...') && '\0 \t\r\n\x85\u2028\u2029'.includes(peek(3))) {
        throw new ScanError(`while scanning a quoted scalar: found unexpected document separator`, i);
      }
      while (peek() === ' ' || peek() === '\t') i++;
      if (isBreak(peek())) got.push(lineBreak());
      else return got;
    }
  };
  const nonSpaces = (): void => {
    for (;;) {
      let j = i;
      while (j < text.length && !`'"\\ \t${BREAKS}`.includes(text[j]!)) j++;
      if (j > i) out.push(text.slice(i, j));
      i = j;
      const ch = peek();
      if (!double && ch === "'" && peek(1) === "'") {
        out.push("'");
        i += 2;
      } else if ((double && ch === "'") || (!double && (ch === '"' || ch === '\\'))) {
        out.push(ch);
        i++;
      } else if (double && ch === '\\') {
        i++;
        const esc = peek();
        if (esc in ESCAPES && esc !== '\0') {
          out.push(ESCAPES[esc]!);
          i++;
        } else if (esc in CODES) {
          const len = CODES[esc]!;
          i++;
          const hex = text.slice(i, i + len);
          if (!new RegExp(`^[0-9A-Fa-f]{${len}}$`).test(hex)) {
            const bad = [...hex].find((c) => !/[0-9A-Fa-f]/.test(c)) ?? '\0';
            throw new ScanError(`while scanning a double-quoted scalar: expected escape sequence of ${len} hexadecimal numbers, but found ${JSON.stringify(bad)}`, i);
          }
          const code = parseInt(hex, 16);
          if (code > 0x10ffff) throw new ScanError('chr() arg not in range(0x110000)', i);
          out.push(String.fromCodePoint(code));
          i += len;
        } else if (isBreak(esc)) {
          lineBreak();
          out.push(...breaks());
        } else {
          throw new ScanError(`while scanning a double-quoted scalar: found unknown escape character ${JSON.stringify(esc)}`, i);
        }
      } else return;
    }
  };
  const spaces = (): void => {
    let j = i;
    while (text[j] === ' ' || text[j] === '\t') j++;
    const ws = text.slice(i, j);
    i = j;
    const ch = peek();
    if (i >= text.length) throw new ScanError('while scanning a quoted scalar: found unexpected end of stream', i);
    if (isBreak(ch)) {
      const first = lineBreak();
      const more = breaks();
      if (first !== '\n') out.push(first);
      else if (more.length === 0) out.push(' ');
      out.push(...more);
    } else out.push(ws);
  };
  try {
    nonSpaces();
    while (peek() !== quote || i >= text.length) {
      spaces();
      nonSpaces();
    }
    return { end: i + 1, value: out.join('') };
  } catch (e) {
    if (e instanceof ScanError) return { error: e.message, at: e.at };
    throw e;
  }
}

/**
 * Where a flow collection (`[` or `{` at `start`) ends for PyYAML: the offset after its closing bracket, or -1.
 * Inside it indentation means nothing to PyYAML; quoted scalars are skipped with {@link scanQuoted}, comments to
 * the end of the line.
 */
export function scanFlow(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '[' || ch === '{') depth++;
    else if (ch === ']' || ch === '}') {
      if (--depth === 0) return i + 1;
    } else if (ch === '#' && /[ \t\n]/.test(text[i - 1] ?? '')) {
      const eol = text.indexOf('\n', i);
      if (eol < 0) return -1;
      i = eol;
    } else if ((ch === "'" || ch === '"') && /[ \t\n[{,]/.test(text[i - 1] ?? '')) {
      const q = scanQuoted(text, i);
      if ('error' in q) return -1;
      i = q.end - 1;
    }
  }
  return -1;
}

/**
 * Indents the lines inside quoted scalars and flow collections that PyYAML accepts and the `yaml` package does
 * not (less indented than the block they sit in), up to the column of the opening quote or bracket. PyYAML drops
 * leading whitespace there, so values do not change; line numbers do not either.
 */
export function repairIndentation(text: string, maxRepairs = 1000): string {
  let from = 0;
  for (let n = 0; n < maxRepairs; n++) {
    const at = firstUnderIndented(text, from);
    if (!at) break;
    const { start, end } = at;
    const column = start - (text.lastIndexOf('\n', start - 1) + 1);
    const parts = [text.slice(0, start)];
    let last = start;
    let added = 0;
    for (const m of text.slice(start, end).matchAll(/\n([ \t]*)(?=[^ \t\r\n])/g)) {
      const indent = m[1]!.length;
      if (indent >= column) continue;
      const pos = start + m.index + 1;
      parts.push(text.slice(last, pos), ' '.repeat(column - indent));
      added += column - indent;
      last = pos;
    }
    text = parts.join('') + text.slice(last);
    from = end + added;
  }
  return text;
}

/** The first outermost quoted scalar or flow collection (at or after `from`) with a line PyYAML accepts and the lexer does not. */
function firstUnderIndented(text: string, from: number): { start: number; end: number } | null {
  let offset = 0;
  let prev = '';
  let flow = 0;
  for (const tok of new Lexer().lex(text)) {
    const zeroWidth = tok.length === 1 && (tok === '\u0002' || tok === '\u0018' || tok === '\u001f');
    if (!zeroWidth && offset >= from && flow === 0) {
      let end = -1;
      // A quoted scalar is one token; plain and block-scalar text follow the SCALAR marker and may start with a quote.
      if ((tok[0] === "'" || tok[0] === '"') && prev !== '\u001f') {
        const scan = scanQuoted(text, offset);
        if ('end' in scan && scan.end > offset + tok.length) end = scan.end;
      } else if (tok === '[' || tok === '{') {
        const close = scanFlow(text, offset);
        const column = offset - (text.lastIndexOf('\n', offset - 1) + 1);
        const short = close > 0 && [...text.slice(offset, close).matchAll(/\n([ \t]*)(?=[^ \t\r\n])/g)].some((m) => m[1]!.length < column);
        if (short) end = close;
      }
      if (end > 0) return { start: offset, end };
    }
    if (tok === '[' || tok === '{') flow++;
    else if ((tok === ']' || tok === '}' || tok === '\u0018') && flow > 0) flow--;
    if (!zeroWidth) offset += tok.length;
    prev = tok;
  }
  return null;
}

// ---- lexical refusals, on the CST ----

type Leaf = { type: string; offset: number; source: string; props?: Leaf[] };

/** Every token with source text (in no particular order; the caller keeps the first problem by offset). */
function leaves(tokens: CST.Token[], visit: (leaf: Leaf) => void): void {
  const stack: unknown[] = [...tokens];
  while (stack.length) {
    const t = stack.pop() as Record<string, unknown> | undefined;
    if (!t || typeof t !== 'object') continue;
    if (Array.isArray(t)) {
      stack.push(...t);
      continue;
    }
    if (typeof t.source === 'string' && typeof t.offset === 'number') visit(t as unknown as Leaf);
    for (const key of ['start', 'props', 'key', 'sep', 'value', 'items', 'end'] as const) if (key in t) stack.push(t[key]);
  }
}

const TAB = "found character '\\t' that cannot start any token (PyYAML allows tabs only inside quotes, comments and block-scalar text; indent with spaces)";
const LINE_SEPARATOR = (ch: string) =>
  `raw ${ch === '\u2028' ? 'U+2028 LINE SEPARATOR' : 'U+2029 PARAGRAPH SEPARATOR'} outside quotes: PyYAML reads it as a line break (YAML 1.2 tools do not), so the file means different things to different readers; write it as "${ch === '\u2028' ? '\\L' : '\\P'}" inside a double-quoted string`;

/** The first tab or LS/PS that PyYAML reads differently or refuses, on the CST of the text. */
export function lexicalProblem(tokens: CST.Token[], text: string): TextProblem | null {
  if (!/[\t\u2028\u2029]/.test(text)) return null;
  let first: TextProblem | null = null;
  const found = (p: TextProblem | null) => {
    if (p && (!first || p.offset < first.offset)) first = p;
  };
  leaves(tokens, (leaf) => {
    const { type, source, offset } = leaf;
    if (type === 'single-quoted-scalar' || type === 'double-quoted-scalar') return;
    if (type === 'comment') {
      const ls = source.search(/[\u2028\u2029]/);
      if (ls >= 0) found({ offset: offset + ls, message: LINE_SEPARATOR(source[ls]!), ambiguous: true });
      return;
    }
    if (type === 'block-scalar') {
      const header = leaf.props?.at(-1);
      const body = header ? header.offset + header.source.length : offset;
      const p = blockScalarProblem(source);
      if (p) found({ ...p, offset: body + p.offset });
      return;
    }
    const tab = source.indexOf('\t');
    const ls = source.search(/[\u2028\u2029]/);
    if (ls >= 0 && (tab < 0 || ls < tab)) found({ offset: offset + ls, message: LINE_SEPARATOR(source[ls]!), ambiguous: true });
    else if (tab >= 0) found({ offset: offset + tab, message: TAB });
  });
  return first;
}

/** In block-scalar text a tab is content only after the block's indentation (PyYAML counts only spaces). */
function blockScalarProblem(body: string): TextProblem | null {
  const lines = body.split('\n');
  let indent = -1;
  let at = 0;
  for (const line of lines) {
    const spaces = /^ */.exec(line)![0].length;
    const rest = line.slice(spaces);
    if (indent < 0 && rest !== '') indent = spaces;
    if (rest.startsWith('\t') && (indent < 0 || spaces < indent)) return { offset: at + spaces, message: TAB };
    const ls = line.search(/[\u2028\u2029]/);
    if (ls >= 0) return { offset: at + ls, message: LINE_SEPARATOR(line[ls]!), ambiguous: true };
    at += line.length + 1;
  }
  return null;
}

/**
 * PyYAML needs a key before `:` (`: v` and `{: v}` are parser errors; YAML 1.2 reads a null key). An explicit
 * `? ` with nothing after it is still fine.
 */
export function emptyKeyProblem(tokens: CST.Token[]): TextProblem | null {
  const stack: unknown[] = [...tokens];
  while (stack.length) {
    const t = stack.pop() as (CST.Token & { items?: CST.CollectionItem[]; explicitKey?: true }) | undefined;
    if (!t || typeof t !== 'object') continue;
    if (t.type === 'document') stack.push(t.value);
    if (t.type !== 'block-map' && t.type !== 'block-seq' && t.type !== 'flow-collection') continue;
    for (const it of t.items as (CST.CollectionItem & { explicitKey?: true })[]) {
      const colon = it.sep?.find((s) => s.type === 'map-value-ind');
      const explicit = it.explicitKey || it.start.some((s) => s.type === 'explicit-key-ind');
      if (colon && !explicit && (it.key === null || it.key === undefined)) {
        return { offset: colon.offset, message: "found ':' with no key before it (PyYAML: \"expected <block end>, but found ':'\"); write the key, or '? ' for an empty one" };
      }
      stack.push(it.key, it.value);
    }
  }
  return null;
}
