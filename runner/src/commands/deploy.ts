import type { Command } from 'commander';
import { action } from './shared.js';

export function registerDeploy(program: Command): void {
  const cmd = program
    .command('deploy')
    .description('import the DSL from Git into an environment, publish, verify and record (backup first)')
    .option('--app <apps>', 'only these apps (comma-separated keys)')
    .option('--plan <file>', 'apply exactly this saved plan; refuse if a target moved since')
    .option('--dry-run', 'check everything, change nothing')
    .option('--force', 'deploy over edits made in Dify, and republish unchanged content')
    .option('--allow-version-upgrade', 'confirm imports of a DSL newer than the server (pending imports)')
    .option('--approved-by <who>', 'approver (required for protected environments; recorded in the history)')
    .option('--tenants <selector>', "multi-tenant: only tenants whose labels match, e.g. 'tier=gold,region=cn|hk,env!=test'")
    .option('--tenant <names>', 'multi-tenant: only these tenants (comma-separated names)')
    .option('--shard <i/n>', "multi-tenant: this agent's share of the tenants (Jenkins parallel branches)")
    .option('--wave <k>', 'multi-tenant gray release: only the targets wave k (1-based) adds, no gate (the pipeline gates with smoke --wave k)')
    .option('--fail-fast', 'multi-tenant: stop at the first failed target (default: continue, exit 1 at the end)');
  action(cmd, 'deploy');
}
