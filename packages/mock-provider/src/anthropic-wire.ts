import { formatSseEvent } from '@ballast/core';
import type { PreparedContent } from './reply.js';
import type { ResolvedUsage } from './usage.js';
import {
  type CompleteResponse,
  type ErrorReply,
  JSON_HEADERS,
  type QuotaReply,
  quotaTiming,
  type ReplyContext,
  type StreamPlan,
} from './wire.js';

/** The header Anthropic puts its request id in. */
export const ANTHROPIC_REQUEST_ID_HEADER = 'request-id';

// Anthropic writes the ping payload with a space, unlike every other event.
const PING_EVENT = formatSseEvent({ event: 'ping', data: '{"type": "ping"}' });
const MESSAGE_STOP_EVENT = formatSseEvent({ event: 'message_stop', data: '{"type":"message_stop"}' });

function usageFields(usage: ResolvedUsage, outputTokens: number): Record<string, unknown> {
  return {
    input_tokens: Math.max(0, usage.inputTokens - usage.cachedInputTokens),
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: usage.cachedInputTokens,
    cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
    output_tokens: outputTokens,
    service_tier: 'standard',
  };
}

function toolUseId(context: ReplyContext, content: PreparedContent, index: number): string {
  return content.calls[index]?.id ?? `toolu_mock_${context.sequence}_${index}`;
}

// A text reply always has a text block; a tool-calls reply has one only when it says something first.
function hasTextBlock(content: PreparedContent): boolean {
  return content.calls.length === 0 || content.text !== '';
}

/**
 * A `message` body.
 * @param context ids, model, usage
 * @param content the reply's text and tool calls
 * @returns the JSON text
 */
export function anthropicMessage(context: ReplyContext, content: PreparedContent): string {
  const blocks: Array<Record<string, unknown>> = [];
  if (hasTextBlock(content)) blocks.push({ type: 'text', text: content.text });
  content.calls.forEach((call, index) => {
    blocks.push({
      type: 'tool_use',
      id: toolUseId(context, content, index),
      name: call.name,
      input: call.arguments,
    });
  });
  return JSON.stringify({
    id: `msg_mock_${context.sequence}`,
    type: 'message',
    role: 'assistant',
    model: context.model,
    content: blocks,
    stop_reason: content.calls.length > 0 ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage: usageFields(context.usage, context.usage.outputTokens),
  });
}

function event(type: string, data: string): string {
  return formatSseEvent({ event: type, data });
}

/**
 * A messages stream: `message_start`, each content block's start, deltas (`text_delta`,
 * `input_json_delta`) and stop, `message_delta` with the stop reason and output tokens, `message_stop`.
 * @param context ids, model, usage
 * @param content the reply's text chunks and tool calls
 * @returns the SSE blocks
 */
export function anthropicStream(context: ReplyContext, content: PreparedContent): StreamPlan {
  const start = {
    type: 'message_start',
    message: {
      model: context.model,
      id: `msg_mock_${context.sequence}`,
      type: 'message',
      role: 'assistant',
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: usageFields(context.usage, Math.min(1, context.usage.outputTokens)),
    },
  };
  const events = [event('message_start', JSON.stringify(start))];
  let blockIndex = 0;
  let contentStart = -1;
  let contentEnd = -1;
  const startBlock = (block: string): void => {
    events.push(
      event(
        'content_block_start',
        `{"type":"content_block_start","index":${blockIndex},"content_block":${block}}`,
      ),
    );
    // Anthropic pings once, after the first block starts.
    if (blockIndex === 0) events.push(PING_EVENT);
  };
  const delta = (body: string): void => {
    events.push(
      event('content_block_delta', `{"type":"content_block_delta","index":${blockIndex},"delta":${body}}`),
    );
  };
  const stopBlock = (): void => {
    events.push(event('content_block_stop', `{"type":"content_block_stop","index":${blockIndex}}`));
    blockIndex++;
  };

  if (hasTextBlock(content)) {
    startBlock('{"type":"text","text":""}');
    contentStart = events.length;
    for (const piece of content.chunks) delta(`{"type":"text_delta","text":${JSON.stringify(piece)}}`);
    contentEnd = events.length;
    stopBlock();
  }
  content.calls.forEach((call, index) => {
    startBlock(
      JSON.stringify({
        type: 'tool_use',
        id: toolUseId(context, content, index),
        name: call.name,
        input: {},
      }),
    );
    if (contentStart === -1) {
      contentStart = events.length;
      contentEnd = events.length;
    }
    delta('{"type":"input_json_delta","partial_json":""}');
    for (const fragment of call.fragments) {
      delta(`{"type":"input_json_delta","partial_json":${JSON.stringify(fragment)}}`);
    }
    stopBlock();
  });
  if (contentStart === -1) {
    contentStart = events.length;
    contentEnd = events.length;
  }
  const stopReason = content.calls.length > 0 ? 'tool_use' : 'end_turn';
  events.push(
    event(
      'message_delta',
      `{"type":"message_delta","delta":{"stop_reason":"${stopReason}","stop_sequence":null},` +
        `"usage":{"output_tokens":${context.usage.outputTokens}}}`,
    ),
  );
  events.push(MESSAGE_STOP_EVENT);
  return { events, contentStart, contentEnd };
}

function errorJson(type: string, message: string): string {
  return JSON.stringify({ type: 'error', error: { type, message } });
}

function defaultError(status: number): { type: string; message: string } {
  switch (status) {
    case 400:
      return { type: 'invalid_request_error', message: 'Invalid request.' };
    case 401:
      return { type: 'authentication_error', message: 'invalid x-api-key' };
    case 402:
      return { type: 'billing_error', message: 'Billing error.' };
    case 403:
      return {
        type: 'permission_error',
        message: 'Your API key does not have permission to use the specified resource.',
      };
    case 404:
      return { type: 'not_found_error', message: 'Not found.' };
    case 413:
      return { type: 'request_too_large', message: 'Request exceeds the maximum allowed number of bytes.' };
    case 429:
      return { type: 'rate_limit_error', message: 'Number of request tokens has exceeded your rate limit.' };
    case 529:
      return { type: 'overloaded_error', message: 'Overloaded' };
    default:
      return status >= 500
        ? { type: 'api_error', message: 'Internal server error' }
        : { type: 'invalid_request_error', message: `Request failed with status ${status}.` };
  }
}

/**
 * An error reply in Anthropic's shape, `{"type":"error","error":{"type","message"}}`; 529 is
 * `overloaded_error`.
 * @param reply status, and optional type, message and headers (`code` has no Anthropic field)
 * @returns the response
 */
export function anthropicError(reply: ErrorReply): CompleteResponse {
  const fallback = defaultError(reply.status);
  return {
    status: reply.status,
    headers: { ...JSON_HEADERS, ...reply.headers },
    body: errorJson(reply.type ?? fallback.type, reply.message ?? fallback.message),
  };
}

/**
 * Formats an instant as Anthropic's rate-limit headers do: RFC 3339 in UTC, whole seconds.
 * @param epochMilliseconds the instant
 * @returns e.g. `2025-01-01T00:00:20Z`
 */
export function formatAnthropicResetTime(epochMilliseconds: number): string {
  return `${new Date(Math.ceil(epochMilliseconds / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}

/**
 * Anthropic's out-of-credit error: 400 `invalid_request_error` "Your credit balance is too low…", with
 * `retry-after` and the `anthropic-ratelimit-*-reset` headers.
 * @param reply retry and reset seconds
 * @param now the current time in milliseconds
 * @returns the response
 */
export function anthropicQuota(reply: QuotaReply, now: number): CompleteResponse {
  const { retryAfterSeconds, resetSeconds } = quotaTiming(reply);
  const reset = formatAnthropicResetTime(now + resetSeconds * 1000);
  return {
    status: 400,
    headers: {
      ...JSON_HEADERS,
      'retry-after': String(Math.ceil(retryAfterSeconds)),
      'anthropic-ratelimit-requests-reset': reset,
      'anthropic-ratelimit-tokens-reset': reset,
    },
    body: errorJson(
      'invalid_request_error',
      'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.',
    ),
  };
}

/**
 * Anthropic's answer to a body that is not a JSON object: 400 `invalid_request_error`.
 * @returns the response
 */
export function anthropicMalformed(): CompleteResponse {
  return {
    status: 400,
    headers: { ...JSON_HEADERS },
    body: errorJson('invalid_request_error', 'There was an error parsing the body of your request as JSON.'),
  };
}
