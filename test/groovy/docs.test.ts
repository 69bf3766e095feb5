/**
 * The step docs have one source (docs/steps.yml): the generated help pages and reference must be current, and the
 * documented parameters must be exactly the runner's options, so neither the docs nor the runner can drift alone.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { buildProgram } from '../../runner/src/program.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const generator = join(root, 'scripts/gen-step-docs.mjs');
/** Global options a step may pass; the others (--json, --result-file, --no-color) belong to difyRun. */
const STEP_GLOBALS = ['config', 'env', 'verbose'];

interface Param {
  name?: string;
  common?: string;
  groovy?: boolean;
  planned?: boolean;
}
interface Step {
  name: string;
  command?: string;
  params: Param[];
}

function steps(): Step[] {
  const doc = parse(readFileSync(join(root, 'docs/steps.yml'), 'utf8')) as { steps: Step[] };
  return doc.steps;
}

function paramName(p: Param): string {
  return (p.common ?? p.name)!;
}

function gen(args: string[]) {
  return spawnSync(process.execPath, [generator, ...args], { encoding: 'utf8' });
}

describe('step docs (docs/steps.yml → vars/*.txt, jenkins-shared-library.md, commands/spec.ts)', () => {
  it('the committed help pages and reference are what the generator writes', () => {
    const r = gen(['--check', '--root', root]);
    assert.equal(r.status, 0, r.stderr);
  });

  it('--check names a stale file, and a run brings it back', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'dify-ci-docs-'));
    try {
      mkdirSync(join(tmp, 'docs'));
      cpSync(join(root, 'docs/steps.yml'), join(tmp, 'docs/steps.yml'));
      cpSync(join(root, 'vars'), join(tmp, 'vars'), { recursive: true });
      cpSync(join(root, 'jenkins-shared-library.md'), join(tmp, 'jenkins-shared-library.md'));
      mkdirSync(join(tmp, 'runner/src/config'), { recursive: true });
      cpSync(join(root, 'runner/src/config/pipeline-options.ts'), join(tmp, 'runner/src/config/pipeline-options.ts'));
      mkdirSync(join(tmp, 'runner/src/commands'), { recursive: true });
      cpSync(join(root, 'runner/src/commands/spec.ts'), join(tmp, 'runner/src/commands/spec.ts'));
      writeFileSync(join(tmp, 'vars/difyDeploy.txt'), 'hand-edited\n');
      const stale = gen(['--check', '--root', tmp]);
      assert.equal(stale.status, 1);
      assert.match(stale.stderr, /stale step docs .*vars\/difyDeploy\.txt/);
      assert.doesNotMatch(stale.stderr, /difySmoke/);
      assert.equal(gen(['--root', tmp]).status, 0);
      assert.equal(gen(['--check', '--root', tmp]).status, 0);
      assert.match(readFileSync(join(tmp, 'vars/difyDeploy.txt'), 'utf8'), /^ {2}approvedBy \(String\)\n {6}Who approved this deploy/m);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('help pages are plain text: the default markup formatter would show HTML tags literally', () => {
    for (const f of readdirSync(join(root, 'vars')).filter((n) => n.endsWith('.txt'))) {
      const text = readFileSync(join(root, 'vars', f), 'utf8');
      assert.doesNotMatch(text, /<\/?(p|code|dl|dt|dd|pre|strong)\b/, f);
      assert.ok(text.split('\n').every((l) => l.length <= 100 || !l.includes(' ')), `${f}: lines wrap at 100 columns`);
    }
  });

  it("difyPipeline's option names reach the runner and Groovy from the one spec", async () => {
    const { PIPELINE_OPTIONS, GROOVY_OPTIONS } = await import('../../runner/src/config/pipeline-options.js');
    const spec = steps().find((s) => s.name === 'difyPipeline')!.params;
    assert.deepEqual([...PIPELINE_OPTIONS], spec.filter((p) => !p.groovy).map(paramName));
    assert.deepEqual([...GROOVY_OPTIONS], spec.filter((p) => p.groovy).map(paramName));
    const groovy = readFileSync(join(root, 'vars/difyPipelineInternal.groovy'), 'utf8');
    assert.ok(groovy.includes(`List groovyOptions() { return [${GROOVY_OPTIONS.map((n) => `'${n}'`).join(', ')}] }`));
    assert.doesNotMatch(readFileSync(join(root, 'vars/difyPipeline.groovy'), 'utf8'), /'smokeUnstable'|'everyNth'/, 'no second list of option names');
  });

  it('every var is documented and every documented step exists', () => {
    const vars = readdirSync(join(root, 'vars')).filter((f) => f.endsWith('.groovy')).map((f) => f.replace(/\.groovy$/, '')).sort();
    assert.deepEqual(steps().map((s) => s.name).sort(), vars);
  });

  it("documented parameters are exactly the runner's options for each step's command", () => {
    const program = buildProgram();
    const problems: string[] = [];
    for (const step of steps().filter((s) => s.command)) {
      const cmd = program.commands.find((c) => c.name() === step.command);
      assert.ok(cmd, `${step.name}: the runner has no '${step.command}' command`);
      const options = cmd.options.map((o) => o.attributeName());
      const documented = step.params.filter((p) => !p.groovy);
      for (const p of documented) {
        const name = paramName(p);
        if (!options.includes(name) && !STEP_GLOBALS.includes(name) && !p.planned) {
          problems.push(`${step.name}: documents '${name}', which '${step.command}' does not have`);
        }
      }
      for (const name of options) {
        if (!documented.some((p) => paramName(p) === name)) {
          problems.push(`${step.name}: '${step.command} --${cmd.options.find((o) => o.attributeName() === name)!.long!.slice(2)}' is not in docs/steps.yml`);
        }
      }
    }
    assert.deepEqual(problems, [], `update docs/steps.yml, then run node scripts/gen-step-docs.mjs:\n  ${problems.join('\n  ')}`);
  });
});
