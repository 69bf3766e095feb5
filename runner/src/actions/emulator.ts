/** `dify-ci emulator`: start, announce the URL and credentials, run until SIGINT/SIGTERM, stop cleanly. */
import { resolve } from 'node:path';
import type { CommandOutcome } from '../core/command.js';
import { DifyCiError, usageError } from '../core/errors.js';
import { log } from '../core/log.js';
import { startEmulator, type Emulator } from '../emulator/index.js';
import type { EmulatorOptions } from '../emulator/types.js';
import { loadFaultsFile, loadPluginsFile, loadScriptFile } from './emulator-files.js';
import type { EmulatorData } from '../results/commands.js';
import type { ActionArgs, ActionContext } from './action.js';

/** The options as commander gives them (numbers as text). */
export interface EmulatorCliOptions {
  host: string;
  port: string;
  state?: string;
  dslVersion: string;
  latency?: string;
  jitter?: string;
  faults?: string;
  script?: string;
  plugins?: string;
  admin?: string;
  authEra: string;
  secureCookies?: boolean;
  openapi?: boolean;
  adminApiKey?: string;
  seed?: string;
  quirk?: string[];
  workspaces: string;
  fresh?: boolean;
  cookieDomain?: string;
  draftHash: string;
}

interface EmulatorRun extends EmulatorOptions {
  faultsFile?: string;
  scriptFile?: string;
  pluginsFile?: string;
  /** Workspaces in all, the seeded one included (default 1). */
  workspaces?: number;
}

const MAX_WORKSPACES = 1000;

/** A whole number ≥ 0, or a usage error naming the option. */
function count(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw usageError(`${name} must be a whole number, got '${v}'`);
  if (n < 0) throw usageError(`${name} must not be negative`);
  return n;
}

export async function emulatorAction(_ctx: ActionContext, opts: EmulatorCliOptions, cli: ActionArgs): Promise<CommandOutcome<EmulatorData>> {
  let admin: { email: string; password: string } | undefined;
  if (opts.fresh && opts.admin) {
    const from = cli.source('admin') === 'env' ? 'DIFY_CI_EMULATOR_ADMIN' : '--admin';
    throw usageError(`--fresh starts without any account: it cannot be combined with ${from} (the owner is created by POST /console/api/setup)`);
  }
  if (opts.cookieDomain !== undefined && opts.cookieDomain.replace(/^\s*\.?/, '').trim() === '') throw usageError('--cookie-domain must not be empty');
  if (opts.admin) {
    const i = opts.admin.indexOf(':');
    if (i <= 0 || i === opts.admin.length - 1) throw usageError('--admin must be EMAIL:PASSWORD');
    admin = { email: opts.admin.slice(0, i), password: opts.admin.slice(i + 1) };
  }
  const port = count(opts.port, '--port');
  if (port !== undefined && port > 65535) throw usageError('--port must be between 0 and 65535');
  return runEmulator({
    host: opts.host,
    port,
    statePath: opts.state,
    dslVersion: opts.dslVersion,
    latencyMs: count(opts.latency, '--latency'),
    jitterMs: count(opts.jitter, '--jitter'),
    seed: count(opts.seed, '--seed'),
    faultsFile: opts.faults,
    scriptFile: opts.script,
    pluginsFile: opts.plugins,
    admin,
    authEra: opts.authEra as 'modern' | 'legacy',
    secureCookies: Boolean(opts.secureCookies),
    openapi: Boolean(opts.openapi),
    adminApiKey: opts.adminApiKey,
    quirks: opts.quirk as EmulatorOptions['quirks'],
    workspaces: count(opts.workspaces, '--workspaces'),
    fresh: Boolean(opts.fresh),
    cookieDomain: opts.cookieDomain,
    draftHash: opts.draftHash as 'graph+features' | 'graph',
  });
}

/** Name of the i-th extra workspace (1-based): ws-001, ws-002, … */
function workspaceName(i: number): string {
  return `ws-${String(i).padStart(3, '0')}`;
}

/** The seeded workspace plus ws-001…ws-(n-1), owned by the admin; a reloaded --state keeps the ones it has. */
function ensureWorkspaces(emu: Emulator, n: number): { id: string; name: string }[] {
  const state = emu.state;
  const adminWs = new Set(state.accounts.find((a) => a.email === emu.admin.email)?.workspaces.map((w) => w.id) ?? []);
  const seeded = state.workspaces.find((w) => w.id === emu.workspaceId);
  const out = [{ id: emu.workspaceId, name: seeded?.name ?? '' }];
  for (let i = 1; i < n; i++) {
    const name = workspaceName(i);
    const found = state.workspaces.find((w) => w.name === name && adminWs.has(w.id));
    out.push({ id: found?.id ?? emu.createWorkspace(name).id, name });
  }
  return out;
}

async function runEmulator(o: EmulatorRun): Promise<CommandOutcome<EmulatorData>> {
  if (!/^\d+\.\d+\.\d+$/.test(o.dslVersion ?? '0.6.0')) throw usageError(`--dsl-version must look like 0.6.0, got '${o.dslVersion}'`);
  const nWorkspaces = o.workspaces ?? 1;
  if (!Number.isInteger(nWorkspaces) || nWorkspaces < 1 || nWorkspaces > MAX_WORKSPACES) {
    throw usageError(`--workspaces must be between 1 and ${MAX_WORKSPACES}, got '${o.workspaces}'`);
  }
  if (o.fresh && nWorkspaces > 1) {
    throw usageError('--workspaces needs the seeded admin to own the extra workspaces: not with --fresh (create them after setup)');
  }
  const faults = o.faultsFile ? loadFaultsFile(o.faultsFile) : undefined;
  const script = o.scriptFile ? loadScriptFile(o.scriptFile) : undefined;
  const plugins = o.pluginsFile ? loadPluginsFile(o.pluginsFile) : o.plugins;
  let emu;
  try {
    emu = await startEmulator({ ...o, port: o.port ?? 5001, faults, script, plugins, statePath: o.statePath ? resolve(o.statePath) : undefined });
  } catch (e) {
    if (e instanceof DifyCiError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE') throw usageError(`port ${o.port ?? 5001} is already in use (pick another with --port)`);
    throw new DifyCiError(`cannot start the emulator: ${err.message}`, 'operation', { cause: e });
  }
  const fresh = Boolean(o.fresh) && !emu.setUp;
  const workspaces = fresh ? [] : ensureWorkspaces(emu, nWorkspaces);
  log.ok(`Dify emulator listening on ${emu.url}  (console ${emu.url}/console/api, service ${emu.url}/v1${o.openapi ? `, openapi ${emu.url}/openapi/v1` : ''})`);
  if (fresh) {
    log.info('  fresh instance: not set up, no credentials seeded — create the owner with POST /console/api/setup {email, name, password, language}');
  } else if (o.fresh) {
    log.warn(`  --fresh: the state file is already set up; using its owner ${emu.admin.email} (password as set up)   workspace: ${emu.workspaceId}`);
  } else log.info(`  admin: ${emu.admin.email} / ${emu.admin.password}   workspace: ${emu.workspaceId}`);
  if (o.cookieDomain) log.info(`  cookie domain: ${o.cookieDomain} (no __Host- prefix)`);
  if (workspaces.length > 1) log.info(`  workspaces: ${workspaces.slice(1).map((w) => `${w.name} ${w.id}`).join(', ')}`);
  if (o.statePath) log.info(`  state: ${resolve(o.statePath)}`);
  if (faults?.length) log.info(`  faults: ${faults.length} rule(s)`);
  if (script?.length) log.info(`  script: ${script.length} rule(s)`);
  const declared = Object.entries(emu.state.plugins).filter(([, l]) => l.length > 0);
  if (declared.length) log.info(`  plugins: ${declared.map(([ws, l]) => `${ws === '*' ? 'every workspace' : ws}: ${l.join(', ')}`).join('; ')}`);
  log.info('  stop with Ctrl-C (SIGINT) or SIGTERM');
  // `workspaces` (seeded first) was added after `workspaceId`; readers of the older fields are unaffected.
  // A fresh instance has no credentials: `fresh: true` and no email/password/workspace fields.
  const line: Record<string, unknown> = fresh
    ? { url: emu.url, fresh: true, workspaces }
    : o.fresh
      ? { url: emu.url, email: emu.admin.email, workspaceId: emu.workspaceId, workspaces }
      : { url: emu.url, email: emu.admin.email, password: emu.admin.password, workspaceId: emu.workspaceId, workspaces };
  if (emu.adminApiKey) line.adminApiKey = emu.adminApiKey;
  // Listen for the signals before saying we are ready: whoever reads the line may stop us at once.
  const stopped = new Promise<string>((res) => {
    process.once('SIGINT', () => res('SIGINT'));
    process.once('SIGTERM', () => res('SIGTERM'));
  });
  process.stdout.write(JSON.stringify(line) + '\n');
  const signal = await stopped;
  const stats = emu.stats;
  emu.save();
  await emu.close();
  log.info(`emulator stopped (${signal}) after ${stats.requests} request(s)`);
  return {
    summary: `emulator on ${emu.url} stopped by ${signal} after ${stats.requests} request(s)`,
    counts: { requests: stats.requests, logins: stats.logins },
    data: { url: emu.url, workspaceId: emu.workspaceId, workspaceIds: workspaces.map((w) => w.id), byRoute: stats.byRoute },
  };
}
