/**
 * Runs of workflow and advanced-chat apps through the graph walk (§7.4/§7.6): the published (or pinned) version, or
 * the draft for the studio's debugger (§13).
 */
import { getConversation, newConversation, saveTurn } from './conversations.js';
import { runGraph, type Emission, type NodeExec, type RunOutput } from './graph.js';
import { envelope, invalidParam, json, type Reply } from './http.js';
import { formVars, validateInputs, workflowForm, type RunArgs } from './inputs.js';
import { makeUsage, type Usage } from './model.js';
import { endUserOf } from './records.js';
import { callerKey, cutSocket, enter, matchScript, messageRecord, openStream, runError, scriptError, scriptLatency, type RunEnv } from './runs.js';
import { recordRun } from './workflow-runs.js';
import { sleep } from './sse.js';
import type { App, Conversation, WorkflowRow } from './state.js';
import type { Core } from './core.js';
import { isUuid, uuid } from './util.js';
import { retrieveForNode } from './kb-retrieval.js';

function pickWorkflow(core: Core, app: App, pinned: string | undefined, debuggerRun: boolean): WorkflowRow {
  // AppGenerateService._get_workflow: the debugger runs the draft.
  if (debuggerRun) {
    if (!app.draft) throw invalidParam('Workflow not initialized');
    return app.draft;
  }
  if (pinned) {
    if (!isUuid(pinned)) throw envelope(400, 'bad_request', `Invalid workflow_id format: '${pinned}'. `);
    if (app.draft?.id === pinned) {
      throw envelope(400, 'bad_request', `Cannot use draft workflow version. Workflow ID: ${pinned}. Please use a published workflow version or leave workflow_id empty.`);
    }
    const w = app.versions.find((v) => v.id === pinned);
    if (!w) throw envelope(404, 'not_found', `Workflow not found with id: ${pinned}`);
    return w;
  }
  const w = core.store.published(app);
  if (!w) throw invalidParam('Workflow not published');
  return w;
}

function nodeStartedData(e: NodeExec, createdAt: number): Record<string, unknown> {
  return {
    id: e.id,
    node_id: e.nodeId,
    node_type: e.type,
    title: e.title,
    index: e.index,
    predecessor_node_id: e.predecessor,
    inputs: e.inputs,
    inputs_truncated: false,
    created_at: createdAt,
    extras: {},
    iteration_id: null,
    loop_id: null,
  };
}

function nodeFinishedData(e: NodeExec, createdAt: number, finishedAt: number): Record<string, unknown> {
  return {
    ...nodeStartedData(e, createdAt),
    process_data: null,
    process_data_truncated: false,
    outputs: e.outputs,
    outputs_truncated: false,
    status: e.status,
    error: e.error,
    elapsed_time: 0.001,
    execution_metadata: e.usage ? { total_tokens: e.tokens, total_price: Number(e.usage.total_price), currency: 'USD' } : null,
    finished_at: finishedAt,
    files: [],
  };
}

export async function runWorkflowLike(env: RunEnv, app: App, args: RunArgs, pinned: string | undefined): Promise<Reply | void> {
  const { core, ctx } = env;
  const chat = app.mode === 'advanced-chat';
  if (chat && !args.streaming && core.opts.quirks.includes('chatflow-streams-blocking')) args = { ...args, streaming: true };
  const release = enter(core, app);
  try {
    const debuggerRun = Boolean(env.debug);
    const wf = pickWorkflow(core, app, pinned, debuggerRun);
    const who = callerKey(env, args);
    let conv: Conversation | undefined;
    if (chat) {
      conv = args.conversationId
        ? getConversation(core, app, who, args.conversationId, debuggerRun)
        : newConversation(core, app, who, { variables: wf.conversation_variables, introduction: wf.features.opening_statement, debuggerRun });
    }
    const inputs = validateInputs(formVars(workflowForm(wf)), args.inputs);
    const script = matchScript(core, app, chat ? args.query : JSON.stringify(args.inputs));
    // created_by: the end user, or the debugging account.
    const creator = env.debug ? { id: env.debug.accountId, user: env.debug.accountId } : { id: endUserOf(core, app, args.user).id, user: args.user };
    const runId = uuid();
    const taskId = uuid();
    const messageId = uuid();
    const createdAt = core.clock.nowSec();
    const started = Date.now();
    const sys: Record<string, unknown> = { files: [], user_id: creator.user, app_id: app.id, workflow_id: wf.id, workflow_run_id: runId };
    if (chat) Object.assign(sys, { query: args.query, conversation_id: conv!.id, dialogue_count: conv!.turns.length + 1 });
    const env0 = Object.fromEntries(wf.environment_variables.map((v) => [v.name, v.value]));
    const out: RunOutput = runGraph({
      mode: chat ? 'advanced-chat' : 'workflow',
      graph: wf.graph,
      inputs,
      sys,
      env: env0,
      conversation: conv ? { ...conv.variables } : {},
      history: conv?.turns ?? [],
      script,
      retrieve: (ids, query, opts) => retrieveForNode(core, app.workspaceId, ids, query, opts),
    });
    const latency = scriptLatency(core, script);
    const usageOf = (): Usage =>
      makeUsage(script?.usage?.prompt_tokens ?? out.promptTokens, script?.usage?.completion_tokens ?? out.completionTokens, latency / 1000);
    const finishedData = (): Record<string, unknown> => ({
      id: runId,
      workflow_id: wf.id,
      status: out.status,
      outputs: out.outputs,
      error: out.error,
      elapsed_time: (Date.now() - started) / 1000,
      total_tokens: script?.usage ? (script.usage.prompt_tokens ?? 0) + (script.usage.completion_tokens ?? 0) : out.totalTokens,
      total_steps: out.nodes.length,
      created_by: creator,
      created_at: createdAt,
      finished_at: core.clock.nowSec(),
      exceptions_count: out.nodes.filter((n) => n.status === 'exception').length,
      files: [],
    });
    /** What a finished run leaves: the workflow run (and app log), for a chatflow the message and the turn. */
    const commit = (failure?: string): { data: Record<string, unknown>; usage: Usage } => {
      const data = finishedData();
      if (failure !== undefined) Object.assign(data, { status: 'failed', error: failure, outputs: {} });
      const usage = usageOf();
      recordRun(core, app, wf, { id: runId, inputs: { ...inputs, ...Object.fromEntries(Object.entries(sys).map(([k, v]) => [`sys.${k}`, v])) }, data, endUserId: creator.id, debuggerRun });
      if (conv) {
        // A failed chatflow run still leaves its message row, with status `error` (it counts in §12).
        const error = data.status === 'succeeded' ? undefined : String(data.error ?? 'Run failed');
        if (!error) conv.variables = out.conversation;
        const m = messageRecord(env, app, args, { id: messageId, conversationId: conv.id, answer: error ? '' : out.answer, inputs, createdAt, usage, workflowRunId: runId, error });
        saveTurn(core, conv, m, args.autoGenerateName);
      }
      return { data, usage };
    };

    if (!args.streaming) {
      await sleep(latency);
      if (script?.cutAfterChunks !== undefined) return cutSocket(ctx);
      if (runError(script)) {
        const e = scriptError(script!);
        commit(e.message);
        throw envelope(e.status, e.code, e.message);
      }
      const { data, usage } = commit();
      if (chat) {
        if (out.status === 'failed') throw invalidParam(`Run failed: ${out.error}`);
        return json(200, {
          event: 'message',
          task_id: taskId,
          id: messageId,
          message_id: messageId,
          conversation_id: conv!.id,
          mode: 'advanced-chat',
          answer: out.answer,
          metadata: { usage, retriever_resources: [] },
          created_at: createdAt,
        });
      }
      if (core.opts.quirks.includes('blocking-workflow-empty-outputs') && out.status === 'succeeded') data.outputs = {};
      return json(200, { task_id: taskId, workflow_run_id: runId, data });
    }

    const sse = openStream(env);
    ctx.res.on('close', release);
    const base = (event: string): Record<string, unknown> =>
      chat
        ? { event, conversation_id: conv!.id, message_id: messageId, created_at: createdAt, task_id: taskId, workflow_run_id: runId }
        : { event, task_id: taskId, workflow_run_id: runId };
    await sse.send({ ...base('workflow_started'), data: { id: runId, workflow_id: wf.id, inputs, created_at: createdAt, reason: 'initial' } });
    let chunks = 0;
    const stopAt = runError(script) ? script!.error!.afterChunks ?? 0 : undefined;
    let errored = false;
    const emit = async (em: Emission): Promise<boolean> => {
      switch (em.t) {
        case 'stall':
          await sse.stall(latency);
          return true;
        case 'node_started':
          await sse.send({ ...base('node_started'), data: nodeStartedData(em.exec, core.clock.nowSec()) });
          return true;
        case 'node_finished':
          await sse.send({ ...base('node_finished'), data: nodeFinishedData(em.exec, core.clock.nowSec(), core.clock.nowSec()) });
          return true;
        case 'text':
          if (stopAt !== undefined && chunks >= stopAt) {
            errored = true;
            return false;
          }
          if (script?.cutAfterChunks !== undefined && chunks >= script.cutAfterChunks) {
            sse.destroy();
            return false;
          }
          if (chat) {
            await sse.send({ event: 'message', conversation_id: conv!.id, message_id: messageId, created_at: createdAt, task_id: taskId, id: messageId, answer: em.text, from_variable_selector: em.selector });
          } else await sse.send({ ...base('text_chunk'), data: { text: em.text, from_variable_selector: em.selector } });
          chunks++;
          return true;
      }
    };
    for (const em of out.emissions) {
      if (sse.closed) return;
      if (!(await emit(em))) break;
    }
    if (sse.closed) return;
    if (script?.cutAfterChunks !== undefined) {
      sse.destroy();
      return;
    }
    if (errored || runError(script)) {
      const e = scriptError(script!);
      commit(e.message);
      const h: Record<string, unknown> = chat
        ? { event: 'error', conversation_id: conv!.id, message_id: messageId, created_at: createdAt }
        : { event: 'error', workflow_run_id: runId };
      await sse.send({ ...h, code: e.code, status: e.status, message: e.message });
      sse.end();
      return;
    }
    const { data, usage } = commit();
    // Dify's advanced-chat pipeline yields workflow_finished, then queues the message end
    // (api/core/app/apps/advanced_chat/generate_task_pipeline.py, _handle_workflow_succeeded_event).
    await sse.send({ ...base('workflow_finished'), data });
    if (chat && out.status === 'failed') {
      await sse.send({ event: 'error', conversation_id: conv!.id, message_id: messageId, created_at: createdAt, code: 'invalid_param', status: 400, message: `Run failed: ${out.error}` });
    } else if (chat) {
      await sse.send({
        event: 'message_end',
        conversation_id: conv!.id,
        message_id: messageId,
        created_at: createdAt,
        task_id: taskId,
        id: messageId,
        metadata: { usage, retriever_resources: [] },
        files: [],
      });
    }
    sse.end();
  } finally {
    if (!ctx.streaming) release();
  }
}
