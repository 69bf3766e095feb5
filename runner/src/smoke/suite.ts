/**
 * Smoke suite files (tests/<app>.yml): load, validate against suite.schema.json, normalise. Every problem names
 * file:line:column, like the config; all problems are reported at once.
 */
import type { ValidateFunction } from '../core/ajv.js';
import { validatorFor } from '../core/validators.js';
import { SMOKE_SCHEMAS } from './schemas.js';
import { DifyCiError, formatPosition, type SourcePosition } from '../core/errors.js';
import { schemaProblems } from '../core/schema-errors.js';
import { positionOf, type PathSegment, type SourceDoc } from '../yaml/source.js';
import { loadSourceFile, parseSource } from '../core/source.js';
import { checkAssertionValue, parseAssertionKey } from './assertions/index.js';
import type { AssertionSpec, CaseSpec, FileSpec, Suite, TurnSpec } from './types.js';

function validateSchema(): ValidateFunction {
  return validatorFor('smokeSuite', SMOKE_SCHEMAS.smokeSuite);
}

interface Problem {
  message: string;
  position: SourcePosition;
}

function fail(problems: Problem[]): never {
  const sorted = [...problems].sort((a, b) => (a.position.line ?? 0) - (b.position.line ?? 0));
  const [first, ...rest] = sorted;
  throw new DifyCiError(first!.message, 'input', {
    position: first!.position,
    details: rest.map((p) => `${formatPosition(p.position)}: ${p.message}`),
  });
}

/** YAML-like flow text for labels: {maxMs: 8000} rather than {"maxMs":8000}. */
function flow(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(flow).join(', ')}]`;
  if (v && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${k}: ${flow(x)}`).join(', ')}}`;
  return typeof v === 'string' ? (/^[^\s,:{}[\]'"]+$/.test(v) ? v : JSON.stringify(v)) : String(v);
}

function label(key: string, value: unknown): string {
  if (value === undefined || value === null || value === true) return key;
  const v = typeof value === 'string' ? value : flow(value);
  return `${key}: ${v.length > 60 ? v.slice(0, 59) + '…' : v}`;
}

function parseAssertions(src: SourceDoc, list: unknown[] | undefined, path: PathSegment[], problems: Problem[]): AssertionSpec[] {
  const out: AssertionSpec[] = [];
  (list ?? []).forEach((item, i) => {
    const p = [...path, i];
    if (typeof item === 'string') {
      const k = parseAssertionKey(item)!;
      out.push({ type: k.type, negate: k.negate, value: true, weight: 1, label: item, position: positionOf(src, p) });
      return;
    }
    const obj = item as Record<string, unknown>;
    const keys = Object.keys(obj).filter((k) => k !== 'weight');
    if (keys.length !== 1) {
      problems.push({
        position: positionOf(src, p),
        message:
          keys.length === 0
            ? `assertion needs a type (e.g. contains: …), not only a weight`
            : `one assertion per list item, found ${keys.join(', ')} (write each as its own '- ' item)`,
      });
      return;
    }
    const key = keys[0]!;
    const parsed = parseAssertionKey(key)!;
    const value = obj[key];
    const problem = checkAssertionValue(parsed.type, value);
    if (problem) problems.push({ position: positionOf(src, [...p, key]), message: `${key}: ${problem}` });
    out.push({
      type: parsed.type,
      negate: parsed.negate,
      value,
      weight: typeof obj.weight === 'number' ? obj.weight : 1,
      label: label(key, value),
      position: positionOf(src, p),
    });
  });
  return out;
}

/** Parses a suite document already read from disk (or from a string, in tests). */
export function parseSuite(src: SourceDoc): Suite {
  const raw = src.value as any;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new DifyCiError('a smoke suite must be a mapping with cases: (see docs/smoke.md)', 'input', { position: { file: src.file, line: 1, column: 1 } });
  }
  const validate = validateSchema();
  if (!validate(src.value)) fail(schemaProblems(src, validate.errors ?? []));

  const problems: Problem[] = [];
  const names = new Map<string, number>();
  const cases: CaseSpec[] = (raw.cases as any[]).map((c, i) => {
    const path: PathSegment[] = ['cases', i];
    const position = positionOf(src, path);
    if (names.has(c.name)) {
      problems.push({ position: positionOf(src, [...path, 'name']), message: `duplicate case name '${c.name}' (first at line ${names.get(c.name)})` });
    } else names.set(c.name, position.line ?? 0);
    const inputs = { ...(raw.defaults?.inputs ?? {}), ...(c.inputs ?? {}) };
    let turns: TurnSpec[];
    let caseAssert: AssertionSpec[] = [];
    if (c.conversation) {
      if (c.query !== undefined) {
        problems.push({ position: positionOf(src, [...path, 'query'], { key: true }), message: `case '${c.name}': use either query or conversation, not both` });
      }
      turns = (c.conversation as any[]).map((t, j) => ({
        query: t.query,
        inputs: { ...inputs, ...(t.inputs ?? {}) },
        assert: parseAssertions(src, t.assert, [...path, 'conversation', j, 'assert'], problems),
        position: positionOf(src, [...path, 'conversation', j]),
      }));
      caseAssert = parseAssertions(src, c.assert, [...path, 'assert'], problems);
    } else {
      turns = [{ query: c.query, inputs, assert: parseAssertions(src, c.assert, [...path, 'assert'], problems), position }];
    }
    const files: FileSpec[] = (c.files ?? []).map((f: any) => ({ type: f.type, url: f.url, transfer_method: 'remote_url' }));
    return {
      name: c.name,
      description: c.description,
      turns,
      conversation: Boolean(c.conversation),
      caseAssert,
      files,
      threshold: c.threshold ?? raw.defaults?.threshold,
      required: c.required ?? false,
      skip: c.skip ?? false,
      repeat: c.repeat,
      timeoutMs: c.timeoutMs,
      mode: c.mode,
      user: c.user,
      position,
    };
  });
  if (problems.length) fail(problems);
  return {
    file: src.file,
    description: raw.description,
    defaults: {
      user: raw.defaults?.user,
      mode: raw.defaults?.mode,
      timeoutMs: raw.defaults?.timeoutMs,
      repeat: raw.defaults?.repeat,
      threshold: raw.defaults?.threshold,
      inputs: raw.defaults?.inputs ?? {},
    },
    passRate: raw.passRate,
    cases,
  };
}

export function loadSuite(file: string): Suite {
  return parseSuite(loadSourceFile(file, { category: 'input' }));
}

export function parseSuiteText(file: string, text: string): Suite {
  return parseSuite(parseSource(file, text, { category: 'input' }));
}
