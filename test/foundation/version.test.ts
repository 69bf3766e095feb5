/**
 * Versioning (issue 14): the package version is the one `--version` prints, the changelog and the docs agree with
 * it, and the release script moves Unreleased to a dated release without touching git. In-process.
 */
import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { compareVersions, nextSteps, releaseFiles } from '../../scripts/release.mjs';
import { VERSION, versionLine } from '../../runner/src/core/version.js';
import { ROOT, tempProject } from '../helpers/cli.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const changelog = readFileSync(join(ROOT, 'CHANGELOG.md'), 'utf8');
const released = [...changelog.matchAll(/^## (\d+\.\d+\.\d+) — \d{4}-\d{2}-\d{2}$/gm)].map((m) => m[1]!);

describe('versions: package.json, --version, CHANGELOG.md and the docs agree', () => {
  it('--version prints the package version and the runner hash', async () => {
    assert.equal(VERSION, pkg.version);
    assert.match(await versionLine(), new RegExp(`^dify-ci ${pkg.version.replace(/\./g, '\\.')} \\(runner [0-9a-f]{12}\\)$`));
  });

  it('the package version is the newest release in the changelog, or 0.1.0 before the first one', () => {
    assert.match(changelog, /^## Unreleased$/m);
    if (released.length === 0) assert.equal(pkg.version, '0.1.0');
    else assert.equal(pkg.version, released[0]);
    const sorted = [...released].sort((a, b) => compareVersions(b, a));
    assert.deepEqual(released, sorted, 'newest release first');
  });

  it('the docs name no version that was never released', () => {
    const docs = ['README.md', 'jenkins-shared-library.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
    const known = new Set([...released, pkg.version]);
    for (const file of docs) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const m of text.matchAll(/dify-ci(?:@v| )(\d+\.\d+\.\d+)/g)) assert.ok(known.has(m[1]!), `${file} names dify-ci ${m[1]}, which is not a release`);
    }
  });
});

describe('scripts/release.mjs', () => {
  function repo(changes = '### Fixed\n- a fix\n') {
    return tempProject({
      'package.json': JSON.stringify({ name: 'dify-ci', version: '0.1.0', private: true }, null, 2) + '\n',
      'package-lock.json': JSON.stringify({ name: 'dify-ci', version: '0.1.0', lockfileVersion: 3, packages: { '': { name: 'dify-ci', version: '0.1.0' } } }, null, 2) + '\n',
      'CHANGELOG.md': `# Changelog\n\nintro\n\n## Unreleased\n\nNothing has been tagged yet: the first release will be \`v1.0.0\`.\n\n${changes}\n## 0.0.1 — 2025-01-01\n\n### Added\n- old\n`,
    });
  }

  it('releases Unreleased as the version, dated, under a fresh Unreleased, and bumps the package and lock', () => {
    const files = releaseFiles(repo(), '1.0.0', '2026-02-03');
    assert.equal(JSON.parse(files.get('package.json')!).version, '1.0.0');
    const lock = JSON.parse(files.get('package-lock.json')!);
    assert.deepEqual([lock.version, lock.packages[''].version], ['1.0.0', '1.0.0']);
    assert.equal(
      files.get('CHANGELOG.md'),
      '# Changelog\n\nintro\n\n## Unreleased\n\n## 1.0.0 — 2026-02-03\n\n### Fixed\n- a fix\n\n## 0.0.1 — 2025-01-01\n\n### Added\n- old\n',
    );
  });

  it('refuses a version that is not above the current one, not semver, or an empty Unreleased', () => {
    assert.throws(() => releaseFiles(repo(), '0.1.0', '2026-02-03'), /not above the current version 0\.1\.0/);
    assert.throws(() => releaseFiles(repo(), '1.0', '2026-02-03'), /not a version/);
    assert.throws(() => releaseFiles(repo(''), '1.0.0', '2026-02-03'), /lists no change/);
  });

  it('prints the tag steps and moves the major tag, without running them', () => {
    assert.deepEqual(nextSteps('1.4.2').slice(2), [
      'git tag -a v1.4.2 -m "dify-ci 1.4.2"',
      "git tag -f v1 v1.4.2                # the moving major tag tenants follow with @Library('dify-ci@v1')",
      'git push origin v1.4.2 && git push -f origin v1',
    ]);
  });
});
