import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DSL_FIXTURES } from '../helpers/shared.js';
import { parse } from 'yaml';
import { clearSecrets, mask } from '../../runner/src/core/mask.js';
import type { EnvironmentConfig } from '../../runner/src/config/types.js';
import { loadDsl, parseDsl, renderDsl, toYaml } from '../../runner/src/deploy/render.js';
import { DifyCiError } from '../../runner/src/core/errors.js';

const FIX = join(import.meta.dirname, 'fixtures');
const CANARY = 'sk-canary-7f3a9c1e5b';

function env(over: Partial<EnvironmentConfig> = {}): EnvironmentConfig {
  return {
    key: 'staging', url: 'http://127.0.0.1:1', apiUrl: 'http://127.0.0.1:1/v1',
    auth: { mode: 'password', email: 'a@b.c', passwordEnv: 'PW' }, apps: {},
    variables: { API_BASE: 'https://staging.invalid', MAX_ITEMS: '7', UNUSED: 'x' },
    secrets: { OPENAI_KEY: { env: 'CANARY_ENV' } },
    approval: { required: false, message: '', timeoutMinutes: 60 }, protected: false,
    tls: { rejectUnauthorized: true }, timeoutMs: 5000, dslVersion: '0.6.0', concurrency: 4, tenants: false,
    smoke: {} as never, rollout: {} as never, notify: {},
    ...over,
  };
}

describe('deploy/render', () => {
  afterEach(() => clearSecrets());

  it('injects variables (typed) and secrets into declared environment variables, names the app', () => {
    const r = renderDsl(loadDsl(join(FIX, 'workflow.yml')), { env: env(), name: 'support (staging)', environ: { CANARY_ENV: CANARY } });
    const vars = Object.fromEntries(r.doc.workflow.environment_variables.map((v: { name: string }) => [v.name, v]));
    assert.equal(vars.API_BASE.value, 'https://staging.invalid');
    assert.equal(vars.MAX_ITEMS.value, 7);
    assert.equal(vars.OPENAI_KEY.value, CANARY);
    assert.equal(vars.OPENAI_KEY.value_type, 'secret');
    assert.equal(vars.UNUSED, undefined, 'undeclared variables are not added');
    assert.equal(r.doc.app.name, 'support (staging)');
    assert.deepEqual(r.injected, { variables: ['API_BASE', 'MAX_ITEMS'], secrets: ['OPENAI_KEY'] });
    assert.equal(mask(`x ${CANARY} y`), 'x *** y', 'the secret is registered for masking');
    assert.ok(!r.contentHash.includes(CANARY));
  });

  it('the content hash does not depend on the secret value', () => {
    const a = renderDsl(loadDsl(join(FIX, 'workflow.yml')), { env: env(), name: 'x', environ: { CANARY_ENV: 'value-one-1234' } });
    const b = renderDsl(loadDsl(join(FIX, 'workflow.yml')), { env: env(), name: 'x', environ: { CANARY_ENV: 'value-two-5678' } });
    assert.equal(a.contentHash, b.contentHash);
  });

  it('a missing secret variable is a config error naming the variable; placeholder mode tolerates it', () => {
    assert.throws(
      () => renderDsl(loadDsl(join(FIX, 'workflow.yml')), { env: env(), name: 'x', environ: {} }),
      (e: unknown) => e instanceof DifyCiError && e.category === 'config' && /CANARY_ENV/.test(e.message),
    );
    const r = renderDsl(loadDsl(join(FIX, 'workflow.yml')), { env: env(), name: 'x', environ: {}, secretValues: 'placeholder' });
    assert.equal(r.contentHash, renderDsl(loadDsl(join(FIX, 'workflow.yml')), { env: env(), name: 'x', environ: { CANARY_ENV: CANARY } }).contentHash);
  });

  it('a non-number for a number variable is a config error', () => {
    assert.throws(() => renderDsl(loadDsl(join(FIX, 'workflow.yml')), { env: env({ variables: { MAX_ITEMS: 'many' } }), name: 'x', environ: { CANARY_ENV: CANARY } }), /MAX_ITEMS/);
  });

  it('toYaml keeps YAML-1.1 lookalikes as strings for PyYAML', () => {
    const y = toYaml({ app: { mode: 'workflow', name: 'yes' }, version: '0.6', flag: 'on', id: '1754154032319' });
    const back = parse(y, { version: '1.1' });
    assert.equal(back.app.name, 'yes');
    assert.equal(back.version, '0.6');
    assert.equal(back.flag, 'on');
    assert.equal(back.id, '1754154032319');
  });

  it('parses a file once per version and shares it frozen; a rewrite is parsed again', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dify-ci-render-'));
    const file = join(dir, 'app.yml');
    writeFileSync(file, readFileSync(join(FIX, 'workflow.yml')));
    const a = loadDsl(file);
    assert.equal(loadDsl(file), a);
    assert.throws(() => { a.app.name = 'changed'; }, TypeError);
    assert.throws(() => { a.workflow.graph.nodes.push({}); }, TypeError);
    const r = renderDsl(a, { env: env(), name: 'x', environ: { CANARY_ENV: CANARY } });
    r.doc.workflow.graph.nodes.push({ id: 'extra' }); // the rendered copy is the caller's own
    writeFileSync(file, readFileSync(join(FIX, 'workflow.yml'), 'utf8').replace(/^(\s*)name: .*$/m, '$1name: renamed'));
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const b = loadDsl(file);
    assert.notEqual(b, a);
    assert.equal(b.app.name, 'renamed');
  });

  it('rejects a file that is not an app DSL with a position', () => {
    assert.throws(() => loadDsl(join(DSL_FIXTURES, 'dify-official/minimal_not_an_app.yml')), (e: unknown) => e instanceof DifyCiError && e.position?.line === 1);
  });
});

describe('deploy/render parseDsl (exports and backups)', () => {
  const head = "version: '0.3.0'\nkind: app\napp: {name: a, mode: workflow}\n";
  it('takes any number of ordinary aliases, as PyYAML does (the yaml library alone refused 101)', () => {
    const rows = Array.from({ length: 150 }, (_, i) => `  - {<<: *shared, id: n${i}}`).join('\n');
    const doc = parseDsl(`${head}shared: &shared {type: llm}\nworkflow:\n  graph:\n    nodes:\n${rows.replace(/^/gm, '    ')}\n`, 'export');
    const nodes = (doc.workflow as { graph: { nodes: { type: string }[] } }).graph.nodes;
    assert.equal(nodes.length, 150);
    assert.equal(nodes[149]!.type, 'llm');
  });
  it('refuses an alias bomb and stack-deep nesting with a message, not a crash', () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    assert.throws(() => parseDsl(head + levels.join('\n') + '\n', 'backup b.yml'), (e: unknown) => e instanceof DifyCiError && /backup b\.yml: not valid YAML: .*billion laughs/.test(e.message));
    assert.throws(() => parseDsl(head + 'x: ' + '['.repeat(100_000) + '\n', 'export'), (e: unknown) => e instanceof DifyCiError && /nesting too deep/.test(e.message));
  });
});
