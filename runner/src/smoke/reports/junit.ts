/**
 * JUnit XML for Jenkins (`junit` step): a testsuite per target (app × environment, tenant), a testcase per case
 * run; assertion failures as <failure>, calls that did not complete as <error>, the masked answer in <system-out>.
 */
import { mask } from '../../core/mask.js';
import type { SmokeRunModel, TargetRun } from '../outcome.js';
import type { CaseRunResult } from '../types.js';
import { escapeXml as x, excerpt } from './text.js';

const secs = (ms: number) => (ms / 1000).toFixed(3);

function caseName(r: CaseRunResult): string {
  return r.repeat > 1 ? `${r.name} [${r.iteration}/${r.repeat}]` : r.name;
}

function classname(t: TargetRun): string {
  return ['smoke', t.env, t.tenant, t.app].filter(Boolean).join('.');
}

/** Completed calls whose assertions failed are failures; calls that errored, timed out or were cut are errors. */
export function isError(r: CaseRunResult): boolean {
  return !r.pass && r.status !== 'succeeded' && !r.turns.some((t) => t.assertions.some((a) => a.type === 'status' || a.type === 'not-status'));
}

function systemOut(r: CaseRunResult): string {
  const lines: string[] = [];
  r.turns.forEach((t, i) => {
    const o = t.observation;
    if (r.turns.length > 1) lines.push(`--- turn ${i + 1}: ${t.query ?? ''}`);
    else if (t.query !== undefined) lines.push(`query: ${t.query}`);
    lines.push(
      `status: ${o.status}; latency ${Math.round(o.latencyMs)} ms` +
        (o.ttftMs !== undefined ? `; TTFT ${Math.round(o.ttftMs)} ms` : '') +
        (o.usage.totalTokens !== undefined ? `; ${o.usage.totalTokens} tokens` : '') +
        (o.usage.totalPrice !== undefined ? `; cost ${o.usage.totalPrice} ${o.usage.currency ?? ''}`.trimEnd() : '') +
        (o.retries ? `; ${o.retries} retries (${o.retryReasons.join(', ')})` : ''),
    );
    for (const n of o.notes) lines.push(`note: ${n}`);
    lines.push('answer:', excerpt(o.answer, 2000));
    for (const a of t.assertions) lines.push(`  ${a.pass ? 'PASS' : 'FAIL'} ${a.label} — ${a.reason}`);
  });
  for (const a of r.caseAssertions) lines.push(`  ${a.pass ? 'PASS' : 'FAIL'} (conversation) ${a.label} — ${a.reason}`);
  return lines.join('\n');
}

function testcase(t: TargetRun, r: CaseRunResult): string {
  const attrs = `classname="${x(classname(t))}" name="${x(caseName(r))}" time="${secs(r.latencyMs)}"`;
  if (r.skipped) return `    <testcase ${attrs}>\n      <skipped message="skip: true"/>\n    </testcase>`;
  let body = '';
  if (!r.pass) {
    const tag = isError(r) ? 'error' : 'failure';
    const first = mask(r.reasons[0] ?? 'failed');
    body += `      <${tag} message="${x(first.slice(0, 500))}" type="${x(isError(r) ? r.status : 'assertion')}">${x(mask(r.reasons.join('\n')))}</${tag}>\n`;
  }
  body += `      <system-out>${x(systemOut(r))}</system-out>\n`;
  return `    <testcase ${attrs}>\n${body}    </testcase>`;
}

function suite(t: TargetRun, timestamp: string): string {
  const s = t.summary;
  const errors = t.results.filter(isError).length + (t.error ? 1 : 0);
  const failures = t.results.filter((r) => !r.pass && !isError(r)).length;
  const time = t.results.reduce((a, r) => a + r.latencyMs, 0);
  const props: Array<[string, string]> = [
    ['app', t.app],
    ['environment', t.env],
    ...(t.tenant ? [['tenant', t.tenant] as [string, string]] : []),
    ['apiUrl', t.apiUrl],
    ['mode', t.info?.mode ?? ''],
    ['passRate', s.passRate.toFixed(4)],
    ['gatePassRate', String(s.gatePassRate)],
    ['gate', s.passed ? 'passed' : 'failed'],
    ['latencyP50Ms', String(s.latencyMs.p50 ?? '')],
    ['latencyP95Ms', String(s.latencyMs.p95 ?? '')],
    ['ttftP50Ms', String(s.ttftMs.p50 ?? '')],
    ['ttftP95Ms', String(s.ttftMs.p95 ?? '')],
    ['tokens', String(s.tokens.total)],
    ['cost', `${s.cost.total}${s.cost.currency ? ` ${s.cost.currency}` : ''}`],
    ['retries', String(s.retries)],
  ];
  const cases = t.results.map((r) => testcase(t, r));
  if (t.error) {
    cases.unshift(
      `    <testcase classname="${x(classname(t))}" name="(setup)" time="0">\n      <error message="${x(mask(t.error.message).slice(0, 500))}" type="${x(t.error.category)}">${x(mask(t.error.message))}</error>\n    </testcase>`,
    );
  }
  return [
    `  <testsuite name="${x(`smoke ${t.id}`)}" tests="${t.results.length + (t.error ? 1 : 0)}" failures="${failures}" errors="${errors}" skipped="${s.runs.skipped}" time="${secs(time)}" timestamp="${x(timestamp)}">`,
    '    <properties>',
    ...props.map(([k, v]) => `      <property name="${x(k)}" value="${x(mask(v))}"/>`),
    '    </properties>',
    ...cases,
    '  </testsuite>',
  ].join('\n');
}

export function renderJunit(run: SmokeRunModel): string {
  const ts = run.startedAt.replace(/\.\d+Z$/, '');
  const suites = run.targets.map((t) => suite(t, ts));
  const count = (f: (t: TargetRun) => number) => run.targets.reduce((a, t) => a + f(t), 0);
  const tests = count((t) => t.results.length + (t.error ? 1 : 0));
  const errors = count((t) => t.results.filter(isError).length + (t.error ? 1 : 0));
  const failures = count((t) => t.results.filter((r) => !r.pass && !isError(r)).length);
  const skipped = count((t) => t.summary.runs.skipped);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${x(run.title)}" tests="${tests}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${secs(run.wallMs)}">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}
