/**
 * Checks made before any run call, from the app's mode (`/v1/info`) and input form (`/v1/parameters`): a missing
 * required input, a select value outside its options, a chat app without a query. Dify would answer each of these
 * with `400 invalid_param` one case at a time; here all of them come at once, with the suite's file:line.
 */
import type { SourcePosition } from '../core/errors.js';
import { CHAT_MODES, type InputField } from './service-api.js';
import type { AppMode, CaseSpec } from './types.js';

export interface PreflightProblem {
  message: string;
  position?: SourcePosition;
}

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || v === '';
}

export function preflight(mode: AppMode, form: InputField[], cases: CaseSpec[], label: string): { problems: PreflightProblem[]; warnings: string[] } {
  const problems: PreflightProblem[] = [];
  const warnings: string[] = [];
  const known = new Set(form.map((f) => f.variable));
  const unknownSeen = new Set<string>();
  for (const c of cases) {
    if (c.conversation && !CHAT_MODES.has(mode)) {
      problems.push({ position: c.position, message: `${label}: case '${c.name}' is a conversation, but the app is a ${mode} app (conversations need a chat, agent or chatflow app)` });
    }
    c.turns.forEach((t, i) => {
      const where = c.turns.length > 1 ? `case '${c.name}', turn ${i + 1}` : `case '${c.name}'`;
      const pos = t.position ?? c.position;
      if (CHAT_MODES.has(mode) && (t.query === undefined || t.query === '')) {
        problems.push({ position: pos, message: `${label}: ${where} has no query, which a ${mode} app requires` });
      }
      if (mode === 'workflow' && t.query !== undefined) {
        problems.push({ position: pos, message: `${label}: ${where} has a query, but workflow apps take only inputs (put the text in an input variable)` });
      }
      for (const f of form) {
        const v = t.inputs[f.variable];
        if (f.required && isEmpty(v)) {
          problems.push({
            position: pos,
            message: `${label}: ${where} lacks the required input '${f.variable}'${f.label && f.label !== f.variable ? ` ("${f.label}")` : ''} (${f.type}); add it under inputs: or defaults.inputs:`,
          });
        } else if (f.type === 'select' && f.options?.length && !isEmpty(v) && !f.options.includes(String(v))) {
          problems.push({ position: pos, message: `${label}: ${where}: input '${f.variable}' is ${JSON.stringify(v)}, not one of ${f.options.map((o) => JSON.stringify(o)).join(', ')}` });
        } else if (f.type === 'number' && !isEmpty(v) && !Number.isFinite(Number(v))) {
          problems.push({ position: pos, message: `${label}: ${where}: input '${f.variable}' must be a number, got ${JSON.stringify(v)}` });
        }
      }
      for (const k of Object.keys(t.inputs)) {
        if (!known.has(k) && !unknownSeen.has(k)) {
          unknownSeen.add(k);
          warnings.push(`${label}: input '${k}' is not in the app's input form (Dify ignores it)${form.length ? `; the form has ${form.map((f) => f.variable).join(', ')}` : ''}`);
        }
      }
    });
  }
  return { problems, warnings };
}
