/**
 * The default email template (a TypeScript module so that it is part of the bundle). An org's template file has
 * the same three keys; see docs/notify.md.
 */
export const DEFAULT_EMAIL_TEMPLATE = {
  subject: '{{statusEmoji}} [dify-ci] {{title}}{{#buildNumber}} (#{{buildNumber}}){{/buildNumber}}',

  text: `{{statusEmoji}} {{title}}{{#fixed}} (fixed){{/fixed}}

{{#job}}
Build:       {{job}}{{#buildNumber}} #{{buildNumber}}{{/buildNumber}}
{{/job}}
{{#buildUrl}}
Build URL:   {{buildUrl}}
{{/buildUrl}}
{{#env}}
Environment: {{env}}
{{/env}}
{{#branch}}
Branch:      {{branch}}{{#shortCommit}} ({{shortCommit}}){{/shortCommit}}
{{/branch}}
{{#changeId}}
Change:      #{{changeId}}{{#changeTitle}} {{changeTitle}}{{/changeTitle}}{{#changeAuthor}} by {{changeAuthor}}{{/changeAuthor}}{{#changeUrl}} {{changeUrl}}{{/changeUrl}}
{{/changeId}}
{{#targetCount}}

Deployed ({{changedTargetCount}} changed of {{targetCount}}):
{{/targetCount}}
{{#targets}}
  - {{label}}: {{status}}{{#version}}, version {{version}}{{/version}}{{#unchanged}} (unchanged){{/unchanged}}{{#error}} — {{error}}{{/error}}
{{/targets}}
{{#changes}}

What changed in {{label}}: {{text}}
{{/changes}}
{{#smoke}}

Smoke tests: {{#passRate}}pass rate {{passRate}}{{/passRate}}{{#total}} ({{passed}}/{{total}}){{/total}}{{#p95}}, p95 {{p95}}{{/p95}}{{^passRate}}{{summary}}{{/passRate}}
{{#multipleRuns}}
{{#runs}}
  - {{label}}: {{passRate}}{{#p95}}, p95 {{p95}}{{/p95}}
{{/runs}}
{{/multipleRuns}}
{{/smoke}}
{{#rollback}}

Rollback: {{summary}}
{{#targets}}
  - {{label}}: {{status}}{{#version}}, version {{version}}{{/version}}
{{/targets}}
{{/rollback}}
{{#validate}}

Validation: {{errors}} error(s), {{warnings}} warning(s)
{{/validate}}
{{#failureCount}}

Failures ({{failureCount}}):
{{/failureCount}}
{{#inlineFailures}}
  ! {{label}}: {{message}}
{{/inlineFailures}}
{{#reportUrl}}

Smoke report: {{reportUrl}}
{{/reportUrl}}
`,

  html: `<!doctype html>
<html><body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:14px;color:#1d1c1d">
<table role="presentation" cellpadding="0" cellspacing="0" style="max-width:720px;width:100%;border-left:4px solid {{statusColor}}">
<tr><td style="padding:12px 16px">
<h2 style="margin:0 0 8px 0;font-size:18px">{{statusEmoji}} {{title}}{{#fixed}} <span style="color:#2eb886">(fixed)</span>{{/fixed}}</h2>
<p style="margin:0 0 12px 0;color:#616061">
{{#job}}{{#buildUrl}}<a href="{{buildUrl}}">{{job}}{{#buildNumber}} #{{buildNumber}}{{/buildNumber}}</a>{{/buildUrl}}{{^buildUrl}}{{job}}{{#buildNumber}} #{{buildNumber}}{{/buildNumber}}{{/buildUrl}}{{/job}}
{{#branch}} · branch <code>{{branch}}</code>{{/branch}}{{#shortCommit}} · commit <code>{{shortCommit}}</code>{{/shortCommit}}
{{#changeId}} · {{#changeUrl}}<a href="{{changeUrl}}">change #{{changeId}}</a>{{/changeUrl}}{{^changeUrl}}change #{{changeId}}{{/changeUrl}}{{#changeAuthor}} by {{changeAuthor}}{{/changeAuthor}}{{/changeId}}
</p>
{{#env}}
<p style="margin:0 0 12px 0"><b>Environment:</b> {{env}}</p>
{{/env}}
{{#targetCount}}
<h3 style="margin:12px 0 4px 0;font-size:15px">Deployed ({{changedTargetCount}} changed of {{targetCount}})</h3>
<table cellpadding="4" cellspacing="0" style="border-collapse:collapse">
{{#targets}}
<tr><td>{{statusEmoji}}</td><td>{{label}}</td><td>{{#version}}<code>{{version}}</code>{{/version}}{{#unchanged}} (unchanged){{/unchanged}}</td><td style="color:#d0342c">{{error}}</td></tr>
{{/targets}}
</table>
{{/targetCount}}
{{#changes}}
<p style="margin:4px 0"><b>What changed in {{label}}:</b> {{text}}</p>
{{/changes}}
{{#smoke}}
<h3 style="margin:12px 0 4px 0;font-size:15px">Smoke tests</h3>
<p style="margin:0">{{#passRate}}Pass rate <b>{{passRate}}</b>{{/passRate}}{{#total}} ({{passed}}/{{total}}){{/total}}{{#p95}}, p95 latency {{p95}}{{/p95}}{{^passRate}}{{summary}}{{/passRate}}</p>
{{#multipleRuns}}
<ul>
{{#runs}}
<li>{{label}}: {{passRate}}{{#p95}}, p95 {{p95}}{{/p95}}</li>
{{/runs}}
</ul>
{{/multipleRuns}}
{{/smoke}}
{{#rollback}}
<h3 style="margin:12px 0 4px 0;font-size:15px">Rollback</h3>
<p style="margin:0">{{summary}}</p>
<ul>
{{#targets}}
<li>{{statusEmoji}} {{label}}{{#version}} → <code>{{version}}</code>{{/version}}</li>
{{/targets}}
</ul>
{{/rollback}}
{{#validate}}
<p style="margin:8px 0"><b>Validation:</b> {{errors}} error(s), {{warnings}} warning(s)</p>
{{/validate}}
{{#failureCount}}
<h3 style="margin:12px 0 4px 0;font-size:15px;color:#d0342c">Failures ({{failureCount}})</h3>
<ul>
{{#inlineFailures}}
<li><b>{{label}}</b>: {{message}}</li>
{{/inlineFailures}}
</ul>
{{/failureCount}}
<p style="margin:16px 0 0 0">
{{#buildUrl}}<a href="{{buildUrl}}">Open the build</a>{{/buildUrl}}
{{#reportUrl}} · <a href="{{reportUrl}}">Smoke report</a>{{/reportUrl}}
</p>
</td></tr>
</table>
</body></html>
`,
};
