#!/usr/bin/env node
import { BallastError } from '@ballast/core';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { Command } from 'commander';
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
  try {
    const { server } = await createGitMcpServer({
      repositories: options.repo,
      permissions: {
        readOnly: options.readOnly,
        destructive: options.allowDestructive,
        network: options.allowNetwork,
        hooks: options.allowHooks,
      },
      maxBytes: Number(options.maxBytes),
      timeoutMs: Number(options.timeoutMs),
    });
    await server.connect(new StdioServerTransport());
  } catch (error) {
    console.error(`mcp-git: ${BallastError.isInstance(error) ? error.message : String(error)}`);
    process.exit(BallastError.isInstance(error) && error.code === 'MCP_GIT_INVALID_REPOSITORY' ? 2 : 1);
  }
}

void main();
