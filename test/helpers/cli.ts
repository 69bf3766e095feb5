/** Runs the dify-ci CLI (TypeScript sources through tsx) as a real child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = join(ROOT, 'runner/src/cli.ts');
export const BUNDLE = join(ROOT, 'resources/dify-ci/runner.cjs');
/** Absolute, so the CLI can run from a temp directory that has no node_modules. */
const TSX = import.meta.resolve('tsx');

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

export function runCli(args: string[], opts: { cwd?: string; env?: Record<string, string | undefined>; bundle?: boolean; input?: string } = {}): Promise<CliResult> {
  const nodeArgs = opts.bundle ? [BUNDLE, ...args] : ['--import', TSX, CLI, ...args];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, nodeArgs, { cwd: opts.cwd ?? ROOT, env: cleanEnv(opts.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/** The tsx launcher itself (not `node --import tsx`), for long-running commands that are stopped with a signal. */
const TSX_BIN = join(ROOT, 'node_modules/.bin/tsx');

/** A long-running CLI process (e.g. `dify-ci emulator`) that prints one JSON line on stdout when it is ready. */
export interface SpawnedCli {
  child: ChildProcess;
  /** The first stdout line, parsed; rejects when the process exits before printing it. */
  line: Promise<Record<string, any>>;
  exit: Promise<number | null>;
  stderr: () => string;
}

/** Starts `dify-ci <args>` in `cwd` with exactly the environment `env`; stdin is closed. */
export function spawnCli(args: string[], cwd: string, env: NodeJS.ProcessEnv): SpawnedCli {
  const child = spawn(TSX_BIN, [CLI, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
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
