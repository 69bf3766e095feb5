/**
 * The deterministic model (documented in docs/emulator.md): an LLM answer is a function of its rendered prompt,
 * token counts are chars/4, prices are fixed. The graph walk that calls it is in graph.ts.
 */
import { toText } from './model-values.js';
import { sha256Hex } from './util.js';

// ---- the model itself ----
export function llmText(modelName: string, prompt: string, echo: string): string {
  return `[${modelName || 'model'}] ${sha256Hex(prompt).slice(0, 8)} ${echo}`.trimEnd();
}

export const countTokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4));

/** Words with their trailing whitespace: how answers are streamed. */
export function chunkText(text: string): string[] {
  const parts = text.match(/\s*\S+\s*/g);
  return parts && parts.length > 0 ? parts : text ? [text] : [];
}

function price(units: number): string {
  // units of 1e-7 USD, printed like Decimal.quantize(Decimal('0.0000001'))
  const s = String(units).padStart(8, '0');
  return `${s.slice(0, -7)}.${s.slice(-7)}`;
}

export interface Usage {
  prompt_tokens: number;
  prompt_unit_price: string;
  prompt_price_unit: string;
  prompt_price: string;
  completion_tokens: number;
  completion_unit_price: string;
  completion_price_unit: string;
  completion_price: string;
  total_tokens: number;
  total_price: string;
  currency: string;
  latency: number;
}

/** Prices: 0.001 per 1k prompt tokens and 0.002 per 1k completion tokens (unit 0.001), as strings. */
export function makeUsage(promptTokens: number, completionTokens: number, latencySec: number): Usage {
  const p = promptTokens * 10;
  const c = completionTokens * 20;
  return {
    prompt_tokens: promptTokens,
    prompt_unit_price: '0.001',
    prompt_price_unit: '0.001',
    prompt_price: price(p),
    completion_tokens: completionTokens,
    completion_unit_price: '0.002',
    completion_price_unit: '0.001',
    completion_price: price(c),
    total_tokens: promptTokens + completionTokens,
    total_price: price(p + c),
    currency: 'USD',
    latency: latencySec,
  };
}
export const totalPriceNumber = (u: Usage): number => Number(u.total_price);

/** `{{var}}` placeholders of chat-app pre_prompts. */
export function renderSimple(template: unknown, inputs: Record<string, unknown>): string {
  if (typeof template !== 'string') return '';
  return template.replace(/\{\{([a-zA-Z_][a-zA-Z0-9_]{0,59})\}\}/g, (m, name: string) => (name in inputs ? toText(inputs[name]) : m));
}
