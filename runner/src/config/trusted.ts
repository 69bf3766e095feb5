/**
 * Untrusted builds (pull requests). A PR's own dify-ci.yml or tenant file could name any credential and any URL to
 * send it to, so in such a build the runner reads those files only from the copies Jenkins' `readTrusted` made
 * (the target branch's version, or a failure when an outsider changed the file): difyRun writes each one under
 * DIFY_CI_TRUSTED_DIR at its workspace path. A file not there yet is asked for by name (`context` answers
 * `needsTrusted`); nothing is read from the workspace in its place. DSL files stay the PR's: they are what the
 * build checks, offline.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { DifyCiError, configError } from '../core/errors.js';
import { runCwd, runEnv } from '../core/run.js';
import { decodeUtf8, displayPath, readSourceFile } from '../core/source.js';

export const TRUSTED_DIR_VAR = 'DIFY_CI_TRUSTED_DIR';

/** Where an untrusted build's readTrusted copies are, and the workspace whose paths they mirror. */
export interface TrustedSource {
  dir: string;
  workspace: string;
}

/** The readTrusted copies of an untrusted build (DIFY_CI_TRUSTED_DIR), else null: files come from the workspace. */
export function trustedSource(environ: NodeJS.ProcessEnv = runEnv(), cwd: string = runCwd()): TrustedSource | null {
  const d = environ[TRUSTED_DIR_VAR]?.trim();
  return d ? { dir: resolve(cwd, d), workspace: resolve(cwd) } : null;
}

/**
 * A build that binds no credential whatever the configuration says: one that reads through readTrusted, or any
 * pull request build (Jenkins sets CHANGE_ID), even when its steps forgot to.
 */
export function isUntrusted(source: TrustedSource | null, environ: NodeJS.ProcessEnv = runEnv()): boolean {
  return source !== null || Boolean(environ.CHANGE_ID?.trim());
}

/** An untrusted build needs this file through readTrusted before it can go on; `context` reports it. */
export class NeedsTrustedFile extends DifyCiError {
  constructor(readonly path: string) {
    super(`this untrusted build reads ${path} only through readTrusted (no copy under ${TRUSTED_DIR_VAR})`, 'usage');
  }
}

/** The path of `file` inside the workspace, with '/' separators; a file outside it cannot come through readTrusted. */
export function workspacePath(file: string, workspace: string): string {
  const rel = relative(workspace, resolve(workspace, file));
  if (!rel || rel.startsWith('..') || isAbsolute(rel)) {
    throw configError(`an untrusted build reads configuration files only from inside the workspace (got ${file})`, { position: { file } });
  }
  return rel.split(sep).join('/');
}

/** Whether a configuration or tenant file is there: its trusted copy in an untrusted build, the workspace's otherwise. */
export function configFileExists(file: string, source: TrustedSource | null): boolean {
  return existsSync(source ? join(source.dir, workspacePath(file, source.workspace)) : file);
}

/**
 * The text of a configuration or tenant file and the name errors show: the workspace file in a trusted build, the
 * readTrusted copy in an untrusted one (NeedsTrustedFile when there is none yet).
 */
export function readConfigText(file: string, source: TrustedSource | null): { shown: string; text: string } {
  if (!source) {
    const shown = displayPath(file);
    return { shown, text: readSourceFile(shown, 'config') };
  }
  const rel = workspacePath(file, source.workspace);
  const copy = join(source.dir, rel);
  if (!existsSync(copy)) throw new NeedsTrustedFile(rel);
  // Positions name the workspace path: that is the file the author edits.
  return { shown: rel, text: decodeUtf8(readFileSync(copy), rel, 'config') };
}
