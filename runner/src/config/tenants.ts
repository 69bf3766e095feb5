/**
 * Tenants: inline in dify-ci.yml, or a YAML/CSV file with hundreds of rows. Every row is checked against the same
 * JSON Schema as inline tenants, and every error names file:line(:column).
 */
import { extname } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { configError, formatPosition, type SourcePosition } from '../core/errors.js';
import type { ValidateFunction } from '../core/ajv.js';
import { validatorFor } from '../core/validators.js';
import { CONFIG_SCHEMAS } from './schemas.js';
import { schemaProblems } from '../core/schema-errors.js';
import { positionOf, type SourceDoc } from '../yaml/source.js';
import { parseSource } from '../core/source.js';
import { readConfigText, type TrustedSource } from './trusted.js';
import type { AuthConfig, ResolvedConfig, TenantConfig } from './types.js';

function validator(): ValidateFunction {
  return validatorFor('tenantList', CONFIG_SCHEMAS.tenantList);
}

const cache = new WeakMap<ResolvedConfig, TenantConfig[]>();

/** All tenants of the configuration (loads and checks the tenant file once). */
export function loadTenants(config: ResolvedConfig): TenantConfig[] {
  if (Array.isArray(config.tenants)) return config.tenants;
  const hit = cache.get(config);
  if (hit) return hit;
  const file = config.tenants.file;
  const trusted = config.trusted ?? null; // an untrusted build: the tenant file's readTrusted copy only
  const list = extname(file).toLowerCase() === '.csv' ? loadCsv(file, trusted) : loadYaml(file, trusted);
  cache.set(config, list);
  return list;
}

function normalise(raw: any, source: { file: string; line?: number }): TenantConfig {
  return {
    name: raw.name,
    workspaceId: raw.workspaceId,
    url: raw.url,
    auth: raw.auth as AuthConfig | undefined,
    variables: raw.variables ?? {},
    labels: Object.fromEntries(Object.entries(raw.labels ?? {}).map(([k, v]) => [k, String(v)])),
    canary: raw.canary ?? false,
    apps: raw.apps ?? {},
    source,
  };
}

function checkUnique(list: TenantConfig[]): void {
  const seen = new Map<string, TenantConfig>();
  for (const t of list) {
    const prev = seen.get(t.name);
    if (prev) {
      throw configError(`duplicate tenant name '${t.name}' (first at line ${prev.source?.line})`, { position: { file: t.source!.file, line: t.source?.line } });
    }
    seen.set(t.name, t);
    if (!t.workspaceId && !t.url) {
      throw configError(`tenant '${t.name}' needs a workspaceId or its own url`, { position: { file: t.source!.file, line: t.source?.line } });
    }
  }
}

function loadYaml(file: string, trusted: TrustedSource | null): TenantConfig[] {
  const { shown, text } = readConfigText(file, trusted);
  const src: SourceDoc = parseSource(shown, text, { category: 'config' });
  let rows = src.value as unknown;
  let prefix: (string | number)[] = [];
  if (rows && typeof rows === 'object' && !Array.isArray(rows) && Array.isArray((rows as { tenants?: unknown }).tenants)) {
    rows = (rows as { tenants: unknown[] }).tenants;
    prefix = ['tenants'];
  }
  if (!Array.isArray(rows)) throw configError('a tenant file holds a list of tenants (or tenants: [...])', { position: { file: src.file, line: 1, column: 1 } });
  const validate = validator();
  if (!validate(rows)) {
    // Errors are reported against the list; shift the paths when the list sits under `tenants:`.
    const problems = schemaProblems(src, (validate.errors ?? []).map((e) => ({ ...e, instancePath: prefix.length ? `/tenants${e.instancePath}` : e.instancePath })));
    const [first, ...rest] = problems;
    throw configError(first!.message, { position: first!.position, details: rest.map((p) => `${formatPosition(p.position)}: ${p.message}`) });
  }
  const list = (rows as any[]).map((r, i) => normalise(r, { file: src.file, line: positionOf(src, [...prefix, i]).line }));
  checkUnique(list);
  return list;
}

/** CSV columns: name, workspaceId, url, canary, labels.<k>, variables.<K>, auth.<field>, apps.<app>.<field>. */
function loadCsv(file: string, trusted: TrustedSource | null): TenantConfig[] {
  const { shown, text } = readConfigText(file, trusted);
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parseCsv(text, { columns: true, skip_empty_lines: true, trim: true, info: true, comment: '#' });
  } catch (e) {
    const err = e as Error & { lines?: number; column?: string | number };
    throw configError(`invalid CSV: ${err.message.replace(/^Invalid Record Length: /, '')}`, { position: { file: shown, line: err.lines } });
  }
  const header = text.split(/\r?\n/, 1)[0]!.split(',').map((h) => h.trim());
  const list: TenantConfig[] = [];
  const validate = validator();
  for (const { record, info } of records) {
    const line = info.lines;
    const row: any = {};
    for (const [col, value] of Object.entries(record)) {
      if (value === '') continue;
      const parts = col.split('.');
      const pos: SourcePosition = { file: shown, line, column: header.indexOf(col) + 1 };
      if (parts.length === 1) {
        row[col] = col === 'canary' ? parseBool(value, pos, col) : value;
      } else {
        let o = row;
        for (const p of parts.slice(0, -1)) o = o[p] ??= {};
        o[parts[parts.length - 1]!] = value;
      }
    }
    if (!validate([row])) {
      const e = (validate.errors ?? [])[0]!;
      const path = e.instancePath.split('/').slice(2).join('.');
      const extra = (e.params as { additionalProperty?: string }).additionalProperty;
      const what = extra ? `unknown column '${[path, extra].filter(Boolean).join('.')}'` : `${path || 'row'} ${e.message}`;
      const col = extra ? header.findIndex((h) => h === [path, extra].filter(Boolean).join('.') || h.startsWith(`${extra}.`)) + 1 : header.indexOf(path) + 1;
      throw configError(`tenant row: ${what}`, { position: { file: shown, line, column: col > 0 ? col : undefined } });
    }
    list.push(normalise(row, { file: shown, line }));
  }
  checkUnique(list);
  return list;
}

function parseBool(v: string, pos: SourcePosition, col: string): boolean {
  if (/^(true|yes|1)$/i.test(v)) return true;
  if (/^(false|no|0)$/i.test(v)) return false;
  throw configError(`column '${col}' must be true or false, got '${v}'`, { position: pos });
}
