/** Writes the four smoke reports (JSON, JUnit XML, Markdown, HTML), masked, atomically; returns their paths. */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { writeJsonFile } from '../../core/result.js';
import { mask } from '../../core/mask.js';
import type { SmokeRunModel } from '../outcome.js';
import type { SmokeReports } from '../../results/smoke.js';
import { renderHtml } from './html.js';
import { renderJunit } from './junit.js';
import { renderMarkdown } from './markdown.js';
import { jsonReport } from './json.js';
import { runCwd } from '../../core/run.js';

function writeText(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, mask(text), { mode: 0o644 });
  renameSync(tmp, path);
}

function shown(p: string): string {
  const r = relative(runCwd(), p);
  return r && !r.startsWith('..') && !isAbsolute(r) ? r : p;
}

export const REPORT_FILES = { json: 'smoke-results.json', junit: 'junit-smoke.xml', markdown: 'smoke-summary.md', html: 'smoke-report.html' } as const;

export function writeReports(run: SmokeRunModel, opts: { dir: string; junit?: string }): SmokeReports {
  const dir = resolve(runCwd(), opts.dir);
  const paths = {
    json: join(dir, REPORT_FILES.json),
    junit: opts.junit ? resolve(runCwd(), opts.junit) : join(dir, REPORT_FILES.junit),
    markdown: join(dir, REPORT_FILES.markdown),
    html: join(dir, REPORT_FILES.html),
  };
  writeJsonFile(paths.json, jsonReport(run));
  writeText(paths.junit, renderJunit(run));
  writeText(paths.markdown, renderMarkdown(run));
  writeText(paths.html, renderHtml(run));
  return { json: shown(paths.json), junit: shown(paths.junit), markdown: shown(paths.markdown), html: shown(paths.html) };
}

export { renderHtml, renderJunit, renderMarkdown, jsonReport };
