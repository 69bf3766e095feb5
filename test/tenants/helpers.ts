/** Multi-tenant projects against one emulator: a workspace per tenant, the deploy fixtures, a smoke suite. */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Emulator } from '../../runner/src/emulator/index.js';
import { resolveConfig } from '../../runner/src/config/resolve.js';
import type { ResolvedConfig } from '../../runner/src/config/types.js';
import { loadTenants } from '../../runner/src/config/tenants.js';
import { environmentYaml, FIX, PASSWORD_AUTH } from '../deploy/helpers.js';

export const ADMIN_KEY = 'dify-ci-admin-key-for-tenant-tests';
export const SUITE = `cases:\n  - { name: answers, inputs: { q: hello }, assert: [ { status: succeeded } ] }\n`;

export interface TenantProject extends ProdProject {
  /** Tenant name → workspace id. */
  workspaces: Map<string, string>;
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

/** The environment a tenant project's commands run with. */
function tenantEnviron(): NodeJS.ProcessEnv {
  return {
    DIFY_PASSWORD: 'dify-ci-Passw0rd',
    DIFY_ADMIN_KEY: ADMIN_KEY,
    CANARY_SECRET: 'sk-tenant-secret-Zq81',
    GIT_COMMIT: '0123456789abcdef0123456789abcdef01234567',
    BUILD_URL: 'https://jenkins.invalid/job/t/1/',
  };
}

/** The auth block of the emulator's admin key (in DIFY_ADMIN_KEY) for one workspace. */
export function adminKeyAuth(workspaceId: string): string {
  return `{mode: admin-key, workspaceId: ${workspaceId}, keyEnv: DIFY_ADMIN_KEY}`;
}

export interface ProdProject {
  dir: string;
  environ: NodeJS.ProcessEnv;
  config(): ResolvedConfig;
  write(rel: string, text: string): void;
}

export interface ProdProjectOptions {
  /** The temp dir's name prefix. */
  prefix: string;
  /** Copy chat.yml too (workflow.yml always). */
  chat?: boolean;
  /** More files to write, by path relative to the project. */
  files?: Record<string, string>;
  /** YAML lines under `apps:`. */
  apps: string;
  url: string;
  auth: string;
  /** Extra keys of the environment. */
  envExtra?: string;
  /** Top-level YAML after the environment (the tenants, the rollout block). */
  tail: string;
}

/** A temp project with one `prod` environment: the deploy fixtures, the smoke suite, dify-ci.yml, the tenant environ. */
export function prodProject(opts: ProdProjectOptions): ProdProject {
  const dir = mkdtempSync(join(tmpdir(), opts.prefix));
  copyFileSync(join(FIX, 'workflow.yml'), join(dir, 'workflow.yml'));
  if (opts.chat) copyFileSync(join(FIX, 'chat.yml'), join(dir, 'chat.yml'));
  mkdirSync(join(dir, 'tests'));
  writeFileSync(join(dir, 'tests/support.yml'), SUITE);
  for (const [rel, text] of Object.entries(opts.files ?? {})) writeFileSync(join(dir, rel), text);
  writeFileSync(
    join(dir, 'dify-ci.yml'),
    `apps:
${opts.apps}environments:
${environmentYaml('prod', opts.url, opts.auth, opts.envExtra)}${opts.tail}
smoke: {retries: 0}
`,
  );
  const environ = tenantEnviron();
  return {
    dir,
    environ,
    config: () => resolveConfig({ configFile: join(dir, 'dify-ci.yml'), envName: 'prod', environ, cwd: dir }),
    write: (rel, text) => writeFileSync(join(dir, rel), text),
  };
}

export function tenantProject(emu: Emulator, opts: TenantProjectOptions): TenantProject {
  const files: Record<string, string> = {};
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
    files['tenants.csv'] = `${['name', 'workspaceId', ...keys.map((k) => `labels.${k}`)].join(',')}\n${lines.join('\n')}\n`;
    tenants = 'tenants: {file: tenants.csv}\n';
  }
  const auth = opts.auth === 'admin-key' ? adminKeyAuth(emu.workspaceId) : PASSWORD_AUTH;
  const apps = opts.apps ?? ['support'];
  const p = prodProject({
    prefix: 'dify-ci-tenants-',
    chat: true,
    files,
    apps: `${apps.includes('support') ? '  support: {dsl: workflow.yml, tests: tests/support.yml}\n' : ''}${apps.includes('faq') ? '  faq: {dsl: chat.yml}\n' : ''}`,
    url: emu.url,
    auth,
    envExtra: opts.envExtra,
    tail: `${tenants}${opts.rollout ?? ''}`,
  });
  return {
    ...p,
    workspaces,
    editPrompt: (text) => writeFileSync(join(p.dir, 'workflow.yml'), readFileSync(join(FIX, 'workflow.yml'), 'utf8').replace('Answer briefly.', text)),
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
