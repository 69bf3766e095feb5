/** The emulator's shared runtime: options, state, clock, RNG, faults, script, counters. */
import { normalisePlugins } from './plugins.js';
import type { EmulatorOptions, EmulatorStats, FaultRule, Quirk, ScriptRule } from './types.js';
import { Store, workflowHash, type Account, type App, type DraftHashScope, type Workspace, type WorkflowRow } from './state.js';
import { Clock, Rng, uuid } from './util.js';

export const DEFAULT_ADMIN = { email: 'admin@dify-ci.local', password: 'dify-ci-Passw0rd' };
export const DEFAULT_WORKSPACE_NAME = "Admin's Workspace";

export interface Resolved {
  host: string;
  port: number;
  dslVersion: string;
  authEra: 'modern' | 'legacy';
  secureCookies: boolean;
  openapi: boolean;
  adminApiKey?: string;
  admin: { email: string; password: string };
  latencyMs: number;
  jitterMs: number;
  seed: number;
  statePath?: string;
  loginFailureLimit: number;
  appConcurrencyLimit: number;
  pingIntervalMs: number;
  openapiRateLimit: number;
  sseJson: 'python' | 'compact';
  publicUrl?: string;
  quirks: Quirk[];
  fresh: boolean;
  /** COOKIE_DOMAIN as Dify normalises it (trimmed, no leading dot, no port); undefined = not set. */
  cookieDomain?: string;
  stateWriteDelayMs: number;
  draftHash: DraftHashScope;
  /** Declared plugins (normalised), or undefined: then a loaded state keeps its own. */
  plugins?: Record<string, string[]>;
  /** The seeded owner's time zone; undefined = Dify's en-US default (a loaded state keeps its own). */
  timezone?: string;
  indexingStepMs: number;
}

/** `libs/token.py` `_cookie_domain()` (strip, drop one leading dot) + Werkzeug's `dump_cookie` (no port, no dots). */
export function normalizeCookieDomain(d: string | undefined): string | undefined {
  const v = (d ?? '').trim().replace(/^\./, '').split(':')[0]!.replace(/^\.+/, '');
  return v || undefined;
}

export function resolveOptions(o: EmulatorOptions): Resolved {
  return {
    host: o.host ?? '127.0.0.1',
    port: o.port ?? 0,
    dslVersion: o.dslVersion ?? '0.6.0',
    authEra: o.authEra ?? 'modern',
    secureCookies: o.secureCookies ?? false,
    openapi: o.openapi ?? false,
    adminApiKey: o.adminApiKey || undefined,
    admin: o.admin ?? DEFAULT_ADMIN,
    latencyMs: o.latencyMs ?? 0,
    jitterMs: o.jitterMs ?? 0,
    seed: o.seed ?? 42,
    statePath: o.statePath,
    loginFailureLimit: o.loginFailureLimit ?? 5,
    appConcurrencyLimit: o.appConcurrencyLimit ?? 0,
    pingIntervalMs: o.pingIntervalMs ?? 10_000,
    openapiRateLimit: o.openapiRateLimit ?? 60,
    sseJson: o.sseJson ?? 'python',
    publicUrl: o.publicUrl,
    quirks: o.quirks ?? [],
    fresh: o.fresh ?? false,
    cookieDomain: normalizeCookieDomain(o.cookieDomain),
    stateWriteDelayMs: o.stateWriteDelayMs ?? 200,
    draftHash: o.draftHash ?? 'graph+features',
    plugins: o.plugins === undefined ? undefined : normalisePlugins(o.plugins),
    timezone: o.timezone,
    indexingStepMs: o.indexingStepMs ?? 400,
  };
}

interface Counted<T> {
  rule: T;
  used: number;
}

export class Core {
  store: Store;
  readonly clock = new Clock();
  /** Fault probabilities and latency jitter draw from separate seeded streams, so one does not shift the other. */
  rng: Rng;
  jitterRng: Rng;
  faults: Counted<FaultRule>[] = [];
  script: Counted<ScriptRule>[] = [];
  stats: EmulatorStats = { requests: 0, logins: 0, byRoute: {}, stateWrites: 0 };
  /** Active service-API requests per app (concurrency limit). */
  active = new Map<string, number>();
  /** Sliding-window timestamps per `dfoa_` token. */
  rateWindows = new Map<string, number[]>();
  /** When set, every authenticated console request answers A4 (Dify: invalid enterprise license). */
  forceLogout = false;
  /** '' while a fresh instance is not set up yet. */
  defaultWorkspaceId = '';
  adminAccountId = '';
  private writeTimer: NodeJS.Timeout | undefined;
  url = '';

  constructor(readonly opts: Resolved, store?: Store) {
    this.rng = new Rng(opts.seed);
    this.jitterRng = new Rng(opts.seed ^ 0x9e3779b9);
    if (store) {
      this.store = store;
      this.adoptSeed();
    } else {
      this.store = new Store();
      if (!opts.fresh) this.seed();
    }
    if (opts.plugins) this.store.data.plugins = structuredClone(opts.plugins);
  }

  /** Dify's setup step is done (DifySetup row; a state file from before `setupAt` counts when it has accounts). */
  get isSetUp(): boolean {
    return this.store.data.setupAt != null || Object.keys(this.store.data.accounts).length > 0;
  }

  private seed(): void {
    const now = this.clock.nowSec();
    const ws = this.store.addWorkspace(DEFAULT_WORKSPACE_NAME, now);
    const acc = this.store.addAccount({ email: this.opts.admin.email, password: this.opts.admin.password, name: 'admin', workspaceId: ws.id, timezone: this.opts.timezone }, now);
    this.store.setMember(acc.id, ws.id, 'owner');
    this.store.data.setupAt ??= now;
    this.defaultWorkspaceId = ws.id;
    this.adminAccountId = acc.id;
  }

  /** A loaded state file: find the seeded admin again (first owner account), or seed one. */
  private adoptSeed(): void {
    if (this.opts.fresh) {
      // Fresh: nothing is seeded; an installed state keeps its owner (the setup account, password as set up).
      const first = Object.values(this.store.data.workspaces).sort((a, b) => a.createdAt - b.createdAt)[0];
      const owner = first ? this.store.ownerOf(first.id) : undefined;
      if (first && owner) {
        this.defaultWorkspaceId = first.id;
        this.adminAccountId = owner.id;
      }
      return;
    }
    const acc = this.store.accountByEmail(this.opts.admin.email);
    if (!acc) {
      this.seed();
      return;
    }
    acc.password = this.opts.admin.password;
    if (this.opts.timezone) acc.timezone = this.opts.timezone;
    this.adminAccountId = acc.id;
    const first = Object.values(this.store.data.workspaces).sort((a, b) => a.createdAt - b.createdAt)[0];
    this.defaultWorkspaceId = first?.id ?? acc.currentWorkspaceId;
  }

  reset(): void {
    this.store = new Store();
    this.defaultWorkspaceId = '';
    this.adminAccountId = '';
    if (!this.opts.fresh) this.seed();
    if (this.opts.plugins) this.store.data.plugins = structuredClone(this.opts.plugins);
    this.faults = [];
    this.script = [];
    this.stats = { requests: 0, logins: 0, byRoute: {}, stateWrites: 0 };
    this.active.clear();
    this.rateWindows.clear();
    this.forceLogout = false;
    this.clock.reset();
    this.rng = new Rng(this.opts.seed);
    this.jitterRng = new Rng(this.opts.seed ^ 0x9e3779b9);
  }

  setFaults(rules: FaultRule[]): void {
    this.faults = rules.map((rule) => ({ rule, used: 0 }));
  }
  setScript(rules: ScriptRule[]): void {
    this.script = rules.map((rule) => ({ rule, used: 0 }));
  }

  persist(): void {
    if (this.writeTimer) clearTimeout(this.writeTimer);
    this.writeTimer = undefined;
    if (!this.opts.statePath) return;
    this.store.save(this.opts.statePath);
    this.stats.stateWrites++;
  }

  /** A write within `stateWriteDelayMs`: a burst of service-API requests (a smoke run) costs one write, not one each. */
  persistSoon(): void {
    if (!this.opts.statePath || this.writeTimer) return;
    this.writeTimer = setTimeout(() => {
      this.writeTimer = undefined;
      try {
        this.persist();
      } catch (e) {
        process.stderr.write(`emulator: cannot write the state file: ${(e as Error).message}\n`);
      }
    }, this.opts.stateWriteDelayMs);
    this.writeTimer.unref();
  }

  /** Writes a pending persistSoon now (close, exit). */
  flush(): void {
    if (this.writeTimer) this.persist();
  }

  get admin(): Account {
    return this.store.data.accounts[this.adminAccountId]!;
  }

  createWorkspace(name: string): Workspace {
    const ws = this.store.addWorkspace(name, this.clock.nowSec());
    this.store.setMember(this.adminAccountId, ws.id, 'owner');
    return ws;
  }

  apiBaseUrl(): string {
    return `${this.opts.publicUrl ?? this.url}/v1`;
  }

  /** Model latency for one call: the base plus seeded jitter. */
  latency(base?: number): number {
    const b = base ?? this.opts.latencyMs;
    return Math.max(0, b + (this.opts.jitterMs > 0 ? Math.round(this.jitterRng.next() * this.opts.jitterMs) : 0));
  }

  /** The draft hash this server computes for a workflow row. */
  hashOf(w: Pick<WorkflowRow, 'graph' | 'features'>): string {
    return workflowHash(w, this.opts.draftHash);
  }

  appAuthor(app: App): string {
    return this.store.data.accounts[app.createdBy]?.name ?? 'admin';
  }

  newId(): string {
    return uuid();
  }
}
