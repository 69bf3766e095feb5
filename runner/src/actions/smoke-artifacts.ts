/** The artifact kinds of the smoke reports, as the Jenkins steps know them (difySmoke publishes `junit`). */
import type { SmokeReports } from '../results/smoke.js';
import type { ActionContext } from './action.js';

const KINDS: Record<keyof SmokeReports, string> = { json: 'smoke-json', junit: 'junit', markdown: 'smoke-markdown', html: 'smoke-html' };

/** Lists the reports a smoke run wrote as artifacts of the command. */
export function recordSmokeReports(ctx: Pick<ActionContext, 'artifact'>, reports: SmokeReports): void {
  for (const [format, path] of Object.entries(reports) as [keyof SmokeReports, string | undefined][]) if (path) ctx.artifact(path, KINDS[format]);
}
