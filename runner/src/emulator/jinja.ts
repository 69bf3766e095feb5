/**
 * A small Jinja2 subset for template-transform and Jinja prompts: `{{ expr }}` with dotted paths and string
 * literals (filters ignored, except `| default('x')`), `{% if %}/{% elif %}/{% else %}/{% endif %}` with `not`,
 * `and`, `or`, `==`, `!=`, `in`, and `{% for x in list %}…{% endfor %}` (with `loop.index`). Comments are dropped.
 */
import { toText } from './model-values.js';

type Scope = Record<string, unknown>;
type Tok = { t: 'text'; v: string } | { t: 'expr'; v: string } | { t: 'tag'; v: string };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  const re = /\{\{-?([\s\S]*?)-?\}\}|\{%-?([\s\S]*?)-?%\}|\{#[\s\S]*?#\}/g;
  let last = 0;
  for (let m = re.exec(src); m; m = re.exec(src)) {
    if (m.index > last) out.push({ t: 'text', v: src.slice(last, m.index) });
    if (m[1] !== undefined) out.push({ t: 'expr', v: m[1].trim() });
    else if (m[2] !== undefined) out.push({ t: 'tag', v: m[2].trim() });
    last = re.lastIndex;
  }
  if (last < src.length) out.push({ t: 'text', v: src.slice(last) });
  return out;
}

function lookup(path: string, scope: Scope): unknown {
  let cur: unknown = scope;
  for (const seg of path.split('.')) {
    if (cur === null || cur === undefined || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

function value(expr: string, scope: Scope): unknown {
  const [head, ...filters] = expr.split('|').map((s) => s.trim());
  let v: unknown;
  const lit = /^(['"])(.*)\1$/.exec(head ?? '');
  if (lit) v = lit[2];
  else if (/^-?\d+(\.\d+)?$/.test(head ?? '')) v = Number(head);
  else if (head === 'true' || head === 'True') v = true;
  else if (head === 'false' || head === 'False') v = false;
  else if (head === 'none' || head === 'None') v = null;
  else v = lookup(head ?? '', scope);
  for (const f of filters) {
    const d = /^default\((['"])(.*)\1\)$/.exec(f);
    if (d && (v === undefined || v === null || v === '')) v = d[2];
    if (f === 'length' && (Array.isArray(v) || typeof v === 'string')) v = v.length;
    if (f === 'upper' && typeof v === 'string') v = v.toUpperCase();
    if (f === 'lower' && typeof v === 'string') v = v.toLowerCase();
  }
  return v;
}

const truthy = (v: unknown): boolean =>
  !(v === undefined || v === null || v === false || v === 0 || v === '' || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && Object.keys(v).length === 0));

function test(expr: string, scope: Scope): boolean {
  const ors = expr.split(/\s+or\s+/);
  if (ors.length > 1) return ors.some((e) => test(e, scope));
  const ands = expr.split(/\s+and\s+/);
  if (ands.length > 1) return ands.every((e) => test(e, scope));
  const e = expr.trim();
  if (e.startsWith('not ')) return !test(e.slice(4), scope);
  const cmp = /^(.+?)\s*(==|!=|\bnot in\b|\bin\b)\s*(.+)$/.exec(e);
  if (cmp) {
    const a = value(cmp[1]!, scope);
    const b = value(cmp[3]!, scope);
    switch (cmp[2]) {
      case '==':
        return toText(a) === toText(b);
      case '!=':
        return toText(a) !== toText(b);
      case 'in':
        return Array.isArray(b) ? b.map(toText).includes(toText(a)) : toText(b).includes(toText(a));
      default:
        return Array.isArray(b) ? !b.map(toText).includes(toText(a)) : !toText(b).includes(toText(a));
    }
  }
  return truthy(value(e, scope));
}

/** Renders tokens[i..] until one of `stops` (a tag keyword) at depth 0; returns output and the stop index. */
function render(toks: Tok[], i: number, scope: Scope, stops: string[], out: string[]): number {
  while (i < toks.length) {
    const tk = toks[i]!;
    if (tk.t === 'text') out.push(tk.v);
    else if (tk.t === 'expr') out.push(toText(value(tk.v, scope)));
    else {
      const kw = tk.v.split(/\s+/)[0]!;
      if (stops.includes(kw)) return i;
      if (kw === 'if') {
        let taken = false;
        let cond = tk.v.slice(2).trim();
        let j = i;
        for (;;) {
          const branch: string[] = [];
          const ok = !taken && (cond === '' ? true : test(cond, scope));
          j = render(toks, j + 1, scope, ['elif', 'else', 'endif'], branch);
          if (ok) {
            out.push(...branch);
            taken = true;
          }
          const stop = toks[j];
          if (!stop || stop.t !== 'tag' || stop.v.startsWith('endif')) break;
          cond = stop.v.startsWith('elif') ? stop.v.slice(4).trim() : '';
        }
        i = j;
      } else if (kw === 'for') {
        const m = /^for\s+(\w+)\s+in\s+(.+)$/.exec(tk.v);
        const list = m ? value(m[2]!, scope) : [];
        const items = Array.isArray(list) ? list : [];
        let end = i;
        if (items.length === 0) end = render(toks, i + 1, scope, ['endfor'], []);
        items.forEach((item, idx) => {
          end = render(toks, i + 1, { ...scope, [m![1]!]: item, loop: { index: idx + 1, index0: idx, first: idx === 0, last: idx === items.length - 1 } }, ['endfor'], out);
        });
        i = end;
      }
      // other tags (set, raw, …) are ignored
    }
    i++;
  }
  return i;
}

export function renderJinja(template: string, vars: Scope): string {
  const out: string[] = [];
  render(tokenize(template), 0, vars, [], out);
  return out.join('');
}
