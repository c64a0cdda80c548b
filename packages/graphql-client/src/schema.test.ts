import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BallastError } from '@ballast/core';
import { buildSchema, type GraphQLSchema, introspectionFromSchema, isObjectType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSchemaCache, loadSchemaFromSdl, schemaFromIntrospection } from './schema.js';
import { blogTables, hasuraSdl } from './test-fixtures.js';

function caught(run: () => unknown): BallastError {
  try {
    run();
  } catch (error) {
    if (BallastError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a BallastError');
}

async function rejected(promise: Promise<unknown>): Promise<BallastError> {
  try {
    await promise;
  } catch (error) {
    if (BallastError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected a BallastError');
}

describe('loadSchemaFromSdl', () => {
  let directory: string;
  const file = (name: string, text: string): string => {
    const path = join(directory, name);
    writeFileSync(path, text);
    return path;
  };
  beforeAll(() => {
    directory = mkdtempSync(join(tmpdir(), 'ballast-sdl-'));
  });
  afterAll(() => {
    rmSync(directory, { recursive: true, force: true });
  });

  describe('when the file holds valid SDL', () => {
    it('builds the schema with its root types and tables', async () => {
      const schema = await loadSchemaFromSdl(file('blog.graphql', hasuraSdl(blogTables)));
      expect(schema.getQueryType()?.name).toBe('query_root');
      expect(schema.getMutationType()?.name).toBe('mutation_root');
      const articles = schema.getType('articles');
      expect(isObjectType(articles) && Object.keys(articles.getFields())).toContain('title');
    });
  });

  describe('when the SDL does not parse', () => {
    it('names the file, line and column', async () => {
      const path = file('broken.graphql', 'type Query {\n  ok: Int\n}\n\ntype Broken {\n  field: \n}\n');
      const error = await rejected(loadSchemaFromSdl(path));
      expect(error.code).toBe('GRAPHQL_SDL_INVALID');
      expect(error.message).toContain(`${path}:7:1`);
      expect(error.details).toMatchObject({ path, line: 7, column: 1 });
    });
  });

  describe('when the SDL references an unknown type', () => {
    it('names the line of the reference', async () => {
      const path = file(
        'unknown.graphql',
        'type Query {\n  articles: [Article]\n  count: Integer\n}\n\ntype Article {\n  id: ID\n}\n',
      );
      const error = await rejected(loadSchemaFromSdl(path));
      expect(error.code).toBe('GRAPHQL_SDL_INVALID');
      expect(error.message).toContain(`${path}:3:10`);
      expect(error.message).toContain('Unknown type "Integer"');
      expect(error.details?.errors).toEqual([
        expect.objectContaining({ locations: [{ line: 3, column: 10 }] }),
      ]);
    });
  });

  describe('when the SDL builds but the schema is not valid', () => {
    it('reports the schema error with its location', async () => {
      const path = file(
        'interface.graphql',
        'type Query {\n  node: Node\n}\n\ninterface Node {\n  id: ID!\n}\n\ntype User implements Node {\n  name: String\n}\n',
      );
      const error = await rejected(loadSchemaFromSdl(path));
      expect(error.code).toBe('GRAPHQL_SDL_INVALID');
      expect(error.message).toContain('Node.id');
      expect(error.message).toMatch(new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+`));
    });
  });

  describe('when the file cannot be read', () => {
    it('throws GRAPHQL_SDL_READ_FAILED with the path and the cause', async () => {
      const path = join(directory, 'missing.graphql');
      const error = await rejected(loadSchemaFromSdl(path));
      expect(error.code).toBe('GRAPHQL_SDL_READ_FAILED');
      expect(error.message).toContain(path);
      expect((error.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    });
  });
});

describe('schemaFromIntrospection', () => {
  const source = buildSchema(hasuraSdl(blogTables));
  const introspection = introspectionFromSchema(source);

  describe('when given the introspection data', () => {
    it('builds a schema with the same types', () => {
      const schema = schemaFromIntrospection(introspection);
      expect(Object.keys(schema.getTypeMap()).sort()).toEqual(Object.keys(source.getTypeMap()).sort());
    });
  });

  describe('when given the whole response body', () => {
    it('unwraps `data`', () => {
      const schema = schemaFromIntrospection({ data: introspection });
      expect(schema.getQueryType()?.name).toBe('query_root');
    });
  });

  describe('when the value has no __schema', () => {
    it('throws GRAPHQL_INTROSPECTION_INVALID saying what was expected', () => {
      const error = caught(() =>
        schemaFromIntrospection({ errors: [{ message: 'introspection disabled' }] }),
      );
      expect(error.code).toBe('GRAPHQL_INTROSPECTION_INVALID');
      expect(error.message).toContain('__schema');
      expect(error.details).toEqual({ keys: ['errors'] });
    });
  });

  describe('when graphql-js cannot build from it', () => {
    it('throws GRAPHQL_INTROSPECTION_INVALID with the cause', () => {
      const error = caught(() => schemaFromIntrospection({ __schema: { types: 'nope' } }));
      expect(error.code).toBe('GRAPHQL_INTROSPECTION_INVALID');
      expect(error.cause).toBeInstanceOf(Error);
    });
  });
});

describe('createSchemaCache', () => {
  const schemaA = buildSchema('type Query { a: Int }');
  const schemaB = buildSchema('type Query { b: Int }');

  function counting(...schemas: GraphQLSchema[]): {
    load: () => Promise<GraphQLSchema>;
    calls: () => number;
  } {
    let calls = 0;
    return {
      load: async () => {
        const schema = schemas[Math.min(calls, schemas.length - 1)] as GraphQLSchema;
        calls += 1;
        return schema;
      },
      calls: () => calls,
    };
  }

  describe('when a key is asked for again within the TTL', () => {
    it('serves the cached schema without loading again', async () => {
      let time = 0;
      const cache = createSchemaCache({ ttlMs: 1000, now: () => time });
      const loader = counting(schemaA, schemaB);
      expect(await cache.get('endpoint#admin', loader.load)).toBe(schemaA);
      time = 999;
      expect(await cache.get('endpoint#admin', loader.load)).toBe(schemaA);
      expect(loader.calls()).toBe(1);
    });
  });

  describe('when the TTL has passed', () => {
    it('loads the schema again', async () => {
      let time = 0;
      const cache = createSchemaCache({ ttlMs: 1000, now: () => time });
      const loader = counting(schemaA, schemaB);
      await cache.get('endpoint#admin', loader.load);
      time = 1000;
      expect(await cache.get('endpoint#admin', loader.load)).toBe(schemaB);
      expect(loader.calls()).toBe(2);
    });
  });

  describe('when keys differ (an endpoint per role)', () => {
    it('keeps one schema per key', async () => {
      const cache = createSchemaCache({ ttlMs: 60_000 });
      expect(await cache.get('endpoint#admin', async () => schemaA)).toBe(schemaA);
      expect(await cache.get('endpoint#user', async () => schemaB)).toBe(schemaB);
      expect(await cache.get('endpoint#admin', async () => schemaB)).toBe(schemaA);
    });
  });

  describe('when loads for one key run concurrently', () => {
    it('shares one load', async () => {
      const cache = createSchemaCache({ ttlMs: 60_000 });
      let release: (schema: GraphQLSchema) => void = () => {};
      let calls = 0;
      const load = (): Promise<GraphQLSchema> => {
        calls += 1;
        return new Promise((resolve) => {
          release = resolve;
        });
      };
      const first = cache.get('k', load);
      const second = cache.get('k', load);
      await Promise.resolve();
      release(schemaA);
      expect(await first).toBe(schemaA);
      expect(await second).toBe(schemaA);
      expect(calls).toBe(1);
    });
  });

  describe('when a load fails', () => {
    it('rejects every waiting caller and retries on the next get', async () => {
      const cache = createSchemaCache({ ttlMs: 60_000 });
      const failure = new Error('connection refused');
      const failing = async (): Promise<GraphQLSchema> => {
        throw failure;
      };
      const results = await Promise.allSettled([cache.get('k', failing), cache.get('k', failing)]);
      expect(results.map((result) => result.status)).toEqual(['rejected', 'rejected']);
      expect(await cache.get('k', async () => schemaA)).toBe(schemaA);
    });
  });

  describe('when a key is invalidated', () => {
    it('loads it again on the next get', async () => {
      const cache = createSchemaCache({ ttlMs: 60_000 });
      const loader = counting(schemaA, schemaB);
      await cache.get('k', loader.load);
      cache.invalidate('k');
      expect(await cache.get('k', loader.load)).toBe(schemaB);
    });

    it('does not store a load that was in flight', async () => {
      const cache = createSchemaCache({ ttlMs: 60_000 });
      let release: (schema: GraphQLSchema) => void = () => {};
      const inFlight = cache.get(
        'k',
        () =>
          new Promise<GraphQLSchema>((resolve) => {
            release = resolve;
          }),
      );
      await Promise.resolve();
      cache.invalidate('k');
      release(schemaA);
      expect(await inFlight).toBe(schemaA);
      expect(await cache.get('k', async () => schemaB)).toBe(schemaB);
    });
  });

  describe('when cleared', () => {
    it('forgets every key', async () => {
      const cache = createSchemaCache({ ttlMs: 60_000 });
      await cache.get('a', async () => schemaA);
      await cache.get('b', async () => schemaA);
      cache.clear();
      expect(await cache.get('a', async () => schemaB)).toBe(schemaB);
      expect(await cache.get('b', async () => schemaB)).toBe(schemaB);
    });
  });

  describe('when ttlMs is not a number of at least 0', () => {
    it('throws GRAPHQL_INVALID_OPTIONS', () => {
      expect(caught(() => createSchemaCache({ ttlMs: -1 })).code).toBe('GRAPHQL_INVALID_OPTIONS');
      expect(caught(() => createSchemaCache({ ttlMs: Number.NaN })).code).toBe('GRAPHQL_INVALID_OPTIONS');
    });
  });
});
