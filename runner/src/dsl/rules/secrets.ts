/**
 * Secrets: credentials must never be in a DSL file in Git. Exports with include_secret=true, env vars of type
 * string holding keys, and API keys typed into http-request nodes all end up there.
 */
import type { PathSegment } from '../../yaml/source.js';
import { findCredentials, isCredentialName, isCredentialValue, isPlaceholder, maskCredential } from '../credentials.js';
import { isRecord } from '../graph.js';
import { templateReferences } from '../references.js';
import { pathToString } from '../../yaml/source.js';
import type { Rule, RuleContext } from './context.js';

const FIX = "move it to a secret environment variable (value_type: secret, value: '') set in Dify";

/** Env var names used where credentials go: auth headers, authorization.config.api_key, credential-named fields. */
function envVarsUsedAsCredentials(ctx: RuleContext): Set<string> {
  const out = new Set<string>();
  for (const s of ctx.strings) {
    if (s.value.indexOf('{{#env.') < 0) continue;
    const lines = s.key === 'headers' ? s.value.split('\n').filter((l) => isCredentialName(l.split(':')[0]!.trim())) : typeof s.key === 'string' && isCredentialName(s.key) ? [s.value] : [];
    for (const line of lines) for (const r of templateReferences(line).refs) if (r[0] === 'env' && r[1]) out.add(r[1]);
  }
  return out;
}

export const secretRules: Rule[] = [
  {
    id: 'DSL070',
    name: 'secret-env-value',
    group: 'secrets',
    severity: 'error',
    requires: 'workflow',
    summary: 'A `secret` environment variable has a value in the file',
    help: 'Dify blanks secret values on export unless include_secret=true was used. A secret in the DSL ends up in Git history. Set `value: \'\'` and set the value in Dify (dify-ci deploy can fill it from a Jenkins credential).',
    check(ctx) {
      const list = ctx.workflow.environment_variables;
      if (!Array.isArray(list)) return;
      list.forEach((v, i) => {
        if (isRecord(v) && v.value_type === 'secret' && typeof v.value === 'string' && v.value !== '') {
          ctx.secretValues.push(v.value);
          ctx.report(`secret environment variable '${String(v.name)}' has a value in the file (${maskCredential(v.value)}): set value: '' and keep the secret in Dify`, ['workflow', 'environment_variables', i, 'value']);
        }
      });
    },
  },
  {
    id: 'DSL071',
    name: 'credential-in-dsl',
    group: 'secrets',
    severity: 'error',
    requires: 'mapping',
    summary: 'A string looks like a credential (API key, token, password)',
    help: 'Provider keys (sk-…), Dify keys (app-…, dataset-…), cloud keys, bearer tokens in headers and random values in fields named like credentials must not be committed. Revoke the key if it was ever pushed, then reference it through a secret environment variable.',
    check(ctx) {
      const seen = new Set<string>();
      const flag = (value: string, what: (masked: string) => string, path: PathSegment[]) => {
        const k = `${pathToString(path)}\u0000${value}`;
        if (seen.has(k)) return;
        seen.add(k);
        ctx.secretValues.push(value);
        ctx.report(`${what(maskCredential(value))}: ${FIX}`, path);
      };
      const envList = Array.isArray(ctx.workflow.environment_variables) ? ctx.workflow.environment_variables : [];
      const secretEnvValues = new Set(envList.filter((v) => isRecord(v) && v.value_type === 'secret').map((v) => `${(v as Record<string, unknown>).value}`));
      for (const s of ctx.strings) {
        for (const c of findCredentials(s.value)) if (!secretEnvValues.has(s.value)) flag(c.value, (m) => `credential-like string (${c.kind}) ${m}`, s.path);
        const key = s.key;
        if (typeof key === 'string' && isCredentialName(key) && isCredentialValue(s.value)) flag(s.value, (m) => `'${key}' holds a literal credential ${m}`, s.path);
      }
      const used = envVarsUsedAsCredentials(ctx);
      envList.forEach((v, i) => {
        if (!isRecord(v) || v.value_type === 'secret' || typeof v.value !== 'string' || typeof v.name !== 'string') return;
        const asCredential = used.has(v.name) || isCredentialName(v.name);
        if (asCredential && !isPlaceholder(v.value) && isCredentialValue(v.value)) {
          const name = v.name;
          const how = used.has(name) ? ' used in an auth header or key field' : '';
          flag(v.value, (m) => `environment variable '${name}' (value_type ${String(v.value_type)}) holds a credential ${m}${how}`, ['workflow', 'environment_variables', i, 'value']);
        }
      });
    },
  },
];
