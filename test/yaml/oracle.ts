/**
 * The differential-test side of the YAML layer: the real PyYAML (pyyaml_oracle.py, one python process for many
 * documents) and our reader, both brought to the same typed JSON (described in pyyaml_oracle.py) to compare.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { loadPyYaml, type PyIssue } from '../../runner/src/yaml/pyyaml-load.js';
import { pyTimestamp } from '../../runner/src/yaml/pyyaml-scalars.js';

const ORACLE = join(dirname(fileURLToPath(import.meta.url)), 'pyyaml_oracle.py');

export type PyAnswer = { value: unknown } | { error: string; yaml: boolean };

let available: string | null | undefined;

/** Why PyYAML cannot be asked (python3 or the yaml module missing), or null when it can. */
export function pyyamlMissing(): string | null {
  if (available === undefined) {
    const r = spawnSync('python3', ['-c', 'import yaml; print(yaml.__version__)'], { encoding: 'utf8' });
    available = r.status === 0 ? null : `python3 with PyYAML is not installed (${(r.stderr || String(r.error ?? '')).trim().split('\n').pop()}); .ci/run installs python3-yaml`;
  }
  return available;
}

/** yaml.safe_load on every text, in one python process. */
export function pySafeLoad(texts: string[]): PyAnswer[] {
  const r = spawnSync('python3', [ORACLE], { input: JSON.stringify(texts), encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`pyyaml_oracle.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as PyAnswer[];
}

/** Our reader's answer in the same form. Unstorable values come back as PyYAML's types, rebuilt from the issues. */
export function ourSafeLoad(text: string): PyAnswer & { issues?: PyIssue[] } {
  const r = loadPyYaml(text);
  if (!r.ok) {
    const first = r.issues.find((i) => i.kind !== 'duplicate-key' && i.kind !== 'unstorable')!;
    return { error: `${first.kind}: ${first.message}`, yaml: first.kind === 'syntax', issues: r.issues };
  }
  return { value: r.value, issues: r.issues };
}

/**
 * Compares PyYAML's typed JSON with a plain value of ours: numbers compare numerically ({"$float": "1.0"} equals
 * 1 — JavaScript has one number type), keys in any order (Python dicts compare so). Returns the first difference.
 */
export function difference(py: unknown, ours: unknown, unstorable: ReadonlySet<string> = new Set(), path = '$'): string | null {
  if (py !== null && typeof py === 'object' && !Array.isArray(py)) {
    const o = py as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && ['$float', '$int', '$date', '$datetime', '$binary', '$set'].includes(keys[0]!)) {
      const [k] = keys as [string];
      const v = o[k] as string;
      if (k === '$float') {
        const n = v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : Number(v);
        return typeof ours === 'number' && (Object.is(n, ours) || n === ours) ? null : `${path}: PyYAML float ${v}, ours ${JSON.stringify(ours)}`;
      }
      if (!unstorable.has(path)) return `${path}: PyYAML ${k} ${JSON.stringify(v)}, ours ${JSON.stringify(ours)} and no 'unstorable' issue`;
      if (k === '$int') return typeof ours === 'number' && ours === Number(v) ? null : `${path}: PyYAML int ${v}, ours ${JSON.stringify(ours)}`;
      if (k === '$date' || k === '$datetime') {
        const ts = typeof ours === 'string' ? pyTimestamp(ours) : undefined;
        return ts && ts.iso === v && `$${ts.kind}` === k ? null : `${path}: PyYAML ${k} ${v}, ours ${JSON.stringify(ours)} (${ts?.iso})`;
      }
      return null;
    }
    if (ours === null || typeof ours !== 'object' || Array.isArray(ours)) return `${path}: PyYAML mapping, ours ${JSON.stringify(ours)?.slice(0, 80)}`;
    const mine = ours as Record<string, unknown>;
    // A date key (PyYAML: "$date:<iso>"): ours keeps the text, reported unstorable.
    const dateKey = (k: string) => {
      const [kind, iso] = k.split(/:(.*)/s) as [string, string];
      return Object.keys(mine).find((m) => {
        const ts = /^\d{4}-/.test(m) ? (() => { try { return pyTimestamp(m); } catch { return undefined; } })() : undefined;
        return ts && `$${ts.kind}` === kind && ts.iso === iso && unstorable.has(`${path}.${m}`);
      });
    };
    const alias = new Map(keys.filter((k) => /^\$date(time)?:/.test(k)).map((k) => [k, dateKey(k)]));
    for (const [k, m] of alias) {
      if (!m) return `${path}: PyYAML date key ${k}, ours has no such key reported unstorable`;
      mine[k] = mine[m];
      delete mine[m];
    }
    const missing = keys.filter((k) => !Object.prototype.hasOwnProperty.call(mine, k));
    const extra = Object.keys(mine).filter((k) => !Object.prototype.hasOwnProperty.call(o, k));
    if (missing.length || extra.length) return `${path}: keys differ (PyYAML only: ${JSON.stringify(missing)}, ours only: ${JSON.stringify(extra)})`;
    for (const k of keys) {
      const d = difference(o[k], mine[k], unstorable, `${path}.${k}`);
      if (d) return d;
    }
    return null;
  }
  if (Array.isArray(py)) {
    if (!Array.isArray(ours) || ours.length !== py.length) return `${path}: PyYAML list of ${py.length}, ours ${JSON.stringify(ours)?.slice(0, 80)}`;
    for (let i = 0; i < py.length; i++) {
      const d = difference(py[i], ours[i], unstorable, `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  return isDeepStrictEqual(py, ours) || (typeof py === 'number' && py === ours) ? null : `${path}: PyYAML ${JSON.stringify(py)}, ours ${JSON.stringify(ours)}`;
}

/** The JSON paths (`$.a[0].b`) of the values our reader reported as unstorable. */
export function unstorablePaths(issues: PyIssue[] = []): Set<string> {
  return new Set(issues.filter((i) => i.kind === 'unstorable' && i.path).map((i) => '$' + i.path!.map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`)).join('')));
}

/**
 * Exact comparison of two PyYAML answers (typed JSON on both sides, so int vs float counts), keys in any order.
 */
export function sameTyped(a: unknown, b: unknown): boolean {
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    return isDeepStrictEqual(ka, kb) && ka.every((k) => sameTyped((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return a === b;
}
