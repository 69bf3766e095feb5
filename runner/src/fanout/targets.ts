/**
 * Fan-out targets = environment × selected tenants × apps. Whether an environment fans out at all, which tenants
 * the options pick (`--tenants`, `--tenant`, `--shard`), and the (tenant, app) targets with their lane.
 */
import { usageError } from '../core/errors.js';
import type { EnvironmentConfig, ResolvedConfig, TenantConfig } from '../config/types.js';
import { selectTargets, type Target } from '../deploy/targets.js';
import { loadTenants } from '../config/tenants.js';
import { selectTenants } from '../selection/tenants.js';
import { applyShard, parseShard, type Shard } from '../selection/shard.js';
import type { TenantLane } from './lanes.js';

export interface TenantOptions {
  tenants?: string;
  tenant?: string;
  shard?: string;
  /** `--wave K`: one wave of the gray release (deploy: its new targets; smoke: its gate). */
  wave?: string;
}

/**
 * True when this environment deploys per tenant (`environments.<env>.tenants`, default: when tenants exist).
 * Tenant options on an environment that does not fan out are a usage error, so they never silently do nothing.
 */
export function fansOut(config: ResolvedConfig, env: EnvironmentConfig, opts: TenantOptions = {}): boolean {
  const given = (['tenants', 'tenant', 'shard', 'wave'] as const).filter((k) => opts[k] !== undefined && opts[k] !== '');
  const has = env.tenants && loadTenants(config).length > 0;
  if (!has && given.length) {
    const why = env.tenants ? 'no tenants are configured (tenants: in the config)' : `environments.${env.key}.tenants is false`;
    throw usageError(`--${given[0]} needs an environment that fans out over tenants: ${why}`);
  }
  return has;
}

/** The selected tenants (config order) and the shard they were cut to. */
export function chooseTenants(config: ResolvedConfig, opts: TenantOptions): { selected: TenantConfig[]; mine: TenantConfig[]; shard?: Shard } {
  const selected = selectTenants(loadTenants(config), { tenants: opts.tenants, tenant: opts.tenant });
  const shard = opts.shard ? parseShard(opts.shard) : undefined;
  // Shards split tenants, not apps: one tenant's apps stay on one agent (one session, one workspace switch).
  const names = new Set(applyShard(selected, shard, (t) => t.name).map((t) => t.name));
  return { selected, mine: selected.filter((t) => names.has(t.name)), shard };
}

export interface TenantTarget {
  /** `<tenant>/<app>`: what progress lines and tables show. */
  key: string;
  target: Target;
  lane: TenantLane;
}

/** The targets of the given tenants (their lanes), in tenant then app order. Disabled apps are left out. */
export function tenantTargets(config: ResolvedConfig, env: EnvironmentConfig, apps: string | undefined, lanes: TenantLane[]): TenantTarget[] {
  const out: TenantTarget[] = [];
  for (const lane of lanes) {
    for (const target of selectTargets(config, env, apps, lane.tenant)) out.push({ key: `${lane.tenant.name}/${target.app.key}`, target, lane });
  }
  return out;
}

/** Service API base of a tenant: its own server's `/v1`, else the environment's apiUrl. */
export function tenantApiUrl(env: EnvironmentConfig, tenant: TenantConfig): string {
  return tenant.url ? `${tenant.url.replace(/\/+$/, '')}/v1` : env.apiUrl;
}
