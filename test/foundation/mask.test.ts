import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { clearSecrets, mask, maskDeep, registerSecret } from '../../runner/src/core/mask.js';
import { runCli, tempProject } from '../helpers/cli.js';
import { GOOD_CONFIG } from './fixtures.js';

const SECRET = 'canary-S3cr3t/+ü&value';

describe('masking', () => {
  beforeEach(() => clearSecrets());
  after(() => clearSecrets());

  it('masks the raw value, its URL-encoded and JSON-escaped forms', () => {
    registerSecret(SECRET);
    assert.equal(mask(`token=${SECRET};`), 'token=***;');
    assert.equal(mask(`https://x/?k=${encodeURIComponent(SECRET)}&a=1`), 'https://x/?k=***&a=1');
    assert.equal(mask(JSON.stringify({ k: SECRET })), '{"k":"***"}');
  });

  it('masks Base64 forms, also inside a larger blob at every byte alignment', () => {
    registerSecret(SECRET);
    for (const prefix of ['', 'u:', 'us:', 'usr:']) {
      const blob = Buffer.from(`${prefix}${SECRET}`).toString('base64');
      const masked = mask(`Authorization: Basic ${blob}`);
      assert.ok(masked.includes('***'), `alignment of prefix '${prefix}' masked: ${masked}`);
      // Whatever is left around the mask cannot be decoded back into the secret.
      const leftover = masked.replace('Authorization: Basic ', '').split('***').join('');
      assert.ok(leftover.length <= 8, `little left around the mask: ${masked}`);
      assert.ok(!Buffer.from(leftover, 'base64').toString('utf8').includes(SECRET.slice(0, 6)));
    }
    const urlSafe = Buffer.from(SECRET).toString('base64url');
    assert.ok(mask(urlSafe).includes('***'), 'URL-safe Base64');
  });

  it('ignores values too short to mask safely, and masks deep structures', () => {
    registerSecret('ab');
    assert.equal(mask('abc ab'), 'abc ab');
    registerSecret(SECRET);
    assert.deepEqual(maskDeep({ a: [SECRET, { b: `x${SECRET}y` }], n: 1 }), { a: ['***', { b: 'x***y' }], n: 1 });
  });

  it('prefers the longest form so no fragment is left behind', () => {
    registerSecret('abcd1234');
    registerSecret('abcd1234efgh');
    assert.equal(mask('v=abcd1234efgh'), 'v=***');
  });

  it('no secret reaches stdout, stderr or the result file of a real CLI run', async () => {
    // The secret is the value of a variable the config names (passwordEnv); the run prints it three ways.
    const b64 = Buffer.from(SECRET).toString('base64');
    const text = GOOD_CONFIG.replace('dsl: apps/summarizer.yml', `dsl: apps/summarizer.yml\n    name: "${SECRET} ${encodeURIComponent(SECRET)} ${b64}"`);
    const dir = tempProject({ 'dify-ci.yml': text });
    const ok = await runCli(['config', '--env', 'staging'], { cwd: dir, env: { DIFY_STAGING_PASSWORD: SECRET } });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /name: \*\*\* \*\*\* \*\*\*/);
    assert.match(ok.stdout, /DIFY_STAGING_PASSWORD: "\*\*\*"/, 'set secrets are shown as ***');
    const bad = await runCli(['context', '--env', SECRET, '--json'], { cwd: dir, env: { DIFY_STAGING_PASSWORD: SECRET } });
    assert.equal(bad.code, 2);
    const result = readFileSync(join(dir, '.dify-ci/results/context.json'), 'utf8');
    for (const out of [ok.stdout, ok.stderr, bad.stdout, bad.stderr, result]) {
      assert.ok(!out.includes(SECRET), 'raw secret leaked');
      assert.ok(!out.includes(encodeURIComponent(SECRET)), 'URL-encoded secret leaked');
      assert.ok(!out.includes(b64.slice(0, 16)), 'Base64 secret leaked');
    }
    assert.match(bad.stderr, /unknown environment '\*\*\*'/);
  });
});
