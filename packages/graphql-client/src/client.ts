import { BallastError } from '@ballast/core';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { type DocumentNode, Kind, type OperationDefinitionNode, parse, print } from 'graphql';
import { Agent, type Dispatcher } from 'undici';

/** A GraphQL error as servers send it (`errors[]`), normalised. */
export interface GraphQLErrorEntry {
  message: string;
  path?: ReadonlyArray<string | number>;
  locations?: ReadonlyArray<{ line: number; column: number }>;
  extensions?: Record<string, unknown>;
}

/** What a GraphQL server answered: data, errors, or both. */
export interface GraphQLResult<Data = unknown> {
  data?: Data | null;
  errors?: GraphQLErrorEntry[];
  extensions?: Record<string, unknown>;
}

/** Retries, for queries only: a mutation is never sent twice. */
export interface RetryOptions {
  /** Attempts in all, the first included. @default 3 */
  attempts?: number;
  /** First backoff; doubled each retry, with jitter. @default 100 */
  baseDelayMs?: number;
  /** Longest backoff. @default 2000 */
  maxDelayMs?: number;
}

/** Options of {@link createGraphQLClient}. */
export interface GraphQLClientOptions {
  /** The GraphQL endpoint, e.g. `http://127.0.0.1:8080/v1/graphql`. */
  endpoint: string;
  /** Headers sent with every request (`x-hasura-admin-secret`, `x-hasura-role`, `authorization`). */
  headers?: Record<string, string>;
  /** Per request, from sending to the last byte. @default 30000 */
  timeoutMs?: number;
  /** Retries of queries on network errors, 429 and 502-504; `false` turns them off. @default { attempts: 3 } */
  retry?: RetryOptions | false;
  /** Answers larger than this are refused. @default 10 MiB */
  maxResponseBytes?: number;
  /** Keep-alive connections to the endpoint. @default 16 */
  connections?: number;
  /** An undici dispatcher to use instead of the client's own pool. */
  dispatcher?: Dispatcher;
}

/** Options of one request. */
export interface RequestOptions {
  signal?: AbortSignal;
  /** Headers for this request only (merged over the client's). */
  headers?: Record<string, string>;
  /** Which operation of a document with several to run. */
  operationName?: string;
}

/** One operation of a batch. */
export interface BatchEntry {
  document: string | DocumentNode;
  variables?: Record<string, unknown>;
  operationName?: string;
}

/** The client. */
export interface GraphQLClient {
  /**
   * Runs an operation and resolves with its `data`.
   * @throws {BallastError} `GRAPHQL_RESPONSE_ERRORS` (the server's errors, with paths, extensions and any partial data), `GRAPHQL_HTTP_ERROR`, `GRAPHQL_TIMEOUT`, `GRAPHQL_NETWORK`, `GRAPHQL_RESPONSE_TOO_LARGE`, `GRAPHQL_INVALID_RESPONSE`
   */
  request<
    Data = Record<string, unknown>,
    Variables extends Record<string, unknown> = Record<string, unknown>,
  >(
    document: string | DocumentNode | TypedDocumentNode<Data, Variables>,
    variables?: Variables,
    options?: RequestOptions,
  ): Promise<Data>;
  /** Runs an operation and resolves with the whole result (data and errors), failing only on transport errors. */
  raw<Data = Record<string, unknown>>(
    document: string | DocumentNode,
    variables?: Record<string, unknown>,
    options?: RequestOptions,
  ): Promise<GraphQLResult<Data>>;
  /** Sends several operations in one request (an array body); one result per entry, in order. */
  batch(
    entries: readonly BatchEntry[],
    options?: Omit<RequestOptions, 'operationName'>,
  ): Promise<GraphQLResult[]>;
  /** Closes the connection pool (when the client made it). */
  close(): Promise<void>;
}

const printed = new WeakMap<DocumentNode, string>();
const kinds = new Map<string, 'query' | 'mutation' | 'subscription' | 'unknown'>();

function sourceOf(document: string | DocumentNode): string {
  if (typeof document === 'string') return document;
  let text = printed.get(document);
  if (text === undefined) {
    text = print(document);
    printed.set(document, text);
  }
  return text;
}

/** Whether the operation is a query (retryable) or not; parsed once per distinct document text. */
function operationKind(
  source: string,
  operationName: string | undefined,
): 'query' | 'mutation' | 'subscription' | 'unknown' {
  const key = `${operationName ?? ''}\u0000${source}`;
  let kind = kinds.get(key);
  if (kind === undefined) {
    try {
      const operations = parse(source, { noLocation: true }).definitions.filter(
        (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
      );
      const operation =
        operationName === undefined
          ? operations[0]
          : operations.find((item) => item.name?.value === operationName);
      kind = operation?.operation ?? 'unknown';
    } catch {
      kind = 'unknown';
    }
    if (kinds.size > 5000) kinds.clear();
    kinds.set(key, kind);
  }
  return kind;
}

const sleep = (milliseconds: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, milliseconds);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });

function responseErrors(result: GraphQLResult, endpoint: string): BallastError {
  const errors = result.errors ?? [];
  const first = errors[0];
  const where = first?.path ? ` at ${first.path.join('.')}` : '';
  const code = typeof first?.extensions?.code === 'string' ? ` (${first.extensions.code})` : '';
  const more = errors.length > 1 ? ` and ${errors.length - 1} more` : '';
  return new BallastError(
    'GRAPHQL_RESPONSE_ERRORS',
    `${endpoint} answered with errors: ${first?.message ?? 'unknown error'}${where}${code}${more}`,
    {
      details: { errors, data: result.data ?? null },
    },
  );
}

/**
 * Creates a GraphQL client on an undici keep-alive pool.
 * @param options endpoint, headers, timeout, retries, response cap
 * @returns the client
 * @throws {BallastError} `GRAPHQL_INVALID_OPTIONS` for a bad endpoint or option
 * @example
 * ```ts
 * const client = createGraphQLClient({ endpoint: 'http://127.0.0.1:8080/v1/graphql', headers: { 'x-hasura-role': 'user' } });
 * const data = await client.request<{ articles: Array<{ id: number }> }>('{ articles(limit: 5) { id } }');
 * ```
 */
export function createGraphQLClient(options: GraphQLClientOptions): GraphQLClient {
  let url: URL;
  try {
    url = new URL(options.endpoint);
  } catch {
    throw new BallastError(
      'GRAPHQL_INVALID_OPTIONS',
      `endpoint: expected an http(s) URL, got ${JSON.stringify(options.endpoint)}`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new BallastError(
      'GRAPHQL_INVALID_OPTIONS',
      `endpoint: expected an http(s) URL, got ${url.protocol} URL`,
    );
  }
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxResponseBytes = options.maxResponseBytes ?? 10 * 1024 * 1024;
  const retry =
    options.retry === false
      ? { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 }
      : { attempts: 3, baseDelayMs: 100, maxDelayMs: 2000, ...options.retry };
  for (const [name, value] of [
    ['timeoutMs', timeoutMs],
    ['maxResponseBytes', maxResponseBytes],
    ['retry.attempts', retry.attempts],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new BallastError(
        'GRAPHQL_INVALID_OPTIONS',
        `${name}: expected a whole number of 1 or more, got ${JSON.stringify(value)}`,
      );
    }
  }
  const owned = options.dispatcher === undefined;
  const dispatcher =
    options.dispatcher ??
    new Agent({ connections: options.connections ?? 16, keepAliveTimeout: 30_000, pipelining: 1 });
  const origin = url.origin;
  const path = `${url.pathname}${url.search}`;
  const baseHeaders: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/graphql-response+json, application/json',
    ...options.headers,
  };
  const endpoint = `${url.origin}${url.pathname}`;

  /** One HTTP exchange: the parsed JSON body, or a transport error. */
  async function send(
    body: string,
    requestOptions: Omit<RequestOptions, 'operationName'> | undefined,
  ): Promise<unknown> {
    const controller = new AbortController();
    const timer = setTimeout(
      () =>
        controller.abort(
          new BallastError('GRAPHQL_TIMEOUT', `${endpoint} did not answer within ${timeoutMs} ms`, {
            isRetryable: true,
          }),
        ),
      timeoutMs,
    );
    const outer = requestOptions?.signal;
    const onAbort = (): void => controller.abort(outer?.reason);
    outer?.addEventListener('abort', onAbort, { once: true });
    try {
      const response = await dispatcher.request({
        origin,
        path,
        method: 'POST',
        headers: requestOptions?.headers ? { ...baseHeaders, ...requestOptions.headers } : baseHeaders,
        body,
        signal: controller.signal,
      });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of response.body) {
        size += (chunk as Buffer).length;
        if (size > maxResponseBytes) {
          response.body.destroy();
          throw new BallastError(
            'GRAPHQL_RESPONSE_TOO_LARGE',
            `${endpoint} sent more than ${maxResponseBytes} bytes (maxResponseBytes); ask for fewer rows or fields`,
          );
        }
        chunks.push(chunk as Buffer);
      }
      const text = Buffer.concat(chunks).toString('utf8');
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      const status = response.statusCode;
      const isResult =
        typeof parsed === 'object' &&
        parsed !== null &&
        ('data' in parsed || 'errors' in parsed || Array.isArray(parsed));
      // GraphQL-over-HTTP servers answer errors with 4xx and a GraphQL body: that is a result, not a transport failure.
      if (status >= 200 && status < 300 && parsed !== undefined) return parsed;
      if (isResult && status < 500 && status !== 429) return parsed;
      throw new BallastError(
        'GRAPHQL_HTTP_ERROR',
        `${endpoint} answered HTTP ${status}: ${text.slice(0, 200) || '(empty body)'}`,
        {
          isRetryable: status === 429 || status === 502 || status === 503 || status === 504,
          details: { status, body: text.slice(0, 2000) },
        },
      );
    } catch (error) {
      if (BallastError.isInstance(error)) throw error;
      if (controller.signal.aborted) {
        const reason = controller.signal.reason;
        if (BallastError.isInstance(reason)) throw reason;
        throw new BallastError('GRAPHQL_ABORTED', 'the request was aborted', { cause: error });
      }
      throw new BallastError('GRAPHQL_NETWORK', `cannot reach ${endpoint}: ${(error as Error).message}`, {
        cause: error,
        isRetryable: true,
      });
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    }
  }

  async function sendWithRetry(
    body: string,
    retryable: boolean,
    requestOptions: Omit<RequestOptions, 'operationName'> | undefined,
  ): Promise<unknown> {
    const attempts = retryable ? retry.attempts : 1;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await send(body, requestOptions);
      } catch (error) {
        const failure = error as BallastError;
        if (attempt >= attempts || !failure.isRetryable || requestOptions?.signal?.aborted) throw failure;
        const backoff = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
        await sleep(backoff / 2 + Math.random() * (backoff / 2), requestOptions?.signal);
      }
    }
  }

  function asResult(value: unknown): GraphQLResult {
    if (
      typeof value !== 'object' ||
      value === null ||
      Array.isArray(value) ||
      !('data' in value || 'errors' in value)
    ) {
      throw new BallastError(
        'GRAPHQL_INVALID_RESPONSE',
        `${endpoint} did not answer with a GraphQL result (no data, no errors)`,
      );
    }
    return value as GraphQLResult;
  }

  async function raw<Data>(
    document: string | DocumentNode,
    variables: Record<string, unknown> | undefined,
    requestOptions: RequestOptions | undefined,
  ): Promise<GraphQLResult<Data>> {
    const source = sourceOf(document);
    const operationName = requestOptions?.operationName;
    const body = JSON.stringify({
      query: source,
      ...(variables === undefined ? {} : { variables }),
      ...(operationName === undefined ? {} : { operationName }),
    });
    const retryable = operationKind(source, operationName) === 'query';
    return asResult(await sendWithRetry(body, retryable, requestOptions)) as GraphQLResult<Data>;
  }

  return {
    async request(document, variables, requestOptions) {
      const result = await raw(document as string | DocumentNode, variables, requestOptions);
      if (result.errors && result.errors.length > 0) throw responseErrors(result, endpoint);
      if (result.data === undefined || result.data === null) {
        throw new BallastError('GRAPHQL_INVALID_RESPONSE', `${endpoint} answered without data or errors`);
      }
      // biome-ignore lint/suspicious/noExplicitAny: the caller states the data's type
      return result.data as any;
    },
    raw,
    async batch(entries, requestOptions) {
      if (entries.length === 0) return [];
      const sources = entries.map((entry) => sourceOf(entry.document));
      const body = JSON.stringify(
        entries.map((entry, index) => ({
          query: sources[index],
          ...(entry.variables === undefined ? {} : { variables: entry.variables }),
          ...(entry.operationName === undefined ? {} : { operationName: entry.operationName }),
        })),
      );
      const retryable = entries.every(
        (entry, index) => operationKind(sources[index] as string, entry.operationName) === 'query',
      );
      const answer = await sendWithRetry(body, retryable, requestOptions);
      if (!Array.isArray(answer) || answer.length !== entries.length) {
        throw new BallastError(
          'GRAPHQL_INVALID_RESPONSE',
          `${endpoint} does not answer batches: send the operations one by one (expected an array of ${entries.length} results)`,
        );
      }
      return answer.map(asResult);
    },
    async close() {
      if (owned) await dispatcher.close();
    },
  };
}
