import type { Command } from 'commander';
import { Option } from 'commander';
import { usageError } from '../core/errors.js';
import { action, intOption } from './shared.js';

interface EmulatorCliOpts {
  host: string;
  port: string;
  state?: string;
  dslVersion: string;
  latency?: string;
  jitter?: string;
  faults?: string;
  script?: string;
  plugins?: string;
  admin?: string;
  authEra: string;
  secureCookies?: boolean;
  openapi?: boolean;
  adminApiKey?: string;
  seed?: string;
  quirk?: string[];
  workspaces: string;
  fresh?: boolean;
  cookieDomain?: string;
  draftHash: string;
}

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

  action<EmulatorCliOpts>(cmd, 'emulator', async (_ctx, opts) => {
    const { runEmulatorCli } = await import('../emulator/cli.js');
    const num = (v: string | undefined, name: string): number | undefined => {
      if (v === undefined) return undefined;
      try {
        const n = intOption(v, name);
        if (n < 0) throw new Error(`${name} must not be negative`);
        return n;
      } catch (e) {
        throw usageError((e as Error).message);
      }
    };
    let admin: { email: string; password: string } | undefined;
    if (opts.fresh && opts.admin) {
      const from = cmd.getOptionValueSource('admin') === 'env' ? 'DIFY_CI_EMULATOR_ADMIN' : '--admin';
      throw usageError(`--fresh starts without any account: it cannot be combined with ${from} (the owner is created by POST /console/api/setup)`);
    }
    if (opts.cookieDomain !== undefined && opts.cookieDomain.replace(/^\s*\.?/, '').trim() === '') throw usageError('--cookie-domain must not be empty');
    if (opts.admin) {
      const i = opts.admin.indexOf(':');
      if (i <= 0 || i === opts.admin.length - 1) throw usageError("--admin must be EMAIL:PASSWORD");
      admin = { email: opts.admin.slice(0, i), password: opts.admin.slice(i + 1) };
    }
    const port = num(opts.port, '--port');
    if (port !== undefined && port > 65535) throw usageError('--port must be between 0 and 65535');
    return runEmulatorCli({
      host: opts.host,
      port,
      statePath: opts.state,
      dslVersion: opts.dslVersion,
      latencyMs: num(opts.latency, '--latency'),
      jitterMs: num(opts.jitter, '--jitter'),
      seed: num(opts.seed, '--seed'),
      faultsFile: opts.faults,
      scriptFile: opts.script,
      pluginsFile: opts.plugins,
      admin,
      authEra: opts.authEra as 'modern' | 'legacy',
      secureCookies: Boolean(opts.secureCookies),
      openapi: Boolean(opts.openapi),
      adminApiKey: opts.adminApiKey,
      quirks: opts.quirk as never,
      workspaces: num(opts.workspaces, '--workspaces'),
      fresh: Boolean(opts.fresh),
      cookieDomain: opts.cookieDomain,
      draftHash: opts.draftHash as 'graph+features' | 'graph',
    });
  });
}
