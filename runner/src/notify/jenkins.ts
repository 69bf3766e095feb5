/** What notify says about the build, from the Jenkins environment (BRANCH_NAME, GIT_*, CHANGE_*, BUILD_*). */

export interface JenkinsInfo {
  job?: string;
  buildNumber?: string;
  buildUrl?: string;
  buildTag?: string;
  commit?: string;
  branch?: string;
  changeId?: string;
  changeUrl?: string;
  changeAuthor?: string;
  changeTitle?: string;
}

export function jenkinsInfo(environ: NodeJS.ProcessEnv): JenkinsInfo {
  const e = (k: string) => environ[k]?.trim() || undefined;
  const branch = e('BRANCH_NAME') ?? e('GIT_BRANCH')?.replace(/^(refs\/heads\/|origin\/)/, '');
  return {
    job: e('JOB_NAME'),
    buildNumber: e('BUILD_NUMBER'),
    buildUrl: e('BUILD_URL'),
    buildTag: e('BUILD_TAG'),
    commit: e('GIT_COMMIT'),
    branch,
    changeId: e('CHANGE_ID'),
    changeUrl: e('CHANGE_URL'),
    changeAuthor: e('CHANGE_AUTHOR_DISPLAY_NAME') ?? e('CHANGE_AUTHOR'),
    changeTitle: e('CHANGE_TITLE'),
  };
}
