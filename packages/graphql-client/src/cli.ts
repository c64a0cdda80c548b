#!/usr/bin/env node
import { BallastError } from '@ballast/core';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { Command } from 'commander';
import { createGraphQLMcpServer } from './mcp.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

const program = new Command()
  .name('graphql-mcp')
  .description(
    'MCP tools over a GraphQL endpoint (stdio): schema summary, validation, safe queries, Hasura tables',
  )
  .requiredOption('--endpoint <url>', 'the GraphQL endpoint')
  .option(
    '--header <header>',
    'a header "Name: value" sent with every request (repeatable); credentials live here, never in tool inputs',
    collect,
    [],
  )
  .option('--allow-mutations [fields]', 'allow mutations: all, or a comma-separated list of root fields')
  .option('--max-depth <n>', 'deepest selection nesting', '8')
  .option('--max-aliases <n>', 'most aliases in one query', '30')
  .option('--max-rows <n>', 'most rows any list may return', '100')
  .option('--schema <file>', 'an SDL file to use instead of introspection')
  .option('--operations <dir>', 'a folder of .graphql files: one tool per operation')
  .showHelpAfterError();

function whole(flag: string, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    console.error(`graphql-mcp: ${flag} must be a positive whole number, got ${value}`);
    process.exit(2);
  }
  return Number(value);
}

async function main(): Promise<void> {
  program.parse();
  const options = program.opts<{
    endpoint: string;
    header: string[];
    allowMutations?: string | boolean;
    maxDepth: string;
    maxAliases: string;
    maxRows: string;
    schema?: string;
    operations?: string;
  }>();
  const headers: Record<string, string> = {};
  for (const header of options.header) {
    const colon = header.indexOf(':');
    if (colon <= 0) {
      console.error(`graphql-mcp: --header must look like "Name: value", got ${JSON.stringify(header)}`);
      process.exit(2);
    }
    headers[header.slice(0, colon).trim().toLowerCase()] = header.slice(colon + 1).trim();
  }
  const allowMutations =
    options.allowMutations === undefined
      ? false
      : options.allowMutations === true
        ? true
        : String(options.allowMutations)
            .split(',')
            .map((field) => field.trim())
            .filter(Boolean);
  try {
    const server = await createGraphQLMcpServer({
      endpoint: options.endpoint,
      headers,
      allowMutations,
      maxDepth: whole('--max-depth', options.maxDepth),
      maxAliases: whole('--max-aliases', options.maxAliases),
      maxRows: whole('--max-rows', options.maxRows),
      ...(options.schema ? { schemaFile: options.schema } : {}),
      ...(options.operations ? { operationsDir: options.operations } : {}),
    });
    await server.connect(new StdioServerTransport());
  } catch (error) {
    console.error(`graphql-mcp: ${BallastError.isInstance(error) ? error.message : String(error)}`);
    process.exit(1);
  }
}

void main();
