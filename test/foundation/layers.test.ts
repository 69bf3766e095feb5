/**
 * The layer rule of runner/src (docs/architecture.md), checked over the import graph the TypeScript compiler reads
 * (test/helpers/imports.ts). Every file belongs to a floor — its top folder, or for a top-level file its name — and
 * imports only its own unit and the floors below; units that share a floor do not import each other; the emulator
 * and the demo's stand-ins stand beside the floors and import only yaml/; nothing imports in a circle.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { calls, cycles, importGraph, type Edge } from '../helpers/imports.js';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../runner/src');

/** Top to bottom. A unit is a folder of runner/src, or a file at its top. */
const FLOORS: string[][] = [
  ['cli.ts'],
  ['program.ts', 'validators.ts'],
  ['commands'],
  ['actions'],
  ['fanout'],
  ['deploy', 'smoke', 'notify', 'kb', 'metrics'],
  ['results'],
  ['dify', 'dsl'],
  ['config'],
  ['selection'],
  ['core'],
  ['yaml'],
];

/** Beside the floors: what each may import (besides itself); only actions/ (the commands that start them) imports them. */
const BESIDE: Record<string, string[]> = {
  emulator: ['yaml'],
  demo: [],
};

/**
 * Type-only circles inside the emulator, known and left while the emulator has a branch open (issue 20 touched
 * only its import lines): each goes when its types move to emulator/types.ts. No other cycle may appear.
 */
const EMULATOR_CYCLES = [
  'emulator/graph.ts → emulator/nodes.ts → emulator/graph.ts',
];

const unitOf = (file: string) => (file.includes('/') ? file.slice(0, file.indexOf('/')) : file);
const floorOf = (unit: string) => FLOORS.findIndex((f) => f.includes(unit));

/** Every import that breaks the rule, as `from → to: why`. */
function violations(files: string[], edges: Edge[]): string[] {
  const out: string[] = [];
  for (const f of files) {
    const u = unitOf(f);
    if (floorOf(u) < 0 && !(u in BESIDE)) out.push(`${f}: runner/src/${u} is on no floor (add it to FLOORS in test/foundation/layers.test.ts and to docs/architecture.md)`);
  }
  for (const { from, to } of edges) {
    const a = unitOf(from);
    const b = unitOf(to);
    if (a === b) continue;
    const fa = floorOf(a);
    const fb = floorOf(b);
    if (a in BESIDE) {
      if (!BESIDE[a]!.includes(b)) out.push(`${from} → ${to}: ${a}/ stands beside the floors and imports only ${BESIDE[a]!.join(', ') || 'itself'}`);
    } else if (b in BESIDE) {
      if (a !== 'actions') out.push(`${from} → ${to}: only actions/ starts ${b}/`);
    } else if (fa >= 0 && fb >= 0) {
      if (fb < fa) out.push(`${from} → ${to}: ${b} is above ${a}`);
      else if (fb === fa) out.push(`${from} → ${to}: ${a} and ${b} share a floor and stay apart`);
    }
  }
  return out;
}

describe('layers: runner/src imports point one way (docs/architecture.md)', () => {
  const { files, edges } = importGraph(SRC);

  it('reads the graph: every file, and imports of every kind', () => {
    assert.ok(files.length > 150, `${files.length} files`);
    assert.ok(edges.some((e) => e.from === 'program.ts' && e.to === 'commands/index.ts'));
    assert.ok(edges.some((e) => e.from === 'actions/index.ts' && e.to === 'actions/deploy.ts'), 'dynamic import()');
    assert.ok(edges.some((e) => e.from === 'actions/action.ts' && e.to === 'config/types.ts'), 'import type');
    assert.ok(calls(join(SRC, 'actions/deploy.ts'), 'fansOut') && !calls(join(SRC, 'actions/deploy.ts'), 'fansIn'), 'calls');
  });

  it('every file is on a floor or beside, and imports only its own unit and the floors below', () => {
    assert.deepEqual(violations(files, edges), []);
  });

  it('no import cycles', () => {
    const found = cycles(files, edges).map((c) => [...c, c[0]].join(' → '));
    assert.deepEqual(found.filter((c) => !EMULATOR_CYCLES.includes(c)), []);
    assert.deepEqual(EMULATOR_CYCLES.filter((c) => !found.includes(c)), [], 'untangled: take it off EMULATOR_CYCLES');
  });

  it('only actions take the run context and decide whether to fan out', () => {
    // core/command.ts is the run context (RunContext) and runCommand; the CLI wiring and the config loader's type
    // need it too, the engines never.
    const wiring = ['program.ts', 'config/load.ts'];
    const takers = edges.filter((e) => e.to === 'core/command.ts' && !['actions', 'commands', 'core'].includes(unitOf(e.from)) && !wiring.includes(e.from));
    assert.deepEqual(takers.map((e) => e.from), []);
    const readers = new Set(edges.filter((e) => e.to === 'fanout/targets.ts').map((e) => e.from));
    const deciders = [...readers].filter((f) => !f.startsWith('actions/') && calls(join(SRC, f), 'fansOut'));
    assert.deepEqual(deciders, []);
  });

  it('catches an upward import, a sibling import, a stand-in reaching in and a cycle', () => {
    // The rule checked on a copy: a few files, each breaking it once.
    const dir = mkdtempSync(join(tmpdir(), 'dify-ci-layers-'));
    try {
      const put = (rel: string, text: string) => {
        mkdirSync(dirname(join(dir, rel)), { recursive: true });
        writeFileSync(join(dir, rel), text);
      };
      put('core/run.ts', "import type { ResolvedConfig } from '../config/types.js';\nexport type X = ResolvedConfig;\n");
      put('config/types.ts', "export interface ResolvedConfig { file: string }\n");
      put('deploy/deploy.ts', "export const f = async () => (await import('../smoke/runner.js')).g;\n");
      put('smoke/runner.ts', "export const g = 1;\n");
      put('emulator/index.ts', "import { log } from '../core/log.js';\nexport { log };\n");
      put('core/log.ts', "export const log = 1;\n");
      put('yaml/a.ts', "import { b } from './b.js';\nexport const a = b;\n");
      put('yaml/b.ts', "import { a } from './a.js';\nexport const b = a;\n");
      put('widgets/w.ts', 'export const w = 1;\n');
      const g = importGraph(dir);
      assert.deepEqual(violations(g.files, g.edges), [
        'widgets/w.ts: runner/src/widgets is on no floor (add it to FLOORS in test/foundation/layers.test.ts and to docs/architecture.md)',
        'core/run.ts → config/types.ts: config is above core',
        'deploy/deploy.ts → smoke/runner.ts: deploy and smoke share a floor and stay apart',
        'emulator/index.ts → core/log.ts: emulator/ stands beside the floors and imports only yaml',
      ]);
      assert.deepEqual(cycles(g.files, g.edges), [['yaml/a.ts', 'yaml/b.ts']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
