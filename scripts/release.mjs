#!/usr/bin/env node
// Prepares a release: the version in package.json (and package-lock.json), and CHANGELOG.md's "## Unreleased"
// section becoming "## <version> — <date>" under a fresh empty one. It runs no git command and moves no tag: it
// prints the steps that follow (rebuild the bundle, which carries the version; test; commit; tag; move v<major>).
// Usage: node scripts/release.mjs <version> [--date YYYY-MM-DD] [--root <repo>]
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/;
export const UNRELEASED = '## Unreleased';

/** -1, 0 or 1, comparing two x.y.z versions. */
export function compareVersions(a, b) {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] < pb[i] ? -1 : 1;
  return 0;
}

/** The changelog with its Unreleased section released as `version` on `date`, and a new empty Unreleased above. */
export function releaseChangelog(text, version, date) {
  const start = text.indexOf(`${UNRELEASED}\n`);
  if (start < 0) throw new Error(`CHANGELOG.md has no "${UNRELEASED}" section`);
  const bodyStart = start + UNRELEASED.length + 1;
  const next = text.indexOf('\n## ', bodyStart);
  const body = text.slice(bodyStart, next < 0 ? text.length : next + 1);
  // The paragraph about nothing being tagged yet belongs to the Unreleased section only.
  const kept = body.replace(/\nNothing has been tagged yet:[\s\S]*?\n\n/, '\n');
  if (!/^### /m.test(kept)) throw new Error(`"${UNRELEASED}" lists no change: nothing to release`);
  const released = `${UNRELEASED}\n\n## ${version} — ${date}\n${kept}`;
  return text.slice(0, start) + released + text.slice(next < 0 ? text.length : next + 1);
}

/** Every file the release changes: path (relative to root) -> new content. */
export function releaseFiles(root, version, date) {
  if (!SEMVER.test(version)) throw new Error(`'${version}' is not a version (MAJOR.MINOR.PATCH, e.g. 1.2.0)`);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  if (compareVersions(version, pkg.version) <= 0) throw new Error(`${version} is not above the current version ${pkg.version}`);
  const files = new Map();
  files.set('package.json', JSON.stringify({ ...pkg, version }, null, 2) + '\n');
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  lock.version = version;
  if (lock.packages?.['']) lock.packages[''].version = version;
  files.set('package-lock.json', JSON.stringify(lock, null, 2) + '\n');
  files.set('CHANGELOG.md', releaseChangelog(readFileSync(join(root, 'CHANGELOG.md'), 'utf8'), version, date));
  return files;
}

export function nextSteps(version) {
  const major = version.split('.')[0];
  return [
    'npm run bundle && npm test          # the bundle carries the version: `dify-ci --version`',
    `git commit -am "release: v${version}"`,
    `git tag -a v${version} -m "dify-ci ${version}"`,
    `git tag -f v${major} v${version}                # the moving major tag tenants follow with @Library('dify-ci@v${major}')`,
    `git push origin v${version} && git push -f origin v${major}`,
  ];
}

function main(argv) {
  const positional = [];
  let date = new Date().toISOString().slice(0, 10);
  let root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--date') date = argv[++i];
    else if (argv[i] === '--root') root = resolve(argv[++i]);
    else positional.push(argv[i]);
  }
  const [version] = positional;
  if (!version || positional.length > 1) {
    process.stderr.write('usage: node scripts/release.mjs <version> [--date YYYY-MM-DD] [--root <repo>]\n');
    return 2;
  }
  for (const [rel, text] of releaseFiles(root, version, date)) writeFileSync(join(root, rel), text);
  process.stdout.write(`prepared ${version}: package.json, package-lock.json, CHANGELOG.md. Then:\n  ${nextSteps(version).join('\n  ')}\n`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`release: ${e.message}\n`);
    process.exitCode = 2;
  }
}
