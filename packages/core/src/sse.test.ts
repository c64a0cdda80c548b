import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BallastError } from './errors.js';
import type { SseEvent, SseEventInit, SseParserOptions } from './sse.js';
import { createSseParser, formatSseData, formatSseEvent, parseSseStream } from './sse.js';

const encoder = new TextEncoder();

interface ParseResult {
  events: SseEvent[];
  comments: string[];
  retries: number[];
  lastEventId: string;
  retry: number | undefined;
}

/** Pushes every chunk into one fresh parser, then ends it, recording everything a user can observe. */
function parseChunks(chunks: ReadonlyArray<string | Uint8Array>): ParseResult {
  const comments: string[] = [];
  const retries: number[] = [];
  const parser = createSseParser({
    onComment: (text) => comments.push(text),
    onRetry: (milliseconds) => retries.push(milliseconds),
  });
  const events: SseEvent[] = [];
  for (const chunk of chunks) events.push(...parser.push(chunk));
  events.push(...parser.end());
  return { events, comments, retries, lastEventId: parser.lastEventId, retry: parser.retry };
}

function parseText(text: string): SseEvent[] {
  return parseChunks([text]).events;
}

function bytesOf(text: string): Uint8Array[] {
  return Array.from(encoder.encode(text), (byte) => Uint8Array.of(byte));
}

function charactersOf(text: string): string[] {
  // Per UTF-16 code unit, so astral characters are split into their two halves.
  return Array.from({ length: text.length }, (_, index) => text.charAt(index));
}

/** Splits at the given offsets (taken modulo length + 1), keeping empty pieces. */
function splitString(text: string, cuts: readonly number[]): string[] {
  const offsets = cuts.map((cut) => cut % (text.length + 1)).sort((left, right) => left - right);
  const pieces: string[] = [];
  let previous = 0;
  for (const offset of offsets) {
    pieces.push(text.slice(previous, offset));
    previous = offset;
  }
  pieces.push(text.slice(previous));
  return pieces;
}

function splitBytes(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const offsets = cuts.map((cut) => cut % (bytes.length + 1)).sort((left, right) => left - right);
  const pieces: Uint8Array[] = [];
  let previous = 0;
  for (const offset of offsets) {
    pieces.push(bytes.subarray(previous, offset));
    previous = offset;
  }
  pieces.push(bytes.subarray(previous));
  return pieces;
}

/**
 * A literal, whole-input transcription of the spec's event stream interpretation, used as an oracle:
 * it splits with a regular expression instead of scanning incrementally.
 */
function referenceParse(input: string): ParseResult {
  const text = input.startsWith('\uFEFF') ? input.slice(1) : input;
  const lines = text.split(/\r\n|\r|\n/);
  lines.pop(); // whatever follows the last line break is not a complete line
  const result: ParseResult = { events: [], comments: [], retries: [], lastEventId: '', retry: undefined };
  let data: string[] = [];
  let type = '';
  let idBuffer = '';
  let blockId: string | undefined;
  let blockRetry: number | undefined;
  for (const line of lines) {
    if (line === '') {
      result.lastEventId = idBuffer;
      if (data.length > 0) {
        const event: SseEvent = { data: data.join('\n') };
        if (type !== '') event.event = type;
        if (blockId !== undefined) event.id = blockId;
        if (blockRetry !== undefined) event.retry = blockRetry;
        result.events.push(event);
      }
      data = [];
      type = '';
      blockId = undefined;
      blockRetry = undefined;
      continue;
    }
    if (line.startsWith(':')) {
      result.comments.push(line.slice(1).replace(/^ /, ''));
      continue;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') data.push(value);
    else if (field === 'event') type = value;
    else if (field === 'id' && !value.includes('\0')) {
      idBuffer = value;
      blockId = value;
    } else if (field === 'retry' && /^[0-9]+$/.test(value)) {
      blockRetry = Number(value);
      result.retries.push(blockRetry);
      result.retry = blockRetry;
    }
  }
  return result;
}

function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  return undefined;
}

function normaliseLineBreaks(text: string): string {
  return text.replace(/\r\n|\r/g, '\n');
}

// Arbitraries for the property tests.
const anyCodePoint = fc.string({ unit: 'binary', minLength: 1, maxLength: 1 });
const lineFreeText = fc.string({ unit: 'binary', maxLength: 20 }).filter((text) => !/[\r\n]/.test(text));
const eventName = lineFreeText.filter((text) => text !== '');
const eventId = lineFreeText.filter((text) => !text.includes('\0'));
const dataText = fc.string({
  unit: fc.oneof(
    anyCodePoint,
    fc.constantFrom('\n', '\r\n', '\r', '😀', '👩‍👩‍👧', 'é', '\u{10FFFF}', ' ', ':'),
  ),
  maxLength: 40,
});
const eventArbitrary = fc.record(
  { event: eventName, data: dataText, id: eventId, retry: fc.nat() },
  { requiredKeys: ['data'] },
);
type StreamItem =
  | { kind: 'event'; event: SseEventInit & { data: string } }
  | { kind: 'comment'; text: string };
const streamItems = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: eventArbitrary.map((event): StreamItem => ({ kind: 'event', event })) },
    { weight: 1, arbitrary: lineFreeText.map((text): StreamItem => ({ kind: 'comment', text })) },
  ),
  { maxLength: 12 },
);
const cutPoints = fc.array(fc.nat(), { maxLength: 30 });
const lineEnding = fc.constantFrom('\n', '\r\n', '\r');
const sseFragments = fc
  .array(
    fc.constantFrom(
      'data',
      'event',
      'id',
      'retry',
      'foo',
      ':',
      ' ',
      '\r',
      '\n',
      '\r\n',
      'x',
      '7',
      '\0',
      '\uFEFF',
      'é',
      '😀',
      '\t',
    ),
    { maxLength: 80 },
  )
  .map((fragments) => fragments.join(''));

function formatItems(items: readonly StreamItem[]): string {
  return items
    .map((item) =>
      item.kind === 'event' ? formatSseEvent(item.event) : formatSseEvent({ comment: item.text }),
    )
    .join('');
}

function expectedFrom(items: readonly StreamItem[]): { events: SseEvent[]; comments: string[] } {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  for (const item of items) {
    if (item.kind === 'comment') comments.push(item.text);
    else events.push({ ...item.event, data: normaliseLineBreaks(item.event.data) });
  }
  return { events, comments };
}

describe('createSseParser', () => {
  describe('when given the examples of the WHATWG spec', () => {
    it('joins the stock ticker data lines with a line feed', () => {
      expect(parseText('data: YHOO\ndata: +2\ndata: 10\n\n')).toEqual([{ data: 'YHOO\n+2\n10' }]);
    });

    it('reports comments and tracks ids in the ": test stream" example', () => {
      const result = parseChunks([
        ': test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n',
      ]);
      expect(result.comments).toEqual(['test stream']);
      expect(result.events).toEqual([
        { data: 'first event', id: '1' },
        { data: 'second event', id: '' },
        { data: ' third event' },
      ]);
      expect(result.lastEventId).toBe('');
    });

    it('dispatches "" and "\\n" and discards the unterminated last block in the "data\\n\\ndata" example', () => {
      expect(parseText('data\n\ndata\ndata\n\ndata:')).toEqual([{ data: '' }, { data: '\n' }]);
    });

    it('gives the same data with and without the space after the colon', () => {
      expect(parseText('data:test\n\ndata: test\n\n')).toEqual([{ data: 'test' }, { data: 'test' }]);
    });
  });

  describe('when lines end in CRLF, LF or a lone CR', () => {
    it('treats each ending the same, even mixed in one stream', () => {
      const text = 'event: a\r\ndata: 1\r\n\r\nevent: b\rdata: 2\r\rdata: 3\ndata: 4\r\n\n';
      expect(parseText(text)).toEqual([
        { event: 'a', data: '1' },
        { event: 'b', data: '2' },
        { data: '3\n4' },
      ]);
    });

    it('does not read a CRLF split between chunks as two line endings', () => {
      expect(parseChunks(['data: a\r', '\ndata: b\r\n\r\n']).events).toEqual([{ data: 'a\nb' }]);
    });

    it('remembers a trailing CR across empty chunks', () => {
      expect(parseChunks(['data: a\r', '', '\ndata: b\r', '\r']).events).toEqual([{ data: 'a\nb' }]);
    });

    it('ends the line at a chunk-final CR followed by anything but LF', () => {
      expect(parseChunks(['data: a\r', 'data: b\r', '\r']).events).toEqual([{ data: 'a\nb' }]);
    });

    it('returns each event from the push that delivers its blank line', () => {
      const parser = createSseParser();
      expect(parser.push('data: one\n')).toEqual([]);
      expect(parser.push('\ndata: two\r')).toEqual([{ data: 'one' }]);
      expect(parser.push('\n')).toEqual([]);
      expect(parser.push('\r')).toEqual([{ data: 'two' }]);
    });
  });

  describe('when the stream starts with a byte order mark', () => {
    it('strips it from text input', () => {
      expect(parseText('\uFEFFdata: x\n\n')).toEqual([{ data: 'x' }]);
    });

    it('strips it from byte input split inside the mark', () => {
      expect(parseChunks(bytesOf('\uFEFFdata: x\n\n')).events).toEqual([{ data: 'x' }]);
    });

    it('strips only one, so a second mark becomes part of the first field name', () => {
      expect(parseChunks(['\uFEFF', '\uFEFFdata: x\n\ndata: y\n\n']).events).toEqual([{ data: 'y' }]);
    });

    it('keeps a mark that appears after the start', () => {
      expect(parseText('data: \uFEFFx\n\n')).toEqual([{ data: '\uFEFFx' }]);
    });
  });

  describe('when given bytes', () => {
    it('decodes multi-byte characters split across chunks', () => {
      const text = 'data: 😀 é 中 \u{10FFFF}\n\n';
      expect(parseChunks(bytesOf(text)).events).toEqual([{ data: '😀 é 中 \u{10FFFF}' }]);
    });

    it('replaces invalid UTF-8 with U+FFFD', () => {
      const bytes = Uint8Array.of(...encoder.encode('data: a'), 0xff, 0xe2, 0x82, ...encoder.encode('b\n\n'));
      expect(parseChunks([bytes]).events).toEqual([{ data: 'a\uFFFD\uFFFDb' }]);
    });

    it('flushes a sequence cut short by a following text chunk as U+FFFD', () => {
      const result = parseChunks([encoder.encode('data: a'), Uint8Array.of(0xf0, 0x9f), 'b\n\n']);
      expect(result.events).toEqual([{ data: 'a\uFFFDb' }]);
    });
  });

  describe('when a line is a comment', () => {
    it('passes the text after the colon, without one leading space, to onComment', () => {
      const result = parseChunks([':test stream\n: keep-alive\n:\n:  two spaces\n\n']);
      expect(result.comments).toEqual(['test stream', 'keep-alive', '', ' two spaces']);
      expect(result.events).toEqual([]);
    });

    it('leaves the surrounding data lines of the block intact', () => {
      expect(parseText('data: a\n: between\ndata: b\n\n')).toEqual([{ data: 'a\nb' }]);
    });

    it('reports the comment as soon as its line ends, before any blank line', () => {
      const comments: string[] = [];
      const parser = createSseParser({ onComment: (text) => comments.push(text) });
      parser.push(': ping');
      expect(comments).toEqual([]);
      parser.push('\r');
      expect(comments).toEqual(['ping']);
    });
  });

  describe('when a field has no colon', () => {
    it('treats the whole line as the field name with an empty value', () => {
      expect(parseText('data\n\n')).toEqual([{ data: '' }]);
      expect(parseText('event\ndata: x\n\n')).toEqual([{ data: 'x' }]);
    });
  });

  describe('when the value follows the colon', () => {
    it('removes exactly one leading space and nothing else', () => {
      expect(parseText('data:  two\n\n')).toEqual([{ data: ' two' }]);
      expect(parseText('data:\tx\n\n')).toEqual([{ data: '\tx' }]);
      expect(parseText('data: trailing \n\n')).toEqual([{ data: 'trailing ' }]);
    });

    it('splits at the first colon only', () => {
      expect(parseText('data: a: b:c\n\n')).toEqual([{ data: 'a: b:c' }]);
    });
  });

  describe('when an id field is given', () => {
    it('ignores an id containing NUL', () => {
      const result = parseChunks(['id: 1\n\nid: a\0b\ndata: x\n\n']);
      expect(result.events).toEqual([{ data: 'x' }]);
      expect(result.lastEventId).toBe('1');
    });

    it('updates lastEventId at a blank line even when no event is dispatched', () => {
      const parser = createSseParser();
      parser.push('id: 42\n');
      expect(parser.lastEventId).toBe('');
      parser.push('\n');
      expect(parser.lastEventId).toBe('42');
    });

    it('keeps the last event ID across blocks while each event reports only its own id', () => {
      const result = parseChunks(['id: 7\ndata: a\n\ndata: b\n\nid:\ndata: c\n\n']);
      expect(result.events).toEqual([{ data: 'a', id: '7' }, { data: 'b' }, { data: 'c', id: '' }]);
      expect(result.lastEventId).toBe('');
    });

    it('uses the last valid id of a block', () => {
      expect(parseText('id: 1\nid: 2\nid: 3\0\ndata: x\n\n')).toEqual([{ data: 'x', id: '2' }]);
    });
  });

  describe('when a retry field is given', () => {
    it('accepts ASCII digits, calls onRetry at once and records it on the event and the parser', () => {
      const retries: number[] = [];
      const parser = createSseParser({ onRetry: (milliseconds) => retries.push(milliseconds) });
      expect(parser.push('retry: 3000\n')).toEqual([]);
      expect(retries).toEqual([3000]);
      expect(parser.push('data: x\n\n')).toEqual([{ data: 'x', retry: 3000 }]);
      expect(parser.retry).toBe(3000);
    });

    it.each([
      ['a unit', 'retry: 3s'],
      ['a sign', 'retry: -1'],
      ['a plus sign', 'retry: +1'],
      ['a decimal point', 'retry: 1.5'],
      ['a trailing space', 'retry: 1 '],
      ['an empty value', 'retry:'],
      ['non-ASCII digits', 'retry: ١٢'],
    ])('ignores a value with %s', (_label, line) => {
      const result = parseChunks([`${line}\ndata: x\n\n`]);
      expect(result.events).toEqual([{ data: 'x' }]);
      expect(result.retries).toEqual([]);
      expect(result.retry).toBeUndefined();
    });

    it('sets the reconnection time even when its block has no data', () => {
      const result = parseChunks(['retry: 10\n\ndata: x\n\n']);
      expect(result.retry).toBe(10);
      expect(result.events).toEqual([{ data: 'x' }]);
    });
  });

  describe('when a blank line arrives with an empty data buffer', () => {
    it('dispatches nothing and resets the event type', () => {
      expect(parseText('event: foo\n\ndata: x\n\n')).toEqual([{ data: 'x' }]);
    });

    it('dispatches nothing for consecutive blank lines', () => {
      expect(parseText('\n\n\r\n\rdata: x\n\n\n\n')).toEqual([{ data: 'x' }]);
    });
  });

  describe('when a field is unknown', () => {
    it('ignores it, matching field names case-sensitively', () => {
      expect(parseText('foo: bar\nDATA: y\nData: z\ndata: x\n\n')).toEqual([{ data: 'x' }]);
    });
  });

  describe('when the event field is given', () => {
    it('sets the type of the dispatched event and omits it when empty', () => {
      expect(parseText('event: update\ndata: 1\n\nevent:\ndata: 2\n\n')).toEqual([
        { event: 'update', data: '1' },
        { data: '2' },
      ]);
    });

    it('keeps the last event field of the block', () => {
      expect(parseText('event: a\nevent: b\ndata: x\n\n')).toEqual([{ event: 'b', data: 'x' }]);
    });
  });

  describe('when the stream ends', () => {
    it('discards an event without its terminating blank line', () => {
      const parser = createSseParser();
      expect(parser.push('data: done\n\ndata: partial\n')).toEqual([{ data: 'done' }]);
      expect(parser.end()).toEqual([]);
    });

    it('discards an unterminated block and an unterminated final line', () => {
      const result = parseChunks(['id: 1\n\nid: 2\n', ': never\ndata: x']);
      expect(result.comments).toEqual(['never']);
      expect(result.lastEventId).toBe('1');
      expect(result.events).toEqual([]);

      const trailing = parseChunks([': a\n', ': unterminated']);
      expect(trailing.comments).toEqual(['a']);
    });

    it('starts a fresh stream afterwards, keeping lastEventId and retry', () => {
      const parser = createSseParser();
      parser.push('retry: 500\nid: 9\n\nevent: half\ndata: lost\r');
      parser.end();
      expect(parser.push('\uFEFFdata: next\n\n')).toEqual([{ data: 'next' }]);
      expect(parser.lastEventId).toBe('9');
      expect(parser.retry).toBe(500);
    });
  });

  describe('when a long line arrives in many small chunks', () => {
    it('assembles the line whole', () => {
      const payload = 'x'.repeat(200_000);
      const text = `data: ${payload}\n\n`;
      const chunks: string[] = [];
      for (let offset = 0; offset < text.length; offset += 97) chunks.push(text.slice(offset, offset + 97));
      const events = parseChunks(chunks).events;
      expect(events).toHaveLength(1);
      expect(events[0]?.data).toBe(payload);
    });
  });

  describe('when given a realistic OpenAI chat completion stream split per byte', () => {
    it('yields every chunk followed by [DONE]', () => {
      const deltas = ['', 'Hello', ', wörld', '! 👋'];
      const lines = deltas.map((content, index) =>
        JSON.stringify({
          id: 'chatcmpl-9xyz',
          object: 'chat.completion.chunk',
          created: 1_700_000_000,
          model: 'gpt-4o-mini',
          choices: [
            {
              index: 0,
              delta: index === 0 ? { role: 'assistant', content } : { content },
              finish_reason: null,
            },
          ],
        }),
      );
      const transcript = `${lines.map((line) => `data: ${line}\n\n`).join('')}data: [DONE]\n\n`;
      const events = parseChunks(bytesOf(transcript)).events;
      expect(events.map((event) => event.event)).toEqual([
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
      ]);
      expect(events.at(-1)).toEqual({ data: '[DONE]' });
      const text = events
        .slice(0, -1)
        .map((event) => (JSON.parse(event.data) as { choices: [{ delta: { content: string } }] }).choices[0])
        .map((choice) => choice.delta.content)
        .join('');
      expect(text).toBe('Hello, wörld! 👋');
    });
  });

  describe('when given a realistic Anthropic messages stream split per byte', () => {
    it('yields the typed events, pings included, in order', () => {
      const transcript = [
        'event: message_start',
        'data: {"type":"message_start","message":{"id":"msg_01","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"usage":{"input_tokens":25,"output_tokens":1}}}',
        '',
        'event: content_block_start',
        'data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}',
        '',
        'event: ping',
        'data: {"type": "ping"}',
        '',
        'event: content_block_delta',
        'data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Grüß"}}',
        '',
        'event: content_block_delta',
        'data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" dich 🌍"}}',
        '',
        'event: content_block_stop',
        'data: {"type":"content_block_stop","index":0}',
        '',
        'event: message_delta',
        'data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}',
        '',
        'event: message_stop',
        'data: {"type":"message_stop"}',
        '',
        '',
      ].join('\n');
      const events = parseChunks(bytesOf(transcript)).events;
      expect(events.map((event) => event.event)).toEqual([
        'message_start',
        'content_block_start',
        'ping',
        'content_block_delta',
        'content_block_delta',
        'content_block_stop',
        'message_delta',
        'message_stop',
      ]);
      for (const event of events) {
        expect((JSON.parse(event.data) as { type: string }).type).toBe(event.event);
      }
      const text = events
        .filter((event) => event.event === 'content_block_delta')
        .map((event) => (JSON.parse(event.data) as { delta: { text: string } }).delta.text)
        .join('');
      expect(text).toBe('Grüß dich 🌍');
    });
  });

  describe('when formatted events are encoded and split at arbitrary byte offsets', () => {
    it('yields exactly the original events and comments', () => {
      fc.assert(
        fc.property(streamItems, cutPoints, (items, cuts) => {
          const result = parseChunks(splitBytes(encoder.encode(formatItems(items)), cuts));
          const expected = expectedFrom(items);
          expect(result.events).toEqual(expected.events);
          expect(result.comments).toEqual(expected.comments);
        }),
        { numRuns: 300 },
      );
    });
  });

  describe('when formatted events use CRLF or CR line endings and are split at arbitrary characters', () => {
    it('yields exactly the original events and comments', () => {
      fc.assert(
        fc.property(streamItems, lineEnding, cutPoints, (items, ending, cuts) => {
          const text = formatItems(items).replaceAll('\n', ending);
          const result = parseChunks(splitString(text, cuts));
          const expected = expectedFrom(items);
          expect(result.events).toEqual(expected.events);
          expect(result.comments).toEqual(expected.comments);
        }),
        { numRuns: 300 },
      );
    });

    it('yields them when every UTF-16 code unit is its own chunk', () => {
      fc.assert(
        fc.property(streamItems, lineEnding, (items, ending) => {
          const text = formatItems(items).replaceAll('\n', ending);
          expect(parseChunks(charactersOf(text)).events).toEqual(expectedFrom(items).events);
        }),
        { numRuns: 100 },
      );
    });
  });

  describe('when arbitrary input is chunked differently', () => {
    it('observes the same events, comments, retries and last event ID as one push of the whole text', () => {
      fc.assert(
        fc.property(sseFragments, cutPoints, (text, cuts) => {
          const whole = parseChunks([text]);
          expect(parseChunks(splitString(text, cuts))).toEqual(whole);
          expect(parseChunks(splitBytes(encoder.encode(text), cuts))).toEqual(whole);
        }),
        { numRuns: 500 },
      );
    });

    it('agrees with a whole-input transcription of the spec', () => {
      fc.assert(
        fc.property(sseFragments, cutPoints, (text, cuts) => {
          expect(parseChunks(splitString(text, cuts))).toEqual(referenceParse(text));
        }),
        { numRuns: 500 },
      );
    });
  });
});

describe('formatSseEvent', () => {
  describe('when given every field', () => {
    it('writes comment, event, id, retry and data, then a blank line', () => {
      expect(
        formatSseEvent({ data: 'payload', retry: 2500, id: '17', event: 'update', comment: 'hello' }),
      ).toBe(': hello\nevent: update\nid: 17\nretry: 2500\ndata: payload\n\n');
    });
  });

  describe('when data contains line breaks', () => {
    it('writes one data line per line, whatever the line ending', () => {
      expect(formatSseEvent({ data: 'a\nb\r\nc\rd' })).toBe('data: a\ndata: b\ndata: c\ndata: d\n\n');
    });

    it('round-trips empty lines and a trailing break through the parser', () => {
      const block = formatSseEvent({ data: '\nmiddle\n\n' });
      expect(block).toBe('data:\ndata: middle\ndata:\ndata:\n\n');
      expect(parseText(block)).toEqual([{ data: '\nmiddle\n\n' }]);
    });
  });

  describe('when a value is empty or starts with a space', () => {
    it('writes a bare field for empty values and keeps leading spaces', () => {
      expect(formatSseEvent({ data: '', id: '' })).toBe('id:\ndata:\n\n');
      const block = formatSseEvent({ event: ' spaced', data: '  two' });
      expect(parseText(block)).toEqual([{ event: ' spaced', data: '  two' }]);
    });
  });

  describe('when only a comment is given', () => {
    it('writes a keep-alive block that dispatches no event', () => {
      const block = formatSseEvent({ comment: 'keep-alive' });
      expect(block).toBe(': keep-alive\n\n');
      const result = parseChunks([block]);
      expect(result.events).toEqual([]);
      expect(result.comments).toEqual(['keep-alive']);
    });

    it('writes a multi-line comment as one comment line per line', () => {
      expect(formatSseEvent({ comment: 'one\ntwo' })).toBe(': one\n: two\n\n');
    });
  });

  describe('when a field cannot be written safely', () => {
    it.each<[string, SseEventInit]>([
      ['an event with LF', { event: 'a\nb', data: 'x' }],
      ['an event with CR', { event: 'a\rb', data: 'x' }],
      ['an id with LF', { id: '1\n2', data: 'x' }],
      ['an id with CR', { id: '1\r2', data: 'x' }],
      ['an id with NUL', { id: '1\u00002', data: 'x' }],
      ['a negative retry', { retry: -1 }],
      ['a fractional retry', { retry: 1.5 }],
      ['a NaN retry', { retry: Number.NaN }],
    ])('throws CORE_SSE_INVALID_FIELD for %s', (_label, event) => {
      const caught = thrownBy(() => formatSseEvent(event));
      expect(BallastError.isInstance(caught)).toBe(true);
      expect((caught as BallastError).code).toBe('CORE_SSE_INVALID_FIELD');
    });
  });
});

describe('formatSseData', () => {
  describe('when given a JSON value', () => {
    it('writes its JSON as the data of one event', () => {
      expect(formatSseData({ text: 'line\nbreak', n: 1 })).toBe('data: {"text":"line\\nbreak","n":1}\n\n');
      expect(JSON.parse(parseText(formatSseData(['😀']))[0]?.data ?? 'null')).toEqual(['😀']);
    });
  });

  describe('when the value has no JSON form', () => {
    it('throws CORE_SSE_INVALID_FIELD for undefined', () => {
      const caught = thrownBy(() => formatSseData(undefined));
      expect(BallastError.isInstance(caught)).toBe(true);
      expect((caught as BallastError).code).toBe('CORE_SSE_INVALID_FIELD');
    });

    it('throws CORE_SSE_INVALID_FIELD with the serialiser error as cause for a BigInt', () => {
      const caught = thrownBy(() => formatSseData({ big: 1n }));
      expect(BallastError.isInstance(caught)).toBe(true);
      expect((caught as BallastError).code).toBe('CORE_SSE_INVALID_FIELD');
      expect((caught as BallastError).cause).toBeInstanceOf(TypeError);
    });
  });
});

function streamOf(
  chunks: readonly Uint8Array[],
  onCancel: () => void = () => undefined,
): ReadableStream<Uint8Array> {
  let index = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller): void {
      const chunk = chunks[index];
      index += 1;
      if (chunk === undefined) controller.close();
      else controller.enqueue(chunk);
    },
    cancel(): void {
      onCancel();
    },
  });
}

async function collect(
  body: Parameters<typeof parseSseStream>[0],
  options: SseParserOptions = {},
): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  for await (const event of parseSseStream(body, options)) events.push(event);
  return events;
}

describe('parseSseStream', () => {
  describe('when given a ReadableStream of bytes split per byte', () => {
    it('yields every event and drops the unterminated tail', async () => {
      const comments: string[] = [];
      const body = streamOf(bytesOf(': hi\r\nevent: a\r\ndata: 😀\r\n\r\ndata: b\r\n\r\ndata: lost\r\n'));
      expect(await collect(body, { onComment: (text) => comments.push(text) })).toEqual([
        { event: 'a', data: '😀' },
        { data: 'b' },
      ]);
      expect(comments).toEqual(['hi']);
    });

    it('cancels the stream when the consumer stops early', async () => {
      let cancelled = false;
      const body = streamOf(bytesOf('data: 1\n\ndata: 2\n\n'), () => {
        cancelled = true;
      });
      for await (const event of parseSseStream(body)) {
        expect(event).toEqual({ data: '1' });
        break;
      }
      expect(cancelled).toBe(true);
    });

    it('rejects with the error of a failing stream', async () => {
      const failure = new Error('connection reset');
      let pulls = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller): void {
          pulls += 1;
          if (pulls === 1) controller.enqueue(encoder.encode('data: 1\n\n'));
          else controller.error(failure);
        },
      });
      const seen: SseEvent[] = [];
      await expect(
        (async (): Promise<void> => {
          for await (const event of parseSseStream(body)) seen.push(event);
        })(),
      ).rejects.toBe(failure);
      expect(seen).toEqual([{ data: '1' }]);
    });
  });

  describe('when given an async iterable of text and bytes', () => {
    it('yields the events across mixed chunks', async () => {
      async function* chunks(): AsyncGenerator<string | Uint8Array> {
        yield '\uFEFFdata: a';
        yield encoder.encode('\r');
        yield '\ndata: é\r\n';
        yield encoder.encode('\r\nid: 5\ndata: c\n\n');
      }
      expect(await collect(chunks())).toEqual([{ data: 'a\né' }, { data: 'c', id: '5' }]);
    });
  });
});
