/** Runs of chat, agent-chat and completion apps (their live `model_config`, or the debugger's): blocking bodies and §7.6 streams. */
import { getConversation, newConversation, saveTurn } from './conversations.js';
import { rememberMessage } from './records.js';
import { appUnavailable, envelope, invalidParam, json, type Reply } from './http.js';
import { chatForm, formVars, validateInputs, type RunArgs } from './inputs.js';
import { chunkText, countTokens, llmText, makeUsage, renderSimple, type Usage } from './model.js';
import { toText } from './model-values.js';
import { callerKey, cutSocket, enter, matchScript, messageRecord, openStream, scriptError, scriptLatency, type RunEnv } from './runs.js';
import { sleep } from './sse.js';
import type { App } from './state.js';
import { isObject, uuid } from './util.js';

export async function runEasyApp(env: RunEnv, app: App, args: RunArgs, kind: 'chat' | 'completion'): Promise<Reply | void> {
  const { core, ctx } = env;
  const release = enter(core, app);
  try {
    if (app.mode === 'agent-chat' && !args.streaming) throw invalidParam('Agent Chat App does not support blocking mode');
    const mc = env.debug?.modelConfig ?? app.modelConfig;
    if (!mc) throw appUnavailable();
    const who = callerKey(env, args);
    const debuggerRun = Boolean(env.debug);
    const conv =
      kind === 'chat'
        ? args.conversationId
          ? getConversation(core, app, who, args.conversationId, debuggerRun)
          : newConversation(core, app, who, { introduction: mc.opening_statement, debuggerRun })
        : undefined;
    const inputs = validateInputs(formVars(chatForm(mc)), args.inputs);
    const script = matchScript(core, app, kind === 'chat' ? args.query : JSON.stringify(args.inputs));
    const modelName = isObject(mc.model) ? String(mc.model.name ?? 'model') : 'model';
    const history = conv?.turns ?? [];
    const lines = [renderSimple(mc.pre_prompt, inputs)];
    for (const t of history) lines.push(`user: ${t.query}`, `assistant: ${t.answer}`);
    if (args.query) lines.push(`user: ${args.query}`);
    const prompt = lines.join('\n');
    let echo = kind === 'chat' ? args.query : [...Object.values(inputs).map(toText).filter(Boolean), args.query].filter(Boolean).join(' ');
    if (history.length > 0) echo += ` (earlier: ${history.map((t) => t.query).join(' | ')})`;
    const answer = script?.answer ?? llmText(modelName, prompt, echo);
    const latency = scriptLatency(core, script);
    const messageId = uuid();
    const taskId = uuid();
    const createdAt = core.clock.nowSec();
    // The provider latency is the model time the emulator spends (deterministic), as Dify measures it around the call.
    const usageOf = (): Usage =>
      makeUsage(script?.usage?.prompt_tokens ?? countTokens(prompt), script?.usage?.completion_tokens ?? countTokens(answer), latency / 1000);
    /** The message row (and the conversation's turn) of a finished call; a failed call leaves an `error` row. */
    const commit = (u: Usage, error?: string): void => {
      const m = messageRecord(env, app, args, { id: messageId, conversationId: conv?.id ?? null, answer: error === undefined ? answer : '', inputs, createdAt, usage: u, workflowRunId: null, error });
      if (conv) saveTurn(core, conv, m, args.autoGenerateName);
      else rememberMessage(core, m);
    };
    const failed = (message: string): void => commit(makeUsage(0, 0, latency / 1000), message);

    if (!args.streaming) {
      await sleep(latency);
      if (script?.cutAfterChunks !== undefined) return cutSocket(ctx);
      if (script?.error) {
        const e = scriptError(script);
        failed(e.message);
        throw envelope(e.status, e.code, e.message);
      }
      const usage = usageOf();
      commit(usage);
      const body: Record<string, unknown> = { event: 'message', task_id: taskId, id: messageId, message_id: messageId };
      if (conv) body.conversation_id = conv.id;
      Object.assign(body, { mode: app.mode, answer, metadata: { usage, retriever_resources: [] }, created_at: createdAt });
      return json(200, body);
    }

    const head = (event: string): Record<string, unknown> =>
      conv ? { event, conversation_id: conv.id, message_id: messageId, created_at: createdAt } : { event, message_id: messageId, created_at: createdAt };
    const sse = openStream(env);
    ctx.res.on('close', release);
    await sse.stall(latency);
    const chunks = chunkText(answer);
    const agent = app.mode === 'agent-chat';
    const thoughtId = uuid();
    const thought = (text: string): Record<string, unknown> => ({
      ...head('agent_thought'),
      task_id: taskId,
      id: thoughtId,
      position: 1,
      thought: text,
      observation: '',
      tool: '',
      tool_labels: {},
      tool_input: '',
      message_files: [],
    });
    if (agent) await sse.send(thought(''));
    let n = 0;
    for (const c of chunks) {
      if (sse.closed) return;
      if (script?.error && n >= (script.error.afterChunks ?? 0)) break;
      if (script?.cutAfterChunks !== undefined && n >= script.cutAfterChunks) {
        sse.destroy();
        return;
      }
      await sse.send({ ...head(agent ? 'agent_message' : 'message'), task_id: taskId, id: messageId, answer: c, from_variable_selector: null });
      n++;
    }
    if (script?.cutAfterChunks !== undefined && n >= script.cutAfterChunks) {
      sse.destroy();
      return;
    }
    if (script?.error) {
      const e = scriptError(script);
      failed(e.message);
      const h: Record<string, unknown> = { event: 'error' };
      if (conv || kind === 'completion') h.conversation_id = conv?.id ?? null;
      await sse.send({ ...h, message_id: messageId, created_at: createdAt, code: e.code, status: e.status, message: e.message });
      sse.end();
      return;
    }
    if (agent) await sse.send(thought(answer));
    const usage = usageOf();
    commit(usage);
    await sse.send({ ...head('message_end'), task_id: taskId, id: messageId, metadata: { usage, retriever_resources: [] }, files: null });
    sse.end();
  } finally {
    if (!ctx.streaming) release();
  }
}
