import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { resolveConfig } from '../../runner/src/config/resolve.js';
import { DifyCiError } from '../../runner/src/core/errors.js';
import { loadTenants } from '../../runner/src/config/tenants.js';
import { selectTenants } from '../../runner/src/selection/tenants.js';
import { planWaves, waveOrder } from '../../runner/src/selection/waves.js';
import { applyShard, parseShard } from '../../runner/src/selection/shard.js';
import type { TenantConfig } from '../../runner/src/config/types.js';
import { tempProject } from '../helpers/cli.js';

const BASE = `apps: {bot: {dsl: bot.yml}}
environments:
  prod: {url: 'http://127.0.0.1:5001', auth: {mode: password, email: a@b.c, passwordEnv: P}}
`;

function tenantsFrom(files: Record<string, string>, tenantsYaml: string): TenantConfig[] {
  const dir = tempProject({ 'dify-ci.yml': BASE + tenantsYaml, ...files });
  return loadTenants(resolveConfig({ cwd: dir, environ: {} }));
}

function errorOf(fn: () => unknown): DifyCiError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof DifyCiError, String(e));
    return e;
  }
  assert.fail('expected an error');
}

function many(n: number): TenantConfig[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `tenant-${String(i).padStart(3, '0')}`,
    workspaceId: `ws-${i}`,
    variables: {},
    labels: { tier: i % 3 === 0 ? 'gold' : 'silver', region: i % 2 ? 'cn' : 'eu' },
    canary: i === 7,
    apps: {},
  }));
}

describe('tenants: files', () => {
  it('loads a CSV with labels, variables and auth overrides', () => {
    const csv = 'name,workspaceId,canary,labels.tier,labels.region,variables.GREETING,auth.mode,auth.tokenEnv,auth.credentialsId\n' +
      'acme,ws-1,true,gold,cn,Hi,token,ACME_TOKEN,acme-token\n' +
      '# a comment line\n' +
      'globex,ws-2,false,silver,eu,,,,\n';
    const list = tenantsFrom({ 'tenants.csv': csv }, 'tenants: {file: tenants.csv}\n');
    assert.equal(list.length, 2);
    assert.deepEqual(list[0]!.labels, { tier: 'gold', region: 'cn' });
    assert.deepEqual(list[0]!.variables, { GREETING: 'Hi' });
    assert.deepEqual(list[0]!.auth, { mode: 'token', tokenEnv: 'ACME_TOKEN', credentialsId: 'acme-token' });
    assert.equal(list[0]!.canary, true);
    assert.equal(list[1]!.auth, undefined);
    assert.equal(list[1]!.source?.line, 4, 'line numbers count comment lines');
  });

  it('CSV errors name file:line:column', () => {
    const badBool = errorOf(() => tenantsFrom({ 't.csv': 'name,workspaceId,canary\nacme,ws-1,maybe\n' }, 'tenants: {file: t.csv}\n'));
    assert.equal(badBool.position?.line, 2);
    assert.equal(badBool.position?.column, 3);
    assert.match(badBool.message, /canary' must be true or false/);
    const unknown = errorOf(() => tenantsFrom({ 't.csv': 'name,workspaceId,lables.tier\nacme,ws-1,gold\n' }, 'tenants: {file: t.csv}\n'));
    assert.match(unknown.message, /unknown column 'lables'/);
    assert.equal(unknown.position?.line, 2);
    assert.equal(unknown.position?.column, 3);
    const dup = errorOf(() => tenantsFrom({ 't.csv': 'name,workspaceId\nacme,ws-1\nbeta,ws-2\nacme,ws-3\n' }, 'tenants: {file: t.csv}\n'));
    assert.equal(dup.position?.line, 4);
    assert.match(dup.message, /duplicate tenant name 'acme' \(first at line 2\)/);
    const ragged = errorOf(() => tenantsFrom({ 't.csv': 'name,workspaceId\nacme,ws-1,extra\n' }, 'tenants: {file: t.csv}\n'));
    assert.equal(ragged.position?.line, 2);
    const noWs = errorOf(() => tenantsFrom({ 't.csv': 'name,workspaceId\nacme,\n' }, 'tenants: {file: t.csv}\n'));
    assert.match(noWs.message, /needs a workspaceId or its own url/);
  });

  it('loads a YAML tenant file and reports its errors at file:line:column', () => {
    const ok = tenantsFrom({ 't.yml': 'tenants:\n  - {name: a, workspaceId: w1, labels: {tier: gold}}\n  - {name: b, url: "https://b.example.com"}\n' }, 'tenants: {file: t.yml}\n');
    assert.deepEqual(ok.map((t) => [t.name, t.source?.line]), [['a', 2], ['b', 3]]);
    const bad = errorOf(() => tenantsFrom({ 't.yml': '- name: a\n  workspaceId: w1\n- name: b\n  workspaceID: w2\n' }, 'tenants: {file: t.yml}\n'));
    assert.ok(bad.position?.file.endsWith('t.yml'));
    assert.equal(bad.position?.line, 4);
    assert.equal(bad.position?.column, 3);
    assert.match(bad.message, /unknown key 'workspaceID'.*did you mean 'workspaceId'/);
  });

  it('a tenant file may merge one defaults mapping into hundreds of rows, but an alias bomb is refused at its line', () => {
    const rows = Array.from({ length: 300 }, (_, i) => `  - {<<: *gold, name: t${i}, workspaceId: w${i}}`).join('\n');
    const ok = tenantsFrom({ 't.yml': `defaults: &gold {labels: {tier: gold, region: eu}}\ntenants:\n${rows}\n` }, 'tenants: {file: t.yml}\n');
    assert.equal(ok.length, 300);
    assert.deepEqual(ok[299]!.labels, { tier: 'gold', region: 'eu' });
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++) levels.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(', ')}]`);
    const bomb = errorOf(() => tenantsFrom({ 't.yml': `${levels.join('\n')}\ntenants: []\n` }, 'tenants: {file: t.yml}\n'));
    assert.match(bomb.message, /billion laughs/);
    assert.ok(bomb.position?.file.endsWith('t.yml'));
    assert.ok((bomb.position?.line ?? 0) > 1, 'at the alias that crosses the limit');
    const deep = errorOf(() => tenantsFrom({ 't.yml': `tenants:\n  - ${'['.repeat(5000)}\n` }, 'tenants: {file: t.yml}\n'));
    assert.match(deep.message, /nesting too deep/);
    assert.equal(deep.position?.line, 2);
  });

  it('inline tenants are checked by the config schema', () => {
    const list = tenantsFrom({}, 'tenants:\n  - {name: a, workspaceId: w1, canary: true}\n');
    assert.equal(list[0]!.canary, true);
  });
});

describe('tenants: selection', () => {
  const all = many(30);
  it('selects by labels (AND across terms, | within a term, != to exclude)', () => {
    const gold = selectTenants(all, { tenants: 'tier=gold' });
    assert.ok(gold.length > 0 && gold.every((t) => t.labels.tier === 'gold'));
    const goldCn = selectTenants(all, { tenants: 'tier=gold,region=cn' });
    assert.ok(goldCn.every((t) => t.labels.tier === 'gold' && t.labels.region === 'cn'));
    assert.ok(goldCn.length < gold.length);
    const notGold = selectTenants(all, { tenants: 'tier!=gold' });
    assert.equal(notGold.length + gold.length, all.length);
    const either = selectTenants(all, { tenants: 'region=cn|eu' });
    assert.equal(either.length, all.length);
    const glob = selectTenants(all, { tenants: 'name=tenant-00*' });
    assert.equal(glob.length, 10);
  });
  it('selects by exact names and refuses unknown ones with a hint', () => {
    assert.deepEqual(selectTenants(all, { tenant: 'tenant-003,tenant-001' }).map((t) => t.name), ['tenant-003', 'tenant-001']);
    assert.throws(() => selectTenants(all, { tenant: 'tenantt-029' }), /unknown tenant 'tenantt-029' \(did you mean 'tenant-029'\?\)/);
    assert.throws(() => selectTenants(all, { tenants: 'tier=platinum' }), /no tenant matches --tenants tier=platinum/);
    assert.throws(() => selectTenants(all, { tenants: 'tier' }), /invalid tenant selector/);
  });
});

describe('tenants: waves and shards', () => {
  it('waves are cumulative, canaries first, then a stable hash order that does not depend on input order', () => {
    const all = many(40);
    const waves = planWaves(all, ['1', '10%', '50%', '100%']);
    assert.deepEqual(waves.map((w) => w.members.length), [1, 3, 16, 20]);
    assert.equal(waves[0]!.members[0]!.name, 'tenant-007', 'the canary goes first');
    const shuffled = [...all].reverse();
    assert.deepEqual(planWaves(shuffled, ['1', '10%', '50%', '100%']).map((w) => w.members.map((t) => t.name)), waves.map((w) => w.members.map((t) => t.name)));
    const names = waves.flatMap((w) => w.members.map((t) => t.name));
    assert.equal(new Set(names).size, all.length, 'every tenant exactly once');
  });

  it('a rollout that stops at 10 % leaves the rest alone', () => {
    const waves = planWaves(many(50), ['1', '10%']);
    assert.deepEqual(waves.map((w) => w.members.length), [1, 4]);
  });

  it('shards are disjoint, complete and balanced', () => {
    const items = many(103).map((t) => t.name);
    const parts = [1, 2, 3, 4].map((i) => applyShard(items, parseShard(`${i}/4`), (x) => x));
    const flat = parts.flat();
    assert.equal(flat.length, items.length);
    assert.equal(new Set(flat).size, items.length);
    assert.ok(Math.max(...parts.map((p) => p.length)) - Math.min(...parts.map((p) => p.length)) <= 1);
    assert.deepEqual(applyShard(items, parseShard('2/4'), (x) => x), parts[1], 'deterministic');
    assert.throws(() => parseShard('0/4'), /between 1 and n/);
    assert.throws(() => parseShard('two'), /i\/n/);
  });

  it('waveOrder is a permutation', () => {
    const all = many(12);
    assert.equal(new Set(waveOrder(all)).size, 12);
    void join;
  });
});
