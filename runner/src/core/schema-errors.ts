/**
 * Turns Ajv errors into messages with file:line:column, one per real problem. Used for the config, smoke suites and
 * tenant files: every user-written file reports errors the same way.
 */
import type { ErrorObject } from './ajv.js';
import { closest } from './ajv.js';
import type { SourcePosition } from './errors.js';
import { pathToString, pointerToPath, positionOf, type PathSegment, type SourceDoc } from '../yaml/source.js';

export interface SchemaProblem {
  message: string;
  position: SourcePosition;
}
type Ranked = SchemaProblem & { rank: number };

function allowedKeys(schema: unknown): string[] {
  const props = (schema as { properties?: Record<string, unknown> } | undefined)?.properties;
  return props ? Object.keys(props) : [];
}

export function schemaProblems(src: SourceDoc, errors: ErrorObject[]): SchemaProblem[] {
  // With a discriminator, Ajv reports the branch errors; drop the generic oneOf/if noise.
  const relevant = errors.filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'if' && e.keyword !== 'anyOf');
  const list = relevant.length > 0 ? relevant : errors;
  const out: SchemaProblem[] = [];
  const seen = new Set<string>();
  for (const e of list) {
    const path: PathSegment[] = pointerToPath(e.instancePath);
    let message: string;
    let position: SourcePosition;
    switch (e.keyword) {
      case 'additionalProperties': {
        const key = (e.params as { additionalProperty: string }).additionalProperty;
        const hint = closest(key, allowedKeys(e.parentSchema));
        position = positionOf(src, [...path, key], { key: true });
        message = `unknown key '${key}' in ${pathToString(path)}` + (hint ? ` (did you mean '${hint}'?)` : '');
        break;
      }
      case 'required': {
        const missing = (e.params as { missingProperty: string }).missingProperty;
        position = positionOf(src, path, { key: true });
        message = `${pathToString(path)} is missing required key '${missing}'`;
        break;
      }
      case 'enum': {
        const allowed = (e.params as { allowedValues: unknown[] }).allowedValues;
        position = positionOf(src, path);
        message = `${pathToString(path)} must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`;
        break;
      }
      case 'const': {
        position = positionOf(src, path);
        message = `${pathToString(path)} must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`;
        break;
      }
      case 'discriminator': {
        position = positionOf(src, [...path, 'mode']);
        const p = e.params as { error: string; tag: string; tagValue?: unknown };
        message =
          p.error === 'mapping'
            ? `${pathToString([...path, p.tag])} has unknown value ${JSON.stringify(p.tagValue)}`
            : `${pathToString(path)} needs '${p.tag}'`;
        const branches = ((e.parentSchema as { oneOf?: { properties?: { mode?: { const?: string } } }[] })?.oneOf ?? [])
          .map((b) => b.properties?.mode?.const)
          .filter(Boolean);
        if (branches.length) message += ` (one of ${branches.join(', ')})`;
        break;
      }
      case 'propertyNames': {
        position = positionOf(src, path, { key: true });
        message = `${pathToString(path)} has an invalid key`;
        break;
      }
      case 'pattern': {
        const last = path[path.length - 1];
        position = positionOf(src, path);
        if (e.propertyName !== undefined || (typeof last === 'string' && e.schemaPath.includes('propertyNames'))) {
          message = `invalid name '${e.propertyName ?? last}' (allowed: ${(e.params as { pattern: string }).pattern})`;
        } else {
          message = `${pathToString(path)} must match ${(e.params as { pattern: string }).pattern}`;
        }
        break;
      }
      default: {
        position = positionOf(src, path);
        message = `${pathToString(path)} ${e.message ?? 'is invalid'}`;
      }
    }
    const k = `${position.line}:${position.column}:${message}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ message, position, rank: e.keyword === 'additionalProperties' ? 0 : 1 } as SchemaProblem);
  }
  // A typo shows up as "unknown key" and as "missing required key" on the same line: lead with the typo.
  return out
    .sort((a, b) => (a.position.line ?? 0) - (b.position.line ?? 0) || ((a as Ranked).rank - (b as Ranked).rank))
    .map(({ message, position }) => ({ message, position }));
}
