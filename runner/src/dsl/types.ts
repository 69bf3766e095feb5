/** Shapes shared by the DSL parser, the rules and the reports (also used by deploy and the emulator). */
import type { PathSegment, SourceDoc } from '../yaml/source.js';

export type Severity = 'error' | 'warning' | 'info';

export type RuleGroup = 'parse' | 'structure' | 'graph' | 'nodes' | 'references' | 'variables' | 'secrets' | 'model' | 'policy';

/** One problem in one file. Lines and columns are 1-based; `path` is a JSON path into the DSL. */
export interface Finding {
  ruleId: string;
  severity: Severity;
  message: string;
  file: string;
  line: number;
  column: number;
  path: string;
  /** Set when the finding is inside the YAML embedded in an export wrapper (`{"data": "<yaml>"}`). */
  embedded?: { line: number; column: number };
}

export type AppMode = 'workflow' | 'advanced-chat' | 'chat' | 'agent-chat' | 'completion';
export const APP_MODES: readonly AppMode[] = ['workflow', 'advanced-chat', 'chat', 'agent-chat', 'completion'];
export const WORKFLOW_MODES: readonly string[] = ['workflow', 'advanced-chat'];
/** App modes Dify knows whose DSL dify-ci does not check in depth (newer or not importable as apps). */
export const OTHER_APP_MODES: readonly string[] = ['agent', 'channel', 'rag-pipeline'];

/** A parsed DSL document, with everything needed to point at a line. */
export interface ParsedDsl {
  /** The name shown in findings (relative to the working directory when inside it). */
  file: string;
  /** 'yaml' or 'json' as read; 'wrapper' when unwrapped from an export `{"data": "<yaml>"}`. */
  format: 'yaml' | 'json' | 'wrapper';
  /** The source of the DSL itself (for a wrapper: the embedded YAML). Null when the file could not be parsed. */
  doc: SourceDoc | null;
  /** The outer file when the DSL was embedded in a wrapper, for positions in the real file. */
  outer?: SourceDoc;
  /** The plain value as PyYAML's safe_load would give it (YAML 1.1). */
  value: unknown;
  /** app.mode when it is a string. */
  mode?: string;
  /** The `version` field as written (any type); undefined when missing. */
  version?: unknown;
  /** Findings made while reading (syntax, encoding, duplicate keys, wrapper). */
  findings: Finding[];
}

/** What a rule reports; the validator adds severity, position and file. */
export interface RawFinding {
  ruleId: string;
  message: string;
  path: PathSegment[];
  /** Point at the key rather than the value (for unknown or duplicate keys). */
  key?: boolean;
}

export interface PolicyOptions {
  allowedProviders?: string[];
  allowedModels?: string[];
  maxTemperature?: number;
  forbiddenNodeTypes?: string[];
  requireDescription?: boolean;
}

export interface ValidateOptions {
  /** The DSL version of the Dify that will import the file (default 0.6.0). */
  targetDslVersion?: string;
  policy?: PolicyOptions;
}

export interface RuleMeta {
  id: string;
  name: string;
  group: RuleGroup;
  severity: Severity;
  /** One line, shown in SARIF rule lists and `docs/rules.md`. */
  summary: string;
  /** Why it matters and how to fix it (SARIF help text). */
  help: string;
}
