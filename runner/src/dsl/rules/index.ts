/** The rule registry: every rule by id, in report order. Parse-time rules (DSL001–DSL004) are listed for docs/SARIF. */
import type { RuleMeta } from '../types.js';
import type { Rule } from './context.js';
import { graphRules } from './graph.js';
import { modelRules } from './model.js';
import { nodeRules } from './nodes.js';
import { policyRules } from './policy.js';
import { referenceRules } from './references.js';
import { secretRules } from './secrets.js';
import { structureRules } from './structure.js';
import { variableRules } from './variables.js';

export const PARSE_RULES: RuleMeta[] = [
  {
    id: 'DSL001',
    name: 'unreadable',
    group: 'parse',
    severity: 'error',
    summary: 'The file cannot be read as YAML/JSON the way Dify reads it',
    help: 'Syntax errors, text that is not UTF-8, raw control characters, files over 10 MB, multiple documents, unknown tags, nesting too deep and alias bombs all make Dify fail the import ("Invalid YAML format: …"). Fix the file at the position shown.',
  },
  {
    id: 'DSL002',
    name: 'duplicate-key',
    group: 'parse',
    severity: 'warning',
    summary: 'A mapping has the same key twice',
    help: 'PyYAML (and so Dify) keeps only the last value, silently dropping the first. Remove one of them.',
  },
  {
    id: 'DSL003',
    name: 'export-wrapper',
    group: 'parse',
    severity: 'warning',
    summary: 'The file is an export API response `{"data": "<yaml>"}`, not the DSL itself',
    help: 'Some backup scripts commit the raw export response. dify-ci unwraps it, but diffs are unreadable: commit the YAML in "data" instead.',
  },
  {
    id: 'DSL004',
    name: 'encoding-note',
    group: 'parse',
    severity: 'info',
    summary: 'Byte-order mark or CRLF line endings',
    help: 'Dify accepts both; they only make diffs and some tools noisy. Save as UTF-8 without BOM and with LF line endings.',
  },
  {
    id: 'DSL005',
    name: 'unstorable-value',
    group: 'parse',
    severity: 'error',
    summary: 'An unquoted value that PyYAML reads as a date, bytes or set, or an integer past 2^53',
    help: 'PyYAML (Dify\'s safe_load) turns an unquoted 2024-01-01 or 2024-01-01 10:00:00 into a Python date/datetime (and !!binary/!!set into bytes/a set), which Dify cannot store: json.dumps fails ("Object of type date is not JSON serializable") and the import fails. An integer beyond ±9007199254740992 is exact in Python but rounded by JavaScript — by dify-ci and by Dify\'s web editor on the next save. Quote the value to keep it text.',
  },
];

export const RULES: Rule[] = [...structureRules, ...graphRules, ...nodeRules, ...referenceRules, ...variableRules, ...secretRules, ...modelRules, ...policyRules];

export const RULES_BY_ID: ReadonlyMap<string, RuleMeta> = new Map<string, RuleMeta>([...PARSE_RULES, ...RULES].map((r) => [r.id, r]));

/** Metadata of every rule (for docs and SARIF), sorted by id. */
export function allRuleMeta(): RuleMeta[] {
  return [...RULES_BY_ID.values()]
    .map(({ id, name, group, severity, summary, help }) => ({ id, name, group, severity, summary, help }))
    .sort((a, b) => a.id.localeCompare(b.id));
}
