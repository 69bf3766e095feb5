/**
 * Preflight: everything a deploy can learn about its input without touching Dify, for every target, before the
 * first write. Dify does not check a graph on import (an edge to a missing node publishes fine and fails at run
 * time), and rendering needs every variable and secret; one bad target must not leave the others half-deployed.
 */
import { statSync } from 'node:fs';
import { DifyCiError } from '../core/errors.js';
import type { ResolvedConfig } from '../config/types.js';
import { validateFile } from '../dsl/validate.js';
import type { Finding } from '../dsl/types.js';
import { loadDsl, renderDsl } from './render.js';
import type { Target } from './targets.js';

/** The server decides about versions: a newer DSL is a pending import that `--allow-version-upgrade` confirms. */
const LEFT_TO_THE_SERVER = new Set(['DSL014']);

const validated = new Map<string, { version: string; errors: Finding[] }>();

/** Validation errors of one DSL file, cached per file version (a fan-out checks one file for hundreds of targets). */
function dslErrors(file: string, config: ResolvedConfig): Finding[] {
  const st = statSync(file, { throwIfNoEntry: false });
  const version = st ? `${st.mtimeMs}|${st.size}|${st.ino}` : '';
  const hit = validated.get(file);
  if (hit && version && hit.version === version) return hit.errors;
  const report = validateFile(file, { policy: config.validate.policy });
  const errors = report.findings.filter((f) => f.severity === 'error' && !LEFT_TO_THE_SERVER.has(f.ruleId));
  if (version) validated.set(file, { version, errors });
  return errors;
}

export function preflightTargets(config: ResolvedConfig, targets: Target[], environ?: NodeJS.ProcessEnv): void {
  const problems: string[] = [];
  const checked = new Set<string>();
  for (const t of targets) {
    try {
      if (!checked.has(t.app.dsl)) {
        checked.add(t.app.dsl);
        for (const f of dslErrors(t.app.dsl, config)) problems.push(`${f.file}:${f.line}:${f.column}: error ${f.ruleId}: ${f.message}`);
      }
      const source = loadDsl(t.app.dsl);
      const name = t.configuredName ?? String(source.app?.name ?? t.app.key);
      renderDsl(source, { env: t.env, name, variables: t.tenant?.variables, environ });
    } catch (e) {
      if (!(e instanceof DifyCiError)) throw e;
      problems.push(`${t.id}: ${e.oneLine()}`);
    }
  }
  if (problems.length === 0) return;
  throw new DifyCiError(`${problems.length} problem(s) in the input of this deploy; nothing was changed in Dify`, 'input', {
    details: [...problems, 'run `dify-ci validate` for the full report'],
  });
}
