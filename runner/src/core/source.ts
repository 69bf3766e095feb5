/**
 * User files read in the current run: paths against the run's working directory, and every problem a DifyCiError
 * of the caller's category (config → exit 2, input → exit 2 …) with the file:line:column yaml/source.ts found.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { DifyCiError, type ErrorCategory } from './errors.js';
import { runCwd } from './run.js';
import * as yaml from '../yaml/source.js';
import type { SourceDoc, YamlVersion } from '../yaml/source.js';

export interface ParseOptions {
  version?: YamlVersion;
  category?: ErrorCategory;
}

function categorised<T>(category: ErrorCategory, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof yaml.SourceError) throw new DifyCiError(e.message, category, { position: e.position, details: e.details });
    throw e;
  }
}

export function readSourceFile(file: string, category: ErrorCategory = 'config'): string {
  let buf: Buffer;
  try {
    buf = readFileSync(resolve(runCwd(), file));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    throw new DifyCiError(`cannot read ${file}: ${why}`, category, { position: { file } });
  }
  return decodeUtf8(buf, file, category);
}

export function decodeUtf8(buf: Buffer, file: string, category: ErrorCategory = 'input'): string {
  return categorised(category, () => yaml.decodeUtf8(buf, file));
}

export function parseSource(file: string, text: string, opts: ParseOptions = {}): SourceDoc {
  return categorised(opts.category ?? 'config', () => yaml.parseSource(file, text, opts.version));
}

/** How a file is named in messages: relative to the working directory when inside it. */
export function displayPath(file: string, cwd = runCwd()): string {
  const r = relative(cwd, file);
  return r && !r.startsWith('..') && !isAbsolute(r) ? r : file;
}

export function loadSourceFile(file: string, opts: ParseOptions = {}): SourceDoc {
  const shown = displayPath(file);
  return parseSource(shown, readSourceFile(shown, opts.category ?? 'config'), opts);
}
