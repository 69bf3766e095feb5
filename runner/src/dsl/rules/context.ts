/**
 * What every rule sees: the document, its graph, the options, and analyses shared between rules (computed once, on
 * first use). Rules are pure: they read the context and call `report`.
 */
import type { PathSegment } from '../../yaml/source.js';
import { DslGraph, graphOf, isRecord } from '../graph.js';
import { collectNodeReferences, type MalformedReference, type Reference } from '../references.js';
import type { ParsedDsl, RawFinding, RuleMeta, ValidateOptions } from '../types.js';

/** Which part of a document a rule needs; rules whose part is missing are skipped (another rule reports that). */
export type Requirement = 'mapping' | 'app' | 'workflow' | 'model_config';

export interface Rule extends RuleMeta {
  requires: Requirement;
  check(ctx: RuleContext): void;
}

export interface StringValue {
  value: string;
  path: PathSegment[];
  /** The key (or index) holding it. */
  key: PathSegment | undefined;
  /** The map holding it, to read sibling fields. */
  parent: unknown;
}

export class RuleContext {
  readonly findings: RawFinding[] = [];
  /** Credential values found by the secret rules: registered for masking, never printed. */
  readonly secretValues: string[] = [];
  private _graph: DslGraph | null | undefined;
  private _refs: { refs: Reference[]; malformed: MalformedReference[] } | undefined;
  private _strings: StringValue[] | undefined;
  private _env: Map<string, number> | undefined;
  private _conv: Map<string, number> | undefined;
  currentRule = '';

  constructor(
    readonly parsed: ParsedDsl,
    readonly value: Record<string, unknown>,
    readonly options: ValidateOptions,
  ) {}

  private memos = new Map<string, unknown>();

  /** An analysis shared by several rules, computed once per document. */
  memo<T>(key: string, compute: () => T): T {
    if (!this.memos.has(key)) this.memos.set(key, compute());
    return this.memos.get(key) as T;
  }

  report(message: string, path: PathSegment[], opts: { key?: boolean; ruleId?: string } = {}): void {
    this.findings.push({ ruleId: opts.ruleId ?? this.currentRule, message, path, key: opts.key });
  }

  get mode(): string | undefined {
    return this.parsed.mode;
  }

  get app(): Record<string, unknown> {
    return isRecord(this.value.app) ? this.value.app : {};
  }

  get workflow(): Record<string, unknown> {
    return isRecord(this.value.workflow) ? this.value.workflow : {};
  }

  get modelConfig(): Record<string, unknown> {
    return isRecord(this.value.model_config) ? this.value.model_config : {};
  }

  /** The workflow graph (workflow and advanced-chat apps), or null. */
  get graph(): DslGraph | null {
    if (this._graph === undefined) this._graph = graphOf(this.value);
    return this._graph;
  }

  /** Every reference in every node. */
  get references(): { refs: Reference[]; malformed: MalformedReference[] } {
    if (!this._refs) {
      const refs: Reference[] = [];
      const malformed: MalformedReference[] = [];
      for (const n of this.graph?.nodes ?? []) if (!DslGraph.isNote(n)) collectNodeReferences(n, refs, malformed);
      this._refs = { refs, malformed };
    }
    return this._refs;
  }

  /** Every string in the document with its path (for the secret scan). */
  get strings(): StringValue[] {
    if (!this._strings) {
      const out: StringValue[] = [];
      const walk = (v: unknown, path: PathSegment[], key: PathSegment | undefined, parent: unknown): void => {
        if (typeof v === 'string') out.push({ value: v, path, key, parent });
        else if (Array.isArray(v)) for (let i = 0; i < v.length; i++) walk(v[i], [...path, i], i, v);
        else if (isRecord(v)) for (const k of Object.keys(v)) walk(v[k], [...path, k], k, v);
      };
      walk(this.value, [], undefined, undefined);
      this._strings = out;
    }
    return this._strings;
  }

  /** Declared environment variable names → index. */
  get envVars(): Map<string, number> {
    return (this._env ??= namesOf(this.workflow.environment_variables));
  }

  get conversationVars(): Map<string, number> {
    return (this._conv ??= namesOf(this.workflow.conversation_variables));
  }
}

function namesOf(list: unknown): Map<string, number> {
  const m = new Map<string, number>();
  if (Array.isArray(list)) list.forEach((v, i) => isRecord(v) && typeof v.name === 'string' && !m.has(v.name) && m.set(v.name, i));
  return m;
}
