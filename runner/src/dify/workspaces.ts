/**
 * The workspace a console client acts on. Needed to read knowledge-base ids in exports, which Dify encrypts with a
 * key derived from the workspace id (dify-api.md §9.7).
 */
import { log } from '../core/log.js';
import type { ConsoleClient } from './console.js';

const cache = new WeakMap<ConsoleClient, Promise<string | undefined>>();

/** The id of the client's workspace, or undefined when the server does not say. */
export function currentWorkspaceId(c: ConsoleClient): Promise<string | undefined> {
  if (c.workspaceId) return Promise.resolve(c.workspaceId);
  let p = cache.get(c);
  if (!p) {
    p = c
      .call({ method: 'GET', path: '/workspaces/current', what: 'read the current workspace', allow: [404] })
      .then((res) => {
        const id = (res.body as { id?: unknown } | undefined)?.id;
        return typeof id === 'string' ? id : undefined;
      })
      .catch((e: Error) => {
        log.debug(`cannot read the current workspace: ${e.message}`);
        return undefined;
      });
    cache.set(c, p);
  }
  return p;
}
