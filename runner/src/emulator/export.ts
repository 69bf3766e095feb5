/** Export (§4): `{"data": yaml}` of the draft or a published version, secrets blanked, knowledge ids encrypted. */
import type { Core } from './core.js';
import { dumpYaml } from './dsl.js';
import { HttpError, invalidParam, json, type Reply } from './http.js';
import { WORKFLOW_MODES } from './apps.js';
import type { App, WorkflowRow } from './state.js';
import { deepClone, encryptDatasetId, isObject } from './util.js';
import { variableView } from './variables.js';

export class ExportError extends Error {}

function scrubWorkflow(app: App, w: WorkflowRow, includeSecret: boolean): Record<string, unknown> {
  const graph = deepClone(w.graph);
  for (const node of Array.isArray(graph.nodes) ? graph.nodes : []) {
    const nd = isObject(node) && isObject(node.data) ? node.data : undefined;
    if (!nd) continue;
    if (nd.type === 'knowledge-retrieval' && Array.isArray(nd.dataset_ids)) {
      nd.dataset_ids = nd.dataset_ids.map((d) => encryptDatasetId(String(d), app.workspaceId));
    }
    if (!includeSecret && nd.type === 'tool') delete nd.credential_id;
    if (!includeSecret && nd.type === 'agent') {
      const tools = (nd.agent_parameters as { tools?: { value?: unknown } } | undefined)?.tools?.value;
      if (Array.isArray(tools)) for (const t of tools) if (isObject(t)) delete t.credential_id;
    }
    if (nd.type === 'trigger-webhook') {
      if ('webhook_url' in nd) nd.webhook_url = '';
      if ('webhook_debug_url' in nd) nd.webhook_debug_url = '';
    }
    if (nd.type === 'trigger-plugin' && 'subscription_id' in nd) nd.subscription_id = '';
  }
  return {
    graph,
    features: deepClone(w.features),
    environment_variables: w.environment_variables.map((v) => {
      const view = variableView(v, false);
      if (v.value_type === 'secret' && !includeSecret) view.value = '';
      return view;
    }),
    conversation_variables: w.conversation_variables.map((v) => variableView(v, false)),
    rag_pipeline_variables: [],
  };
}

export function exportDsl(core: Core, app: App, includeSecret: boolean, workflowId?: string): string {
  const out: Record<string, unknown> = {
    version: core.opts.dslVersion,
    kind: 'app',
    app: {
      name: app.name,
      mode: app.mode,
      icon: app.icon_type === 'image' ? '🤖' : app.icon,
      icon_background: app.icon_type === 'image' ? '#FFEAD5' : app.icon_background,
      description: app.description,
      use_icon_as_answer_icon: app.use_icon_as_answer_icon,
    },
  };
  if (WORKFLOW_MODES.includes(app.mode)) {
    const w = workflowId ? app.versions.find((v) => v.id === workflowId) : app.draft ?? undefined;
    if (!w) throw new ExportError('Missing draft workflow configuration, please check.');
    out.workflow = scrubWorkflow(app, w, includeSecret);
    out.dependencies = deepClone(app.dependencies);
  } else {
    if (!app.modelConfig) throw invalidParam('Missing app configuration, please check.');
    const mc = deepClone(app.modelConfig);
    const tools = (mc.agent_mode as { tools?: unknown } | undefined)?.tools;
    if (Array.isArray(tools)) for (const t of tools) if (isObject(t)) delete t.credential_id;
    out.model_config = mc;
    out.dependencies = deepClone(app.dependencies);
  }
  return dumpYaml(out);
}

export function exportReply(core: Core, app: App, includeSecret: boolean, workflowId: string | undefined, missingStatus: 404 | 500): Reply {
  try {
    return json(200, { data: exportDsl(core, app, includeSecret, workflowId) });
  } catch (e) {
    if (e instanceof ExportError) {
      if (missingStatus === 500) throw new HttpError(500, { message: 'Internal Server Error', code: 'unknown', status: 500 });
      throw new HttpError(404, { code: 'not_found', message: e.message, status: 404 });
    }
    throw e;
  }
}
