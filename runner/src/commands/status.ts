import type { Command } from 'commander';
import { action } from './shared.js';

export function registerStatus(program: Command): void {
  const cmd = program
    .command('status')
    .description('per target: the deployed version, its hash, who/when, and drift from the last deploy or from Git')
    .option('--app <apps>', 'only these apps (comma-separated keys)')
    .option('--format <format>', 'text | json', 'text')
    .option('--fail-on-drift', 'exit 1 when any target drifted');
  action(cmd, 'status');
}
