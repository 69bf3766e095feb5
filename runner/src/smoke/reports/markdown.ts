/** The Markdown summary: gate verdict, one row per target, then the failures (for PR comments, Slack, the log). */
import { mask } from '../../core/mask.js';
import type { SmokeRunModel } from '../outcome.js';
import { money, ms, pct } from './text.js';

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function renderMarkdown(run: SmokeRunModel): string {
  const out: string[] = [];
  out.push(`## ${run.passed ? '✅' : '❌'} ${run.title}: ${run.passed ? 'passed' : 'FAILED'}`, '');
  out.push(`Pass rate ${pct(run.passRate)} over ${run.targets.length} target(s), ${(run.wallMs / 1000).toFixed(1)} s.`, '');
  out.push('| target | mode | gate | pass rate | cases (passed/total) | latency p50 / p95 | TTFT p50 / p95 | tokens | cost | retries |');
  out.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const t of run.targets) {
    const s = t.summary;
    out.push(
      `| ${cell(t.id)} | ${t.info?.mode ?? '—'} | ${s.passed ? '✅ passed' : '❌ failed'} | ${pct(s.passRate)} (≥ ${pct(s.gatePassRate)}) | ${s.cases.passed}/${s.cases.total - s.cases.skipped}${s.cases.skipped ? ` (+${s.cases.skipped} skipped)` : ''} | ${ms(s.latencyMs.p50)} / ${ms(s.latencyMs.p95)} | ${ms(s.ttftMs.p50)} / ${ms(s.ttftMs.p95)} | ${s.tokens.total} | ${money(s.cost.total, s.cost.currency)} | ${s.retries} |`,
    );
  }
  const problems: string[] = [];
  for (const t of run.targets) {
    if (t.error) problems.push(`- **${cell(t.id)}**: could not run: ${cell(mask(t.error.message))}`);
    if (t.summary.requiredFailed.length) problems.push(`- **${cell(t.id)}**: required case(s) failed: ${t.summary.requiredFailed.map((n) => `\`${cell(n)}\``).join(', ')}`);
    for (const r of t.results.filter((r) => !r.pass)) {
      const name = r.repeat > 1 ? `${r.name} [${r.iteration}/${r.repeat}]` : r.name;
      problems.push(`- **${cell(t.id)}** \`${cell(name)}\`: ${cell(mask(r.reasons.join('; ')).slice(0, 400))}`);
    }
  }
  if (problems.length) out.push('', '### Failures', '', ...problems.slice(0, 50), ...(problems.length > 50 ? [`- … and ${problems.length - 50} more`] : []));
  return out.join('\n') + '\n';
}
