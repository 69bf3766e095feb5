/**
 * Installed plugins and check-dependencies (dify-api.md §3.4): what a workspace lacks of a DSL's `dependencies`,
 * with Dify's `current_identifier` for a plugin installed in another version; declared by option, emu.setPlugins,
 * the --state file or `--plugins FILE`.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../runner/src/emulator/index.js';
import { spawnCli, useTempDir } from '../helpers/cli.js';
import { Client, adminClient, importApp, workflowDsl } from './helpers.js';

const OPENAI = 'langgenius/openai:0.2.3@aaaa1111';
const deps = [
  { type: 'marketplace', value: { marketplace_plugin_unique_identifier: OPENAI } },
  { type: 'marketplace', value: { marketplace_plugin_unique_identifier: 'langgenius/tavily:0.0.5@bbbb2222' } },
  { type: 'github', value: { repo: 'acme/jina', version: '1.0.0', package: 'jina.difypkg', github_plugin_unique_identifier: 'acme/jina:1.0.0@cccc3333' } },
  { type: 'package', value: { plugin_unique_identifier: 'acme/local:2.0.0@dddd4444' } },
];
const dslWithDeps = (name = 'with-plugins'): string => {
  const doc = parse(workflowDsl({ name })) as Record<string, unknown>;
  doc.dependencies = deps;
  return stringify(doc);
};

async function leaked(c: Client, yaml = dslWithDeps()): Promise<{ id: string; current: string | null }[]> {
  const imp = await importApp(c, yaml);
  assert.equal(imp.status, 200, imp.text);
  const r = await c.req('GET', `/console/api/apps/imports/${imp.json.app_id}/check-dependencies`);
  assert.equal(r.status, 200, r.text);
  return r.json.leaked_dependencies.map((d: { value: Record<string, string>; current_identifier: string | null }) => ({
    id: d.value.marketplace_plugin_unique_identifier ?? d.value.github_plugin_unique_identifier ?? d.value.plugin_unique_identifier,
    current: d.current_identifier,
  }));
}

async function withEmu(opts: EmulatorOptions, fn: (emu: Emulator, c: Client) => Promise<void>): Promise<void> {
  const emu = await startEmulator({ port: 0, ...opts });
  try {
    await fn(emu, await adminClient(emu));
  } finally {
    await emu.close();
  }
}

describe('emulator: installed plugins and check-dependencies', function () {
  this.timeout(30_000);
  const dir = useTempDir('emu-plugins-');

  it('none declared: every dependency is missing (a fresh Dify has no plugins)', async () => {
    await withEmu({}, async (_emu, c) => {
      const l = await leaked(c);
      assert.deepEqual(l.map((x) => x.id), deps.map((d) => Object.values(d.value).at(-1)));
      assert.ok(l.every((x) => x.current === null));
    });
  });

  it('exact, any-checksum and any-version entries satisfy; another version is named as current_identifier', async () => {
    await withEmu({ plugins: [OPENAI, 'langgenius/tavily', 'acme/jina:0.9.0@eeee5555', 'acme/local:2.0.0'] }, async (emu, c) => {
      assert.deepEqual(await leaked(c), [{ id: 'acme/jina:1.0.0@cccc3333', current: 'acme/jina:0.9.0@eeee5555' }]);
      // Replacing the declaration takes effect at once; reset() goes back to the declared option.
      emu.setPlugins(['langgenius/openai:0.2.3']);
      assert.deepEqual((await leaked(c)).map((x) => x.id), deps.slice(1).map((d) => Object.values(d.value).at(-1)));
      emu.reset();
      assert.deepEqual(emu.state.plugins, { '*': [OPENAI, 'langgenius/tavily', 'acme/jina:0.9.0@eeee5555', 'acme/local:2.0.0'] });
      assert.throws(() => emu.setPlugins(['not a plugin']), /not a plugin/);
    });
  });

  it('per workspace, by id or name; "*" for all; the cache of §3.4 still expires after 10 minutes', async () => {
    await withEmu({}, async (emu, c) => {
      const other = emu.createWorkspace('tenant-b');
      emu.setPlugins({ '*': [OPENAI], [emu.workspaceId]: ['langgenius/tavily', 'acme/jina', 'acme/local'], 'tenant-b': [] });
      assert.deepEqual(await leaked(c), []);
      const sw = await c.req('POST', '/console/api/workspaces/switch', { body: { tenant_id: other.id } });
      assert.equal(sw.status, 200, sw.text);
      const inB = await importApp(c, dslWithDeps('b'));
      const check = async () => (await c.req('GET', `/console/api/apps/imports/${inB.json.app_id}/check-dependencies`)).json.leaked_dependencies.length;
      assert.equal(await check(), 3, 'tenant-b has only what "*" gives');
      emu.advanceClock(601_000);
      assert.equal(await check(), 0, 'after 10 minutes Dify has forgotten the dependencies');
    });
  });

  it('kept in the --state file; an option replaces them on the next start', async () => {
    const statePath = join(dir(), 'state.json');
    await withEmu({ statePath, plugins: { '*': [OPENAI] } }, async () => undefined);
    assert.deepEqual(JSON.parse(readFileSync(statePath, 'utf8')).plugins, { '*': [OPENAI] });
    await withEmu({ statePath }, async (emu) => assert.deepEqual(emu.state.plugins, { '*': [OPENAI] }));
    await withEmu({ statePath, plugins: ['acme/local'] }, async (emu) => assert.deepEqual(emu.state.plugins, { '*': ['acme/local'] }));
  });

  it('dify-ci emulator --plugins FILE: listed in the banner and used; a bad entry is exit 2 with file:line:column', async () => {
    const file = join(dir(), 'plugins.yml');
    writeFileSync(file, `# installed in every workspace\n- ${OPENAI}\n- langgenius/tavily\n- acme/jina\n- acme/local\n`);
    const r = spawnCli(['emulator', '--port', '0', '--plugins', file], dir(), { ...process.env, NO_COLOR: '1' });
    const info = await r.line;
    const c = new Client(info.url!);
    assert.equal((await c.login(info.email!, info.password!)).status, 200);
    assert.deepEqual(await leaked(c), []);
    r.child.kill('SIGTERM');
    assert.equal(await r.exit, 0, r.stderr());
    assert.match(r.stderr(), /plugins: every workspace: langgenius\/openai:0\.2\.3@aaaa1111, langgenius\/tavily/);

    writeFileSync(file, `'*':\n  - ${OPENAI}\n  - not a plugin\n`);
    const bad = spawnCli(['emulator', '--port', '0', '--plugins', file], dir(), { ...process.env, NO_COLOR: '1' });
    assert.equal(await bad.exit, 2);
    assert.match(bad.stderr(), /plugins\.yml:3:5/);
    assert.match(bad.stderr(), /invalid plugins file/);
  });
});
