/**
 * `dify-ci --version`: the library version and a short hash of the runner's sources. The bundle gets the hash
 * baked in at build time (scripts/bundle.mjs); under tsx it is computed from the files, the same way.
 */
import pkg from '../../../package.json' with { type: 'json' };

declare const __DIFY_CI_SOURCE_HASH__: string | undefined;

export const VERSION: string = pkg.version;

export async function sourceHash(): Promise<string> {
  if (typeof __DIFY_CI_SOURCE_HASH__ === 'string') return __DIFY_CI_SOURCE_HASH__;
  const { computeSourceHash } = await import('./source-hash.js');
  return computeSourceHash();
}

export async function versionLine(): Promise<string> {
  return `dify-ci ${VERSION} (runner ${await sourceHash()})`;
}
