/**
 * What the deploy engine sends to Dify, and the backups it writes, read with the real PyYAML (Dify's
 * `yaml.safe_load`): the data must be the data of the source file. In-process for every real export (render →
 * toYaml, with variables and secrets injected), and over HTTP for a deploy of every real export that validates:
 * a recording proxy in front of the emulator keeps each `yaml_content` the runner sent, a second deploy writes
 * backups of the live versions.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../runner/src/config/resolve.js';
import { configureLog } from '../../runner/src/core/log.js';
import type { DifyCiError } from '../../runner/src/core/errors.js';
import type { EnvironmentConfig } from '../../runner/src/config/types.js';
import { deployTargets } from '../../runner/src/deploy/deploy.js';
import { loadDsl, renderDsl, toYaml } from '../../runner/src/deploy/render.js';
import { validateFile } from '../../runner/src/dsl/validate.js';
import { useEmulator } from '../helpers/emulator.js';
import { allFiles } from '../deploy/helpers.js';
import { dslFixtures } from './cases.js';
import { pySafeLoad, pyyamlMissing, sameTyped } from './oracle.js';

type Json = Record<string, any>;

/** PyYAML's value of a source file with what render changes applied: the name, and injected variables/secrets. */
function expectedRender(src: Json, name: string, injected: Record<string, { value: unknown; secret: boolean }>): Json {
  const out = structuredClone(src);
  out.app = { ...out.app, name };
  const vars = out.workflow?.environment_variables;
  if (Array.isArray(vars)) {
    out.workflow.environment_variables = vars.map((v: Json) => (v?.name in injected ? { ...v, value: injected[v.name]!.value, ...(injected[v.name]!.secret ? { value_type: 'secret' } : {}) } : v));
  }
  return out;
}

/** Dify exports knowledge-base ids encrypted for the workspace (and drops those it cannot decrypt on import). */
function withoutDatasetIds(graph: Json): Json {
  const g = structuredClone(graph ?? {});
  for (const n of Array.isArray(g.nodes) ? g.nodes : []) if (n?.data?.type === 'knowledge-retrieval') delete n.data.dataset_ids;
  return g;
}

/** A reverse proxy that records the JSON body of every DSL import. */
async function recordingProxy(target: string): Promise<{ url: string; imports: Json[]; close(): Promise<void> }> {
  const imports: Json[] = [];
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.method === 'POST' && /\/apps\/imports$/.test(req.url ?? '')) imports.push(JSON.parse(body.toString('utf8')));
      const fwd = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      fwd.on('error', () => res.destroy());
      fwd.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    imports,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe('yaml: the DSL the deploy engine sends, and its backups, read in PyYAML as the source file', function () {
  this.timeout(300_000);
  const missing = pyyamlMissing();
  const files = dslFixtures().filter((f) => !f.name.endsWith('minimal_not_an_app.yml')).map((f) => f.file);
  before(function () {
    if (missing || files.length === 0) {
      console.warn(`    skipped: ${missing ?? 'no DSL fixtures (../shared/fixtures/dify-dsl)'}`);
      this.skip();
    }
  });

  it('render → toYaml keeps every real export as PyYAML reads it, injected variables and secrets aside', () => {
    const environ = { SECRET_A: 'sk-secret-value: with = and # and \'quotes\'', SECRET_B: '08257' };
    const sent: string[] = [];
    const expectations: ((src: Json) => Json)[] = [];
    for (const file of files) {
      const source = loadDsl(file);
      const declared: Json[] = Array.isArray(source.workflow?.environment_variables) ? source.workflow.environment_variables : [];
      const [first, second] = declared.filter((v) => typeof v?.name === 'string');
      // Values that PyYAML would retype if written plain: they must arrive as the strings (or number) meant.
      const variables: Record<string, string | number> = {};
      const injected: Record<string, { value: unknown; secret: boolean }> = {};
      if (first) {
        const value = first.value_type === 'number' ? 1.5 : 'yes';
        variables[first.name] = value;
        injected[first.name] = { value, secret: false };
      }
      const secrets: EnvironmentConfig['secrets'] = {};
      if (second) {
        secrets[second.name] = { env: 'SECRET_A' } as EnvironmentConfig['secrets'][string];
        injected[second.name] = { value: environ.SECRET_A, secret: true };
      }
      const env = { key: 'staging', variables, secrets } as unknown as EnvironmentConfig;
      const r = renderDsl(source, { env, name: '2024-01-01', environ });
      sent.push(toYaml(r.doc));
      expectations.push((src) => expectedRender(src, '2024-01-01', injected));
    }
    const answers = pySafeLoad([...files.map((f) => readFileSync(f, 'utf8')), ...sent]);
    const diffs = files.filter((f, i) => {
      const src = answers[i]!;
      const got = answers[files.length + i]!;
      return !('value' in src) || !('value' in got) || !sameTyped(got.value, expectations[i]!(src.value as Json));
    });
    assert.deepEqual(diffs, []);
    assert.ok(files.length >= 60 && sent.some((t) => t.includes("comparison_operator: '='")));
  });

  describe('over HTTP, against the emulator', () => {
    const emu = useEmulator();

    it('refuses a DSL PyYAML refuses (plain =) or Dify cannot store (a date) before any change: exit 2, file:line', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'dify-ci-pyyaml-'));
      const base = readFileSync(files.find((f) => f.endsWith('conditional_parallel_code_execution_workflow.yml'))!, 'utf8');
      assert.ok(base.includes("comparison_operator: '='"));
      writeFileSync(join(dir, 'eq.yml'), base.replace("comparison_operator: '='", 'comparison_operator: ='));
      writeFileSync(join(dir, 'date.yml'), base.replace("  icon_background: '#FFEAD5'\n", "  icon_background: '#FFEAD5'\n  created: 2024-01-01\n"));
      writeFileSync(
        join(dir, 'dify-ci.yml'),
        `apps:\n  eq: {dsl: eq.yml}\n  date: {dsl: date.yml}\nenvironments:\n  staging:\n    url: ${emu().url}\n    auth: {mode: password, email: admin@dify-ci.local, passwordEnv: DIFY_PASSWORD}\n`,
      );
      const environ = { DIFY_PASSWORD: 'dify-ci-Passw0rd' };
      const cfg = resolveConfig({ configFile: join(dir, 'dify-ci.yml'), envName: 'staging', environ, cwd: dir });
      const before = emu().state.apps.length;
      await assert.rejects(deployTargets(cfg, cfg.env!, undefined, { environ }), (e: unknown) => {
        const err = e as DifyCiError;
        const text = [err.message, ...(err.details ?? [])].join('\n');
        assert.equal(err.exitCode, 2);
        assert.match(text, /eq\.yml:\d+:\d+: error DSL001: could not determine a constructor for the tag 'tag:yaml\.org,2002:value'/);
        assert.match(text, /date\.yml:\d+:\d+: error DSL005: PyYAML reads "2024-01-01" as a datetime\.date/);
        return /nothing was changed in Dify/.test(err.message);
      });
      assert.equal(emu().state.apps.length, before);
    });

    it('deploys every real export that validates and needs no plugin; each import and backup loads in PyYAML as the source', async () => {
      // Plugins: the emulator's workspace has none installed, so Dify (and dify-ci) would stop before publishing.
      const noPlugins = (f: string) => !(loadDsl(f).dependencies ?? []).length;
      const deployable = files.filter((f) => noPlugins(f) && validateFile(f, {}).findings.every((x) => x.severity !== 'error' || x.ruleId === 'DSL014'));
      assert.ok(deployable.length >= 25, `${deployable.length} deployable fixtures`);
      const proxy = await recordingProxy(emu().url);
      configureLog({ quiet: true }); // 2 × 36 deploys: their progress lines say nothing here
      try {
        const dir = mkdtempSync(join(tmpdir(), 'dify-ci-pyyaml-'));
        const keys = deployable.map((f, i) => {
          copyFileSync(f, join(dir, `app${i}.yml`));
          return `app${i}`;
        });
        writeFileSync(
          join(dir, 'dify-ci.yml'),
          `apps:\n${keys.map((k) => `  ${k}: {dsl: ${k}.yml, name: ${k}}`).join('\n')}\nenvironments:\n  staging:\n    url: ${proxy.url}\n    auth: {mode: password, email: admin@dify-ci.local, passwordEnv: DIFY_PASSWORD}\n    timeoutMs: 20000\n`,
        );
        const environ = { DIFY_PASSWORD: 'dify-ci-Passw0rd' };
        const cfg = resolveConfig({ configFile: join(dir, 'dify-ci.yml'), envName: 'staging', environ, cwd: dir });
        const first = await deployTargets(cfg, cfg.env!, undefined, { environ, allowVersionUpgrade: true });
        assert.deepEqual(first.targets.filter((t) => t.status !== 'deployed').map((t) => [t.target, t.status, t.error]), []);
        const again = await deployTargets(cfg, cfg.env!, undefined, { environ, force: true, allowVersionUpgrade: true });
        assert.equal(again.status, 'success');

        const sentByName = new Map<string, string>();
        for (const body of proxy.imports) if (typeof body.yaml_content === 'string') sentByName.set(String(body.name), body.yaml_content);
        const backups = allFiles(cfg.paths.backups).filter((f) => f.endsWith('.yml') && !f.endsWith('-draft.yml'));
        const backupOf = (k: string) => backups.find((f) => f.split(/[\\/]/).includes(k));
        const texts = [...deployable.map((f) => readFileSync(f, 'utf8')), ...keys.map((k) => sentByName.get(k) ?? ''), ...keys.map((k) => readFileSync(backupOf(k)!, 'utf8'))];
        const py = pySafeLoad(texts);
        const n = keys.length;
        const problems: string[] = [];
        keys.forEach((k, i) => {
          const [src, sent, backup] = [py[i]!, py[n + i]!, py[2 * n + i]!];
          if (!('value' in src) || !('value' in sent) || !('value' in backup)) return problems.push(`${k}: PyYAML refuses ${'value' in sent ? 'the backup' : 'what was sent'}`);
          const s = src.value as Json;
          if (!sameTyped(sent.value, { ...s, app: { ...s.app, name: k } })) problems.push(`${k} (${deployable[i]}): the YAML sent differs from the source`);
          // The backup is Dify's export of what was imported: same graph and features (or model config).
          const b = backup.value as Json;
          const part = (d: Json) => (d.workflow ? { graph: withoutDatasetIds(d.workflow.graph), features: d.workflow.features ?? {} } : d.model_config);
          if (!sameTyped(part(b), part(sent.value as Json))) problems.push(`${k} (${deployable[i]}): the backup's ${b.workflow ? 'graph/features' : 'model_config'} differ from what was sent`);
        });
        assert.deepEqual(problems, []);
        assert.equal(sentByName.size, n);
      } finally {
        configureLog({ quiet: false });
        await proxy.close();
      }
    });
  });
});
