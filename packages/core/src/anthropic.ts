import type {
  CacheControl,
  ChatMessage,
  ChatRequest,
  ChatResponse,
  ContentPart,
  ImagePart,
  ReasoningPart,
  StopReason,
  StreamEvent,
  TextPart,
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
  parseToolArguments,
  readRequestHead,
  requireString,
  unknownFields,
  unsupported,
} from './wire-util.js';

// ---------------------------------------------------------------------------------------------
// Wire types: Anthropic messages, as the API documents them. Unknown fields are allowed.
// ---------------------------------------------------------------------------------------------

/** An Anthropic `cache_control` marker. */
export interface AnthropicCacheControl {
  type: 'ephemeral';
  ttl?: '5m' | '1h';
}

/** Anthropic content blocks that Ballast converts. */
export type AnthropicContentBlock =
  | { type: 'text'; text: string; cache_control?: AnthropicCacheControl; [field: string]: unknown }
  | {
      type: 'image';
      source: { type: 'base64'; media_type: string; data: string } | { type: 'url'; url: string };
      cache_control?: AnthropicCacheControl;
    }
  | { type: 'tool_use'; id: string; name: string; input: unknown; cache_control?: AnthropicCacheControl }
  | {
      type: 'tool_result';
      tool_use_id: string;
      content?: string | AnthropicContentBlock[];
      is_error?: boolean;
      cache_control?: AnthropicCacheControl;
    }
  | { type: 'thinking'; thinking: string; signature?: string }
  | { type: 'redacted_thinking'; data: string };

/** An Anthropic message. */
export interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: string | AnthropicContentBlock[];
}

/** An Anthropic custom tool. */
export interface AnthropicTool {
  name: string;
  description?: string;
  input_schema: Record<string, unknown>;
  cache_control?: AnthropicCacheControl;
  [field: string]: unknown;
}

/** An Anthropic `tool_choice`. */
export interface AnthropicToolChoice {
  type: 'auto' | 'any' | 'tool' | 'none';
  name?: string;
  disable_parallel_tool_use?: boolean;
}

/** The body of `POST /v1/messages`. */
export interface AnthropicMessagesRequest {
  model: string;
  max_tokens: number;
  messages: AnthropicMessage[];
  system?: string | Array<{ type: 'text'; text: string; cache_control?: AnthropicCacheControl }>;
  tools?: AnthropicTool[];
  tool_choice?: AnthropicToolChoice;
  temperature?: number;
  top_p?: number;
  stop_sequences?: string[];
  stream?: boolean;
  metadata?: { user_id?: string; [field: string]: unknown };
  [field: string]: unknown;
}

/** Anthropic's usage record. `input_tokens` excludes cache reads and writes. */
export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  [field: string]: unknown;
}

/** Anthropic stop reasons. */
export type AnthropicStopReason =
  | 'end_turn'
  | 'max_tokens'
  | 'stop_sequence'
  | 'tool_use'
  | 'pause_turn'
  | 'refusal'
  | 'model_context_window_exceeded';

/** A complete Anthropic message response. */
export interface AnthropicMessagesResponse {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: AnthropicContentBlock[];
  stop_reason: AnthropicStopReason | null;
  stop_sequence: string | null;
  usage: AnthropicUsage;
  [field: string]: unknown;
}

/**
 * The default output cap used when a neutral request without one is sent to Anthropic, which
 * requires `max_tokens`. Callers that know the model's maximum should set `maxOutputTokens`.
 */
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 4096;

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

const requestFields = new Set([
  'model',
  'max_tokens',
  'messages',
  'system',
  'tools',
  'tool_choice',
  'temperature',
  'top_p',
  'stop_sequences',
  'stream',
]);

/**
 * Reads an Anthropic messages request body into neutral form.
 *
 * A user message holding `tool_result` blocks becomes a neutral `tool` message (then a `user`
 * message for any other blocks). Fields with no neutral meaning (`top_k`, `thinking`, other
 * `metadata`, server tools) travel in `providerOptions.anthropic`.
 *
 * @param body the parsed JSON body
 * @returns the neutral request
 * @throws BallastError `CORE_INVALID_REQUEST` naming the field when the body is malformed,
 *   `CORE_CONVERSION_UNSUPPORTED` for blocks with no neutral form (documents, search results)
 */
export function fromAnthropicRequest(input: unknown): ChatRequest {
  const { body, model, messages } = readRequestHead(input);
  const request: ChatRequest = { model, messages: anthropicMessagesToNeutral(messages) };
  const rest: JsonObject = unknownFields(body, requestFields) ?? {};
  if (body.system !== undefined && body.system !== null) {
    request.system = anthropicBlocksToNeutral(body.system, 'body.system').map((part) => {
      if (part.type !== 'text') invalid('body.system', 'text blocks', part);
      return part;
    }) as TextPart[];
  }
  const tools = optionalArray(body, 'tools', 'body');
  if (tools) {
    const custom: ToolDefinition[] = [];
    const server: unknown[] = [];
    tools.forEach((tool, index) => {
      if (isJsonObject(tool) && typeof tool.type === 'string' && tool.type !== 'custom') server.push(tool);
      else custom.push(anthropicToolToNeutral(tool, `body.tools[${index}]`));
    });
    request.tools = custom;
    if (server.length > 0) rest.server_tools = server;
  }
  if (isJsonObject(body.tool_choice)) {
    const choice = body.tool_choice;
    if (choice.type === 'auto' || choice.type === 'none') request.toolChoice = { type: choice.type };
    else if (choice.type === 'any') request.toolChoice = { type: 'required' };
    else if (choice.type === 'tool') {
      request.toolChoice = { type: 'tool', name: requireString(choice, 'name', 'body.tool_choice') };
    } else invalid('body.tool_choice.type', '"auto", "any", "tool" or "none"', choice.type);
    if (typeof choice.disable_parallel_tool_use === 'boolean') {
      request.parallelToolCalls = !choice.disable_parallel_tool_use;
    }
  }
  const maxTokens = optionalNumber(body, 'max_tokens', 'body');
  if (maxTokens !== undefined) request.maxOutputTokens = maxTokens;
  const temperature = optionalNumber(body, 'temperature', 'body');
  if (temperature !== undefined) request.temperature = temperature;
  const topP = optionalNumber(body, 'top_p', 'body');
  if (topP !== undefined) request.topP = topP;
  const stops = optionalArray(body, 'stop_sequences', 'body');
  if (stops) request.stopSequences = stops.map(String);
  if (typeof body.stream === 'boolean') request.stream = body.stream;
  if (isJsonObject(body.metadata)) {
    const { user_id: userId, ...metadataRest } = body.metadata;
    if (typeof userId === 'string') request.user = userId;
    if (Object.keys(metadataRest).length > 0) rest.metadata = metadataRest;
    else delete rest.metadata;
  }
  if (Object.keys(rest).length > 0) request.providerOptions = { anthropic: rest };
  return request;
}

function anthropicMessagesToNeutral(rawMessages: unknown[]): ChatMessage[] {
  const messages: ChatMessage[] = [];
  rawMessages.forEach((raw, index) => {
    const path = `body.messages[${index}]`;
    if (!isJsonObject(raw)) invalid(path, 'a message object', raw);
    const parts = anthropicBlocksToNeutral(raw.content, `${path}.content`);
    if (raw.role === 'assistant') {
      const message: ChatMessage = { role: 'assistant', content: parts };
      if (isOneTextArray(raw.content)) message.providerOptions = arrayForm;
      messages.push(message);
      return;
    }
    if (raw.role !== 'user') invalid(`${path}.role`, '"user" or "assistant"', raw.role);
    // Runs of tool results become a neutral tool message; other blocks a user message, in order.
    let current: ChatMessage | undefined;
    for (const part of parts) {
      const role = part.type === 'tool-result' ? 'tool' : 'user';
      if (current?.role !== role) {
        current = { role, content: [] };
        messages.push(current);
      }
      current.content.push(part);
    }
    if (parts.length === 0) messages.push({ role: 'user', content: [] });
    else if (current && isOneTextArray(raw.content)) current.providerOptions = arrayForm;
  });
  return messages;
}

function cacheControlOf(block: JsonObject): CacheControl | undefined {
  const control = block.cache_control;
  if (!isJsonObject(control) || control.type !== 'ephemeral') return undefined;
  return control.ttl === '5m' || control.ttl === '1h'
    ? { type: 'ephemeral', ttl: control.ttl }
    : { type: 'ephemeral' };
}

function withCache<T extends ContentPart | ToolDefinition>(target: T, block: JsonObject): T {
  const control = cacheControlOf(block);
  if (control) (target as { cacheControl?: CacheControl }).cacheControl = control;
  return target;
}

/** Whether content was sent as an array of one plain text block, which reads the same as a string. */
function isOneTextArray(content: unknown): boolean {
  if (!Array.isArray(content) || content.length !== 1) return false;
  const only: unknown = content[0];
  return isJsonObject(only) && only.type === 'text' && Object.keys(only).length === 2;
}

/** Marks where the client used the array form, so the round trip keeps it. */
const arrayForm = { anthropic: { contentArray: true } };

function anthropicBlocksToNeutral(content: unknown, path: string): ContentPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) return invalid(path, 'a string or an array of content blocks', content);
  return content.map((block, index): ContentPart => {
    const blockPath = `${path}[${index}]`;
    if (!isJsonObject(block)) invalid(blockPath, 'a content block object', block);
    switch (block.type) {
      case 'text': {
        const part: TextPart = withCache(
          { type: 'text', text: requireString(block, 'text', blockPath) },
          block,
        );
        const rest = unknownFields(block, new Set(['type', 'text', 'cache_control']));
        if (rest) part.providerOptions = { anthropic: rest };
        return part;
      }
      case 'image': {
        const source = block.source;
        if (!isJsonObject(source)) invalid(`${blockPath}.source`, 'an image source', source);
        if (source.type === 'base64') {
          return withCache(
            {
              type: 'image',
              source: {
                kind: 'base64',
                mediaType: requireString(source, 'media_type', `${blockPath}.source`),
                data: requireString(source, 'data', `${blockPath}.source`),
              },
            },
            block,
          );
        }
        if (source.type === 'url') {
          return withCache(
            {
              type: 'image',
              source: { kind: 'url', url: requireString(source, 'url', `${blockPath}.source`) },
            },
            block,
          );
        }
        return invalid(`${blockPath}.source.type`, '"base64" or "url"', source.type);
      }
      case 'tool_use':
        return withCache(
          {
            type: 'tool-call',
            id: requireString(block, 'id', blockPath),
            name: requireString(block, 'name', blockPath),
            arguments: JSON.stringify(block.input ?? {}),
          },
          block,
        );
      case 'tool_result': {
        const inner =
          block.content === undefined || block.content === null
            ? []
            : anthropicBlocksToNeutral(block.content, `${blockPath}.content`);
        for (const part of inner) {
          if (part.type !== 'text' && part.type !== 'image') {
            invalid(`${blockPath}.content`, 'text and image blocks only', part.type);
          }
        }
        const result: ToolResultPart = {
          type: 'tool-result',
          toolCallId: requireString(block, 'tool_use_id', blockPath),
          content: inner as Array<TextPart | ImagePart>,
        };
        if (block.is_error === true) result.isError = true;
        if (isOneTextArray(block.content)) result.providerOptions = arrayForm;
        return withCache(result, block);
      }
      case 'thinking': {
        const part: ReasoningPart = { type: 'reasoning', text: requireString(block, 'thinking', blockPath) };
        if (typeof block.signature === 'string') part.signature = block.signature;
        return part;
      }
      case 'redacted_thinking':
        return { type: 'reasoning', text: '', redactedData: requireString(block, 'data', blockPath) };
      default:
        return unsupported(blockPath, `an Anthropic content block of type ${JSON.stringify(block.type)}`);
    }
  });
}

function anthropicToolToNeutral(raw: unknown, path: string): ToolDefinition {
  if (!isJsonObject(raw)) return invalid(path, 'a tool object', raw);
  const tool: ToolDefinition = withCache({ name: requireString(raw, 'name', path) }, raw);
  if (typeof raw.description === 'string') tool.description = raw.description;
  if (!isJsonObject(raw.input_schema))
    invalid(`${path}.input_schema`, 'a JSON Schema object', raw.input_schema);
  tool.parameters = raw.input_schema;
  const rest = unknownFields(raw, new Set(['name', 'description', 'input_schema', 'cache_control']));
  if (rest) tool.providerOptions = { anthropic: rest };
  return tool;
}

/** Options of {@link toAnthropicRequest}. */
export interface ToAnthropicRequestOptions {
  /** `max_tokens` when the request has no output cap. @default DEFAULT_ANTHROPIC_MAX_TOKENS */
  defaultMaxTokens?: number;
}

/**
 * Writes a neutral request as an Anthropic messages body.
 *
 * All system text (the `system` field, then any system messages, in order) becomes the top-level
 * `system`; tool messages become user messages of `tool_result` blocks, merged with the user
 * message that follows them, as Anthropic requires.
 *
 * @param request the neutral request
 * @param options the default output cap
 * @returns the body to send to `/v1/messages`
 * @throws BallastError `CORE_INVALID_TOOL_ARGUMENTS` when an assistant tool call's arguments are not a JSON object
 */
export function toAnthropicRequest(
  request: ChatRequest,
  options: ToAnthropicRequestOptions = {},
): AnthropicMessagesRequest {
  const { server_tools: serverTools, ...passthrough } = request.providerOptions?.anthropic ?? {};
  const systemParts: TextPart[] = [...(request.system ?? [])];
  const messages: AnthropicMessage[] = [];
  request.messages.forEach((message, index) => {
    const path = `messages[${index}]`;
    if (message.role === 'system') {
      for (const part of message.content) if (part.type === 'text') systemParts.push(part);
      return;
    }
    const role = message.role === 'assistant' ? 'assistant' : 'user';
    const blocks = message.content.flatMap((part, partIndex) =>
      neutralPartToAnthropic(part, `${path}.content[${partIndex}]`),
    );
    const previous = messages.at(-1);
    const previousNeutral = index > 0 ? request.messages[index - 1] : undefined;
    // A tool message and the user message after it are one Anthropic user turn.
    if (role === 'user' && previous?.role === 'user' && previousNeutral?.role === 'tool') {
      previous.content = [...(previous.content as AnthropicContentBlock[]), ...blocks];
      return;
    }
    messages.push({
      role,
      content: message.providerOptions?.anthropic?.contentArray ? blocks : compactBlocks(blocks),
    });
  });

  const body: AnthropicMessagesRequest = {
    ...passthrough,
    model: request.model,
    max_tokens: request.maxOutputTokens ?? options.defaultMaxTokens ?? DEFAULT_ANTHROPIC_MAX_TOKENS,
    messages,
  };
  if (systemParts.length > 0) {
    const only = systemParts[0];
    body.system =
      systemParts.length === 1 && only && !only.cacheControl && !only.providerOptions
        ? only.text
        : systemParts.map((part) => {
            const block: { type: 'text'; text: string; cache_control?: AnthropicCacheControl } = {
              type: 'text',
              text: part.text,
            };
            if (part.cacheControl) block.cache_control = part.cacheControl;
            return block;
          });
  }
  const tools: AnthropicTool[] = (request.tools ?? []).map((tool) => {
    const out: AnthropicTool = {
      ...(tool.providerOptions?.anthropic ?? {}),
      name: tool.name,
      input_schema: tool.parameters ?? { type: 'object', properties: {} },
    };
    if (tool.description !== undefined) out.description = tool.description;
    if (tool.cacheControl) out.cache_control = tool.cacheControl;
    return out;
  });
  if (Array.isArray(serverTools)) tools.push(...(serverTools as AnthropicTool[]));
  if (request.tools || Array.isArray(serverTools)) body.tools = tools;
  const choice = neutralToolChoiceToAnthropic(request.toolChoice, request.parallelToolCalls);
  if (choice) body.tool_choice = choice;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.stopSequences) body.stop_sequences = request.stopSequences;
  if (request.stream !== undefined) body.stream = request.stream;
  if (request.user !== undefined || isJsonObject(passthrough.metadata)) {
    body.metadata = { ...(isJsonObject(passthrough.metadata) ? passthrough.metadata : {}) };
    if (request.user !== undefined) body.metadata.user_id = request.user;
  }
  return body;
}

/** A one-text-block message without extras reads best, and round-trips, as a plain string. */
function compactBlocks(blocks: AnthropicContentBlock[]): string | AnthropicContentBlock[] {
  const only = blocks[0];
  if (blocks.length === 1 && only?.type === 'text' && Object.keys(only).length === 2) return only.text;
  return blocks;
}

function neutralPartToAnthropic(part: ContentPart, path: string): AnthropicContentBlock[] {
  const cache = part.type !== 'reasoning' && part.cacheControl ? { cache_control: part.cacheControl } : {};
  switch (part.type) {
    case 'text':
      // OpenAI refusals are plain assistant text to Anthropic.
      return [
        {
          ...(part.providerOptions?.anthropic ?? {}),
          type: 'text',
          text: part.text,
          ...cache,
        },
      ];
    case 'image':
      return [{ type: 'image', source: neutralImageSource(part), ...cache }];
    case 'tool-call':
      return [
        {
          type: 'tool_use',
          id: part.id,
          name: part.name,
          input: parseToolArguments(part.arguments, path),
          ...cache,
        },
      ];
    case 'tool-result': {
      const block: AnthropicContentBlock & { type: 'tool_result' } = {
        type: 'tool_result',
        tool_use_id: part.toolCallId,
      };
      if (part.content.length > 0) {
        const inner = part.content.flatMap((innerPart, index) =>
          neutralPartToAnthropic(innerPart, `${path}.content[${index}]`),
        );
        block.content = part.providerOptions?.anthropic?.contentArray ? inner : compactBlocks(inner);
      }
      if (part.isError) block.is_error = true;
      if (part.cacheControl) block.cache_control = part.cacheControl;
      return [block];
    }
    case 'reasoning':
      if (part.redactedData !== undefined) return [{ type: 'redacted_thinking', data: part.redactedData }];
      // Thinking without a signature (from another provider) cannot be sent back to Anthropic.
      if (part.signature === undefined) return [];
      return [{ type: 'thinking', thinking: part.text, signature: part.signature }];
  }
}

function neutralImageSource(part: ImagePart): (AnthropicContentBlock & { type: 'image' })['source'] {
  if (part.source.kind === 'base64') {
    return { type: 'base64', media_type: part.source.mediaType, data: part.source.data };
  }
  const match = /^data:([^;,]+);base64,(.*)$/s.exec(part.source.url);
  if (match?.[1] && match[2] !== undefined) return { type: 'base64', media_type: match[1], data: match[2] };
  return { type: 'url', url: part.source.url };
}

function neutralToolChoiceToAnthropic(
  choice: ToolChoice | undefined,
  parallel: boolean | undefined,
): AnthropicToolChoice | undefined {
  if (!choice && parallel === undefined) return undefined;
  const type = choice?.type ?? 'auto';
  const out: AnthropicToolChoice =
    type === 'required'
      ? { type: 'any' }
      : type === 'tool'
        ? { type: 'tool', name: (choice as { name: string }).name }
        : { type };
  if (parallel !== undefined && type !== 'none') out.disable_parallel_tool_use = !parallel;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Responses and usage
// ---------------------------------------------------------------------------------------------

const stopToNeutral: Record<string, StopReason> = {
  end_turn: 'stop',
  max_tokens: 'length',
  stop_sequence: 'stop-sequence',
  tool_use: 'tool-calls',
  pause_turn: 'pause',
  refusal: 'refusal',
  model_context_window_exceeded: 'length',
};

const stopFromNeutral: Record<StopReason, AnthropicStopReason> = {
  stop: 'end_turn',
  length: 'max_tokens',
  'stop-sequence': 'stop_sequence',
  'tool-calls': 'tool_use',
  'content-filter': 'refusal',
  refusal: 'refusal',
  pause: 'pause_turn',
  other: 'end_turn',
};

/** Maps an Anthropic `stop_reason` to the neutral stop reason. */
export function anthropicStopReasonToNeutral(reason: unknown): StopReason | null {
  if (reason === null || reason === undefined) return null;
  return stopToNeutral[String(reason)] ?? 'other';
}

/**
 * Reads Anthropic's usage record.
 * @param usage the `usage` object of a response, `message_start` or `message_delta`
 * @returns neutral usage; its input includes cache reads and writes
 */
export function anthropicUsageToNeutral(usage: unknown): Partial<Usage> {
  if (!isJsonObject(usage)) return {};
  const result: Partial<Usage> = {};
  const cacheRead =
    typeof usage.cache_read_input_tokens === 'number' ? usage.cache_read_input_tokens : undefined;
  const cacheWrite =
    typeof usage.cache_creation_input_tokens === 'number' ? usage.cache_creation_input_tokens : undefined;
  if (typeof usage.input_tokens === 'number') {
    result.inputTokens = usage.input_tokens + (cacheRead ?? 0) + (cacheWrite ?? 0);
  }
  if (cacheRead !== undefined) result.cachedInputTokens = cacheRead;
  if (cacheWrite) result.cacheWriteTokens = cacheWrite;
  if (typeof usage.output_tokens === 'number') result.outputTokens = usage.output_tokens;
  return result;
}

/**
 * Writes neutral usage as Anthropic's usage record.
 * @param usage neutral usage
 * @param raw an original Anthropic usage record whose other fields to keep
 * @returns Anthropic's `usage` object
 */
export function neutralUsageToAnthropic(usage: Partial<Usage>, raw?: unknown): AnthropicUsage {
  const base = isJsonObject(raw) ? raw : {};
  const cached = usage.cachedInputTokens ?? 0;
  const written = usage.cacheWriteTokens ?? 0;
  return {
    ...base,
    input_tokens: Math.max(0, (usage.inputTokens ?? 0) - cached - written),
    cache_creation_input_tokens: written,
    cache_read_input_tokens: cached,
    output_tokens: usage.outputTokens ?? 0,
  };
}

const responseFields = new Set([
  'id',
  'type',
  'role',
  'model',
  'content',
  'stop_reason',
  'stop_sequence',
  'usage',
]);

/**
 * Reads a complete Anthropic message response into neutral form.
 * @param body the parsed JSON response
 * @returns the neutral response
 */
export function fromAnthropicResponse(body: unknown): ChatResponse {
  if (!isJsonObject(body)) return invalid('response', 'a JSON object', body);
  const content = anthropicBlocksToNeutral(body.content ?? [], 'response.content');
  const usage = anthropicUsageToNeutral(body.usage);
  const response: ChatResponse = {
    id: typeof body.id === 'string' ? body.id : '',
    model: typeof body.model === 'string' ? body.model : '',
    message: { role: 'assistant', content },
    stopReason: anthropicStopReasonToNeutral(body.stop_reason),
    usage: { ...usage, inputTokens: usage.inputTokens ?? 0, outputTokens: usage.outputTokens ?? 0 },
  };
  if (typeof body.stop_sequence === 'string') response.stopSequence = body.stop_sequence;
  const rest = unknownFields(body, responseFields);
  const anthropic: JsonObject = { ...rest };
  if (isJsonObject(body.usage)) anthropic.usage = body.usage;
  if (Object.keys(anthropic).length > 0) response.providerOptions = { anthropic };
  return response;
}

/**
 * Writes a neutral response as an Anthropic message.
 * @param response the neutral response
 * @returns the JSON body a `/v1/messages` client expects
 */
export function toAnthropicResponse(response: ChatResponse): AnthropicMessagesResponse {
  const { usage: rawUsage, ...rest } = response.providerOptions?.anthropic ?? {};
  const content = response.message.content.flatMap((part, index): AnthropicContentBlock[] => {
    // A response's tool arguments may be malformed JSON from another provider: keep the text visible.
    if (part.type === 'tool-call') {
      let input: unknown;
      try {
        input = parseToolArguments(part.arguments, `response.content[${index}]`);
      } catch {
        input = { _raw_arguments: part.arguments };
      }
      return [{ type: 'tool_use', id: part.id, name: part.name, input }];
    }
    if (part.type === 'reasoning') {
      if (part.redactedData !== undefined) return [{ type: 'redacted_thinking', data: part.redactedData }];
      return [{ type: 'thinking', thinking: part.text, signature: part.signature ?? '' }];
    }
    return neutralPartToAnthropic(part, `response.content[${index}]`);
  });
  return {
    id: response.id,
    type: 'message',
    role: 'assistant',
    model: response.model,
    content,
    stop_reason: response.stopReason === null ? null : stopFromNeutral[response.stopReason],
    stop_sequence: response.stopSequence ?? null,
    ...rest,
    usage: neutralUsageToAnthropic(response.usage, rawUsage),
  };
}

// ---------------------------------------------------------------------------------------------
// Streams
// ---------------------------------------------------------------------------------------------

/** Turns Anthropic stream events into neutral stream events, one SSE event at a time. */
export interface AnthropicStreamDecoder {
  push(event: SseEvent): StreamEvent[];
}

/**
 * Creates a decoder for an Anthropic messages stream.
 * @returns a decoder; feed it each parsed SSE event in order
 */
export function createAnthropicStreamDecoder(): AnthropicStreamDecoder {
  const toolIndexByBlock = new Map<number, number>();
  return {
    push(event) {
      let payload: unknown;
      try {
        payload = JSON.parse(event.data);
      } catch {
        return [];
      }
      if (!isJsonObject(payload)) return [];
      const type = payload.type ?? event.event;
      switch (type) {
        case 'message_start': {
          const message = isJsonObject(payload.message) ? payload.message : {};
          return [
            {
              type: 'message-start',
              id: typeof message.id === 'string' ? message.id : '',
              model: typeof message.model === 'string' ? message.model : '',
              usage: anthropicUsageToNeutral(message.usage),
            },
          ];
        }
        case 'content_block_start': {
          const block = isJsonObject(payload.content_block) ? payload.content_block : {};
          const index = Number(payload.index ?? 0);
          if (block.type === 'tool_use') {
            const toolIndex = toolIndexByBlock.size;
            toolIndexByBlock.set(index, toolIndex);
            return [
              {
                type: 'tool-call-start',
                toolIndex,
                id: String(block.id ?? ''),
                name: String(block.name ?? ''),
              },
            ];
          }
          if (block.type === 'text' && typeof block.text === 'string' && block.text !== '') {
            return [{ type: 'text-delta', text: block.text }];
          }
          if (block.type === 'thinking' && typeof block.thinking === 'string' && block.thinking !== '') {
            return [{ type: 'reasoning-delta', text: block.thinking }];
          }
          return [];
        }
        case 'content_block_delta': {
          const delta = isJsonObject(payload.delta) ? payload.delta : {};
          const index = Number(payload.index ?? 0);
          switch (delta.type) {
            case 'text_delta':
              return typeof delta.text === 'string' && delta.text !== ''
                ? [{ type: 'text-delta', text: delta.text }]
                : [];
            case 'input_json_delta': {
              const toolIndex = toolIndexByBlock.get(index);
              const partial = typeof delta.partial_json === 'string' ? delta.partial_json : '';
              if (toolIndex === undefined || partial === '') return [];
              return [{ type: 'tool-call-delta', toolIndex, argumentsDelta: partial }];
            }
            case 'thinking_delta':
              return typeof delta.thinking === 'string'
                ? [{ type: 'reasoning-delta', text: delta.thinking }]
                : [];
            case 'signature_delta':
              return typeof delta.signature === 'string'
                ? [{ type: 'reasoning-signature', signature: delta.signature }]
                : [];
            default:
              return [];
          }
        }
        case 'message_delta': {
          const delta = isJsonObject(payload.delta) ? payload.delta : {};
          const out: StreamEvent[] = [];
          if (delta.stop_reason !== undefined && delta.stop_reason !== null) {
            const finish: StreamEvent & { type: 'finish' } = {
              type: 'finish',
              stopReason: anthropicStopReasonToNeutral(delta.stop_reason),
            };
            if (typeof delta.stop_sequence === 'string') finish.stopSequence = delta.stop_sequence;
            out.push(finish);
          }
          if (isJsonObject(payload.usage))
            out.push({ type: 'usage', usage: anthropicUsageToNeutral(payload.usage) });
          return out;
        }
        case 'message_stop':
          return [{ type: 'end' }];
        case 'error': {
          const error = isJsonObject(payload.error) ? payload.error : {};
          return [
            {
              type: 'error',
              errorType: String(error.type ?? 'api_error'),
              message: String(error.message ?? 'upstream error'),
            },
          ];
        }
        default:
          return [];
      }
    },
  };
}

/** Options of {@link createAnthropicStreamEncoder}. */
export interface AnthropicStreamEncoderOptions {
  /** Input tokens to report in `message_start` when the source reports them only at the end. */
  inputTokens?: number;
}

/** Turns neutral stream events into Anthropic SSE events. */
export interface AnthropicStreamEncoder {
  push(event: StreamEvent): SseEvent[];
}

/**
 * Creates an encoder that writes neutral stream events as an Anthropic messages stream:
 * content blocks are opened and closed as the content changes kind; `message_delta` (stop
 * reason and final usage) and `message_stop` go out on `end`, once usage is known.
 * @param options the input-token count to show in `message_start`
 * @returns the encoder
 */
export function createAnthropicStreamEncoder(
  options: AnthropicStreamEncoderOptions = {},
): AnthropicStreamEncoder {
  let blockCount = 0;
  let open: { kind: 'text' | 'thinking' | 'tool'; index: number } | undefined;
  const blockOfTool = new Map<number, number>();
  const usage: Partial<Usage> = {};
  let finish: { stopReason: StopReason | null; stopSequence?: string } | undefined;
  let started = false;
  let ended = false;
  const sse = (name: string, payload: object): SseEvent => ({
    event: name,
    data: JSON.stringify({ type: name, ...payload }),
  });
  const close = (out: SseEvent[]): void => {
    if (!open) return;
    out.push(sse('content_block_stop', { index: open.index }));
    open = undefined;
  };
  const openBlock = (out: SseEvent[], kind: 'text' | 'thinking', block: object): number => {
    if (open?.kind === kind) return open.index;
    close(out);
    open = { kind, index: blockCount++ };
    out.push(sse('content_block_start', { index: open.index, content_block: block }));
    return open.index;
  };
  const start = (out: SseEvent[], id = '', model = ''): void => {
    if (started) return;
    started = true;
    out.push(
      sse('message_start', {
        message: {
          id,
          type: 'message',
          role: 'assistant',
          model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: neutralUsageToAnthropic({ ...usage, outputTokens: usage.outputTokens ?? 0 }),
        },
      }),
    );
  };
  return {
    push(event) {
      if (ended) return [];
      const out: SseEvent[] = [];
      switch (event.type) {
        case 'message-start':
          Object.assign(usage, event.usage);
          if (usage.inputTokens === undefined && options.inputTokens !== undefined) {
            usage.inputTokens = options.inputTokens;
          }
          start(out, event.id, event.model);
          break;
        case 'text-delta': {
          start(out);
          const index = openBlock(out, 'text', { type: 'text', text: '' });
          out.push(sse('content_block_delta', { index, delta: { type: 'text_delta', text: event.text } }));
          break;
        }
        case 'reasoning-delta': {
          start(out);
          const index = openBlock(out, 'thinking', { type: 'thinking', thinking: '', signature: '' });
          out.push(
            sse('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: event.text } }),
          );
          break;
        }
        case 'reasoning-signature': {
          start(out);
          const index = openBlock(out, 'thinking', { type: 'thinking', thinking: '', signature: '' });
          out.push(
            sse('content_block_delta', {
              index,
              delta: { type: 'signature_delta', signature: event.signature },
            }),
          );
          break;
        }
        case 'tool-call-start': {
          start(out);
          close(out);
          open = { kind: 'tool', index: blockCount++ };
          blockOfTool.set(event.toolIndex, open.index);
          out.push(
            sse('content_block_start', {
              index: open.index,
              content_block: { type: 'tool_use', id: event.id, name: event.name, input: {} },
            }),
          );
          break;
        }
        case 'tool-call-delta': {
          const index = blockOfTool.get(event.toolIndex);
          if (index === undefined) break;
          out.push(
            sse('content_block_delta', {
              index,
              delta: { type: 'input_json_delta', partial_json: event.argumentsDelta },
            }),
          );
          break;
        }
        case 'finish':
          close(out);
          finish = { stopReason: event.stopReason };
          if (event.stopSequence !== undefined) finish.stopSequence = event.stopSequence;
          break;
        case 'usage':
          Object.assign(usage, event.usage);
          break;
        case 'error':
          out.push(sse('error', { error: { type: event.errorType, message: event.message } }));
          break;
        case 'end': {
          start(out);
          close(out);
          ended = true;
          const reason = finish?.stopReason ?? 'stop';
          out.push(
            sse('message_delta', {
              delta: {
                stop_reason: reason === null ? null : stopFromNeutral[reason],
                stop_sequence: finish?.stopSequence ?? null,
              },
              // The newer message_delta form carries every counter, so input known only at the end arrives.
              usage: neutralUsageToAnthropic(usage),
            }),
          );
          out.push(sse('message_stop', {}));
          break;
        }
      }
      return out;
    },
  };
}
