/** `dify-ci backup`: export the configured apps (or the whole workspace) into a directory with an index.json. */
import { resolve } from 'node:path';
import type { CommandOutcome } from '../core/command.js';
import { requireEnv } from '../config/resolve.js';
import { getConsole } from '../dify/console.js';
import { backupEnvironment, stamp } from '../deploy/backup.js';
import { selectTargets } from '../deploy/targets.js';
import type { BackupData } from '../results/backup.js';
import type { ActionContext } from './action.js';

export interface BackupCliOptions {
  app?: string;
  all?: boolean;
  out?: string;
}

export async function backupAction(ctx: ActionContext, opts: BackupCliOptions): Promise<CommandOutcome<BackupData>> {
  const config = await ctx.config();
  const env = requireEnv(config);
  const outDir = resolve(ctx.io.cwd, opts.out ?? resolve(config.paths.backups, env.key, `full-${stamp()}`));
  const c = getConsole(env);
  await c.ready();
  const index = await backupEnvironment(c, env.key, opts.all ? [] : selectTargets(config, env, opts.app), { all: Boolean(opts.all), outDir });
  ctx.artifact(resolve(outDir, 'index.json'), 'backup-index');
  return {
    summary: `backup of ${env.key}: ${index.apps.length} app(s) exported to ${outDir}${index.skipped.length ? `, ${index.skipped.length} skipped` : ''}`,
    counts: { apps: index.apps.length, skipped: index.skipped.length },
    data: { ...index, outDir },
    stdout: index.apps.map((a) => `${a.file}\t${a.mode}\t${a.version ?? a.exported}\t${a.hash}`).join('\n'),
  };
}
