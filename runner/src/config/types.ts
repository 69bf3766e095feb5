/** The resolved configuration: what every command reads. Produced only by config/resolve.ts. */
import type { SourceDoc } from '../yaml/source.js';
import type { TrustedSource } from './trusted.js';

export type AuthConfig =
  | { mode: 'password'; email?: string; emailEnv?: string; passwordEnv: string; credentialsId?: string }
  | { mode: 'token'; tokenEnv: string; credentialsId?: string }
  | { mode: 'admin-key'; workspaceId: string; keyEnv: string; credentialsId?: string }
  | { mode: 'openapi'; workspaceId: string; tokenEnv: string; credentialsId?: string };

export interface AppConfig {
  key: string;
  /** Absolute path of the DSL file. */
  dsl: string;
  /** Absolute path of the smoke suite, if any. */
  tests?: string;
  name?: string;
}

export interface EnvAppConfig {
  appId?: string;
  name?: string;
  apiKeyEnv?: string;
  credentialsId?: string;
  enabled?: boolean;
}

export interface SecretRef {
  env: string;
  credentialsId?: string;
}

export interface ApprovalConfig {
  required: boolean;
  submitter?: string;
  message: string;
  timeoutMinutes: number;
}

export interface SmokeConfig {
  concurrency: number;
  passRate: number;
  timeoutMs: number;
  mode: 'streaming' | 'blocking';
  user: string;
  retries: number;
  unstableOnFailure: boolean;
}

export interface RolloutConfig {
  waves: string[];
  gate: { smoke: boolean; maxFailedTargets: number; minPassRate: number };
  rollbackOnFailure: boolean;
  concurrency: number;
  perServerConcurrency: number;
}

export type NotifyOn = 'success' | 'failure' | 'unstable' | 'aborted' | 'fixed' | 'changed' | 'always';

export interface SlackConfig {
  channel?: string;
  tokenEnv?: string;
  credentialsId?: string;
  apiUrl?: string;
  webhookUrlEnv?: string;
  webhookCredentialsId?: string;
  template?: string;
  on: NotifyOn[];
}

export interface EmailConfig {
  to: string[];
  from: string;
  smtp: { host: string; port?: number; secure?: boolean; userEnv?: string; passwordEnv?: string; credentialsId?: string };
  attachReport: boolean;
  template?: string;
  on: NotifyOn[];
}

export interface NotifyConfig {
  slack?: SlackConfig;
  email?: EmailConfig;
  reportUrl?: string;
}

export interface ValidateConfig {
  strict: boolean;
  targetDslVersion?: string;
  policy?: {
    allowedProviders?: string[];
    allowedModels?: string[];
    maxTemperature?: number;
    forbiddenNodeTypes?: string[];
    requireDescription?: boolean;
  };
}

export interface TenantConfig {
  name: string;
  workspaceId?: string;
  url?: string;
  auth?: AuthConfig;
  variables: Record<string, string | number | boolean>;
  labels: Record<string, string>;
  canary: boolean;
  apps: Record<string, { appId?: string; apiKeyEnv?: string; credentialsId?: string }>;
  /** Where the tenant was declared, for error messages. */
  source?: { file: string; line?: number };
}

export interface EnvironmentConfig {
  key: string;
  url: string;
  apiUrl: string;
  auth: AuthConfig;
  apps: Record<string, EnvAppConfig>;
  variables: Record<string, string | number | boolean>;
  secrets: Record<string, SecretRef>;
  approval: ApprovalConfig;
  protected: boolean;
  tls: { caFile?: string; rejectUnauthorized: boolean };
  timeoutMs: number;
  dslVersion: string;
  concurrency: number;
  /** Whether deploys to this environment fan out over tenants. */
  tenants: boolean;
  smoke: SmokeConfig;
  rollout: RolloutConfig;
  notify: NotifyConfig;
}

export interface PipelineConfig {
  environments: string[];
  approval: { policy: 'always' | 'never' | 'main-branch' | 'tags' | 'every-nth'; everyNth: number; mainBranch: string };
  nodejsTool?: string;
  agentLabel?: string;
  shards: number;
  smokeUnstable: boolean;
}

export interface PathsConfig {
  results: string;
  reports: string;
  backups: string;
  history: string;
}

export interface ResolvedConfig {
  /** Absolute path of the config file. */
  file: string;
  baseDir: string;
  apps: Record<string, AppConfig>;
  environments: Record<string, EnvironmentConfig>;
  /** The environment chosen with --env / DIFY_CI_ENV, if any. */
  env?: EnvironmentConfig;
  /** Inline tenants, or the path of the tenant file (loaded by the tenants module). */
  tenants: TenantConfig[] | { file: string };
  smoke: SmokeConfig;
  rollout: RolloutConfig;
  validate: ValidateConfig;
  notify: NotifyConfig;
  pipeline: PipelineConfig;
  paths: PathsConfig;
  source: SourceDoc;
  /** An untrusted build's readTrusted copies (config/trusted.ts): the tenant file is read from there too. */
  trusted?: TrustedSource | null;
}
