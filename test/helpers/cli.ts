/**
 * Running the dify-ci CLI in tests, two ways:
 * - `runCli`: in-process through main(argv, io), with captured streams, an environment and a working directory of
 *   the test's own — for CLI behaviour (exit codes, the stdout/stderr split, result files).
 * - `runRunner`: the runner as its own process, as Jenkins runs it — for end-to-end suites. DIFY_CI_TEST_RUNNER
 *   chooses which runner: `bundle` (default: resources/dify-ci/runner.cjs, what ships) or `source` (the
 *   TypeScript sources through tsx, to debug a failure without rebuilding).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../runner/src/program.js';
import type { OutStream } from '../../runner/src/core/run.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = join(ROOT, 'runner/src/cli.ts');
export const BUNDLE = join(ROOT, 'resources/dify-ci/runner.cjs');
/** Absolute, so the CLI can run from a temp directory that has no node_modules. */
const TSX = import.meta.resolve('tsx');

/** Which runner the end-to-end suites start: the bundle unless DIFY_CI_TEST_RUNNER=source. */
export const TEST_RUNNER: 'bundle' | 'source' = (() => {
  const v = process.env.DIFY_CI_TEST_RUNNER ?? 'bundle';
  if (v !== 'bundle' && v !== 'source') throw new Error(`DIFY_CI_TEST_RUNNER must be bundle or source, got '${v}'`);
  return v;
})();

/** `node` arguments that start the runner chosen by DIFY_CI_TEST_RUNNER (or the one asked for). */
export function runnerArgs(which: 'bundle' | 'source' = TEST_RUNNER): string[] {
  return which === 'bundle' ? [BUNDLE] : ['--import', TSX, CLI];
}

/** 1-based line of the first line containing `needle`. */
export function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`'${needle}' not in text`);
  return i + 1;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Environment without the caller's DIFY_CI_* settings, so tests are hermetic. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('DIFY_CI_') && k !== 'FORCE_COLOR') env[k] = v;
  env.NO_COLOR = '1';
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** A stream that keeps what is written to it (not a TTY, like a pipe). */
export class Captured implements OutStream {
  private readonly chunks: string[] = [];
  readonly isTTY = false;
  write(chunk: string | Uint8Array): boolean {
    this.chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }
  get text(): string {
    return this.chunks.join('');
  }
}

export interface CliOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
}

/** `dify-ci <args>` in this process through main(argv, io): the exit code and what it wrote. */
export async function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const stdout = new Captured();
  const stderr = new Captured();
  const code = await main(args, { stdout, stderr, env: cleanEnv(opts.env), cwd: opts.cwd ?? ROOT });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** `node <runner> <args>` as its own process (bundle or sources, see DIFY_CI_TEST_RUNNER), stdin closed. */
export function runRunner(args: string[], opts: CliOptions & { runner?: 'bundle' | 'source' } = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...runnerArgs(opts.runner), ...args], { cwd: opts.cwd ?? ROOT, env: cleanEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
  });
}


/** A long-running CLI process (e.g. `dify-ci emulator`) that prints one JSON line on stdout when it is ready. */
export interface SpawnedCli {
  child: ChildProcess;
  /** The first stdout line, parsed; rejects when the process exits before printing it. */
  line: Promise<Record<string, any>>;
  exit: Promise<number | null>;
  stderr: () => string;
}

/** Starts `dify-ci <args>` (the runner DIFY_CI_TEST_RUNNER picks) in `cwd` with exactly the environment `env`; stdin is closed. */
export function spawnCli(args: string[], cwd: string, env: NodeJS.ProcessEnv): SpawnedCli {
  const child = spawn(process.execPath, [...runnerArgs(), ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const line = new Promise<Record<string, any>>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)));
    });
    child.on('exit', () => reject(new Error(`exited before the JSON line: ${err}`)));
  });
  line.catch(() => undefined);
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, line, exit, stderr: () => err };
}

/** A temp directory with the given files (paths relative to it). */
export function tempProject(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'dify-ci-test-'));
  for (const [rel, text] of Object.entries(files)) {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
  return dir;
}

/** A temp directory for a mocha suite: made before all its tests, removed after them. Returns a getter for its path. */
export function useTempDir(prefix: string): () => string {
  let dir: string | undefined;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  after(() => rmSync(dir!, { recursive: true, force: true }));
  return () => dir!;
}
