/** Report formats, read back: text frames, JSON, JUnit XML (parsed) and SARIF 2.1.0 (structure checked). */
import assert from 'node:assert/strict';
import { parseDslText } from '../../runner/src/dsl/parse.js';
import { formatJson, formatJunit, formatSarif, fileUri, xmlEscape, type ReportMeta } from '../../runner/src/dsl/report/machine.js';
import { codeFrame, formatText } from '../../runner/src/dsl/report/text.js';
import { allRuleMeta } from '../../runner/src/dsl/rules/index.js';
import { validateDsl, type FileReport } from '../../runner/src/dsl/validate.js';
import { fixture, replaceOnce } from './helpers.js';
import { all, parseXml } from './xml.js';

const META: ReportMeta = { strict: false, targetDslVersion: '0.6.0', toolVersion: '0.1.0' };

function report(name: string, text: string): FileReport {
  const parsed = parseDslText(text, { name });
  return { file: name, format: parsed.format, mode: parsed.mode, version: typeof parsed.version === 'string' ? parsed.version : undefined, findings: validateDsl(parsed), text };
}

const clean = () => report('apps/clean app.yml', fixture('dify-official/basic_llm_chat_workflow.yml'));
const broken = () =>
  report(
    'apps/中文 & <broken>.yml',
    replaceOnce(fixture('dify-official/basic_llm_chat_workflow.yml'), "'{{#start_node.query#}}'", '"{{#ghost.query#}} <b>&amp;</b> \\x01"'),
  );
const warned = () => report('apps/warned.yml', fixture('dify-official/basic_chatflow.yml'));

describe('dsl: reports', () => {
  it('text: groups by file, names file:line:col, and draws the source line with a caret under the column', () => {
    const out = formatText([broken(), clean()]);
    const lines = out.split('\n');
    const head = lines.findIndex((l) => l.includes('error DSL050'));
    assert.match(lines[head]!, /^ {2}apps\/中文 & <broken>\.yml:93:\d+: error DSL050: \{\{#ghost\.query#\}\}/);
    const col = Number(/:93:(\d+):/.exec(lines[head]!)![1]);
    assert.match(lines[head + 1]!, /^ {4}93 \| +text: "\{\{#ghost/);
    const caret = lines[head + 2]!.indexOf('^');
    const bar = lines[head + 2]!.indexOf('|');
    assert.equal(caret - bar - 2, col - 1, 'caret under the column');
    assert.ok(lines.some((l) => l.startsWith('apps/clean app.yml') && l.includes('ok')));
    assert.match(lines[lines.length - 1]!, /^2 files validated: 1 error, 0 warnings/);
    assert.ok(!out.includes('\u001b['), 'no colour unless enabled');
  });

  it('text: carets line up under wide (CJK) characters and long lines are windowed', () => {
    const frame = codeFrame('title: 中文标题 x\n', 1, 13)!;
    const [src, caret] = frame.split('\n');
    assert.equal(caret!.indexOf('^') - caret!.indexOf('|'), src!.indexOf('x') + 4 - src!.indexOf('|'));
    const long = `k: ${'a'.repeat(500)}X${'b'.repeat(500)}\n`;
    const f2 = codeFrame(long, 1, 504)!.split('\n');
    assert.ok(f2[0]!.length < 200);
    assert.equal(f2[0]![f2[1]!.indexOf('^')], 'X');
  });

  it('json: findings per file with severity, position and JSON path', () => {
    const j = JSON.parse(formatJson([broken(), warned()], META));
    assert.equal(j.passed, false);
    assert.deepEqual(j.summary, { files: 2, errors: 1, warnings: 2, infos: 2 });
    const f = j.files[0].findings.find((x: { ruleId: string }) => x.ruleId === 'DSL050');
    assert.equal(f.severity, 'error');
    assert.equal(f.line, 93);
    assert.equal(f.path, 'workflow.graph.nodes[1].data.prompt_template[1].text');
  });

  it('junit: one testcase per file, failures list the findings, well-formed despite &, <, CJK and control characters', () => {
    const xml = parseXml(formatJunit([broken(), clean(), warned()], META));
    assert.equal(xml.name, 'testsuites');
    assert.equal(xml.attrs.tests, '3');
    assert.equal(xml.attrs.failures, '1');
    const cases = all(xml, 'testcase');
    assert.deepEqual(cases.map((c) => c.attrs.name), ['apps/中文 & <broken>.yml', 'apps/clean app.yml', 'apps/warned.yml']);
    const failure = all(cases[0]!, 'failure');
    assert.equal(failure.length, 1);
    assert.equal(failure[0]!.attrs.type, 'DSL050');
    assert.match(failure[0]!.text, /^apps\/中文 & <broken>\.yml:93:\d+: error DSL050: \{\{#ghost\.query#\}\}/);
    assert.match(failure[0]!.attrs.message!, /^1 error: /);
    assert.equal(all(cases[1]!, 'failure').length, 0);
    assert.equal(all(cases[2]!, 'failure').length, 0, 'warnings do not fail without --strict');
    assert.match(all(cases[2]!, 'system-out')[0]!.text, /warning DSL081/);
  });

  it('junit: escapes markup and drops characters XML 1.0 cannot carry', () => {
    assert.equal(xmlEscape('a\u0001<&>"\'\tb'), 'a&lt;&amp;&gt;&quot;&apos;\tb');
  });

  it('junit: --strict turns warnings into failures', () => {
    const xml = parseXml(formatJunit([warned()], { ...META, strict: true }));
    assert.equal(xml.attrs.failures, '1');
    assert.match(all(xml, 'failure')[0]!.attrs.message!, /2 warnings \(--strict\)/);
  });

  it('sarif: 2.1.0 with every rule (help text) in tool.driver.rules and results with physical locations', () => {
    const s = JSON.parse(formatSarif([broken(), warned()], META));
    assert.equal(s.version, '2.1.0');
    assert.match(s.$schema, /sarif-2\.1\.0/);
    assert.equal(s.runs.length, 1);
    const driver = s.runs[0].tool.driver;
    assert.equal(driver.name, 'dify-ci');
    assert.deepEqual(driver.rules.map((r: { id: string }) => r.id), allRuleMeta().map((r) => r.id));
    for (const r of driver.rules) {
      assert.ok(r.shortDescription.text && r.help.text && r.help.markdown, r.id);
      assert.ok(['error', 'warning', 'note'].includes(r.defaultConfiguration.level));
    }
    const results = s.runs[0].results;
    assert.equal(results.length, 5);
    for (const res of results) {
      assert.equal(driver.rules[res.ruleIndex].id, res.ruleId);
      const loc = res.locations[0].physicalLocation;
      assert.ok(Number.isInteger(loc.region.startLine) && loc.region.startLine >= 1);
      assert.ok(Number.isInteger(loc.region.startColumn) && loc.region.startColumn >= 1);
      assert.ok(!/[\s<>&]/.test(loc.artifactLocation.uri), loc.artifactLocation.uri);
    }
    const err = results.find((r: { ruleId: string }) => r.ruleId === 'DSL050');
    assert.equal(err.level, 'error');
    assert.equal(decodeURIComponent(err.locations[0].physicalLocation.artifactLocation.uri.split('/')[1]), '中文 & <broken>.yml');
    assert.equal(err.locations[0].physicalLocation.region.startLine, 93);
    assert.equal(results.find((r: { ruleId: string }) => r.ruleId === 'DSL016').level, 'note');
  });

  it('sarif: file URIs are relative, forward-slashed and percent-encoded', () => {
    assert.equal(fileUri('apps/my app.yml'), 'apps/my%20app.yml');
    assert.equal(fileUri('/abs/x.yml'), 'file:///abs/x.yml');
  });
});
