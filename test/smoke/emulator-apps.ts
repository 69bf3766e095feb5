/** Apps for smoke tests against the emulator, created through its console API with the admin key. */
import { startEmulator, type Emulator, type EmulatorOptions } from '../../runner/src/emulator/index.js';

export const ADMIN_KEY = 'dify-ci-admin-key-for-smoke-tests';

const LLM_MODEL = { provider: 'openai', name: 'gpt-4o-mini', mode: 'chat', completion_params: { temperature: 0 } };

const chatModelConfig = (form: unknown[]) => ({
  model: LLM_MODEL,
  pre_prompt: 'You are a polite support agent. Customer tier: {{customer_tier}}.',
  prompt_type: 'simple',
  user_input_form: form,
  opening_statement: '',
  suggested_questions: [],
  agent_mode: { enabled: false, strategy: 'function_call', tools: [] },
  dataset_configs: { datasets: { datasets: [] }, retrieval_model: 'single' },
});

export function chatDsl(name: string, mode: 'chat' | 'agent-chat' | 'completion' = 'chat'): string {
  const form = mode === 'completion' ? [{ paragraph: { label: 'Text', variable: 'text', required: true } }] : [{ 'text-input': { label: 'Customer tier', variable: 'customer_tier', required: true, max_length: 48 } }];
  const mc = chatModelConfig(form);
  if (mode === 'agent-chat') mc.agent_mode = { enabled: true, strategy: 'function_call', tools: [] };
  if (mode === 'completion') mc.pre_prompt = 'Summarise: {{text}}';
  return JSON.stringify({ version: '0.6.0', kind: 'app', app: { name, mode, icon: 'x', icon_background: '#FFF', description: '' }, model_config: mc, dependencies: [] });
}

function node(id: string, data: Record<string, unknown>) {
  return { id, type: 'custom', data, position: { x: 0, y: 0 } };
}
function edge(source: string, target: string) {
  return { id: `${source}-${target}`, source, target, sourceHandle: 'source', targetHandle: 'target', type: 'custom', data: {} };
}

const FEATURES = { opening_statement: '', suggested_questions: [], file_upload: { enabled: false }, retriever_resource: { enabled: false } };

/** Workflow: Start(text) → LLM → End(result = LLM text). */
export function workflowDsl(name: string): string {
  const nodes = [
    node('start', { type: 'start', title: 'Start', variables: [{ variable: 'text', label: 'text', type: 'text-input', required: true }] }),
    node('llm', { type: 'llm', title: 'LLM', model: LLM_MODEL, prompt_template: [{ role: 'user', text: 'Upper-case this: {{#start.text#}}' }], context: { enabled: false } }),
    node('end', { type: 'end', title: 'End', outputs: [{ variable: 'result', value_selector: ['llm', 'text'], value_type: 'string' }] }),
  ];
  return JSON.stringify({
    version: '0.6.0',
    kind: 'app',
    app: { name, mode: 'workflow', icon: 'x', icon_background: '#FFF', description: '' },
    workflow: { graph: { nodes, edges: [edge('start', 'llm'), edge('llm', 'end')] }, features: FEATURES, environment_variables: [], conversation_variables: [] },
    dependencies: [],
  });
}

/** Chatflow: Start → LLM (with memory) → Answer. */
export function chatflowDsl(name: string): string {
  const nodes = [
    node('start', { type: 'start', title: 'Start', variables: [] }),
    node('llm', { type: 'llm', title: 'LLM', model: LLM_MODEL, prompt_template: [{ role: 'system', text: 'Be brief.' }], memory: { window: { enabled: false, size: 10 }, query_prompt_template: '{{#sys.query#}}' }, context: { enabled: false } }),
    node('answer', { type: 'answer', title: 'Answer', answer: '{{#llm.text#}}' }),
  ];
  return JSON.stringify({
    version: '0.6.0',
    kind: 'app',
    app: { name, mode: 'advanced-chat', icon: 'x', icon_background: '#FFF', description: '' },
    workflow: { graph: { nodes, edges: [edge('start', 'llm'), edge('llm', 'answer')] }, features: FEATURES, environment_variables: [], conversation_variables: [] },
    dependencies: [],
  });
}

export class EmulatorApps {
  constructor(readonly emu: Emulator) {}

  static async start(opts: EmulatorOptions = {}): Promise<EmulatorApps> {
    return new EmulatorApps(await startEmulator({ port: 0, adminApiKey: ADMIN_KEY, ...opts }));
  }

  get apiUrl(): string {
    return `${this.emu.url}/v1`;
  }

  async console(method: string, path: string, body?: unknown): Promise<any> {
    const res = await fetch(`${this.emu.url}/console/api${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'x-workspace-id': this.emu.workspaceId, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  }

  /** Imports a DSL, publishes workflow apps, and returns the app id and a fresh service API key. */
  async create(dsl: string): Promise<{ appId: string; apiKey: string }> {
    const imp = await this.console('POST', '/apps/imports', { mode: 'yaml-content', yaml_content: dsl });
    if (imp.status !== 'completed' && imp.status !== 'completed-with-warnings') throw new Error(`import ${imp.status}: ${imp.error}`);
    const appId = imp.app_id as string;
    if (imp.app_mode === 'workflow' || imp.app_mode === 'advanced-chat') await this.console('POST', `/apps/${appId}/workflows/publish`, {});
    const key = await this.console('POST', `/apps/${appId}/api-keys`);
    return { appId, apiKey: key.token as string };
  }

  close(): Promise<void> {
    return this.emu.close();
  }
}
