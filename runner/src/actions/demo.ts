/**
 * `dify-ci demo`: the whole pipeline against local emulators, the way difyPipeline runs it in Jenkins — each step
 * is a separate runner process talking HTTP, exactly as on an agent. Offline, deterministic, under a minute.
 *
 *   validate → plan → deploy staging → smoke staging → (approval, auto) → deploy production → smoke production
 *   → notify success → a bad change: deploy staging → smoke fails → rollback staging → notify failure
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { DifyCiError, ExitCode } from '../core/errors.js';
import { log, paint } from '../core/log.js';
import type { CommandOutcome } from '../core/command.js';
import type { OutStream, RunIO } from '../core/run.js';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { startSlackCapture, startSmtpCapture } from '../demo/capture.js';
import type { DemoData } from '../results/commands.js';
import type { ActionContext } from './action.js';

export interface DemoCliOptions {
  /** Where the example lives (default: examples/tenant-repo of this checkout). */
  example?: string;
  /** Work directory (default: .dify-ci/demo); wiped first. */
  out?: string;
  /** Model latency of the emulators, ms. */
  latency?: string;
}

interface DemoOptions {
  example?: string;
  out?: string;
  latency?: number;
}

export async function demoAction(ctx: ActionContext, opts: DemoCliOptions): Promise<CommandOutcome<DemoData>> {
  return runDemo({ example: opts.example, out: opts.out, latency: opts.latency ? Number(opts.latency) : undefined }, ctx.io);
}

interface StepRun {
  title: string;
  args: string[];
  code: number;
  expect: number;
  ms: number;
}

/** The runner itself, as this process was started (tsx sources in dev, runner.cjs in the bundle: what ships). */
function runnerCommand(): string[] {
  return [...process.execArgv, process.argv[1]!];
}

function findExample(cwd: string, explicit?: string): string {
  if (explicit) return resolve(cwd, explicit);
  let dir = cwd;
  for (let i = 0; i < 6; i++) {
    const p = join(dir, 'examples/tenant-repo');
    if (existsSync(join(p, 'dify-ci.yml'))) return p;
    dir = dirname(dir);
  }
  throw new DifyCiError('cannot find examples/tenant-repo (run the demo from the dify-ci repository, or pass --example DIR)', 'usage');
}

async function runDemo(opts: DemoOptions, io: RunIO): Promise<CommandOutcome<DemoData>> {
  const t0 = Date.now();
  const example = findExample(io.cwd, opts.example);
  const out = resolve(io.cwd, opts.out ?? '.dify-ci/demo');
  rmSync(out, { recursive: true, force: true });
  const repo = join(out, 'tenant-repo');
  mkdirSync(out, { recursive: true });
  cpSync(example, repo, { recursive: true });

  const story = (n: string, text: string) => io.stderr.write(`\n${paint('bold', `${n} ${text}`)}\n`);
  story('●', 'Starting two local Dify servers (staging, production), a Slack stand-in and an SMTP capture');
  const latency = opts.latency ?? 40;
  const staging = await startEmulator({ port: 0, latencyMs: latency, jitterMs: 10 });
  const production = await startEmulator({ port: 0, latencyMs: latency, jitterMs: 10 });
  const slack = await startSlackCapture();
  const smtp = await startSmtpCapture();
  const closeAll = async () => {
    await Promise.allSettled([staging.close(), production.close(), slack.close(), smtp.close()]);
  };
  log.info(`  staging    ${staging.url}   production ${production.url}`);
  log.info(`  slack      ${slack.url}   smtp ${smtp.host}:${smtp.port}`);

  try {
    pointAtLocalServers(join(repo, 'dify-ci.yml'), staging, production, slack.url, smtp.port);
    const env: NodeJS.ProcessEnv = {
      ...io.env,
      DIFY_STAGING_PASSWORD: staging.admin.password,
      DIFY_PRODUCTION_PASSWORD: production.admin.password,
      TICKETS_API_KEY_STAGING: 'tk-staging-8f2c1e7d9a4b',
      TICKETS_API_KEY_PRODUCTION: 'tk-prod-3b9e5a1c7d2f',
      SLACK_BOT_TOKEN: 'xoxb-demo-0000-local-capture',
      JOB_NAME: 'acme/support-apps/main',
      BUILD_NUMBER: '42',
      BUILD_URL: 'http://jenkins.example.com/job/acme/job/support-apps/job/main/42/',
      GIT_BRANCH: 'main',
      GIT_COMMIT: 'c0ffee1d15ea5e0123456789abcdef0123456789',
      NO_COLOR: io.env.NO_COLOR,
    };
    for (const k of Object.keys(env)) if (k.startsWith('DIFY_CI_') && k !== 'DIFY_CI_VERBOSE') delete env[k];

    const runs: StepRun[] = [];
    // Plans and smoke summaries (stdout) are what a person reads; other steps' stdout repeats their log lines.
    const showsData = (args: string[]) => args[0] === 'plan' || args[0] === 'smoke';
    const step = async (title: string, args: string[], expect = 0): Promise<number> => {
      log.info(paint('cyan', `  $ dify-ci ${args.join(' ')}`));
      const started = Date.now();
      const code = await runRunner(args, repo, env, showsData(args), io.stderr);
      runs.push({ title, args, code, expect, ms: Date.now() - started });
      const verdict = code === expect ? paint('green', `exit ${code} ✔`) : paint('red', `exit ${code}, expected ${expect} ✘`);
      log.info(`    ${verdict}  (${Date.now() - started} ms)`);
      return code;
    };

    story('①', 'Validate every app DSL (JUnit for Jenkins)');
    await step('validate', ['validate', '--format', 'junit', '--output', '.dify-ci/reports/validate.xml']);
    story('②', 'Plan: what would change in staging (Markdown for the PR comment)');
    await step('plan staging', ['plan', '--env', 'staging', '--format', 'markdown', '--out', '.dify-ci/plan-staging.json'], 0);
    story('③', 'Deploy to staging exactly that plan (backup → import → publish → verify → record)');
    await step('deploy staging', ['deploy', '--env', 'staging', '--plan', '.dify-ci/plan-staging.json']);
    story('④', 'Smoke-test staging through the service API');
    await step('smoke staging', ['smoke', '--env', 'staging']);
    story('⑤', 'Approval for production — auto-approved in the demo as "demo-approver" (Jenkins asks release-managers)');
    await step('deploy production', ['deploy', '--env', 'production', '--approved-by', 'demo-approver']);
    story('⑥', 'Smoke-test production');
    await step('smoke production', ['smoke', '--env', 'production']);
    story('⑦', 'Re-deploy the same commit: idempotent, nothing changes');
    await step('deploy staging again', ['deploy', '--env', 'staging']);
    story('⑧', 'Tell Slack the build went out');
    await step('notify success', ['notify', '--status', 'success']);

    story('⑨', 'A bad change: someone rewrites the support answer. Validation passes, the plan shows the prompt diff…');
    breakSupportBot(join(repo, 'apps/support-bot.yml'));
    env.GIT_COMMIT = 'badc0de5ca1ab1e0123456789abcdef012345678';
    env.BUILD_NUMBER = '43';
    env.BUILD_URL = 'http://jenkins.example.com/job/acme/job/support-apps/job/main/43/';
    await step('validate (bad change)', ['validate']);
    await step('plan staging (bad change)', ['plan', '--env', 'staging', '--app', 'support-bot', '--detailed-exitcode'], ExitCode.CHANGES);
    await step('deploy staging (bad change)', ['deploy', '--env', 'staging', '--app', 'support-bot']);
    story('⑩', '…and the smoke tests catch it');
    await step('smoke staging (bad change)', ['smoke', '--env', 'staging', '--app', 'support-bot'], ExitCode.FAILED);
    story('⑪', 'The pipeline rolls staging back to the previous published version, verified');
    await step('rollback staging', ['rollback', '--env', 'staging', '--app', 'support-bot']);
    await step('smoke staging (after rollback)', ['smoke', '--env', 'staging', '--app', 'support-bot', '--report-dir', '.dify-ci/reports/smoke-after-rollback']);
    story('⑫', 'Tell Slack and email what broke');
    await step('notify failure', ['notify', '--status', 'failure']);

    const failed = runs.filter((r) => r.code !== r.expect);
    story('■', 'What happened');
    for (const r of runs) {
      const mark = r.code === r.expect ? paint('green', '✔') : paint('red', '✘');
      log.info(`  ${mark} ${r.title.padEnd(34)} exit ${r.code}${r.code === r.expect ? '' : ` (expected ${r.expect})`}`);
    }
    log.info(`\n  Slack messages received: ${slack.messages.length}`);
    for (const m of slack.messages) {
      const text = String((m.body.text as string | undefined) ?? '').split('\n')[0];
      log.info(`    · ${m.method}${m.body.thread_ts ? ' (thread reply)' : ''}: ${text.slice(0, 100)}`);
    }
    log.info(`  Emails received: ${smtp.messages.length}`);
    for (const m of smtp.messages) log.info(`    · to ${m.to.join(', ')}: ${m.subject}`);
    writeFileSync(join(out, 'slack-messages.json'), JSON.stringify(slack.messages, null, 2));
    writeFileSync(join(out, 'emails.json'), JSON.stringify(smtp.messages.map(({ raw, ...m }) => ({ ...m, size: raw.length })), null, 2));
    for (const [i, m] of smtp.messages.entries()) writeFileSync(join(out, `email-${i + 1}.eml`), m.raw);
    const reports = relative(io.cwd, join(repo, '.dify-ci')) || '.';
    log.info(`\n  Reports, plans, backups, history and result files: ${reports}/`);
    log.info(`  Smoke HTML report: ${reports}/reports/smoke/smoke-report.html`);
    const seconds = ((Date.now() - t0) / 1000).toFixed(1);
    const ok = failed.length === 0 && slack.messages.length > 0 && smtp.messages.length > 0;
    log.info(ok ? paint('green', `\n  Demo finished in ${seconds} s: every step behaved as a real pipeline should.`) : paint('red', `\n  Demo finished in ${seconds} s with ${failed.length} unexpected result(s).`));
    return {
      status: ok ? 'success' : 'failed',
      summary: ok ? `demo passed in ${seconds} s (${runs.length} steps)` : `demo: ${failed.map((f) => f.title).join(', ')} did not behave as expected`,
      counts: { steps: runs.length, unexpected: failed.length, slackMessages: slack.messages.length, emails: smtp.messages.length },
      data: { steps: runs.map(({ title, args, code, expect, ms }) => ({ title, command: args.join(' '), exitCode: code, expected: expect, ms })), workDir: out },
    };
  } finally {
    await closeAll();
  }
}

function runRunner(args: string[], cwd: string, env: NodeJS.ProcessEnv, showStdout: boolean, stderr: OutStream): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...runnerCommand(), ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const indent = (chunk: Buffer, stream: OutStream) => {
      const text = chunk.toString('utf8').replace(/\n$/, '');
      if (text) stream.write(text.split('\n').map((l) => `    │ ${l}`).join('\n') + '\n');
    };
    child.stdout.on('data', (d: Buffer) => showStdout && indent(d, stderr));
    child.stderr.on('data', (d: Buffer) => indent(d, stderr));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise(code ?? 1));
  });
}

/** The copied config points at the demo's own servers (the example's committed config stays untouched). */
function pointAtLocalServers(file: string, staging: Emulator, production: Emulator, slackUrl: string, smtpPort: number): void {
  const doc = parseDocument(readFileSync(file, 'utf8'));
  doc.setIn(['environments', 'staging', 'url'], staging.url);
  doc.setIn(['environments', 'production', 'url'], production.url);
  doc.setIn(['notify', 'slack', 'apiUrl'], slackUrl);
  doc.setIn(['notify', 'email', 'smtp'], doc.createNode({ host: '127.0.0.1', port: smtpPort, secure: false }));
  doc.setIn(['notify', 'email', 'on'], doc.createNode(['failure', 'fixed']));
  doc.setIn(['$schema'], resolve(dirname(file), '../../../resources/dify-ci/config.schema.json'));
  writeFileSync(file, doc.toString({ lineWidth: 0 }));
}

/** The "bad change": a new answer template that apologises instead of answering. */
function breakSupportBot(file: string): void {
  const text = readFileSync(file, 'utf8');
  const broken = text.replace(
    "answer: '{{#llm.text#}} (about: {{#conversation.first_message#}}) — {{#env.SUPPORT_SIGNATURE#}}'",
    "answer: 'Sorry, our support desk is closed. Please try again later.'",
  );
  if (broken === text) throw new DifyCiError('demo: the example support-bot answer template was not found (was the example edited?)', 'internal');
  writeFileSync(file, broken);
}
