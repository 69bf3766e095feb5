/**
 * Guards that run before and while YAML is turned into values, so that hostile or broken input becomes a DSL001
 * finding with a position instead of a hang, a RangeError or an out-of-memory crash:
 *
 * - characters PyYAML's reader refuses (raw control characters and the like), anywhere in the file;
 * - nesting deeper than {@link MAX_DSL_DEPTH} lists/mappings (checked on tokens, before the recursive composer);
 * - alias expansion beyond {@link MAX_ALIAS_EXPANSION} nodes ("billion laughs"), recursive aliases, and expansion that
 *   makes the value deeper than {@link MAX_DSL_DEPTH}. Ordinary aliases are fine however many there are.
 */
import { Alias, CST, Lexer, isAlias, isMap, isPair, isScalar, isSeq, type Document, type Node } from 'yaml';

/**
 * Deepest nesting of lists/mappings accepted (the top-level mapping is level 1). Real DSL stays under ~20 levels;
 * PyYAML's composer is recursive and hits Python's default recursion limit at roughly 490 levels, earlier inside Dify.
 */
export const MAX_DSL_DEPTH = 256;
/**
 * Most nodes that aliases may add to the document when expanded (each `*x` counts the whole size of what `&x`
 * names, nested aliases included). 500 aliases to 20-node anchors add 10,000; a billion-laughs file adds ~10⁹.
 */
export const MAX_ALIAS_EXPANSION = 100_000;

/** PyYAML `Reader.NON_PRINTABLE`: what `yaml.safe_load` refuses with "unacceptable character #x…". */
const NON_PRINTABLE = /[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

const C0_NAMES = ['NUL', 'SOH', 'STX', 'ETX', 'EOT', 'ENQ', 'ACK', 'BEL', 'BS', 'HT', 'LF', 'VT', 'FF', 'CR', 'SO', 'SI', 'DLE', 'DC1', 'DC2', 'DC3', 'DC4', 'NAK', 'SYN', 'ETB', 'CAN', 'EM', 'SUB', 'ESC', 'FS', 'GS', 'RS', 'US'];

export interface LimitProblem {
  /** UTF-16 offset into the text, for LineCounter. */
  offset: number;
  message: string;
}

/** 1-based line and column of an offset, for problems found before a LineCounter has seen the text. */
export function textPosition(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, column: offset - before.lastIndexOf('\n') };
}

const hex = (cp: number) => cp.toString(16).toUpperCase().padStart(4, '0');

/** The first character PyYAML would refuse, with a message naming it; null when there is none. */
export function firstNonPrintable(text: string): LimitProblem | null {
  const m = NON_PRINTABLE.exec(text);
  if (!m) return null;
  const cp = m[0].codePointAt(0)!;
  const control = cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
  const name = cp < 0x20 ? ` (${C0_NAMES[cp]})` : cp === 0x7f ? ' (DEL)' : '';
  const what = control ? `control character U+${hex(cp)}${name}` : cp >= 0xd800 && cp <= 0xdfff ? `lone surrogate U+${hex(cp)}` : `character U+${hex(cp)}`;
  const esc = cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u${hex(cp).toLowerCase()}`;
  return {
    offset: m.index,
    message:
      `${what} is not allowed in YAML (Dify's PyYAML rejects it: "unacceptable character #x${hex(cp).toLowerCase()}: special characters are not allowed"); ` +
      `remove it, or write it escaped inside a double-quoted string ("${esc}")`,
  };
}

const tooDeep = (what = 'lists/mappings') =>
  `nesting too deep: more than ${MAX_DSL_DEPTH} levels of ${what} (Dify's PyYAML gives up with "maximum recursion depth exceeded" at about 490; real DSL needs a few dozen)`;

/**
 * Cheap early exit on the token stream, before the parser builds anything: flow brackets nested past the limit, or
 * a run of block indicators on one line (`- - - - …`, each opens a level). Both only ever under-count the real
 * depth, so this never rejects what {@link cstDepthProblem} would accept.
 */
export function lexerDepthProblem(text: string): LimitProblem | null {
  let offset = 0;
  let flow = 0;
  let run = 0;
  for (const tok of new Lexer().lex(text)) {
    const type = CST.tokenType(tok);
    // The lexer's mode markers are single control characters that take no room in the source (which has none).
    const zeroWidth = tok.length === 1 && (type === 'doc-mode' || type === 'flow-error-end' || (type === 'scalar' && tok === CST.SCALAR));
    if (type === 'flow-seq-start' || type === 'flow-map-start') {
      if (++flow > MAX_DSL_DEPTH) return { offset, message: tooDeep() };
    } else if (type === 'flow-seq-end' || type === 'flow-map-end') {
      if (flow > 0) flow--;
    } else if (flow === 0 && (type === 'seq-item-ind' || type === 'explicit-key-ind')) {
      if (++run > MAX_DSL_DEPTH) return { offset, message: tooDeep() };
    } else if (type !== 'space' && !zeroWidth) run = 0;
    if (!zeroWidth) offset += tok.length;
  }
  return null;
}

type Tok = CST.Token;

/** Exact collection depth on the CST (iterative), before the recursive composer sees it. */
export function cstDepthProblem(tokens: Tok[]): LimitProblem | null {
  const stack: [Tok | undefined, number][] = tokens.map((t) => [t, 0]);
  while (stack.length) {
    const [tok, depth] = stack.pop()!;
    if (!tok) continue;
    switch (tok.type) {
      case 'document':
        stack.push([tok.value, depth]);
        break;
      case 'block-map':
      case 'block-seq':
      case 'flow-collection': {
        const d = depth + 1;
        if (d > MAX_DSL_DEPTH) return { offset: tok.type === 'flow-collection' ? tok.start.offset : tok.offset, message: tooDeep() };
        for (const it of tok.items) {
          if ('key' in it) stack.push([it.key ?? undefined, d]);
          stack.push([it.value, d]);
        }
        break;
      }
      default:
        break;
    }
  }
  return null;
}

interface AnchorInfo {
  node: Node;
  done: boolean;
  size: number;
  height: number;
}

class Stop extends Error {
  constructor(readonly problem: LimitProblem) {
    super(problem.message);
  }
}

/**
 * Measures what aliases expand to, without expanding them: each anchored node's size and height are computed once
 * and every alias adds its anchor's numbers. Also makes each alias resolve to its anchor in constant time (the yaml
 * library searches the whole document for every alias, which is quadratic in the number of aliases).
 *
 * Call only on a document whose literal depth is within {@link MAX_DSL_DEPTH} (it recurses once per level).
 */
export function aliasProblem(doc: Document): LimitProblem | null {
  const anchors = new Map<string, AnchorInfo>();
  let added = 0;
  const at = (n: { range?: [number, number, number] | null }) => n.range?.[0] ?? 0;

  const measure = (node: unknown, depth: number): { size: number; height: number } => {
    if (isAlias(node)) {
      const info = anchors.get(node.source);
      if (!info) throw new Stop({ offset: at(node), message: `alias *${node.source} has no anchor &${node.source} before it (PyYAML: "found undefined alias")` });
      if (!info.done) {
        throw new Stop({
          offset: at(node),
          message: `alias *${node.source} refers to a node that contains it (a recursive structure: Dify cannot store it, "Circular reference detected")`,
        });
      }
      added += info.size;
      if (added > MAX_ALIAS_EXPANSION) {
        throw new Stop({
          offset: at(node),
          message: `aliases expand to more than ${MAX_ALIAS_EXPANSION.toLocaleString('en-US')} nodes (here *${node.source}, ${info.size.toLocaleString('en-US')} nodes each time): refused as a resource-exhaustion ("billion laughs") attack`,
        });
      }
      if (depth + info.height > MAX_DSL_DEPTH) {
        throw new Stop({ offset: at(node), message: `${tooDeep()}: alias *${node.source} expands to ${info.height} levels here, at level ${depth}` });
      }
      installFastResolve(node, info.node);
      return info;
    }
    const anchor = (node as { anchor?: string } | null)?.anchor;
    const info: AnchorInfo | undefined = anchor ? { node: node as Node, done: false, size: 1, height: 0 } : undefined;
    if (info) anchors.set(anchor!, info);
    let size = 1;
    let height = 0;
    if (isMap(node) || isSeq(node)) {
      for (const item of node.items as unknown[]) {
        const parts = isPair(item) ? [item.key, item.value] : [item];
        for (const p of parts) {
          if (p === null || p === undefined) continue;
          const r = measure(p, depth + 1);
          size += r.size;
          if (r.height > height) height = r.height;
        }
      }
      height += 1;
    } else if (!isScalar(node)) {
      size = 0;
    }
    if (info) Object.assign(info, { size, height, done: true });
    return { size, height };
  };

  try {
    measure(doc.contents, 0);
  } catch (e) {
    if (e instanceof Stop) return e.problem;
    // Block nesting is not bounded before this walk (only DSL files get the exact CST check): too deep to walk.
    if (e instanceof RangeError) return { offset: 0, message: tooDeep() };
    throw e;
  }
  return null;
}

const slowResolve = Alias.prototype.resolve;

/** `alias.resolve` without the library's whole-document search; falls back to it when the anchor is not converted yet. */
function installFastResolve(alias: Alias, target: Node): void {
  Object.defineProperty(alias, 'resolve', {
    configurable: true,
    writable: true,
    enumerable: false,
    value(this: Alias, doc: Document, ctx?: { anchors?: Map<unknown, unknown> }) {
      if (ctx?.anchors?.has(target)) return target;
      return slowResolve.call(this, doc, ctx as never);
    },
  });
}
