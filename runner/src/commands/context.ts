import type { Command } from 'commander';
import { action } from './shared.js';

export function registerContext(program: Command): void {
  const cmd = program
    .command('context')
    .description('print (JSON) the credentials Jenkins must bind for a step and environment, and what the pipeline needs to decide')
    .option('--step <step>', 'validate | plan | deploy | rollback | backup | status | smoke | notify | pipeline', 'pipeline')
    .option('--overrides <json>', "difyPipeline's options as a JSON object; they win over pipeline: of the configuration")
    .option('--branch <name>', 'the branch this build checked out (approval policies main-branch, every-nth)')
    .option('--tag <name>', 'the tag this build deploys, TAG_NAME or DIFY_DEPLOY_TAG (approval policies tags, every-nth)');
  action(cmd, 'context');
}

