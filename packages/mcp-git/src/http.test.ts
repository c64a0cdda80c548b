import { request } from 'node:http';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type HttpEndpoint, serveHttp } from './http.js';
import { createGitMcpServer } from './server.js';
import { makeRepository, tempDir } from './test-support.js';

let temp: ReturnType<typeof tempDir>;
let repo: string;
let endpoint: HttpEndpoint;

beforeEach(async () => {
  temp = tempDir();
  repo = makeRepository(join(temp.path, 'repo'));
  endpoint = await serveHttp({
    token: 'secret-token',
    create: async () => (await createGitMcpServer({ repositories: [repo] })).server,
  });
});

afterEach(async () => {
  await endpoint.close();
  temp.cleanup();
});

/** A raw POST with chosen Host, Origin and Authorization headers. */
function post(headers: Record<string, string>): Promise<number> {
  const url = new URL(endpoint.url);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...headers,
        },
      },
      (incoming) => {
        incoming.resume();
        resolve(incoming.statusCode ?? 0);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'raw', version: '1' },
        },
      }),
    );
  });
}

describe('serveHttp', () => {
  describe('when the SDK client brings the token', () => {
    it('lists and calls tools over Streamable HTTP on loopback', async () => {
      expect(endpoint.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
      const client = new Client({ name: 'test', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(endpoint.url), {
          requestInit: { headers: { authorization: 'Bearer secret-token' } },
        }),
      );
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toContain('git_status');
      const status = await client.callTool({ name: 'git_status', arguments: { repo_path: repo } });
      expect(status.structuredContent).toMatchObject({ branch: 'main', clean: true });
      await client.close();
    });
  });

  describe('when a request is not from this machine’s own client', () => {
    it('refuses a wrong token, a foreign Host (DNS rebinding) and a foreign Origin', async () => {
      const host = new URL(endpoint.url).host;
      expect(await post({ host, authorization: 'Bearer secret-token' })).toBe(200);
      expect(await post({ host })).toBe(401);
      expect(await post({ host, authorization: 'Bearer wrong-token!' })).toBe(401);
      expect(
        await post({
          host: `evil.example:${new URL(endpoint.url).port}`,
          authorization: 'Bearer secret-token',
        }),
      ).toBe(403);
      expect(await post({ host, origin: 'https://evil.example', authorization: 'Bearer secret-token' })).toBe(
        403,
      );
      expect(await post({ host, origin: `http://${host}`, authorization: 'Bearer secret-token' })).toBe(200);
    });
  });
});
