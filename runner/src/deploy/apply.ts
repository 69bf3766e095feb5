/**
 * The skeleton deploy and rollback share once they know what goes live: back up what is live, write (each its
 * own way: import or model config; restore or re-import), publish, verify the live export against what was sent,
 * remember the draft — and the one way a target fails. Both resolve and observe the target first
 * (targets.ts, live.ts) and record the outcome in the history themselves (what they record differs).
 */
import { DifyCiError, usageError } from '../core/errors.js';
import { log } from '../core/log.js';
import type { EnvironmentConfig, PathsConfig } from '../config/types.js';
import type { ConsoleClient } from '../dify/console.js';
import { exportDsl } from '../dify/export.js';
import { publish } from '../dify/workflows.js';
import { currentWorkspaceId } from '../dify/workspaces.js';
import { failure } from '../results/failure.js';
import type { TargetResult } from '../results/target.js';
import { backupLive } from './backup.js';
import { toLiveVersion, type LiveState } from './live.js';
import { hashNormalised, isSubset, normaliseDsl, secretValues } from './normalise.js';
import { parseDsl, WORKFLOW_MODES } from './render.js';
import { prefixed, type Target } from './targets.js';

/** Protected environments need an approver for anything that writes. */
export function requireApproval(env: EnvironmentConfig, approvedBy: string | undefined, what: string): void {
  if (env.protected && !approvedBy?.trim()) {
    throw usageError(`environment ${env.key} is protected: ${what} needs --approved-by <who> (the Jenkins step passes the approver)`);
  }
}

export interface Verification {
  ok: boolean;
  hash?: string;
  note?: string;
}

/** What is expected live after the write: the document sent and the secret values it carries. */
export interface Expected {
  doc: Record<string, unknown>;
  secrets: Record<string, string>;
}

/**
 * Exports what is live now and compares it with what was sent (normalised; secrets redacted). An export that
 * only adds keys (server defaults) still verifies; secret values are compared through an include_secret export.
 */
export async function verifyLive(c: ConsoleClient, t: Target, appId: string, mode: string, expected: Expected, versionId?: string): Promise<Verification> {
  const yaml = await exportDsl(c, appId, { workflowId: WORKFLOW_MODES.has(mode) ? versionId : undefined, where: t.id, what: 'export for verification' });
  if (!yaml) return { ok: false, note: 'nothing to export after the deploy' };
  const live = toLiveVersion(yaml, `${t.id} (verification export)`, await currentWorkspaceId(c));
  const sent = normaliseDsl(expected.doc);
  let note: string | undefined;
  let ok = live.hash === hashNormalised(sent);
  if (!ok && isSubset(sent, live.normalised)) {
    ok = true;
    note = 'the server added default values';
  }
  if (ok && Object.keys(expected.secrets).length > 0) {
    const withSecrets = await exportDsl(c, appId, { workflowId: WORKFLOW_MODES.has(mode) ? versionId : undefined, includeSecret: true, where: t.id, what: 'verify secret values' }).catch((e: Error) => {
      // A server that refuses include_secret still had the rest verified; secrets are then not checked.
      log.debug(`${t.id}: secret values not verified: ${e.message}`);
      return undefined;
    });
    if (withSecrets) {
      const liveSecrets = secretValues(parseDsl(withSecrets, `${t.id} (verification export)`));
      const wrong = Object.keys(expected.secrets).filter((k) => liveSecrets[k] !== expected.secrets[k]);
      if (wrong.length) return { ok: false, hash: live.hash, note: `secret value(s) not applied: ${wrong.join(', ')}` };
    }
  }
  return { ok, hash: live.hash, note: ok ? note : 'the live export differs from what was sent' };
}

/** The hash of the app's draft now, so the next deploy knows it as its own and not as an edit made in Dify. */
export async function draftHashOf(c: ConsoleClient, t: Target, appId: string, what: string): Promise<string | undefined> {
  const draft = await exportDsl(c, appId, { where: t.id, what });
  return draft ? toLiveVersion(draft, `${t.id} (draft)`, await currentWorkspaceId(c)).hash : undefined;
}

export interface Change {
  /** What was live (backed up first). */
  live: LiveState;
  mode: string;
  /** The marks of the published version (workflow apps). */
  marked: { markedName: string; markedComment: string };
  /** `deploy` or `rollback`, for messages. */
  action: string;
  /** Writes the new content; returns the app and what must be live afterwards. */
  write(): Promise<{ appId: string; expected: Expected }>;
}

/**
 * Backs up, writes, publishes and verifies one target, filling `res` (backups, versionId, publishedAt, verified,
 * publishedHash). Returns the verification and, for workflow apps, the new draft's hash.
 */
export async function applyChange(c: ConsoleClient, t: Target, res: TargetResult, paths: PathsConfig, change: Change): Promise<{ ver: Verification; draftHash?: string }> {
  res.backups = backupLive(paths.backups, t, change.live);
  const { appId, expected } = await change.write();
  res.appId = appId;
  const workflow = WORKFLOW_MODES.has(change.mode);
  if (workflow) {
    const v = await publish(c, appId, { ...change.marked, where: t.id });
    res.versionId = v.id;
    res.publishedAt = v.created_at ?? null;
  } else {
    res.versionId = null;
    res.publishedAt = Math.floor(Date.now() / 1000);
  }
  const ver = await verifyLive(c, t, appId, change.mode, expected, res.versionId ?? undefined);
  res.verified = ver.ok;
  res.publishedHash = ver.hash ?? null;
  const draftHash = workflow ? await draftHashOf(c, t, appId, `export the draft after the ${change.action}`) : undefined;
  return { ver, draftHash };
}

/**
 * A target that failed: its result says why (the error, and its details as warnings), and the run goes on with
 * the next target — unless credentials were refused (every later target would fail the same way) or it is a bug,
 * which stop the command. `after` runs first (deploy records the failure in the history).
 */
export async function targetFailed<R extends TargetResult>(res: R, t: Target, e: unknown, after?: () => Promise<void>): Promise<R> {
  res.status = 'failed' as R['status'];
  Object.assign(res, failure(e));
  log.error(prefixed(t.id, res.error!));
  if (e instanceof DifyCiError) {
    for (const d of e.details) {
      res.warnings.push(d);
      log.info(`  ${d}`);
    }
  }
  await after?.();
  if (!(e instanceof DifyCiError) || e.category === 'auth') throw e;
  return res;
}
