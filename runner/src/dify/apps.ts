/** Apps (dify-api.md §2): list, exact-name lookup, detail, update. Console or /openapi/v1. */
import type { ConsoleClient } from './console.js';

export interface AppSummary {
  id: string;
  name: string;
  mode: string;
  description?: string;
  /** The published workflow ({id, created_at, …}) or null: the "published?" check. */
  workflow?: { id: string; created_at?: number; updated_at?: number } | null;
  created_at?: number;
  updated_at?: number;
  author_name?: string;
  enable_api?: boolean;
  icon?: string;
  icon_type?: string;
  icon_background?: string;
  [k: string]: unknown;
}

interface Page<T> {
  data: T[];
  page?: number;
  limit?: number;
  total?: number;
  has_more?: boolean;
}

export async function listAppsPage(c: ConsoleClient, q: { page?: number; limit?: number; name?: string; mode?: string }, where?: string): Promise<Page<AppSummary>> {
  const res = await c.call({
    method: 'GET',
    path: '/apps',
    searchParams: { page: q.page ?? 1, limit: q.limit ?? 100, name: q.name, mode: q.mode, ...(c.api === 'openapi' ? { workspace_id: c.workspaceId } : {}) },
    what: q.name ? `look up apps named '${q.name}'` : 'list apps',
    where,
  });
  const body = res.body as Page<AppSummary>;
  return { ...body, data: Array.isArray(body?.data) ? body.data : [] };
}

/** Every app of the workspace (optionally filtered by a name substring), all pages. */
export async function listAllApps(c: ConsoleClient, q: { name?: string; mode?: string } = {}, where?: string): Promise<AppSummary[]> {
  const out: AppSummary[] = [];
  const limit = 100;
  for (let page = 1; page <= 1000; page++) {
    const p = await listAppsPage(c, { ...q, page, limit }, where);
    out.push(...p.data);
    // has_more may be true on a full last page; a short or empty page is the end either way.
    if (p.data.length < limit || p.has_more === false) break;
  }
  return out;
}

/** Apps whose name is exactly `name` (the server filters by substring). */
export async function findAppsByName(c: ConsoleClient, name: string, where?: string): Promise<AppSummary[]> {
  const all = await listAllApps(c, { name }, where);
  return all.filter((a) => a.name === name);
}

/** App detail, or undefined when the app does not exist in this workspace. */
export async function getApp(c: ConsoleClient, appId: string, where?: string): Promise<AppSummary | undefined> {
  if (c.api === 'openapi') {
    // /openapi/v1 has no detail route: find it in the list.
    return (await listAllApps(c, {}, where)).find((a) => a.id === appId);
  }
  const res = await c.call({ method: 'GET', path: `/apps/${encodeURIComponent(appId)}`, what: `read app ${appId}`, where, allow: [404] });
  return res.status === 404 ? undefined : (res.body as AppSummary);
}

export interface AppFields {
  name: string;
  description?: string;
  icon_type?: string;
  icon?: string;
  icon_background?: string;
  use_icon_as_answer_icon?: boolean;
}

export async function updateApp(c: ConsoleClient, appId: string, fields: AppFields, where?: string): Promise<AppSummary> {
  c.requireConsole('update app settings', where);
  const res = await c.call({ method: 'PUT', path: `/apps/${encodeURIComponent(appId)}`, json: fields, what: `update app ${fields.name}`, where });
  return res.body as AppSummary;
}
