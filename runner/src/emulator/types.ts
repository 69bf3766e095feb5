/** The emulator's public option and rule types (see /docs/emulator.md). */
import type { PluginsDecl } from './plugins.js';

export type { PluginsDecl };

export type AuthEra = 'modern' | 'legacy';
export type Role = 'owner' | 'admin' | 'editor' | 'normal';
export type AppMode = 'chat' | 'agent-chat' | 'advanced-chat' | 'workflow' | 'completion';

export interface FaultRule {
  /** Glob over the path: `*` one segment, `**` any. */
  route?: string;
  regex?: string;
  method?: string;
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
  drop?: boolean;
  truncate?: boolean;
  malformed?: boolean;
  slowSseMs?: number;
  afterResponse?: boolean;
  times?: number;
  probability?: number;
}

export interface ScriptRule {
  app?: string;
  workspace?: string;
  query?: string;
  answer?: string;
  outputs?: Record<string, unknown>;
  latencyMs?: number;
  usage?: { prompt_tokens?: number; completion_tokens?: number };
  error?: { code?: string; message?: string; status?: number; afterChunks?: number };
  nodeFailure?: string;
  cutAfterChunks?: number;
  times?: number;
}

export interface EmulatorOptions {
  host?: string;
  port?: number;
  dslVersion?: string;
  authEra?: AuthEra;
  secureCookies?: boolean;
  openapi?: boolean;
  adminApiKey?: string;
  admin?: { email: string; password: string };
  latencyMs?: number;
  jitterMs?: number;
  seed?: number;
  faults?: FaultRule[];
  script?: ScriptRule[];
  statePath?: string;
  loginFailureLimit?: number;
  /** Default per-app max active requests (an app's own `max_active_requests` wins); 0/undefined = unlimited. */
  appConcurrencyLimit?: number;
  /** Idle time before an SSE `event: ping` (Dify: 10 s). Tests lower it. */
  pingIntervalMs?: number;
  /** `/openapi/v1` requests per token per sliding 60 s (Dify default 60; 0 = off). */
  openapiRateLimit?: number;
  /** SSE payload style: `python` (`json.dumps`, Dify ≤ 1.14) or `compact` (orjson, ≥ 1.15). */
  sseJson?: 'python' | 'compact';
  /** Base URL the emulator reports (api_base_url); defaults to its own URL. */
  publicUrl?: string;
  /** Known Dify bugs to reproduce (§10): see QUIRKS. */
  quirks?: Quirk[];
  /**
   * Start as an uninstalled Dify: no seeded account or workspace, `GET /console/api/setup` → `not_started` and every
   * `setup_required` console route → 401 `not_setup` until `POST /console/api/setup` creates the owner. A loaded
   * `statePath` that already holds accounts is an installed instance: it is used as it is.
   */
  fresh?: boolean;
  /** Dify's `COOKIE_DOMAIN` (§1.1): cookies get `Domain=` and never the `__Host-` prefix (even with secureCookies). */
  cookieDomain?: string;
  /** With statePath: service-API (`/v1`) changes are written at most this long after the request (default 200 ms). */
  stateWriteDelayMs?: number;
  /**
   * What the draft `hash` covers (dify-api.md §5.1): `graph+features` (default: the Dify releases of 2024–2025) or
   * `graph` (the newest, 2026: a features-only edit leaves the hash unchanged).
   */
  draftHash?: 'graph+features' | 'graph';
  /**
   * Installed plugins (check-dependencies reports the DSL dependencies a workspace lacks): a list for every workspace,
   * or a map from workspace id or name (`*` = all) to a list of `author/name[:version[@checksum]]`. Default: none, as
   * on a fresh Dify. Replaces the plugins of a loaded `statePath`.
   */
  plugins?: PluginsDecl;
  /**
   * The seeded owner's account time zone (IANA), which the statistics group days by (§12). Default
   * `America/New_York`: what Dify gives an owner who set up in en-US (`language_timezone_mapping`).
   */
  timezone?: string;
  /** Emulated time each indexing stage of a knowledge document takes (waiting → … → completed); default 400 ms. */
  indexingStepMs?: number;
}

/**
 * `chatflow-streams-blocking`: advanced-chat answers `response_mode: blocking` with an SSE stream (#32391, 1.13.0).
 * `blocking-workflow-empty-outputs`: a successful blocking workflow run returns empty `outputs` (#33721, 1.13.1).
 */
export const QUIRKS = ['chatflow-streams-blocking', 'blocking-workflow-empty-outputs'] as const;
export type Quirk = (typeof QUIRKS)[number];

export interface EmulatorStats {
  requests: number;
  logins: number;
  byRoute: Record<string, number>;
  /** How often the state file was written (with statePath). */
  stateWrites: number;
}
