import type { Command } from 'commander';
import { action } from './shared.js';

export function registerRollback(program: Command): void {
  const cmd = program
    .command('rollback')
    .description('go back to an earlier version: restore + publish (workflow apps) or re-apply a backup; verified and recorded')
    .option('--app <apps>', 'only these apps (comma-separated keys)')
    .option('--to <target>', 'previous (default) | <published version id> | <backup file>')
    .option('--this-build', "only what this build (BUILD_URL/BUILD_TAG) deployed, each back to what was live before it; a target where a newer deploy is live is skipped")
    .option('--results <dir>', "with --this-build: this build's result files, where deploys on other agents are found (default paths.results)")
    .option('--approved-by <who>', 'approver (required for protected environments; recorded in the history)')
    .option('--dry-run', 'show the diff, change nothing')
    .option('--tenants <selector>', "multi-tenant: only tenants whose labels match, e.g. 'tier=gold'")
    .option('--tenant <names>', 'multi-tenant: only these tenants (comma-separated names)')
    .option('--shard <i/n>', "multi-tenant: this agent's share of the tenants");
  action(cmd, 'rollback');
}
