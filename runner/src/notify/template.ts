/**
 * The template language of notification messages: a small Mustache subset.
 *   {{name}}  {{a.b}}  {{.}}           a value, always passed through the channel's escape function
 *   {{#name}}…{{/name}}                 a list repeats with each item in scope; an object is entered; other
 *                                       truthy values render once
 *   {{^name}}…{{/name}}                 renders when the value is missing, false, 0, '' or an empty list
 *   {{! comment }}
 * Nothing else: no raw output, no partials, no lambdas, no code. Names are checked against the view's vocabulary
 * when the template is loaded, so a typo fails the build that changed the template, not the one that broke.
 */
import { closest } from '../core/ajv.js';

export type Escape = (s: string) => string;

export type TemplateNode =
  | { t: 'text'; v: string }
  | { t: 'var'; name: string; at: number }
  | { t: 'section'; name: string; inverted: boolean; at: number; children: TemplateNode[] };

export class TemplateSyntaxError extends Error {
  constructor(
    message: string,
    /** Offset into the template text. */
    readonly offset: number,
  ) {
    super(message);
    this.name = 'TemplateSyntaxError';
  }
}

const TAG = /\{\{\s*([#^/!]?)\s*([^}]*?)\s*\}\}/g;
const NAME = /^(\.|[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*)$/;

/** Line and column (1-based) of an offset, for messages. */
export function lineColOf(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

export function parseTemplate(text: string): TemplateNode[] {
  const root: TemplateNode[] = [];
  const stack: { name: string; at: number; children: TemplateNode[] }[] = [];
  let out = root;
  let last = 0;
  TAG.lastIndex = 0;
  for (let m = TAG.exec(text); m; m = TAG.exec(text)) {
    const [whole, sigil, rawName] = m as unknown as [string, string, string];
    let start = m.index;
    let end = start + whole.length;
    // A section tag alone on its line takes the line with it, so text templates keep no blank lines.
    if (sigil) {
      const lineStart = text.lastIndexOf('\n', start - 1) + 1;
      const nl = text.indexOf('\n', end);
      const lineEnd = nl === -1 ? text.length : nl;
      if (/^[ \t]*$/.test(text.slice(lineStart, start)) && /^[ \t\r]*$/.test(text.slice(end, lineEnd))) {
        start = Math.max(lineStart, last);
        end = nl === -1 ? lineEnd : nl + 1;
      }
    }
    if (start > last) out.push({ t: 'text', v: text.slice(last, start) });
    last = end;
    if (sigil === '!') continue;
    const name = rawName.trim();
    if (!NAME.test(name)) throw new TemplateSyntaxError(`invalid placeholder '${whole}' (names are letters, digits, _ and dots)`, m.index);
    if (sigil === '#' || sigil === '^') {
      const node: TemplateNode = { t: 'section', name, inverted: sigil === '^', at: m.index, children: [] };
      out.push(node);
      stack.push({ name, at: m.index, children: out });
      out = node.children;
    } else if (sigil === '/') {
      const open = stack.pop();
      if (!open) throw new TemplateSyntaxError(`'${whole}' closes a section that was never opened`, m.index);
      if (open.name !== name) throw new TemplateSyntaxError(`'${whole}' closes '{{#${open.name}}}' (close it with {{/${open.name}}} first)`, m.index);
      out = open.children;
    } else {
      out.push({ t: 'var', name, at: m.index });
    }
  }
  if (stack.length > 0) {
    const open = stack[stack.length - 1]!;
    throw new TemplateSyntaxError(`'{{#${open.name}}}' is never closed (add {{/${open.name}}})`, open.at);
  }
  // Stray braces are almost always a typo such as `{{name}` — catch them instead of printing them.
  const leftover = text.slice(last);
  if (leftover) out.push({ t: 'text', v: leftover });
  const stray = findStrayBraces(text);
  if (stray >= 0) throw new TemplateSyntaxError(`unbalanced '{{' (placeholders look like {{name}})`, stray);
  return root;
}

function findStrayBraces(text: string): number {
  const masked = text.replace(TAG, (s) => ' '.repeat(s.length));
  return masked.indexOf('{{');
}

/** Looks a dotted name up through the scopes, innermost first (Mustache semantics). */
export function lookup(scopes: readonly unknown[], name: string): unknown {
  if (name === '.') return scopes[scopes.length - 1];
  const [head, ...rest] = name.split('.');
  for (let i = scopes.length - 1; i >= 0; i--) {
    const s = scopes[i];
    if (s !== null && typeof s === 'object' && !Array.isArray(s) && Object.prototype.hasOwnProperty.call(s, head!)) {
      let v: unknown = (s as Record<string, unknown>)[head!];
      for (const seg of rest) {
        if (v === null || typeof v !== 'object' || !Object.prototype.hasOwnProperty.call(v, seg)) return undefined;
        v = (v as Record<string, unknown>)[seg];
      }
      return v;
    }
  }
  return undefined;
}

export function isTruthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  return Boolean(v);
}

function scalarText(v: unknown): string {
  if (v === null || v === undefined || v === false) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map(scalarText).filter(Boolean).join(', ');
  return ''; // never "[object Object]"
}

export function renderNodes(nodes: TemplateNode[], scopes: readonly unknown[], escape: Escape): string {
  let out = '';
  for (const n of nodes) {
    if (n.t === 'text') out += n.v;
    else if (n.t === 'var') out += escape(scalarText(lookup(scopes, n.name)));
    else {
      const v = lookup(scopes, n.name);
      if (n.inverted) {
        if (!isTruthy(v)) out += renderNodes(n.children, scopes, escape);
      } else if (Array.isArray(v)) {
        for (const item of v) out += renderNodes(n.children, [...scopes, item], escape);
      } else if (isTruthy(v)) {
        out += renderNodes(n.children, typeof v === 'object' ? [...scopes, v] : scopes, escape);
      }
    }
  }
  return out;
}

/** What a template may name: the keys of a scope, and for list/object keys the vocabulary inside them. */
export interface Vocabulary {
  names: readonly string[];
  sections?: Readonly<Record<string, Vocabulary>>;
}

export interface NameProblem {
  message: string;
  offset: number;
}

/** Every placeholder that names nothing in the vocabulary (with a "did you mean"). */
export function checkNames(nodes: TemplateNode[], vocab: Vocabulary): NameProblem[] {
  const problems: NameProblem[] = [];
  const walk = (list: TemplateNode[], stack: Vocabulary[]) => {
    for (const n of list) {
      if (n.t === 'text') continue;
      const inner = n.name === '.' ? undefined : resolveName(n.name, stack);
      if (n.name !== '.' && inner === null) {
        const known = [...new Set(stack.flatMap((v) => v.names))];
        const hint = closest(n.name.split('.')[0]!, known);
        problems.push({ message: `unknown placeholder '${n.name}'${hint ? ` (did you mean '${hint}'?)` : ''}`, offset: n.at });
      }
      if (n.t === 'section') walk(n.children, inner && !n.inverted ? [...stack, inner] : stack);
    }
  };
  walk(nodes, [vocab]);
  return problems;
}

/** The vocabulary a name enters (an empty one for scalars), or null when the name is unknown. */
function resolveName(name: string, stack: Vocabulary[]): Vocabulary | null {
  const segs = name.split('.');
  for (let i = stack.length - 1; i >= 0; i--) {
    let v: Vocabulary | undefined = stack[i];
    if (!v!.names.includes(segs[0]!)) continue;
    for (let j = 0; j < segs.length; j++) {
      if (!v || !v.names.includes(segs[j]!)) return null;
      v = v.sections?.[segs[j]!] ?? (j === segs.length - 1 ? { names: [] } : undefined);
    }
    return v ?? { names: [] };
  }
  return null;
}
