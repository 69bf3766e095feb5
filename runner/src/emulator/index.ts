/**
 * The Dify emulator's programmatic API (agreed interface: see docs/emulator.md).
 *   const emu = await startEmulator({ port: 0 }); … await emu.close();
 */
import type { Server } from 'node:net';
import { Core, resolveOptions } from './core.js';
import { validateFaults } from './faults.js';
import { createDataset } from './knowledge.js';
import { mintToken } from './openapi.js';
import { createEmulatorServer, listen } from './server.js';
import { Store } from './state.js';
import { normalisePlugins } from './plugins.js';
import { isTimezone } from './tz.js';
import type { EmulatorOptions, EmulatorStats, FaultRule, PluginsDecl, Role, ScriptRule } from './types.js';

export type { EmulatorOptions, FaultRule, ScriptRule, EmulatorStats, Role, AppMode, AuthEra, Quirk, PluginsDecl } from './types.js';
export { QUIRKS } from './types.js';
export { DEFAULT_ADMIN } from './core.js';

export interface EmulatorStateView {
  workspaces: { id: string; name: string }[];
  accounts: { id: string; email: string; workspaces: { id: string; role: Role }[] }[];
  apps: {
    id: string;
    name: string;
    mode: string;
    workspaceId: string;
    enableApi: boolean;
    draft: { id: string; hash: string; graph: Record<string, unknown>; features: Record<string, unknown>; environmentVariables: unknown[] } | null;
    /** Published versions, oldest first. */
    published: { id: string; version: string; markedName: string; hash: string }[];
    /** The published version the service API serves. */
    workflowId: string | null;
    modelConfig: Record<string, unknown> | null;
  }[];
  apiKeys: { id: string; appId: string; token: string; type: string }[];
  pendingImports: { id: string; workspaceId: string; expiresAtMs: number }[];
  datasets: { id: string; workspaceId: string; name: string }[];
  /** Installed plugins by workspace id or name (`*` = every workspace). */
  plugins: Record<string, string[]>;
}

export interface Emulator {
  url: string;
  /** The seeded owner; with `fresh`, the account `POST /console/api/setup` created (empty strings before setup). */
  readonly admin: { email: string; password: string };
  /** The seeded (or, with `fresh`, set-up) workspace; '' before setup. */
  readonly workspaceId: string;
  /** Addition: false while a `fresh` instance waits for `POST /console/api/setup`. */
  readonly setUp: boolean;
  adminApiKey: string | undefined;
  close(): Promise<void>;
  reset(): void;
  setFaults(rules: FaultRule[]): void;
  /** How often each rule of the last setFaults fired, in order: tests prove the fault they stage really happened. */
  faultsFired(): number[];
  setScript(rules: ScriptRule[]): void;
  advanceClock(ms: number): void;
  /** Addition: jump the emulated clock to an instant (Date, ISO string or Unix ms); time keeps running from there. */
  setClock(at: Date | string | number): void;
  /** Addition: the emulated clock (Unix ms). */
  now(): number;
  createWorkspace(name: string): { id: string };
  /** `timezone` (addition): the account's zone, default America/New_York (Dify's for en-US). */
  createAccount(a: { email: string; password: string; role: Role; workspaceId: string; name?: string; timezone?: string }): { id: string };
  readonly stats: EmulatorStats;
  readonly state: EmulatorStateView;
  /** Addition: a `dfoa_` token for `/openapi/v1` (default: the seeded admin). */
  mintOpenApiToken(accountEmail?: string): string;
  /** Addition: every authenticated console request answers A4 (unauthorized_and_force_logout) while on. */
  setForceLogout(on: boolean): void;
  /** Addition: persist now (no-op without statePath). */
  save(): void;
  /** Addition: a knowledge base in a workspace (default: the seeded one). */
  createDataset(opts: { name: string; workspaceId?: string; indexingTechnique?: 'high_quality' | 'economy' | null; enableApi?: boolean }): { id: string };
  /** Addition: a workspace knowledge API key (`dataset-…`). */
  createDatasetApiKey(workspaceId?: string): string;
  /** Addition: declare the installed plugins (replaces the current declaration; see option `plugins`). */
  setPlugins(plugins: PluginsDecl): void;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const opts = resolveOptions(options);
  if (opts.timezone !== undefined && !isTimezone(opts.timezone)) throw new Error(`unknown time zone '${opts.timezone}'`);
  const loaded = opts.statePath ? Store.load(opts.statePath) : undefined;
  const core = new Core(opts, loaded);
  if (options.faults) core.setFaults(validateFaults(options.faults));
  if (options.script) core.setScript(options.script);
  const server = createEmulatorServer(core);
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const addr = await listen(server, opts.host, opts.port);
  const host = addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  core.url = `http://${host}:${addr.port}`;
  core.persist();

  const notSetUp = (what: string): Error => new Error(`${what}: the emulator is fresh and not set up yet (POST /console/api/setup first)`);
  const emu: Emulator = {
    url: core.url,
    get admin() {
      if (!opts.fresh) return { ...opts.admin };
      const acc = core.store.data.accounts[core.adminAccountId];
      return acc ? { email: acc.email, password: acc.password } : { email: '', password: '' };
    },
    get workspaceId() {
      return core.defaultWorkspaceId;
    },
    get setUp() {
      return core.isSetUp;
    },
    adminApiKey: opts.adminApiKey,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        (server as unknown as Server).close(() => {
          // Service-API changes are written with a short delay: the last ones must not be lost.
          try {
            core.flush();
          } catch (e) {
            process.stderr.write(`emulator: cannot write the state file: ${(e as Error).message}\n`);
          }
          resolve();
        });
      }),
    reset() {
      core.reset();
      core.persist();
    },
    setFaults(rules) {
      core.setFaults(validateFaults(rules));
    },
    faultsFired() {
      return core.faults.map((c) => c.used);
    },
    setScript(rules) {
      core.setScript(rules);
    },
    advanceClock(ms) {
      core.clock.advance(ms);
    },
    setClock(at) {
      const ms = at instanceof Date ? at.getTime() : typeof at === 'string' ? Date.parse(at) : at;
      if (!Number.isFinite(ms)) throw new Error(`setClock: not a time: ${String(at)}`);
      core.clock.set(ms);
    },
    now() {
      return core.clock.nowMs();
    },
    createWorkspace(name) {
      if (!core.adminAccountId) throw notSetUp('createWorkspace');
      const ws = core.createWorkspace(name);
      core.persist();
      return { id: ws.id };
    },
    createAccount(a) {
      if (!core.store.data.workspaces[a.workspaceId]) throw new Error(`unknown workspace ${a.workspaceId}`);
      if (a.timezone !== undefined && !isTimezone(a.timezone)) throw new Error(`unknown time zone ${a.timezone}`);
      let acc = core.store.accountByEmail(a.email);
      if (!acc) acc = core.store.addAccount({ email: a.email, password: a.password, name: a.name, workspaceId: a.workspaceId, timezone: a.timezone }, core.clock.nowSec());
      else {
        acc.password = a.password;
        if (a.timezone) acc.timezone = a.timezone;
      }
      core.store.setMember(acc.id, a.workspaceId, a.role);
      core.persist();
      return { id: acc.id };
    },
    get stats() {
      return core.stats;
    },
    get state() {
      return view(core);
    },
    mintOpenApiToken(email) {
      if (!email && !core.adminAccountId) throw notSetUp('mintOpenApiToken');
      const acc = email ? core.store.accountByEmail(email) : core.admin;
      if (!acc) throw new Error(`unknown account ${email}`);
      return mintToken(core, acc.id);
    },
    setForceLogout(on) {
      core.forceLogout = on;
    },
    save() {
      core.persist();
    },
    createDataset(o) {
      if (!o.workspaceId && !core.defaultWorkspaceId) throw notSetUp('createDataset');
      const ws = o.workspaceId ?? core.defaultWorkspaceId;
      if (!core.store.data.workspaces[ws]) throw new Error(`unknown workspace ${ws}`);
      const ds = createDataset(core, ws, core.adminAccountId, { name: o.name, indexing_technique: o.indexingTechnique ?? undefined });
      if (o.enableApi === false) ds.enableApi = false;
      core.persist();
      return { id: ds.id };
    },
    createDatasetApiKey(workspaceId) {
      if (!workspaceId && !core.defaultWorkspaceId) throw notSetUp('createDatasetApiKey');
      const ws = workspaceId ?? core.defaultWorkspaceId;
      if (!core.store.data.workspaces[ws]) throw new Error(`unknown workspace ${ws}`);
      const k = core.store.addKey('', ws, core.clock.nowSec(), 'dataset');
      core.persist();
      return k.token;
    },
    setPlugins(plugins) {
      core.store.data.plugins = normalisePlugins(plugins);
      core.persist();
    },
  };
  return emu;
}

function view(core: Core): EmulatorStateView {
  const d = core.store.data;
  return {
    workspaces: Object.values(d.workspaces).map((w) => ({ id: w.id, name: w.name })),
    accounts: Object.values(d.accounts).map((a) => ({
      id: a.id,
      email: a.email,
      workspaces: d.members.filter((m) => m.accountId === a.id).map((m) => ({ id: m.workspaceId, role: m.role })),
    })),
    apps: Object.values(d.apps).map((a) => ({
      id: a.id,
      name: a.name,
      mode: a.mode,
      workspaceId: a.workspaceId,
      enableApi: a.enable_api,
      draft: a.draft
        ? { id: a.draft.id, hash: core.hashOf(a.draft), graph: a.draft.graph, features: a.draft.features, environmentVariables: a.draft.environment_variables }
        : null,
      published: a.versions.map((v) => ({ id: v.id, version: v.version, markedName: v.marked_name, hash: core.hashOf(v) })),
      workflowId: a.workflowId,
      modelConfig: a.modelConfig,
    })),
    apiKeys: Object.values(d.apiKeys).map((k) => ({ id: k.id, appId: k.appId, token: k.token, type: k.type })),
    pendingImports: Object.values(d.pendingImports).map((p) => ({ id: p.id, workspaceId: p.workspaceId, expiresAtMs: p.expiresAtMs })),
    datasets: Object.values(d.datasets).map((x) => ({ id: x.id, workspaceId: x.workspaceId, name: x.name })),
    plugins: structuredClone(d.plugins),
  };
}
