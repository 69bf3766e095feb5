/**
 * The console client: transport + session + workspace, and the run's session cache. One login per (server,
 * account) however many targets (environments, tenants) use it; `getConsole` hands out light views that share the
 * session and the server's host gate. The cache belongs to the run (core/run.ts), which closes it.
 */
import { DifyCiError, configError } from '../core/errors.js';
import { currentScope } from '../core/run.js';
import type { AuthConfig, EnvironmentConfig, TenantConfig } from '../config/types.js';
import { authHint, resolveCredentials, Session, type AuthModeUsed } from './auth.js';
import { httpError, Transport, type HttpResponse, type Method, type TransportOptions } from './http.js';

export interface ConsoleRequest {
  method: Method;
  /** Path under the API base: `/apps` → `/console/api/apps` (or `/openapi/v1/apps`). */
  path: string;
  searchParams?: Record<string, string | number | boolean | undefined | null>;
  json?: unknown;
  idempotent?: boolean;
  /** What is being done, e.g. "export app support-bot". */
  what: string;
  /** App / environment the call is about, for messages. */
  where?: string;
  /** Statuses returned to the caller instead of thrown. */
  allow?: number[];
}

export class ConsoleClient {
  constructor(
    readonly transport: Transport,
    readonly session: Session,
    /** Label for messages: the environment (and tenant). */
    readonly label: string,
    /**
     * The workspace: sent with every admin-key call (X-WORKSPACE-ID) and part of /openapi/v1 paths. With password or
     * token auth the server uses the account's current workspace: the tenant fan-out switches it (fanout/lanes.ts).
     */
    readonly workspaceId?: string,
  ) {}

  get url(): string {
    return this.transport.baseUrl;
  }
  get api(): 'console' | 'openapi' {
    return this.session.api;
  }
  /** The auth mode actually used (known after the first call for password mode). */
  get authMode(): AuthModeUsed | undefined {
    return this.session.mode;
  }
  get base(): string {
    return this.api === 'openapi' ? '/openapi/v1' : '/console/api';
  }

  async ready(): Promise<AuthModeUsed | undefined> {
    await this.session.ready();
    return this.session.mode;
  }

  /** Sends with credentials; on 401 recovers once and retries once; non-2xx outside `allow` throws. */
  async call(r: ConsoleRequest): Promise<HttpResponse> {
    const where = r.where ?? this.label;
    const base = { method: r.method, path: this.base + r.path, searchParams: r.searchParams, json: r.json, idempotent: r.idempotent, what: r.what };
    let { req, generation } = await this.session.decorate(base, this.workspaceId);
    let res = await this.transport.send(req, where);
    if (res.status === 401 && (await this.session.recover(generation))) {
      ({ req, generation } = await this.session.decorate(base, this.workspaceId));
      res = await this.transport.send(req, where);
    }
    if (this.api === 'openapi' && res.status === 404 && typeof res.body !== 'object') {
      throw configError(`${r.what} (${where}): ${this.url}/openapi/v1 is not enabled (needs OPENAPI_ENABLED=true and ENABLE_OAUTH_BEARER=true, Dify ≥ 1.15)`);
    }
    if (res.status >= 400 && !(r.allow ?? []).includes(res.status)) {
      throw httpError(r.what, where, res, res.status === 401 || res.status === 403 ? authHint(this.session.mode, res) : undefined);
    }
    return res;
  }

  /** Throws a clear error for calls /openapi/v1 does not offer. */
  requireConsole(what: string, where?: string): void {
    if (this.api === 'openapi') {
      throw new DifyCiError(
        `${what} (${where ?? this.label}) needs the console API: /openapi/v1 has no publish, draft, versions, model-config or API-key routes (Dify 1.15/1.16)`,
        'config',
        { details: ['configure auth mode password, token or admin-key for this environment to deploy, publish or roll back'] },
      );
    }
  }

  /** The same session bound to another workspace (admin-key / openapi). */
  forWorkspace(workspaceId: string, label = this.label): ConsoleClient {
    return new ConsoleClient(this.transport, this.session, label, workspaceId);
  }
}

interface Consoles {
  transports: Map<string, Transport>;
  sessions: Map<string, Session>;
}

const CONSOLES = Symbol('dify-ci.consoles');

function consoles(): Consoles {
  return currentScope().slot(
    CONSOLES,
    () => ({ transports: new Map(), sessions: new Map() }),
    (c) => {
      for (const t of c.transports.values()) t.close();
    },
  );
}

export interface GetConsoleOptions {
  tenant?: Pick<TenantConfig, 'name' | 'url' | 'auth' | 'workspaceId'>;
  environ?: NodeJS.ProcessEnv;
  /** Transport overrides (tests: sleep/random/retry policy). */
  transport?: Partial<TransportOptions>;
}

/**
 * A console client for an environment (or one tenant of it). Sessions and transports are shared per
 * (server, account), so N targets on one server log in once and share one host gate.
 */
export function getConsole(env: EnvironmentConfig, opts: GetConsoleOptions = {}): ConsoleClient {
  const t = opts.tenant;
  const url = (t?.url ?? env.url).replace(/\/+$/, '');
  const auth: AuthConfig = t?.auth ?? env.auth;
  const label = t ? `${env.key}/${t.name}` : env.key;
  const { transports, sessions } = consoles();
  const tKey = `${url}|${env.timeoutMs}|${env.tls.caFile ?? ''}|${env.tls.rejectUnauthorized}`;
  let transport = transports.get(tKey);
  if (!transport) {
    transport = new Transport({
      baseUrl: url,
      timeoutMs: env.timeoutMs,
      caFile: env.tls.caFile,
      rejectUnauthorized: env.tls.rejectUnauthorized,
      concurrency: env.concurrency,
      environ: opts.environ,
      ...opts.transport,
    });
    transports.set(tKey, transport);
  }
  const creds = resolveCredentials(auth, `environment ${label}`, opts.environ);
  const sKey = `${url}|${creds.identity}`;
  let session = sessions.get(sKey);
  if (!session) {
    session = new Session(transport, creds, env.key);
    sessions.set(sKey, session);
  }
  const workspaceId = t?.workspaceId ?? creds.workspaceId;
  return new ConsoleClient(transport, session, label, workspaceId);
}

/** Frees sockets and forgets sessions now (the run does it at its end; tests between cases). */
export function closeConsoles(): void {
  currentScope().drop(CONSOLES);
}
