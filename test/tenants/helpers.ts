/** Multi-tenant projects against one emulator: a workspace per tenant, the deploy fixtures, a smoke suite. */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Emulator } from '../../runner/src/emulator/index.js';
import { resolveConfig } from '../../runner/src/config/resolve.js';
import type { ResolvedConfig } from '../../runner/src/config/types.js';
import { loadTenants } from '../../runner/src/tenants/load.js';
import { FIX } from '../deploy/helpers.js';

export const ADMIN_KEY = 'dify-ci-admin-key-for-tenant-tests';
export const SUITE = `cases:\n  - { name: answers, inputs: { q: hello }, assert: [ { status: succeeded } ] }\n`;

export interface TenantProject {
  dir: string;
  environ: NodeJS.ProcessEnv;
  /** Tenant name → workspace id. */
  workspaces: Map<string, string>;
  config(): ResolvedConfig;
  write(rel: string, text: string): void;
  /** Changes the support app's prompt (a new version to roll out). */
  editPrompt(text: string): void;
}

export interface TenantProjectOptions {
  tenants: number;
  auth?: 'password' | 'admin-key';
  /** YAML of the rollout block (top level). */
  rollout?: string;
  /** Extra YAML per tenant row, by index (e.g. `canary: true`, `labels: {tier: gold}`). */
  row?: (i: number) => string;
  /** Extra keys of the environment. */
  envExtra?: string;
  /** Tenants in a CSV file instead of inline. */
  csv?: boolean;
  /** Labels per tenant (inline rows and CSV columns). */
  labels?: (i: number) => Record<string, string>;
  apps?: ('support' | 'faq')[];
}

export function tenantName(i: number): string {
  return `t-${String(i).padStart(2, '0')}`;
}

export function tenantProject(emu: Emulator, opts: TenantProjectOptions): TenantProject {
  const dir = mkdtempSync(join(tmpdir(), 'dify-ci-tenants-'));
  copyFileSync(join(FIX, 'workflow.yml'), join(dir, 'workflow.yml'));
  copyFileSync(join(FIX, 'chat.yml'), join(dir, 'chat.yml'));
  mkdirSync(join(dir, 'tests'));
  writeFileSync(join(dir, 'tests/support.yml'), SUITE);
  const workspaces = new Map<string, string>();
  const rows: string[] = [];
  for (let i = 0; i < opts.tenants; i++) {
    const name = tenantName(i);
    const ws = emu.createWorkspace(`ws-${name}`).id;
    workspaces.set(name, ws);
    const labels = opts.labels?.(i);
    const extra = [labels ? `labels: {${Object.entries(labels).map(([k, v]) => `${k}: ${v}`).join(', ')}}` : '', opts.row?.(i) ?? ''].filter(Boolean);
    rows.push(`  - {name: ${name}, workspaceId: ${ws}${extra.map((e) => `, ${e}`).join('')}}`);
  }
  let tenants = `tenants:\n${rows.join('\n')}\n`;
  if (opts.csv) {
    const keys = Object.keys(opts.labels?.(0) ?? {});
    const lines = [...workspaces].map(([n, w], i) => [n, w, ...keys.map((k) => opts.labels!(i)[k] ?? '')].join(','));
    writeFileSync(join(dir, 'tenants.csv'), `${['name', 'workspaceId', ...keys.map((k) => `labels.${k}`)].join(',')}\n${lines.join('\n')}\n`);
    tenants = 'tenants: {file: tenants.csv}\n';
  }
  const auth = opts.auth === 'admin-key' ? `{mode: admin-key, workspaceId: ${emu.workspaceId}, keyEnv: DIFY_ADMIN_KEY}` : '{mode: password, email: admin@dify-ci.local, passwordEnv: DIFY_PASSWORD}';
  const apps = opts.apps ?? ['support'];
  writeFileSync(
    join(dir, 'dify-ci.yml'),
    `apps:
${apps.includes('support') ? '  support: {dsl: workflow.yml, tests: tests/support.yml}\n' : ''}${apps.includes('faq') ? '  faq: {dsl: chat.yml}\n' : ''}environments:
  prod:
    url: ${emu.url}
    auth: ${auth}
    timeoutMs: 10000
    variables: {API_BASE: 'https://prod.invalid', MAX_ITEMS: 5}
    secrets:
      OPENAI_KEY: {env: CANARY_SECRET}
${opts.envExtra ?? ''}
${tenants}${opts.rollout ?? ''}
smoke: {retries: 0}
`,
  );
  const environ: NodeJS.ProcessEnv = {
    DIFY_PASSWORD: 'dify-ci-Passw0rd',
    DIFY_ADMIN_KEY: ADMIN_KEY,
    CANARY_SECRET: 'sk-tenant-secret-Zq81',
    GIT_COMMIT: '0123456789abcdef0123456789abcdef01234567',
    BUILD_URL: 'https://jenkins.invalid/job/t/1/',
  };
  return {
    dir,
    environ,
    workspaces,
    config: () => resolveConfig({ configFile: join(dir, 'dify-ci.yml'), envName: 'prod', environ, cwd: dir }),
    write: (rel, text) => writeFileSync(join(dir, rel), text),
    editPrompt: (text) => writeFileSync(join(dir, 'workflow.yml'), readFileSync(join(FIX, 'workflow.yml'), 'utf8').replace('Answer briefly.', text)),
  };
}

export function allTenants(p: TenantProject) {
  return loadTenants(p.config());
}

/** Published versions of the app named `name` in a workspace (oldest first). */
export function publishedIn(emu: Emulator, workspaceId: string, name = 'support-flow') {
  const apps = emu.state.apps.filter((a) => a.workspaceId === workspaceId && a.name === name);
  if (apps.length > 1) throw new Error(`${apps.length} apps named ${name} in ${workspaceId}`);
  return apps[0]?.published ?? [];
}

/** Sum of the emulator's per-route counters whose key matches. */
export function routeCount(emu: Emulator, re: RegExp): number {
  return Object.entries(emu.stats.byRoute)
    .filter(([k]) => re.test(k))
    .reduce((n, [, v]) => n + v, 0);
}
