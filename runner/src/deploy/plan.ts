/**
 * `plan`: what a deploy would change, per target, without changing anything.
 *
 * Result data and the plan file (`plan --out`, `deploy --plan`): results/plan.ts.
 */
import { readFileSync } from 'node:fs';
import { DifyCiError, usageError } from '../core/errors.js';
import type { ConsoleClient } from '../dify/console.js';
import { diffDsl, summarise } from './diff.js';
import type { ChangeSummary, DslDiff } from '../results/changes.js';
import { lastGood, ownDraftHashes, type HistoryRecord } from './history.js';
import { liveSecretValues, observe, type LiveState } from './live.js';
import { normaliseDsl, type NormalisedDsl } from './normalise.js';
import { loadDsl, renderDsl, WORKFLOW_MODES, type DslDoc, type Rendered } from './render.js';
import { resolveTarget, type Target } from './targets.js';
import type { PlanFile, SecretState, TargetPlan } from '../results/plan.js';

export interface Prepared {
  target: Target;
  console: ConsoleClient;
  name: string;
  rendered: Rendered;
  live: LiveState;
  /** Live secret values (memory only). */
  liveSecrets?: Record<string, string>;
  secrets: Record<string, SecretState>;
  diff: DslDiff;
  summary: ChangeSummary;
  changed: boolean;
  /** Why an unchanged target is unchanged. */
  sameBy?: 'content' | 'history';
  last?: HistoryRecord;
  /** The draft holds edits that are not ours (UI): deploying would overwrite them. */
  draftEdited: boolean;
  warnings: string[];
}

export interface PrepareOptions {
  historyDir: string;
  environ?: NodeJS.ProcessEnv;
  /** An already loaded DSL (programmatic callers). */
  source?: DslDoc;
  /** status: secrets need not be bound (they never enter hashes); skips reading live secrets. */
  secretValues?: 'required' | 'placeholder';
}

export async function prepareTarget(c: ConsoleClient, t: Target, opts: PrepareOptions): Promise<Prepared> {
  const source = opts.source ?? loadDsl(t.app.dsl);
  const name = t.configuredName ?? String(source.app?.name ?? t.app.key);
  const rendered = renderDsl(source, { env: t.env, name, variables: t.tenant?.variables, environ: opts.environ, secretValues: opts.secretValues });
  const resolution = await resolveTarget(c, t, name);
  const live = await observe(c, t, resolution);
  if (live.mode && live.mode !== rendered.mode) {
    throw new DifyCiError(`${t.id}: app ${resolution.appId} is a '${live.mode}' app in Dify but the DSL is '${rendered.mode}'; an app's mode cannot change`, 'operation', {
      details: ['give the app another name (environments.<env>.apps.<app>.name) to create a new one'],
    });
  }
  const warnings = [...rendered.warnings];
  const secrets: Record<string, SecretState> = {};
  let liveSecrets: Record<string, string> | undefined;
  const secretNames = Object.keys(rendered.secrets);
  if (secretNames.length > 0 && live.published && opts.secretValues !== 'placeholder') liveSecrets = await liveSecretValues(c, t, live);
  for (const n of secretNames) {
    if (!live.published) secrets[n] = 'added';
    else if (!liveSecrets) secrets[n] = 'unknown';
    else if (!(n in liveSecrets)) secrets[n] = 'added';
    else secrets[n] = liveSecrets[n] === rendered.secrets[n] ? 'unchanged' : 'changed';
  }
  for (const n of Object.keys(liveSecrets ?? {})) if (!(n in rendered.secrets) && !(n in secrets)) secrets[n] = 'unknown';

  const last = lastGood(opts.historyDir, t.env.key, t.id);
  const pub = live.published;
  const sameContent = pub !== undefined && pub.hash === rendered.contentHash;
  // Dify may add defaults on import: equal to what we recorded after our own deploy counts as the same.
  const sameByHistory = pub !== undefined && last !== undefined && last.appId === resolution.appId && last.contentHash === rendered.contentHash && last.publishedHash === pub.hash;
  const secretsChanged = Object.values(secrets).some((s) => s === 'changed' || s === 'added');
  const changed = !(sameContent || sameByHistory) || secretsChanged;

  const git: NormalisedDsl = normaliseDsl(rendered.doc);
  const base = pub?.normalised ?? live.draft?.normalised;
  const secretChanges = Object.fromEntries(Object.entries(secrets).map(([k, v]) => [k, v === 'changed' || v === 'added']));
  const diff = changed ? diffDsl(base, git, { secretChanges }) : diffDsl(git, git, {});
  if (!pub && live.draft) diff.create = false;
  const summary = summarise(diff);
  if (changed && !summary.changed) summary.changed = true; // e.g. never published: same draft, still needs a publish

  let draftEdited = false;
  if (WORKFLOW_MODES.has(rendered.mode) && live.draft && live.draft.hash !== rendered.contentHash) {
    if (last?.draftHash && last.appId === resolution.appId) draftEdited = !ownDraftHashes(opts.historyDir, t.env.key, t.id).has(live.draft.hash);
    else if (pub) draftEdited = live.draft.hash !== pub.hash;
  } else if (!WORKFLOW_MODES.has(rendered.mode) && pub && last?.publishedHash && last.appId === resolution.appId) {
    draftEdited = pub.hash !== last.publishedHash;
  }
  if (draftEdited) warnings.push('the app was edited in Dify since the last deploy (draft differs); deploying overwrites those edits (needs --force)');
  if (!pub && live.draft) warnings.push('the app exists but was never published');
  return { target: t, console: c, name, rendered, live, liveSecrets, secrets, diff, summary, changed, sameBy: changed ? undefined : sameContent ? 'content' : 'history', last, draftEdited, warnings };
}

/** A target's entry before anything about Dify is known: what the configuration says, nothing observed. */
export function unobservedTargetPlan(t: Target): TargetPlan {
  return {
    env: t.env.key,
    app: t.app.key,
    ...(t.tenant ? { tenant: t.tenant.name } : {}),
    target: t.id,
    appId: t.configuredAppId ?? null,
    name: t.configuredName ?? t.app.key,
    mode: '?',
    resolvedBy: 'config',
    action: 'error',
    changed: false,
    contentHash: '',
    observed: { versionId: null, publishedHash: null, draftHash: null, difyDraftHash: null },
    draftEdited: false,
    summary: null,
    secrets: {},
    diff: null,
    warnings: [],
  };
}

/** The entry of a target that could not be planned (bad DSL, a Dify error): named, with its error. */
export function errorTargetPlan(t: Target, e: DifyCiError): TargetPlan {
  return { ...unobservedTargetPlan(t), error: e.oneLine(), errorCategory: e.category };
}

export function toTargetPlan(p: Prepared): TargetPlan {
  const r = p.live.resolution;
  return {
    env: p.target.env.key,
    app: p.target.app.key,
    ...(p.target.tenant ? { tenant: p.target.tenant.name } : {}),
    target: p.target.id,
    appId: r.appId ?? null,
    name: p.name,
    mode: p.rendered.mode,
    resolvedBy: r.resolvedBy,
    action: !r.appId ? 'create' : p.changed ? 'update' : 'noop',
    changed: p.changed,
    contentHash: p.rendered.contentHash,
    observed: {
      versionId: p.live.published?.versionId ?? null,
      publishedHash: p.live.published?.hash ?? null,
      draftHash: p.live.draft?.hash ?? null,
      difyDraftHash: p.live.draft?.difyHash ?? null,
    },
    draftEdited: p.draftEdited,
    summary: p.summary,
    secrets: p.secrets,
    diff: p.diff,
    warnings: p.warnings,
  };
}

export function readPlanFile(file: string, env: string): PlanFile {
  let plan: PlanFile;
  try {
    plan = JSON.parse(readFileSync(file, 'utf8')) as PlanFile;
  } catch (e) {
    throw usageError(`cannot read the plan ${file}: ${(e as Error).message}`);
  }
  if (plan?.kind !== 'dify-ci-plan' || plan.version !== 1 || !Array.isArray(plan.targets)) {
    throw new DifyCiError(`${file} is not a dify-ci plan (make one with: dify-ci plan --env ${env} --out ${file})`, 'input', { position: { file } });
  }
  if (plan.env !== env) throw usageError(`the plan ${file} is for environment '${plan.env}', not '${env}'`);
  return plan;
}

/** Why a prepared target no longer matches its saved plan, or undefined when it still does. */
export function planMismatch(saved: TargetPlan, now: TargetPlan): string | undefined {
  if (saved.contentHash !== now.contentHash) return `the DSL (or its variables) changed since the plan (${saved.contentHash.slice(0, 19)} → ${now.contentHash.slice(0, 19)})`;
  if ((saved.appId ?? null) !== (now.appId ?? null)) return `the target app changed since the plan (${saved.appId ?? 'none'} → ${now.appId ?? 'none'})`;
  const a = saved.observed;
  const b = now.observed;
  if (a.versionId !== b.versionId || a.publishedHash !== b.publishedHash) return `the published version changed since the plan (${a.versionId ?? 'none'} → ${b.versionId ?? 'none'})`;
  if (a.draftHash !== b.draftHash) return 'the draft was edited since the plan';
  const changedSecrets = (s: Record<string, SecretState>) => Object.keys(s).filter((k) => s[k] === 'changed' || s[k] === 'added').sort().join(',');
  if (changedSecrets(saved.secrets) !== changedSecrets(now.secrets)) return 'secret values changed since the plan';
  return undefined;
}

// ---------------------------------------------------------------- formatting

function counts(s: ChangeSummary): string {
  if (s.create) return s.nodesAdded ? `new app, ${s.nodesAdded} node(s)` : 'new app';
  const parts: string[] = [];
  if (s.nodesAdded || s.nodesRemoved || s.nodesChanged) parts.push(`nodes +${s.nodesAdded} -${s.nodesRemoved} ~${s.nodesChanged}`);
  if (s.edgesChanged) parts.push(`${s.edgesChanged} edge change(s)`);
  if (s.promptChanges) parts.push(`${s.promptChanges} prompt change(s)`);
  if (s.modelChanges) parts.push(`${s.modelChanges} model change(s)`);
  if (s.envVarChanges) parts.push(`${s.envVarChanges} variable change(s)`);
  if (s.secretChanges) parts.push(`${s.secretChanges} secret change(s)`);
  if (s.conversationVarChanges) parts.push(`${s.conversationVarChanges} conversation variable change(s)`);
  if (s.featureChanges) parts.push(`${s.featureChanges} feature change(s)`);
  if (s.appChanges) parts.push(`${s.appChanges} app setting change(s)`);
  if (s.otherChanges) parts.push(`${s.otherChanges} other change(s)`);
  return parts.join(', ') || 'publish only';
}

const SYMBOL: Record<TargetPlan['action'], string> = { create: '+', update: '~', noop: '=', error: '!' };

export function formatPlanText(env: string, targets: TargetPlan[]): string {
  const out: string[] = [`Plan for environment ${env} (${targets.length} target(s))`, ''];
  for (const t of targets) {
    const head = `${SYMBOL[t.action]} ${t.target} (${t.mode}${t.appId ? `, app ${t.appId}` : ''})`;
    if (t.action === 'error') {
      out.push(`${head}: ERROR ${t.error}`, '');
      continue;
    }
    if (t.action === 'noop') {
      out.push(`${head}: no changes`);
      for (const w of t.warnings) out.push(`    warning: ${w}`);
      continue;
    }
    out.push(`${head}: ${t.action === 'create' ? 'create' : 'update'} — ${counts(t.summary!)}`);
    const d = t.diff!;
    if (!d.create) for (const c of d.app) out.push(`    app ${c.path}: ${c.from ?? '∅'} → ${c.to ?? '∅'}`);
    if (!d.create) {
      for (const n of d.nodes.added) out.push(`    + node '${n.title}' (${n.type}, ${n.id})`);
      for (const n of d.nodes.removed) out.push(`    - node '${n.title}' (${n.type}, ${n.id})`);
      for (const n of d.nodes.changed) {
        out.push(`    ~ node '${n.title}' (${n.type}, ${n.id})`);
        for (const f of n.fields) out.push(`        ${f.path}: ${f.from ?? '∅'} → ${f.to ?? '∅'}`);
      }
      for (const e of d.edges.added) out.push(`    + edge ${e}`);
      for (const e of d.edges.removed) out.push(`    - edge ${e}`);
      for (const m of d.models) {
        out.push(`    model ${m.where}: ${m.from && m.to ? `${m.from} → ${m.to}` : 'parameters'}`);
        for (const p of m.params) out.push(`        ${p.path}: ${p.from ?? '∅'} → ${p.to ?? '∅'}`);
      }
      for (const p of d.prompts) {
        out.push(`    prompt ${p.where} ${p.path}:`);
        for (const l of p.unified.split('\n')) out.push(`        ${l}`);
      }
    } else {
      out.push(`    new app '${t.name}'${d.nodes.added.length ? ` with ${d.nodes.added.length} node(s)` : ''}`);
    }
    for (const v of [...d.envVars, ...d.conversationVars]) {
      if (v.change === 'unchanged') continue;
      out.push(`    ${v.secret ? 'secret' : 'variable'} ${v.name}: ${v.change}${!v.secret && (v.from || v.to) ? ` (${v.from ?? '∅'} → ${v.to ?? '∅'})` : ''}`);
    }
    if (!d.create) {
      for (const f of d.features) out.push(`    feature ${f.path}: ${f.from ?? '∅'} → ${f.to ?? '∅'}`);
      for (const f of d.other) out.push(`    ${f.path}: ${f.from ?? '∅'} → ${f.to ?? '∅'}`);
    }
    for (const w of t.warnings) out.push(`    warning: ${w}`);
    out.push('');
  }
  const n = (a: TargetPlan['action']) => targets.filter((t) => t.action === a).length;
  out.push(`${n('create')} to create, ${n('update')} to update, ${n('noop')} unchanged${n('error') ? `, ${n('error')} error(s)` : ''}.`);
  return out.join('\n').replace(/\n{3,}/g, '\n\n');
}

function md(s: string | undefined): string {
  return (s ?? '∅').replace(/\|/g, '\\|').replace(/`/g, 'ˋ');
}

export function formatPlanMarkdown(env: string, targets: TargetPlan[]): string {
  const n = (a: TargetPlan['action']) => targets.filter((t) => t.action === a).length;
  const out: string[] = [
    `### dify-ci plan — \`${env}\``,
    '',
    `**${n('create')}** to create, **${n('update')}** to update, **${n('noop')}** unchanged${n('error') ? `, **${n('error')}** error(s)` : ''}.`,
    '',
    '| target | mode | action | changes |',
    '|---|---|---|---|',
  ];
  for (const t of targets) {
    out.push(`| \`${t.target}\` | ${t.mode} | ${t.action} | ${t.action === 'error' ? md(t.error) : t.action === 'noop' ? '—' : md(counts(t.summary!))} |`);
  }
  for (const t of targets) {
    if (t.action !== 'update' && t.action !== 'create') continue;
    const d = t.diff!;
    out.push('', `<details><summary><code>${t.target}</code> — ${t.action}</summary>`, '');
    const rows: string[] = [];
    if (d.create) rows.push(`| new app | ${md(t.name)} | ${d.nodes.added.length ? `${d.nodes.added.length} node(s)` : md(t.mode)} |`);
    else for (const x of d.nodes.added) rows.push(`| node added | ${md(x.title)} (\`${x.type}\`) | \`${x.id}\` |`);
    for (const x of d.nodes.removed) rows.push(`| node removed | ${md(x.title)} (\`${x.type}\`) | \`${x.id}\` |`);
    for (const x of d.nodes.changed) rows.push(`| node changed | ${md(x.title)} (\`${x.type}\`) | ${x.fields.map((f) => `\`${md(f.path)}\``).join(', ') || 'prompt/model'} |`);
    for (const e of d.edges.added) rows.push(`| edge added | ${md(e)} | |`);
    for (const e of d.edges.removed) rows.push(`| edge removed | ${md(e)} | |`);
    for (const m of d.models) rows.push(`| model | ${md(m.where)} | ${m.from && m.to ? `${md(m.from)} → ${md(m.to)}` : ''} ${m.params.map((p) => `${md(p.path)}: ${md(p.from)} → ${md(p.to)}`).join('; ')} |`);
    for (const v of [...d.envVars, ...d.conversationVars]) {
      if (v.change === 'unchanged') continue;
      rows.push(`| ${v.secret ? 'secret' : 'variable'} | \`${v.name}\` | ${v.change}${!v.secret && (v.from || v.to) ? `: ${md(v.from)} → ${md(v.to)}` : ''} |`);
    }
    if (!d.create) {
      for (const f of d.features) rows.push(`| feature | \`${md(f.path)}\` | ${md(f.from)} → ${md(f.to)} |`);
      for (const f of [...d.app, ...d.other]) rows.push(`| setting | \`${md(f.path)}\` | ${md(f.from)} → ${md(f.to)} |`);
    }
    if (rows.length) out.push('| change | what | detail |', '|---|---|---|', ...rows);
    if (!d.create) for (const p of d.prompts) out.push('', `**Prompt** ${md(p.where)} \`${md(p.path)}\``, '', '```diff', p.unified.replace(/```/g, 'ˋˋˋ'), '```');
    for (const w of t.warnings) out.push('', `> ⚠️ ${md(w)}`);
    out.push('', '</details>');
  }
  return out.join('\n');
}
