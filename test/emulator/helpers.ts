/** Test helpers for the emulator: a cookie-jar HTTP client, SSE parsing and small DSL builders. */
import { stringify } from 'yaml';
import type { Emulator } from '../../runner/src/emulator/index.js';
import { SpecValidator } from './openapi-validator.js';

/**
 * Every service-API response that goes through `service()` is validated against Dify's OpenAPI file (blocking
 * bodies, each SSE event, error envelopes). Fault tests switch it off: their bodies are broken on purpose.
 */
export const specCheck = { enabled: true, validator: undefined as SpecValidator | undefined };

const ROUTES: [RegExp, string][] = [
  [/^\/info$/, '/info'],
  [/^\/parameters$/, '/parameters'],
  [/^\/meta$/, '/meta'],
  [/^\/chat-messages$/, '/chat-messages'],
  [/^\/completion-messages$/, '/completion-messages'],
  [/^\/workflows\/run$/, '/workflows/run'],
  [/^\/workflows\/[^/]+\/run$/, '/workflows/{workflow_id}/run'],
  [/^\/site$/, '/site'],
  [/^\/messages$/, '/messages'],
  [/^\/messages\/[^/]+\/feedbacks$/, '/messages/{message_id}/feedbacks'],
  [/^\/conversations$/, '/conversations'],
  [/^\/conversations\/[^/]+$/, '/conversations/{conversation_id}'],
  [/^\/conversations\/[^/]+\/name$/, '/conversations/{conversation_id}/name'],
  [/^\/conversations\/[^/]+\/variables$/, '/conversations/{conversation_id}/variables'],
  [/^\/conversations\/[^/]+\/variables\/[^/]+$/, '/conversations/{conversation_id}/variables/{variable_id}'],
  [/^\/files\/upload$/, '/files/upload'],
  [/^\/workflows\/run\/[^/]+$/, '/workflows/run/{workflow_run_id}'],
  [/^\/workflows\/logs$/, '/workflows/logs'],
  [/^\/datasets$/, '/datasets'],
  [/^\/datasets\/[^/]+$/, '/datasets/{dataset_id}'],
  [/^\/datasets\/[^/]+\/document\/create[-_]by[-_]text$/, '/datasets/{dataset_id}/document/create-by-text'],
  [/^\/datasets\/[^/]+\/document\/create[-_]by[-_]file$/, '/datasets/{dataset_id}/document/create-by-file'],
  [/^\/datasets\/[^/]+\/documents\/metadata$/, '/datasets/{dataset_id}/documents/metadata'],
  [/^\/datasets\/[^/]+\/documents\/status\/[^/]+$/, '/datasets/{dataset_id}/documents/status/{action}'],
  [/^\/datasets\/[^/]+\/documents\/[^/]+\/update[-_]by[-_]file$/, '/datasets/{dataset_id}/documents/{document_id}/update-by-file'],
  [/^\/datasets\/[^/]+\/documents\/[^/]+\/segments$/, '/datasets/{dataset_id}/documents/{document_id}/segments'],
  [/^\/datasets\/[^/]+\/documents\/[^/]+\/segments\/[^/]+$/, '/datasets/{dataset_id}/documents/{document_id}/segments/{segment_id}'],
  [/^\/datasets\/[^/]+\/retrieve$/, '/datasets/{dataset_id}/retrieve'],
  [/^\/datasets\/[^/]+\/metadata$/, '/datasets/{dataset_id}/metadata'],
  [/^\/datasets\/[^/]+\/metadata\/built-in$/, '/datasets/{dataset_id}/metadata/built-in'],
  [/^\/datasets\/[^/]+\/metadata\/built-in\/[^/]+$/, '/datasets/{dataset_id}/metadata/built-in/{action}'],
  [/^\/datasets\/[^/]+\/metadata\/[^/]+$/, '/datasets/{dataset_id}/metadata/{metadata_id}'],
  [/^\/datasets\/[^/]+\/documents$/, '/datasets/{dataset_id}/documents'],
  [/^\/datasets\/[^/]+\/documents\/[^/]+\/indexing-status$/, '/datasets/{dataset_id}/documents/{batch}/indexing-status'],
  [/^\/datasets\/[^/]+\/documents\/[^/]+\/update[-_]by[-_]text$/, '/datasets/{dataset_id}/documents/{document_id}/update-by-text'],
  [/^\/datasets\/[^/]+\/documents\/[^/]+$/, '/datasets/{dataset_id}/documents/{document_id}'],
];
const BLOCKING: Record<string, string> = {
  '/info': 'AppInfoResponse',
  '/parameters': 'AppParametersResponse',
  '/meta': 'AppMetaResponse',
  '/chat-messages': 'ChatCompletionResponse',
  '/completion-messages': 'CompletionResponse',
  '/workflows/run': 'WorkflowBlockingResponse',
  '/workflows/{workflow_id}/run': 'WorkflowBlockingResponse',
};
const STREAM: Record<string, 'ChunkChatEvent' | 'ChunkCompletionEvent' | 'ChunkWorkflowEvent'> = {
  '/chat-messages': 'ChunkChatEvent',
  '/completion-messages': 'ChunkCompletionEvent',
  '/workflows/run': 'ChunkWorkflowEvent',
  '/workflows/{workflow_id}/run': 'ChunkWorkflowEvent',
};

function validateServiceResponse(method: string, path: string, res: Res): void {
  if (!specCheck.enabled) return;
  const route = ROUTES.find(([re]) => re.test(path.split('?')[0]!))?.[1];
  if (!route) return;
  const v = (specCheck.validator ??= new SpecValidator());
  if (res.status >= 400) {
    v.checkError(route, method, res.status, res.json);
    return;
  }
  if (res.status === 204) return;
  if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    const base = STREAM[route];
    if (base) for (const e of parseSse(res.text)) if (!e.ping) v.checkEvent(base, e);
    return;
  }
  if (BLOCKING[route]) v.check(BLOCKING[route]!, res.json, `${method} ${route}`);
  else if (v.spec.paths[route]?.[method.toLowerCase()]?.responses?.[String(res.status)]?.content?.['application/json']?.schema) {
    v.checkResponse(route, method, res.status, res.json);
  }
}

export interface Res {
  status: number;
  headers: Headers;
  text: string;
  json: any;
  setCookies: string[];
}

export class Client {
  cookies = new Map<string, string>();
  constructor(readonly base: string) {}

  csrf(): string | undefined {
    for (const [k, v] of this.cookies) if (k.endsWith('csrf_token')) return v;
    return undefined;
  }

  async req(
    method: string,
    path: string,
    opts: { body?: unknown; headers?: Record<string, string>; csrf?: boolean; cookies?: boolean; rawBody?: string } = {},
  ): Promise<Res> {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.body !== undefined || opts.rawBody !== undefined) headers['Content-Type'] ??= 'application/json';
    if (opts.cookies !== false && this.cookies.size > 0) {
      headers.Cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    }
    const c = this.csrf();
    if (opts.csrf !== false && c && opts.cookies !== false) headers['X-CSRF-Token'] ??= c;
    const r = await fetch(this.base + path, {
      method,
      headers,
      body: opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
    });
    const setCookies = r.headers.getSetCookie();
    for (const sc of setCookies) {
      const [kv, ...attrs] = sc.split(';').map((s) => s.trim());
      const i = kv!.indexOf('=');
      const name = kv!.slice(0, i);
      const value = kv!.slice(i + 1);
      if (attrs.some((a) => /^max-age=0$/i.test(a)) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await r.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: r.status, headers: r.headers, text, json, setCookies };
  }

  async login(email: string, password: string): Promise<Res> {
    return this.req('POST', '/console/api/login', {
      body: { email, password: Buffer.from(password, 'utf8').toString('base64'), remember_me: true, invite_token: null },
    });
  }
}

export async function adminClient(emu: Emulator): Promise<Client> {
  const c = new Client(emu.url);
  const r = await c.login(emu.admin.email, emu.admin.password);
  if (r.status !== 200) throw new Error(`login failed: ${r.status} ${r.text}`);
  return c;
}

export type SseEvent = Record<string, any>;

export function parseSse(text: string): SseEvent[] {
  const out: SseEvent[] = [];
  for (const block of text.split('\n\n')) {
    if (!block.trim()) continue;
    if (block === 'event: ping') out.push({ ping: true });
    else if (block.startsWith('data: ')) out.push(JSON.parse(block.slice(6)));
    else throw new Error(`unexpected SSE block: ${JSON.stringify(block)}`);
  }
  return out;
}

/** Reads a /v1 answer and validates it against the spec. */
async function serviceAnswer(method: string, path: string, r: Response): Promise<Res> {
  const text = await r.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const res: Res = { status: r.status, headers: r.headers, text, json, setCookies: [] };
  validateServiceResponse(method, path, res);
  return res;
}

export async function service(emu: Emulator, key: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res> {
  const r = await fetch(emu.url + '/v1' + path, {
    method,
    headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return serviceAnswer(method, path, r);
}

/** A multipart request to the service API (document uploads), validated like `service()`. */
export async function serviceForm(emu: Emulator, key: string, method: string, path: string, form: FormData): Promise<Res> {
  return serviceAnswer(method, path, await fetch(emu.url + '/v1' + path, { method, headers: { Authorization: `Bearer ${key}` }, body: form }));
}

/** A form with one `file` part (and the `data` JSON string when given). */
export function uploadForm(name: string, content: string | Buffer, data?: unknown, type = 'text/plain'): FormData {
  const f = new FormData();
  if (data !== undefined) f.append('data', JSON.stringify(data));
  f.append('file', new Blob([content], { type }), name);
  return f;
}

// ---- DSL builders ----
const start = (vars: { variable: string; required?: boolean; type?: string }[]) => ({
  id: 'start',
  type: 'custom',
  data: {
    type: 'start',
    title: 'Start',
    variables: vars.map((v) => ({ variable: v.variable, label: v.variable, type: v.type ?? 'text-input', required: v.required ?? true, max_length: 256, options: [] })),
  },
});
const edge = (s: string, t: string, h = 'source') => ({ id: `${s}-${h}-${t}`, source: s, target: t, sourceHandle: h, targetHandle: 'target', type: 'custom' });

export function workflowDsl(opts: { name?: string; version?: string; prompt?: string; env?: unknown[]; datasetIds?: string[]; tool?: boolean } = {}): string {
  const nodes: unknown[] = [
    start([{ variable: 'q' }]),
    {
      id: 'llm',
      type: 'custom',
      data: {
        type: 'llm',
        title: 'LLM',
        model: { provider: 'langgenius/openai/openai', name: 'gpt-4o', mode: 'chat', completion_params: {} },
        prompt_template: [
          { role: 'system', text: opts.prompt ?? 'You are terse.' },
          { role: 'user', text: '{{#start.q#}}' },
        ],
      },
    },
    { id: 'end', type: 'custom', data: { type: 'end', title: 'End', outputs: [{ variable: 'result', value_selector: ['llm', 'text'] }] } },
  ];
  const edges = [edge('start', 'llm'), edge('llm', 'end')];
  if (opts.datasetIds) {
    nodes.push({ id: 'kr', type: 'custom', data: { type: 'knowledge-retrieval', title: 'KR', dataset_ids: opts.datasetIds, query_variable_selector: ['start', 'q'], retrieval_mode: 'multiple' } });
  }
  if (opts.tool) {
    nodes.push({ id: 'tool', type: 'custom', data: { type: 'tool', title: 'Tool', provider_id: 'time', provider_type: 'builtin', tool_name: 'current_time', tool_parameters: {}, credential_id: 'cred-123' } });
  }
  return stringify({
    app: { name: opts.name ?? 'wf', mode: 'workflow', icon: '🤖', icon_background: '#FFEAD5', description: '' },
    kind: 'app',
    version: opts.version ?? '0.6.0',
    dependencies: [],
    workflow: {
      graph: { nodes, edges },
      features: {},
      environment_variables: opts.env ?? [],
      conversation_variables: [],
    },
  });
}

export function chatflowDsl(name = 'cf'): string {
  return stringify({
    app: { name, mode: 'advanced-chat', icon: '🤖', icon_background: '#FFEAD5', description: '' },
    kind: 'app',
    version: '0.6.0',
    workflow: {
      graph: {
        nodes: [
          start([]),
          {
            id: 'llm',
            type: 'custom',
            data: {
              type: 'llm',
              title: 'LLM',
              model: { provider: 'openai', name: 'gpt-4o', mode: 'chat', completion_params: {} },
              prompt_template: [{ role: 'system', text: 'Be kind.' }],
              memory: { window: { enabled: false }, query_prompt_template: '{{#sys.query#}}' },
            },
          },
          { id: 'answer', type: 'custom', data: { type: 'answer', title: 'Answer', answer: '{{#llm.text#}}' } },
        ],
        edges: [edge('start', 'llm'), edge('llm', 'answer')],
      },
      features: { opening_statement: 'hi' },
      environment_variables: [],
      conversation_variables: [],
    },
  });
}

export function chatDsl(mode: 'chat' | 'agent-chat' | 'completion' = 'chat', name = 'bot'): string {
  return stringify({
    app: { name, mode, icon: '🤖', icon_background: '#FFEAD5', description: 'd' },
    kind: 'app',
    version: '0.6.0',
    model_config: {
      model: { provider: 'openai', name: 'gpt-4o-mini', mode: mode === 'completion' ? 'completion' : 'chat', completion_params: {} },
      pre_prompt: mode === 'completion' ? 'Translate {{text}}' : 'You help with {{topic}}.',
      user_input_form: mode === 'completion' ? [{ paragraph: { label: 'text', variable: 'text', required: true, default: '' } }] : [{ 'text-input': { label: 'topic', variable: 'topic', required: false, default: '' } }],
      agent_mode: { enabled: mode === 'agent-chat', strategy: 'function_call', tools: mode === 'agent-chat' ? [{ provider_id: 'time', tool_name: 'current_time', credential_id: 'x' }] : [] },
    },
  });
}

export async function importApp(c: Client, yaml: string, extra: Record<string, unknown> = {}): Promise<Res> {
  return c.req('POST', '/console/api/apps/imports', { body: { mode: 'yaml-content', yaml_content: yaml, ...extra } });
}

/** Import + publish (workflow modes) + key: ready for the service API. */
export async function deployApp(c: Client, yaml: string): Promise<{ appId: string; key: string }> {
  const imp = await importApp(c, yaml);
  if (imp.status !== 200) throw new Error(`import failed: ${imp.text}`);
  const appId = imp.json.app_id as string;
  if (['workflow', 'advanced-chat'].includes(imp.json.app_mode)) {
    const p = await c.req('POST', `/console/api/apps/${appId}/workflows/publish`, { body: {} });
    if (p.status !== 200) throw new Error(`publish failed: ${p.text}`);
  }
  const k = await c.req('POST', `/console/api/apps/${appId}/api-keys`);
  return { appId, key: k.json.token as string };
}
