#!/usr/bin/env node
import { BallastError } from '@ballast/core';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { Command } from 'commander';
import { serveHttp } from './http.js';
import { createGitMcpServer } from './server.js';

const program = new Command()
  .name('mcp-git')
  .description('A fast, safe Git MCP server (stdio)')
  .option('--repo <path...>', 'a repository the server may work on (repeatable)', [])
  .option('--read-only', 'read tools only: no commits, no staging, no branch changes', false)
  .option('--allow-destructive', 'allow reset --hard, branch -D, clean and force operations', false)
  .option('--allow-network', 'allow fetch, pull, push and clone', false)
  .option('--allow-hooks', "run the repositories' hooks on commit and merge", false)
  .option('--max-bytes <n>', 'byte cap of one git output', '1048576')
  .option('--timeout-ms <n>', 'timeout of one git call', '30000')
  .option('--no-cache', 'ask git on every call (no kept answers, no work-tree watches)')
  .option('--http', 'serve Streamable HTTP at /mcp instead of stdio', false)
  .option('--host <host>', 'HTTP: address to listen on', '127.0.0.1')
  .option('--port <n>', 'HTTP: port (0 for a free one)', '8765')
  .option('--token <token>', 'HTTP: require this bearer token (or MCP_GIT_TOKEN)')
  .showHelpAfterError();

async function main(): Promise<void> {
  program.parse();
  const options = program.opts<{
    repo: string[];
    readOnly: boolean;
    allowDestructive: boolean;
    allowNetwork: boolean;
    allowHooks: boolean;
    maxBytes: string;
    timeoutMs: string;
    cache: boolean;
    http: boolean;
    host: string;
    port: string;
    token?: string;
  }>();
  if (options.readOnly && options.allowDestructive) {
    console.error('mcp-git: --read-only and --allow-destructive contradict each other; choose one');
    process.exit(2);
  }
  for (const [flag, value] of [
    ['--max-bytes', options.maxBytes],
    ['--timeout-ms', options.timeoutMs],
  ] as const) {
    if (!/^\d+$/.test(value) || Number(value) < 1) {
      console.error(`mcp-git: ${flag} must be a positive whole number, got ${value}`);
      process.exit(2);
    }
  }
  if (!/^\d+$/.test(options.port) || Number(options.port) > 65535) {
    console.error(`mcp-git: --port must be a port number (0-65535), got ${options.port}`);
    process.exit(2);
  }
  try {
    const settings = {
      repositories: options.repo,
      permissions: {
        readOnly: options.readOnly,
        destructive: options.allowDestructive,
        network: options.allowNetwork,
        hooks: options.allowHooks,
      },
      maxBytes: Number(options.maxBytes),
      timeoutMs: Number(options.timeoutMs),
      cache: options.cache,
    };
    // Checked once up front, so a bad --repo fails at start, not at the first request.
    const { server } = await createGitMcpServer(settings);
    if (!options.http) {
      await server.connect(new StdioServerTransport());
      return;
    }
    const token = options.token ?? process.env.MCP_GIT_TOKEN;
    const endpoint = await serveHttp({
      host: options.host,
      port: Number(options.port),
      ...(token ? { token } : {}),
      create: async () => (await createGitMcpServer(settings)).server,
    });
    console.error(`mcp-git listening on ${endpoint.url}${token ? ' (bearer token required)' : ''}`);
    const stop = (): void => {
      void endpoint.close().then(() => process.exit(0));
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  } catch (error) {
    console.error(`mcp-git: ${BallastError.isInstance(error) ? error.message : String(error)}`);
    process.exit(BallastError.isInstance(error) && error.code === 'MCP_GIT_INVALID_REPOSITORY' ? 2 : 1);
  }
}

void main();
