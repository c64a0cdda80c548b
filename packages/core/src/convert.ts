import {
  type AnthropicMessagesRequest,
  type AnthropicMessagesResponse,
  anthropicUsageToNeutral,
  createAnthropicStreamDecoder,
  createAnthropicStreamEncoder,
  fromAnthropicRequest,
  fromAnthropicResponse,
  type ToAnthropicRequestOptions,
  toAnthropicRequest,
  toAnthropicResponse,
} from './anthropic.js';
import type { ChatRequest, ChatResponse, Dialect, StreamEvent, Usage } from './chat.js';
import {
  createOpenAIStreamDecoder,
  createOpenAIStreamEncoder,
  fromOpenAIRequest,
  fromOpenAIResponse,
  type OpenAIChatRequest,
  type OpenAIChatResponse,
  openAIUsageToNeutral,
  toOpenAIRequest,
  toOpenAIResponse,
} from './openai.js';
import type { SseEvent } from './sse.js';
import { isJsonObject } from './wire-util.js';

/** A request body of either dialect. */
export type DialectRequest = OpenAIChatRequest | AnthropicMessagesRequest;
/** A response body of either dialect. */
export type DialectResponse = OpenAIChatResponse | AnthropicMessagesResponse;

/**
 * Reads a request body of `dialect` into neutral form.
 * @param dialect the endpoint the body was sent to
 * @param body the parsed JSON body
 * @returns the neutral request
 * @throws BallastError `CORE_INVALID_REQUEST` naming the malformed field
 * @example
 * ```ts
 * const request = parseRequest('anthropic', body);
 * const upstreamBody = formatRequest('openai', request);
 * ```
 */
export function parseRequest(dialect: Dialect, body: unknown): ChatRequest {
  return dialect === 'openai' ? fromOpenAIRequest(body) : fromAnthropicRequest(body);
}

/**
 * Writes a neutral request as a body of `dialect`.
 * @param dialect the provider's dialect
 * @param request the neutral request
 * @param options Anthropic's default output cap
 * @returns the body to send
 */
export function formatRequest(
  dialect: Dialect,
  request: ChatRequest,
  options: ToAnthropicRequestOptions = {},
): DialectRequest {
  return dialect === 'openai' ? toOpenAIRequest(request) : toAnthropicRequest(request, options);
}

/**
 * Reads a complete response body of `dialect` into neutral form.
 * @param dialect the provider's dialect
 * @param body the parsed JSON body
 * @returns the neutral response
 */
export function parseResponse(dialect: Dialect, body: unknown): ChatResponse {
  return dialect === 'openai' ? fromOpenAIResponse(body) : fromAnthropicResponse(body);
}

/**
 * Writes a neutral response as a body of `dialect`.
 * @param dialect the client's dialect
 * @param response the neutral response
 * @returns the body to return to the client
 */
export function formatResponse(dialect: Dialect, response: ChatResponse): DialectResponse {
  return dialect === 'openai' ? toOpenAIResponse(response) : toAnthropicResponse(response);
}

/**
 * Converts a request body from one dialect to another through the neutral form.
 * @param from the body's dialect
 * @param to the wanted dialect
 * @param body the parsed JSON body
 * @returns the converted body
 */
export function convertRequest(from: Dialect, to: Dialect, body: unknown): DialectRequest {
  return formatRequest(to, parseRequest(from, body));
}

/**
 * Converts a complete response body from one dialect to another.
 * @param from the body's dialect
 * @param to the wanted dialect
 * @param body the parsed JSON body
 * @returns the converted body
 */
export function convertResponse(from: Dialect, to: Dialect, body: unknown): DialectResponse {
  return formatResponse(to, parseResponse(from, body));
}

/** Turns one dialect's SSE events into neutral stream events. */
export interface StreamDecoder {
  push(event: SseEvent): StreamEvent[];
}

/** Turns neutral stream events into one dialect's SSE events. */
export interface StreamEncoder {
  push(event: StreamEvent): SseEvent[];
}

/**
 * Creates a decoder for a stream of `dialect`.
 * @param dialect the stream's dialect
 * @returns the decoder
 */
export function createStreamDecoder(dialect: Dialect): StreamDecoder {
  return dialect === 'openai' ? createOpenAIStreamDecoder() : createAnthropicStreamDecoder();
}

/** Options of {@link createStreamEncoder}. */
export interface StreamEncoderOptions {
  /** OpenAI: emit the usage chunk the client asked for with `stream_options.include_usage`. */
  includeUsage?: boolean;
  /** Anthropic: input tokens to report in `message_start` when the source has none yet. */
  inputTokens?: number;
}

/**
 * Creates an encoder that writes a stream of `dialect`.
 * @param dialect the client's dialect
 * @param options dialect-specific options
 * @returns the encoder
 */
export function createStreamEncoder(dialect: Dialect, options: StreamEncoderOptions = {}): StreamEncoder {
  if (dialect === 'openai') {
    return createOpenAIStreamEncoder(
      options.includeUsage === undefined ? {} : { includeUsage: options.includeUsage },
    );
  }
  return createAnthropicStreamEncoder(
    options.inputTokens === undefined ? {} : { inputTokens: options.inputTokens },
  );
}

/** Translates a stream incrementally from one dialect to another. */
export interface StreamTranslator {
  /** Translates one upstream SSE event into zero or more client SSE events. */
  push(event: SseEvent): SseEvent[];
  /** Closes the client's stream properly if upstream ended without its final event. */
  end(): SseEvent[];
}

/** Options of {@link createStreamTranslator}. */
export interface StreamTranslatorOptions extends StreamEncoderOptions {
  from: Dialect;
  to: Dialect;
}

/**
 * Creates an incremental stream translator. Each upstream SSE event is translated as it arrives,
 * so nothing is buffered beyond the event at hand. With `from === to`, events pass through as they are.
 *
 * @param options source and target dialects, plus encoder options
 * @returns the translator
 * @example
 * ```ts
 * const translator = createStreamTranslator({ from: 'openai', to: 'anthropic', inputTokens: 812 });
 * for await (const event of parseSseStream(upstream.body)) {
 *   for (const out of translator.push(event)) client.write(formatSseEvent(out));
 * }
 * for (const out of translator.end()) client.write(formatSseEvent(out));
 * ```
 */
export function createStreamTranslator(options: StreamTranslatorOptions): StreamTranslator {
  if (options.from === options.to) {
    return { push: (event) => [event], end: () => [] };
  }
  const decoder = createStreamDecoder(options.from);
  const encoder = createStreamEncoder(options.to, options);
  let ended = false;
  return {
    push(event) {
      const out: SseEvent[] = [];
      for (const step of decoder.push(event)) {
        if (step.type === 'end') ended = true;
        out.push(...encoder.push(step));
      }
      return out;
    },
    end() {
      if (ended) return [];
      ended = true;
      return encoder.push({ type: 'end' });
    },
  };
}

/**
 * Reads the usage of a complete response body of `dialect`.
 * @param dialect the body's dialect
 * @param body the parsed JSON body
 * @returns the usage, zeros when the body has none
 */
export function extractUsage(dialect: Dialect, body: unknown): Usage {
  if (!isJsonObject(body)) return { inputTokens: 0, outputTokens: 0 };
  if (dialect === 'openai') return openAIUsageToNeutral(body.usage);
  const usage = anthropicUsageToNeutral(body.usage);
  return { ...usage, inputTokens: usage.inputTokens ?? 0, outputTokens: usage.outputTokens ?? 0 };
}
