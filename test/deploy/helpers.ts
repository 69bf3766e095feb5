/** Shared setup for deploy tests against the emulator: a temp project (config + DSLs) and a resolved config. */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../runner/src/config/resolve.js';
import type { ResolvedConfig } from '../../runner/src/config/types.js';
import type { Emulator } from '../../runner/src/emulator/index.js';
import { freshClients, useEmulator } from '../helpers/emulator.js';

export { freshClients };

export const FIX = join(import.meta.dirname, 'fixtures');
export const CANARY = 'sk-canary-Zq81Xv03Lm77';

/** The auth block of the seeded emulator admin (password in DIFY_PASSWORD). */
export const PASSWORD_AUTH = '{mode: password, email: admin@dify-ci.local, passwordEnv: DIFY_PASSWORD}';

/** One entry under `environments:` (the deploy and the tenant projects share it); API_BASE is https://<name>.invalid. */
export function environmentYaml(name: string, url: string, auth: string, envExtra = ''): string {
  return `  ${name}:
    url: ${url}
    auth: ${auth}
    timeoutMs: 10000
    variables: {API_BASE: 'https://${name}.invalid', MAX_ITEMS: 5}
    secrets:
      OPENAI_KEY: {env: CANARY_SECRET}
${envExtra}
`;
}

export interface Project {
  dir: string;
  environ: NodeJS.ProcessEnv;
  config(env?: string): ResolvedConfig;
  write(rel: string, text: string): void;
}

/**
 * A project in a temp dir. `auth` is the YAML of the auth block; `extraEnv` adds environment settings.
 * Apps: support (workflow.yml), faq (chat.yml).
 */
export function project(url: string, opts: { auth?: string; envExtra?: string; appsExtra?: string; environ?: Record<string, string> } = {}): Project {
  const dir = mkdtempSync(join(tmpdir(), 'dify-ci-deploy-'));
  copyFileSync(join(FIX, 'workflow.yml'), join(dir, 'workflow.yml'));
  copyFileSync(join(FIX, 'chat.yml'), join(dir, 'chat.yml'));
  writeFileSync(
    join(dir, 'dify-ci.yml'),
    `apps:
  support: {dsl: workflow.yml}
  faq: {dsl: chat.yml}
${opts.appsExtra ?? ''}
environments:
${environmentYaml('staging', url, opts.auth ?? PASSWORD_AUTH, opts.envExtra)}`,
  );
  const environ: NodeJS.ProcessEnv = { DIFY_PASSWORD: 'dify-ci-Passw0rd', CANARY_SECRET: CANARY, GIT_COMMIT: '0123456789abcdef0123456789abcdef01234567', BUILD_URL: 'https://jenkins.invalid/job/x/42/', ...opts.environ };
  return {
    dir,
    environ,
    config: (env = 'staging') => resolveConfig({ configFile: join(dir, 'dify-ci.yml'), envName: env, environ, cwd: dir }),
    write: (rel, text) => writeFileSync(join(dir, rel), text),
  };
}

/** Every file under dir (recursive), for "the canary never appears" checks. */
export function allFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...allFiles(p));
    else out.push(p);
  }
  return out;
}

export function assertNoCanary(dir: string, canary = CANARY): number {
  let n = 0;
  for (const f of allFiles(dir)) {
    n++;
    const text = readFileSync(f, 'utf8');
    if (text.includes(canary) || text.includes(Buffer.from(canary).toString('base64').slice(0, 16))) throw new Error(`the canary secret leaked into ${f}`);
  }
  return n;
}

/**
 * The usual deploy suite: `useEmulator()`'s hooks, and before each test (after the reset) a new `project()` on it
 * (`opts` as for `project()`). `ctx.emu` is the running emulator, `ctx.p` the current test's project (a test may
 * replace it); `ctx.restart()` starts over within a test: the emulator reset, fresh clients, a new project.
 */
export function useEmulatorProject(opts: Parameters<typeof project>[1] = {}): { readonly emu: Emulator; p: Project; restart(): void } {
  const emu = useEmulator();
  const ctx = {
    get emu() {
      return emu();
    },
    p: undefined as unknown as Project,
    restart() {
      emu().reset();
      freshClients();
      ctx.p = project(emu().url, opts);
    },
  };
  beforeEach(() => {
    ctx.p = project(emu().url, opts);
  });
  return ctx;
}
