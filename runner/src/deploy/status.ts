/**
 * `status`: per target the deployed version, its hash, who/when, and drift — the live app differs from the last
 * recorded deploy, or from Git. Read-only; secrets need not be bound (they never enter hashes).
 *
 * Result data (`.dify-ci/results/status.json` → `data`):
 * ```
 * { env, authMode, drifted: <count>,
 *   targets: [{ env, app, tenant?, target, appId|null, mode|null, versionId|null, publishedAt|null, markedName|null,
 *               publishedBy|null, publishedHash|null, contentHash|null (Git),
 *               last: {time, versionId, contentHash, publishedHash, gitCommit, approvedBy, status}|null,
 *               drift: [not-deployed|not-published|live-changed|git-differs|draft-edited], inSync: bool, error? }] }
 * ```
 */
import { DifyCiError } from '../core/errors.js';
import { log } from '../core/log.js';
import type { EnvironmentConfig, PathsConfig, ResolvedConfig, TenantConfig } from '../config/types.js';
import { getConsole, type ConsoleClient } from '../dify/console.js';
import { readHistory } from './history.js';
import { prepareTarget } from './plan.js';
import { prefixed, selectTargets } from './targets.js';
import type { StatusReport, StatusTarget } from '../results/status.js';

export async function statusTargets(
  config: ResolvedConfig,
  env: EnvironmentConfig,
  apps: string | undefined,
  opts: { tenant?: TenantConfig; console?: ConsoleClient; environ?: NodeJS.ProcessEnv; paths?: PathsConfig } = {},
): Promise<StatusReport> {
  const paths = opts.paths ?? config.paths;
  const c = opts.console ?? getConsole(env, { tenant: opts.tenant, environ: opts.environ });
  await c.ready();
  const out: StatusTarget[] = [];
  for (const t of selectTargets(config, env, apps, opts.tenant)) {
    const row: StatusTarget = {
      env: env.key,
      app: t.app.key,
      ...(t.tenant ? { tenant: t.tenant.name } : {}),
      target: t.id,
      appId: null,
      mode: null,
      versionId: null,
      publishedAt: null,
      markedName: null,
      publishedBy: null,
      publishedHash: null,
      contentHash: null,
      last: null,
      drift: [],
      inSync: false,
    };
    try {
      const p = await prepareTarget(c, t, { historyDir: paths.history, environ: opts.environ, secretValues: 'placeholder' });
      const pub = p.live.published;
      row.appId = p.live.resolution.appId ?? null;
      row.mode = p.live.mode ?? p.rendered.mode;
      row.contentHash = p.rendered.contentHash;
      row.versionId = pub?.versionId ?? null;
      row.publishedAt = pub?.createdAt ?? null;
      row.markedName = pub?.markedName ?? null;
      row.publishedBy = pub?.createdBy ?? null;
      row.publishedHash = pub?.hash ?? null;
      // Show the last deploy that changed something; `unchanged` runs only confirm it.
      const last = readHistory(paths.history, env.key).filter((r) => r.target === t.id && (r.status === 'deployed' || r.status === 'rolled-back')).at(-1) ?? p.last;
      if (last) {
        row.last = {
          time: last.time,
          versionId: last.versionId ?? null,
          contentHash: last.contentHash ?? null,
          publishedHash: last.publishedHash ?? null,
          gitCommit: last.gitCommit ?? null,
          approvedBy: last.approvedBy ?? null,
          status: last.status,
        };
      }
      if (!row.appId) row.drift.push('not-deployed');
      else if (!pub) row.drift.push('not-published');
      else {
        if (last && last.appId === row.appId && ((last.versionId ?? null) !== row.versionId || (last.publishedHash && last.publishedHash !== pub.hash))) row.drift.push('live-changed');
        if (p.changed) row.drift.push('git-differs');
        if (p.draftEdited) row.drift.push('draft-edited');
      }
      row.inSync = row.drift.length === 0;
    } catch (e) {
      if (!(e instanceof DifyCiError) || e.category === 'auth') throw e;
      row.error = e.oneLine();
      log.error(prefixed(t.id, row.error));
    }
    out.push(row);
  }
  return { env: env.key, authMode: c.authMode ?? null, drifted: out.filter((r) => !r.inSync).length, targets: out };
}

export function formatStatusText(r: StatusReport): string {
  const lines = [`Status of environment ${r.env}`, ''];
  for (const t of r.targets) {
    const when = t.publishedAt ? new Date(t.publishedAt * 1000).toISOString() : '—';
    lines.push(`${t.inSync ? '✔' : '✘'} ${t.target} (${t.mode ?? '?'}${t.appId ? `, app ${t.appId}` : ''})`);
    if (t.error) {
      lines.push(`    error: ${t.error}`);
      continue;
    }
    lines.push(`    version ${t.versionId ?? (t.mode && !['workflow', 'advanced-chat'].includes(t.mode) ? 'live config' : 'none')}${t.markedName ? ` "${t.markedName}"` : ''} at ${when}${t.publishedBy ? ` by ${t.publishedBy}` : ''}`);
    if (t.publishedHash) lines.push(`    hash ${t.publishedHash}`);
    if (t.last) lines.push(`    last deploy ${t.last.time} (${t.last.status}, commit ${t.last.gitCommit ?? '?'}${t.last.approvedBy ? `, approved by ${t.last.approvedBy}` : ''})`);
    else lines.push('    no deploy recorded by dify-ci');
    if (t.drift.length) lines.push(`    drift: ${t.drift.join(', ')}`);
  }
  lines.push('', `${r.targets.length - r.drifted} in sync, ${r.drifted} drifted.`);
  return lines.join('\n');
}
