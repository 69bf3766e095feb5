/** Assertions over structured results: JSON answers and workflow outputs. */
import { createAjv, type ValidateFunction } from '../../core/ajv.js';
import { ok, quote, unknown, type AssertionDef } from './types.js';
import { compileRegex } from './text.js';

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  try {
    return { ok: true, value: JSON.parse(text.trim()) };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

export const isJson: AssertionDef = {
  run(_value, obs) {
    const r = parseJson(obs.answer);
    return r.ok ? ok(true, 'answer is valid JSON') : ok(false, `answer is not JSON (${r.error})`);
  },
};

// Compiled once per schema object: suites are loaded once, cases run many times.
const compiled = new WeakMap<object, ValidateFunction>();
let ajv: ReturnType<typeof createAjv> | null = null;
function validatorFor(schema: object): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    ajv ??= createAjv({ verbose: false });
    v = ajv.compile(schema);
    compiled.set(schema, v);
  }
  return v;
}

export const jsonSchema: AssertionDef = {
  check(value) {
    try {
      validatorFor(value as object);
      return undefined;
    } catch (e) {
      return `invalid JSON schema: ${(e as Error).message}`;
    }
  },
  run(value, obs) {
    const r = parseJson(obs.answer);
    if (!r.ok) return ok(false, `answer is not JSON (${r.error})`);
    const validate = validatorFor(value as object);
    if (validate(r.value)) return ok(true, 'answer matches the JSON schema');
    const first = validate.errors?.[0];
    const where = first?.instancePath || '(root)';
    return ok(false, `answer does not match the JSON schema: ${where} ${first?.message ?? ''}`.trim());
  },
};

/** `a.b[0].c` or `a.b.0.c`. */
export function splitPath(path: string): string[] {
  return path
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter((p) => p !== '');
}

export function getPath(root: unknown, path: string): { found: boolean; value?: unknown } {
  let cur: unknown = root;
  for (const seg of splitPath(path)) {
    if (cur === null || typeof cur !== 'object' || !(seg in (cur as object))) return { found: false };
    cur = (cur as Record<string, unknown>)[seg];
  }
  return { found: true, value: cur };
}

interface OutputSpec {
  path: string;
  equals?: unknown;
  contains?: string | number;
  regex?: string;
  exists?: boolean;
}

function same(a: unknown, b: unknown): boolean {
  if (typeof a === 'string' && typeof b !== 'string' && b !== null && typeof b !== 'object') return a.trim() === String(b);
  return JSON.stringify(a) === JSON.stringify(b);
}

export const output: AssertionDef = {
  check(value) {
    const v = value as OutputSpec;
    if (v.regex !== undefined) {
      try {
        compileRegex(v.regex);
      } catch (e) {
        return `invalid regular expression: ${(e as Error).message}`;
      }
    }
    return undefined;
  },
  run(value, obs) {
    const v = value as OutputSpec;
    if (!obs.outputs) return unknown(`no workflow outputs (app mode ${obs.mode}, status ${obs.status})`);
    const got = getPath(obs.outputs, v.path);
    const name = `outputs.${v.path}`;
    if (v.exists === false) return ok(!got.found, got.found ? `${name} exists` : `${name} is absent`);
    if (!got.found) return ok(false, `${name} is absent (outputs: ${Object.keys(obs.outputs).join(', ') || 'none'})`);
    const text = typeof got.value === 'string' ? got.value : JSON.stringify(got.value);
    if (v.equals !== undefined) {
      const pass = same(got.value, v.equals);
      return ok(pass, pass ? `${name} equals ${quote(v.equals)}` : `${name} is ${quote(got.value)}, not ${quote(v.equals)}`);
    }
    if (v.contains !== undefined) {
      const pass = text.includes(String(v.contains));
      return ok(pass, `${name} ${pass ? 'contains' : 'does not contain'} ${quote(String(v.contains))}`);
    }
    if (v.regex !== undefined) {
      const re = compileRegex(v.regex);
      const pass = re.test(text);
      return ok(pass, `${name} ${pass ? 'matches' : 'does not match'} /${re.source}/`);
    }
    return ok(true, `${name} exists`);
  },
};
