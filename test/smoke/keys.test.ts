import { strict as assert } from 'node:assert';
import type { EnvironmentConfig } from '../../runner/src/config/types.js';
import { DifyCiError } from '../../runner/src/core/errors.js';
import { mask } from '../../runner/src/core/mask.js';
import { resolveApiKey } from '../../runner/src/smoke/keys.js';

function env(apps: EnvironmentConfig['apps']): EnvironmentConfig {
  return {
    key: 'staging',
    url: 'http://127.0.0.1:9',
    apiUrl: 'http://127.0.0.1:9/v1',
    auth: { mode: 'password', email: 'ci@example.com', passwordEnv: 'DIFY_PASSWORD_UNSET_FOR_TEST' },
    apps,
  } as unknown as EnvironmentConfig;
}

describe('smoke: API keys', () => {
  it('takes the configured env var and registers it for masking', async () => {
    const key = await resolveApiKey({ app: 'bot', env: env({ bot: { apiKeyEnv: 'BOT_KEY' } }), environ: { BOT_KEY: 'app-fromEnvVar0123456789abc' } });
    assert.equal(key, 'app-fromEnvVar0123456789abc');
    assert.equal(mask('key app-fromEnvVar0123456789abc'), 'key ***');
  });

  it('an explicit key wins over everything', async () => {
    assert.equal(await resolveApiKey({ app: 'bot', apiKey: 'app-explicit000000000000000', env: env({ bot: { apiKeyEnv: 'BOT_KEY' } }), environ: { BOT_KEY: 'other' } }), 'app-explicit000000000000000');
  });

  it('an unset key variable with no usable console names the variable (config error, exit 2)', async () => {
    await assert.rejects(resolveApiKey({ app: 'bot', env: env({ bot: { apiKeyEnv: 'BOT_KEY' } }), environ: {} }), (e: unknown) => {
      assert.ok(e instanceof DifyCiError);
      assert.equal(e.exitCode, 2);
      assert.match(e.message, /^no API key for app bot in staging: BOT_KEY is not set, and getting one through the console failed: /);
      assert.match(e.details.join('\n'), /bind BOT_KEY/);
      return true;
    });
  });

  it('without an environment or a key there is nothing to ask', async () => {
    await assert.rejects(resolveApiKey({ app: 'bot', environ: {} }), /no API key for app bot: give one/);
  });
});
