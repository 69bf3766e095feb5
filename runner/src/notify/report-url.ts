/** The link to the build's report in a message: notify.reportUrl (a template), else Jenkins' artifact URL. */
import { configError } from '../core/errors.js';
import { positionOf } from '../yaml/source.js';
import type { NotifyConfig, ResolvedConfig } from '../config/types.js';
import type { JenkinsInfo } from './jenkins.js';
import { checkNames, parseTemplate, renderNodes, TemplateSyntaxError } from './template.js';

export type ReportUrl = (ctx: { reportPath?: string; jenkins: JenkinsInfo; env?: string }) => string | undefined;

function hasPath(v: unknown, path: string[]): boolean {
  for (const k of path) {
    if (v === null || typeof v !== 'object' || !(k in v)) return false;
    v = (v as Record<string, unknown>)[k];
  }
  return true;
}

const encodePath = (s: string) => s.split('/').map(encodeURIComponent).join('/');

/** notify.reportUrl may use {{job}}, {{buildNumber}}, {{buildUrl}}, {{buildTag}}, {{env}}, {{reportPath}}; else Jenkins' artifact URL. */
export function reportUrlFn(config: ResolvedConfig, notify: NotifyConfig): ReportUrl {
  const tpl = notify.reportUrl;
  let nodes: ReturnType<typeof parseTemplate> | undefined;
  if (tpl) {
    const vocab = { names: ['job', 'buildNumber', 'buildUrl', 'buildTag', 'env', 'reportPath'] };
    const envPath = config.env ? ['environments', config.env.key, 'notify', 'reportUrl'] : undefined;
    const position = positionOf(config.source, envPath && hasPath(config.source.value, envPath) ? envPath : ['notify', 'reportUrl']);
    try {
      nodes = parseTemplate(tpl);
    } catch (e) {
      if (e instanceof TemplateSyntaxError) throw configError(`notify.reportUrl: ${e.message}`, { position });
      throw e;
    }
    const problems = checkNames(nodes, vocab);
    if (problems.length) throw configError(`notify.reportUrl: ${problems[0]!.message}`, { position });
  }
  return ({ reportPath, jenkins, env }) => {
    if (nodes) {
      const view = { job: jenkins.job, buildNumber: jenkins.buildNumber, buildUrl: jenkins.buildUrl, buildTag: jenkins.buildTag, env, reportPath };
      // Each value is URL-encoded (slashes kept): a job or path name cannot change the link's host.
      const esc = (s: string) => (s === view.buildUrl ? s : encodePath(s));
      return renderNodes(nodes, [view], esc);
    }
    if (reportPath && jenkins.buildUrl) return `${jenkins.buildUrl.replace(/\/?$/, '/')}artifact/${encodePath(reportPath.replace(/^\.\//, ''))}`;
    return undefined;
  };
}
