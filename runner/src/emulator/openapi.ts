/**
 * `/openapi/v1` (§1.7, Dify ≥ 1.15, off unless enabled): `dfoa_` bearer tokens from the RFC 8628 device flow
 * (or `emu.mintOpenApiToken()`), a per-token sliding-window rate limit, workspace-scoped imports, export, runs.
 */
import { authenticate } from './auth.js';
import { listApps } from './apps.js';
import type { Core } from './core.js';
import { exportReply } from './export.js';
import { checkDependencies, confirmImport, importReply, runImport } from './import.js';
import { Ctx, HttpError, appNotFound, envelope, forbidden, json, type Router } from './http.js';
import type { App, Account } from './state.js';
import { randomAlnum, randomHex } from './util.js';

const TOKEN_TTL_MS = 30 * 24 * 3600 * 1000;
const WINDOW_MS = 60_000;
const WWW_AUTH = { 'WWW-Authenticate': 'Bearer realm="api"' };

export function mintToken(core: Core, accountId: string, label = 'emulator'): string {
  const token = `dfoa_${randomHex(24)}`;
  core.store.data.openapiTokens[token] = { token, accountId, expiresAtMs: core.clock.nowMs() + TOKEN_TTL_MS, label };
  return token;
}

function bearer(core: Core, ctx: Ctx): Account {
  const h = ctx.header('authorization') ?? '';
  const m = /^bearer\s+(\S+)/i.exec(h);
  if (!m) throw new HttpError(401, { code: 'unauthorized', message: 'bearer required', status: 401 }, WWW_AUTH);
  const t = core.store.data.openapiTokens[m[1]!];
  const account = t ? core.store.data.accounts[t.accountId] : undefined;
  if (!t || t.expiresAtMs <= core.clock.nowMs() || !account) {
    throw new HttpError(401, { code: 'unauthorized', message: 'invalid_bearer', status: 401 }, WWW_AUTH);
  }
  const limit = core.opts.openapiRateLimit;
  if (limit > 0) {
    const now = core.clock.nowMs();
    const w = (core.rateWindows.get(t.token) ?? []).filter((x) => x > now - WINDOW_MS);
    if (w.length >= limit) {
      const retry = Math.max(1, w[0]! + WINDOW_MS - now);
      core.rateWindows.set(t.token, w);
      throw new HttpError(429, { error: 'rate_limited', retry_after_ms: retry }, { 'Retry-After': String(Math.ceil(retry / 1000)) });
    }
    w.push(now);
    core.rateWindows.set(t.token, w);
  }
  return account;
}

function appFor(core: Core, account: Account, id: string): App {
  const app = core.store.data.apps[id];
  if (!app || !core.store.roleOf(account.id, app.workspaceId)) throw appNotFound();
  return app;
}

function member(core: Core, account: Account, ws: string): void {
  if (!core.store.data.workspaces[ws]) throw envelope(404, 'not_found', 'Workspace not found.');
  const role = core.store.roleOf(account.id, ws);
  if (!role) throw forbidden();
  if (role === 'normal') throw forbidden();
}

export function registerOpenApi(core: Core, r: Router, runApp: (ctx: Ctx, app: App) => unknown): void {
  const P = '/openapi/v1';
  r.add('POST', `${P}/oauth/device/code`, (ctx) => {
    const b = ctx.json();
    if (b.client_id !== 'difyctl') return json(400, { error: 'invalid_client' });
    const deviceCode = randomHex(20);
    const userCode = `${randomAlnum(4)}-${randomAlnum(4)}`.toUpperCase();
    core.store.data.deviceCodes[deviceCode] = {
      deviceCode,
      userCode,
      label: typeof b.device_label === 'string' ? b.device_label : 'device',
      expiresAtMs: core.clock.nowMs() + 900_000,
    };
    return json(200, {
      device_code: deviceCode,
      user_code: userCode,
      verification_uri: `${core.url}/device`,
      verification_uri_complete: `${core.url}/device?user_code=${userCode}`,
      expires_in: 900,
      interval: 5,
    });
  });
  r.add('POST', `${P}/oauth/device/approve`, (ctx) => {
    const p = authenticate(core, ctx);
    const code = String(ctx.json().user_code ?? '').toUpperCase();
    const d = Object.values(core.store.data.deviceCodes).find((x) => x.userCode === code && x.expiresAtMs > core.clock.nowMs());
    if (!d) return json(400, { error: 'invalid_user_code' });
    d.approvedBy = p.account.id;
    return json(200, { result: 'success' });
  });
  r.add('POST', `${P}/oauth/device/token`, (ctx) => {
    const d = core.store.data.deviceCodes[String(ctx.json().device_code ?? '')];
    if (!d || d.consumed) return json(400, { error: 'invalid_grant' });
    if (d.expiresAtMs <= core.clock.nowMs()) return json(400, { error: 'expired_token' });
    if (!d.approvedBy) return json(400, { error: 'authorization_pending' });
    d.consumed = true;
    const token = mintToken(core, d.approvedBy, d.label);
    const acc = core.store.data.accounts[d.approvedBy]!;
    const t = core.store.data.openapiTokens[token]!;
    return json(200, {
      token,
      token_type: 'Bearer',
      scope: 'full',
      expires_at: Math.floor(t.expiresAtMs / 1000),
      account: { id: acc.id, email: acc.email, name: acc.name },
      workspaces: core.store.workspacesOf(acc.id).map((w) => ({ id: w.id, name: w.name, role: core.store.roleOf(acc.id, w.id) })),
      default_workspace_id: acc.currentWorkspaceId,
    });
  });

  r.add('GET', `${P}/apps`, (ctx) => {
    const account = bearer(core, ctx);
    const ws = ctx.query.get('workspace_id') || account.currentWorkspaceId;
    if (!core.store.roleOf(account.id, ws)) throw forbidden();
    return json(200, listApps(core, ctx, ws, account.id));
  });
  r.add('POST', `${P}/workspaces/:ws/apps/imports`, async (ctx) => {
    const account = bearer(core, ctx);
    member(core, account, ctx.params.ws!);
    return importReply(await runImport(core, { accountId: account.id, workspaceId: ctx.params.ws! }, ctx.json(), { rollback: true }));
  });
  r.add('POST', `${P}/workspaces/:ws/apps/imports/:importId/confirm`, (ctx) => {
    const account = bearer(core, ctx);
    member(core, account, ctx.params.ws!);
    return importReply(confirmImport(core, { accountId: account.id, workspaceId: ctx.params.ws! }, ctx.params.importId!));
  });
  r.add('GET', `${P}/apps/:id/export`, (ctx) => {
    const account = bearer(core, ctx);
    const app = appFor(core, account, ctx.params.id!);
    if (!app.enable_api) throw forbidden();
    const inc = (ctx.query.get('include_secret') ?? '').toLowerCase() === 'true';
    return exportReply(core, app, inc, ctx.query.get('workflow_id') || undefined, 404);
  });
  r.add('GET', `${P}/apps/:id/check-dependencies`, (ctx) => {
    const account = bearer(core, ctx);
    return json(200, checkDependencies(core, appFor(core, account, ctx.params.id!)));
  });
  r.add('POST', `${P}/apps/:id`, (ctx) => {
    const id = ctx.params.id!;
    if (!id.endsWith(':run')) throw envelope(404, 'not_found', 'The requested URL was not found on the server.');
    const account = bearer(core, ctx);
    const app = appFor(core, account, id.slice(0, -4));
    if (!app.enable_api) throw forbidden();
    return runApp(ctx, app) as never;
  });
}
