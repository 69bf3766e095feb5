/** Shared by the DSL tests: the real fixtures and a one-call validator over text. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DSL_FIXTURES } from '../helpers/shared.js';
import { parseDslText } from '../../runner/src/dsl/parse.js';
import { validateDsl } from '../../runner/src/dsl/validate.js';
import type { Finding, ValidateOptions } from '../../runner/src/dsl/types.js';

export { lineOf } from '../helpers/cli.js';

export const FIXTURES = DSL_FIXTURES;

/** `dify-official/x.yml` style names of every fixture. */
export function fixtureNames(): string[] {
  const out: string[] = [];
  for (const dir of ['dify-official', 'community']) for (const f of readdirSync(join(FIXTURES, dir)).sort()) if (/\.ya?ml$/.test(f)) out.push(`${dir}/${f}`);
  return out;
}

export function fixture(name: string): string {
  const exact = join(FIXTURES, name);
  try {
    return readFileSync(exact, 'utf8');
  } catch {
    // Community names are long: allow a unique prefix such as `community/54-`.
    const [dir, prefix] = name.split('/') as [string, string];
    const hits = readdirSync(join(FIXTURES, dir)).filter((f) => f.startsWith(prefix));
    if (hits.length !== 1) throw new Error(`fixture ${name}: ${hits.length} matches`);
    return readFileSync(join(FIXTURES, dir, hits[0]!), 'utf8');
  }
}

export function check(text: string, options: ValidateOptions = {}, name = 'app.yml'): Finding[] {
  return validateDsl(parseDslText(text, { name }), options);
}

export const ids = (fs: Finding[], severity?: Finding['severity']) => fs.filter((f) => !severity || f.severity === severity).map((f) => f.ruleId);

/** Replaces exactly one occurrence (fails the test if the fixture changed and the text is not there once). */
export function replaceOnce(text: string, search: string, replacement: string): string {
  const i = text.indexOf(search);
  if (i < 0 || text.indexOf(search, i + 1) >= 0) throw new Error(`'${search.slice(0, 60)}' occurs ${i < 0 ? 0 : 'more than 1'} times`);
  return text.slice(0, i) + replacement + text.slice(i + search.length);
}
