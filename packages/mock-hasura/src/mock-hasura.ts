// The HTTP server: Hasura's `/v1/graphql` endpoint served by graphql-http, plus admin-secret checks,
// batched (array) bodies, `/healthz` and a log of every request.

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  execute,
  GraphQLError,
  type GraphQLSchema,
  getOperationAST,
  parse,
  validate,
} from 'graphql';
import {
  createHandler as createRawHandler,
  type FormatError,
  parseRequestParams,
  type Request,
} from 'graphql-http';
import { createHandler, type RequestContext } from 'graphql-http/lib/use/http';
import { hasuraErrorBody } from './hasura-error.js';
import { type ResolverContext, schemaOverStore } from './schema.js';
import type { Row, Rows, TableSpec } from './spec.js';
import { Store } from './store.js';

/** Options of {@link startMockHasura}. */
export interface MockHasuraOptions {
  /** The tracked tables the schema is generated from. */
  readonly tables: readonly TableSpec[];
  /** Initial rows per table (copied; columns left out get their default, else null). @default {} */
  readonly rows?: Readonly<Record<string, readonly Row[]>>;
  /** When set, requests need a matching `x-hasura-admin-secret` (or `x-hasura-access-key`) header. */
  readonly adminSecret?: string;
  /** Port to listen on; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** Interface to listen on. @default '127.0.0.1' */
  readonly host?: string;
  /** Keep every request in `requests`; turn off for benchmarks. @default true */
  readonly recordRequests?: boolean;
  /**
   * Answer a repeated query (same text, variables, operation and role) from a cache that any
   * mutation or `reset()` clears: for benchmarks of clients, so the server is not the bottleneck.
   * Rows edited directly in `data` are not seen while an answer is cached. @default false
   */
  readonly cacheResults?: boolean;
}

/** One HTTP request as the server received it. */
export interface RecordedRequest {
  readonly method: string;
  /** The request target, query string included (`/v1/graphql`). */
  readonly path: string;
  /** Lower-cased header names; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  /** The `x-hasura-role` header, if sent. */
  readonly role: string | undefined;
  /** The parsed JSON body (an object, or an array for a batch), the raw text if it is not JSON, undefined if empty. */
  readonly body: unknown;
}

/** A running mock Hasura. */
export interface MockHasura {
  /** The GraphQL endpoint, `http://127.0.0.1:<port>/v1/graphql`. */
  readonly url: string;
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  /** The generated schema (print it with graphql's `printSchema` for the SDL). */
  readonly schema: GraphQLSchema;
  /** Every request received, oldest first (empty when `recordRequests` is false). */
  readonly requests: RecordedRequest[];
  /** The live dataset: rows per table, changed by mutations and readable or writable by tests. */
  readonly data: Rows;
  /** Restores the initial rows (in place, so `data` stays the same object) and clears `requests`. */
  reset(): void;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

const ENDPOINT = '/v1/graphql';

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function flattenHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

function copyRows(rows: Readonly<Record<string, readonly Row[]>>): Rows {
  return Object.fromEntries(
    Object.entries(rows).map(([table, tableRows]) => [table, tableRows.map((row) => ({ ...row }))]),
  );
}

function sendJson(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(body);
}

/** Gives errors graphql-js made (parse, validation, variable coercion) Hasura's `extensions.code`. */
const formatError: FormatError = (error) => {
  if (!(error instanceof GraphQLError) || error.extensions.code !== undefined) return error;
  return new GraphQLError(error.message, {
    ...(error.nodes ? { nodes: error.nodes } : {}),
    ...(error.source ? { source: error.source } : {}),
    ...(error.positions ? { positions: error.positions } : {}),
    ...(error.path ? { path: error.path } : {}),
    ...(error.originalError ? { originalError: error.originalError } : {}),
    extensions: {
      ...error.extensions,
      code: error.path === undefined ? 'validation-failed' : 'unexpected',
      path: '$',
    },
  });
};

/**
 * Starts a GraphQL server over HTTP whose schema is the one Hasura generates for `options.tables`, resolved
 * over an in-memory copy of `options.rows`.
 *
 * @param options the tables, their rows, the admin secret, the port
 * @returns the running server; call `close()` when done
 * @throws Error when the table spec is inconsistent or a row breaks it, or the port cannot be bound
 * @example
 * const hasura = await startMockHasura(defaultDataset());
 * const response = await fetch(hasura.url, {
 *   method: 'POST',
 *   headers: { 'content-type': 'application/json' },
 *   body: JSON.stringify({ query: '{ customers(limit: 2, order_by: { name: asc }) { name } }' }),
 * });
 * await hasura.close();
 */
export async function startMockHasura(options: MockHasuraOptions): Promise<MockHasura> {
  const store = new Store(options.tables, copyRows(options.rows ?? {}));
  const initial = copyRows(store.data);
  const schema = schemaOverStore(store);
  const requests: RecordedRequest[] = [];
  const recordRequests = options.recordRequests ?? true;
  const bodies = new WeakMap<IncomingMessage, string>();

  /**
   * Hasura runs an operation in one transaction and never returns partial data: when any field fails, the
   * response is only `errors`, and a mutation's earlier root fields are rolled back.
   */
  const executeAsHasura = (args: ExecutionArgs): ExecutionResult | Promise<ExecutionResult> => {
    const isMutation = getOperationAST(args.document, args.operationName)?.operation === 'mutation';
    const snapshot = isMutation ? store.snapshot() : undefined;
    const finish = (result: ExecutionResult): ExecutionResult => {
      if (!result.errors?.length) return result;
      if (snapshot) store.restore(snapshot);
      return { errors: result.errors };
    };
    // The resolvers are synchronous, so the rollback happens before any other request can run.
    const result = execute(args);
    return result instanceof Promise ? result.then(finish) : finish(result);
  };

  // Hasura caches query plans: a query text is parsed and validated once, not on every request.
  const plans = new Map<string, DocumentNode>();
  const parseOnce = ((source, parseOptions) => {
    const text = typeof source === 'string' ? source : source.body;
    let document = plans.get(text);
    if (!document) {
      document = parse(source, parseOptions);
      if (plans.size >= 1000) plans.delete(plans.keys().next().value as string);
      plans.set(text, document);
    }
    return document;
  }) as typeof parse;
  const verdicts = new WeakMap<DocumentNode, readonly GraphQLError[]>();
  const validateOnce = ((forSchema, document, rules, validateOptions, typeInfo) => {
    let errors = verdicts.get(document);
    if (!errors) {
      errors = validate(forSchema, document, rules, validateOptions, typeInfo);
      verdicts.set(document, errors);
    }
    return errors;
  }) as typeof validate;

  const handlerOptions = {
    schema,
    formatError,
    parse: parseOnce,
    validate: validateOnce,
    execute: executeAsHasura,
    context: (request: Request<IncomingMessage, RequestContext>, params: { variables?: unknown }) => {
      const role = request.raw.headers['x-hasura-role'];
      return {
        rawVariables: (params.variables as ResolverContext['rawVariables']) ?? null,
        role: Array.isArray(role) ? role[0] : role,
      } satisfies ResolverContext;
    },
    // The body was read already (to record it), so the handler parses the text kept for the request.
    parseRequestParams: (request: Request<IncomingMessage, RequestContext>) =>
      typeof request.body === 'function'
        ? parseRequestParams({ ...request, body: bodies.get(request.raw) ?? '' })
        : undefined,
  };
  const handleSingle = createHandler(handlerOptions);
  const handleRaw = createRawHandler<IncomingMessage, RequestContext, ResolverContext>(handlerOptions);

  const handleBatch = async (
    request: IncomingMessage,
    response: ServerResponse,
    operations: unknown[],
  ): Promise<void> => {
    const results: unknown[] = [];
    // One after another, so a mutation earlier in the batch is seen by the operations after it.
    for (const operation of operations) {
      const [body] = await handleRaw({
        method: 'POST',
        url: request.url ?? ENDPOINT,
        headers: { ...request.headers, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(operation),
        raw: request,
        context: { res: response },
      });
      results.push(body === null ? null : JSON.parse(body));
    }
    sendJson(response, 200, JSON.stringify(results));
  };

  // Answers of repeated queries, when cacheResults is on; any mutation clears them.
  const results = new Map<string, { status: number; body: string | Buffer }>();

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const text = request.method === 'GET' || request.method === 'HEAD' ? '' : await readBody(request);
    const headers = flattenHeaders(request);
    const body = parseBody(text);
    if (recordRequests) {
      requests.push({
        method: request.method ?? 'GET',
        path: request.url ?? '/',
        headers,
        role: headers['x-hasura-role'],
        body,
      });
    }
    response.setHeader('x-request-id', randomUUID());
    const pathname = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (pathname === '/healthz') {
      response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('OK');
      return;
    }
    if (pathname !== ENDPOINT) {
      sendJson(
        response,
        404,
        JSON.stringify({ path: '$', error: 'resource does not exist', code: 'not-found' }),
      );
      return;
    }
    if (options.adminSecret !== undefined) {
      const given = headers['x-hasura-admin-secret'] ?? headers['x-hasura-access-key'];
      if (given === undefined) {
        sendJson(
          response,
          200,
          hasuraErrorBody(
            'x-hasura-admin-secret/x-hasura-access-key required, but not found',
            'access-denied',
          ),
        );
        return;
      }
      if (given !== options.adminSecret) {
        sendJson(
          response,
          200,
          hasuraErrorBody('invalid x-hasura-admin-secret/x-hasura-access-key', 'access-denied'),
        );
        return;
      }
    }
    if (Array.isArray(body)) {
      results.clear();
      await handleBatch(request, response, body);
      return;
    }
    if (
      options.cacheResults &&
      typeof body === 'object' &&
      body !== null &&
      typeof (body as { query?: unknown }).query === 'string'
    ) {
      const { query, variables, operationName } = body as {
        query: string;
        variables?: unknown;
        operationName?: string;
      };
      let operation: string | undefined;
      try {
        operation = getOperationAST(parseOnce(query), operationName)?.operation;
      } catch {
        operation = undefined;
      }
      if (operation === 'query') {
        const key = `${headers['x-hasura-role'] ?? ''}\u0000${operationName ?? ''}\u0000${JSON.stringify(variables ?? null)}\u0000${query}`;
        const cached = results.get(key);
        if (cached) {
          response
            .writeHead(cached.status, { 'content-type': 'application/json; charset=utf-8' })
            .end(cached.body);
          return;
        }
        const end = response.end.bind(response) as (chunk?: unknown) => ServerResponse;
        response.end = ((chunk?: unknown) => {
          if (response.statusCode === 200 && (typeof chunk === 'string' || Buffer.isBuffer(chunk))) {
            if (results.size >= 1000) results.clear();
            results.set(key, { status: 200, body: chunk });
          }
          return end(chunk);
        }) as ServerResponse['end'];
      } else results.clear();
    }
    bodies.set(request, text);
    // Hasura answers 200 with application/json whatever the Accept header asks for, errors included.
    request.headers.accept = 'application/json';
    await handleSingle(request, response);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) {
        sendJson(
          response,
          500,
          hasuraErrorBody(error instanceof Error ? error.message : String(error), 'unexpected'),
        );
      } else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const origin = `http://${host}:${address.port}`;

  return {
    url: `${origin}${ENDPOINT}`,
    origin,
    schema,
    requests,
    data: store.data,
    reset: () => {
      results.clear();
      store.replaceAll(initial);
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
