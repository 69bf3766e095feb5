/**
 * Installed plugins per workspace, for check-dependencies (§3.4). Dify asks the plugin daemon which of the DSL's
 * `plugin_unique_identifier`s the workspace lacks (`services/plugin/dependencies_analysis.py`
 * `get_leaked_dependencies` → `fetch_missing_dependencies`); a missing plugin installed in another version comes
 * back with that version as `current_identifier`. A fresh Dify has none installed, and neither has the emulator
 * until some are declared (`--plugins FILE`, option `plugins`, `emu.setPlugins`, or `plugins` in a `--state` file).
 */
import { isObject } from './util.js';

/** `author/name`, `author/name:version` or `author/name:version@checksum` (less = any version / any checksum). */
export const PLUGIN_ENTRY = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+(?::[^@\s:]+(?:@[A-Za-z0-9]+)?)?$/;

/** A list (every workspace) or a map from workspace id or name (`*` = every workspace) to a list. */
export type PluginsDecl = string[] | Record<string, string[]>;

export function normalisePlugins(decl: PluginsDecl | undefined): Record<string, string[]> {
  if (!decl) return {};
  const map = Array.isArray(decl) ? { '*': decl } : decl;
  const out: Record<string, string[]> = {};
  for (const [ws, list] of Object.entries(map)) {
    if (!Array.isArray(list)) throw new Error(`plugins of '${ws}' must be a list`);
    for (const p of list) if (typeof p !== 'string' || !PLUGIN_ENTRY.test(p)) throw new Error(`'${String(p)}' is not a plugin (author/name[:version[@checksum]])`);
    out[ws] = [...list];
  }
  return out;
}

interface Parsed {
  id: string;
  version?: string;
  checksum?: string;
}

function parse(identifier: string): Parsed {
  const [idVersion, checksum] = identifier.split('@', 2) as [string, string | undefined];
  const i = idVersion.indexOf(':');
  return i < 0 ? { id: idVersion, checksum } : { id: idVersion.slice(0, i), version: idVersion.slice(i + 1), checksum };
}

/** What a workspace has installed: the entries for `*`, its id and its name. */
export function installedIn(plugins: Record<string, string[]>, ws: { id: string; name: string }): string[] {
  return [...(plugins['*'] ?? []), ...(plugins[ws.id] ?? []), ...(ws.id !== ws.name ? (plugins[ws.name] ?? []) : [])];
}

/** The identifier a DSL dependency asks for (`PluginDependency.value.plugin_unique_identifier`). */
export function requiredIdentifier(dep: unknown): string {
  const v = isObject(dep) && isObject(dep.value) ? dep.value : {};
  return String(v.marketplace_plugin_unique_identifier ?? v.github_plugin_unique_identifier ?? v.plugin_unique_identifier ?? '');
}

/** The DSL dependencies the workspace lacks, as Dify lists them: `{type, value, current_identifier}`. */
export function leakedDependencies(deps: unknown[], installed: string[]): Record<string, unknown>[] {
  const have = installed.map(parse);
  const out: Record<string, unknown>[] = [];
  for (const dep of deps) {
    const want = parse(requiredIdentifier(dep));
    const same = have.filter((h) => h.id === want.id);
    const satisfied = same.some((h) => (h.version === undefined || h.version === want.version) && (h.checksum === undefined || h.checksum === want.checksum));
    if (satisfied) continue;
    // Installed in another version: the daemon names that one.
    const other = same.find((h) => h.version !== undefined);
    const d = dep as Record<string, unknown>;
    out.push({ type: d.type, value: d.value, current_identifier: other ? `${other.id}:${other.version}${other.checksum ? `@${other.checksum}` : ''}` : null });
  }
  return out;
}
