/**
 * What is deployed right now for a target: the published version (workflow modes) or the live config (chat modes),
 * and the draft, each exported and normalised. Shared by plan, deploy, rollback and status.
 */
import { log } from '../core/log.js';
import type { ConsoleClient } from '../dify/console.js';
import { exportDsl } from '../dify/export.js';
import { getDraft, getPublished } from '../dify/workflows.js';
import { decryptDatasetIds, encryptedDatasetIds, hashNormalised, normaliseDsl, secretValues, type NormalisedDsl } from './normalise.js';
import { currentWorkspaceId } from '../dify/workspaces.js';
import { parseDsl, WORKFLOW_MODES, type DslDoc } from './render.js';
import type { Resolution, Target } from './targets.js';

export interface LiveVersion {
  /** Export text (secrets blank). */
  yaml: string;
  doc: DslDoc;
  normalised: NormalisedDsl;
  hash: string;
}

/** A version chosen to go live again (rollback): a published version of the app, or a backup or DSL file. */
export interface ChosenVersion {
  version: LiveVersion;
  versionId: string | null;
  file: string | null;
}

export interface LivePublished extends LiveVersion {
  /** Published workflow id (workflow modes). */
  versionId?: string;
  createdAt?: number;
  markedName?: string;
  createdBy?: string;
}

export interface LiveState {
  resolution: Resolution;
  mode?: string;
  published?: LivePublished;
  draft?: LiveVersion & { difyHash?: string };
}

/** Parses and normalises an export; with the workspace id, knowledge-base ids are decrypted first. */
export function toLiveVersion(yaml: string, label: string, workspaceId?: string): LiveVersion {
  // Right after a publish the draft export is the same text as the published one: parse it once (the fan-out
  // parses thousands of exports; callers treat LiveVersion as read-only).
  // An export without encrypted knowledge-base ids reads the same in every workspace (the tenants of a fan-out
  // export the same text from their own workspaces): those are cached under the text alone.
  const key = `${workspaceId ?? ''}\n${yaml}`;
  const anyWs = `*\n${yaml}`;
  const hit = recent.get(anyWs) ?? recent.get(key);
  if (hit) return hit;
  const doc = parseDsl(yaml, label);
  const independent = encryptedDatasetIds(doc) === 0;
  decryptDatasetIds(doc, workspaceId);
  const normalised = normaliseDsl(doc);
  const v = { yaml, doc, normalised, hash: hashNormalised(normalised) };
  recent.set(independent ? anyWs : key, v);
  if (recent.size > 32) recent.delete(recent.keys().next().value!);
  return v;
}

const recent = new Map<string, LiveVersion>();

export async function observe(c: ConsoleClient, t: Target, resolution: Resolution): Promise<LiveState> {
  const state: LiveState = { resolution };
  if (!resolution.appId) return state;
  const appId = resolution.appId;
  const mode = resolution.app?.mode;
  state.mode = mode;
  const ws = WORKFLOW_MODES.has(mode ?? '') ? await currentWorkspaceId(c) : undefined;
  if (mode && !WORKFLOW_MODES.has(mode)) {
    // Chat modes: the config is live as soon as it is saved; there is no draft.
    const yaml = await exportDsl(c, appId, { where: t.id, what: 'export the live app' });
    if (yaml) state.published = { ...toLiveVersion(yaml, `${t.id} (live export)`, ws), createdAt: resolution.app?.updated_at };
    return state;
  }
  let publishedId = resolution.app?.workflow?.id;
  if (c.api === 'console') {
    const pub = await getPublished(c, appId, t.id);
    publishedId = pub?.id;
    if (pub) {
      const yaml = await exportDsl(c, appId, { workflowId: pub.id, where: t.id, what: 'export the published version' });
      if (yaml) {
        state.published = {
          ...toLiveVersion(yaml, `${t.id} (published export)`, ws),
          versionId: pub.id,
          createdAt: pub.created_at,
          markedName: pub.marked_name,
          createdBy: pub.created_by?.email ?? pub.created_by?.name,
        };
      }
    }
    const draft = await getDraft(c, appId, t.id);
    if (draft) {
      const yaml = await exportDsl(c, appId, { where: t.id, what: 'export the draft' });
      if (yaml) state.draft = { ...toLiveVersion(yaml, `${t.id} (draft export)`, ws), difyHash: draft.hash };
    }
  } else {
    if (publishedId) {
      const yaml = await exportDsl(c, appId, { workflowId: publishedId, where: t.id, what: 'export the published version' });
      if (yaml) state.published = { ...toLiveVersion(yaml, `${t.id} (published export)`, ws), versionId: publishedId, createdAt: resolution.app?.workflow?.created_at };
    }
    const yaml = await exportDsl(c, appId, { where: t.id, what: 'export the draft' });
    if (yaml) state.draft = toLiveVersion(yaml, `${t.id} (draft export)`, ws);
  }
  return state;
}

/**
 * Secret values of the live version, read with include_secret=true (registered for masking, kept in memory).
 * Undefined when the server refuses: changes to secrets then cannot be detected.
 */
export async function liveSecretValues(c: ConsoleClient, t: Target, state: LiveState): Promise<Record<string, string> | undefined> {
  const appId = state.resolution.appId;
  if (!appId || !state.published) return undefined;
  try {
    const yaml = await exportDsl(c, appId, { workflowId: state.published.versionId, includeSecret: true, where: t.id, what: 'read the live secret values' });
    return yaml ? secretValues(parseDsl(yaml, `${t.id} (export with secrets)`)) : undefined;
  } catch (e) {
    log.warn(`${t.id}: cannot read the live secret values (${(e as Error).message}); secret changes are not detected (use --force to push them)`);
    return undefined;
  }
}
