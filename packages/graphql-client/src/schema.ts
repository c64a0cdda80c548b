import { readFile } from 'node:fs/promises';
import { BallastError } from '@ballast/core';
import {
  buildASTSchema,
  buildClientSchema,
  type DocumentNode,
  type GraphQLSchema,
  type IntrospectionQuery,
  parse,
  Source,
  validateSchema,
} from 'graphql';

/**
 * Reads a GraphQL SDL file (`schema.graphql`, the output of `get-graphql-schema` or Hasura's
 * `/v1/graphql` SDL export) and builds an executable-shaped schema with graphql-js.
 *
 * @param path path of the `.graphql` file
 * @returns the schema
 * @throws {BallastError} `GRAPHQL_SDL_READ_FAILED` when the file cannot be read
 * @throws {BallastError} `GRAPHQL_SDL_INVALID` when the SDL does not parse or does not describe a valid
 * schema; the message names the file, line and column of the first problem and `details.errors` lists
 * every problem found
 * @example
 * ```ts
 * const schema = await loadSchemaFromSdl('./schema.graphql');
 * ```
 */
export async function loadSchemaFromSdl(path: string): Promise<GraphQLSchema> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new BallastError('GRAPHQL_SDL_READ_FAILED', `Cannot read the SDL file ${path}.`, {
      cause: error,
      details: { path },
    });
  }
  const source = new Source(text, path);
  let document: DocumentNode;
  try {
    document = parse(source);
  } catch (error) {
    throw sdlError(path, [error], error);
  }
  let schema: GraphQLSchema;
  try {
    schema = buildASTSchema(document);
  } catch (error) {
    throw sdlError(path, await locateSdlErrors(document, error), error);
  }
  const schemaErrors = validateSchema(schema);
  if (schemaErrors.length > 0) throw sdlError(path, schemaErrors, schemaErrors[0]);
  return schema;
}

/**
 * Builds a client schema from an introspection result, as returned by sending graphql-js's
 * `getIntrospectionQuery()` to an endpoint.
 *
 * @param result the introspection data (`{ __schema }`) or the whole response body (`{ data: { __schema } }`)
 * @returns the schema
 * @throws {BallastError} `GRAPHQL_INTROSPECTION_INVALID` when the value carries no `__schema`, or graphql-js
 * cannot build or validate a schema from it (for example when introspection is disabled for the role
 * and the server answered with errors)
 * @example
 * ```ts
 * const body = await client.request(getIntrospectionQuery());
 * const schema = schemaFromIntrospection(body);
 * ```
 */
export function schemaFromIntrospection(result: unknown): GraphQLSchema {
  const introspection = introspectionOf(result);
  if (introspection === undefined) {
    throw new BallastError(
      'GRAPHQL_INTROSPECTION_INVALID',
      'The introspection result has no `__schema`: expected `{ __schema }` or `{ data: { __schema } }` (is introspection disabled for this role?).',
      { details: { keys: isRecord(result) ? Object.keys(result) : [] } },
    );
  }
  let schema: GraphQLSchema;
  try {
    schema = buildClientSchema(introspection);
  } catch (error) {
    throw new BallastError(
      'GRAPHQL_INTROSPECTION_INVALID',
      `Cannot build a schema from the introspection result: ${messageOf(error)}`,
      { cause: error },
    );
  }
  const errors = validateSchema(schema);
  if (errors.length > 0) {
    throw new BallastError(
      'GRAPHQL_INTROSPECTION_INVALID',
      `The introspected schema is not valid: ${errors[0]?.message}`,
      { cause: errors[0], details: { errors: errors.map((error) => error.message) } },
    );
  }
  return schema;
}

/** Options of {@link createSchemaCache}. */
export interface SchemaCacheOptions {
  /** How long a loaded schema is served before the next `get` loads it again, in milliseconds. */
  ttlMs: number;
  /** The clock, injectable for tests. @default Date.now */
  now?: () => number;
}

/** A per-key cache of schemas with a time to live; see {@link createSchemaCache}. */
export interface SchemaCache {
  /**
   * The schema cached under `key`, loading it with `load` when absent or expired. Concurrent calls
   * for one key share one load; a failed load is not cached, so the next call tries again.
   */
  get(key: string, load: () => Promise<GraphQLSchema>): Promise<GraphQLSchema>;
  /** Forgets the schema cached under `key`; a load in flight for it will not be stored. */
  invalidate(key: string): void;
  /** Forgets every cached schema. */
  clear(): void;
}

interface CacheEntry {
  promise: Promise<GraphQLSchema>;
  // Undefined while the load is in flight; in-flight entries never expire (they are deduplicated).
  expiresAt: number | undefined;
}

/**
 * Creates a schema cache keyed by a string the caller chooses (an endpoint and a role, so that
 * `x-hasura-role: user` never sees the admin schema), with a time to live and deduplication of
 * concurrent loads.
 *
 * @param options the time to live and an optional clock
 * @returns the cache
 * @throws {BallastError} `GRAPHQL_INVALID_OPTIONS` when `ttlMs` is not a number of at least 0
 * @example
 * ```ts
 * const cache = createSchemaCache({ ttlMs: 5 * 60_000 });
 * const schema = await cache.get(`${endpoint}#${role}`, () => introspect(endpoint, role));
 * ```
 */
export function createSchemaCache(options: SchemaCacheOptions): SchemaCache {
  const { ttlMs } = options;
  if (typeof ttlMs !== 'number' || Number.isNaN(ttlMs) || ttlMs < 0) {
    throw new BallastError(
      'GRAPHQL_INVALID_OPTIONS',
      `ttlMs must be a number of milliseconds of at least 0, got ${String(ttlMs)}.`,
      { details: { field: 'ttlMs' } },
    );
  }
  const now = options.now ?? Date.now;
  const entries = new Map<string, CacheEntry>();
  return {
    get(key, load) {
      const cached = entries.get(key);
      if (cached && (cached.expiresAt === undefined || now() < cached.expiresAt)) return cached.promise;
      const entry: CacheEntry = { promise: Promise.resolve().then(load), expiresAt: undefined };
      entries.set(key, entry);
      entry.promise.then(
        () => {
          if (entries.get(key) === entry) entry.expiresAt = now() + ttlMs;
        },
        () => {
          if (entries.get(key) === entry) entries.delete(key);
        },
      );
      return entry.promise;
    },
    invalidate(key) {
      entries.delete(key);
    },
    clear() {
      entries.clear();
    },
  };
}

interface LocatedMessage {
  message: string;
  locations: Array<{ line: number; column: number }>;
}

function sdlError(path: string, errors: readonly unknown[], cause: unknown): BallastError {
  const located = errors.map(locatedMessageOf);
  const first = located[0] ?? locatedMessageOf(cause);
  const location = first.locations[0];
  const where = location ? `${path}:${location.line}:${location.column}` : path;
  return new BallastError('GRAPHQL_SDL_INVALID', `Invalid GraphQL SDL in ${where}: ${first.message}`, {
    cause,
    details: {
      path,
      ...(location ? { line: location.line, column: location.column } : {}),
      errors: located,
    },
  });
}

// Duck-typed: the internal validateSDL may come from graphql's CommonJS build while `GraphQLError`
// here is from its ESM build (bundlers and vitest pick `module`), so `instanceof` can fail.
function locatedMessageOf(error: unknown): LocatedMessage {
  const locations =
    isRecord(error) && Array.isArray(error.locations)
      ? (error.locations as unknown[]).flatMap((location) =>
          isRecord(location) && typeof location.line === 'number' && typeof location.column === 'number'
            ? [{ line: location.line, column: location.column }]
            : [],
        )
      : [];
  return { message: messageOf(error), locations };
}

// buildASTSchema reports SDL rule violations as one plain Error without locations; graphql-js's
// validateSDL has them, but is marked internal, so it is loaded only on this failure path.
async function locateSdlErrors(document: DocumentNode, thrown: unknown): Promise<unknown[]> {
  try {
    const { validateSDL } = await import('graphql/validation/validate.js');
    const errors = validateSDL(document);
    if (errors.length > 0) return [...errors];
  } catch {
    // Fall back to the unlocated message below.
  }
  return [thrown];
}

function introspectionOf(result: unknown): IntrospectionQuery | undefined {
  if (!isRecord(result)) return undefined;
  if (isRecord(result.__schema)) return result as unknown as IntrospectionQuery;
  if (isRecord(result.data) && isRecord(result.data.__schema))
    return result.data as unknown as IntrospectionQuery;
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
