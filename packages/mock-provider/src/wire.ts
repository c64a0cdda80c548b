import type { MockReply } from './reply.js';
import type { ResolvedUsage } from './usage.js';

/** What a dialect needs to know to write one reply. */
export interface ReplyContext {
  /** The provider's chat request number, 1-based: `chatcmpl-mock-N`, `msg_mock_N`. */
  sequence: number;
  /** The request's model, echoed back. */
  model: string;
  /** Unix seconds. */
  created: number;
  usage: ResolvedUsage;
  /** OpenAI `stream_options.include_usage`. */
  includeUsage: boolean;
}

/** A whole stream as SSE blocks, with the range that carries the content deltas. */
export interface StreamPlan {
  events: string[];
  /** Index of the first content delta event. */
  contentStart: number;
  /** Index after the last content delta event of the text block. */
  contentEnd: number;
}

/** A complete response: status, headers and the whole body. */
export interface CompleteResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A `kind: 'error'` reply. */
export type ErrorReply = Extract<MockReply, { kind: 'error' }>;
/** A `kind: 'quota'` reply. */
export type QuotaReply = Extract<MockReply, { kind: 'quota' }>;

/** Default quota window when a quota reply names none. */
export const DEFAULT_QUOTA_RESET_SECONDS = 60;

/**
 * The retry-after and reset seconds of a quota reply, each defaulting to the other.
 * @param reply the quota reply
 * @returns both values
 */
export function quotaTiming(reply: QuotaReply): { retryAfterSeconds: number; resetSeconds: number } {
  const retryAfterSeconds = reply.retryAfterSeconds ?? reply.resetSeconds ?? DEFAULT_QUOTA_RESET_SECONDS;
  const resetSeconds = reply.resetSeconds ?? reply.retryAfterSeconds ?? DEFAULT_QUOTA_RESET_SECONDS;
  return { retryAfterSeconds, resetSeconds };
}

/** The response headers every JSON body carries. */
export const JSON_HEADERS = { 'content-type': 'application/json' } as const;

/** The response headers every stream carries. */
export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
} as const;
