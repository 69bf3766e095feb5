/**
 * Which secrets exist and which Jenkins credentials fill them. The single source for both masking (every secret
 * env var's value is registered) and `dify-ci context` (what Groovy binds with withCredentials).
 */
import type { AuthConfig, EnvironmentConfig, ResolvedConfig, TenantConfig } from './types.js';

export type BindingType = 'string' | 'usernamePassword' | 'file';

export interface CredentialBinding {
  type: BindingType;
  credentialsId: string;
  /** For string/file: [VAR]; for usernamePassword: [USER_VAR, PASSWORD_VAR]. */
  variables: string[];
  /** Why it is bound, for humans reading `context`. */
  purpose: string;
}

/** A secret the runner reads from the environment; `credentialsId` absent = the agent provides it. */
export interface SecretVar {
  env: string;
  credentialsId?: string;
  type: BindingType;
  /** For usernamePassword: the username variable bound together with this secret. */
  userEnv?: string;
  purpose: string;
  steps: Step[];
}

export const STEPS = ['validate', 'plan', 'deploy', 'rollback', 'backup', 'status', 'smoke', 'notify', 'config', 'pipeline'] as const;
export type Step = (typeof STEPS)[number];

const DIFY_STEPS: Step[] = ['plan', 'deploy', 'rollback', 'backup', 'status', 'smoke'];
const RENDER_STEPS: Step[] = ['plan', 'deploy', 'rollback'];

function authSecret(auth: AuthConfig, purpose: string): SecretVar {
  switch (auth.mode) {
    case 'password':
      return auth.emailEnv
        ? { env: auth.passwordEnv, userEnv: auth.emailEnv, credentialsId: auth.credentialsId, type: 'usernamePassword', purpose, steps: DIFY_STEPS }
        : { env: auth.passwordEnv, credentialsId: auth.credentialsId, type: 'string', purpose, steps: DIFY_STEPS };
    case 'token':
    case 'openapi':
      return { env: auth.tokenEnv, credentialsId: auth.credentialsId, type: 'string', purpose, steps: DIFY_STEPS };
    case 'admin-key':
      return { env: auth.keyEnv, credentialsId: auth.credentialsId, type: 'string', purpose, steps: DIFY_STEPS };
  }
}

export function environmentSecrets(env: EnvironmentConfig, tenants: TenantConfig[] = []): SecretVar[] {
  const out: SecretVar[] = [authSecret(env.auth, `Dify login for ${env.key}`)];
  for (const [app, a] of Object.entries(env.apps)) {
    if (a.apiKeyEnv) {
      out.push({ env: a.apiKeyEnv, credentialsId: a.credentialsId, type: 'string', purpose: `service API key of ${app} in ${env.key}`, steps: ['smoke'] });
    }
  }
  for (const [name, s] of Object.entries(env.secrets)) {
    out.push({ env: s.env, credentialsId: s.credentialsId, type: 'string', purpose: `DSL secret ${name} in ${env.key}`, steps: RENDER_STEPS });
  }
  if (env.tenants) {
    for (const t of tenants) {
      if (t.auth) out.push(authSecret(t.auth, `Dify login for tenant ${t.name}`));
      for (const [app, a] of Object.entries(t.apps)) {
        if (a.apiKeyEnv) {
          out.push({ env: a.apiKeyEnv, credentialsId: a.credentialsId, type: 'string', purpose: `service API key of ${t.name}/${app}`, steps: ['smoke'] });
        }
      }
    }
  }
  return out;
}

export function notifySecrets(config: ResolvedConfig, env?: EnvironmentConfig): SecretVar[] {
  const notify = env?.notify ?? config.notify;
  const out: SecretVar[] = [];
  const s = notify.slack;
  if (s?.tokenEnv) out.push({ env: s.tokenEnv, credentialsId: s.credentialsId, type: 'string', purpose: 'Slack bot token', steps: ['notify'] });
  if (s?.webhookUrlEnv) {
    out.push({ env: s.webhookUrlEnv, credentialsId: s.webhookCredentialsId ?? (s.tokenEnv ? undefined : s.credentialsId), type: 'string', purpose: 'Slack incoming webhook URL', steps: ['notify'] });
  }
  const smtp = notify.email?.smtp;
  if (smtp?.passwordEnv) {
    out.push(
      smtp.userEnv
        ? { env: smtp.passwordEnv, userEnv: smtp.userEnv, credentialsId: smtp.credentialsId, type: 'usernamePassword', purpose: 'SMTP login', steps: ['notify'] }
        : { env: smtp.passwordEnv, credentialsId: smtp.credentialsId, type: 'string', purpose: 'SMTP password', steps: ['notify'] },
    );
  }
  return out;
}

/** Every secret variable the config names (all environments), for masking. */
export function allSecretVars(config: ResolvedConfig, tenants: TenantConfig[] = Array.isArray(config.tenants) ? config.tenants : []): SecretVar[] {
  const out: SecretVar[] = [];
  for (const env of Object.values(config.environments)) out.push(...environmentSecrets(env, tenants), ...notifySecrets(config, env));
  out.push(...notifySecrets(config));
  return out;
}

/** The withCredentials bindings for one step in one environment (all environments for `pipeline`). */
export function bindingsFor(config: ResolvedConfig, step: Step, env: EnvironmentConfig | undefined, tenants: TenantConfig[] = Array.isArray(config.tenants) ? config.tenants : []): CredentialBinding[] {
  let vars: SecretVar[];
  if (step === 'notify') vars = notifySecrets(config, env);
  else if (step === 'validate' || step === 'config') vars = [];
  else if (step === 'pipeline') vars = allSecretVars(config, tenants);
  else {
    const envs = env ? [env] : Object.values(config.environments);
    vars = envs.flatMap((e) => environmentSecrets(e, tenants)).filter((v) => v.steps.includes(step));
  }
  const out = new Map<string, CredentialBinding>();
  for (const v of vars) {
    if (!v.credentialsId) continue;
    const variables = v.type === 'usernamePassword' ? [v.userEnv!, v.env] : [v.env];
    const key = `${v.type}|${v.credentialsId}|${variables.join(',')}`;
    const existing = out.get(key);
    if (existing) {
      if (!existing.purpose.includes(v.purpose)) existing.purpose += `; ${v.purpose}`;
    } else out.set(key, { type: v.type, credentialsId: v.credentialsId, variables, purpose: v.purpose });
  }
  return [...out.values()];
}
