/**
 * The run's configuration, as runCommand (core/command.ts) loads it on a command's first `ctx.config()`: resolved
 * from the file and the environment, every secret it names registered for masking, the --env one selected.
 */
import type { ConfigLoader } from '../core/command.js';
import { registerSecretsFromEnv } from '../core/mask.js';
import { allSecretVars } from './credentials.js';
import { resolveConfig, selectEnvironment } from './resolve.js';
import { loadTenants } from './tenants.js';
import type { ResolvedConfig } from './types.js';

export const loadRunConfig: ConfigLoader<ResolvedConfig> = async (globals, io, found) => {
  const cfg = resolveConfig({ configFile: globals.config, envName: '', environ: io.env, cwd: io.cwd });
  registerSecretsFromEnv(allSecretVars(cfg, loadTenants(cfg)).map((v) => v.env), io.env);
  found(cfg.paths.results);
  const envName = globals.env ?? io.env.DIFY_CI_ENV;
  if (envName) selectEnvironment(cfg, envName, io.env);
  return cfg;
};
