import OpenAI from 'openai';
import type {
  ChatCompletion,
  ChatCompletionMessageParam,
  ChatCompletionMessageToolCall,
} from 'openai/resources/chat/completions';
import type { Toolbox, ToolOutcome } from './tools.js';

/** What the proxy said about one call, from its response headers. */
export interface GatewayHeaders {
  provider?: string;
  model?: string;
  fallbacks: number;
  fallbackPath?: string;
  costUsd?: number;
  memorySavedTokens?: number;
  decision?: string;
  shouldRetry?: string;
}

/** A call the killswitch (or the proxy) refused. */
export interface Denial {
  status: number;
  code: string;
  message: string;
  headers: GatewayHeaders;
}

/** One tool the agent ran. */
export interface ToolRun extends ToolOutcome {
  name: string;
  arguments: Record<string, unknown>;
  durationMs: number;
}

/** One model call of the agent and the tools it then ran. */
export interface AgentStep {
  /** 1-based, counted across a continued conversation. */
  index: number;
  durationMs: number;
  headers: GatewayHeaders;
  completion?: ChatCompletion;
  denial?: Denial;
  tools: ToolRun[];
}

/** A whole agent run. */
export interface AgentRun {
  steps: AgentStep[];
  finalText?: string;
  stoppedBy: 'answer' | 'denied' | 'max-steps';
  /** The conversation as the client holds it, the final answer included. */
  messages: ChatCompletionMessageParam[];
}

/** What {@link runAgent} needs. */
export interface AgentOptions {
  client: OpenAI;
  model: string;
  system: string;
  task: string;
  toolbox: Toolbox;
  tools: readonly string[];
  maxSteps: number;
  /** An earlier conversation to continue: `task` becomes its next user turn. */
  history?: ChatCompletionMessageParam[];
  /** Numbering of the calls continues from here (a continued conversation). @default 0 */
  firstIndex?: number;
  /** Called after each model call, before its tools run. */
  onCall?: (step: AgentStep) => void;
  /** Called after each tool ran. */
  onTool?: (run: ToolRun, step: AgentStep) => void;
}

function numberHeader(headers: Headers, name: string): number | undefined {
  const value = headers.get(name);
  if (value === null || value === '') return undefined;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : undefined;
}

/**
 * Reads the `x-ballast-*` headers of a proxy response.
 * @param headers the response headers
 * @returns what they say
 */
export function gatewayHeaders(headers: Headers | undefined): GatewayHeaders {
  if (!headers) return { fallbacks: 0 };
  const out: GatewayHeaders = { fallbacks: numberHeader(headers, 'x-ballast-fallbacks') ?? 0 };
  const text = (name: string) => headers.get(name) ?? undefined;
  const provider = text('x-ballast-provider');
  const model = text('x-ballast-model');
  const fallbackPath = text('x-ballast-fallback-path');
  const costUsd = numberHeader(headers, 'x-ballast-cost-usd');
  const memorySavedTokens = numberHeader(headers, 'x-ballast-memory-saved-tokens');
  const decision = text('x-ballast-decision');
  const shouldRetry = text('x-should-retry');
  if (provider !== undefined) out.provider = provider;
  if (model !== undefined) out.model = model;
  if (fallbackPath !== undefined) out.fallbackPath = fallbackPath;
  if (costUsd !== undefined) out.costUsd = costUsd;
  if (memorySavedTokens !== undefined) out.memorySavedTokens = memorySavedTokens;
  if (decision !== undefined) out.decision = decision;
  if (shouldRetry !== undefined) out.shouldRetry = shouldRetry;
  return out;
}

/**
 * The denial an SDK error stands for, or undefined when the error is not an HTTP answer.
 * @param error what the openai client threw
 * @returns status, code, message and the gateway headers
 */
export function denialOf(error: unknown): Denial | undefined {
  if (!(error instanceof OpenAI.APIError) || error.status === undefined) return undefined;
  const body = error.error as { code?: unknown; type?: unknown } | undefined;
  const code = String(error.code ?? body?.code ?? error.type ?? body?.type ?? 'unknown');
  return { status: error.status, code, message: error.message, headers: gatewayHeaders(error.headers) };
}

function parseArguments(call: ChatCompletionMessageToolCall): Record<string, unknown> {
  if (call.type !== 'function') return {};
  try {
    const parsed = JSON.parse(call.function.arguments || '{}') as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * A plain tool-using agent on the official openai client: call the model, run the tool calls it
 * asks for, send the results back, until it answers, is denied, or reaches `maxSteps`. Nothing in
 * it knows about Ballast except that its base URL is the proxy's.
 * @param options the client, model, prompt, tools and step limit
 * @returns every step and the final answer
 * @throws what the client throws for anything but an HTTP error answer
 */
export async function runAgent(options: AgentOptions): Promise<AgentRun> {
  const messages: ChatCompletionMessageParam[] = options.history
    ? [...options.history, { role: 'user', content: options.task }]
    : [
        { role: 'system', content: options.system },
        { role: 'user', content: options.task },
      ];
  const offset = options.firstIndex ?? 0;
  const tools = options.toolbox.definitions(options.tools);
  const steps: AgentStep[] = [];
  for (let index = offset + 1; index <= offset + options.maxSteps; index += 1) {
    const started = performance.now();
    let completion: ChatCompletion;
    let headers: GatewayHeaders;
    try {
      const { data, response } = await options.client.chat.completions
        .create({ model: options.model, messages, tools })
        .withResponse();
      completion = data;
      headers = gatewayHeaders(response.headers);
    } catch (error) {
      const denial = denialOf(error);
      if (!denial) throw error;
      const step: AgentStep = {
        index,
        durationMs: performance.now() - started,
        headers: denial.headers,
        denial,
        tools: [],
      };
      steps.push(step);
      options.onCall?.(step);
      return { steps, stoppedBy: 'denied', messages };
    }
    const step: AgentStep = {
      index,
      durationMs: performance.now() - started,
      headers,
      completion,
      tools: [],
    };
    steps.push(step);
    options.onCall?.(step);
    const message = completion.choices[0]?.message;
    const calls = message?.tool_calls ?? [];
    if (!message || calls.length === 0) {
      const finalText = message?.content ?? '';
      messages.push({ role: 'assistant', content: finalText });
      return { steps, stoppedBy: 'answer', finalText, messages };
    }
    messages.push({ role: 'assistant', content: message.content, tool_calls: calls });
    for (const call of calls) {
      const name = call.type === 'function' ? call.function.name : call.custom.name;
      const args = parseArguments(call);
      const toolStarted = performance.now();
      const outcome = await options.toolbox.run(name, args);
      const run: ToolRun = { ...outcome, name, arguments: args, durationMs: performance.now() - toolStarted };
      step.tools.push(run);
      options.onTool?.(run, step);
      messages.push({ role: 'tool', tool_call_id: call.id, content: outcome.text });
    }
  }
  return { steps, stoppedBy: 'max-steps', messages };
}
