/** Models: LLM-type nodes and chat apps must name a provider and a model; parameters should be in sane ranges. */
import type { PathSegment } from '../../yaml/source.js';
import { isRecord, type GraphNode } from '../graph.js';
import { nodeLabel } from './graph.js';
import type { Rule, RuleContext } from './context.js';

/** Node types whose `data.model` is a {provider, name, mode, completion_params} mapping. */
export const LLM_NODE_TYPES = new Set(['llm', 'question-classifier', 'parameter-extractor']);

export interface ModelUse {
  /** The mapping holding provider/name (null when missing). */
  model: Record<string, unknown> | null;
  provider: unknown;
  name: unknown;
  params: Record<string, unknown> | null;
  path: PathSegment[];
  /** Where the name lives (`name` for nodes and model_config, `model` for agent nodes). */
  nameKey: string;
  label: string;
  node?: GraphNode;
}

/** Every model the app uses: LLM-type nodes, agent nodes, and model_config of chat apps. */
export function modelUses(ctx: RuleContext): ModelUse[] {
  const out: ModelUse[] = [];
  for (const n of ctx.graph?.executable ?? []) {
    if (LLM_NODE_TYPES.has(n.type)) {
      const m = isRecord(n.data.model) ? n.data.model : null;
      out.push({
        model: m,
        provider: m?.provider,
        name: m?.name,
        params: m && isRecord(m.completion_params) ? m.completion_params : null,
        path: [...n.path, 'data', 'model'],
        nameKey: 'name',
        label: nodeLabel(n),
        node: n,
      });
    } else if (n.type === 'agent') {
      const ap = isRecord(n.data.agent_parameters) ? n.data.agent_parameters : null;
      const m = ap && isRecord(ap.model) && isRecord(ap.model.value) ? ap.model.value : null;
      if (m) {
        out.push({
          model: m,
          provider: m.provider,
          name: m.model,
          params: isRecord(m.completion_params) ? m.completion_params : null,
          path: [...n.path, 'data', 'agent_parameters', 'model', 'value'],
          nameKey: 'model',
          label: nodeLabel(n),
          node: n,
        });
      }
    }
  }
  if (ctx.mode && !['workflow', 'advanced-chat'].includes(ctx.mode) && isRecord(ctx.value.model_config)) {
    const m = isRecord(ctx.modelConfig.model) ? ctx.modelConfig.model : null;
    out.push({
      model: m,
      provider: m?.provider,
      name: m?.name,
      params: m && isRecord(m.completion_params) ? m.completion_params : null,
      path: ['model_config', 'model'],
      nameKey: 'name',
      label: 'model_config',
    });
  }
  return out;
}

/** Plugin-era providers are qualified (`langgenius/openai/openai`); policies usually name the short form. */
export function shortProvider(p: string): string {
  const parts = p.split('/');
  return parts[parts.length - 1]!;
}

const RANGES: Record<string, [number, number]> = {
  temperature: [0, 2],
  top_p: [0, 1],
  presence_penalty: [-2, 2],
  frequency_penalty: [-2, 2],
  top_k: [0, 1000],
  max_tokens: [1, 2_000_000],
};

export const modelRules: Rule[] = [
  {
    id: 'DSL080',
    name: 'model-missing',
    group: 'model',
    severity: 'error',
    requires: 'app',
    summary: 'LLM-type nodes and chat apps must have a model with provider and name',
    help: 'llm, question-classifier and parameter-extractor nodes (and chat, agent-chat and completion apps) need `model: {provider, name, mode, completion_params}`. Without it the node fails at run time.',
    check(ctx) {
      for (const u of modelUses(ctx)) {
        if (!u.model) {
          ctx.report(`${u.label} has no model mapping (provider, name, mode, completion_params)`, u.path.slice(0, -1), { key: false });
          continue;
        }
        if (typeof u.provider !== 'string') ctx.report(`${u.label}: model.provider is missing`, u.path, { key: true });
        if (typeof u.name !== 'string') ctx.report(`${u.label}: model.${u.nameKey} is missing`, u.path, { key: true });
      }
    },
  },
  {
    id: 'DSL081',
    name: 'model-not-configured',
    group: 'model',
    severity: 'warning',
    requires: 'app',
    summary: 'Model provider or name is empty',
    help: 'An exported node whose model was never chosen has `provider: \'\'` and `name: \'\'`. Dify imports it but the node fails when it runs. Choose a model in the editor and export again.',
    check(ctx) {
      for (const u of modelUses(ctx)) {
        if (!u.model) continue;
        if (u.provider === '') ctx.report(`${u.label}: model provider is empty (not configured)`, [...u.path, 'provider']);
        if (u.name === '') ctx.report(`${u.label}: model name is empty (not configured)`, [...u.path, u.nameKey]);
      }
    },
  },
  {
    id: 'DSL082',
    name: 'model-parameter-range',
    group: 'model',
    severity: 'warning',
    requires: 'app',
    summary: 'Model parameter outside its usual range',
    help: 'temperature 0–2, top_p 0–1, presence/frequency penalty −2–2, max_tokens ≥ 1. Providers reject or clamp values outside these ranges.',
    check(ctx) {
      for (const u of modelUses(ctx)) {
        if (!u.params) continue;
        for (const [k, [lo, hi]] of Object.entries(RANGES)) {
          const v = u.params[k];
          if (v === undefined || v === null) continue;
          const p = [...u.path, 'completion_params', k];
          if (typeof v !== 'number') ctx.report(`${u.label}: ${k} is ${JSON.stringify(v)}, not a number`, p);
          else if (v < lo || v > hi) ctx.report(`${u.label}: ${k} ${v} is outside ${lo}–${hi}`, p);
        }
      }
    },
  },
];
