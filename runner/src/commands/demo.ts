import type { Command } from 'commander';
import { action } from './shared.js';

export function registerDemo(program: Command): void {
  const cmd = program
    .command('demo')
    .description('run the whole pipeline on examples/tenant-repo against local emulators, Slack and SMTP stand-ins (offline)')
    .option('--example <dir>', 'tenant repository to play (default: examples/tenant-repo)')
    .option('--out <dir>', 'work directory, wiped first (default: .dify-ci/demo)')
    .option('--latency <ms>', 'model latency of the emulators', '40');
  action(cmd, 'demo');
}
