/** Fault rules (`--faults FILE`, `emu.setFaults`): which request a rule hits, and how often. */
import type { Core } from './core.js';
import type { FaultRule } from './types.js';
import { globToRegExp } from './util.js';

export interface ActiveFault {
  rule: FaultRule;
}

const compiled = new WeakMap<FaultRule, RegExp>();

function routeRe(rule: FaultRule): RegExp | undefined {
  let re = compiled.get(rule);
  if (!re) {
    if (rule.regex) re = new RegExp(rule.regex);
    else if (rule.route) re = globToRegExp(rule.route);
    else return undefined;
    compiled.set(rule, re);
  }
  return re;
}

/** The first rule that matches and still has uses left (a probability miss does not consume a use). */
export function pickFault(core: Core, method: string, path: string): ActiveFault | undefined {
  for (const c of core.faults) {
    const r = c.rule;
    if (r.method && r.method.toUpperCase() !== method) continue;
    const re = routeRe(r);
    if (re && !re.test(path)) continue;
    if (r.times !== undefined && c.used >= r.times) continue;
    if (r.probability !== undefined && !(core.rng.next() < r.probability)) continue;
    c.used++;
    return { rule: r };
  }
  return undefined;
}

export function validateFaults(rules: unknown): FaultRule[] {
  if (!Array.isArray(rules)) throw new Error('faults must be a list of rules');
  return rules.map((r, i) => {
    if (r === null || typeof r !== 'object' || Array.isArray(r)) throw new Error(`fault rule ${i + 1} must be a mapping`);
    const rule = r as FaultRule;
    if (!rule.route && !rule.regex) throw new Error(`fault rule ${i + 1} needs 'route' or 'regex'`);
    if (rule.regex) {
      try {
        new RegExp(rule.regex);
      } catch (e) {
        throw new Error(`fault rule ${i + 1}: invalid regex: ${(e as Error).message}`);
      }
    }
    if (rule.status !== undefined && (!Number.isInteger(rule.status) || rule.status < 100 || rule.status > 599)) {
      throw new Error(`fault rule ${i + 1}: status must be an HTTP status code`);
    }
    if (rule.probability !== undefined && (typeof rule.probability !== 'number' || rule.probability < 0 || rule.probability > 1)) {
      throw new Error(`fault rule ${i + 1}: probability must be between 0 and 1`);
    }
    return rule;
  });
}
