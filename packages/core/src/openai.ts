import type {
  ChatMessage,
  ChatRequest,
  ChatResponse,
  ContentPart,
  ImagePart,
  ProviderOptions,
  StopReason,
  StreamEvent,
  TextPart,
  ToolCallPart,
  ToolChoice,
  ToolDefinition,
  ToolResultPart,
  Usage,
} from './chat.js';
import type { SseEvent } from './sse.js';
import {
  invalid,
  isJsonObject,
  type JsonObject,
  optionalArray,
  optionalNumber,
  readRequestHead,
  requireString,
  unknownFields,
  unsupported,
} from './wire-util.js';

// ---------------------------------------------------------------------------------------------
// Wire types: OpenAI chat completions, as the API documents them. Unknown fields are allowed.
// ---------------------------------------------------------------------------------------------

/** An OpenAI content part. */
export type OpenAIContentPart =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: { url: string; detail?: 'auto' | 'low' | 'high' } }
  | { type: 'refusal'; refusal: string };

/** An OpenAI tool call inside an assistant message. */
export interface OpenAIToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** An OpenAI chat message. */
export type OpenAIMessage =
  | { role: 'system' | 'developer'; content: string | OpenAIContentPart[]; name?: string }
  | { role: 'user'; content: string | OpenAIContentPart[]; name?: string }
  | {
      role: 'assistant';
      content?: string | OpenAIContentPart[] | null;
      tool_calls?: OpenAIToolCall[];
      refusal?: string | null;
      name?: string;
      [field: string]: unknown;
    }
  | { role: 'tool'; tool_call_id: string; content: string | OpenAIContentPart[] };

/** An OpenAI tool definition. */
export interface OpenAITool {
  type: 'function';
  function: {
    name: string;
    description?: string;
    parameters?: Record<string, unknown>;
    strict?: boolean | null;
  };
}

/** An OpenAI `tool_choice`. */
export type OpenAIToolChoice =
  | 'auto'
  | 'none'
  | 'required'
  | { type: 'function'; function: { name: string } };

/** The body of `POST /v1/chat/completions`. */
export interface OpenAIChatRequest {
  model: string;
  messages: OpenAIMessage[];
  tools?: OpenAITool[];
  tool_choice?: OpenAIToolChoice;
  parallel_tool_calls?: boolean;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  stop?: string | string[] | null;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
  user?: string;
  [field: string]: unknown;
}

/** OpenAI's usage record. */
export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number; [field: string]: unknown } | null;
  completion_tokens_details?: { reasoning_tokens?: number; [field: string]: unknown } | null;
  [field: string]: unknown;
}

/** OpenAI finish reasons. */
export type OpenAIFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

/** A complete chat completion. */
export interface OpenAIChatResponse {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: {
      role: 'assistant';
      content: string | null;
      refusal?: string | null;
      tool_calls?: OpenAIToolCall[];
      [field: string]: unknown;
    };
    finish_reason: OpenAIFinishReason | null;
    logprobs?: unknown;
  }>;
  usage?: OpenAIUsage;
  [field: string]: unknown;
}

/** One `data:` payload of a streamed chat completion. */
export interface OpenAIChatChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    delta: {
      role?: 'assistant';
      content?: string | null;
      refusal?: string | null;
      reasoning_content?: string | null;
      tool_calls?: Array<{
        index: number;
        id?: string;
        type?: 'function';
        function?: { name?: string; arguments?: string };
      }>;
    };
    finish_reason: OpenAIFinishReason | null;
    logprobs?: unknown;
  }>;
  usage?: OpenAIUsage | null;
  [field: string]: unknown;
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

const requestFields = new Set([
  'model',
  'messages',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'stop',
  'stream',
  'user',
]);

/**
 * Reads an OpenAI chat-completions request body into neutral form.
 *
 * Fields with no neutral meaning (`stream_options`, `seed`, `response_format`, `max_tokens` as
 * the field name used, ...) travel in `providerOptions.openai`, so {@link toOpenAIRequest} gives
 * the same request back. Leading and mid-conversation system messages stay in `messages`.
 *
 * @param body the parsed JSON body
 * @returns the neutral request
 * @throws BallastError `CORE_INVALID_REQUEST` naming the field when the body is malformed,
 *   `CORE_CONVERSION_UNSUPPORTED` for content parts with no neutral form (audio, files)
 * @example
 * ```ts
 * const request = fromOpenAIRequest(await httpRequest.json());
 * request.maxOutputTokens; // from max_completion_tokens or max_tokens
 * ```
 */
export function fromOpenAIRequest(input: unknown): ChatRequest {
  const { body, model, messages } = readRequestHead(input);
  const request: ChatRequest = { model, messages: openAIMessagesToNeutral(messages) };
  const tools = optionalArray(body, 'tools', 'body');
  if (tools) request.tools = tools.map((tool, index) => openAIToolToNeutral(tool, `body.tools[${index}]`));
  if (body.tool_choice !== undefined && body.tool_choice !== null) {
    request.toolChoice = openAIToolChoiceToNeutral(body.tool_choice);
  }
  if (typeof body.parallel_tool_calls === 'boolean') request.parallelToolCalls = body.parallel_tool_calls;
  const maxOutput =
    optionalNumber(body, 'max_completion_tokens', 'body') ?? optionalNumber(body, 'max_tokens', 'body');
  if (maxOutput !== undefined) request.maxOutputTokens = maxOutput;
  const temperature = optionalNumber(body, 'temperature', 'body');
  if (temperature !== undefined) request.temperature = temperature;
  const topP = optionalNumber(body, 'top_p', 'body');
  if (topP !== undefined) request.topP = topP;
  if (typeof body.stop === 'string') request.stopSequences = [body.stop];
  else if (Array.isArray(body.stop)) request.stopSequences = body.stop.map(String);
  if (typeof body.stream === 'boolean') request.stream = body.stream;
  if (typeof body.user === 'string') request.user = body.user;
  const rest = unknownFields(body, requestFields);
  if (rest) request.providerOptions = { openai: rest };
  return request;
}

function openAIMessagesToNeutral(rawMessages: unknown[]): ChatMessage[] {
  const messages: ChatMessage[] = [];
  rawMessages.forEach((raw, index) => {
    const path = `body.messages[${index}]`;
    if (!isJsonObject(raw)) invalid(path, 'a message object', raw);
    const role = raw.role;
    switch (role) {
      case 'system':
      case 'developer': {
        const message: ChatMessage = { role: 'system', content: openAIContentToNeutral(raw.content, path) };
        if (typeof raw.name === 'string') message.name = raw.name;
        const rest = unknownFields(raw, messageFields);
        const extra = role === 'developer' ? { ...rest, role } : rest;
        if (extra) message.providerOptions = { openai: extra };
        markArrayForm(message, raw.content);
        messages.push(message);
        return;
      }
      case 'user': {
        const message: ChatMessage = { role: 'user', content: openAIContentToNeutral(raw.content, path) };
        if (typeof raw.name === 'string') message.name = raw.name;
        const rest = unknownFields(raw, messageFields);
        if (rest) message.providerOptions = { openai: rest };
        markArrayForm(message, raw.content);
        messages.push(message);
        return;
      }
      case 'assistant': {
        const content: ContentPart[] =
          raw.content === null || raw.content === undefined ? [] : openAIContentToNeutral(raw.content, path);
        const toolCalls = optionalArray(raw, 'tool_calls', path) ?? [];
        toolCalls.forEach((call, callIndex) => {
          const callPath = `${path}.tool_calls[${callIndex}]`;
          if (!isJsonObject(call) || !isJsonObject(call.function))
            invalid(callPath, 'a function tool call', call);
          content.push({
            type: 'tool-call',
            id: requireString(call, 'id', callPath),
            name: requireString(call.function, 'name', `${callPath}.function`),
            arguments: typeof call.function.arguments === 'string' ? call.function.arguments : '',
          });
        });
        const message: ChatMessage = { role: 'assistant', content };
        if (typeof raw.name === 'string') message.name = raw.name;
        const rest = unknownFields(raw, assistantFields);
        if (rest) message.providerOptions = { openai: rest };
        markArrayForm(message, raw.content);
        messages.push(message);
        return;
      }
      case 'tool': {
        const result: ToolResultPart = {
          type: 'tool-result',
          toolCallId: requireString(raw, 'tool_call_id', path),
          content: openAIContentToNeutral(raw.content, path) as Array<TextPart | ImagePart>,
        };
        markArrayForm(result, raw.content);
        const previous = messages.at(-1);
        // Consecutive tool messages answer one assistant turn: keep them together, as Anthropic does.
        if (previous?.role === 'tool') previous.content.push(result);
        else messages.push({ role: 'tool', content: [result] });
        return;
      }
      default:
        invalid(`${path}.role`, '"system", "developer", "user", "assistant" or "tool"', role);
    }
  });
  return messages;
}

const messageFields = new Set(['role', 'content', 'name']);

/** Whether content was sent as an array of one text part, which reads the same as a string. */
function isOneTextArray(content: unknown): boolean {
  if (!Array.isArray(content) || content.length !== 1) return false;
  const only: unknown = content[0];
  return isJsonObject(only) && only.type === 'text' && Object.keys(only).length === 2;
}

/** Adds the marker that keeps the client's array form through a round trip. */
function markArrayForm(target: { providerOptions?: ProviderOptions }, content: unknown): void {
  if (!isOneTextArray(content)) return;
  target.providerOptions = { openai: { ...target.providerOptions?.openai, contentArray: true } };
}
const assistantFields = new Set(['role', 'content', 'name', 'tool_calls']);

function openAIContentToNeutral(content: unknown, path: string): ContentPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (content === null || content === undefined) return [];
  if (!Array.isArray(content)) invalid(`${path}.content`, 'a string or an array of parts', content);
  return content.map((part, index): ContentPart => {
    const partPath = `${path}.content[${index}]`;
    if (!isJsonObject(part)) invalid(partPath, 'a content part object', part);
    switch (part.type) {
      case 'text':
        return { type: 'text', text: requireString(part, 'text', partPath) };
      case 'refusal':
        return {
          type: 'text',
          text: requireString(part, 'refusal', partPath),
          providerOptions: { openai: { type: 'refusal' } },
        };
      case 'image_url': {
        const image = part.image_url;
        if (!isJsonObject(image)) invalid(`${partPath}.image_url`, 'an object with a url', image);
        const imagePart: ImagePart = {
          type: 'image',
          source: { kind: 'url', url: requireString(image, 'url', `${partPath}.image_url`) },
        };
        if (image.detail === 'auto' || image.detail === 'low' || image.detail === 'high') {
          imagePart.detail = image.detail;
        }
        return imagePart;
      }
      default:
        return unsupported(partPath, `an OpenAI content part of type ${JSON.stringify(part.type)}`);
    }
  });
}

function openAIToolToNeutral(raw: unknown, path: string): ToolDefinition {
  if (!isJsonObject(raw) || raw.type !== 'function' || !isJsonObject(raw.function)) {
    return invalid(path, 'a {"type":"function","function":{...}} tool', raw);
  }
  const fn = raw.function;
  const tool: ToolDefinition = { name: requireString(fn, 'name', `${path}.function`) };
  if (typeof fn.description === 'string') tool.description = fn.description;
  if (isJsonObject(fn.parameters)) tool.parameters = fn.parameters;
  if (typeof fn.strict === 'boolean') tool.strict = fn.strict;
  return tool;
}

function openAIToolChoiceToNeutral(raw: unknown): ToolChoice {
  if (raw === 'auto' || raw === 'none' || raw === 'required') return { type: raw };
  if (isJsonObject(raw) && raw.type === 'function' && isJsonObject(raw.function)) {
    return { type: 'tool', name: requireString(raw.function, 'name', 'body.tool_choice.function') };
  }
  return invalid('body.tool_choice', '"auto", "none", "required" or a function choice', raw);
}

/**
 * Writes a neutral request as an OpenAI chat-completions body.
 *
 * `system` becomes a leading system message; tool results become one `tool` message each; images
 * inside tool results (which OpenAI's tool messages cannot carry) follow in a user message;
 * reasoning parts are dropped (OpenAI accepts none back).
 *
 * @param request the neutral request
 * @returns the body to send to `/v1/chat/completions`
 * @example
 * ```ts
 * const body = toOpenAIRequest({ model: 'gpt-4o', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] });
 * ```
 */
export function toOpenAIRequest(request: ChatRequest): OpenAIChatRequest {
  const passthrough = request.providerOptions?.openai ?? {};
  const messages: OpenAIMessage[] = [];
  if (request.system && request.system.length > 0) {
    messages.push({ role: 'system', content: neutralTextToOpenAI(request.system) });
  }
  for (const message of request.messages) messages.push(...neutralMessageToOpenAI(message));

  const body: OpenAIChatRequest = { ...passthrough, model: request.model, messages };
  if (request.tools) body.tools = request.tools.map(neutralToolToOpenAI);
  if (request.toolChoice) body.tool_choice = neutralToolChoiceToOpenAI(request.toolChoice);
  if (request.parallelToolCalls !== undefined) body.parallel_tool_calls = request.parallelToolCalls;
  if (request.maxOutputTokens !== undefined) {
    // Keep the field name the client used; newer models accept only max_completion_tokens.
    if ('max_tokens' in passthrough) body.max_tokens = request.maxOutputTokens;
    else body.max_completion_tokens = request.maxOutputTokens;
  } else {
    delete body.max_tokens;
  }
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.stopSequences) body.stop = request.stopSequences;
  if (request.stream !== undefined) body.stream = request.stream;
  if (request.user !== undefined) body.user = request.user;
  return body;
}

function neutralTextToOpenAI(parts: readonly ContentPart[], keepArray = false): string | OpenAIContentPart[] {
  const only = parts[0];
  if (!keepArray && parts.length === 1 && only?.type === 'text' && !only.providerOptions) return only.text;
  return parts.flatMap((part): OpenAIContentPart[] => {
    if (part.type === 'text') {
      return part.providerOptions?.openai?.type === 'refusal'
        ? [{ type: 'refusal', refusal: part.text }]
        : [{ type: 'text', text: part.text }];
    }
    if (part.type === 'image') return [neutralImageToOpenAI(part)];
    return [];
  });
}

function neutralImageToOpenAI(part: ImagePart): OpenAIContentPart {
  const url =
    part.source.kind === 'url' ? part.source.url : `data:${part.source.mediaType};base64,${part.source.data}`;
  const image: { url: string; detail?: 'auto' | 'low' | 'high' } = { url };
  if (part.detail) image.detail = part.detail;
  return { type: 'image_url', image_url: image };
}

function neutralMessageToOpenAI(message: ChatMessage): OpenAIMessage[] {
  const { contentArray, ...extra } = message.providerOptions?.openai ?? {};
  const keepArray = contentArray === true;
  switch (message.role) {
    case 'system': {
      const { role: originalRole, ...rest } = extra;
      const role = originalRole === 'developer' ? 'developer' : 'system';
      const out = {
        ...rest,
        role,
        content: neutralTextToOpenAI(message.content, keepArray),
      } as OpenAIMessage;
      if (message.name !== undefined) (out as { name?: string }).name = message.name;
      return [out];
    }
    case 'user': {
      const out = {
        ...extra,
        role: 'user',
        content: neutralTextToOpenAI(message.content, keepArray),
      } as OpenAIMessage;
      if (message.name !== undefined) (out as { name?: string }).name = message.name;
      return [out];
    }
    case 'assistant': {
      const visible = message.content.filter((part) => part.type === 'text' || part.type === 'image');
      const calls = message.content.filter((part): part is ToolCallPart => part.type === 'tool-call');
      const out: OpenAIMessage & { role: 'assistant' } = {
        ...extra,
        role: 'assistant',
        content: visible.length === 0 ? null : neutralTextToOpenAI(visible, keepArray),
      };
      if (message.name !== undefined) out.name = message.name;
      if (calls.length > 0) {
        out.tool_calls = calls.map((call) => ({
          id: call.id,
          type: 'function',
          function: { name: call.name, arguments: call.arguments },
        }));
      }
      return [out];
    }
    case 'tool': {
      const out: OpenAIMessage[] = [];
      const strayImages: ImagePart[] = [];
      for (const part of message.content) {
        if (part.type !== 'tool-result') continue;
        const texts = part.content.filter((inner): inner is TextPart => inner.type === 'text');
        for (const inner of part.content) if (inner.type === 'image') strayImages.push(inner);
        const keepResultArray = part.providerOptions?.openai?.contentArray === true;
        out.push({
          role: 'tool',
          tool_call_id: part.toolCallId,
          content: neutralTextToOpenAI(texts, keepResultArray),
        });
      }
      if (strayImages.length > 0) out.push({ role: 'user', content: neutralTextToOpenAI(strayImages) });
      return out;
    }
  }
}

function neutralToolToOpenAI(tool: ToolDefinition): OpenAITool {
  const fn: OpenAITool['function'] = { name: tool.name };
  if (tool.description !== undefined) fn.description = tool.description;
  if (tool.parameters !== undefined) fn.parameters = tool.parameters;
  if (tool.strict !== undefined) fn.strict = tool.strict;
  return { type: 'function', function: fn };
}

function neutralToolChoiceToOpenAI(choice: ToolChoice): OpenAIToolChoice {
  return choice.type === 'tool' ? { type: 'function', function: { name: choice.name } } : choice.type;
}

// ---------------------------------------------------------------------------------------------
// Responses and usage
// ---------------------------------------------------------------------------------------------

const finishToNeutral: Record<string, StopReason> = {
  stop: 'stop',
  length: 'length',
  tool_calls: 'tool-calls',
  function_call: 'tool-calls',
  content_filter: 'content-filter',
};

const finishFromNeutral: Record<StopReason, OpenAIFinishReason> = {
  stop: 'stop',
  length: 'length',
  'tool-calls': 'tool_calls',
  'stop-sequence': 'stop',
  'content-filter': 'content_filter',
  refusal: 'content_filter',
  pause: 'stop',
  other: 'stop',
};

/** Maps an OpenAI `finish_reason` to the neutral stop reason. */
export function openAIFinishReasonToNeutral(reason: unknown): StopReason | null {
  if (reason === null || reason === undefined) return null;
  return finishToNeutral[String(reason)] ?? 'other';
}

/**
 * Reads OpenAI's usage record.
 * @param usage the `usage` object of a response or of the final stream chunk
 * @returns neutral usage (input includes cached tokens, as OpenAI reports it)
 */
export function openAIUsageToNeutral(usage: unknown): Usage {
  if (!isJsonObject(usage)) return { inputTokens: 0, outputTokens: 0 };
  const result: Usage = {
    inputTokens: Number(usage.prompt_tokens ?? 0),
    outputTokens: Number(usage.completion_tokens ?? 0),
  };
  const cached = isJsonObject(usage.prompt_tokens_details)
    ? usage.prompt_tokens_details.cached_tokens
    : undefined;
  if (typeof cached === 'number') result.cachedInputTokens = cached;
  const reasoning = isJsonObject(usage.completion_tokens_details)
    ? usage.completion_tokens_details.reasoning_tokens
    : undefined;
  if (typeof reasoning === 'number') result.reasoningTokens = reasoning;
  return result;
}

/**
 * Writes neutral usage as OpenAI's usage record.
 * @param usage neutral usage
 * @param raw an original OpenAI usage record whose other detail fields to keep
 * @returns OpenAI's `usage` object
 */
export function neutralUsageToOpenAI(usage: Partial<Usage>, raw?: unknown): OpenAIUsage {
  const base = isJsonObject(raw) ? raw : {};
  const input = usage.inputTokens ?? 0;
  const output = usage.outputTokens ?? 0;
  const out: OpenAIUsage = {
    ...base,
    prompt_tokens: input,
    completion_tokens: output,
    total_tokens: input + output,
  };
  if (usage.cachedInputTokens !== undefined || isJsonObject(base.prompt_tokens_details)) {
    out.prompt_tokens_details = {
      ...(isJsonObject(base.prompt_tokens_details) ? base.prompt_tokens_details : {}),
      cached_tokens: usage.cachedInputTokens ?? 0,
    };
  }
  if (usage.reasoningTokens !== undefined || isJsonObject(base.completion_tokens_details)) {
    out.completion_tokens_details = {
      ...(isJsonObject(base.completion_tokens_details) ? base.completion_tokens_details : {}),
      reasoning_tokens: usage.reasoningTokens ?? 0,
    };
  }
  return out;
}

const responseFields = new Set(['id', 'object', 'created', 'model', 'choices', 'usage']);
const responseMessageFields = new Set(['role', 'content', 'tool_calls', 'reasoning_content']);

/**
 * Reads a complete OpenAI chat completion into neutral form (the first choice).
 * @param body the parsed JSON response
 * @returns the neutral response
 * @throws BallastError `CORE_INVALID_RESPONSE` when the body has no choices
 */
export function fromOpenAIResponse(body: unknown): ChatResponse {
  if (!isJsonObject(body)) return invalid('response', 'a JSON object', body);
  const choices = optionalArray(body, 'choices', 'response');
  const choice = choices?.[0];
  if (!isJsonObject(choice) || !isJsonObject(choice.message)) {
    return invalid('response.choices[0].message', 'a message', choice);
  }
  const raw = choice.message;
  const content: ContentPart[] = [];
  if (typeof raw.reasoning_content === 'string' && raw.reasoning_content !== '') {
    content.push({ type: 'reasoning', text: raw.reasoning_content });
  }
  content.push(...(openAIMessagesToNeutral([{ ...raw, role: 'assistant' }])[0]?.content.slice(0) ?? []));
  const message: ChatMessage = { role: 'assistant', content };
  const messageRest = unknownFields(raw, responseMessageFields);
  if (messageRest) message.providerOptions = { openai: messageRest };

  const response: ChatResponse = {
    id: typeof body.id === 'string' ? body.id : '',
    model: typeof body.model === 'string' ? body.model : '',
    message,
    stopReason: openAIFinishReasonToNeutral(choice.finish_reason),
    usage: openAIUsageToNeutral(body.usage),
  };
  if (typeof body.created === 'number') response.created = body.created;
  const rest = unknownFields(body, responseFields);
  const choiceRest = unknownFields(choice, new Set(['index', 'message', 'finish_reason']));
  const openai: JsonObject = { ...rest };
  if (choiceRest) openai.choice = choiceRest;
  if (isJsonObject(body.usage)) openai.usage = body.usage;
  if (Object.keys(openai).length > 0) response.providerOptions = { openai };
  return response;
}

/**
 * Writes a neutral response as an OpenAI chat completion.
 * @param response the neutral response
 * @returns the JSON body a `/v1/chat/completions` client expects
 */
export function toOpenAIResponse(response: ChatResponse): OpenAIChatResponse {
  const extra = response.providerOptions?.openai ?? {};
  const { choice: choiceExtra, usage: rawUsage, ...rest } = extra;
  const [assistant] = neutralMessageToOpenAI(response.message) as Array<
    OpenAIMessage & { role: 'assistant' }
  >;
  const reasoning = response.message.content
    .filter((part) => part.type === 'reasoning')
    .map((part) => (part.type === 'reasoning' ? part.text : ''))
    .join('');
  const message: OpenAIChatResponse['choices'][number]['message'] = {
    ...assistant,
    role: 'assistant',
    content: typeof assistant?.content === 'string' ? assistant.content : contentText(assistant?.content),
  };
  if (!('refusal' in message)) message.refusal = null;
  if (reasoning !== '') message.reasoning_content = reasoning;
  return {
    ...rest,
    id: response.id,
    object: 'chat.completion',
    created: response.created ?? Math.floor(Date.now() / 1000),
    model: response.model,
    choices: [
      {
        index: 0,
        message,
        ...(isJsonObject(choiceExtra) ? choiceExtra : { logprobs: null }),
        finish_reason: response.stopReason === null ? null : finishFromNeutral[response.stopReason],
      },
    ],
    usage: neutralUsageToOpenAI(response.usage, rawUsage),
  };
}

function contentText(content: string | OpenAIContentPart[] | null | undefined): string | null {
  if (content === null || content === undefined) return null;
  if (typeof content === 'string') return content;
  return content.map((part) => (part.type === 'text' ? part.text : '')).join('');
}

// ---------------------------------------------------------------------------------------------
// Streams
// ---------------------------------------------------------------------------------------------

/** Turns OpenAI stream events into neutral stream events, one SSE event at a time. */
export interface OpenAIStreamDecoder {
  push(event: SseEvent): StreamEvent[];
}

/**
 * Creates a decoder for an OpenAI chat-completions stream.
 * @returns a decoder; feed it each parsed SSE event in order
 * @example
 * ```ts
 * const decoder = createOpenAIStreamDecoder();
 * for await (const event of parseSseStream(response.body)) for (const step of decoder.push(event)) ...
 * ```
 */
export function createOpenAIStreamDecoder(): OpenAIStreamDecoder {
  let started = false;
  const startedTools = new Set<number>();
  return {
    push(event) {
      if (event.data === '[DONE]') return [{ type: 'end' }];
      let chunk: unknown;
      try {
        chunk = JSON.parse(event.data);
      } catch {
        return [];
      }
      if (!isJsonObject(chunk)) return [];
      const out: StreamEvent[] = [];
      if (isJsonObject(chunk.error)) {
        out.push({
          type: 'error',
          errorType: String(chunk.error.type ?? chunk.error.code ?? 'api_error'),
          message: String(chunk.error.message ?? 'upstream error'),
        });
        return out;
      }
      if (!started) {
        started = true;
        const start: StreamEvent & { type: 'message-start' } = {
          type: 'message-start',
          id: typeof chunk.id === 'string' ? chunk.id : '',
          model: typeof chunk.model === 'string' ? chunk.model : '',
        };
        if (typeof chunk.created === 'number') start.created = chunk.created;
        out.push(start);
      }
      const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
      const choice = choices.find((candidate) => isJsonObject(candidate) && (candidate.index ?? 0) === 0);
      if (isJsonObject(choice)) {
        const delta = isJsonObject(choice.delta) ? choice.delta : {};
        const reasoning = delta.reasoning_content ?? delta.reasoning;
        if (typeof reasoning === 'string' && reasoning !== '')
          out.push({ type: 'reasoning-delta', text: reasoning });
        if (typeof delta.content === 'string' && delta.content !== '') {
          out.push({ type: 'text-delta', text: delta.content });
        }
        if (typeof delta.refusal === 'string' && delta.refusal !== '') {
          out.push({ type: 'text-delta', text: delta.refusal });
        }
        if (Array.isArray(delta.tool_calls)) {
          for (const call of delta.tool_calls) {
            if (!isJsonObject(call)) continue;
            const toolIndex = typeof call.index === 'number' ? call.index : 0;
            const fn = isJsonObject(call.function) ? call.function : {};
            if (!startedTools.has(toolIndex)) {
              startedTools.add(toolIndex);
              out.push({
                type: 'tool-call-start',
                toolIndex,
                id: typeof call.id === 'string' ? call.id : `call_${toolIndex}`,
                name: typeof fn.name === 'string' ? fn.name : '',
              });
            }
            if (typeof fn.arguments === 'string' && fn.arguments !== '') {
              out.push({ type: 'tool-call-delta', toolIndex, argumentsDelta: fn.arguments });
            }
          }
        }
        if (choice.finish_reason !== null && choice.finish_reason !== undefined) {
          out.push({ type: 'finish', stopReason: openAIFinishReasonToNeutral(choice.finish_reason) });
        }
      }
      if (isJsonObject(chunk.usage)) out.push({ type: 'usage', usage: openAIUsageToNeutral(chunk.usage) });
      return out;
    },
  };
}

/** Options of {@link createOpenAIStreamEncoder}. */
export interface OpenAIStreamEncoderOptions {
  /** Whether the client asked for the usage chunk (`stream_options.include_usage`). @default false */
  includeUsage?: boolean;
}

/** Turns neutral stream events into OpenAI SSE events. */
export interface OpenAIStreamEncoder {
  push(event: StreamEvent): SseEvent[];
}

/**
 * Creates an encoder that writes neutral stream events as an OpenAI chat-completions stream.
 * The finish chunk goes out when it arrives; the usage chunk (if asked for) and `[DONE]` on `end`.
 * @param options whether to emit the usage chunk
 * @returns the encoder
 */
export function createOpenAIStreamEncoder(options: OpenAIStreamEncoderOptions = {}): OpenAIStreamEncoder {
  let id = '';
  let model = '';
  let created = Math.floor(Date.now() / 1000);
  const usage: Partial<Usage> = {};
  let ended = false;
  const chunk = (delta: JsonObject, finishReason: OpenAIFinishReason | null = null): SseEvent => ({
    data: JSON.stringify({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    }),
  });
  return {
    push(event) {
      if (ended) return [];
      switch (event.type) {
        case 'message-start':
          id = event.id;
          model = event.model;
          if (event.created !== undefined) created = event.created;
          Object.assign(usage, event.usage);
          return [chunk({ role: 'assistant', content: '', refusal: null })];
        case 'text-delta':
          return [chunk({ content: event.text })];
        case 'reasoning-delta':
          return [chunk({ reasoning_content: event.text })];
        case 'reasoning-signature':
          return [];
        case 'tool-call-start':
          return [
            chunk({
              tool_calls: [
                {
                  index: event.toolIndex,
                  id: event.id,
                  type: 'function',
                  function: { name: event.name, arguments: '' },
                },
              ],
            }),
          ];
        case 'tool-call-delta':
          return [
            chunk({
              tool_calls: [{ index: event.toolIndex, function: { arguments: event.argumentsDelta } }],
            }),
          ];
        case 'finish':
          return [chunk({}, event.stopReason === null ? 'stop' : finishFromNeutral[event.stopReason])];
        case 'usage':
          Object.assign(usage, event.usage);
          return [];
        case 'error':
          return [
            {
              data: JSON.stringify({ error: { message: event.message, type: event.errorType, code: null } }),
            },
          ];
        case 'end': {
          ended = true;
          const out: SseEvent[] = [];
          if (options.includeUsage) {
            out.push({
              data: JSON.stringify({
                id,
                object: 'chat.completion.chunk',
                created,
                model,
                choices: [],
                usage: neutralUsageToOpenAI(usage),
              }),
            });
          }
          out.push({ data: '[DONE]' });
          return out;
        }
      }
    },
  };
}
