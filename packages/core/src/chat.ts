/**
 * Provider-neutral chat vocabulary. Every package reads requests of either dialect
 * (OpenAI chat completions, Anthropic messages) through these types.
 */

/** The two wire dialects Ballast speaks. */
export type Dialect = 'openai' | 'anthropic';

/** Who said a message. `tool` messages carry tool results only. */
export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';

/** Anthropic-style prompt-cache breakpoint; OpenAI caches automatically and ignores it. */
export interface CacheControl {
  type: 'ephemeral';
  ttl?: '5m' | '1h';
}

/** Fields of one dialect that have no neutral meaning, kept so a same-dialect round trip is lossless. */
export interface ProviderOptions {
  openai?: Record<string, unknown>;
  anthropic?: Record<string, unknown>;
}

/** Plain text. */
export interface TextPart {
  type: 'text';
  text: string;
  cacheControl?: CacheControl;
  providerOptions?: ProviderOptions;
}

/** An image, by URL (including `data:` URLs) or as base64 bytes. */
export interface ImagePart {
  type: 'image';
  source: { kind: 'url'; url: string } | { kind: 'base64'; mediaType: string; data: string };
  /** OpenAI's resolution hint. */
  detail?: 'auto' | 'low' | 'high';
  cacheControl?: CacheControl;
  providerOptions?: ProviderOptions;
}

/** A model's request to call a tool. */
export interface ToolCallPart {
  type: 'tool-call';
  id: string;
  name: string;
  /** The arguments as JSON text, exactly as the model produced them. */
  arguments: string;
  cacheControl?: CacheControl;
  providerOptions?: ProviderOptions;
}

/** The result of a tool call, sent back to the model. */
export interface ToolResultPart {
  type: 'tool-result';
  toolCallId: string;
  content: Array<TextPart | ImagePart>;
  isError?: boolean;
  cacheControl?: CacheControl;
  providerOptions?: ProviderOptions;
}

/** A model's visible reasoning (Anthropic thinking; `reasoning_content` of OpenAI-compatible servers). */
export interface ReasoningPart {
  type: 'reasoning';
  text: string;
  /** Anthropic's signature, needed to send thinking back. */
  signature?: string;
  /** Anthropic `redacted_thinking` data: opaque, passed back as is. */
  redactedData?: string;
  providerOptions?: ProviderOptions;
}

/** Any part of a message. */
export type ContentPart = TextPart | ImagePart | ToolCallPart | ToolResultPart | ReasoningPart;

/** One message of a conversation. */
export interface ChatMessage {
  role: ChatRole;
  content: ContentPart[];
  /** Participant name (OpenAI `name`). */
  name?: string;
  providerOptions?: ProviderOptions;
}

/** A tool the model may call. */
export interface ToolDefinition {
  name: string;
  description?: string;
  /** JSON Schema of the arguments object (absent: the tool takes no arguments). */
  parameters?: Record<string, unknown>;
  /** OpenAI strict mode. */
  strict?: boolean;
  cacheControl?: CacheControl;
  providerOptions?: ProviderOptions;
}

/** How the model must use tools. */
export type ToolChoice =
  | { type: 'auto' }
  | { type: 'none' }
  | { type: 'required' }
  | { type: 'tool'; name: string };

/** A chat request in neutral form. */
export interface ChatRequest {
  model: string;
  /** System instructions, in order. Mid-conversation system messages may also appear in `messages`. */
  system?: TextPart[];
  messages: ChatMessage[];
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  /** Whether the model may call several tools at once (OpenAI `parallel_tool_calls`, Anthropic's inverse). */
  parallelToolCalls?: boolean;
  /** The output cap: OpenAI `max_completion_tokens`/`max_tokens`, Anthropic `max_tokens`. */
  maxOutputTokens?: number;
  temperature?: number;
  topP?: number;
  stopSequences?: string[];
  stream?: boolean;
  /** End-user id (OpenAI `user`, Anthropic `metadata.user_id`). */
  user?: string;
  providerOptions?: ProviderOptions;
}

/** Token usage of one call. `inputTokens` includes cached and cache-written input; `outputTokens` includes reasoning. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  /** Input tokens read from the provider's prompt cache. */
  cachedInputTokens?: number;
  /** Input tokens written to the prompt cache (Anthropic bills these higher). */
  cacheWriteTokens?: number;
  /** Output tokens spent on hidden reasoning. */
  reasoningTokens?: number;
}

/** Why the model stopped. */
export type StopReason =
  | 'stop'
  | 'length'
  | 'tool-calls'
  | 'stop-sequence'
  | 'content-filter'
  | 'refusal'
  | 'pause'
  | 'other';

/** A complete (non-streamed) chat response in neutral form. */
export interface ChatResponse {
  id: string;
  model: string;
  /** The assistant's message. */
  message: ChatMessage;
  stopReason: StopReason | null;
  /** The stop sequence that matched, when `stopReason` is `stop-sequence`. */
  stopSequence?: string;
  usage: Usage;
  /** Unix seconds (OpenAI `created`). */
  created?: number;
  providerOptions?: ProviderOptions;
}

/**
 * One step of a streamed response in neutral form. Dialect decoders produce these from SSE
 * events; dialect encoders turn them back into SSE events.
 */
export type StreamEvent =
  | { type: 'message-start'; id: string; model: string; created?: number; usage?: Partial<Usage> }
  | { type: 'text-delta'; text: string }
  | { type: 'reasoning-delta'; text: string }
  | { type: 'reasoning-signature'; signature: string }
  | { type: 'tool-call-start'; toolIndex: number; id: string; name: string }
  | { type: 'tool-call-delta'; toolIndex: number; argumentsDelta: string }
  | { type: 'finish'; stopReason: StopReason | null; stopSequence?: string }
  | { type: 'usage'; usage: Partial<Usage> }
  | { type: 'error'; errorType: string; message: string }
  | { type: 'end' };

/**
 * Concatenates the text parts of a message's content.
 * @param content message content
 * @returns the joined text of its `text` parts
 */
export function textOf(content: readonly ContentPart[]): string {
  let text = '';
  for (const part of content) if (part.type === 'text') text += part.text;
  return text;
}
