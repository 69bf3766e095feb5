/**
 * Renders a Slack template into a chat.postMessage payload and fits it into Slack's limits (50 blocks, 3000
 * characters per text, 150 per header, 10 fields, …) so that Slack never rejects a message for its size: what does
 * not fit becomes a "+N more" line. Values are escaped for mrkdwn (&, <, >), so no value can make a link or a
 * mention; plain_text is sent as is; `url` values must be http(s) or the element is dropped.
 */
import { mask } from '../core/mask.js';
import { isTruthy, lookup, parseTemplate, renderNodes, type Escape, type TemplateNode } from './template.js';
import { CONTROL_KEYS, type SlackMessageTemplate } from './templates.js';
import { safeUrl, type View } from './view.js';

export const LIMITS = {
  blocks: 50,
  text: 3000,
  headerText: 150,
  fields: 10,
  fieldText: 2000,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  url: 3000,
  fallbackText: 3000,
} as const;

export type Block = Record<string, unknown>;
export interface SlackPayload {
  text: string;
  blocks: Block[];
}

export const escapeMrkdwn: Escape = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const raw: Escape = (s) => s;

const DROP = Symbol('drop');
const cache = new Map<string, TemplateNode[]>();
function compiled(text: string): TemplateNode[] {
  let nodes = cache.get(text);
  if (!nodes) cache.set(text, (nodes = parseTemplate(text)));
  return nodes;
}

const isUrlKey = (k?: string) => k !== undefined && /(^|_)url$|Url$/.test(k);

interface Ctx {
  key?: string;
  parentType?: string;
  topLevel?: boolean;
}

function renderValue(node: unknown, scopes: unknown[], ctx: Ctx): unknown {
  if (typeof node === 'string') {
    const mrkdwn = ctx.parentType === 'mrkdwn' || (ctx.topLevel && ctx.key === 'text');
    const out = renderNodes(compiled(node), scopes, isUrlKey(ctx.key) || !mrkdwn ? raw : escapeMrkdwn);
    if (isUrlKey(ctx.key)) {
      const u = safeUrl(out.trim());
      return u && u.length <= LIMITS.url ? u : DROP;
    }
    return out;
  }
  if (Array.isArray(node)) {
    const out: unknown[] = [];
    for (const item of node) {
      if (item && typeof item === 'object' && !Array.isArray(item) && 'each' in item) {
        const v = lookup(scopes, String((item as Record<string, unknown>).each));
        const items = Array.isArray(v) ? v : isTruthy(v) ? [v] : [];
        for (const it of items) {
          const r = renderObject(item as Record<string, unknown>, [...scopes, it], {});
          if (r !== DROP) out.push(r);
        }
      } else {
        const r = renderValue(item, scopes, {});
        if (r !== DROP) out.push(r);
      }
    }
    return out;
  }
  if (node && typeof node === 'object') return renderObject(node as Record<string, unknown>, scopes, ctx);
  return node;
}

function renderObject(o: Record<string, unknown>, scopes: unknown[], ctx: Ctx): unknown {
  if (o.if !== undefined && !isTruthy(lookup(scopes, String(o.if)))) return DROP;
  if (o.unless !== undefined && isTruthy(lookup(scopes, String(o.unless)))) return DROP;
  const type = typeof o.type === 'string' ? o.type : undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if ((CONTROL_KEYS as readonly string[]).includes(k)) continue;
    const r = renderValue(v, scopes, { key: k, parentType: type, topLevel: ctx.topLevel });
    // An element whose link is missing (no BUILD_URL, no report) is dropped rather than sent broken.
    if (r === DROP) return DROP;
    out[k] = r;
  }
  return prune(out) ? out : DROP;
}

/** False when the rendered object has nothing left to show (Slack rejects empty texts and containers). */
function prune(o: Record<string, unknown>): boolean {
  const text = o.text as { text?: unknown } | string | undefined;
  const hasText = typeof text === 'string' ? text.trim() !== '' : typeof text?.text === 'string' && text.text.trim() !== '';
  switch (o.type) {
    case 'mrkdwn':
    case 'plain_text':
      if (typeof o.text === 'string') o.text = o.text.replace(/\s+$/, '');
      return typeof o.text === 'string' && o.text !== '';
    case 'header':
    case 'button':
      return hasText;
    case 'section': {
      if (Array.isArray(o.fields) && o.fields.length === 0) delete o.fields;
      if (o.text !== undefined && !hasText) delete o.text;
      return o.text !== undefined || o.fields !== undefined;
    }
    case 'context':
    case 'actions':
      return Array.isArray(o.elements) && o.elements.length > 0;
    default:
      return true;
  }
}

/** Cuts a text at a line boundary and says how many lines were left out. */
export function truncateText(text: string, max: number, mrkdwn = true): string {
  if (text.length <= max) return text;
  const lines = text.replace(/\n+$/, '').split('\n');
  const more = (n: number) => (mrkdwn ? `_+${n} more_` : `+${n} more`);
  const kept: string[] = [];
  let len = 0;
  for (let i = 0; i < lines.length; i++) {
    const suffix = more(lines.length - i).length + 1;
    if (len + lines[i]!.length + 1 + suffix > max) break;
    kept.push(lines[i]!);
    len += lines[i]!.length + 1;
  }
  if (kept.length === 0) {
    // One huge line: cut inside it.
    const note = mrkdwn ? ' _(truncated)_' : ' (truncated)';
    return text.slice(0, max - note.length - 1) + '…' + note;
  }
  return `${kept.join('\n')}\n${more(lines.length - kept.length)}`;
}

/** Splits a long text into pieces of at most `max` characters at line boundaries. */
function splitText(text: string, max: number): string[] {
  const out: string[] = [];
  let cur = '';
  for (const line of text.replace(/\n+$/, '').split('\n')) {
    const l = line.length > max ? truncateText(line, max) : line;
    if (cur && cur.length + 1 + l.length > max) {
      out.push(cur);
      cur = l;
    } else cur = cur ? `${cur}\n${l}` : l;
  }
  if (cur) out.push(cur);
  return out;
}

function fitTextObject(t: unknown, max: number): void {
  if (t && typeof t === 'object' && typeof (t as { text?: unknown }).text === 'string') {
    const o = t as { type?: string; text: string };
    o.text = truncateText(o.text, max, o.type !== 'plain_text');
  }
}

const moreText = (n: number) => ({ type: 'mrkdwn', text: `_+${n} more_` });

/** At most `max` items; when some are left out, the last place says how many (Slack rejects a longer list). */
function capList(list: unknown[], max: number): unknown[] {
  return list.length <= max ? list : [...list.slice(0, max - 1), moreText(list.length - max + 1)];
}

/** Applies Slack's per-block limits; `split` sections become several blocks instead of being cut. */
export function fitBlocks(blocks: Block[], overflow: ('truncate' | 'split')[] = []): Block[] {
  const out: Block[] = [];
  // Notes added under an actions block, so that the cap below keeps them with their buttons.
  const buttonNotes = new Set<Block>();
  blocks.forEach((b, i) => {
    switch (b.type) {
      case 'header':
        fitTextObject(b.text, LIMITS.headerText);
        break;
      case 'section': {
        const text = b.text as { type?: string; text?: string } | undefined;
        if (overflow[i] === 'split' && text?.text && text.text.length > LIMITS.text) {
          const { fields, ...rest } = b;
          splitText(text.text, LIMITS.text).forEach((piece, n) => out.push({ ...rest, ...(n === 0 && fields ? { fields } : {}), text: { ...text, text: piece } }));
          return;
        }
        fitTextObject(b.text, LIMITS.text);
        if (Array.isArray(b.fields)) {
          for (const f of b.fields as unknown[]) fitTextObject(f, LIMITS.fieldText);
          b.fields = capList(b.fields, LIMITS.fields);
        }
        break;
      }
      case 'context':
        if (Array.isArray(b.elements)) {
          for (const e of b.elements as unknown[]) fitTextObject(e, LIMITS.text);
          b.elements = capList(b.elements, LIMITS.contextElements);
        }
        break;
      case 'actions':
        if (Array.isArray(b.elements)) {
          for (const e of b.elements as Record<string, unknown>[]) fitTextObject(e.text, LIMITS.buttonText);
          const hidden = b.elements.length - LIMITS.actionsElements;
          if (hidden > 0) {
            // A button cannot be a note (it needs a link or an app to answer it): the note goes under the buttons.
            b.elements = b.elements.slice(0, LIMITS.actionsElements);
            const note: Block = { type: 'context', elements: [{ type: 'mrkdwn', text: `_+${hidden} more link${hidden === 1 ? '' : 's'}_` }] };
            buttonNotes.add(note);
            out.push(b, note);
            return;
          }
        }
        break;
    }
    out.push(b);
  });
  if (out.length <= LIMITS.blocks) return out;
  // Keep the buttons (and the note on buttons left out) at the bottom: they are the "where to look" of the message.
  const last = out[out.length - 1]!;
  const tail = last.type === 'actions' ? [last] : buttonNotes.has(last) && out[out.length - 2]?.type === 'actions' ? out.slice(-2) : [];
  const headCount = LIMITS.blocks - 1 - tail.length;
  const hidden = out.length - headCount - tail.length;
  return [...out.slice(0, headCount), { type: 'context', elements: [{ type: 'mrkdwn', text: `_+${hidden} more_` }] }, ...tail];
}

/** Renders one message of a template with the view; the result is masked and within Slack's limits. */
export function renderSlackMessage(tpl: SlackMessageTemplate, view: View): SlackPayload {
  const blocks: Block[] = [];
  const overflow: ('truncate' | 'split')[] = [];
  for (const b of tpl.blocks) {
    const rendered = renderValue([b], [view], {}) as Block[];
    for (const r of rendered) {
      blocks.push(r);
      overflow.push((b as Record<string, unknown>)?.overflow === 'split' ? 'split' : 'truncate');
    }
  }
  const text = typeof tpl.text === 'string' ? (renderValue(tpl.text, [view], { key: 'text', topLevel: true }) as string) : '';
  const payload: SlackPayload = { text: truncateText(text, LIMITS.fallbackText), blocks: fitBlocks(blocks, overflow) };
  // Values were masked in the view; this also catches a secret that a template author typed in literally.
  return JSON.parse(mask(JSON.stringify(payload))) as SlackPayload;
}
