/** The draft workflow row of an app: created on first import or sync, replaced by later ones. */
import type { Core } from './core.js';
import type { App, WorkflowRow } from './state.js';

export function newDraft(core: Core, app: App, accountId: string, fields: Partial<WorkflowRow>): WorkflowRow {
  const now = core.clock.nowSec();
  return {
    id: core.newId(),
    appId: app.id,
    version: 'draft',
    graph: fields.graph ?? {},
    features: fields.features ?? {},
    environment_variables: fields.environment_variables ?? [],
    conversation_variables: fields.conversation_variables ?? [],
    marked_name: '',
    marked_comment: '',
    createdBy: accountId,
    createdAt: now,
    updatedBy: null,
    updatedAt: now,
  };
}

/** Replace (or create) the draft: Dify's sync_draft_workflow. */
export function syncDraft(core: Core, app: App, accountId: string, fields: Pick<WorkflowRow, 'graph' | 'features' | 'environment_variables' | 'conversation_variables'>): WorkflowRow {
  if (!app.draft) app.draft = newDraft(core, app, accountId, fields);
  else {
    Object.assign(app.draft, fields);
    app.draft.updatedBy = accountId;
    app.draft.updatedAt = core.clock.nowSec();
  }
  app.updatedAt = core.clock.nowSec();
  return app.draft;
}
