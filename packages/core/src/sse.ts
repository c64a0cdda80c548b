import { BallastError } from './errors.js';

/**
 * One dispatched Server-Sent Event.
 *
 * `event`, `id` and `retry` describe what this event's block carried on the wire, so that
 * `formatSseEvent(event)` writes an equivalent block back out (a proxy re-emitting a stream must not
 * invent fields). The spec's persistent "last event ID" (what a browser shows as
 * `MessageEvent.lastEventId` and sends as `Last-Event-ID` on reconnect) is {@link SseParser.lastEventId}.
 *
 * @example
 * ```ts
 * const event: SseEvent = { event: 'ping', data: '{}' };
 * const type = event.event ?? 'message';
 * ```
 */
export interface SseEvent {
  /** The event type; omitted when the block had no `event` field or an empty one (consumers treat it as `'message'`). */
  event?: string;
  /** The `data` lines of the block joined with `'\n'`. */
  data: string;
  /** The last valid `id` field of this block (`''` resets the last event ID); omitted when the block had none. */
  id?: string;
  /** The last valid `retry` field of this block, in milliseconds; omitted when the block had none. */
  retry?: number;
}

/** Options accepted by {@link createSseParser} and {@link parseSseStream}. */
export interface SseParserOptions {
  /**
   * Called for every complete comment line (a line starting with `:`), with the text after the colon
   * and one leading space removed, as soon as the line is read. Keep-alives arrive here.
   */
  onComment?: (text: string) => void;
  /**
   * Called for every valid `retry` field (ASCII digits only) as soon as the line is read, even when its
   * block dispatches no event: the spec sets the reconnection time immediately.
   */
  onRetry?: (milliseconds: number) => void;
}

/**
 * An incremental Server-Sent Events parser; see {@link createSseParser}.
 *
 * @example
 * ```ts
 * const parser = createSseParser();
 * for (const event of parser.push('data: hi\n\n')) handle(event);
 * parser.end();
 * ```
 */
export interface SseParser {
  /**
   * Feeds the next piece of the stream, split anywhere (inside a CRLF, inside a UTF-8 sequence).
   * @param chunk text, or raw bytes decoded as UTF-8 with a streaming decoder
   * @returns the events whose terminating blank line arrived in this chunk, in order
   */
  push(chunk: string | Uint8Array): SseEvent[];
  /**
   * Ends the stream: flushes the decoder and discards any event or line that was not terminated, as
   * the spec requires. The parser is then ready for a new connection's stream; `lastEventId` and
   * `retry` carry over, as they do for a browser's `EventSource`.
   * @returns the events completed by the decoder flush (always empty for well-formed input)
   */
  end(): SseEvent[];
  /** The spec's last event ID string: the last valid `id` seen in a completed block, `''` if none. */
  readonly lastEventId: string;
  /** The reconnection time in milliseconds from the last valid `retry` field, if any. */
  readonly retry: number | undefined;
}

const LINE_FEED = 10;
const CARRIAGE_RETURN = 13;
const SPACE = 32;
const BYTE_ORDER_MARK = 0xfeff;
const DIGITS_ONLY = /^[0-9]+$/;

/**
 * Creates an incremental Server-Sent Events parser that follows the WHATWG HTML "event stream
 * interpretation" rules: CRLF, LF or lone CR line endings; one leading UTF-8 BOM stripped; `:` comments;
 * fields without a colon; one space after the colon removed; `data` lines joined with `'\n'`; `id`
 * containing NUL ignored; `retry` only when all ASCII digits; a blank line dispatches; a block with no
 * `data` line dispatches nothing (but still updates the last event ID); unknown fields ignored.
 *
 * Lines are found with `indexOf` and a partial line is kept as a list of pieces, so a long line spread
 * over many chunks costs linear time. Exceptions thrown by the callbacks propagate out of `push` and
 * leave the rest of that chunk unread.
 *
 * @param options callbacks for comments and `retry` fields
 * @returns a parser; feed it with `push` and finish with `end`
 * @example
 * ```ts
 * const parser = createSseParser({ onComment: (text) => log.debug('sse comment', { text }) });
 * parser.push('event: ping\ndata: {}\r');
 * parser.push('\n\r\n'); // [{ event: 'ping', data: '{}' }]
 * ```
 */
export function createSseParser(options: SseParserOptions = {}): SseParser {
  const { onComment, onRetry } = options;
  let decoder: InstanceType<typeof TextDecoder> | undefined;
  let atStreamStart = true;
  let skipLineFeed = false;
  const partialLine: string[] = [];
  let dataLines: string[] = [];
  let eventType = '';
  let blockId: string | undefined;
  let blockRetry: number | undefined;
  let lastEventIdBuffer = '';
  let lastEventId = '';
  let retry: number | undefined;

  const dispatch = (output: SseEvent[]): void => {
    lastEventId = lastEventIdBuffer;
    if (dataLines.length > 0) {
      const data = dataLines.length === 1 ? (dataLines[0] as string) : dataLines.join('\n');
      const event: SseEvent = { data };
      if (eventType !== '') event.event = eventType;
      if (blockId !== undefined) event.id = blockId;
      if (blockRetry !== undefined) event.retry = blockRetry;
      output.push(event);
      dataLines = [];
    }
    eventType = '';
    blockId = undefined;
    blockRetry = undefined;
  };

  const processLine = (line: string, output: SseEvent[]): void => {
    if (line.length === 0) {
      dispatch(output);
      return;
    }
    const colon = line.indexOf(':');
    if (colon === 0) {
      if (onComment !== undefined) onComment(line.slice(line.charCodeAt(1) === SPACE ? 2 : 1));
      return;
    }
    let field = line;
    let value = '';
    if (colon > 0) {
      field = line.slice(0, colon);
      value = line.slice(line.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1);
    }
    switch (field) {
      case 'data':
        dataLines.push(value);
        break;
      case 'event':
        eventType = value;
        break;
      case 'id':
        if (!value.includes('\0')) {
          lastEventIdBuffer = value;
          blockId = value;
        }
        break;
      case 'retry':
        if (DIGITS_ONLY.test(value)) {
          const milliseconds = Number.parseInt(value, 10);
          retry = milliseconds;
          blockRetry = milliseconds;
          if (onRetry !== undefined) onRetry(milliseconds);
        }
        break;
      default:
        break;
    }
  };

  const feed = (text: string, output: SseEvent[]): SseEvent[] => {
    const length = text.length;
    if (length === 0) return output;
    let start = 0;
    if (atStreamStart) {
      atStreamStart = false;
      if (text.charCodeAt(0) === BYTE_ORDER_MARK) start = 1;
    }
    if (skipLineFeed && start < length) {
      skipLineFeed = false;
      if (text.charCodeAt(start) === LINE_FEED) start += 1;
    }
    // -2: not searched yet; -1: none left in this chunk.
    let nextCarriageReturn = -2;
    let nextLineFeed = -2;
    while (start < length) {
      if (nextCarriageReturn !== -1 && nextCarriageReturn < start) {
        nextCarriageReturn = text.indexOf('\r', start);
      }
      if (nextLineFeed !== -1 && nextLineFeed < start) nextLineFeed = text.indexOf('\n', start);
      let lineEnd: number;
      if (nextCarriageReturn === -1) {
        if (nextLineFeed === -1) {
          partialLine.push(start === 0 ? text : text.slice(start));
          break;
        }
        lineEnd = nextLineFeed;
      } else {
        const carriageReturnFirst = nextLineFeed === -1 || nextCarriageReturn < nextLineFeed;
        lineEnd = carriageReturnFirst ? nextCarriageReturn : nextLineFeed;
      }
      let line = text.slice(start, lineEnd);
      if (partialLine.length > 0) {
        partialLine.push(line);
        line = partialLine.join('');
        partialLine.length = 0;
      }
      processLine(line, output);
      start = lineEnd + 1;
      if (text.charCodeAt(lineEnd) === CARRIAGE_RETURN) {
        if (start === length) skipLineFeed = true;
        else if (text.charCodeAt(start) === LINE_FEED) start += 1;
      }
    }
    return output;
  };

  const flushDecoder = (output: SseEvent[]): void => {
    if (decoder === undefined) return;
    const rest = decoder.decode();
    decoder = undefined;
    feed(rest, output);
  };

  return {
    push(chunk: string | Uint8Array): SseEvent[] {
      const output: SseEvent[] = [];
      if (typeof chunk === 'string') {
        // Bytes left over from a previous binary chunk cannot continue into text: flush them as U+FFFD.
        flushDecoder(output);
        return feed(chunk, output);
      }
      // The BOM is handled by `feed` so that string and byte input strip it the same way, once.
      decoder ??= new TextDecoder('utf-8', { ignoreBOM: true });
      return feed(decoder.decode(chunk, { stream: true }), output);
    },
    end(): SseEvent[] {
      const output: SseEvent[] = [];
      flushDecoder(output);
      atStreamStart = true;
      skipLineFeed = false;
      partialLine.length = 0;
      dataLines = [];
      eventType = '';
      blockId = undefined;
      blockRetry = undefined;
      lastEventIdBuffer = lastEventId;
      return output;
    },
    get lastEventId(): string {
      return lastEventId;
    },
    get retry(): number | undefined {
      return retry;
    },
  };
}

function isReadableStream(
  body: AsyncIterable<Uint8Array | string> | ReadableStream<Uint8Array>,
): body is ReadableStream<Uint8Array> {
  return typeof (body as Partial<ReadableStream<Uint8Array>>).getReader === 'function';
}

/**
 * Parses a whole Server-Sent Events body, yielding each event as its blank line arrives.
 *
 * A `ReadableStream` is cancelled when the consumer stops early (`break`, `return`, a throw), like
 * `for await` over the stream itself; an async iterable is closed through its `return`. An event not
 * terminated by a blank line when the body ends is discarded, as the spec requires.
 *
 * @param body a fetch `Response.body`, a Node stream, or any async iterable of bytes or text
 * @param options callbacks for comments and `retry` fields
 * @returns an async generator of the events in order
 * @example
 * ```ts
 * const response = await fetch(url, { headers: { accept: 'text/event-stream' } });
 * for await (const event of parseSseStream(response.body!)) {
 *   if (event.data === '[DONE]') break;
 * }
 * ```
 */
export async function* parseSseStream(
  body: AsyncIterable<Uint8Array | string> | ReadableStream<Uint8Array>,
  options: SseParserOptions = {},
): AsyncGenerator<SseEvent> {
  const parser = createSseParser(options);
  if (isReadableStream(body)) {
    const reader = body.getReader();
    let done = false;
    try {
      for (;;) {
        const result = await reader.read();
        if (result.done) {
          done = true;
          break;
        }
        yield* parser.push(result.value);
      }
    } finally {
      // A cancel failure must not mask the error (or early return) that got us here.
      if (!done) await reader.cancel().catch(() => undefined);
      reader.releaseLock();
    }
  } else {
    for await (const chunk of body) yield* parser.push(chunk);
  }
  yield* parser.end();
}

/** The fields {@link formatSseEvent} can write; an {@link SseEvent} is one. */
export interface SseEventInit {
  /** The event type; must not contain CR or LF. */
  event?: string;
  /** The payload; any line breaks (CRLF, CR, LF) are written as separate `data` lines and read back as LF. */
  data?: string;
  /** The event ID; must not contain CR, LF or NUL. */
  id?: string;
  /** The reconnection time in milliseconds; a non-negative safe integer. */
  retry?: number;
  /** A comment written before the fields (one `:` line per line of text); alone, it makes a keep-alive. */
  comment?: string;
}

const LINE_BREAK = /\r\n|\r|\n/;

function invalidField(field: string, message: string, value: unknown): BallastError {
  return new BallastError('CORE_SSE_INVALID_FIELD', message, { details: { field, value } });
}

function writeLines(field: string, value: string): string {
  let block = '';
  for (const line of LINE_BREAK.test(value) ? value.split(LINE_BREAK) : [value]) {
    block += line === '' ? `${field}\n` : `${field} ${line}\n`;
  }
  return block;
}

/**
 * Formats one Server-Sent Events block, ending in the blank line that dispatches it.
 *
 * Fields are written as `comment`, `event`, `id`, `retry`, then `data`; an empty value is written as a
 * bare `field:`. Parsing the result with {@link createSseParser} gives back the same fields, with line
 * breaks inside `data` normalised to `'\n'`.
 *
 * @param event the fields to write; `data` absent means the block dispatches no event
 * @returns the block, e.g. `'event: ping\ndata: {}\n\n'`
 * @throws {BallastError} `CORE_SSE_INVALID_FIELD` when `event` contains CR or LF, `id` contains CR, LF
 *   or NUL, or `retry` is not a non-negative safe integer
 * @example
 * ```ts
 * formatSseEvent({ event: 'message_stop', data: '{"type":"message_stop"}' });
 * // 'event: message_stop\ndata: {"type":"message_stop"}\n\n'
 * formatSseEvent({ comment: 'keep-alive' }); // ': keep-alive\n\n'
 * ```
 */
export function formatSseEvent(event: SseEventInit): string {
  let block = '';
  if (event.comment !== undefined) block += writeLines(':', event.comment);
  if (event.event !== undefined) {
    if (/[\r\n]/.test(event.event)) {
      throw invalidField('event', 'SSE field `event` must not contain CR or LF.', event.event);
    }
    block += event.event === '' ? 'event:\n' : `event: ${event.event}\n`;
  }
  if (event.id !== undefined) {
    if (/[\r\n\0]/.test(event.id)) {
      throw invalidField('id', 'SSE field `id` must not contain CR, LF or NUL.', event.id);
    }
    block += event.id === '' ? 'id:\n' : `id: ${event.id}\n`;
  }
  if (event.retry !== undefined) {
    if (!Number.isSafeInteger(event.retry) || event.retry < 0) {
      throw invalidField(
        'retry',
        `SSE field \`retry\` must be a non-negative integer of milliseconds; got ${event.retry}.`,
        event.retry,
      );
    }
    block += `retry: ${event.retry}\n`;
  }
  if (event.data !== undefined) block += writeLines('data:', event.data);
  return `${block}\n`;
}

/**
 * Formats a value as a single-event block whose `data` is its JSON: the usual shape of OpenAI-style
 * streams. Shorthand for `formatSseEvent({ data: JSON.stringify(value) })`.
 *
 * @param value anything `JSON.stringify` accepts
 * @returns the block, e.g. `'data: {"ok":true}\n\n'`
 * @throws {BallastError} `CORE_SSE_INVALID_FIELD` when the value has no JSON form (`undefined`, a
 *   function) or cannot be serialised (a cycle, a BigInt), with the original error as `cause`
 * @example
 * ```ts
 * response.write(formatSseData({ choices: [{ index: 0, delta: { content: 'Hi' } }] }));
 * response.write(formatSseEvent({ data: '[DONE]' }));
 * ```
 */
export function formatSseData(value: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new BallastError('CORE_SSE_INVALID_FIELD', 'SSE `data` value could not be serialised to JSON.', {
      cause: error,
      details: { field: 'data' },
    });
  }
  if (json === undefined) {
    throw invalidField('data', `SSE \`data\` value has no JSON form (got ${typeof value}).`, typeof value);
  }
  return formatSseEvent({ data: json });
}
