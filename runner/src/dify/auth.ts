/**
 * Console authentication, the four modes of dify-api.md §1:
 * - password: Base64 password first, plaintext once on 401 authentication_failed (never a loop: lock-out). A
 *   modern server answers with cookies (jar + X-CSRF-Token from the cookie whose name ends with `csrf_token`); a
 *   legacy one (≤ 1.7) with JSON tokens, used as a bearer.
 * - token: a bearer access token (works without CSRF only on legacy servers).
 * - admin-key: `Authorization: Bearer <key>` + `X-WORKSPACE-ID`, never with cookies (cookies shadow the key).
 * - openapi: `/openapi/v1` with a `dfoa_` token; no publish there.
 * On a 401 the session refreshes once (or logs in again) and the request is retried once.
 */
import { CookieJar } from 'tough-cookie';
import { configError, DifyCiError } from '../core/errors.js';
import { log } from '../core/log.js';
import { registerSecret } from '../core/mask.js';
import type { AuthConfig } from '../config/types.js';
import { difyCodeAndMessage, httpError, type HttpRequest, type HttpResponse, type Transport } from './http.js';
import { runEnv } from '../core/run.js';

export type AuthModeUsed = 'password-cookie' | 'password-legacy' | 'token' | 'admin-key' | 'openapi';

export interface Credentials {
  mode: AuthConfig['mode'];
  email?: string;
  password?: string;
  token?: string;
  key?: string;
  workspaceId?: string;
  /** Names the account without a secret (session cache key, messages). */
  identity: string;
}

function readVar(environ: NodeJS.ProcessEnv, name: string, what: string, where: string): string {
  const v = environ[name];
  if (v === undefined || v === '') {
    throw configError(`${what} for ${where}: environment variable ${name} is not set (bind it with withCredentials in Jenkins)`);
  }
  return v;
}

/** Reads the secrets an auth block names from the environment and registers them for masking. */
export function resolveCredentials(auth: AuthConfig, where: string, environ: NodeJS.ProcessEnv = runEnv()): Credentials {
  switch (auth.mode) {
    case 'password': {
      const email = auth.email ?? (auth.emailEnv ? readVar(environ, auth.emailEnv, 'the login email', where) : undefined);
      if (!email) throw configError(`auth of ${where}: password mode needs 'email' or 'emailEnv'`);
      const password = readVar(environ, auth.passwordEnv, 'the password', where);
      registerSecret(password);
      return { mode: 'password', email, password, identity: `password:${email.toLowerCase()}` };
    }
    case 'token': {
      const token = readVar(environ, auth.tokenEnv, 'the access token', where);
      registerSecret(token);
      return { mode: 'token', token, identity: `token:${auth.tokenEnv}` };
    }
    case 'admin-key': {
      const key = readVar(environ, auth.keyEnv, 'the admin API key', where);
      registerSecret(key);
      return { mode: 'admin-key', key, workspaceId: auth.workspaceId, identity: `admin-key:${auth.keyEnv}` };
    }
    case 'openapi': {
      const token = readVar(environ, auth.tokenEnv, 'the OpenAPI token', where);
      registerSecret(token);
      if (!token.startsWith('dfoa_')) {
        log.warn(`${where}: the OpenAPI token does not start with dfoa_ (dfoe_ tokens can only run and read apps)`);
      }
      return { mode: 'openapi', token, workspaceId: auth.workspaceId, identity: `openapi:${auth.tokenEnv}` };
    }
  }
}

const CONSOLE = '/console/api';

/** Hints for 401/403 answers, per mode: what the user should change. */
/** Words for the build log: which of the contract's auth modes (§1) this session uses. */
export function describeAuthMode(mode: AuthModeUsed): string {
  switch (mode) {
    case 'password-cookie':
      return 'password login, cookie session with X-CSRF-Token';
    case 'password-legacy':
      return 'password login, bearer tokens (legacy server)';
    case 'token':
      return 'bearer access token';
    case 'admin-key':
      return 'admin API key with X-WORKSPACE-ID';
    case 'openapi':
      return '/openapi/v1 with a dfoa_ token';
  }
}

export function authHint(mode: AuthModeUsed | undefined, res: HttpResponse): string | undefined {
  const { message = '' } = difyCodeAndMessage(res.body, res.text);
  if (res.status === 403) return 'the account lacks the role for this call (editor or above; API enable needs owner/admin)';
  if (/CSRF/i.test(message)) {
    if (mode === 'token') return 'this Dify requires CSRF tokens (≥ 1.8): a bare access token works only on legacy servers; use auth mode password or admin-key';
    if (mode === 'admin-key') return 'this Dify release has no CSRF bypass for the admin key; use auth mode password';
  }
  if (mode === 'admin-key') return 'check the admin key (ADMIN_API_KEY_ENABLE / ADMIN_API_KEY on the server) and auth.workspaceId';
  if (mode === 'openapi') return 'check the dfoa_ token (expired or revoked tokens answer invalid_bearer)';
  if (mode === 'token') return 'the access token is invalid or expired (tokens live 60 minutes); prefer auth mode password';
  return undefined;
}

/**
 * One login per (server, account). Decorates requests with credentials and recovers from 401 once.
 * `generation` grows with every refresh, so that parallel requests failing together share one refresh.
 */
export class Session {
  readonly creds: Credentials;
  readonly jar?: CookieJar;
  mode?: AuthModeUsed;
  private access?: string;
  private refreshTok?: string;
  private generation = 0;
  private loginPromise?: Promise<void>;
  private recoverPromise?: Promise<boolean>;
  logins = 0;

  constructor(
    private readonly t: Transport,
    creds: Credentials,
    private readonly label: string,
  ) {
    this.creds = creds;
    if (creds.mode === 'password') this.jar = new CookieJar(undefined, { allowSecureOnLocal: true, rejectPublicSuffixes: false });
    if (creds.mode === 'token') this.mode = 'token';
    if (creds.mode === 'admin-key') this.mode = 'admin-key';
    if (creds.mode === 'openapi') this.mode = 'openapi';
  }

  get api(): 'console' | 'openapi' {
    return this.creds.mode === 'openapi' ? 'openapi' : 'console';
  }

  private announced = false;

  /** Logs in when needed (once, shared by concurrent callers). */
  async ready(): Promise<void> {
    if (this.creds.mode === 'password') await this.loggedIn();
    // The issue asks to say which mode was used; once per session, so a fan-out over one account says it once.
    if (!this.announced && this.mode) {
      this.announced = true;
      log.info(`${this.label}: ${this.t.baseUrl} — auth ${describeAuthMode(this.mode)}`);
    }
  }

  private loggedIn(): Promise<void> {
    this.loginPromise ??= this.login().catch((e) => {
      this.loginPromise = undefined;
      throw e;
    });
    return this.loginPromise;
  }

  private loginBody(password: string) {
    return { email: this.creds.email, password, remember_me: true, invite_token: null };
  }

  private async login(): Promise<void> {
    const what = `log in to ${this.t.baseUrl} as ${this.creds.email}`;
    const send = (password: string) =>
      this.t.send({ method: 'POST', path: `${CONSOLE}/login`, json: this.loginBody(password), cookieJar: this.jar, what, idempotent: false }, this.label);
    const plain = this.creds.password!;
    let res = await send(Buffer.from(plain, 'utf8').toString('base64'));
    let encoding = 'base64';
    if (res.status === 401 && difyCodeAndMessage(res.body).code === 'authentication_failed') {
      // Servers before Base64 passwords compare the text as sent: one plaintext retry, never more (lock-out).
      log.debug(`login with a Base64 password refused (${difyCodeAndMessage(res.body).message}); retrying once in plaintext`);
      const first = res;
      res = await send(plain);
      encoding = 'plaintext';
      // "Invalid encrypted data" to the plaintext retry = a Base64 server: its first answer is the real one.
      if (res.status === 401 && /encrypted data/i.test(difyCodeAndMessage(res.body).message ?? '')) res = first;
    }
    this.logins++;
    const body = res.body as { result?: string; data?: unknown } | undefined;
    if (res.status === 200 && body?.result === 'success') {
      const data = body.data as { access_token?: string; refresh_token?: string } | undefined;
      if (data?.access_token) {
        this.mode = 'password-legacy';
        this.setTokens(data.access_token, data.refresh_token);
      } else {
        this.mode = 'password-cookie';
        const csrf = await this.csrfToken();
        await this.registerCookies();
        if (!csrf) log.debug('login succeeded but no csrf_token cookie was set; requests go without X-CSRF-Token');
      }
      this.generation++;
      log.debug(`${this.label}: logged in as ${this.creds.email} (auth mode ${this.mode}, ${encoding} password)`);
      return;
    }
    if (res.status === 200 && body?.result === 'fail') {
      throw new DifyCiError(`${what} (${this.label}) failed: ${typeof body.data === 'string' ? body.data : 'login refused'}`, 'auth', { httpStatus: 200 });
    }
    const err = httpError(what, this.label, res, res.status === 429 ? 'too many failed logins: the account is locked for a while; fix the password before retrying' : undefined);
    if (res.status === 401 || res.status === 429) throw new DifyCiError(err.message, 'auth', { difyCode: err.difyCode, httpStatus: err.httpStatus, details: err.details });
    throw err;
  }

  private setTokens(access?: string, refresh?: string): void {
    if (access) {
      this.access = access;
      registerSecret(access);
    }
    if (refresh) {
      this.refreshTok = refresh;
      registerSecret(refresh);
    }
  }

  private async registerCookies(): Promise<void> {
    if (!this.jar) return;
    for (const c of await this.jar.getCookies(this.t.baseUrl + CONSOLE + '/')) registerSecret(c.value);
  }

  /** The value of the cookie whose name ends with `csrf_token` (`__Host-csrf_token` on https). */
  async csrfToken(): Promise<string | undefined> {
    if (!this.jar) return undefined;
    const cookies = await this.jar.getCookies(this.t.baseUrl + CONSOLE + '/');
    return cookies.find((c) => c.key.endsWith('csrf_token'))?.value;
  }

  /** Adds credentials to a request; returns the generation it was decorated with. */
  async decorate(req: HttpRequest, workspaceId?: string): Promise<{ req: HttpRequest; generation: number }> {
    await this.ready();
    const headers: Record<string, string> = { ...(req.headers ?? {}) };
    const out: HttpRequest = { ...req, headers };
    switch (this.creds.mode) {
      case 'password':
        if (this.mode === 'password-legacy') headers.authorization = `Bearer ${this.access}`;
        else {
          out.cookieJar = this.jar;
          const csrf = await this.csrfToken();
          if (csrf) headers['x-csrf-token'] = csrf;
        }
        break;
      case 'token':
        headers.authorization = `Bearer ${this.creds.token}`;
        break;
      case 'admin-key':
        headers.authorization = `Bearer ${this.creds.key}`;
        headers['x-workspace-id'] = workspaceId ?? this.creds.workspaceId ?? '';
        delete out.cookieJar;
        break;
      case 'openapi':
        headers.authorization = `Bearer ${this.creds.token}`;
        delete out.cookieJar;
        break;
    }
    return { req: out, generation: this.generation };
  }

  /** Can a 401 be cured by refreshing or logging in again? */
  get canRecover(): boolean {
    return this.creds.mode === 'password';
  }

  /**
   * After a 401: refresh once (or log in again when the refresh is refused). Returns true when the request should
   * be retried. Concurrent callers that failed with the same generation share one recovery.
   */
  async recover(generation: number): Promise<boolean> {
    if (!this.canRecover) return false;
    if (generation < this.generation) return true;
    this.recoverPromise ??= (async () => {
      try {
        if (await this.refresh()) return true;
        log.debug(`${this.label}: refresh refused; logging in again`);
        this.loginPromise = undefined;
        if (this.jar) await this.jar.removeAllCookies();
        await this.ready();
        return true;
      } finally {
        this.recoverPromise = undefined;
      }
    })();
    return this.recoverPromise;
  }

  private async refresh(): Promise<boolean> {
    const what = `refresh the session on ${this.t.baseUrl}`;
    if (this.mode === 'password-legacy') {
      if (!this.refreshTok) return false;
      const res = await this.t.send({ method: 'POST', path: `${CONSOLE}/refresh-token`, json: { refresh_token: this.refreshTok }, what, idempotent: false }, this.label);
      const data = (res.body as { data?: { access_token?: string; refresh_token?: string } } | undefined)?.data;
      if (res.status !== 200 || !data?.access_token) return false;
      this.setTokens(data.access_token, data.refresh_token);
      this.generation++;
      return true;
    }
    const headers: Record<string, string> = {};
    const csrf = await this.csrfToken();
    if (csrf) headers['x-csrf-token'] = csrf;
    const res = await this.t.send({ method: 'POST', path: `${CONSOLE}/refresh-token`, cookieJar: this.jar, headers, what, idempotent: false }, this.label);
    if (res.status !== 200) {
      log.debug(`${what}: HTTP ${res.status} ${difyCodeAndMessage(res.body, res.text).message ?? ''}`);
      return false;
    }
    await this.registerCookies();
    this.generation++;
    log.debug(`${this.label}: session refreshed`);
    return true;
  }
}
