/** `dify-ci emulator` as a process: the JSON line, SIGTERM, the state file across restarts, --workspaces, bad rule files. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnCli, useTempDir } from '../helpers/cli.js';
import { Client } from './helpers.js';

const run = (args: string[], cwd: string) => spawnCli(args, cwd, { ...process.env, NO_COLOR: '1' });

describe('dify-ci emulator (CLI)', function () {
  this.timeout(60_000);
  const dir = useTempDir('emu-cli-');

  it('prints the JSON line, serves, persists the state, stops on SIGTERM with exit 0, and reloads the state', async () => {
    const state = join(dir(), 'state.json');
    const r1 = run(['emulator', '--port', '0', '--state', state, '--admin', 'ops@example.com:S3cret-pass'], dir());
    const info = await r1.line;
    assert.match(info.url!, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(info.email, 'ops@example.com');
    assert.equal(info.password, 'S3cret-pass');
    const c = new Client(info.url!);
    assert.equal((await c.login('ops@example.com', 'S3cret-pass')).status, 200);
    const created = await c.req('POST', '/console/api/apps', { body: { name: 'kept', mode: 'workflow' } });
    assert.equal(created.status, 201);
    r1.child.kill('SIGTERM');
    assert.equal(await r1.exit, 0, r1.stderr());
    assert.match(r1.stderr(), /admin: ops@example\.com/);
    assert.ok(existsSync(state));
    const result = JSON.parse(readFileSync(join(dir(), '.dify-ci/results/emulator.json'), 'utf8'));
    assert.equal(result.status, 'success');

    const r2 = run(['emulator', '--port', '0', '--state', state, '--admin', 'ops@example.com:S3cret-pass'], dir());
    const info2 = await r2.line;
    assert.equal(info2.workspaceId, info.workspaceId);
    const c2 = new Client(info2.url!);
    assert.equal((await c2.login('ops@example.com', 'S3cret-pass')).status, 200);
    const list = await c2.req('GET', '/console/api/apps');
    assert.deepEqual(list.json.data.map((a: { name: string }) => a.name), ['kept']);
    r2.child.kill('SIGINT');
    assert.equal(await r2.exit, 0);
  });

  it('--workspaces 3 creates ws-001 and ws-002 beside the seeded one, lists them in the JSON line, and a restart on the same state keeps them', async () => {
    const state = join(dir(), 'ws-state.json');
    const r1 = run(['emulator', '--port', '0', '--workspaces', '3', '--state', state], dir());
    const info = await r1.line;
    assert.equal(info.workspaces.length, 3);
    assert.equal(info.workspaces[0].id, info.workspaceId, 'the seeded workspace comes first');
    assert.deepEqual(info.workspaces.slice(1).map((w: { name: string }) => w.name), ['ws-001', 'ws-002']);
    const c = new Client(info.url);
    assert.equal((await c.login(info.email, info.password)).status, 200);
    const listed = (await c.req('GET', '/console/api/workspaces')).json.workspaces;
    assert.deepEqual(
      listed.map((w: { id: string; name: string }) => ({ id: w.id, name: w.name })).sort((a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id)),
      [...info.workspaces].sort((a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id)),
    );
    const sw = await c.req('POST', '/console/api/workspaces/switch', { body: { tenant_id: info.workspaces[2].id } });
    assert.equal(sw.status, 200, sw.text);
    assert.equal(sw.json.new_tenant.role, 'owner');
    assert.equal((await c.req('GET', '/console/api/workspaces/current')).json.name, 'ws-002');
    assert.match(r1.stderr(), /workspaces: ws-001 [0-9a-f-]{36}, ws-002 [0-9a-f-]{36}/);
    r1.child.kill('SIGTERM');
    assert.equal(await r1.exit, 0, r1.stderr());

    const r2 = run(['emulator', '--port', '0', '--workspaces', '3', '--state', state], dir());
    const info2 = await r2.line;
    assert.deepEqual(info2.workspaces, info.workspaces, 'reused from the state file, not created twice');
    r2.child.kill('SIGTERM');
    assert.equal(await r2.exit, 0);

    const plain = run(['emulator', '--port', '0'], dir());
    const info3 = await plain.line;
    assert.deepEqual(info3.workspaces, [{ id: info3.workspaceId, name: "Admin's Workspace" }], 'default: the seeded workspace only');
    plain.child.kill('SIGTERM');
    assert.equal(await plain.exit, 0);

    const bad = run(['emulator', '--port', '0', '--workspaces', '0'], dir());
    bad.line.catch(() => undefined);
    assert.equal(await bad.exit, 2);
    assert.match(bad.stderr(), /--workspaces must be between 1 and 1000/);
  });

  it('a bad faults file fails with file:line:column and exit 2', async () => {
    const f = join(dir(), 'faults.yml');
    writeFileSync(f, "- route: /v1/**\n  status: 429\n- route: /console/**\n  stauts: 500\n");
    const r = run(['emulator', '--port', '0', '--faults', f], dir());
    r.line.catch(() => undefined);
    assert.equal(await r.exit, 2);
    assert.match(r.stderr(), /faults\.yml:4:3: invalid faults file: unknown key 'stauts'.*did you mean 'status'/);
  });

  it('a script file with a bad regex fails with file:line:column; a good one is applied', async () => {
    const bad = join(dir(), 'bad-script.yml');
    writeFileSync(bad, "- app: 'bot*'\n  query: '(unclosed'\n  answer: x\n");
    const r = run(['emulator', '--port', '0', '--script', bad], dir());
    r.line.catch(() => undefined);
    assert.equal(await r.exit, 2);
    assert.match(r.stderr(), /bad-script\.yml:2:\d+: invalid script file: query is not a valid regular expression/);

    const good = join(dir(), 'script.yml');
    writeFileSync(good, "- query: 'order'\n  answer: 'Your order 123 ships today'\n");
    const ok = run(['emulator', '--port', '0', '--script', good], dir());
    const info = await ok.line;
    const c = new Client(info.url!);
    await c.login(info.email!, info.password!);
    const imp = await c.req('POST', '/console/api/apps/imports', {
      body: { mode: 'yaml-content', yaml_content: 'version: 0.6.0\napp: {name: bot, mode: chat}\nmodel_config: {model: {provider: openai, name: m, mode: chat}, pre_prompt: hi}\n' },
    });
    const key = (await c.req('POST', `/console/api/apps/${imp.json.app_id}/api-keys`)).json.token;
    const res = await fetch(`${info.url}/v1/chat-messages`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ inputs: {}, query: 'my order?', user: 'u', response_mode: 'blocking' }),
    });
    assert.equal(((await res.json()) as { answer: string }).answer, 'Your order 123 ships today');
    ok.child.kill('SIGTERM');
    assert.equal(await ok.exit, 0);
  });
});
