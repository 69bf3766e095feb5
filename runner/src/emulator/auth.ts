/**
 * Console authentication (§1): cookie sessions with CSRF (modern), bearer tokens (legacy), the admin API key,
 * refresh-token rotation, logout, setup. Tokens are HS256 JWTs signed with the state's secret.
 */
import type { Core } from './core.js';
import { Ctx, HttpError, envelope, invalidParam, json, type Reply, type Router } from './http.js';
import { LANGUAGE_TIMEZONES, accountTimezone, type Account, type Workspace } from './state.js';
import { isTimezone } from './tz.js';
import type { Role } from './types.js';
import { pyB64DecodeUtf8, randomHex, signJwt, verifyJwt } from './util.js';

const ACCESS_TTL = 3600;
const REFRESH_TTL = 30 * 24 * 3600;
const LOCKOUT_MS = 24 * 3600 * 1000;
const WWW_AUTH = { 'WWW-Authenticate': 'Bearer realm="api"' };

export interface Principal {
  account: Account;
  workspace: Workspace;
  role: Role;
  via: 'cookie' | 'bearer' | 'admin-key';
}

const unauthorized = (message: string, extra: Record<string, string | string[]> = {}): HttpError =>
  new HttpError(401, { code: 'unauthorized', message, status: 401 }, { ...WWW_AUTH, ...extra });

/** `libs/token.py` `_real_cookie_name`: `__Host-` only on https (secureCookies) without COOKIE_DOMAIN. */
export function cookieName(core: Core, base: 'access_token' | 'refresh_token' | 'csrf_token'): string {
  return core.opts.secureCookies && !core.opts.cookieDomain ? `__Host-${base}` : base;
}

/** Werkzeug's `dump_cookie` layout: `k=v; [Domain=…; ]Expires=…; Max-Age=…; [Secure; ][HttpOnly; ]Path=/; SameSite=Lax`. */
function setCookie(core: Core, base: 'access_token' | 'refresh_token' | 'csrf_token', value: string, maxAge: number, httpOnly: boolean): string {
  const expires = maxAge === 0 ? 'Thu, 01 Jan 1970 00:00:00 GMT' : new Date(core.clock.nowMs() + maxAge * 1000).toUTCString();
  const parts = [`${cookieName(core, base)}=${value}`];
  if (core.opts.cookieDomain) parts.push(`Domain=${core.opts.cookieDomain}`);
  parts.push(`Expires=${expires}`, `Max-Age=${maxAge}`);
  if (core.opts.secureCookies) parts.push('Secure');
  if (httpOnly) parts.push('HttpOnly');
  parts.push('Path=/', 'SameSite=Lax');
  return parts.join('; ');
}

export function clearingCookies(core: Core): string[] {
  return [
    setCookie(core, 'access_token', '', 0, true),
    setCookie(core, 'csrf_token', '', 0, false),
    setCookie(core, 'refresh_token', '', 0, true),
  ];
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  csrf_token: string;
}

export function issueTokens(core: Core, account: Account): TokenPair {
  const now = core.clock.nowSec();
  const access_token = signJwt(
    { user_id: account.id, exp: now + ACCESS_TTL, iss: 'SELF_HOSTED', sub: 'Console API Passport' },
    core.store.data.jwtSecret,
  );
  const csrf_token = signJwt({ exp: now + ACCESS_TTL, sub: account.id }, core.store.data.jwtSecret);
  const refresh_token = randomHex(64);
  core.store.data.sessions[refresh_token] = { refreshToken: refresh_token, accountId: account.id, expiresAtMs: core.clock.nowMs() + REFRESH_TTL * 1000 };
  return { access_token, refresh_token, csrf_token };
}

function tokenCookies(core: Core, t: TokenPair): string[] {
  return [
    setCookie(core, 'access_token', t.access_token, ACCESS_TTL, true),
    setCookie(core, 'refresh_token', t.refresh_token, REFRESH_TTL, true),
    setCookie(core, 'csrf_token', t.csrf_token, ACCESS_TTL, false),
  ];
}

function bearerOf(ctx: Ctx): string | undefined {
  const h = ctx.header('authorization');
  if (!h || !h.includes(' ')) return undefined;
  const i = h.search(/\s/);
  const scheme = h.slice(0, i).toLowerCase();
  const token = h.slice(i).trim();
  return scheme === 'bearer' && token ? token : undefined;
}

function currentWorkspace(core: Core, account: Account): { ws: Workspace; role: Role } | undefined {
  let ws = core.store.data.workspaces[account.currentWorkspaceId];
  let role = ws ? core.store.roleOf(account.id, ws.id) : undefined;
  if (!ws || !role) {
    ws = core.store.workspacesOf(account.id)[0];
    role = ws ? core.store.roleOf(account.id, ws.id) : undefined;
    if (ws) account.currentWorkspaceId = ws.id;
  }
  return ws && role ? { ws, role } : undefined;
}

/** `login_required` + `check_csrf_token` (§1.3), plus the admin key (§1.6). */
export function authenticate(core: Core, ctx: Ctx): Principal {
  setupRequired(core);
  const cookieToken = ctx.cookies[cookieName(core, 'access_token')];
  const bearer = bearerOf(ctx);
  const token = cookieToken || bearer;
  if (!token) throw unauthorized('Invalid Authorization token.');

  // Admin API key: only when it is what was extracted (a cookie shadows it, #39871).
  if (!cookieToken && core.opts.adminApiKey && bearer === core.opts.adminApiKey) {
    const wsId = ctx.header('x-workspace-id');
    const ws = wsId ? core.store.data.workspaces[wsId] : undefined;
    const owner = ws ? core.store.ownerOf(ws.id) : undefined;
    if (!ws || !owner) throw unauthorized('Invalid token.');
    if (core.forceLogout) throw forceLogoutError(core);
    return { account: owner, workspace: ws, role: 'owner', via: 'admin-key' };
  }

  const v = verifyJwt(token, core.store.data.jwtSecret, core.clock.nowSec());
  if (!v.ok) throw unauthorized(v.reason === 'expired' ? 'Token has expired.' : v.reason === 'signature' ? 'Invalid token signature.' : 'Invalid token.');
  const userId = v.payload.user_id;
  if (typeof userId !== 'string' || v.payload.token_source) throw unauthorized('Invalid Authorization token.');
  const account = core.store.data.accounts[userId];
  if (!account) throw unauthorized('Invalid Authorization token.');
  if (account.status === 'banned') throw unauthorized('Account is banned.');
  const cur = currentWorkspace(core, account);
  if (!cur) throw unauthorized('Invalid Authorization token.');
  if (core.forceLogout) throw forceLogoutError(core);

  if (core.opts.authEra === 'modern' && !/^\/console\/api\/apps\/[a-f0-9-]+\/workflows\/draft/.test(ctx.path)) {
    checkCsrf(core, ctx, account.id);
  }
  return { account, workspace: cur.ws, role: cur.role, via: cookieToken ? 'cookie' : 'bearer' };
}

/**
 * `controllers/console/wraps.py` `setup_required` (the outermost decorator of login, logout and every
 * `login_required` console view): before setup → 401 `NotSetupError` (`controllers/console/error.py`).
 */
export function setupRequired(core: Core): void {
  if (core.isSetUp) return;
  throw new HttpError(
    401,
    {
      code: 'not_setup',
      message: 'Dify has not been initialized and installed yet. Please proceed with the initialization and installation process first.',
      status: 401,
    },
    WWW_AUTH,
  );
}

/** Python's `datetime.isoformat()` of a naive UTC datetime (what `setup_at` looks like). */
function pyIsoformat(sec: number): string {
  return new Date(sec * 1000).toISOString().replace(/\.\d{3}Z$/, '');
}

/** `libs/password.py` `valid_password`. */
const PASSWORD_RE = /^(?=.*[a-zA-Z])(?=.*\d).{8,}$/;

/** `controllers/console/setup.py`: validate the payload, refuse a second setup, then `RegisterService.setup`. */
function setup(core: Core, ctx: Ctx): Reply {
  // The payload is validated before the already-set-up check (post() validates, then calls setup_system()).
  const body = ctx.json();
  // Pydantic reports every failing field: "<n> validation error(s) for SetupRequestPayload\n<field>\n  <msg>…".
  const errors: string[] = [];
  const str = (f: string): string | undefined => {
    if (body[f] === undefined) errors.push(`${f}\n  Field required`);
    else if (typeof body[f] !== 'string') errors.push(`${f}\n  Input should be a valid string`);
    else return body[f] as string;
    return undefined;
  };
  const email = str('email');
  if (email !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) errors.push('email\n  value is not a valid email address: An email address must have an @-sign.');
  const name = str('name');
  if (name !== undefined && name.length > 30) errors.push('name\n  String should have at most 30 characters');
  const password = str('password');
  if (password !== undefined && !PASSWORD_RE.test(password)) {
    errors.push('password\n  Value error, Password must contain letters and numbers, and the length must be greater than 8.');
  }
  if (body.language != null && typeof body.language !== 'string') errors.push('language\n  Input should be a valid string');
  if (errors.length > 0) {
    throw invalidParam(`${errors.length} validation error${errors.length > 1 ? 's' : ''} for SetupRequestPayload\n${errors.join('\n')}`);
  }
  // get_setup_status() or TenantService.get_tenant_count() > 0 → AlreadySetupError.
  if (core.isSetUp || Object.keys(core.store.data.workspaces).length > 0) {
    throw envelope(403, 'already_setup', 'Dify has been successfully installed. Please refresh the page or return to the dashboard homepage.');
  }
  const now = core.clock.nowSec();
  const ws = core.store.addWorkspace(`${name!}'s Workspace`, now);
  // create_account: timezone = language_timezone_mapping.get(language, "UTC").
  const timezone = LANGUAGE_TIMEZONES[String(body.language ?? '')] ?? 'UTC';
  const acc = core.store.addAccount({ email: email!.toLowerCase(), password: password!, name: name!, workspaceId: ws.id, timezone }, now);
  core.store.setMember(acc.id, ws.id, 'owner');
  core.store.data.setupAt = now;
  core.adminAccountId = acc.id;
  core.defaultWorkspaceId = ws.id;
  return json(201, { result: 'success' });
}

function forceLogoutError(core: Core): HttpError {
  return new HttpError(
    401,
    { code: 'unauthorized_and_force_logout', message: 'Unauthorized and force logout.', status: 401 },
    { ...WWW_AUTH, 'Set-Cookie': clearingCookies(core) },
  );
}

function checkCsrf(core: Core, ctx: Ctx, userId: string): void {
  const bad = (): never => {
    throw unauthorized('CSRF token is missing or invalid.');
  };
  const header = ctx.header('x-csrf-token');
  const cookie = ctx.cookies[cookieName(core, 'csrf_token')];
  if (header !== cookie || !header) bad();
  const v = verifyJwt(header!, core.store.data.jwtSecret, core.clock.nowSec());
  if (!v.ok || v.payload.sub !== userId) bad();
}

export function requireRole(p: Principal, roles: Role[]): void {
  if (!roles.includes(p.role)) {
    throw envelope(
      403,
      'forbidden',
      "You don't have the permission to access the requested resource. It is either read-protected or not readable by the server.",
    );
  }
}
export const EDITORS: Role[] = ['owner', 'admin', 'editor'];
export const ADMINS: Role[] = ['owner', 'admin'];

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function registerAuth(core: Core, r: Router): void {
  r.add('GET', '/console/api/setup', () => {
    if (!core.isSetUp) return json(200, { step: 'not_started' });
    const at = core.store.data.setupAt ?? core.admin?.createdAt ?? core.clock.nowSec();
    return json(200, { step: 'finished', setup_at: pyIsoformat(at) });
  });
  r.add('POST', '/console/api/setup', (ctx) => setup(core, ctx));
  r.add('GET', '/console/api/system-features', () =>
    json(200, { enable_email_password_login: true, enable_email_code_login: false, sso_enforced_for_signin: false, is_allow_register: false, is_allow_create_workspace: false, license: { status: 'none' } }),
  );

  r.add('POST', '/console/api/login', (ctx) => login(core, ctx));
  r.add('POST', '/console/api/refresh-token', (ctx) => refresh(core, ctx));
  r.add('POST', '/console/api/logout', (ctx) => {
    setupRequired(core);
    const rt = ctx.cookies[cookieName(core, 'refresh_token')];
    if (rt) delete core.store.data.sessions[rt];
    const bearer = bearerOf(ctx);
    if (core.opts.authEra === 'legacy' && bearer) {
      const v = verifyJwt(bearer, core.store.data.jwtSecret, core.clock.nowSec());
      if (v.ok) for (const s of Object.values(core.store.data.sessions)) if (s.accountId === v.payload.user_id) delete core.store.data.sessions[s.refreshToken];
    }
    return json(200, { result: 'success' }, { 'Set-Cookie': clearingCookies(core) });
  });

  const profile = (a: Account): Record<string, unknown> => ({
    id: a.id,
    name: a.name,
    avatar: null,
    avatar_url: null,
    email: a.email,
    is_password_set: true,
    interface_language: 'en-US',
    interface_theme: 'light',
    timezone: accountTimezone(a),
    last_login_at: core.clock.nowSec(),
    last_login_ip: '127.0.0.1',
    created_at: a.createdAt,
  });
  r.add('GET', '/console/api/account/profile', (ctx) => json(200, profile(authenticate(core, ctx).account)));
  // AccountTimezoneApi: `timezone` must be one of pytz's names.
  r.add('POST', '/console/api/account/timezone', (ctx) => {
    const p = authenticate(core, ctx);
    const tz = ctx.json().timezone;
    if (!isTimezone(tz)) throw invalidParam('Invalid timezone string.');
    p.account.timezone = tz;
    return json(200, profile(p.account));
  });
  r.add('GET', '/console/api/workspaces', (ctx) => {
    const p = authenticate(core, ctx);
    return json(200, {
      workspaces: core.store.workspacesOf(p.account.id).map((w) => ({
        id: w.id,
        name: w.name,
        plan: 'sandbox',
        status: w.status,
        created_at: w.createdAt,
        current: w.id === p.workspace.id,
      })),
    });
  });
  r.add('GET', '/console/api/workspaces/current', (ctx) => {
    const p = authenticate(core, ctx);
    return json(200, tenantInfo(p.workspace, p.role));
  });
  r.add('POST', '/console/api/workspaces/current', (ctx) => {
    const p = authenticate(core, ctx);
    return json(200, tenantInfo(p.workspace, p.role));
  });
  r.add('POST', '/console/api/workspaces/switch', (ctx) => {
    const p = authenticate(core, ctx);
    const id = str(ctx.json().tenant_id);
    if (!id) throw invalidParam('tenant_id is required');
    const role = core.store.roleOf(p.account.id, id);
    const ws = core.store.data.workspaces[id];
    if (!ws || !role) throw envelope(400, 'account_not_link_tenant', 'Account not link tenant');
    p.account.currentWorkspaceId = id;
    return json(200, { result: 'success', new_tenant: tenantInfo(ws, role) });
  });
}

function tenantInfo(w: Workspace, role: Role): Record<string, unknown> {
  return { id: w.id, name: w.name, plan: 'sandbox', status: w.status, created_at: w.createdAt, role, in_trial: null, trial_end_reason: null, custom_config: null };
}

function login(core: Core, ctx: Ctx): Reply {
  core.stats.logins++;
  setupRequired(core);
  const body = ctx.json();
  const email = str(body.email);
  const rawPassword = str(body.password);
  if (!email || !/^[^@\s]+@[^@\s]+$/.test(email)) throw invalidParam(`${email ?? ''} is not a valid email.`);
  if (rawPassword === undefined) throw invalidParam('password is required');
  let password = rawPassword;
  if (core.opts.authEra === 'modern') {
    // @decrypt_password_field runs before the view: not counted as a failed attempt.
    const decoded = pyB64DecodeUtf8(rawPassword);
    if (decoded === undefined) throw new HttpError(401, { code: 'authentication_failed', message: 'Invalid encrypted data', status: 401 });
    password = decoded;
  }
  const key = email.toLowerCase();
  const f = core.store.data.loginFailures[key];
  if (f && f.untilMs > core.clock.nowMs() && f.count >= core.opts.loginFailureLimit) {
    throw envelope(429, 'email_code_login_limit', 'Too many incorrect password attempts. Please try again later.');
  }
  const account = core.store.accountByEmail(email);
  if (!account || account.password !== password) {
    const cur = f && f.untilMs > core.clock.nowMs() ? f.count : 0;
    core.store.data.loginFailures[key] = { count: cur + 1, untilMs: core.clock.nowMs() + LOCKOUT_MS };
    throw new HttpError(401, { code: 'authentication_failed', message: 'Invalid email or password.', status: 401 });
  }
  if (account.status === 'banned') throw envelope(400, 'account_banned', 'Account is banned.');
  if (core.store.workspacesOf(account.id).length === 0) {
    return json(200, { result: 'fail', data: 'workspace not found, please contact system admin to invite you to join in a workspace' });
  }
  delete core.store.data.loginFailures[key];
  const t = issueTokens(core, account);
  if (core.opts.authEra === 'legacy') {
    return json(200, { result: 'success', data: { access_token: t.access_token, refresh_token: t.refresh_token } });
  }
  return json(200, { result: 'success' }, { 'Set-Cookie': tokenCookies(core, t) });
}

function refresh(core: Core, ctx: Ctx): Reply {
  const legacy = core.opts.authEra === 'legacy';
  let rt: string | undefined;
  if (legacy) {
    let body: Record<string, unknown> = {};
    try {
      body = ctx.json();
    } catch {
      /* a missing body is the same as a missing token */
    }
    rt = str(body.refresh_token);
  } else rt = ctx.cookies[cookieName(core, 'refresh_token')];
  if (!rt) return json(401, { result: 'fail', message: 'No refresh token provided' });
  const s = core.store.data.sessions[rt];
  if (!s || s.expiresAtMs <= core.clock.nowMs()) {
    if (s) delete core.store.data.sessions[rt];
    return json(401, { result: 'fail', message: 'Invalid refresh token' });
  }
  const account = core.store.data.accounts[s.accountId];
  if (!account) return json(401, { result: 'fail', message: 'Invalid refresh token' });
  delete core.store.data.sessions[rt];
  const t = issueTokens(core, account);
  if (legacy) return json(200, { result: 'success', data: { access_token: t.access_token, refresh_token: t.refresh_token } });
  return json(200, { result: 'success' }, { 'Set-Cookie': tokenCookies(core, t) });
}
