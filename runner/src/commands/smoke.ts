import type { Command } from 'commander';
import { action } from './shared.js';

export function registerSmoke(program: Command): void {
  const cmd = program
    .command('smoke')
    .description('run the smoke suites of the apps against an environment through the service API; exit 1 when the gate fails')
    .option('--app <keys>', 'only these apps (comma-separated)')
    .option('--suite <file>', 'suite file (default: apps.<app>.tests; needs a single app)')
    .option('--concurrency <n>', 'parallel runs (default: smoke.concurrency, 4)')
    .option('--junit <file>', 'JUnit XML path (default: <report-dir>/junit-smoke.xml)')
    .option('--report-dir <dir>', 'where the reports go (default: <paths.reports>/smoke)')
    .option('--filter <regex>', 'only cases whose name matches')
    .option('--repeat <n>', 'run every case n times')
    .option('--pass-rate <rate>', 'share of runs that must pass, 0..1 (default: suite passRate, else smoke.passRate)')
    .option('--mode <mode>', 'streaming | blocking for cases that do not set mode (default: suite defaults, else smoke.mode)')
    .option('--timeout-ms <ms>', 'time limit per call for cases that do not set timeoutMs (default: suite defaults, else smoke.timeoutMs)')
    .option('--user <id>', 'the `user` sent to Dify for cases that do not set user (default: suite defaults, else smoke.user)')
    .option('--url <apiUrl>', 'ad-hoc: service API base URL (e.g. https://api.dify.ai/v1); no configuration needed')
    .option('--api-key-env <VAR>', 'ad-hoc: environment variable holding the app API key')
    .option('--tenants <selector>', "multi-tenant: only tenants whose labels match, e.g. 'tier=gold'")
    .option('--tenant <names>', 'multi-tenant: only these tenants (comma-separated names)')
    .option('--shard <i/n>', "multi-tenant: this agent's share of the tenants")
    .option('--wave <k>', 'multi-tenant gray release: the gate of wave k (1-based) — smoke its new targets, rollout.gate decides; exit 1 when it fails');
  action(cmd, 'smoke');
}
