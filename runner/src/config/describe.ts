/** The resolved configuration as plain data, with each secret variable shown as *** (set) or (unset). */
import { relative } from 'node:path';
import { allSecretVars } from './credentials.js';
import { loadTenants } from './tenants.js';
import type { ResolvedConfig } from './types.js';
import { runEnv } from '../core/run.js';

export function describeConfig(config: ResolvedConfig, environ: NodeJS.ProcessEnv = runEnv()): Record<string, unknown> {
  const rel = (p: string | undefined) => (p ? relative(config.baseDir, p) || '.' : undefined);
  const { source: _source, env, ...rest } = config;
  const secrets: Record<string, string> = {};
  for (const v of allSecretVars(config, loadTenants(config))) {
    secrets[v.env] = environ[v.env] ? '***' : '(unset)';
    if (v.userEnv) secrets[v.userEnv] = environ[v.userEnv] ? '(set)' : '(unset)';
  }
  const view = {
    selectedEnvironment: env?.key ?? null,
    ...rest,
    apps: Object.fromEntries(Object.entries(config.apps).map(([k, a]) => [k, { ...a, dsl: rel(a.dsl), tests: rel(a.tests) }])),
    environments: env ? { [env.key]: env } : config.environments,
    secretVariables: secrets,
  };
  return JSON.parse(JSON.stringify(view));
}
