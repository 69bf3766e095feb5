/**
 * Tenant selection: `--tenants 'tier=gold,region=cn|hk,env!=test'` (every term must hold; `|` = any of) and
 * `--tenant a,b` (exact names). Unknown names are errors, so a typo never deploys to nobody.
 */
import { closest } from '../core/ajv.js';
import { usageError } from '../core/errors.js';

/** What selection looks at in a tenant (config/types.ts TenantConfig has it). */
export interface Selectable {
  name: string;
  canary?: boolean;
  workspaceId?: string;
  labels: Record<string, string>;
}

interface Term {
  key: string;
  negate: boolean;
  values: string[];
}

export function parseSelector(expr: string): Term[] {
  return expr
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((part) => {
      const m = /^([A-Za-z0-9_.-]+)\s*(!=|=)\s*(.+)$/.exec(part);
      if (!m) throw usageError(`invalid tenant selector '${part}' (expected key=value, key!=value or key=a|b)`);
      return { key: m[1]!, negate: m[2] === '!=', values: m[3]!.split('|').map((v) => v.trim()) };
    });
}

function valueOf(t: Selectable, key: string): string | undefined {
  if (key === 'name') return t.name;
  if (key === 'canary') return String(t.canary);
  if (key === 'workspaceId') return t.workspaceId;
  return t.labels[key];
}

function globMatch(pattern: string, value: string): boolean {
  if (!pattern.includes('*')) return pattern === value;
  const re = new RegExp('^' + pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
  return re.test(value);
}

export function selectTenants<T extends Selectable>(all: T[], opts: { tenants?: string; tenant?: string } = {}): T[] {
  let out = all;
  if (opts.tenant) {
    const names = opts.tenant.split(',').map((s) => s.trim()).filter(Boolean);
    const byName = new Map(all.map((t) => [t.name, t]));
    out = names.map((n) => {
      const t = byName.get(n);
      if (!t) {
        const hint = closest(n, [...byName.keys()]);
        throw usageError(`unknown tenant '${n}'${hint ? ` (did you mean '${hint}'?)` : ''}`);
      }
      return t;
    });
  }
  if (opts.tenants) {
    const terms = parseSelector(opts.tenants);
    out = out.filter((t) =>
      terms.every((term) => {
        const v = valueOf(t, term.key);
        const hit = v !== undefined && term.values.some((p) => globMatch(p, v));
        return term.negate ? !hit : hit;
      }),
    );
  }
  if (out.length === 0) throw usageError(`no tenant matches ${[opts.tenant && `--tenant ${opts.tenant}`, opts.tenants && `--tenants ${opts.tenants}`].filter(Boolean).join(' ')}`);
  return out;
}
