import type { Command } from 'commander';
import { action } from './shared.js';

export function registerConfig(program: Command): void {
  const cmd = program
    .command('config')
    .description('print the fully resolved configuration (secrets shown as ***)')
    .option('--format <format>', 'yaml | json', 'yaml');
  action(cmd, 'config');
}
