/**
 * The tenant fan-out against its floor. One emulator (this process) serves a workspace per tenant and delays
 * every request by 20 ms (a fault rule with delayMs on all routes: the emulator's `latencyMs` only slows the
 * service API's model, not the console). The deploys run in a child process (so the emulator's CPU does not
 * share the deployer's event loop, and so the child's peak RSS is the deployer's alone), with admin-key auth so
 * every tenant can run in parallel.
 *
 *   floor   = requests actually made × 20 ms ÷ concurrency     (requests counted by the emulator, same run)
 *   ratio   = wall ÷ floor                                     target ≤ 1.3   (200 targets, concurrency 16)
 *   speed-up = wall at concurrency 1 ÷ wall at concurrency 16  target ≥ 10×  (same 200 targets, fresh state)
 *   peak RSS of the deployer for 500 targets                   target ≤ 150 MB (process.resourceUsage().maxRSS)
 *
 * Run: npx tsx bench/fanout.ts     (BENCH_TARGETS=200 BENCH_BIG=500 BENCH_LATENCY_MS=20 BENCH_CONCURRENCY=16)
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ADMIN_KEY = 'dify-ci-bench-admin-key';
const TARGETS = Number(process.env.BENCH_TARGETS || 200);
const BIG = Number(process.env.BENCH_BIG || 500);
const LATENCY = Number(process.env.BENCH_LATENCY_MS || 20);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY || 16);

interface ChildResult {
  wallMs: number;
  maxRssMb: number;
  hwmMb: number | null;
  counts: Record<string, number>;
  status: string;
}

if (process.argv[2] === '--child') await child(process.argv[3]!);
else await main();

/** The deployer: resolve the config, fan out, report wall time and peak memory on stdout. */
async function child(dir: string): Promise<void> {
  const { resolveConfig } = await import('../runner/src/config/resolve.js');
  const { loadTenants } = await import('../runner/src/config/tenants.js');
  const { rollout } = await import('../runner/src/fanout/rollout.js');
  const { Progress } = await import('../runner/src/fanout/progress.js');
  const { closeConsoles } = await import('../runner/src/dify/console.js');
  const environ = { ...process.env, DIFY_ADMIN_KEY: ADMIN_KEY, GIT_COMMIT: '0123456789abcdef0123456789abcdef01234567' };
  const config = resolveConfig({ configFile: join(dir, 'dify-ci.yml'), envName: 'prod', environ, cwd: dir });
  const selected = loadTenants(config);
  const t0 = performance.now();
  const report = await rollout(config, config.env!, { selected, environ, progress: new Progress(selected.length, (l) => process.stderr.write(l + '\n')) });
  const wallMs = performance.now() - t0;
  closeConsoles();
  let hwmMb: number | null = null;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) hwmMb = Number(m[1]) / 1024;
  } catch {
    // not Linux
  }
  if (process.env.BENCH_MEM) {
    const mb = (n: number) => (n / 1048576).toFixed(1);
    const m1 = process.memoryUsage();
    (globalThis as { gc?: () => void }).gc?.();
    const m2 = process.memoryUsage();
    process.stderr.write(`mem: rss ${mb(m1.rss)} heapUsed ${mb(m1.heapUsed)} heapTotal ${mb(m1.heapTotal)} ext ${mb(m1.external)} ab ${mb(m1.arrayBuffers)} | after gc heapUsed ${mb(m2.heapUsed)} heapTotal ${mb(m2.heapTotal)} rss ${mb(m2.rss)}\n`);
  }
  const out: ChildResult = { wallMs, maxRssMb: process.resourceUsage().maxRSS / 1024, hwmMb, counts: report.counts, status: report.status };
  process.stdout.write(JSON.stringify(out));
}

/**
 * The deployer as Jenkins runs it: one esbuild bundle on plain node (tsx would add ~50 MB of loader and source-map
 * state to the RSS and its hooks to the CPU profile). Built from the current sources into a temp dir.
 */
async function bundleChild(): Promise<string> {
  const { build } = await import('esbuild');
  const out = join(mkdtempSync(join(tmpdir(), 'dify-ci-bench-bundle-')), 'fanout.mjs');
  await build({
    absWorkingDir: ROOT,
    entryPoints: [fileURLToPath(import.meta.url)],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: out,
    logLevel: 'warning',
    external: ['esbuild', 'playwright-core'],
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  });
  return out;
}

async function main(): Promise<void> {
  const { startEmulator } = await import('../runner/src/emulator/index.js');
  const childScript = await bundleChild();
  const emu = await startEmulator({ port: 0, adminApiKey: ADMIN_KEY });

  /** A fresh emulator state and project with n tenants (one app each); returns the project dir. */
  function project(n: number, concurrency: number): string {
    emu.reset();
    emu.setFaults([{ regex: '.*', delayMs: LATENCY }]);
    const dir = mkdtempSync(join(tmpdir(), 'dify-ci-bench-fanout-'));
    copyFileSync(join(ROOT, 'test/deploy/fixtures/workflow.yml'), join(dir, 'workflow.yml'));
    // No secrets in the bench DSL: the env var holding one is not needed.
    writeFileSync(join(dir, 'workflow.yml'), readFileSync(join(dir, 'workflow.yml'), 'utf8').replace(/\n  - id: 6f1c3b2a-0000-4000-8000-000000000003[\s\S]*?selector: \[env, OPENAI_KEY\]/, ''));
    const rows = ['name,workspaceId'];
    for (let i = 0; i < n; i++) rows.push(`tenant-${String(i).padStart(3, '0')},${emu.createWorkspace(`ws-${i}`).id}`);
    writeFileSync(join(dir, 'tenants.csv'), rows.join('\n') + '\n');
    writeFileSync(
      join(dir, 'dify-ci.yml'),
      `apps:
  support: {dsl: workflow.yml}
environments:
  prod:
    url: ${emu.url}
    auth: {mode: admin-key, workspaceId: ${emu.workspaceId}, keyEnv: DIFY_ADMIN_KEY}
    timeoutMs: 30000
    variables: {API_BASE: 'https://prod.invalid', MAX_ITEMS: 5}
tenants: {file: tenants.csv}
rollout: {concurrency: ${concurrency}, perServerConcurrency: ${concurrency}}
paths: {results: .dify-ci/results, reports: .dify-ci/reports, backups: .dify-ci/backups, history: .dify-ci/history}
`,
    );
    mkdirSync(join(dir, '.dify-ci'), { recursive: true });
    return dir;
  }

  async function deploy(dir: string): Promise<ChildResult & { requests: number }> {
    const before = emu.stats.requests;
    const out = await new Promise<string>((resolve, reject) => {
      const c = spawn(process.execPath, [...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=/tmp/fanout-prof'] : []), ...(process.env.BENCH_MEM ? ['--expose-gc'] : []), ...(process.env.BENCH_NODE_FLAGS ? process.env.BENCH_NODE_FLAGS.split(' ') : []), childScript, '--child', dir], { cwd: ROOT, stdio: ['ignore', 'pipe', process.env.BENCH_MEM ? 'inherit' : 'ignore'] });
      let text = '';
      c.stdout.on('data', (d) => (text += d));
      c.on('error', reject);
      c.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`deployer exited ${code}`))));
    });
    const r = JSON.parse(out) as ChildResult;
    if (r.status !== 'success' || r.counts.deployed !== r.counts.targets) throw new Error(`bench deploy did not succeed: ${JSON.stringify(r.counts)}`);
    rmSync(dir, { recursive: true, force: true });
    return { ...r, requests: emu.stats.requests - before };
  }

  const par = await deploy(project(TARGETS, CONCURRENCY));
  const floor = (par.requests * LATENCY) / CONCURRENCY;
  const ratio = par.wallMs / floor;
  console.log(`fanout: ${TARGETS} targets, ${par.requests} requests (${(par.requests / TARGETS).toFixed(1)}/target), ${LATENCY} ms per request, concurrency ${CONCURRENCY}`);
  console.log(`  floor ${floor.toFixed(0)} ms (requests × latency ÷ concurrency); wall ${par.wallMs.toFixed(0)} ms; wall ÷ floor = ${ratio.toFixed(3)} (target ≤ 1.3) ${ratio <= 1.3 ? 'OK' : 'MISSED'}`);

  if (process.env.BENCH_QUICK) return void (await emu.close());
  const seq = await deploy(project(TARGETS, 1));
  const speedup = seq.wallMs / par.wallMs;
  console.log(`  one after another (concurrency 1): ${seq.requests} requests, wall ${seq.wallMs.toFixed(0)} ms (floor ${(seq.requests * LATENCY).toFixed(0)} ms); speed-up ${speedup.toFixed(1)}× (target ≥ 10×) ${speedup >= 10 ? 'OK' : 'MISSED'}`);

  const big = await deploy(project(BIG, CONCURRENCY));
  const rss = big.hwmMb ?? big.maxRssMb;
  console.log(`  ${BIG} targets: wall ${big.wallMs.toFixed(0)} ms, ${big.requests} requests; deployer peak RSS ${rss.toFixed(1)} MB (maxRSS ${big.maxRssMb.toFixed(1)} MB) (target ≤ 150 MB) ${rss <= 150 ? 'OK' : 'MISSED'}`);
  await emu.close();
}
