/**
 * Runs the rules over parsed DSL documents. `validateDsl` is the library entry (deploy and the emulator reuse it);
 * `validateFile` adds reading. Positions are looked up only for findings, so a clean file costs one parse and one
 * walk per analysis.
 */
import { registerSecret } from '../core/mask.js';
import { pathToString, positionOf } from '../yaml/source.js';
import { isRecord } from './graph.js';
import { parseDslFile, type ParseDslOptions } from './parse.js';
import { RuleContext, type Requirement } from './rules/context.js';
import { RULES, RULES_BY_ID } from './rules/index.js';
import { APP_MODES, WORKFLOW_MODES, type Finding, type ParsedDsl, type RawFinding, type ValidateOptions } from './types.js';

export interface FileReport {
  file: string;
  format?: ParsedDsl['format'];
  mode?: string;
  version?: string;
  findings: Finding[];
  /** The source text, for code frames. */
  text?: string;
  /** For an export wrapper: the embedded YAML, for frames of findings inside it. */
  embeddedText?: string;
}

const SEVERITY_ORDER = { error: 0, warning: 1, info: 2 } as const;

export function sortFindings(list: Finding[]): Finding[] {
  return list.sort(
    (a, b) =>
      a.line - b.line ||
      (a.embedded?.line ?? 0) - (b.embedded?.line ?? 0) ||
      a.column - b.column ||
      (a.embedded?.column ?? 0) - (b.embedded?.column ?? 0) ||
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
      a.ruleId.localeCompare(b.ruleId),
  );
}

function locate(parsed: ParsedDsl, raw: RawFinding): Finding {
  const meta = RULES_BY_ID.get(raw.ruleId);
  const pos = positionOf(parsed.doc!, raw.path, { key: raw.key });
  const base = { ruleId: raw.ruleId, severity: meta?.severity ?? 'error', message: raw.message, file: parsed.file, path: pathToString(raw.path) };
  if (parsed.outer) {
    const outer = positionOf(parsed.outer, ['data']);
    return { ...base, line: outer.line ?? 1, column: outer.column ?? 1, embedded: { line: pos.line ?? 1, column: pos.column ?? 1 } };
  }
  return { ...base, line: pos.line ?? 1, column: pos.column ?? 1 };
}

/** All findings for one parsed document, sorted by position. Registers every credential found for masking. */
export function validateDsl(parsed: ParsedDsl, options: ValidateOptions = {}): Finding[] {
  const out = [...parsed.findings];
  const value = parsed.value;
  if (!parsed.doc || parsed.findings.some((f) => f.ruleId === 'DSL001') || value === undefined) return sortFindings(out);
  if (!isRecord(value)) {
    out.push(
      locate(parsed, {
        ruleId: 'DSL010',
        message: `the document is ${value === null ? 'empty' : Array.isArray(value) ? 'a list' : `a ${typeof value}`}, not a mapping (Dify: "Invalid YAML format: content must be a mapping")`,
        path: [],
      }),
    );
    return sortFindings(out);
  }
  const ctx = new RuleContext(parsed, value, options);
  const mode = parsed.mode;
  const has: Record<Requirement, boolean> = {
    mapping: true,
    app: isRecord(value.app) && Object.keys(value.app).length > 0,
    workflow: Boolean(mode && WORKFLOW_MODES.includes(mode) && ctx.graph),
    model_config: Boolean(mode && APP_MODES.includes(mode as never) && !WORKFLOW_MODES.includes(mode) && isRecord(value.model_config)),
  };
  const crashed: Finding[] = [];
  for (const rule of RULES) {
    if (!has[rule.requires]) continue;
    ctx.currentRule = rule.id;
    try {
      rule.check(ctx);
    } catch (e) {
      // A rule that trips over an unexpected shape must not hide the other rules' findings (or other files).
      crashed.push({ ruleId: rule.id, severity: 'warning', message: `rule ${rule.id} could not check this file (${(e as Error).message}); please report this as a dify-ci bug`, file: parsed.file, line: 1, column: 1, path: '(root)' });
    }
  }
  out.push(...crashed);
  for (const s of ctx.secretValues) registerSecret(s);
  for (const raw of ctx.findings) out.push(locate(parsed, raw));
  return sortFindings(out);
}

export function validateFile(path: string, options: ValidateOptions = {}, parseOptions: ParseDslOptions = {}): FileReport {
  const parsed = parseDslFile(path, parseOptions);
  const findings = validateDsl(parsed, options);
  return {
    file: parsed.file,
    format: parsed.format,
    mode: parsed.mode,
    version: typeof parsed.version === 'string' ? parsed.version : undefined,
    findings,
    text: parsed.outer ? parsed.outer.text : parsed.doc?.text,
    embeddedText: parsed.outer ? parsed.doc?.text : undefined,
  };
}

export interface Totals {
  files: number;
  errors: number;
  warnings: number;
  infos: number;
}

export function totals(reports: FileReport[]): Totals {
  const t: Totals = { files: reports.length, errors: 0, warnings: 0, infos: 0 };
  for (const r of reports) {
    for (const f of r.findings) {
      if (f.severity === 'error') t.errors++;
      else if (f.severity === 'warning') t.warnings++;
      else t.infos++;
    }
  }
  return t;
}
