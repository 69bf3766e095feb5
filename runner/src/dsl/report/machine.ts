/**
 * Machine reports: JSON (our own shape), JUnit XML (one testcase per file, for the Jenkins JUnit plugin) and
 * SARIF 2.1.0 (Warnings Next Generation, code-scanning UIs).
 */
import { sep } from 'node:path';
import { allRuleMeta } from '../rules/index.js';
import type { Finding, Severity } from '../types.js';
import { totals, type FileReport } from '../validate.js';

export interface ReportMeta {
  strict: boolean;
  targetDslVersion: string;
  toolVersion: string;
}

function failing(f: Finding, strict: boolean): boolean {
  return f.severity === 'error' || (strict && f.severity === 'warning');
}

export function formatJson(reports: FileReport[], meta: ReportMeta): string {
  const t = totals(reports);
  return JSON.stringify(
    {
      tool: 'dify-ci validate',
      version: meta.toolVersion,
      targetDslVersion: meta.targetDslVersion,
      strict: meta.strict,
      passed: t.errors === 0 && !(meta.strict && t.warnings > 0),
      summary: t,
      files: reports.map((r) => ({
        file: r.file,
        format: r.format,
        mode: r.mode ?? null,
        version: r.version ?? null,
        errors: r.findings.filter((f) => f.severity === 'error').length,
        warnings: r.findings.filter((f) => f.severity === 'warning').length,
        findings: r.findings,
      })),
    },
    null,
    2,
  );
}

/** XML 1.0 text: escaped, and without the control characters XML cannot carry at all. */
export function xmlEscape(s: string): string {
  return s
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function findingLine(f: Finding): string {
  const inner = f.embedded ? ` (data ${f.embedded.line}:${f.embedded.column})` : '';
  return `${f.file}:${f.line}:${f.column}${inner}: ${f.severity} ${f.ruleId}: ${f.message}${f.path && f.path !== '(root)' ? `\n    at ${f.path}` : ''}`;
}

export function formatJunit(reports: FileReport[], meta: ReportMeta): string {
  const cases: string[] = [];
  let failures = 0;
  for (const r of reports) {
    const bad = r.findings.filter((f) => failing(f, meta.strict));
    const rest = r.findings.filter((f) => !failing(f, meta.strict));
    let body = '';
    if (bad.length) {
      failures++;
      const errors = bad.filter((f) => f.severity === 'error').length;
      const warnings = bad.length - errors;
      const msg = [errors ? `${errors} error${errors === 1 ? '' : 's'}` : '', warnings ? `${warnings} warning${warnings === 1 ? '' : 's'} (--strict)` : ''].filter(Boolean).join(', ');
      body += `\n      <failure message="${xmlEscape(`${msg}: ${bad[0]!.message}`)}" type="${xmlEscape(bad[0]!.ruleId)}">${xmlEscape(bad.map(findingLine).join('\n'))}</failure>`;
    }
    if (rest.length) body += `\n      <system-out>${xmlEscape(rest.map(findingLine).join('\n'))}</system-out>`;
    cases.push(
      `    <testcase classname="dify-ci.validate" name="${xmlEscape(r.file)}" file="${xmlEscape(r.file)}" time="0">${body}${body ? '\n    ' : ''}</testcase>`,
    );
  }
  const n = reports.length;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="dify-ci validate" tests="${n}" failures="${failures}" errors="0" skipped="0">`,
    `  <testsuite name="dify-ci validate" tests="${n}" failures="${failures}" errors="0" skipped="0">`,
    `    <properties>\n      <property name="targetDslVersion" value="${xmlEscape(meta.targetDslVersion)}"/>\n      <property name="strict" value="${meta.strict}"/>\n    </properties>`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}

const SARIF_LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', info: 'note' };

/** A relative URI reference with forward slashes and percent-encoding (spaces, non-ASCII names). */
export function fileUri(file: string): string {
  const p = file.split(sep).join('/');
  return p
    .split('/')
    .map((seg, i) => (i === 0 && /^[A-Za-z]:$/.test(seg) ? seg : encodeURIComponent(seg)))
    .join('/')
    .replace(/^\//, 'file:///');
}

export function formatSarif(reports: FileReport[], meta: ReportMeta): string {
  const rules = allRuleMeta();
  const index = new Map(rules.map((r, i) => [r.id, i]));
  const results = reports.flatMap((r) =>
    r.findings.map((f) => {
      const message = f.embedded ? `${f.message} (embedded YAML in "data", line ${f.embedded.line}, column ${f.embedded.column})` : f.message;
      return {
        ruleId: f.ruleId,
        ruleIndex: index.get(f.ruleId) ?? -1,
        level: meta.strict && f.severity === 'warning' ? 'error' : SARIF_LEVEL[f.severity],
        message: { text: message },
        locations: [
          {
            physicalLocation: {
              artifactLocation: { uri: fileUri(f.file) },
              region: { startLine: f.line, startColumn: f.column },
            },
            ...(f.path && f.path !== '(root)' ? { logicalLocations: [{ fullyQualifiedName: f.path, kind: 'member' }] } : {}),
          },
        ],
      };
    }),
  );
  return JSON.stringify(
    {
      $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
      version: '2.1.0',
      runs: [
        {
          tool: {
            driver: {
              name: 'dify-ci',
              semanticVersion: meta.toolVersion,
              rules: rules.map((r) => ({
                id: r.id,
                name: r.name,
                shortDescription: { text: r.summary },
                fullDescription: { text: r.help },
                help: { text: `${r.summary}. ${r.help}`, markdown: `**${r.summary}**\n\n${r.help}\n\nSee docs/rules.md#${r.id.toLowerCase()}.` },
                defaultConfiguration: { level: SARIF_LEVEL[r.severity] },
                properties: { tags: ['dify', r.group] },
              })),
            },
          },
          invocations: [{ executionSuccessful: true, properties: { targetDslVersion: meta.targetDslVersion, strict: meta.strict } }],
          results,
        },
      ],
    },
    null,
    2,
  );
}
