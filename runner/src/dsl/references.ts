/**
 * Variable references in Dify DSL: `{{#node.var#}}` templates (graphon's variable_template_parser grammar) and
 * value-selector arrays (`['1754154032319', 'text']`, `['sys', 'query']`).
 */
import type { PathSegment } from '../yaml/source.js';
import { isRecord, type GraphNode } from './graph.js';

/** graphon `VARIABLE_PATTERN`: node id 1–50 of [A-Za-z0-9_], 1–10 segments of ≤ 30 chars starting with a letter or `_`. */
export const REFERENCE_PATTERN = /\{\{(#[a-zA-Z0-9_]{1,50}(?:\.[a-zA-Z_][a-zA-Z0-9_]{0,29}){1,10}#)\}\}/g;
/** Anything shaped like a reference, to catch the ones the grammar silently ignores (hyphenated ids…). */
const LOOSE_PATTERN = /\{\{#([^{}#\n]{1,200}?)#\}\}/g;
export const NODE_ID_PATTERN = /^[a-zA-Z0-9_]{1,50}$/;
/** `{{name}}` placeholders of chat/completion prompts (PromptTemplateParser). */
export const PROMPT_VARIABLE_PATTERN = /\{\{([a-zA-Z_][a-zA-Z0-9_]{0,29})\}\}/g;

/** First selector segments that are not node ids (graphon runtime/variable_pool.py, plus the `userinput` alias). */
export const RESERVED_PREFIXES = new Set(['sys', 'env', 'conversation', 'rag', 'userinput']);
export const SYS_VARIABLES = new Set([
  'query',
  'files',
  'user_id',
  'conversation_id',
  'dialogue_count',
  'app_id',
  'workflow_id',
  'workflow_run_id',
  'timestamp',
  'document_id',
  'original_document_id',
  'batch',
  'dataset_id',
  'datasource_type',
  'datasource_info',
  'invoke_from',
]);
/** Only set in advanced-chat apps. */
export const CHAT_ONLY_SYS_VARIABLES = new Set(['query', 'conversation_id', 'dialogue_count']);

export type ReferenceKind = 'template' | 'selector';

export interface Reference {
  kind: ReferenceKind;
  /** The segments: node id (or reserved prefix) first. */
  selector: string[];
  /** The node whose data holds the reference (undefined for model_config prompts). */
  from?: GraphNode;
  path: PathSegment[];
  /** The text as written, for messages. */
  text: string;
}

export interface MalformedReference {
  text: string;
  inner: string;
  from?: GraphNode;
  path: PathSegment[];
}

/** Template references inside one string. */
export function templateReferences(s: string): { refs: string[][]; malformed: string[] } {
  const refs: string[][] = [];
  const malformed: string[] = [];
  if (s.indexOf('{{#') < 0) return { refs, malformed };
  const good = new Set<number>();
  REFERENCE_PATTERN.lastIndex = 0;
  for (let m = REFERENCE_PATTERN.exec(s); m; m = REFERENCE_PATTERN.exec(s)) {
    refs.push(m[1]!.slice(1, -1).split('.'));
    good.add(m.index);
  }
  LOOSE_PATTERN.lastIndex = 0;
  for (let m = LOOSE_PATTERN.exec(s); m; m = LOOSE_PATTERN.exec(s)) {
    // `{{#context#}}`, `{{#histories#}}`, `{{#query#}}` are prompt placeholders, not references.
    if (!good.has(m.index) && m[1]!.includes('.')) malformed.push(m[1]!);
  }
  return { refs, malformed };
}

const SELECTOR_KEY = /selector$/i;

function asSelector(v: unknown): string[] | null {
  if (!Array.isArray(v) || v.length < 2) return null;
  for (const x of v) if (typeof x !== 'string') return null;
  return v as string[];
}

/**
 * Every reference in one node's data: templates in any string (except code, which Dify never renders), and
 * selectors in `*_selector` keys, aggregator variable lists, and `{type|input_type|value_type: variable, value}`.
 */
export function collectNodeReferences(node: GraphNode, refs: Reference[], malformed: MalformedReference[]): void {
  const aggregator = node.type === 'variable-aggregator' || node.type === 'variable-assigner';
  const walk = (v: unknown, path: PathSegment[], key: PathSegment | undefined): void => {
    if (typeof v === 'string') {
      if (key === 'code' && node.type === 'code') return;
      const t = templateReferences(v);
      for (const sel of t.refs) refs.push({ kind: 'template', selector: sel, from: node, path, text: `{{#${sel.join('.')}#}}` });
      for (const inner of t.malformed) malformed.push({ text: `{{#${inner}#}}`, inner, from: node, path });
      return;
    }
    if (Array.isArray(v)) {
      if (typeof key === 'string') {
        const sel = SELECTOR_KEY.test(key) || (key === 'query' && node.type === 'parameter-extractor') || (key === 'variable' && node.type === 'list-operator') ? asSelector(v) : null;
        if (sel) {
          refs.push({ kind: 'selector', selector: sel, from: node, path, text: JSON.stringify(sel) });
          return;
        }
        if (key === 'variables' && aggregator) {
          v.forEach((item, i) => {
            const s = asSelector(item);
            if (s) refs.push({ kind: 'selector', selector: s, from: node, path: [...path, i], text: JSON.stringify(s) });
            else walk(item, [...path, i], i);
          });
          return;
        }
      }
      v.forEach((item, i) => walk(item, [...path, i], i));
      return;
    }
    if (isRecord(v)) {
      // Dify never reads a disabled feature (`vision: {enabled: false, …}`), so stale selectors there are harmless;
      // `mention_config` selectors are relative to an extractor, not node ids.
      if (v.enabled === false || key === 'mention_config') return;
      const kind = v.type ?? v.input_type ?? v.value_type;
      if (kind === 'variable') {
        const s = asSelector(v.value);
        if (s) refs.push({ kind: 'selector', selector: s, from: node, path: [...path, 'value'], text: JSON.stringify(s) });
      }
      for (const k of Object.keys(v)) {
        if (kind === 'variable' && k === 'value') continue;
        walk(v[k], [...path, k], k);
      }
    }
  };
  walk(node.data, [...node.path, 'data'], 'data');
}

/** `{{name}}` placeholders in a chat/completion prompt. */
export function promptVariables(s: string): string[] {
  const out: string[] = [];
  if (s.indexOf('{{') < 0) return out;
  PROMPT_VARIABLE_PATTERN.lastIndex = 0;
  for (let m = PROMPT_VARIABLE_PATTERN.exec(s); m; m = PROMPT_VARIABLE_PATTERN.exec(s)) out.push(m[1]!);
  return out;
}
