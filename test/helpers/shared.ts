/**
 * Where the project's shared material lives (Dify's API contract, its OpenAPI files, real exported DSL): beside the
 * checkout as `../shared`, or at /work/shared when the checkout is a throwaway clone elsewhere. DIFY_CI_SHARED wins.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const candidates = [process.env.DIFY_CI_SHARED, resolve(ROOT, '../shared'), '/work/shared'].filter((p): p is string => !!p);
const found = candidates.find((p) => existsSync(join(p, 'fixtures/dify-dsl')));
if (!found) throw new Error(`shared material not found (looked in ${candidates.join(', ')}); set DIFY_CI_SHARED`);

export const SHARED: string = found;
export const DSL_FIXTURES = process.env.DIFY_DSL_FIXTURES ?? join(SHARED, 'fixtures/dify-dsl');
export const OPENAPI_DIR = join(SHARED, 'dify-openapi');
