/** Which commit and build a deploy comes from: Jenkins variables first, git as a fallback. */
import { execFileSync } from 'node:child_process';
import { runCwd, runEnv } from '../core/run.js';
import { log } from '../core/log.js';

export interface BuildInfo {
  gitCommit: string | null;
  buildUrl: string | null;
  /** The branch built (BRANCH_NAME, else GIT_BRANCH without `origin/`): the every-nth approval rule counts by it. */
  branch: string | null;
  /** `marked_name` for publish: the short commit (≤ 20 chars). */
  markedName: string;
  /** `marked_comment` for publish: build URL or tag (≤ 100 chars). */
  markedComment: string;
}

export function buildInfo(environ: NodeJS.ProcessEnv = runEnv(), cwd = runCwd()): BuildInfo {
  let commit = environ.GIT_COMMIT?.trim() || null;
  if (!commit) {
    try {
      commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim() || null;
    } catch (e) {
      // Outside a git checkout (or without git) the commit is unknown, which the history records as null.
      log.debug(`no git commit: ${(e as Error).message.split('\n')[0]}`);
      commit = null;
    }
  }
  const url = environ.BUILD_URL?.trim() || null;
  const tag = environ.BUILD_TAG?.trim() || null;
  const comment = url && url.length <= 100 ? url : tag && tag.length <= 100 ? tag : (url ?? tag ?? '').slice(0, 100);
  const branch = environ.BRANCH_NAME?.trim() || environ.GIT_BRANCH?.trim().replace(/^(refs\/heads\/|origin\/)/, '') || null;
  return {
    gitCommit: commit,
    buildUrl: url ?? tag,
    branch,
    markedName: commit ? commit.slice(0, 12) : 'dify-ci',
    markedComment: comment,
  };
}
