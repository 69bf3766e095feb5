/**
 * What every knowledge route starts with (`controllers/service_api/wraps.py` `validate_dataset_token`): a workspace
 * dataset key (`dataset-…`), then the dataset of that workspace (else `404 "Dataset not found."`) with API access on
 * (else `403 "Dataset api access is not enabled."`); the key acts as the workspace owner.
 */
import { apiKeyOf } from './api-key-auth.js';
import type { Core } from './core.js';
import { Ctx, envelope } from './http.js';
import type { Dataset } from './kb-model.js';
import type { ApiKey } from './state.js';

export const datasetKey = (core: Core, ctx: Ctx): ApiKey => apiKeyOf(core, ctx, 'dataset');

export function datasetOf(core: Core, key: ApiKey, id: string): Dataset {
  const ds = core.store.data.datasets[id.toLowerCase()];
  if (!ds || ds.workspaceId !== key.workspaceId) throw envelope(404, 'not_found', 'Dataset not found.');
  if (!ds.enableApi) throw envelope(403, 'forbidden', 'Dataset api access is not enabled.');
  return ds;
}

/** The key's dataset from the `ds` path parameter. */
export function keyedDataset(core: Core, ctx: Ctx): { key: ApiKey; ds: Dataset } {
  const key = datasetKey(core, ctx);
  return { key, ds: datasetOf(core, key, ctx.params.ds!) };
}

/** The workspace owner the dataset key logs in as. */
export const ownerOf = (core: Core, key: ApiKey): string => core.store.ownerOf(key.workspaceId)?.id ?? '';

/** `time.strftime("%Y%m%d%H%M%S") + str(100000 + randbelow(900000))` (the server's clock: UTC). */
export function newBatch(core: Core): string {
  const iso = new Date(core.clock.nowMs()).toISOString();
  return iso.slice(0, 19).replace(/[-:T]/g, '') + String(100000 + Math.floor(Math.random() * 900000));
}

/** `model_dump(exclude_unset)` style readers of a JSON body field. */
export const str = (b: Record<string, unknown>, k: string): string | undefined => (typeof b[k] === 'string' ? (b[k] as string) : undefined);
