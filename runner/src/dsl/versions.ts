/** DSL versions as Dify compares them (`api/services/app_dsl_service.py` check_version_compatibility). */

/** Versions Dify has written (`CURRENT_APP_DSL_VERSION` over the releases). */
export const KNOWN_DSL_VERSIONS = ['0.1.0', '0.1.1', '0.1.2', '0.1.3', '0.1.4', '0.1.5', '0.2.0', '0.3.0', '0.3.1', '0.4.0', '0.5.0', '0.6.0', '0.7.0'];
export const DEFAULT_TARGET_DSL_VERSION = '0.6.0';
/** Dify's value for an empty or missing `version`. */
export const MISSING_DSL_VERSION = '0.1.0';

export interface DslVersion {
  major: number;
  minor: number;
  patch: number;
}

/** Like packaging.version for the x.y.z strings Dify uses; null when Dify could not parse it either. */
export function parseDslVersion(v: string): DslVersion | null {
  const m = /^\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[-.+]?[A-Za-z0-9.+-]*)?\s*$/.exec(v);
  if (!m) return null;
  return { major: Number(m[1]), minor: Number(m[2] ?? 0), patch: Number(m[3] ?? 0) };
}

export function compareDslVersions(a: DslVersion, b: DslVersion): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

export type Compatibility = 'completed' | 'completed-with-warnings' | 'pending';

/** What Dify answers for an import of `imported` into a Dify whose current DSL version is `current`. */
export function importCompatibility(imported: DslVersion, current: DslVersion): Compatibility {
  if (compareDslVersions(imported, current) > 0) return 'pending';
  if (imported.major < current.major) return 'pending';
  if (imported.minor < current.minor) return 'completed-with-warnings';
  return 'completed';
}
