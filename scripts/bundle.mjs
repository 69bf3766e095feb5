#!/usr/bin/env node
/**
 * Builds resources/dify-ci/runner.cjs (one minified, pure-ASCII CJS file that runs with plain node >= 20 and no
 * node_modules) and copies the JSON schemas next to it. Deterministic: the same sources give the same bytes on
 * every machine (no timestamps, no git commit; the source hash is computed from file contents).
 *   node scripts/bundle.mjs           build
 *   node scripts/bundle.mjs --check   fail (exit 1) when the committed files differ from a fresh build
 */
import { build } from 'esbuild';
import { readFileSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'resources/dify-ci');
const check = process.argv.includes('--check');

// The source hash is the one the dev runner computes (runner/src/core/source-hash.ts), so both print the same.
const { computeSourceHash } = await tsImport('../runner/src/core/source-hash.ts', import.meta.url);
const { dynamicExternals } = await tsImport('./bundle-guard.ts', import.meta.url);
const hash = computeSourceHash(root);

// The schemas the runner checks its inputs against, compiled here instead of in every runner process (see
// runner/src/core/validators.ts): Ajv's standalone code of each definition replaces core/precompiled.ts.
const { VALIDATORS, compileDefinition } = await tsImport('../runner/src/validators.ts', import.meta.url);
const { default: standaloneCode } = await import('ajv/dist/standalone/index.js');
function precompiledModule() {
  const entries = Object.entries(VALIDATORS).map(([name, definition]) => {
    const { ajv, validate } = compileDefinition(definition, { code: { source: true } });
    const code = standaloneCode(ajv, validate);
    return `  ${JSON.stringify(name)}: (function () {\n    var module = { exports: {} }, exports = module.exports;\n${code}\n    return module.exports;\n  })(),`;
  });
  return `export const precompiled = {\n${entries.join('\n')}\n};\n`;
}
const precompiled = {
  name: 'precompiled-validators',
  setup(b) {
    b.onLoad({ filter: /runner[\\/]src[\\/]core[\\/]precompiled\.ts$/ }, () => ({ contents: precompiledModule(), loader: 'js', resolveDir: join(root, 'runner/src/core') }));
  },
};

const result = await build({
  absWorkingDir: root,
  entryPoints: ['runner/src/cli.ts'],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: true,
  charset: 'ascii',
  legalComments: 'none',
  write: false,
  metafile: true,
  logLevel: 'warning',
  define: {
    __DIFY_CI_SOURCE_HASH__: JSON.stringify(hash),
    'import.meta.url': '__difyCiImportMetaUrl',
  },
  banner: { js: 'var __difyCiImportMetaUrl=require("url").pathToFileURL(__filename).href;' },
  plugins: [precompiled],
});

// A dynamic import() of anything esbuild leaves outside the bundle survives as a real import() call, which Node
// refuses inside the vm.Script compile-cache wrapper below. Refuse to build one, naming the file and the import.
const refused = dynamicExternals(result.metafile);
if (refused.length) {
  console.error('bundle: dynamic import() of a module outside the bundle fails in runner.cjs; import it statically:');
  for (const d of refused) console.error(`  ${d}`);
  process.exit(1);
}

/**
 * The bundle is ~1.4 MB; parsing and compiling it dominated start-up (node -e 0: 60 ms, runner: 100 ms). So the
 * code travels as a string literal (scanned, not parsed) and is compiled with a V8 code cache kept next to the
 * runner file — what Node 22's module.enableCompileCache does, which Node 20 lacks. The cache lives beside the
 * runner (same owner, e.g. the Jenkins workspace@tmp), never in a shared directory where another user could plant
 * bytecode; V8 rejects a cache that does not match the source, and the runner then writes a fresh one.
 * DIFY_CI_NO_COMPILE_CACHE=1 turns it off.
 */
function withCompileCache(code) {
  const loader = `(function () {
  var vm = require('vm'), fs = require('fs');
  var cacheFile = __filename + '.${hash}.v8cache';
  var useCache = !process.env.DIFY_CI_NO_COMPILE_CACHE;
  var cachedData;
  if (useCache) { try { cachedData = fs.readFileSync(cacheFile); } catch (e) { cachedData = undefined; } }
  var script = new vm.Script('(function (exports, require, module, __filename, __dirname) {' + CODE + '\\n})', { filename: __filename, cachedData: cachedData });
  if (useCache && (!cachedData || script.cachedDataRejected)) {
    process.once('beforeExit', function () {
      try { var tmp = cacheFile + '.' + process.pid; fs.writeFileSync(tmp, script.createCachedData(), { mode: 384 }); fs.renameSync(tmp, cacheFile); } catch (e) { /* a read-only directory just means no cache */ }
    });
  }
  script.runInThisContext().call(module.exports, module.exports, require, module, __filename, __dirname);
})();
`;
  return '#!/usr/bin/env node\n/* dify-ci runner - generated by scripts/bundle.mjs from runner/src; do not edit. */\n' + 'var CODE = ' + JSON.stringify(code) + ';\n' + loader;
}

const files = new Map();
files.set(join(outDir, 'runner.cjs'), withCompileCache(result.outputFiles[0].text));
const schemas = [
  ['runner/src/config/config.schema.json', 'config.schema.json'],
  ['runner/src/smoke/suite.schema.json', 'smoke-suite.schema.json'],
];
for (const [src, dest] of schemas) {
  const p = join(root, src);
  if (existsSync(p)) files.set(join(outDir, dest), readFileSync(p, 'utf8'));
}

for (const [path, text] of files) {
  if (/[^\x00-\x7f]/.test(text)) {
    console.error(`bundle: ${path} is not pure ASCII`);
    process.exit(1);
  }
}

if (check) {
  const stale = [...files].filter(([path, text]) => !existsSync(path) || readFileSync(path, 'utf8') !== text).map(([p]) => p);
  if (stale.length) {
    console.error(`bundle: stale generated file(s): ${stale.map((p) => p.slice(root.length + 1)).join(', ')}`);
    console.error('bundle: run `npm run bundle` and commit the result');
    process.exit(1);
  }
  console.error(`bundle: up to date (runner ${hash})`);
} else {
  mkdirSync(outDir, { recursive: true });
  for (const [path, text] of files) writeFileSync(path, text, { mode: path.endsWith('.cjs') ? 0o755 : 0o644 });
  console.error(`bundle: wrote resources/dify-ci/runner.cjs (${(files.get(join(outDir, 'runner.cjs')).length / 1024).toFixed(0)} KiB, runner ${hash})`);
}
