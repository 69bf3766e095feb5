/**
 * DSL import (dify-api.md §3): create or overwrite, pending → confirm, plugin dependency check.
 * Creating is not idempotent: after an uncertain failure (dropped connection, 5xx) the app is first looked up by
 * its exact name, so a retry never creates a duplicate.
 */
import { DifyCiError, operationError } from '../core/errors.js';
import { log } from '../core/log.js';
import { findAppsByName } from './apps.js';
import type { ConsoleClient } from './console.js';
import { DifyRequestError, httpError, type HttpResponse } from './http.js';

export interface ImportObject {
  id: string;
  status: 'completed' | 'completed-with-warnings' | 'pending' | 'failed';
  app_id: string | null;
  app_mode: string | null;
  current_dsl_version?: string;
  imported_dsl_version?: string;
  error?: string;
}

export interface ImportOutcome {
  appId: string;
  mode?: string;
  status: 'completed' | 'completed-with-warnings';
  warnings: string[];
  /** A pending import (newer DSL version) was confirmed. */
  confirmed: boolean;
  /** The app was found by name after a lost answer instead of being imported again. */
  recovered: boolean;
  importedVersion?: string;
  currentVersion?: string;
}

export interface ImportRequest {
  yaml: string;
  /** Overwrite this app (workflow / advanced-chat only). */
  appId?: string;
  /** Name for the app (overrides the DSL). */
  name: string;
}

export interface ImportOptions {
  allowVersionUpgrade?: boolean;
  where?: string;
  /** Ids of apps with this name that existed before (so a found app is known to be ours). */
  knownIds?: Set<string>;
}

function importsPath(c: ConsoleClient): string {
  return c.api === 'openapi' ? `/workspaces/${encodeURIComponent(c.workspaceId ?? '')}/apps/imports` : '/apps/imports';
}

function asImport(res: HttpResponse): ImportObject | undefined {
  const b = res.body as Partial<ImportObject> | undefined;
  return b && typeof b === 'object' && typeof b.status === 'string' && 'id' in b ? (b as ImportObject) : undefined;
}

function isUncertain(e: unknown): boolean {
  return e instanceof DifyRequestError && (e.uncertain || (e.httpStatus !== undefined && e.httpStatus >= 500));
}

async function postImport(c: ConsoleClient, r: ImportRequest, where?: string): Promise<ImportObject> {
  const what = r.appId ? `import DSL over app ${r.name}` : `import DSL as new app ${r.name}`;
  const res = await c.call({
    method: 'POST',
    path: importsPath(c),
    json: { mode: 'yaml-content', yaml_content: r.yaml, name: r.name, ...(r.appId ? { app_id: r.appId } : {}) },
    // Overwriting replaces the draft with the same content: repeating it is harmless.
    idempotent: Boolean(r.appId),
    what,
    where,
    allow: [400],
  });
  const imp = asImport(res);
  if (!imp) throw httpError(what, where, res);
  return imp;
}

async function confirm(c: ConsoleClient, imp: ImportObject, where?: string): Promise<ImportObject> {
  const res = await c.call({
    method: 'POST',
    path: `${importsPath(c)}/${encodeURIComponent(imp.id)}/confirm`,
    what: `confirm import ${imp.id}`,
    where,
    allow: [400],
  });
  const out = asImport(res);
  if (!out) throw httpError(`confirm import ${imp.id}`, where, res);
  return out;
}

/** Imports a DSL; pending only with allowVersionUpgrade; failed → DifyCiError with Dify's error text. */
export async function importDsl(c: ConsoleClient, r: ImportRequest, opts: ImportOptions = {}): Promise<ImportOutcome> {
  const where = opts.where;
  let imp: ImportObject;
  try {
    imp = await postImport(c, r, where);
  } catch (e) {
    if (r.appId || !isUncertain(e)) throw e;
    // The create may have happened: look before trying again.
    const found = (await findAppsByName(c, r.name, where)).filter((a) => !opts.knownIds?.has(a.id));
    if (found.length === 1) {
      log.warn(`import of ${r.name} (${where ?? c.label}): the answer was lost, but the app exists (${found[0]!.id}); not importing again`);
      return { appId: found[0]!.id, mode: found[0]!.mode, status: 'completed', warnings: ['the import answer was lost; the created app was found by name'], confirmed: false, recovered: true };
    }
    if (found.length > 1) throw operationError(`import of ${r.name} (${where ?? c.label}): the answer was lost and ${found.length} new apps with this name exist; resolve by hand`);
    log.warn(`import of ${r.name} (${where ?? c.label}): ${(e as Error).message}; no app was created, retrying once`);
    imp = await postImport(c, r, where);
  }

  let confirmed = false;
  if (imp.status === 'pending') {
    if (!opts.allowVersionUpgrade) {
      throw new DifyCiError(
        `import of ${r.name} (${where ?? c.label}) is pending: the DSL version ${imp.imported_dsl_version ?? '?'} is newer than the server's ${imp.current_dsl_version ?? '?'}; nothing was changed`,
        'operation',
        { difyCode: 'pending', details: ['pass --allow-version-upgrade to confirm the import, or export the DSL from a server of the same version'] },
      );
    }
    log.warn(`import of ${r.name}: DSL ${imp.imported_dsl_version} is newer than the server's ${imp.current_dsl_version}; confirming (--allow-version-upgrade)`);
    try {
      imp = await confirm(c, imp, where);
    } catch (e) {
      if (!isUncertain(e)) throw e;
      // A confirm works once: find out whether it happened before repeating the whole import.
      if (!r.appId) {
        const found = (await findAppsByName(c, r.name, where)).filter((a) => !opts.knownIds?.has(a.id));
        if (found.length === 1) {
          return { appId: found[0]!.id, mode: found[0]!.mode, status: 'completed', warnings: ['the confirm answer was lost; the created app was found by name'], confirmed: true, recovered: true };
        }
      }
      log.warn(`confirm of the import of ${r.name}: ${(e as Error).message}; importing again`);
      imp = await postImport(c, r, where);
      if (imp.status === 'pending') imp = await confirm(c, imp, where);
    }
    confirmed = true;
  }
  if (imp.status === 'failed' || !imp.app_id) {
    throw new DifyCiError(`import of ${r.name} (${where ?? c.label}) failed: ${imp.error || 'no app id in the answer'}`, 'dify', {
      difyCode: 'import_failed',
      httpStatus: 400,
    });
  }
  const warnings: string[] = [];
  if (imp.status === 'completed-with-warnings') {
    warnings.push(`DSL version ${imp.imported_dsl_version} is older than the server's ${imp.current_dsl_version}; Dify upgraded it on import`);
  }
  return {
    appId: imp.app_id,
    mode: imp.app_mode ?? undefined,
    status: imp.status === 'completed-with-warnings' ? 'completed-with-warnings' : 'completed',
    warnings,
    confirmed,
    recovered: false,
    importedVersion: imp.imported_dsl_version,
    currentVersion: imp.current_dsl_version,
  };
}

export interface LeakedDependency {
  type: string;
  value: Record<string, unknown>;
  current_identifier?: string | null;
}

/** Plugins the imported DSL needs that the workspace lacks (empty = all installed). */
export async function checkDependencies(c: ConsoleClient, appId: string, where?: string): Promise<LeakedDependency[]> {
  const path = c.api === 'openapi' ? `/apps/${encodeURIComponent(appId)}/check-dependencies` : `/apps/imports/${encodeURIComponent(appId)}/check-dependencies`;
  const res = await c.call({ method: 'GET', path, what: 'check plugin dependencies', where });
  const list = (res.body as { leaked_dependencies?: LeakedDependency[] } | undefined)?.leaked_dependencies;
  return Array.isArray(list) ? list : [];
}

/** A readable name for a leaked dependency: `langgenius/openai:0.2.3` (hash dropped). */
export function dependencyName(d: LeakedDependency): string {
  const v = d.value ?? {};
  const id = (v.marketplace_plugin_unique_identifier ?? v.plugin_unique_identifier ?? v.github_plugin_unique_identifier ?? v.repo ?? v.package ?? JSON.stringify(v)) as string;
  return String(id).replace(/@[0-9a-f]{16,}$/i, '');
}
