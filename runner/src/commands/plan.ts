import type { Command } from 'commander';
import { action } from './shared.js';

export function registerPlan(program: Command): void {
  const cmd = program
    .command('plan')
    .description('show what a deploy would change in an environment (semantic diff of Git against Dify), changing nothing')
    .option('--app <apps>', 'only these apps (comma-separated keys)')
    .option('--format <format>', 'text | markdown | json', 'text')
    .option('--out <file>', 'save the plan (content and observed hashes) for `deploy --plan`')
    .option('--detailed-exitcode', 'exit 3 when there are changes (0 = none)')
    .option('--offline', 'no Dify and no credentials (pull requests): compare the DSL with a git base revision instead')
    .option('--base <rev>', 'with --offline: the git revision to compare with (default: the pull request target, CHANGE_TARGET)');
  action(cmd, 'plan');
}
