import type { Command } from 'commander';
import { action } from './shared.js';

export function registerValidate(program: Command): void {
  const cmd = program
    .command('validate')
    .description('check app DSL files the way Dify reads them; exit 1 on errors (or warnings with --strict)')
    .argument('[paths...]', 'DSL files or directories (*.yml, *.yaml, *.json); default: every app DSL in the configuration')
    .option('--format <format>', 'text | json | junit | sarif', 'text')
    .option('--output <file>', 'write the report to this file instead of stdout (registered as an artifact)')
    .option('--strict', 'warnings fail too (default: validate.strict)')
    .option('--target-dsl-version <version>', 'DSL version of the Dify you import into (default: validate.targetDslVersion, else the environment dslVersion, else 0.6.0)');
  action(cmd, 'validate');
}
