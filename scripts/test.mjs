#!/usr/bin/env node
/**
 * `npm test`: the type check, the bundle check, mocha (two jobs) and the Groovy tests, all at the same time so that
 * both cores stay busy, then one closing line that counts both test runners: `tests: N passed, N failed, N skipped`.
 * Mocha streams its output; the other steps' output is printed when they end. Exit 1 when anything failed.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules/.bin', name);

/** Runs one step; `live` streams stdout (mocha), else everything is kept for the end. */
function step(name, command, args, { live = false, env = process.env } = {}) {
  const started = Date.now();
  return new Promise((done) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (live) process.stdout.write(d);
    });
    child.stderr.on('data', (d) => {
      if (live) process.stderr.write(d);
      else out += d;
    });
    child.on('error', (e) => done({ name, code: 1, out: `${out}\n${name}: cannot start ${command}: ${e.message}\n`, ms: Date.now() - started }));
    child.on('close', (code, signal) => done({ name, code: code ?? (signal ? 1 : 0), out, ms: Date.now() - started }));
  });
}

/**
 * Every test file, the end-to-end suites first: they are the longest, and started last they would leave one mocha
 * job running alone at the end.
 */
function testFiles() {
  const found = [];
  const walk = (dir) => {
    for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
      if (e.isDirectory()) walk(`${dir}/${e.name}`);
      else if (e.name.endsWith('.test.ts')) found.push(`${dir}/${e.name}`);
    }
  };
  walk('test');
  const e2e = (f) => (f.startsWith('test/e2e/') ? 0 : 1);
  return found.sort((a, b) => e2e(a) - e2e(b) || a.localeCompare(b));
}

/** The runner's own closing line, e.g. `mocha: 12 passed, 0 failed, 1 skipped`. */
function counts(out) {
  const lines = out.split('\n').filter((l) => /^\w+: \d+ passed, \d+ failed/.test(l.trim()));
  const m = lines.at(-1)?.trim().match(/(\d+) passed, (\d+) failed(?:, (\d+) skipped)?/);
  return m ? { passed: Number(m[1]), failed: Number(m[2]), skipped: Number(m[3] ?? 0) } : undefined;
}

const t0 = Date.now();
rmSync(join(root, '.dify-ci/test-results/summary.txt'), { force: true });
// Incremental: a second run checks only what changed since (the build info lives in node_modules/.cache, so a fresh
// `npm ci` starts cold, as CI does).
const tsc = ['--noEmit', '--incremental', '--tsBuildInfoFile', 'node_modules/.cache/dify-ci/tsc.tsbuildinfo', '-p', 'tsconfig.json'];
const checks = [step('typecheck', bin('tsc'), tsc), step('bundle', process.execPath, ['scripts/bundle.mjs', '--check'])];
// groovyc and the JUnit run are short JVMs: the C1 compiler alone and the serial collector cut their CPU by a third.
const JVM_OPTS = '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC';
const groovy = step('groovy', 'bash', ['test/groovy/run.sh'], { env: { ...process.env, JAVA_TOOL_OPTIONS: `${process.env.JAVA_TOOL_OPTIONS ?? ''} ${JVM_OPTS}`.trim() } });
const mocha = await step('mocha', bin('mocha'), ['--parallel', '--jobs', '2', ...testFiles()], { live: true });

let passed = 0;
let failed = 0;
let skipped = 0;
const summary = [];
for (const r of [...(await Promise.all(checks)), await groovy]) {
  // Every JVM announces JAVA_TOOL_OPTIONS on stderr; that line says nothing about the tests.
  const out = r.out.replace(/^Picked up JAVA_TOOL_OPTIONS: .*\n/gm, '').trimEnd();
  if (out) process.stdout.write(`\n${out}\n`);
}
for (const r of [mocha, ...(await Promise.all(checks)), await groovy]) {
  const c = r.name === 'mocha' || r.name === 'groovy' ? counts(r.out) : undefined;
  if (c) {
    passed += c.passed;
    failed += c.failed;
    skipped += c.skipped;
  }
  // A check that failed, or a runner that failed without saying what, is one failure.
  if (r.code !== 0 && (!c || c.failed === 0)) failed += 1;
  summary.push(`${r.name} ${r.code === 0 ? 'ok' : `FAILED (exit ${r.code})`} in ${(r.ms / 1000).toFixed(1)} s`);
}
process.stdout.write(`\n${summary.join(', ')}; ${((Date.now() - t0) / 1000).toFixed(1)} s in all\n`);
const closing = `tests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`;
process.stdout.write(closing);
// For .ci/run, which repeats it after whatever npm adds to a failed script's output.
mkdirSync(join(root, '.dify-ci/test-results'), { recursive: true });
writeFileSync(join(root, '.dify-ci/test-results/summary.txt'), closing);
process.exitCode = failed > 0 ? 1 : 0;
