/** DSL versions (§3.2): `packaging.version` ordering and Dify's `check_version_compatibility`. */
import { isObject } from './util.js';

export type ImportStatus = 'completed' | 'completed-with-warnings' | 'pending' | 'failed';

/** PEP 440-ish versions, as packaging.version.parse for the forms DSL files use. */
interface Ver {
  release: number[];
  pre: number; // 0 = final; negative = pre-release rank
}
export function parseVersion(s: string): Ver | undefined {
  const m = /^\s*v?(\d+(?:\.\d+)*)(?:[-_.]?(a|alpha|b|beta|c|rc|pre|preview)[-_.]?(\d*))?(?:[-_.]?(post|rev|r)[-_.]?\d*)?(?:[-_.]?dev[-_.]?\d*)?(?:\+[a-z0-9.]+)?\s*$/i.exec(s);
  if (!m) return undefined;
  const release = m[1]!.split('.').map(Number);
  const preTag = m[2]?.toLowerCase();
  const pre = preTag ? -(preTag.startsWith('a') ? 3 : preTag.startsWith('b') ? 2 : 1) : 0;
  return { release, pre };
}
function cmpVer(a: Ver, b: Ver): number {
  const n = Math.max(a.release.length, b.release.length);
  for (let i = 0; i < n; i++) {
    const d = (a.release[i] ?? 0) - (b.release[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.pre - b.pre;
}

export function versionStatus(imported: string, current: string): ImportStatus {
  const i = parseVersion(imported);
  const c = parseVersion(current);
  if (!i || !c) return 'failed';
  if (cmpVer(i, c) > 0) return 'pending';
  if ((i.release[0] ?? 0) < (c.release[0] ?? 0)) return 'pending';
  if ((i.release[1] ?? 0) < (c.release[1] ?? 0)) return 'completed-with-warnings';
  return 'completed';
}

/** Python's `type(version)` in "Invalid version type, expected str, got <class …>". */
export function pyType(v: unknown, content: string): string {
  if (typeof v === 'number') {
    // JS numbers lose int vs float; look at how the top-level `version:` was written.
    const raw = /^version:[ \t]*([^\s#]+)/m.exec(content)?.[1] ?? '';
    return Number.isInteger(v) && /^[-+]?(0|[1-9][0-9_]*|0[0-7_]+|0x[0-9a-f_]+|0b[01_]+)$/i.test(raw) ? "<class 'int'>" : "<class 'float'>";
  }
  if (typeof v === 'boolean') return "<class 'bool'>";
  if (Array.isArray(v)) return "<class 'list'>";
  if (v instanceof Date) return "<class 'datetime.date'>";
  if (isObject(v)) return "<class 'dict'>";
  return "<class 'NoneType'>";
}
