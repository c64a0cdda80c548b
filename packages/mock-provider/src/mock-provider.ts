import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BallastError, type Dialect } from '@ballast/core';
import {
  ANTHROPIC_REQUEST_ID_HEADER,
  anthropicError,
  anthropicMalformed,
  anthropicMessage,
  anthropicQuota,
  anthropicStream,
} from './anthropic-wire.js';
import {
  OPENAI_REQUEST_ID_HEADER,
  openaiCompletion,
  openaiError,
  openaiMalformed,
  openaiNotFound,
  openaiQuota,
  openaiStream,
} from './openai-wire.js';
import { type MockReply, type PreparedContent, prepareContent, type RecordedRequest } from './reply.js';
import { createInputTokenCounter } from './usage.js';
import {
  type CompleteResponse,
  type ErrorReply,
  JSON_HEADERS,
  type QuotaReply,
  type ReplyContext,
  SSE_HEADERS,
  type StreamPlan,
} from './wire.js';

/**
 * Options of {@link createMockProvider}.
 *
 * @example
 * ```ts
 * const provider = await createMockProvider({ name: 'primary', logRequests: false });
 * ```
 */
export interface MockProviderOptions {
  /** The interface to listen on. @default '127.0.0.1' */
  host?: string;
  /** The port to listen on; 0 picks a free one. @default 0 */
  port?: number;
  /** Sent back in the `x-mock-provider` header and by `/healthz`, to tell two mocks apart. @default 'mock-provider' */
  name?: string;
  /** The reply once the script is empty. @default `{ kind: 'text', text: 'Hello from the mock provider.' }` */
  defaultReply?: MockReply;
  /** Keep every chat request in `requests`; benchmarks turn it off. @default true */
  logRequests?: boolean;
}

/**
 * A running mock provider; see {@link createMockProvider}.
 *
 * @example
 * ```ts
 * const provider = await createMockProvider();
 * const client = new OpenAI({ apiKey: 'test', baseURL: provider.openaiBaseUrl, maxRetries: 0 });
 * provider.script({ kind: 'text', text: 'Hi!' });
 * await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello' }] });
 * await provider.close();
 * ```
 */
export interface MockProvider {
  /** The server's origin, e.g. `http://127.0.0.1:54321`. */
  readonly url: string;
  /** `${url}/v1`: what an OpenAI client takes as `baseURL`. */
  readonly openaiBaseUrl: string;
  /** `url`: what an Anthropic client takes as `baseURL` (the SDK appends `/v1/messages`). */
  readonly anthropicBaseUrl: string;
  /** The chat requests received, oldest first (empty when `logRequests` is false). */
  readonly requests: RecordedRequest[];
  /**
   * Queues replies for the next chat requests, in order; once the queue is empty the default reply
   * is used.
   * @param replies the replies, first one for the next request
   */
  script(...replies: MockReply[]): void;
  /**
   * Replaces the reply used when the script is empty.
   * @param reply the new default
   */
  setDefaultReply(reply: MockReply): void;
  /**
   * Number of responses whose client went away before the response ended (hangs and streams the
   * client aborted). Sockets the provider destroys itself (`disconnect`, `close()`) do not count.
   */
  readonly abortedResponses: number;
  /**
   * Waits until `abortedResponses` reaches `n`.
   * @param n the count to wait for
   * @param timeoutMs how long to wait @default 2000
   * @returns a promise that resolves once the count is reached
   * @throws {BallastError} `MOCK_PROVIDER_WAIT_TIMEOUT` (as a rejection) when the count is not reached in time
   */
  waitForAborts(n: number, timeoutMs?: number): Promise<void>;
  /** Clears the script, the recorded requests and the counters (aborts, the `N` of response ids). */
  reset(): void;
  /**
   * Stops listening and destroys every connection, hanging ones included.
   * @returns a promise that resolves once the server is closed
   */
  close(): Promise<void>;
}

interface DialectWire {
  requestIdHeader: string;
  completion(context: ReplyContext, content: PreparedContent): string;
  stream(context: ReplyContext, content: PreparedContent): StreamPlan;
  error(reply: ErrorReply): CompleteResponse;
  quota(reply: QuotaReply, now: number): CompleteResponse;
  malformed(): CompleteResponse;
}

// Everything a `disconnect` reply needs to write its partial response.
interface DisconnectOptions {
  request: IncomingMessage;
  response: ServerResponse;
  wire: DialectWire;
  context: ReplyContext;
  content: PreparedContent;
  afterChunks: number;
  delayMs: number;
  stream: boolean;
  requestId: string;
}

const wires: Record<Dialect, DialectWire> = {
  openai: {
    requestIdHeader: OPENAI_REQUEST_ID_HEADER,
    completion: openaiCompletion,
    stream: openaiStream,
    error: openaiError,
    quota: openaiQuota,
    malformed: openaiMalformed,
  },
  anthropic: {
    requestIdHeader: ANTHROPIC_REQUEST_ID_HEADER,
    completion: anthropicMessage,
    stream: anthropicStream,
    error: anthropicError,
    quota: anthropicQuota,
    malformed: anthropicMalformed,
  },
};

const DEFAULT_REPLY: MockReply = { kind: 'text', text: 'Hello from the mock provider.' };
const DEFAULT_WAIT_MS = 2000;
const MAX_REPLY_DEPTH = 8;
const FALLBACK_MODEL = 'mock-model';
// Longer than the usual client pool idle time, so a benchmark's connections stay open.
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
const MOCK_MODELS = ['gpt-4o', 'gpt-4o-mini', 'claude-sonnet-4-5', 'claude-haiku-4-5'];
const MODELS_BODY = JSON.stringify({
  object: 'list',
  data: MOCK_MODELS.map((id) => ({ id, object: 'model', created: 1_700_000_000, owned_by: 'mock-provider' })),
});

function ignore(): void {}

function headersOf(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = typeof value === 'string' ? value : value.join(', ');
  }
  return headers;
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// The request as tests see it; `fields` are what the body and the URL said.
function recordRequest(
  request: IncomingMessage,
  fields: Pick<RecordedRequest, 'dialect' | 'path' | 'body' | 'stream' | 'model'>,
): RecordedRequest {
  return { ...fields, headers: headersOf(request), receivedAt: Date.now() };
}

function failureReply(message: string): ErrorReply {
  return { kind: 'error', status: 500, message: `Mock provider: ${message}` };
}

function streamHeaders(wire: DialectWire, requestId: string, name: string): Record<string, string> {
  return { ...SSE_HEADERS, [wire.requestIdHeader]: requestId, 'x-mock-provider': name };
}

// Resolves after `milliseconds`, or as soon as the response closes.
function pause(response: ServerResponse, milliseconds: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      response.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, milliseconds);
    response.once('close', done);
  });
}

function drained(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.once('drain', done);
    response.once('close', done);
  });
}

// Resolves once the chunk has reached the socket, or as soon as the response closes.
function flushed(response: ServerResponse, chunk: string | Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      response.off('close', done);
      resolve();
    };
    response.once('close', done);
    response.write(chunk, done);
  });
}

/**
 * Writes SSE blocks, one write per block with a pause between them, waiting for `drain` when the
 * client reads slower than we write. Resolves once the last block has reached the socket (or the
 * response closed).
 */
async function writeEvents(
  response: ServerResponse,
  events: readonly string[],
  delayMs: number,
): Promise<void> {
  if (delayMs <= 0) {
    if (events.length > 0) await flushed(response, events.join(''));
    return;
  }
  for (let index = 0; index < events.length; index++) {
    if (index > 0) await pause(response, delayMs);
    if (response.destroyed) return;
    const event = events[index] as string;
    if (index === events.length - 1) await flushed(response, event);
    else if (!response.write(event)) await drained(response);
  }
}

/**
 * Starts a scripted fake LLM provider on a real HTTP server. It speaks OpenAI chat completions
 * (`POST /v1/chat/completions`) and Anthropic messages (`POST /v1/messages`), streaming or not, and
 * serves `GET /v1/models` and `GET /healthz`. Each chat request takes the next scripted reply, or the
 * default reply once the script is empty.
 *
 * @param options where to listen, the default reply, whether to record requests
 * @returns the running provider; call `close()` when done
 * @throws {BallastError} `MOCK_PROVIDER_LISTEN_FAILED` (as a rejection) when the server cannot listen
 * @example
 * ```ts
 * const provider = await createMockProvider();
 * provider.script({ kind: 'quota' }, { kind: 'text', text: 'Recovered.' });
 * const anthropic = new Anthropic({ apiKey: 'test', baseURL: provider.anthropicBaseUrl, maxRetries: 0 });
 * await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [] }); // throws 400
 * await provider.close();
 * ```
 */
export async function createMockProvider(options: MockProviderOptions = {}): Promise<MockProvider> {
  const host = options.host ?? '127.0.0.1';
  const name = options.name ?? 'mock-provider';
  const logRequests = options.logRequests ?? true;
  let defaultReply: MockReply = options.defaultReply ?? DEFAULT_REPLY;
  const queue: MockReply[] = [];
  const requests: RecordedRequest[] = [];
  const inputTokens = createInputTokenCounter();
  const healthBody = JSON.stringify({ status: 'ok', name });
  let sequence = 0;
  let abortedResponses = 0;
  let closing = false;
  let closed: Promise<void> | undefined;
  const waiters = new Set<{ n: number; resolve: () => void }>();

  const countAbort = (): void => {
    abortedResponses++;
    for (const waiter of waiters) {
      if (abortedResponses >= waiter.n) waiter.resolve();
    }
  };

  // Sends a whole response; `requestId` is the request-id header, once the request got that far.
  const send = (
    response: ServerResponse,
    whole: CompleteResponse,
    requestId?: readonly [string, string],
  ): void => {
    const headers: Record<string, string | number> = {
      ...whole.headers,
      'content-length': Buffer.byteLength(whole.body),
      'x-mock-provider': name,
    };
    if (requestId !== undefined) headers[requestId[0]] = requestId[1];
    response.writeHead(whole.status, headers);
    response.end(whole.body);
  };

  const handleChat = (
    dialect: Dialect,
    path: string,
    request: IncomingMessage,
    response: ServerResponse,
    rawBody: string,
  ): void => {
    const wire = wires[dialect];
    let body: unknown;
    try {
      body = JSON.parse(rawBody);
    } catch {
      body = undefined;
    }
    if (!isJsonObject(body)) {
      send(response, wire.malformed());
      return;
    }
    sequence++;
    const requestId = `req_mock_${sequence}`;
    const stream = body.stream === true;
    const model = typeof body.model === 'string' ? body.model : '';
    let record: RecordedRequest | undefined;
    if (logRequests) {
      record = recordRequest(request, { dialect, path, body, stream, model });
      requests.push(record);
    }

    let reply: MockReply = queue.length > 0 ? (queue.shift() as MockReply) : defaultReply;
    let failure: string | undefined;
    for (let depth = 0; typeof reply === 'function'; depth++) {
      if (depth === MAX_REPLY_DEPTH) {
        failure = `reply functions nested more than ${MAX_REPLY_DEPTH} deep.`;
        break;
      }
      record ??= recordRequest(request, { dialect, path, body, stream, model });
      try {
        reply = reply(record);
      } catch (error) {
        failure = `the reply function threw: ${error instanceof Error ? error.message : String(error)}`;
        break;
      }
    }
    if (failure === undefined && !isJsonObject(reply)) failure = 'the reply function returned no reply.';
    if (failure !== undefined || typeof reply === 'function') {
      send(response, wire.error(failureReply(failure ?? '')), [wire.requestIdHeader, requestId]);
      return;
    }

    switch (reply.kind) {
      case 'text':
      case 'tool-calls':
      case 'disconnect': {
        const content = prepareContent(reply);
        const override = reply.kind === 'disconnect' ? undefined : reply.usage;
        const context: ReplyContext = {
          sequence,
          model: model === '' ? FALLBACK_MODEL : model,
          created: Math.floor(Date.now() / 1000),
          usage: {
            inputTokens: override?.inputTokens ?? inputTokens.count(dialect, body, rawBody),
            outputTokens: override?.outputTokens ?? content.outputTokens,
            cachedInputTokens: override?.cachedInputTokens ?? 0,
          },
          includeUsage:
            dialect === 'openai' &&
            isJsonObject(body.stream_options) &&
            body.stream_options.include_usage === true,
        };
        const delayMs = reply.chunkDelayMs ?? 0;
        if (reply.kind === 'disconnect') {
          disconnect({
            request,
            response,
            wire,
            context,
            content,
            afterChunks: reply.afterChunks,
            delayMs,
            stream,
            requestId,
          });
          return;
        }
        if (!stream) {
          send(response, { status: 200, headers: JSON_HEADERS, body: wire.completion(context, content) }, [
            wire.requestIdHeader,
            requestId,
          ]);
          return;
        }
        const plan = wire.stream(context, content);
        response.writeHead(200, streamHeaders(wire, requestId, name));
        // Unpaced: the whole stream in one write, as fast as the socket takes it.
        if (delayMs <= 0) {
          response.end(plan.events.join(''));
          return;
        }
        writeEvents(response, plan.events, delayMs).then(() => {
          if (!response.destroyed) response.end();
        }, ignore);
        return;
      }
      case 'error':
        send(response, wire.error(reply), [wire.requestIdHeader, requestId]);
        return;
      case 'quota':
        send(response, wire.quota(reply, Date.now()), [wire.requestIdHeader, requestId]);
        return;
      case 'hang':
        return;
      case 'hang-after-headers':
        response.writeHead(200, streamHeaders(wire, requestId, name));
        response.flushHeaders();
        return;
      default: {
        const kind = JSON.stringify((reply as { kind?: unknown }).kind);
        send(response, wire.error(failureReply(`unknown reply kind ${kind}.`)), [
          wire.requestIdHeader,
          requestId,
        ]);
      }
    }
  };

  const disconnect = (disconnection: DisconnectOptions): void => {
    const { request, response, wire, context, content, afterChunks, delayMs, stream, requestId } =
      disconnection;
    const destroy = (): void => {
      disconnecting.add(response);
      request.socket.destroy();
    };
    if (!stream) {
      const full = Buffer.from(wire.completion(context, content));
      response.writeHead(200, {
        ...JSON_HEADERS,
        [wire.requestIdHeader]: requestId,
        'content-length': String(full.length),
        'x-mock-provider': name,
      });
      flushed(response, full.subarray(0, Math.floor(full.length / 2))).then(destroy, destroy);
      return;
    }
    const plan = wire.stream(context, content);
    const end = Math.min(plan.contentStart + Math.max(0, afterChunks), plan.contentEnd);
    response.writeHead(200, streamHeaders(wire, requestId, name));
    writeEvents(response, plan.events.slice(0, end), delayMs).then(destroy, destroy);
  };

  // Responses the provider cut itself: their close is not a client abort.
  const disconnecting = new WeakSet<ServerResponse>();

  const server: Server = createServer((request, response) => {
    const url = request.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    const method = request.method ?? 'GET';
    response.on('close', () => {
      if (!response.writableEnded && !closing && !disconnecting.has(response)) countAbort();
    });
    request.on('error', ignore);

    const dialect: Dialect | undefined =
      path === '/v1/chat/completions' ? 'openai' : path === '/v1/messages' ? 'anthropic' : undefined;
    if (dialect !== undefined && method === 'POST') {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const rawBody =
          chunks.length === 1
            ? (chunks[0] as Buffer).toString('utf8')
            : Buffer.concat(chunks).toString('utf8');
        handleChat(dialect, path, request, response, rawBody);
      });
      return;
    }
    // Drain any body so the connection can be reused.
    request.resume();
    if (method === 'GET' && path === '/v1/models') {
      send(response, { status: 200, headers: JSON_HEADERS, body: MODELS_BODY });
    } else if (method === 'GET' && path === '/healthz') {
      send(response, { status: 200, headers: JSON_HEADERS, body: healthBody });
    } else if (dialect === 'anthropic') {
      const error = anthropicError({
        kind: 'error',
        status: 405,
        message: `Method ${method} not allowed on ${path}.`,
      });
      send(response, { ...error, headers: { ...error.headers, allow: 'POST' } });
    } else {
      const error = openaiNotFound(method, path);
      send(response, error);
    }
  });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1000;

  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      reject(
        new BallastError(
          'MOCK_PROVIDER_LISTEN_FAILED',
          `The mock provider could not listen on ${host}:${options.port ?? 0}.`,
          {
            cause: error,
            details: { host, port: options.port ?? 0 },
          },
        ),
      );
    };
    server.once('error', onError);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url,
    openaiBaseUrl: `${url}/v1`,
    anthropicBaseUrl: url,
    requests,
    script(...replies) {
      queue.push(...replies);
    },
    setDefaultReply(reply) {
      defaultReply = reply;
    },
    get abortedResponses() {
      return abortedResponses;
    },
    waitForAborts(n, timeoutMs = DEFAULT_WAIT_MS) {
      if (abortedResponses >= n) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const waiter = {
          n,
          resolve: () => {
            clearTimeout(timer);
            waiters.delete(waiter);
            resolve();
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(
            new BallastError(
              'MOCK_PROVIDER_WAIT_TIMEOUT',
              `Expected ${n} aborted responses within ${timeoutMs} ms, saw ${abortedResponses}.`,
              { details: { expected: n, actual: abortedResponses, timeoutMs } },
            ),
          );
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    reset() {
      queue.length = 0;
      requests.length = 0;
      sequence = 0;
      abortedResponses = 0;
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing = true;
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
