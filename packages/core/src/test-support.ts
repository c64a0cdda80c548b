// Helpers shared by this package's tests. Not exported from the package.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Dialect, StopReason, StreamEvent, Usage } from './chat.js';
import { createStreamDecoder } from './convert.js';
import { createSseParser, type SseEvent } from './sse.js';

const fixtures = fileURLToPath(new URL('./__fixtures__/', import.meta.url));

/** Reads a JSON fixture, e.g. `fixture('openai/request-tools.json')`. */
export function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(`${fixtures}${name}`, 'utf8')) as Record<string, unknown>;
}

/** Reads an SSE fixture as raw text. */
export function fixtureText(name: string): string {
  return readFileSync(`${fixtures}${name}`, 'utf8');
}

/** Parses a whole SSE text into events. */
export function parseAll(text: string): SseEvent[] {
  const parser = createSseParser();
  return [...parser.push(text), ...parser.end()];
}

/** What a stream amounts to once assembled: the facts both dialects must agree on. */
export interface AssembledStream {
  id: string;
  text: string;
  reasoning: string;
  toolCalls: Array<{ id: string; name: string; arguments: string }>;
  stopReason: StopReason | null | undefined;
  usage: Partial<Usage>;
  errors: Array<{ errorType: string; message: string }>;
  ended: boolean;
}

/** Decodes a dialect's SSE events and assembles the message they carry. */
export function assemble(dialect: Dialect, events: readonly SseEvent[]): AssembledStream {
  const decoder = createStreamDecoder(dialect);
  const steps: StreamEvent[] = events.flatMap((event) => decoder.push(event));
  const result: AssembledStream = {
    id: '',
    text: '',
    reasoning: '',
    toolCalls: [],
    stopReason: undefined,
    usage: {},
    errors: [],
    ended: false,
  };
  for (const step of steps) {
    switch (step.type) {
      case 'message-start':
        result.id = step.id;
        Object.assign(result.usage, step.usage);
        break;
      case 'text-delta':
        result.text += step.text;
        break;
      case 'reasoning-delta':
        result.reasoning += step.text;
        break;
      case 'tool-call-start':
        result.toolCalls[step.toolIndex] = { id: step.id, name: step.name, arguments: '' };
        break;
      case 'tool-call-delta': {
        const call = result.toolCalls[step.toolIndex];
        if (call) call.arguments += step.argumentsDelta;
        break;
      }
      case 'finish':
        result.stopReason = step.stopReason;
        break;
      case 'usage':
        Object.assign(result.usage, step.usage);
        break;
      case 'error':
        result.errors.push({ errorType: step.errorType, message: step.message });
        break;
      case 'end':
        result.ended = true;
        break;
      default:
        break;
    }
  }
  return result;
}
