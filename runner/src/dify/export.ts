/**
 * DSL export (dify-api.md §4). Without a workflow id Dify exports the draft; with one, that published version.
 * Secrets come back blank unless include_secret=true; values learnt that way are registered for masking at once
 * and are never written anywhere by callers.
 */
import { loadPyYaml } from '../yaml/pyyaml-load.js';
import { DifyCiError } from '../core/errors.js';
import { registerSecret } from '../core/mask.js';
import type { ConsoleClient } from './console.js';

export interface ExportOptions {
  workflowId?: string;
  includeSecret?: boolean;
  where?: string;
  what?: string;
}

/** The exported YAML text; undefined when the app has nothing to export (workflow app without a draft). */
export async function exportDsl(c: ConsoleClient, appId: string, opts: ExportOptions = {}): Promise<string | undefined> {
  const what = opts.what ?? `export app ${appId}${opts.workflowId ? ` version ${opts.workflowId}` : ''}`;
  const res = await c.call({
    method: 'GET',
    path: `/apps/${encodeURIComponent(appId)}/export`,
    searchParams: { include_secret: opts.includeSecret ? 'true' : 'false', workflow_id: opts.workflowId, format: 'yaml' },
    what,
    where: opts.where,
    // Console: 500 "unknown" for a workflow app without a draft; /openapi/v1: 404.
    allow: [500, ...(c.api === 'openapi' ? [404] : [])],
  });
  if (res.status === 500 || res.status === 404) {
    const code = (res.body as { code?: string } | undefined)?.code;
    if (res.status === 404 && code === 'app_not_found') throw new DifyCiError(`${what} (${opts.where ?? c.label}) failed: app not found`, 'dify', { httpStatus: 404, difyCode: code });
    if (opts.workflowId) throw new DifyCiError(`${what} (${opts.where ?? c.label}) failed: HTTP ${res.status}`, 'dify', { httpStatus: res.status, difyCode: code });
    return undefined;
  }
  const data = (res.body as { data?: unknown } | undefined)?.data;
  if (typeof data !== 'string') {
    throw new DifyCiError(`${what} (${opts.where ?? c.label}): the answer has no YAML in 'data'`, 'dify', { httpStatus: res.status });
  }
  if (opts.includeSecret) registerExportSecrets(data);
  return data;
}

/** Registers the values of secret environment variables (and tool credential ids) found in an export. */
export function registerExportSecrets(yamlText: string): void {
  // Best effort (Dify's own export): whatever safe_load would read; nothing to register from an unreadable text.
  const doc = loadPyYaml(yamlText).value;
  const vars = (doc as { workflow?: { environment_variables?: { value_type?: string; value?: unknown }[] } } | null)?.workflow?.environment_variables;
  for (const v of Array.isArray(vars) ? vars : []) {
    if (v?.value_type === 'secret' && typeof v.value === 'string') registerSecret(v.value);
  }
}
