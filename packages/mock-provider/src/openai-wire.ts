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

// Bodies copy the field order and the constant fields of api.openai.com responses.
const SERVICE_TIER = 'default';
const SYSTEM_FINGERPRINT = 'fp_mock';
const DONE_EVENT = formatSseEvent({ data: '[DONE]' });

/** The header OpenAI puts its request id in. */
export const OPENAI_REQUEST_ID_HEADER = 'x-request-id';

function usageJson(usage: ResolvedUsage): string {
  return JSON.stringify({
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedInputTokens, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  });
}

function toolCallId(context: ReplyContext, content: PreparedContent, index: number): string {
  return content.calls[index]?.id ?? `call_mock_${context.sequence}_${index}`;
}

/**
 * A `chat.completion` body.
 * @param context ids, model, usage
 * @param content the reply's text and tool calls
 * @returns the JSON text
 */
export function openaiCompletion(context: ReplyContext, content: PreparedContent): string {
  const hasCalls = content.calls.length > 0;
  const message: Record<string, unknown> = {
    role: 'assistant',
    content: hasCalls && content.text === '' ? null : content.text,
  };
  if (hasCalls) {
    message.tool_calls = content.calls.map((call, index) => ({
      id: toolCallId(context, content, index),
      type: 'function',
      function: { name: call.name, arguments: call.argumentsJson },
    }));
  }
  message.refusal = null;
  message.annotations = [];
  const choices = JSON.stringify([
    { index: 0, message, logprobs: null, finish_reason: hasCalls ? 'tool_calls' : 'stop' },
  ]);
  return (
    `{"id":"chatcmpl-mock-${context.sequence}","object":"chat.completion","created":${context.created},` +
    `"model":${JSON.stringify(context.model)},"choices":${choices},"usage":${usageJson(context.usage)},` +
    `"service_tier":"${SERVICE_TIER}","system_fingerprint":"${SYSTEM_FINGERPRINT}"}`
  );
}

/**
 * A `chat.completion.chunk` stream: role chunk, content chunks, tool-call chunks, finish chunk, the
 * usage chunk when `stream_options.include_usage` was set, then `[DONE]`.
 * @param context ids, model, usage, whether to include usage
 * @param content the reply's text chunks and tool calls
 * @returns the SSE blocks
 */
export function openaiStream(context: ReplyContext, content: PreparedContent): StreamPlan {
  const head =
    `{"id":"chatcmpl-mock-${context.sequence}","object":"chat.completion.chunk","created":${context.created},` +
    `"model":${JSON.stringify(context.model)},"service_tier":"${SERVICE_TIER}",` +
    `"system_fingerprint":"${SYSTEM_FINGERPRINT}","choices":`;
  const tail = context.includeUsage ? ',"usage":null}' : '}';
  const chunk = (delta: string, finishReason = 'null'): string =>
    formatSseEvent({
      data: `${head}[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":${finishReason}}]${tail}`,
    });

  const events: string[] = [];
  const hasCalls = content.calls.length > 0;
  const textless = hasCalls && content.text === '';
  // A tool-only answer carries the role in its first tool-call chunk, as OpenAI sends it.
  if (!textless) events.push(chunk('{"role":"assistant","content":"","refusal":null}'));
  const contentStart = events.length;
  for (const piece of content.chunks) events.push(chunk(`{"content":${JSON.stringify(piece)}}`));
  const contentEnd = events.length;
  content.calls.forEach((call, index) => {
    const start = JSON.stringify({
      index,
      id: toolCallId(context, content, index),
      type: 'function',
      function: { name: call.name, arguments: '' },
    });
    events.push(
      chunk(
        textless && index === 0
          ? `{"role":"assistant","content":null,"tool_calls":[${start}],"refusal":null}`
          : `{"tool_calls":[${start}]}`,
      ),
    );
    for (const fragment of call.fragments) {
      events.push(
        chunk(`{"tool_calls":[{"index":${index},"function":{"arguments":${JSON.stringify(fragment)}}}]}`),
      );
    }
  });
  events.push(chunk('{}', hasCalls ? '"tool_calls"' : '"stop"'));
  if (context.includeUsage) {
    events.push(formatSseEvent({ data: `${head}[],"usage":${usageJson(context.usage)}}` }));
  }
  events.push(DONE_EVENT);
  return { events, contentStart, contentEnd };
}

function errorJson(message: string, type: string, code: string | null): string {
  return JSON.stringify({ error: { message, type, param: null, code } });
}

function defaultError(status: number): { type: string; code: string | null; message: string } {
  switch (status) {
    case 400:
      return { type: 'invalid_request_error', code: null, message: 'Invalid request.' };
    case 401:
      return {
        type: 'invalid_request_error',
        code: 'invalid_api_key',
        message: 'Incorrect API key provided.',
      };
    case 404:
      return {
        type: 'invalid_request_error',
        code: 'model_not_found',
        message: 'The model does not exist or you do not have access to it.',
      };
    case 429:
      return {
        type: 'requests',
        code: 'rate_limit_exceeded',
        message: 'Rate limit reached for requests. Please try again later.',
      };
    case 503:
      return {
        type: 'server_error',
        code: null,
        message: 'The engine is currently overloaded, please try again later.',
      };
    default:
      return status >= 500
        ? {
            type: 'server_error',
            code: null,
            message: 'The server had an error while processing your request. Sorry about that!',
          }
        : { type: 'invalid_request_error', code: null, message: `Request failed with status ${status}.` };
  }
}

/**
 * An error reply in OpenAI's shape, `{"error":{"message","type","param":null,"code"}}`.
 * @param reply status, and optional type, code, message and headers
 * @returns the response
 */
export function openaiError(reply: ErrorReply): CompleteResponse {
  const fallback = defaultError(reply.status);
  return {
    status: reply.status,
    headers: { ...JSON_HEADERS, ...reply.headers },
    body: errorJson(
      reply.message ?? fallback.message,
      reply.type ?? fallback.type,
      reply.code ?? fallback.code,
    ),
  };
}

/**
 * Formats seconds the way OpenAI's `x-ratelimit-reset-*` headers do: `20s`, `1m30s`, `250ms`.
 * @param seconds the duration
 * @returns the header value
 */
export function formatOpenAIDuration(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = Number((seconds % 60).toFixed(3));
  if (hours > 0) return `${hours}h${minutes}m${rest}s`;
  if (minutes > 0) return `${minutes}m${rest}s`;
  return `${rest}s`;
}

/**
 * OpenAI's out-of-credit error: 429 `insufficient_quota`, with `retry-after` and the reset headers.
 * @param reply retry and reset seconds
 * @returns the response
 */
export function openaiQuota(reply: QuotaReply): CompleteResponse {
  const { retryAfterSeconds, resetSeconds } = quotaTiming(reply);
  const reset = formatOpenAIDuration(resetSeconds);
  return {
    status: 429,
    headers: {
      ...JSON_HEADERS,
      'retry-after': String(Math.ceil(retryAfterSeconds)),
      'x-ratelimit-reset-requests': reset,
      'x-ratelimit-reset-tokens': reset,
    },
    body: errorJson(
      'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
      'insufficient_quota',
      'insufficient_quota',
    ),
  };
}

/**
 * OpenAI's answer to a body that is not a JSON object: 400 `invalid_request_error`.
 * @returns the response
 */
export function openaiMalformed(): CompleteResponse {
  return {
    status: 400,
    headers: { ...JSON_HEADERS },
    body: errorJson(
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
      'invalid_request_error',
      null,
    ),
  };
}

/**
 * OpenAI's answer to an unknown path or method: 404 `invalid_request_error`.
 * @param method the request method
 * @param path the request path
 * @returns the response
 */
export function openaiNotFound(method: string, path: string): CompleteResponse {
  return {
    status: 404,
    headers: { ...JSON_HEADERS },
    body: errorJson(`Invalid URL (${method} ${path})`, 'invalid_request_error', null),
  };
}
