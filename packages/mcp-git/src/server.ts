import { BallastError } from '@ballast/core';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { RepositoryGuard } from './guard.js';
import { sharedMemo } from './memo.js';
import { registerResourcesAndPrompts } from './resources.js';
import { type AnyTool, assertTier, gitRunners, type Permissions, type ToolContext } from './tool.js';
import { readTools } from './tools/read.js';
import { referenceTools } from './tools/reference.js';
import { writeTools } from './tools/write.js';

/** Options of {@link createGitMcpServer}. */
export interface GitMcpServerOptions {
  /** The repositories the server may touch (real paths are checked on every call). */
  repositories: readonly string[];
  /** Permission tiers; local writes are on, destructive and network operations off by default. */
  permissions?: Partial<Permissions>;
  /** Byte cap of one git call's output. @default 1 MiB */
  maxBytes?: number;
  /** Timeout of one git call. @default 30000 */
  timeoutMs?: number;
  /**
   * Keep answers between calls: log, show and blame of a resolved commit, and status while the
   * watched work tree has not changed. @default true
   */
  cache?: boolean;
}

/** The server and what it serves. */
export interface GitMcpServer {
  server: McpServer;
  guard: RepositoryGuard;
  tools: readonly AnyTool[];
  permissions: Permissions;
}

/** Every tool this server has. */
export const allTools: readonly AnyTool[] = [...referenceTools, ...readTools, ...writeTools];

type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

function errorResult(message: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: message }] };
}

/**
 * Creates the Git MCP server: every tool registered with its input and output schemas and honest
 * annotations; a tool outside the permitted tiers answers with an error naming the flag.
 * @param options repositories, permissions, limits
 * @returns the server (connect it to a transport)
 * @throws {BallastError} `MCP_GIT_INVALID_REPOSITORY` for a path that is not a repository
 * @example
 * ```ts
 * const { server } = await createGitMcpServer({ repositories: ['/work/app'] });
 * await server.connect(new StdioServerTransport());
 * ```
 */
export async function createGitMcpServer(options: GitMcpServerOptions): Promise<GitMcpServer> {
  const guard = await RepositoryGuard.create(options.repositories);
  const permissions: Permissions = {
    readOnly: options.permissions?.readOnly ?? false,
    destructive: options.permissions?.destructive ?? false,
    network: options.permissions?.network ?? false,
    hooks: options.permissions?.hooks ?? false,
  };
  const maxBytes = options.maxBytes ?? 1024 * 1024;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const memo = options.cache === false ? undefined : sharedMemo();
  const server = new McpServer(
    { name: 'ballast-mcp-git', version: '0.1.0' },
    {
      capabilities: { tools: {} },
      instructions: 'Git for agents: call list_repositories first; every tool takes repo_path.',
    },
  );

  for (const tool of allTools) {
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: tool.input,
        outputSchema: tool.output,
        annotations: {
          title: tool.title,
          readOnlyHint: tool.tier === 'read',
          destructiveHint: tool.destructive ?? false,
          idempotentHint: tool.idempotent,
          openWorldHint: tool.tier === 'network',
        },
      },
      // biome-ignore lint/suspicious/noExplicitAny: the SDK infers the arguments from the schema
      async (args: any, extra: ToolExtra): Promise<CallToolResult> => {
        try {
          assertTier(tool.name, tool.tier, permissions);
          const progressToken = extra._meta?.progressToken;
          const context: ToolContext = {
            guard,
            permissions,
            signal: extra.signal,
            maxBytes,
            timeoutMs,
            memo,
            async progress(message, progress, total) {
              if (progressToken === undefined) return;
              await extra.sendNotification({
                method: 'notifications/progress',
                params: { progressToken, progress, ...(total === undefined ? {} : { total }), message },
              });
            },
            ...gitRunners({ maxBytes, timeoutMs, signal: extra.signal, hooks: permissions.hooks }),
          };
          const answer = await tool.run(context, args);
          return { content: [{ type: 'text', text: answer.text }], structuredContent: answer.structured };
        } catch (error) {
          if (BallastError.isInstance(error)) return errorResult(error.message);
          return errorResult(
            `${tool.name} failed: ${error instanceof Error ? error.message : String(error)}`,
          );
        }
      },
    );
  }

  registerResourcesAndPrompts(server, guard, { maxBytes, timeoutMs });

  // Client roots narrow the repositories; re-read them when the client says they changed.
  const readRoots = async (): Promise<void> => {
    if (!server.server.getClientCapabilities()?.roots) return;
    try {
      const { roots } = await server.server.listRoots();
      await guard.setClientRoots(roots.map((root) => root.uri));
    } catch {
      // A client that cannot list its roots narrows nothing.
    }
  };
  server.server.oninitialized = () => {
    void readRoots();
  };
  const { RootsListChangedNotificationSchema } = await import('@modelcontextprotocol/sdk/types.js');
  server.server.setNotificationHandler(RootsListChangedNotificationSchema, async () => {
    await readRoots();
  });

  return { server, guard, tools: allTools, permissions };
}
