import type { Command } from 'commander';
import { action } from './shared.js';

export function registerNotify(program: Command): void {
  const cmd = program
    .command('notify')
    .description('tell Slack and/or email what this build shipped, what broke and where to look (from the result files)')
    .option('--status <status>', 'build result: success | failure | unstable | aborted (default: from the result files)')
    .option('--channel <channel>', 'slack | email | all', 'all')
    .option('--results <dir>', 'directory of the result files (default: paths.results)')
    .option('--previous-status <status>', "previous build's result, for `on: [fixed]` (default: from the notify history)")
    .option('--strict', 'exit 1 when a notification cannot be delivered (default: warn, exit 0)')
    .option('--dry-run', 'print the rendered messages instead of sending them');
  action(cmd, 'notify');
}
