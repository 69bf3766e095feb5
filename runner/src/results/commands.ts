/**
 * The `data` of every command's result file, by command. The envelope around it (command, status, summary,
 * counts, artifacts, error, times, exitCode) is core/result.ts' CommandResult; read.ts reads both back.
 */
import type { StepContext } from '../config/context.js';
import type { Finding } from '../dsl/types.js';
import type { BackupData } from './backup.js';
import type { DeployReport, EmptyShardDeploy } from './deploy.js';
import type { PlanData } from './plan.js';
import type { RollbackData } from './rollback.js';
import type { RolloutReport, WaveGateReport } from './rollout.js';
import type { SmokeCommandData } from './smoke.js';
import type { StatusReport } from './status.js';

/** One workspace, a fan-out over tenants, or a shard with none of its own. */
export type DeployData = DeployReport | RolloutReport | EmptyShardDeploy;

/** A smoke run, or the gate of one wave of a gray release (`smoke --wave K`). */
export type SmokeData = SmokeCommandData | (WaveGateReport & { fanOut: true });

export interface ValidateData {
  targetDslVersion: string;
  strict: boolean;
  files: {
    file: string;
    mode: string | null;
    version: string | null;
    errors: number;
    warnings: number;
    /** Errors and warnings, at most 200 per file. */
    findings: Finding[];
  }[];
}

/** How one notification channel fared. */
export interface ChannelOutcome {
  channel: 'slack' | 'email';
  status: 'sent' | 'skipped' | 'failed' | 'rendered';
  detail: string;
  /** The `on:` rules this build matched. */
  matched: string[];
}

export interface NotifyData {
  status: string;
  previousStatus: string | null;
  fixed: boolean;
  changed: boolean;
  channels: ChannelOutcome[];
  /** With --dry-run: what each channel would have sent. */
  rendered?: Record<string, unknown>;
}

/** An untrusted build that must fetch a file through readTrusted first; else the step's context and the version. */
export type ContextData = { untrusted: true; needsTrusted: string[] } | (StepContext & { version: string });

/** The resolved configuration as `dify-ci config` shows it (secrets as ***). */
export type ConfigData = Record<string, unknown>;

export interface EmulatorData {
  url: string;
  workspaceId: string;
  workspaceIds: string[];
  byRoute: Record<string, number>;
}

export interface DemoData {
  steps: { title: string; command: string; exitCode: number; expected: number; ms: number }[];
  workDir: string;
}

export interface ResultData {
  validate: ValidateData;
  plan: PlanData;
  deploy: DeployData;
  rollback: RollbackData;
  smoke: SmokeData;
  backup: BackupData;
  status: StatusReport;
  notify: NotifyData;
  context: ContextData;
  config: ConfigData;
  emulator: EmulatorData;
  demo: DemoData;
}

export type CommandName = keyof ResultData;
