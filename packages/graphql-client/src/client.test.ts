import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSchema, parse } from 'graphql';
import { createHandler } from 'graphql-http/lib/use/http';
import { afterEach, describe, expect, it } from 'vitest';
import { createGraphQLClient } from './client.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function listen(
  handler: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/graphql`;
}

const schema = buildSchema(`
  type Article { id: Int!, title: String! }
  type Query { articles(limit: Int): [Article!]!, boom: String }
  type Mutation { like(id: Int!): Int! }
`);
let likes = 0;
const rootValue = {
  articles: ({ limit }: { limit?: number }) =>
    [
      { id: 1, title: 'One' },
      { id: 2, title: 'Two' },
    ].slice(0, limit ?? 10),
  boom: () => {
    throw new Error('boom failed');
  },
  like: () => {
    likes += 1;
    return likes;
  },
};

/** A real GraphQL server (graphql-http) on loopback. */
const graphqlServer = () => listen(createHandler({ schema, rootValue }));

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    request.on('data', (chunk) => {
      text += chunk;
    });
    request.on('end', () => resolve(text));
  });
}

describe('createGraphQLClient', () => {
  describe('request', () => {
    it('runs a query given as text or as a document, with variables, and resolves with data', async () => {
      const client = createGraphQLClient({ endpoint: await graphqlServer() });
      expect(await client.request('{ articles { id title } }')).toEqual({
        articles: [
          { id: 1, title: 'One' },
          { id: 2, title: 'Two' },
        ],
      });
      const document = parse('query Few($n: Int) { articles(limit: $n) { id } }');
      expect(await client.request(document, { n: 1 })).toEqual({ articles: [{ id: 1 }] });
      await client.close();
    });

    it('throws the server’s errors with their path, code and the partial data', async () => {
      const client = createGraphQLClient({ endpoint: await graphqlServer() });
      const failure = await client.request('{ articles { id } boom }').catch((error: unknown) => error);
      expect(failure).toMatchObject({
        code: 'GRAPHQL_RESPONSE_ERRORS',
        message: expect.stringContaining('boom failed at boom'),
        details: {
          data: { articles: [{ id: 1 }, { id: 2 }], boom: null },
          errors: [{ message: 'boom failed', path: ['boom'] }],
        },
      });
      const invalid = await client.request('{ nope }').catch((error: unknown) => error);
      expect(invalid).toMatchObject({
        code: 'GRAPHQL_RESPONSE_ERRORS',
        message: expect.stringContaining('Cannot query field "nope"'),
      });
      await client.close();
    });

    it('reads Hasura’s 200-with-errors as errors', async () => {
      const endpoint = await listen((_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({
            errors: [
              {
                message: 'x-hasura-admin-secret/x-hasura-access-key required, but not found',
                extensions: { path: '$', code: 'access-denied' },
              },
            ],
          }),
        );
      });
      const client = createGraphQLClient({ endpoint });
      await expect(client.request('{ a }')).rejects.toMatchObject({
        code: 'GRAPHQL_RESPONSE_ERRORS',
        message: expect.stringContaining('(access-denied)'),
      });
      await client.close();
    });
  });

  describe('retries', () => {
    it('retries a query on 503, and never a mutation', async () => {
      let calls = 0;
      const endpoint = await listen(async (request, response) => {
        await readBody(request);
        calls += 1;
        if (calls % 2 === 1) {
          response.writeHead(503);
          response.end('busy');
          return;
        }
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ data: { ok: true } }));
      });
      const client = createGraphQLClient({ endpoint, retry: { attempts: 3, baseDelayMs: 1 } });
      expect(await client.request('query { ok }')).toEqual({ ok: true });
      expect(calls).toBe(2);
      await expect(client.request('mutation { ok }')).rejects.toMatchObject({
        code: 'GRAPHQL_HTTP_ERROR',
        isRetryable: true,
      });
      expect(calls).toBe(3);
      await client.close();
    });
  });

  describe('batch', () => {
    it('sends an array body and returns one result per entry', async () => {
      const endpoint = await listen(async (request, response) => {
        const body = JSON.parse(await readBody(request)) as Array<{ query: string }>;
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify(
            body.map((entry, index) =>
              index === 1 ? { errors: [{ message: 'bad' }] } : { data: { echo: entry.query } },
            ),
          ),
        );
      });
      const client = createGraphQLClient({ endpoint });
      const results = await client.batch([{ document: '{ a }' }, { document: '{ b }' }]);
      expect(results).toEqual([{ data: { echo: '{ a }' } }, { errors: [{ message: 'bad' }] }]);
      await client.close();
    });

    it('says so when the server does not answer batches', async () => {
      const client = createGraphQLClient({ endpoint: await graphqlServer() });
      await expect(
        client.batch([{ document: '{ articles { id } }' }, { document: '{ articles { id } }' }]),
      ).rejects.toMatchObject({
        code: expect.stringMatching(/GRAPHQL_(INVALID_RESPONSE|HTTP_ERROR)/),
      });
      await client.close();
    });
  });

  describe('limits', () => {
    it('times out a server that hangs, and refuses an answer over the size cap', async () => {
      const hanging = await listen(() => undefined);
      const slow = createGraphQLClient({ endpoint: hanging, timeoutMs: 100, retry: false });
      await expect(slow.request('{ a }')).rejects.toMatchObject({ code: 'GRAPHQL_TIMEOUT' });
      await slow.close();
      const huge = await listen((_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ data: { text: 'x'.repeat(5000) } }));
      });
      const capped = createGraphQLClient({ endpoint: huge, maxResponseBytes: 1000 });
      await expect(capped.request('{ text }')).rejects.toMatchObject({ code: 'GRAPHQL_RESPONSE_TOO_LARGE' });
      await capped.close();
    });

    it('rejects a bad endpoint by name, and says when the server cannot be reached', async () => {
      expect(() => createGraphQLClient({ endpoint: 'ftp://x' })).toThrow(
        /endpoint: expected an http\(s\) URL/,
      );
      const client = createGraphQLClient({ endpoint: 'http://127.0.0.1:1/v1/graphql', retry: false });
      await expect(client.request('{ a }')).rejects.toMatchObject({
        code: 'GRAPHQL_NETWORK',
        isRetryable: true,
      });
      await client.close();
    });
  });

  describe('headers', () => {
    it('sends the client’s headers with per-request ones merged over them', async () => {
      let seen: IncomingMessage['headers'] = {};
      const endpoint = await listen(async (request, response) => {
        seen = request.headers;
        await readBody(request);
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ data: {} }));
      });
      const client = createGraphQLClient({
        endpoint,
        headers: { 'x-hasura-admin-secret': 's3cret', 'x-hasura-role': 'user' },
      });
      await client.request('{ a }', undefined, { headers: { 'x-hasura-role': 'editor' } });
      expect(seen).toMatchObject({ 'x-hasura-admin-secret': 's3cret', 'x-hasura-role': 'editor' });
      await client.close();
    });
  });
});
