/**
 * Draft, publish, versions and restore (dify-api.md §5) — workflow and advanced-chat apps only.
 * Publishing creates a version, so it is never blindly repeated: after an uncertain failure the published
 * workflow is read back first.
 */
import { DifyCiError } from '../core/errors.js';
import { log } from '../core/log.js';
import type { ConsoleClient } from './console.js';
import { DifyRequestError } from './http.js';

export interface WorkflowVersion {
  id: string;
  version?: string;
  hash?: string;
  marked_name?: string;
  marked_comment?: string;
  created_at?: number;
  updated_at?: number;
  created_by?: { id?: string; name?: string; email?: string } | null;
  [k: string]: unknown;
}

const wf = (appId: string) => `/apps/${encodeURIComponent(appId)}/workflows`;

/** The draft (with Dify's graph hash), or undefined when none exists. */
export async function getDraft(c: ConsoleClient, appId: string, where?: string): Promise<WorkflowVersion | undefined> {
  c.requireConsole('read the draft', where);
  const res = await c.call({ method: 'GET', path: `${wf(appId)}/draft`, what: 'read the draft workflow', where, allow: [404] });
  return res.status === 404 ? undefined : (res.body as WorkflowVersion);
}

/** The published workflow, or null. */
export async function getPublished(c: ConsoleClient, appId: string, where?: string): Promise<WorkflowVersion | null> {
  c.requireConsole('read the published workflow', where);
  const res = await c.call({ method: 'GET', path: `${wf(appId)}/publish`, what: 'read the published workflow', where });
  const b = res.body as WorkflowVersion | null | undefined;
  return b && typeof b === 'object' && b.id ? b : null;
}

export interface PublishOptions {
  markedName?: string;
  markedComment?: string;
  where?: string;
}

/** Publishes the draft; returns the new published version (read back). */
export async function publish(c: ConsoleClient, appId: string, opts: PublishOptions = {}): Promise<WorkflowVersion> {
  c.requireConsole('publish', opts.where);
  const json = {
    ...(opts.markedName ? { marked_name: opts.markedName.slice(0, 20) } : {}),
    ...(opts.markedComment ? { marked_comment: opts.markedComment.slice(0, 100) } : {}),
  };
  const before = await getPublished(c, appId, opts.where);
  const send = () => c.call({ method: 'POST', path: `${wf(appId)}/publish`, json, idempotent: false, what: 'publish the workflow', where: opts.where });
  try {
    await send();
  } catch (e) {
    const uncertain = e instanceof DifyRequestError && (e.uncertain || (e.httpStatus ?? 0) >= 500);
    if (!uncertain) throw e;
    const now = await getPublished(c, appId, opts.where);
    if (now && now.id !== before?.id) {
      log.warn(`publish (${opts.where ?? c.label}): the answer was lost but a new version exists; not publishing again`);
      return now;
    }
    log.warn(`publish (${opts.where ?? c.label}): ${(e as Error).message}; nothing was published, retrying once`);
    await send();
  }
  const after = await getPublished(c, appId, opts.where);
  if (!after) throw new DifyCiError(`publish (${opts.where ?? c.label}) answered success but the app has no published workflow`, 'dify');
  return after;
}

/**
 * One page of `GET …/workflows`, newest first. Dify lists the draft among the rows (it sorts first: dify-api.md
 * §5.2, `get_all_published_workflow`); it is dropped from `items`, and `has_more` is Dify's, for the whole page.
 */
export async function listVersions(c: ConsoleClient, appId: string, page = 1, limit = 100, where?: string): Promise<{ items: WorkflowVersion[]; has_more: boolean; rows: number }> {
  c.requireConsole('list versions', where);
  const res = await c.call({ method: 'GET', path: wf(appId), searchParams: { page, limit, named_only: 'false' }, what: 'list workflow versions', where });
  const b = res.body as { items?: WorkflowVersion[]; has_more?: boolean };
  const rows = Array.isArray(b?.items) ? b.items : [];
  return { items: rows.filter((v) => v.version !== 'draft'), has_more: b?.has_more === true, rows: rows.length };
}

/** Published versions, newest first, at most `max`: pages while Dify says `has_more`. */
export async function listAllVersions(c: ConsoleClient, appId: string, max = 200, where?: string): Promise<WorkflowVersion[]> {
  const out: WorkflowVersion[] = [];
  const seen = new Set<string>();
  for (let page = 1; out.length < max; page++) {
    const p = await listVersions(c, appId, page, 100, where);
    for (const v of p.items) if (!seen.has(v.id)) seen.add(v.id), out.push(v);
    // An empty page that claims more would page for ever.
    if (!p.has_more || p.rows === 0) break;
  }
  return out.slice(0, max);
}

/**
 * Copies a published version into the draft. 'unsupported' when the server has no restore route: an unknown route
 * is a 404 `not_found` too (Flask's), indistinguishable from an unknown version, so callers pass a version they just
 * listed; only `app_not_found` is an error.
 */
export async function restoreVersion(c: ConsoleClient, appId: string, workflowId: string, where?: string): Promise<'restored' | 'unsupported'> {
  c.requireConsole('restore a version', where);
  const res = await c.call({
    method: 'POST',
    path: `${wf(appId)}/${encodeURIComponent(workflowId)}/restore`,
    // Restoring the same version twice gives the same draft.
    idempotent: true,
    what: `restore version ${workflowId}`,
    where,
    allow: [404, 405],
  });
  if (res.status === 404 || res.status === 405) {
    const code = (res.body as { code?: string } | undefined)?.code;
    if (code === 'app_not_found') {
      throw new DifyCiError(`restore version ${workflowId} (${where ?? c.label}) failed: HTTP 404 ${code}: app not found`, 'dify', { httpStatus: 404, difyCode: code });
    }
    return 'unsupported';
  }
  return 'restored';
}
