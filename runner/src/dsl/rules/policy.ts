/**
 * Policy: an organisation's own rules from `validate.policy` in dify-ci.yml, enforced the same way in every tenant
 * repository. Only active when the policy sets them.
 */
import type { Rule } from './context.js';
import { modelUses, shortProvider } from './model.js';

/** `*` matches any run of characters; matching is case-insensitive. */
export function globMatch(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
  return re.test(value);
}

export const policyRules: Rule[] = [
  {
    id: 'DSL090',
    name: 'policy-provider',
    group: 'policy',
    severity: 'error',
    requires: 'app',
    summary: 'Model provider not in validate.policy.allowedProviders',
    help: 'The organisation allows only the providers listed in validate.policy.allowedProviders (short `openai` or qualified `langgenius/openai/openai`; `*` wildcards).',
    check(ctx) {
      const allowed = ctx.options.policy?.allowedProviders;
      if (!allowed) return;
      for (const u of modelUses(ctx)) {
        if (typeof u.provider !== 'string' || !u.provider) continue;
        if (!allowed.some((a) => globMatch(a, u.provider as string) || globMatch(a, shortProvider(u.provider as string)))) {
          ctx.report(`${u.label}: provider '${u.provider}' is not allowed by validate.policy.allowedProviders (${allowed.join(', ')})`, [...u.path, 'provider']);
        }
      }
    },
  },
  {
    id: 'DSL091',
    name: 'policy-model',
    group: 'policy',
    severity: 'error',
    requires: 'app',
    summary: 'Model not in validate.policy.allowedModels',
    help: 'The organisation allows only the models in validate.policy.allowedModels: a model name (`gpt-4o`), or `provider/model` (`openai/gpt-4o*`), with `*` wildcards.',
    check(ctx) {
      const allowed = ctx.options.policy?.allowedModels;
      if (!allowed) return;
      for (const u of modelUses(ctx)) {
        if (typeof u.name !== 'string' || !u.name) continue;
        const prov = typeof u.provider === 'string' ? u.provider : '';
        const forms = [u.name, `${prov}/${u.name}`, `${shortProvider(prov)}/${u.name}`];
        if (!allowed.some((a) => forms.some((f) => globMatch(a, f)))) {
          ctx.report(`${u.label}: model '${u.name}' is not allowed by validate.policy.allowedModels (${allowed.join(', ')})`, [...u.path, u.nameKey]);
        }
      }
    },
  },
  {
    id: 'DSL092',
    name: 'policy-temperature',
    group: 'policy',
    severity: 'error',
    requires: 'app',
    summary: 'temperature above validate.policy.maxTemperature',
    help: 'The organisation caps the sampling temperature (validate.policy.maxTemperature) for predictable answers.',
    check(ctx) {
      const max = ctx.options.policy?.maxTemperature;
      if (max === undefined) return;
      for (const u of modelUses(ctx)) {
        const t = u.params?.temperature;
        if (typeof t === 'number' && t > max) ctx.report(`${u.label}: temperature ${t} is above validate.policy.maxTemperature ${max}`, [...u.path, 'completion_params', 'temperature']);
      }
    },
  },
  {
    id: 'DSL093',
    name: 'policy-node-type',
    group: 'policy',
    severity: 'error',
    requires: 'app',
    summary: 'Node type forbidden by validate.policy.forbiddenNodeTypes',
    help: 'The organisation forbids some node types (for example `code` or `http-request`) in its apps.',
    check(ctx) {
      const forbidden = ctx.options.policy?.forbiddenNodeTypes;
      if (!forbidden?.length) return;
      for (const n of ctx.graph?.executable ?? []) {
        if (forbidden.includes(n.type)) ctx.report(`node '${n.id}' is a ${n.type} node, forbidden by validate.policy.forbiddenNodeTypes`, [...n.path, 'data', 'type']);
      }
    },
  },
  {
    id: 'DSL094',
    name: 'policy-description',
    group: 'policy',
    severity: 'error',
    requires: 'app',
    summary: 'app.description required by validate.policy.requireDescription',
    help: 'The organisation requires every app to say what it does in app.description.',
    check(ctx) {
      if (!ctx.options.policy?.requireDescription) return;
      const d = ctx.app.description;
      if (typeof d !== 'string' || d.trim() === '') ctx.report('app.description is empty; validate.policy.requireDescription requires one', d === undefined ? ['app'] : ['app', 'description'], { key: d === undefined });
    },
  },
];
