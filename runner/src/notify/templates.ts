/**
 * Loads and checks message templates: the defaults in ./templates/, or an org's file named by
 * `notify.slack.template` / `notify.email.template` (relative to the config file).
 *   Slack: YAML or JSON {text, blocks, thread?: {text, blocks}}: Block Kit with {{placeholders}} in strings and
 *          `if` / `unless` / `each` / `overflow` keys on any object (see docs/notify.md).
 *   Email: YAML or JSON {subject?, text?, html?} (missing keys keep the default), or a .html file for the body.
 * Every placeholder is checked against the view's vocabulary here, with file:line:column on a mistake.
 */
import { extname, resolve } from 'node:path';
import { closest } from '../core/ajv.js';
import { configError, type SourcePosition } from '../core/errors.js';
import { positionOf, type PathSegment, type SourceDoc } from '../yaml/source.js';
import { loadSourceFile, readSourceFile, displayPath } from '../core/source.js';
import defaultSlack from './templates/slack.json' with { type: 'json' };
import { DEFAULT_EMAIL_TEMPLATE } from './templates/email.js';
import { checkNames, lineColOf, parseTemplate, TemplateSyntaxError, type Vocabulary } from './template.js';
import { VOCABULARY } from './view.js';

/** Keys of template objects that steer rendering and never reach Slack. */
export const CONTROL_KEYS = ['if', 'unless', 'each', 'overflow'] as const;

export interface SlackMessageTemplate {
  text?: string;
  blocks: unknown[];
}

export interface SlackTemplate {
  source: string;
  message: SlackMessageTemplate;
  thread?: SlackMessageTemplate;
}

export interface EmailTemplate {
  source: string;
  subject: string;
  text: string;
  html: string;
}

type Locate = (path: PathSegment[]) => SourcePosition;

function where(file: string, src?: SourceDoc): Locate {
  return (path) => {
    if (!src) return { file, path: path.join('.') };
    const p = positionOf(src, path);
    // Point at the first character of the text, inside the quotes of a quoted scalar.
    const ch = (src.text.split('\n')[(p.line ?? 1) - 1] ?? '')[(p.column ?? 1) - 1];
    return ch === '"' || ch === "'" ? { ...p, column: (p.column ?? 1) + 1 } : p;
  };
}

/** Parses and name-checks one template string; errors point into the file. */
function checkString(text: string, path: PathSegment[], vocab: Vocabulary[], locate: Locate): void {
  const pos = locate(path);
  const fail = (message: string, offset: number): never => {
    const lc = lineColOf(text, offset);
    // Inside a one-line scalar the column is exact; in a block scalar name the line inside the text.
    const inner = text.includes('\n') ? ` (line ${lc.line}, column ${lc.column} of the template text)` : '';
    const position = pos.line !== undefined && !text.includes('\n') ? { ...pos, column: (pos.column ?? 1) + lc.column - 1 } : pos;
    throw configError(`template ${pos.path ?? ''}: ${message}${inner}`.replace('template : ', 'template: '), { position });
  };
  let nodes;
  try {
    nodes = parseTemplate(text);
  } catch (e) {
    if (e instanceof TemplateSyntaxError) fail(e.message, e.offset);
    throw e;
  }
  const merged: Vocabulary = { names: vocab.flatMap((v) => v.names), sections: Object.assign({}, ...vocab.map((v) => v.sections ?? {})) };
  const problems = checkNames(nodes, merged);
  if (problems.length) fail(problems[0]!.message, problems[0]!.offset);
}

/** The vocabulary a control name enters (for `each`), or a config error naming what is known. */
function controlName(name: unknown, key: string, path: PathSegment[], vocab: Vocabulary[], locate: Locate): Vocabulary {
  if (typeof name !== 'string' || !name) throw configError(`template: '${key}' must name a value, e.g. ${key}: targets`, { position: locate([...path, key]) });
  for (let i = vocab.length - 1; i >= 0; i--) {
    const v = vocab[i]!;
    const head = name.split('.')[0]!;
    if (!v.names.includes(head)) continue;
    let cur: Vocabulary | undefined = v;
    for (const seg of name.split('.')) {
      if (!cur?.names.includes(seg)) cur = undefined;
      else cur = cur.sections?.[seg] ?? { names: [] };
    }
    if (cur) return cur;
  }
  const hint = closest(name, vocab.flatMap((v) => v.names));
  throw configError(`template: '${key}: ${name}' names nothing${hint ? ` (did you mean '${hint}'?)` : ''}`, { position: locate([...path, key]) });
}

function checkTree(node: unknown, path: PathSegment[], vocab: Vocabulary[], locate: Locate): void {
  if (typeof node === 'string') return checkString(node, path, vocab, locate);
  if (Array.isArray(node)) return node.forEach((n, i) => checkTree(n, [...path, i], vocab, locate));
  if (node === null || typeof node !== 'object') return;
  const o = node as Record<string, unknown>;
  if (o.if !== undefined) controlName(o.if, 'if', path, vocab, locate);
  if (o.unless !== undefined) controlName(o.unless, 'unless', path, vocab, locate);
  if (o.overflow !== undefined && o.overflow !== 'truncate' && o.overflow !== 'split') {
    throw configError(`template: 'overflow' must be truncate or split`, { position: locate([...path, 'overflow']) });
  }
  const inner = o.each !== undefined ? [...vocab, controlName(o.each, 'each', path, vocab, locate)] : vocab;
  for (const [k, v] of Object.entries(o)) {
    if ((CONTROL_KEYS as readonly string[]).includes(k)) continue;
    checkTree(v, [...path, k], inner, locate);
  }
}

function checkMessage(m: unknown, path: PathSegment[], file: string, locate: Locate): SlackMessageTemplate {
  if (m === null || typeof m !== 'object' || Array.isArray(m)) throw configError(`template ${file}: ${path.join('.') || 'the file'} must be a mapping with blocks:`, { position: locate(path) });
  const o = m as Record<string, unknown>;
  if (!Array.isArray(o.blocks)) throw configError(`template ${file}: ${[...path, 'blocks'].join('.')} must be a list of Block Kit blocks`, { position: locate(path) });
  if (o.text !== undefined && typeof o.text !== 'string') throw configError(`template ${file}: text must be a string`, { position: locate([...path, 'text']) });
  checkTree(o, path, [VOCABULARY], locate);
  return { text: o.text as string | undefined, blocks: o.blocks };
}

export function loadSlackTemplate(file: string | undefined, baseDir: string): SlackTemplate {
  if (!file) return compileSlackTemplate(defaultSlack, 'built-in Slack template');
  const path = resolve(baseDir, file);
  const src = loadSourceFile(path, { category: 'config' });
  return compileSlackTemplate(src.value, src.file, src);
}

export function compileSlackTemplate(value: unknown, file: string, src?: SourceDoc): SlackTemplate {
  const locate = where(file, src);
  const known = ['text', 'blocks', 'thread'];
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const k of Object.keys(value)) {
      if (!known.includes(k)) {
        const hint = closest(k, known);
        throw configError(`template ${file}: unknown key '${k}'${hint ? ` (did you mean '${hint}'?)` : ''}`, { position: src ? positionOf(src, [k], { key: true }) : { file } });
      }
    }
  }
  const message = checkMessage(value, [], file, locate);
  const t = (value as Record<string, unknown>).thread;
  return { source: file, message, thread: t === undefined ? undefined : checkMessage(t, ['thread'], file, locate) };
}

export function loadEmailTemplate(file: string | undefined, baseDir: string): EmailTemplate {
  const base = { source: 'built-in email template', ...DEFAULT_EMAIL_TEMPLATE };
  if (file) {
    const path = resolve(baseDir, file);
    if (/^\.html?$/i.test(extname(path))) {
      const shown = displayPath(path);
      const html = readSourceFile(shown, 'config');
      checkWholeFile(html, shown);
      return { ...base, source: shown, html };
    }
    const src = loadSourceFile(path, { category: 'config' });
    const v = src.value;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      throw configError(`email template ${src.file} must be a mapping with subject:, text: and/or html:`, { position: { file: src.file, line: 1, column: 1 } });
    }
    const known = ['subject', 'text', 'html'];
    const out: EmailTemplate = { ...base, source: src.file };
    for (const [k, text] of Object.entries(v)) {
      if (!known.includes(k)) {
        const hint = closest(k, known);
        throw configError(`unknown key '${k}' in the email template${hint ? ` (did you mean '${hint}'?)` : ''}`, { position: positionOf(src, [k], { key: true }) });
      }
      if (typeof text !== 'string') throw configError(`${k} must be a string`, { position: positionOf(src, [k]) });
      checkString(text, [k], [VOCABULARY], where(src.file, src));
      out[k as 'subject' | 'text' | 'html'] = text;
    }
    return out;
  }
  for (const k of ['subject', 'text', 'html'] as const) checkString(base[k], [k], [VOCABULARY], where(base.source));
  return base;
}

/** For a whole-file template the offset maps straight to file:line:column. */
function checkWholeFile(text: string, file: string): void {
  const fail = (message: string, offset: number): never => {
    const lc = lineColOf(text, offset);
    throw configError(`email template: ${message}`, { position: { file, line: lc.line, column: lc.column } });
  };
  try {
    const problems = checkNames(parseTemplate(text), VOCABULARY);
    if (problems.length) fail(problems[0]!.message, problems[0]!.offset);
  } catch (e) {
    if (e instanceof TemplateSyntaxError) fail(e.message, e.offset);
    throw e;
  }
}
