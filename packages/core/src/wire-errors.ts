import type { Dialect } from './chat.js';
import type { SseEvent } from './sse.js';

/** An error as it crosses the wire, before it takes a dialect's shape. */
export interface WireError {
  /** Stable code, e.g. `budget_exceeded`. */
  code: string;
  message: string;
  /** OpenAI's `error.type`; Anthropic's `error.type` is always `code`. @default the code */
  type?: string;
}

/**
 * The JSON body of an error in the client's dialect: OpenAI `{error:{message,type,code}}`,
 * Anthropic `{type:"error",error:{type,message}}`.
 * @param dialect the endpoint the client called
 * @param error the code and message
 * @returns the body to send
 * @example
 * ```ts
 * errorBody('anthropic', { code: 'budget_exceeded', message: 'session budget of $5 reached' });
 * // { type: 'error', error: { type: 'budget_exceeded', message: 'session budget of $5 reached' } }
 * ```
 */
export function errorBody(dialect: Dialect, error: WireError): Record<string, unknown> {
  if (dialect === 'openai') {
    return {
      error: { message: error.message, type: error.type ?? error.code, param: null, code: error.code },
    };
  }
  return { type: 'error', error: { type: error.code, message: error.message } };
}

/**
 * The SSE event that ends a stream with an error, in the client's dialect.
 * @param dialect the endpoint the client called
 * @param error the code and message
 * @returns the event to write before closing the stream
 */
export function errorStreamEvent(dialect: Dialect, error: WireError): SseEvent {
  const body = JSON.stringify(errorBody(dialect, error));
  return dialect === 'openai' ? { data: body } : { event: 'error', data: body };
}
