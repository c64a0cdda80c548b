import { countTextTokens } from '@ballast/core';

/**
 * Token usage a reply reports. `inputTokens` includes `cachedInputTokens`, as in core's `Usage`:
 * OpenAI reports it as `prompt_tokens`, Anthropic as `input_tokens + cache_read_input_tokens`.
 *
 * @example
 * ```ts
 * const usage: MockUsage = { inputTokens: 1200, outputTokens: 40, cachedInputTokens: 1024 };
 * ```
 */
export interface MockUsage {
  /** Prompt tokens, cached ones included. @default the request's message text counted with `countTextTokens(text, 'gpt-4o')` */
  inputTokens: number;
  /** Completion tokens. @default the reply's text and tool arguments counted the same way */
  outputTokens: number;
  /** Prompt tokens read from the provider's cache. @default 0 */
  cachedInputTokens?: number;
}

/**
 * One tool call of a `tool-calls` reply.
 *
 * @example
 * ```ts
 * const call: MockToolCall = { name: 'get_weather', arguments: { city: 'Paris' } };
 * ```
 */
export interface MockToolCall {
  /** The call id. @default `call_mock_<N>_<i>` (OpenAI) or `toolu_mock_<N>_<i>` (Anthropic) */
  id?: string;
  /** The tool's name. */
  name: string;
  /** The arguments object, sent as JSON text (OpenAI) or as the `input` object (Anthropic). */
  arguments: Record<string, unknown>;
}

/**
 * What the mock provider answers to one chat request.
 *
 * - `text`: a normal answer (`finish_reason: "stop"` / `stop_reason: "end_turn"`).
 * - `tool-calls`: tool calls, optionally after some text (`tool_calls` / `tool_use`).
 * - `error`: an HTTP error in the dialect's error shape.
 * - `quota`: the provider's "out of credit" error: OpenAI 429 `insufficient_quota`, Anthropic 400
 *   "credit balance is too low", with `retry-after` and the provider's rate-limit reset headers.
 * - `hang`: the request is accepted and never answered, until the client goes away.
 * - `hang-after-headers`: 200 with SSE headers, then nothing.
 * - `disconnect`: stream `afterChunks` content chunks of `text`, then destroy the socket.
 * - a function: called with the request, returns one of the above.
 *
 * @example
 * ```ts
 * provider.script(
 *   { kind: 'quota', retryAfterSeconds: 30 },
 *   { kind: 'tool-calls', calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }] },
 *   (request) => ({ kind: 'text', text: `You asked ${request.model}.` }),
 * );
 * ```
 */
export type MockReply =
  | {
      kind: 'text';
      text: string;
      /** Number of content chunks a stream splits the text into. @default one chunk per ~4 words */
      chunkCount?: number;
      /** Pause between stream events. @default 0 (the whole stream in one write) */
      chunkDelayMs?: number;
      usage?: Partial<MockUsage>;
    }
  | {
      kind: 'tool-calls';
      calls: MockToolCall[];
      /** Text the model says before calling the tools. */
      text?: string;
      /** Pause between stream events. @default 0 */
      chunkDelayMs?: number;
      usage?: Partial<MockUsage>;
    }
  | {
      kind: 'error';
      /** The HTTP status, e.g. 500, 503, 529. */
      status: number;
      /** The error type. @default by status, e.g. `server_error` (OpenAI), `overloaded_error` for 529 (Anthropic) */
      type?: string;
      /** OpenAI's `error.code` (Anthropic has none). @default null, `rate_limit_exceeded` for 429 */
      code?: string;
      /** The error message. @default a message like the provider's for that status */
      message?: string;
      /** Extra response headers, e.g. `{ 'retry-after': '1' }`. */
      headers?: Record<string, string>;
    }
  | {
      kind: 'quota';
      /** The `retry-after` header. @default `resetSeconds`, else 60 */
      retryAfterSeconds?: number;
      /** Seconds until the provider's rate-limit windows reset. @default `retryAfterSeconds`, else 60 */
      resetSeconds?: number;
    }
  | { kind: 'hang' }
  | { kind: 'hang-after-headers' }
  | {
      kind: 'disconnect';
      /** Content chunks streamed before the socket is destroyed (a non-streaming request gets half its body). */
      afterChunks: number;
      text: string;
      /** Pause between stream events. @default 0 */
      chunkDelayMs?: number;
    }
  | ((request: RecordedRequest) => MockReply);

/**
 * A chat request the mock provider received.
 *
 * @example
 * ```ts
 * const [first] = provider.requests;
 * expect(first?.headers.authorization).toBe('Bearer test-key');
 * ```
 */
export interface RecordedRequest {
  /** Which endpoint was called: `/v1/chat/completions` is `openai`, `/v1/messages` is `anthropic`. */
  dialect: 'openai' | 'anthropic';
  /** The request path without its query string, e.g. `/v1/messages`. */
  path: string;
  /** The request headers, names lower-cased, repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** The parsed JSON body. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary fields of the body the client sent
  body: any;
  /** Whether the body asked for a stream (`stream: true`). */
  stream: boolean;
  /** The body's `model`, `''` when absent. */
  model: string;
  /** `Date.now()` when the body had been read. */
  receivedAt: number;
}

/** A reply that produces content, with its stream pieces precomputed. */
export interface PreparedContent {
  text: string;
  /** The text's stream chunks; joined they give `text` exactly. */
  chunks: string[];
  calls: PreparedToolCall[];
  /** Default output tokens: the text and the tool arguments. */
  outputTokens: number;
}

/** A tool call with its JSON arguments and their stream fragments. */
export interface PreparedToolCall {
  id: string | undefined;
  name: string;
  arguments: Record<string, unknown>;
  argumentsJson: string;
  fragments: string[];
}

type ContentReply = Extract<MockReply, { kind: 'text' } | { kind: 'tool-calls' } | { kind: 'disconnect' }>;

const WORDS_PER_CHUNK = 4;
const ARGUMENT_FRAGMENT_LENGTH = 16;
const TOKEN_MODEL = 'gpt-4o';

// Replies are usually reused (the default reply, a scripted constant), so their pieces are computed once.
const prepared = new WeakMap<object, PreparedContent>();

/**
 * Splits text into stream chunks that join back to it exactly.
 * @param text the text
 * @param chunkCount how many pieces, by code points; absent: a piece per ~4 words
 * @returns the pieces (none for empty text)
 */
export function splitText(text: string, chunkCount?: number): string[] {
  if (text.length === 0) return [];
  if (chunkCount !== undefined && chunkCount >= 1) return splitEvenly(text, Math.floor(chunkCount));
  const chunks: string[] = [];
  const wordStart = /\S+/g;
  let words = 0;
  let start = 0;
  for (let match = wordStart.exec(text); match !== null; match = wordStart.exec(text)) {
    if (words > 0 && words % WORDS_PER_CHUNK === 0) {
      chunks.push(text.slice(start, match.index));
      start = match.index;
    }
    words++;
  }
  chunks.push(text.slice(start));
  return chunks;
}

function splitEvenly(text: string, count: number): string[] {
  const codePoints = Array.from(text);
  const pieces = Math.min(count, codePoints.length);
  const chunks: string[] = [];
  let start = 0;
  for (let piece = 1; piece <= pieces; piece++) {
    const end = Math.round((codePoints.length * piece) / pieces);
    chunks.push(codePoints.slice(start, end).join(''));
    start = end;
  }
  return chunks;
}

function splitArguments(json: string): string[] {
  const codePoints = Array.from(json);
  const fragments: string[] = [];
  for (let start = 0; start < codePoints.length; start += ARGUMENT_FRAGMENT_LENGTH) {
    fragments.push(codePoints.slice(start, start + ARGUMENT_FRAGMENT_LENGTH).join(''));
  }
  return fragments;
}

/**
 * The text, stream chunks, tool calls and default output tokens of a content reply, computed once per
 * reply object.
 * @param reply a `text`, `tool-calls` or `disconnect` reply
 * @returns its prepared content
 */
export function prepareContent(reply: ContentReply): PreparedContent {
  const cached = prepared.get(reply);
  if (cached !== undefined) return cached;
  const text = reply.text ?? '';
  const calls: PreparedToolCall[] =
    reply.kind === 'tool-calls'
      ? reply.calls.map((call) => {
          const argumentsJson = JSON.stringify(call.arguments ?? {});
          return {
            id: call.id,
            name: call.name,
            arguments: call.arguments ?? {},
            argumentsJson,
            fragments: splitArguments(argumentsJson),
          };
        })
      : [];
  let counted = text;
  for (const call of calls) counted += call.argumentsJson;
  const content: PreparedContent = {
    text,
    chunks: splitText(text, reply.kind === 'text' ? reply.chunkCount : undefined),
    calls,
    outputTokens: counted.length === 0 ? 0 : countTextTokens(counted, TOKEN_MODEL),
  };
  prepared.set(reply, content);
  return content;
}
