/**
 * Which tenants may run at the same time. A console session (password or token auth) has ONE current workspace
 * per account on the server (dify-api.md §2: "Calls act on the account's current workspace"; switching is
 * `POST /console/api/workspaces/switch`, account state), so tenants that share a session but live in different
 * workspaces form one serial lane: switch, do that tenant's work, switch to the next. Admin-key and OpenAPI auth
 * name the workspace on every request (`X-WORKSPACE-ID` / the path), so their tenants never share a lane. Tenants
 * with their own url or auth have their own session and run in parallel anyway.
 */
import { configError, DifyCiError } from '../core/errors.js';
import type { EnvironmentConfig, TenantConfig } from '../config/types.js';
import type { Session } from '../dify/auth.js';
import { getConsole, type ConsoleClient } from '../dify/console.js';
import { DifyRequestError } from '../dify/http.js';

export interface TenantLane {
  tenant: TenantConfig;
  console: ConsoleClient;
  /** Origin of the tenant's Dify server (the per-server limit counts targets per origin). */
  server: string;
  /** Tenants with the same key run one after another; undefined = free to run in parallel. */
  lane?: string;
  /** Workspace to make current before this tenant's work (session auth only). */
  switchTo?: string;
}

/** Session auth: the workspace is account state on the server, not part of the request. */
export function workspaceIsSessionState(c: ConsoleClient): boolean {
  const mode = c.session.creds.mode;
  return mode === 'password' || mode === 'token';
}

export function tenantLanes(env: EnvironmentConfig, tenants: TenantConfig[], environ?: NodeJS.ProcessEnv): TenantLane[] {
  const out: TenantLane[] = tenants.map((tenant) => {
    const c = getConsole(env, { tenant, environ });
    const session = workspaceIsSessionState(c) ? `${c.url}|${c.session.creds.identity}` : undefined;
    return { tenant, console: c, server: c.transport.origin, lane: session, switchTo: session ? tenant.workspaceId : undefined };
  });
  // A session used for a single workspace needs no serialising: one switch up front is enough.
  const spaces = new Map<string, Set<string>>();
  for (const l of out) if (l.lane) (spaces.get(l.lane) ?? spaces.set(l.lane, new Set()).get(l.lane)!).add(l.tenant.workspaceId ?? '');
  // A tenant without a workspaceId works in the session's current workspace: in a lane that is whichever workspace
  // the tenant before it switched to, so it would deploy into (and overwrite) another tenant's app. Refuse it.
  for (const l of out) {
    if (l.lane && !l.tenant.workspaceId && spaces.get(l.lane)!.size > 1) {
      const others = out.filter((o) => o.lane === l.lane && o.tenant.workspaceId).map((o) => o.tenant.name);
      throw configError(
        `tenant '${l.tenant.name}' has no workspaceId, but its login also serves tenant(s) in other workspaces (${others.slice(0, 3).join(', ')}${others.length > 3 ? ', …' : ''}): ` +
          'it would act on whichever workspace was switched to last; set its workspaceId (or give it its own url or auth)',
        { position: l.tenant.source ? { file: l.tenant.source.file, line: l.tenant.source.line } : undefined },
      );
    }
  }
  for (const l of out) if (l.lane && spaces.get(l.lane)!.size < 2) l.lane = undefined;
  return out;
}

/** The workspace each session has made current (this process's view; set by ensureWorkspace only). */
const current = new WeakMap<Session, { id: string; done: Promise<void> }>();

/**
 * Makes `workspaceId` the current workspace of the client's session (once per change; concurrent callers asking
 * for the same workspace share one switch). Callers serialise different workspaces through lanes.
 */
export async function ensureWorkspace(c: ConsoleClient, workspaceId: string): Promise<void> {
  const have = current.get(c.session);
  if (have?.id === workspaceId) return have.done;
  const done = (async () => {
    await c.ready();
    try {
      await c.call({ method: 'POST', path: '/workspaces/switch', json: { tenant_id: workspaceId }, idempotent: true, what: `switch to workspace ${workspaceId}`, where: c.label });
    } catch (e) {
      current.delete(c.session);
      if (e instanceof DifyRequestError && e.httpStatus === 400) {
        throw new DifyCiError(`${c.label}: the account cannot switch to workspace ${workspaceId} (${e.difyCode ?? 'refused'}): it is not a member, or the id is wrong`, 'config', {
          details: ['check the tenant\'s workspaceId, or invite the deploy account to that workspace (editor or above)'],
          cause: e,
        });
      }
      throw e;
    }
  })();
  current.set(c.session, { id: workspaceId, done });
  return done;
}

/** Forgets which workspace sessions have current (after closeConsoles, in tests). */
export function forgetWorkspaces(c: ConsoleClient): void {
  current.delete(c.session);
}

export type LoginFailures = Map<Session, unknown>;

/**
 * Logs every distinct session in once, up front and in parallel, so a bad password costs one failed login and
 * not one per target (Dify locks an account after a few). Returns the sessions that failed, with their error.
 */
export async function loginAll(lanes: TenantLane[], requireConsole?: string): Promise<LoginFailures> {
  const failures: LoginFailures = new Map();
  const sessions = new Map(lanes.map((l) => [l.console.session, l.console]));
  await Promise.all(
    [...sessions].map(async ([s, c]) => {
      try {
        await c.ready();
        if (requireConsole) c.requireConsole(requireConsole, c.label);
      } catch (e) {
        failures.set(s, e);
      }
    }),
  );
  return failures;
}
