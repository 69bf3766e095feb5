/** `dify-ci validate` end to end, as a child process: exit codes, formats on stdout and --output, config, inputs. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempProject } from '../helpers/cli.js';
import { fixture, replaceOnce } from './helpers.js';
import { all, parseXml } from './xml.js';

const CLEAN = fixture('dify-official/basic_llm_chat_workflow.yml');
const WARNED = fixture('dify-official/basic_chatflow.yml'); // two DSL081 warnings (model not chosen)
const BROKEN = replaceOnce(CLEAN, "'{{#start_node.query#}}'", "'{{#ghost.query#}}'");
const SECRET = fixture('community/FLUX');
const SECRET_KEY = 'sk-qzvtfixturekeyabcdmnopqrstuvwxyzlmnopqrstuvwx';

function result(dir: string) {
  return JSON.parse(readFileSync(join(dir, '.dify-ci/results/validate.json'), 'utf8'));
}

describe('dsl: dify-ci validate (CLI)', function () {
  this.timeout(60000);

  it('prints findings grouped by file with file:line:col and a code frame; exit 1 on errors; result counts', async () => {
    const dir = tempProject({ 'apps/ok.yml': CLEAN, 'apps/bad.yml': BROKEN, 'apps/notes.txt': 'ignored' });
    const r = await runCli(['validate', 'apps'], { cwd: dir });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^apps\/bad\.yml \(workflow, DSL 0\.3\.1\) {2}✖ 1 error/m);
    assert.match(r.stdout, /^ {2}apps\/bad\.yml:93:\d+: error DSL050: \{\{#ghost\.query#\}\} in llm 'llm_node'/m);
    assert.match(r.stdout, /^ {4}93 \| .*\{\{#ghost\.query#\}\}.*\n {4} {3}\| +\^$/m);
    assert.match(r.stdout, /^apps\/ok\.yml .*✔ ok/m);
    assert.match(r.stdout, /2 files validated: 1 error, 0 warnings/);
    const res = result(dir);
    assert.equal(res.status, 'failed');
    assert.deepEqual(res.counts, { files: 2, errors: 1, warnings: 0, infos: 2 });
  });

  it('writes JUnit XML to --output (an artifact), keeps stdout empty and shows people the text on stderr', async () => {
    const dir = tempProject({ 'bad.yml': BROKEN, 'ok.yml': CLEAN });
    const r = await runCli(['validate', 'bad.yml', 'ok.yml', '--format', 'junit', '--output', 'reports/validate.xml'], { cwd: dir });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /bad\.yml:93:\d+: error DSL050/);
    const xml = parseXml(readFileSync(join(dir, 'reports/validate.xml'), 'utf8'));
    assert.deepEqual(all(xml, 'testcase').map((t) => [t.attrs.name, all(t, 'failure').length]), [
      ['bad.yml', 1],
      ['ok.yml', 0],
    ]);
    assert.deepEqual(result(dir).artifacts, [{ path: 'reports/validate.xml', kind: 'validate-junit' }]);
  });

  it('prints SARIF on stdout and exits 0 when there are only warnings; --strict makes warnings fail', async () => {
    const dir = tempProject({ 'chatflow.yml': WARNED });
    const ok = await runCli(['validate', 'chatflow.yml', '--format', 'sarif'], { cwd: dir });
    assert.equal(ok.code, 0, ok.stderr);
    const sarif = JSON.parse(ok.stdout);
    assert.equal(sarif.version, '2.1.0');
    assert.deepEqual(sarif.runs[0].results.map((x: { ruleId: string; level: string }) => `${x.ruleId}:${x.level}`).sort(), ['DSL016:note', 'DSL081:warning', 'DSL081:warning']);
    const strict = await runCli(['validate', 'chatflow.yml', '--format', 'json', '--strict'], { cwd: dir });
    assert.equal(strict.code, 1);
    const j = JSON.parse(strict.stdout);
    assert.equal(j.passed, false);
    assert.equal(j.summary.warnings, 2);
  });

  it('exits 2 on usage errors: unknown format, missing path, bad --target-dsl-version, nothing to validate', async () => {
    const dir = tempProject({ 'ok.yml': CLEAN });
    for (const [args, msg] of [
      [['validate', 'ok.yml', '--format', 'xml'], /unknown --format 'xml'/],
      [['validate', 'missing.yml'], /missing\.yml: no such file or directory/],
      [['validate', 'ok.yml', '--target-dsl-version', 'latest'], /--target-dsl-version 'latest' is not a version/],
      [['validate'], /nothing to validate: no PATH given and no configuration/],
    ] as const) {
      const r = await runCli([...args], { cwd: dir });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, msg);
      assert.ok(!/\n\s+at /.test(r.stderr), 'no stack trace');
    }
  });

  it('unwraps an export wrapper, reads JSON, flags bad YAML, non-UTF-8 and alias bombs with positions, notes BOM/CRLF', async () => {
    const bomb = ['a: &a [x,x,x,x,x,x,x,x,x]', ...'bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`)].join('\n');
    const dir = tempProject({
      'in/export.json': JSON.stringify({ data: CLEAN }),
      'in/syntax.yml': 'app:\n  mode: workflow\n  name: x: y\n',
      'in/crlf.yml': CLEAN.replace(/\n/g, '\r\n'),
      'in/bomb.yml': bomb,
    });
    writeFileSync(join(dir, 'in/latin1.yml'), Buffer.concat([Buffer.from('app:\n  name: caf'), Buffer.from([0xe9]), Buffer.from('\n')]));
    writeFileSync(join(dir, 'in/bom.yml'), Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(CLEAN)]));
    const r = await runCli(['validate', 'in', '--format', 'json'], { cwd: dir });
    assert.equal(r.code, 1, r.stderr);
    const j = JSON.parse(r.stdout);
    const by = Object.fromEntries(j.files.map((f: { file: string; findings: { ruleId: string; severity: string; line: number; column: number; message: string }[] }) => [f.file, f.findings.filter((x) => x.ruleId !== 'DSL016')]));
    assert.deepEqual(Object.keys(by).sort(), ['in/bom.yml', 'in/bomb.yml', 'in/crlf.yml', 'in/export.json', 'in/latin1.yml', 'in/syntax.yml']);
    assert.deepEqual(by['in/export.json'].map((f: { ruleId: string }) => f.ruleId), ['DSL003']);
    assert.equal(j.files.find((f: { file: string }) => f.file === 'in/export.json').mode, 'workflow');
    assert.deepEqual(by['in/syntax.yml'].map((f: { ruleId: string; line: number }) => [f.ruleId, f.line]).slice(0, 1), [['DSL001', 3]]);
    assert.deepEqual(by['in/latin1.yml'].map((f: { ruleId: string; line: number; column: number }) => [f.ruleId, f.line, f.column]), [['DSL001', 2, 12]]);
    assert.match(by['in/bomb.yml'][0].message, /alias/);
    assert.deepEqual(by['in/bom.yml'].map((f: { ruleId: string; severity: string }) => [f.ruleId, f.severity]), [['DSL004', 'info']]);
    assert.deepEqual(by['in/crlf.yml'].map((f: { ruleId: string; severity: string }) => [f.ruleId, f.severity]), [['DSL004', 'info']]);
  });

  it('never prints a credential it finds: masked in the message, *** in the code frame and the result file', async () => {
    const dir = tempProject({ 'flux.yml': SECRET });
    const r = await runCli(['validate', 'flux.yml', '--output', 'out/report.txt'], { cwd: dir });
    assert.equal(r.code, 1);
    const written = readFileSync(join(dir, 'out/report.txt'), 'utf8');
    for (const text of [r.stdout, r.stderr, written, readFileSync(join(dir, '.dify-ci/results/validate.json'), 'utf8')]) {
      assert.ok(!text.includes(SECRET_KEY), text);
    }
    assert.match(written, /error DSL071: credential-like string \(OpenAI-style API key\) sk-q…wx \(48 chars\)/);
    assert.match(written, /\| +value: \*\*\*\n/);
  });

  it('without PATH validates every app of the config, with its target version and policy', async () => {
    const config = `apps:
  bot: {dsl: apps/bot.yml}
  flow: {dsl: apps/flow.yml}
environments:
  staging:
    url: http://127.0.0.1:5001/
    auth: {mode: password, email: ci@example.com, passwordEnv: DIFY_PASSWORD}
validate:
  targetDslVersion: 0.3.0
  policy:
    forbiddenNodeTypes: [llm]
`;
    const dir = tempProject({ 'dify-ci.yml': config, 'apps/bot.yml': CLEAN, 'apps/flow.yml': WARNED });
    const r = await runCli(['validate', '--format', 'json'], { cwd: dir });
    assert.equal(r.code, 1, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.equal(j.targetDslVersion, '0.3.0');
    const rules = j.files.flatMap((f: { findings: { ruleId: string }[] }) => f.findings.map((x) => x.ruleId)).sort();
    assert.deepEqual([...new Set(rules)], ['DSL014', 'DSL081', 'DSL093']);
    assert.ok(!existsSync(join(dir, 'nothing')));
  });
});
