import type { Command } from 'commander';
import { Option } from 'commander';
import { action } from './shared.js';

export function registerEmulator(program: Command): void {
  const cmd = program
    .command('emulator')
    .description('run a local Dify emulator (console API, service API, /openapi/v1) until SIGINT/SIGTERM')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port (0 = any free port)', '5001')
    .option('--state <file>', 'persist the state in this JSON file (loaded on start, written after each change)')
    .option('--dsl-version <version>', 'CURRENT_APP_DSL_VERSION to emulate', '0.6.0')
    .option('--latency <ms>', 'model latency of service-API runs')
    .option('--jitter <ms>', 'random extra latency (seeded)')
    .option('--seed <n>', 'RNG seed for jitter and probabilistic faults')
    .option('--workspaces <n>', 'workspaces in all: the seeded one plus ws-001, ws-002, ... (the admin owns each)', '1')
    .option('--faults <file>', 'fault rules (YAML/JSON list)')
    .option('--script <file>', 'scripted model answers (YAML/JSON list)')
    .option('--plugins <file>', 'installed plugins (YAML/JSON: a list, or workspace -> list) for check-dependencies')
    .addOption(new Option('--admin <email:password>', 'seeded owner account').env('DIFY_CI_EMULATOR_ADMIN'))
    .addOption(new Option('--auth-era <era>', 'console auth profile').choices(['modern', 'legacy']).default('modern'))
    .option('--secure-cookies', 'cookie names with the __Host- prefix and Secure (Dify on https)')
    .option('--cookie-domain <domain>', "Dify's COOKIE_DOMAIN: cookies get Domain=<domain> and never the __Host- prefix")
    .option('--fresh', 'start as an uninstalled Dify: no seeded account or workspace until POST /console/api/setup')
    .option('--openapi', 'enable /openapi/v1 (dfoa_ bearer tokens)')
    .addOption(new Option('--draft-hash <scope>', 'what the draft hash covers: graph+features (Dify 2024-2025) or graph (newest)').choices(['graph+features', 'graph']).default('graph+features'))
    .addOption(new Option('--admin-api-key <key>', 'enable the admin API key (with X-WORKSPACE-ID)').env('DIFY_CI_EMULATOR_ADMIN_API_KEY'))
    .addOption(
      new Option('--quirk <name...>', 'reproduce a known Dify bug (repeatable)').choices(['chatflow-streams-blocking', 'blocking-workflow-empty-outputs']),
    );

  action(cmd, 'emulator');
}
