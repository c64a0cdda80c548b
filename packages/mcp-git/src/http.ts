import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';

/** Options of {@link serveHttp}. */
export interface HttpServeOptions {
  /** Where to listen. @default 127.0.0.1 */
  host?: string;
  /** The port (0 for a free one). @default 0 */
  port?: number;
  /** A bearer token every request must carry, when set. */
  token?: string;
  /** Origins allowed besides the server's own (browsers send Origin; others usually do not). */
  allowedOrigins?: readonly string[];
  /** Makes the MCP server of a new session (each client session gets its own, with its own roots). */
  create: () => Promise<McpServer>;
  /** The most bytes of a request body. @default 4 MiB */
  maxBodyBytes?: number;
}

/** A running HTTP endpoint. */
export interface HttpEndpoint {
  /** `http://host:port/mcp` */
  url: string;
  close(): Promise<void>;
}

function reply(
  response: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

function sameToken(given: string, expected: string): boolean {
  const left = Buffer.from(given);
  const right = Buffer.from(expected);
  return left.length === right.length && timingSafeEqual(left, right);
}

async function readJson(request: IncomingMessage, limit: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error(`request body over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

/**
 * Serves MCP over Streamable HTTP at `/mcp`: loopback by default, with Host and Origin checked on
 * every request (a web page cannot reach it through DNS rebinding) and an optional bearer token.
 * @param options where to listen, the token, how to make a session's server
 * @returns the endpoint
 * @example
 * ```ts
 * const endpoint = await serveHttp({ port: 8765, create: async () => (await createGitMcpServer({ repositories })).server });
 * ```
 */
export async function serveHttp(options: HttpServeOptions): Promise<HttpEndpoint> {
  // Loaded here, not at the top: the stdio bin never pays for the HTTP transport.
  const { StreamableHTTPServerTransport: Transport } = await import(
    '@modelcontextprotocol/sdk/server/streamableHttp.js'
  );
  const host = options.host ?? '127.0.0.1';
  const maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const sessions = new Map<string, { transport: StreamableHTTPServerTransport; server: McpServer }>();
  let port = 0;
  const loopback = host === '127.0.0.1' || host === 'localhost' || host === '::1';
  const hostsAllowed = (): Set<string> =>
    new Set([
      `${host}:${port}`,
      ...(loopback ? [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`] : []),
    ]);
  const originsAllowed = (): Set<string> =>
    new Set([...[...hostsAllowed()].map((entry) => `http://${entry}`), ...(options.allowedOrigins ?? [])]);

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/mcp') return reply(response, 404, 'not found: the MCP endpoint is /mcp');
    if (!hostsAllowed().has(request.headers.host ?? '')) {
      return reply(response, 403, `Host ${request.headers.host ?? '(none)'} is not this server`);
    }
    const origin = request.headers.origin;
    if (origin !== undefined && !originsAllowed().has(origin))
      return reply(response, 403, `Origin ${origin} is not allowed`);
    if (options.token !== undefined) {
      const header = request.headers.authorization ?? '';
      const given = header.startsWith('Bearer ') ? header.slice(7) : '';
      if (!sameToken(given, options.token)) {
        return reply(response, 401, 'missing or wrong bearer token', { 'www-authenticate': 'Bearer' });
      }
    }
    const sessionId = request.headers['mcp-session-id'];
    const existing = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
    if (request.method === 'POST') {
      let body: unknown;
      try {
        body = await readJson(request, maxBodyBytes);
      } catch (error) {
        return reply(response, 400, `the body is not JSON: ${(error as Error).message}`);
      }
      if (existing) return existing.transport.handleRequest(request, response, body);
      if (sessionId !== undefined) return reply(response, 404, 'unknown session: initialize again');
      if (!isInitializeRequest(body))
        return reply(response, 400, 'no session: the first request must be initialize');
      const server = await options.create();
      const transport = new Transport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          sessions.set(id, { transport, server });
        },
      });
      transport.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId);
        void server.close();
      };
      await server.connect(transport);
      return transport.handleRequest(request, response, body);
    }
    if (request.method === 'GET' || request.method === 'DELETE') {
      if (!existing) return reply(response, 404, 'unknown session');
      return existing.transport.handleRequest(request, response);
    }
    return reply(response, 405, 'use POST, GET or DELETE', { allow: 'POST, GET, DELETE' });
  };

  const httpServer = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) reply(response, 500, `internal error: ${(error as Error).message}`);
      else response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port ?? 0, host, () => resolve());
  });
  port = (httpServer.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/mcp`,
    async close() {
      await Promise.all([...sessions.values()].map(({ transport }) => transport.close()));
      sessions.clear();
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}
