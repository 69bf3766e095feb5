/**
 * The HTML report: one self-contained file (inline CSS and SVG, no script, no external resource) that Jenkins can
 * archive or publish. Per target: the gate, key figures, a latency/TTFT chart and the cases with expandable answers.
 */
import { mask } from '../../core/mask.js';
import type { SmokeRunModel, TargetRun } from '../outcome.js';
import type { CaseRunResult } from '../types.js';
import { isError } from './junit.js';
import { escapeHtml as h, excerpt, money, ms, pct } from './text.js';

const CSS = `
:root{--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--mute:#57606a;--line:#d0d7de;--bg:#f6f8fa;--lat:#9ecbff;--ttft:#0969da}
*{box-sizing:border-box}
body{font:14px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Helvetica,Arial,"Noto Sans","Noto Sans CJK SC",sans-serif;color:#1f2328;margin:0;background:#fff}
header{padding:20px 28px;border-bottom:1px solid var(--line);background:var(--bg)}
h1{font-size:22px;margin:0 0 6px}
h2{font-size:18px;margin:0 0 10px}
main{padding:8px 28px 40px;max-width:1200px}
section{margin:24px 0;padding:18px 20px;border:1px solid var(--line);border-radius:8px}
.badge{display:inline-block;padding:2px 10px;border-radius:12px;font-weight:600;color:#fff;font-size:13px;vertical-align:middle}
.badge.ok{background:var(--ok)}.badge.bad{background:var(--bad)}.badge.skip{background:var(--mute)}
.meta{color:var(--mute)}
.stats{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}
.stat{border:1px solid var(--line);border-radius:6px;padding:8px 12px;min-width:120px;background:var(--bg)}
.stat b{display:block;font-size:17px}
.stat span{color:var(--mute);font-size:12px}
.error{border-left:4px solid var(--bad);background:#ffebe9;padding:8px 12px;margin:10px 0;white-space:pre-wrap}
table{border-collapse:collapse;width:100%;margin-top:12px}
th,td{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
th{background:var(--bg);font-weight:600;position:sticky;top:0}
td.num,th.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
tr.fail td:first-child{border-left:3px solid var(--bad)}
tr.pass td:first-child{border-left:3px solid var(--ok)}
tr.skip td:first-child{border-left:3px solid var(--mute)}
.st{font-weight:600;white-space:nowrap}.st.ok{color:var(--ok)}.st.bad{color:var(--bad)}.st.skip{color:var(--mute)}
.reason{color:var(--bad);margin-top:2px}
details summary{cursor:pointer;font-weight:600}
details .body{margin:8px 0 4px 4px}
pre.answer{white-space:pre-wrap;word-break:break-word;background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:8px 10px;margin:6px 0;max-height:420px;overflow:auto;font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
ul.asserts{list-style:none;padding:0;margin:6px 0}
ul.asserts li{padding:1px 0}
ul.asserts .p{color:var(--ok)}ul.asserts .f{color:var(--bad)}
.note{color:var(--warn)}
.chart{margin-top:8px;overflow-x:auto}
.chart text{font:11px -apple-system,"Segoe UI",Helvetica,Arial,"Noto Sans CJK SC",sans-serif;fill:#1f2328}
.chart .axis text{fill:var(--mute)}
footer{color:var(--mute);font-size:12px;padding:0 28px 24px}
`;

function caseLabel(r: CaseRunResult): string {
  return r.repeat > 1 ? `${r.name} [${r.iteration}/${r.repeat}]` : r.name;
}

function niceMax(v: number): number {
  if (v <= 0) return 100;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function truncate(s: string, n: number): string {
  const c = [...s];
  return c.length > n ? c.slice(0, n - 1).join('') + '…' : s;
}

/** Horizontal bars per run: latency (light) with TTFT (dark) over it, on one shared time axis. */
export function chartSvg(t: TargetRun): string {
  const runs = t.results.filter((r) => !r.skipped);
  if (runs.length === 0) return '';
  const dense = runs.length > 40;
  const row = dense ? 9 : 22;
  const labelW = dense ? 0 : 220;
  const plotW = 640;
  const top = 28;
  const height = top + runs.length * row + 26;
  const width = labelW + plotW + 70;
  const max = niceMax(Math.max(...runs.map((r) => r.latencyMs), 1));
  const sx = (v: number) => labelW + (v / max) * plotW;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="latency and time to first token per case" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`);
  parts.push(`<rect x="${labelW}" y="4" width="12" height="12" fill="#9ecbff"/><text x="${labelW + 16}" y="14">latency</text>`);
  parts.push(`<rect x="${labelW + 80}" y="4" width="12" height="12" fill="#0969da"/><text x="${labelW + 96}" y="14">time to first token</text>`);
  parts.push('<g class="axis">');
  for (let i = 0; i <= 4; i++) {
    const v = (max / 4) * i;
    const x = sx(v);
    parts.push(`<line x1="${x}" y1="${top - 4}" x2="${x}" y2="${top + runs.length * row}" stroke="#d0d7de" stroke-width="1"/>`);
    parts.push(`<text x="${x}" y="${top + runs.length * row + 16}" text-anchor="middle">${h(ms(v))}</text>`);
  }
  parts.push('</g>');
  runs.forEach((r, i) => {
    const y = top + i * row;
    const bh = row - (dense ? 2 : 6);
    const colour = r.pass ? '' : ' stroke="#cf222e" stroke-width="1.5"';
    const tip = `${caseLabel(r)}: latency ${ms(r.latencyMs)}${r.ttftMs !== undefined ? `, TTFT ${ms(r.ttftMs)}` : ''}${r.pass ? '' : ' — FAILED'}`;
    parts.push(`<g><title>${h(tip)}</title>`);
    if (!dense) parts.push(`<text x="${labelW - 8}" y="${y + bh / 2 + 4}" text-anchor="end"${r.pass ? '' : ' style="fill:#cf222e"'}>${h(truncate(r.name, 30))}</text>`);
    parts.push(`<rect x="${labelW}" y="${y}" width="${Math.max(1, sx(r.latencyMs) - labelW).toFixed(1)}" height="${bh}" fill="#9ecbff"${colour}/>`);
    if (r.ttftMs !== undefined) parts.push(`<rect x="${labelW}" y="${y + bh * 0.25}" width="${Math.max(1, sx(r.ttftMs) - labelW).toFixed(1)}" height="${(bh * 0.5).toFixed(1)}" fill="#0969da"/>`);
    if (!dense) parts.push(`<text x="${sx(r.latencyMs) + 4}" y="${y + bh / 2 + 4}">${h(ms(r.latencyMs))}</text>`);
    parts.push('</g>');
  });
  parts.push('</svg>');
  return `<div class="chart">${parts.join('')}</div>`;
}

function statusCell(r: CaseRunResult): string {
  if (r.skipped) return '<span class="st skip">SKIP</span>';
  if (r.pass) return '<span class="st ok">✔ PASS</span>';
  return `<span class="st bad">✘ ${isError(r) ? 'ERROR' : 'FAIL'}</span>`;
}

function details(r: CaseRunResult): string {
  const parts: string[] = [];
  r.turns.forEach((t, i) => {
    const o = t.observation;
    if (r.turns.length > 1) parts.push(`<div><b>Turn ${i + 1}</b>${t.query !== undefined ? ` — ${h(excerpt(t.query, 300))}` : ''}</div>`);
    else if (t.query !== undefined) parts.push(`<div><b>Query:</b> ${h(excerpt(t.query, 300))}</div>`);
    const facts = [`status ${o.status}`, `latency ${ms(o.latencyMs)}`, o.ttftMs !== undefined ? `TTFT ${ms(o.ttftMs)}` : '', o.usage.totalTokens !== undefined ? `${o.usage.totalTokens} tokens` : '', o.retries ? `${o.retries} retries (${o.retryReasons.join(', ')})` : '']
      .filter(Boolean)
      .join(' · ');
    parts.push(`<div class="meta">${h(facts)}</div>`);
    if (o.error) parts.push(`<div class="reason">${h(mask(`${o.error.code ? o.error.code + ': ' : ''}${o.error.message}`))}</div>`);
    parts.push(`<pre class="answer">${h(excerpt(o.answer || '(empty answer)', 8000))}</pre>`);
    if (o.outputs && Object.keys(o.outputs).length && o.mode === 'workflow') parts.push(`<div class="meta">outputs: ${h(excerpt(JSON.stringify(o.outputs), 600))}</div>`);
    for (const n of o.notes) parts.push(`<div class="note">note: ${h(mask(n))}</div>`);
    parts.push('<ul class="asserts">' + t.assertions.map((a) => `<li><span class="${a.pass ? 'p' : 'f'}">${a.pass ? '✔' : '✘'}</span> <code>${h(a.label)}</code>${a.weight !== 1 ? ` <span class="meta">(weight ${a.weight})</span>` : ''} — ${h(mask(a.reason))}</li>`).join('') + '</ul>');
  });
  if (r.caseAssertions.length) {
    parts.push('<div><b>Whole conversation</b></div>');
    parts.push('<ul class="asserts">' + r.caseAssertions.map((a) => `<li><span class="${a.pass ? 'p' : 'f'}">${a.pass ? '✔' : '✘'}</span> <code>${h(a.label)}</code> — ${h(mask(a.reason))}</li>`).join('') + '</ul>');
  }
  return parts.join('\n');
}

function caseRow(r: CaseRunResult): string {
  const cls = r.skipped ? 'skip' : r.pass ? 'pass' : 'fail';
  const reason = !r.pass && r.reasons.length ? `<div class="reason">${h(mask(truncate(r.reasons[0]!, 300)))}</div>` : '';
  const body = r.skipped ? '<div class="meta">skip: true</div>' : details(r);
  return `<tr class="${cls}"><td>${statusCell(r)}</td><td><details><summary>${h(caseLabel(r))}${r.required ? ' <span class="meta">(required)</span>' : ''}</summary><div class="body">${body}</div></details>${reason}</td><td class="num">${r.skipped ? '—' : ms(r.latencyMs)}</td><td class="num">${ms(r.ttftMs)}</td><td class="num">${r.skipped ? '—' : r.tokens}</td><td class="num">${r.skipped || !r.cost ? '—' : r.cost}</td><td class="num">${r.skipped ? '—' : r.score.toFixed(2)}</td></tr>`;
}

function targetSection(t: TargetRun): string {
  const s = t.summary;
  const stat = (v: string, label: string) => `<div class="stat"><b>${h(v)}</b><span>${h(label)}</span></div>`;
  return `<section id="${h(t.id)}">
<h2>${h(t.id)} <span class="badge ${s.passed ? 'ok' : 'bad'}">${s.passed ? 'PASSED' : 'FAILED'}</span></h2>
<div class="meta">${h(t.info ? `${t.info.mode} app “${t.info.name}”` : 'app not reached')} · ${h(t.apiUrl)} · suite ${h(t.suiteFile)}</div>
${t.error ? `<div class="error">${h(mask(t.error.message))}</div>` : ''}
<div class="stats">
${stat(`${pct(s.passRate)}`, `pass rate (gate ≥ ${pct(s.gatePassRate)})`)}
${stat(`${s.cases.passed} / ${s.cases.total - s.cases.skipped}`, `cases passed${s.cases.skipped ? `, ${s.cases.skipped} skipped` : ''}`)}
${stat(`${ms(s.latencyMs.p50)} / ${ms(s.latencyMs.p95)}`, 'latency p50 / p95')}
${stat(`${ms(s.ttftMs.p50)} / ${ms(s.ttftMs.p95)}`, 'TTFT p50 / p95')}
${stat(String(s.tokens.total), `tokens${s.tokens.perCall !== null ? ` (${s.tokens.perCall} per call)` : ''}`)}
${stat(money(s.cost.total, s.cost.currency), 'cost')}
${stat(String(s.retries), 'retries')}
</div>
${s.requiredFailed.length ? `<div class="error">Required case(s) failed: ${h(s.requiredFailed.join(', '))}</div>` : ''}
${chartSvg(t)}
<table>
<thead><tr><th>result</th><th>case</th><th class="num">latency</th><th class="num">TTFT</th><th class="num">tokens</th><th class="num">cost</th><th class="num">score</th></tr></thead>
<tbody>
${t.results.map(caseRow).join('\n')}
</tbody>
</table>
</section>`;
}

export function renderHtml(run: SmokeRunModel): string {
  const html = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${h(run.title)} — ${run.passed ? 'passed' : 'FAILED'}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>${h(run.title)} <span class="badge ${run.passed ? 'ok' : 'bad'}">${run.passed ? 'PASSED' : 'FAILED'}</span></h1>
<div class="meta">pass rate ${pct(run.passRate)} · ${run.targets.length} target(s) · started ${h(run.startedAt)} · ${(run.wallMs / 1000).toFixed(1)} s</div>
</header>
<main>
${run.targets.map(targetSection).join('\n')}
</main>
<footer>Generated by dify-ci smoke. Answers are shown as received, with known secrets masked.</footer>
</body>
</html>
`;
  return mask(html);
}
