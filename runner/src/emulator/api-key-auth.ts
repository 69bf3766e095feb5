/**
 * Service-API key checks (`api/controllers/service_api/wraps.py`): the `Authorization` header (S1/S2), the key and
 * its kind (S3: an app key on a knowledge route and vice versa is invalid), then the app's state (S4).
 */
import type { Core } from './core.js';
import { Ctx, HttpError, envelope } from './http.js';
import type { ApiKey, App } from './state.js';

const WWW_AUTH = { 'WWW-Authenticate': 'Bearer realm="api"' };
const unauthorized = (message: string): HttpError => new HttpError(401, { code: 'unauthorized', message, status: 401 }, WWW_AUTH);

/** `validate_and_get_api_token(scope)`; marks the key used. */
export function apiKeyOf(core: Core, ctx: Ctx, kind: ApiKey['type']): ApiKey {
  const h = ctx.header('authorization');
  if (!h || !h.includes(' ')) throw unauthorized("Authorization header must be provided and start with 'Bearer'");
  const i = h.search(/\s/);
  if (h.slice(0, i).toLowerCase() !== 'bearer') throw unauthorized("Authorization scheme must be 'Bearer'");
  const key = core.store.keyByToken(h.slice(i).trim());
  if (!key || key.type !== kind) throw unauthorized('Access token is invalid');
  key.lastUsedAt = core.clock.nowSec();
  return key;
}

/** `validate_app_token`: the key's app, refused while deleted, with its API off, or in an archived workspace. */
export function appAuth(core: Core, ctx: Ctx): { app: App; key: ApiKey } {
  const key = apiKeyOf(core, ctx, 'app');
  const app = core.store.data.apps[key.appId];
  if (!app) throw envelope(403, 'forbidden', 'The app no longer exists.');
  if (!app.enable_api) throw envelope(403, 'forbidden', "The app's API service has been disabled.");
  if (core.store.data.workspaces[app.workspaceId]?.status === 'archived') throw envelope(403, 'forbidden', "The workspace's status is archived.");
  return { app, key };
}
