import type { Dialect, StreamEvent, Usage } from './chat.js';
import { createStreamDecoder } from './convert.js';
import type { SseEvent } from './sse.js';
import { countTextTokens } from './tokens.js';

/** What a {@link StreamUsageTracker} knows of a stream's usage so far. */
export interface StreamUsageSnapshot {
  usage: Usage;
  /** True when the provider reported the output count; false when it is counted from streamed text. */
  reported: boolean;
  /** Whether the stream reached its proper end. */
  complete: boolean;
}

/** Watches a stream of one dialect and knows its usage at any point, even if cut short. */
export interface StreamUsageTracker {
  /** Reads one upstream SSE event; returns the neutral events it holds. */
  push(event: SseEvent): StreamEvent[];
  /** Usage so far: as reported by the provider when it has, else estimated from the streamed output. */
  snapshot(): StreamUsageSnapshot;
  /** Output tokens streamed so far, counted from the deltas (cheap: counting happens on demand). */
  streamedOutputTokens(): number;
}

/** Options of {@link createStreamUsageTracker}. */
export interface StreamUsageTrackerOptions {
  dialect: Dialect;
  /** The model, to count streamed text with its tokenizer. */
  model?: string;
  /**
   * Input tokens counted before the call, used when the provider reports none (a cut stream).
   * A function is called only if needed, so a stream that reports its usage never pays for counting.
   */
  inputTokens?: number | (() => number);
}

/**
 * Tracks usage of a stream as it flows: OpenAI's `include_usage` chunk, Anthropic's
 * `message_start` + `message_delta`, and, for a stream cut before the provider reported its
 * counts, the tokens of the text, reasoning and tool arguments streamed so far.
 *
 * @param options the stream's dialect, model and pre-counted input
 * @returns the tracker
 * @example
 * ```ts
 * const tracker = createStreamUsageTracker({ dialect: 'openai', model: 'gpt-4o', inputTokens: 1200 });
 * for await (const event of parseSseStream(body)) tracker.push(event);
 * costOf('gpt-4o', tracker.snapshot().usage);
 * ```
 */
export function createStreamUsageTracker(options: StreamUsageTrackerOptions): StreamUsageTracker {
  const decoder = createStreamDecoder(options.dialect);
  const reported: Partial<Usage> = {};
  let outputReported = false;
  let complete = false;
  const pending: string[] = [];
  let countedTokens = 0;
  const streamedOutputTokens = (): number => {
    if (pending.length > 0) {
      countedTokens += countTextTokens(pending.join(''), options.model);
      pending.length = 0;
    }
    return countedTokens;
  };
  return {
    push(event) {
      const steps = decoder.push(event);
      for (const step of steps) {
        switch (step.type) {
          case 'message-start':
            if (step.usage) Object.assign(reported, step.usage);
            break;
          case 'usage':
            Object.assign(reported, step.usage);
            // Anthropic's message_start carries a placeholder output count; only a final report counts.
            if (step.usage.outputTokens !== undefined) outputReported = true;
            break;
          case 'text-delta':
          case 'reasoning-delta':
            pending.push(step.text);
            break;
          case 'tool-call-start':
            pending.push(step.name);
            break;
          case 'tool-call-delta':
            pending.push(step.argumentsDelta);
            break;
          case 'end':
            complete = true;
            break;
          default:
            break;
        }
      }
      return steps;
    },
    snapshot() {
      const usage: Usage = {
        ...reported,
        inputTokens:
          reported.inputTokens ??
          (typeof options.inputTokens === 'function' ? options.inputTokens() : options.inputTokens) ??
          0,
        outputTokens: outputReported ? (reported.outputTokens ?? 0) : streamedOutputTokens(),
      };
      return { usage, reported: outputReported, complete };
    },
    streamedOutputTokens,
  };
}
