import type { Command } from 'commander';
import { action } from './shared.js';

export function registerBackup(program: Command): void {
  const cmd = program
    .command('backup')
    .description('export the configured apps (or every app with --all) into a directory with an index.json')
    .option('--app <apps>', 'only these apps (comma-separated keys)')
    .option('--all', 'every app of the workspace, not only the configured ones')
    .option('--out <dir>', 'target directory (default: <paths.backups>/<env>/full-<time>)');
  action(cmd, 'backup');
}
