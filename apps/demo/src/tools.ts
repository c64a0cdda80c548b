import { BallastError } from '@ballast/core';
import { createGraphQLClient, createHasura, schemaFromIntrospection } from '@ballast/graphql-client';
import { createReminders, openBackend } from '@ballast/rem';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { type GraphQLSchema, getIntrospectionQuery } from 'graphql';
import type { ChatCompletionFunctionTool } from 'openai/resources/chat/completions';
import { binOf } from './paths.js';

/** What running a tool gave: the text the model reads, the data the checks read, a one-line summary. */
export interface ToolOutcome {
  ok: boolean;
  text: string;
  data?: unknown;
  summary: string;
}

/** A tool the agent can call: its OpenAI definition and how it runs. */
export interface Tool {
  definition: ChatCompletionFunctionTool;
  run(input: Record<string, unknown>): Promise<ToolOutcome>;
}

/** The agent's tools: mcp-git over stdio, graphql-client's Hasura helpers, rem's library. */
export interface Toolbox {
  /** Definitions of the named tools, for a request's `tools`. */
  definitions(names: readonly string[]): ChatCompletionFunctionTool[];
  run(name: string, input: Record<string, unknown>): Promise<ToolOutcome>;
  close(): Promise<void>;
}

/** Where the tools work. */
export interface ToolboxOptions {
  repoDir: string;
  graphqlUrl: string;
  graphqlHeaders: Record<string, string>;
  vdir: string;
}

/** The mcp-git tools the demo offers the model. */
export const GIT_TOOLS = [
  'git_status',
  'git_diff_unstaged',
  'git_add',
  'git_commit',
  'git_log',
  'git_show_file',
] as const;

function errorText(error: unknown): string {
  if (BallastError.isInstance(error)) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/** The error's message alone, for a progress line (the model gets the code too). */
function errorSummary(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function firstLine(text: string): string {
  return text.split('\n').find((line) => line.trim() !== '') ?? '';
}

function stringList(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.map(String) : undefined;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** A one-line summary of a git tool's structured result. */
function gitSummary(name: string, data: Record<string, unknown> | undefined, text: string): string {
  if (!data) return firstLine(text);
  switch (name) {
    case 'git_status': {
      const unstaged = (data.unstaged as Array<{ path: string }> | undefined) ?? [];
      return `branch ${String(data.branch)}, ${unstaged.length} unstaged (${unstaged.map((entry) => entry.path).join(', ')})`;
    }
    case 'git_diff_unstaged': {
      const lines = text.split('\n');
      const added = lines.filter((line) => line.startsWith('+') && !line.startsWith('+++')).length;
      const removed = lines.filter((line) => line.startsWith('-') && !line.startsWith('---')).length;
      return `+${added} -${removed} lines`;
    }
    case 'git_add':
      return `staged ${((data.staged as string[] | undefined) ?? []).join(', ')}`;
    case 'git_commit':
      return `commit ${String(data.hash).slice(0, 7)} on ${String(data.branch)}`;
    case 'git_show_file':
      return `${String(data.path)}: ${String(data.size)} bytes`;
    default:
      return firstLine(text);
  }
}

/** Some of the tools, and how to stop what runs them. */
interface ToolGroup {
  tools: Map<string, Tool>;
  close(): Promise<void>;
}

/** mcp-git, as an MCP client would run it: the bin on stdio, limited to the one repository. */
async function startGitTools(repoDir: string): Promise<ToolGroup> {
  const tools = new Map<string, Tool>();
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [binOf('@ballast/mcp-git', 'mcp-git'), '--repo', repoDir],
    stderr: 'pipe',
  });
  // Drained (a full pipe would stall the server) and kept for the error if it does not start.
  let serverErrors = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    serverErrors = (serverErrors + chunk.toString()).slice(-2000);
  });
  const mcp = new Client({ name: 'ballast-demo', version: '0.0.0' });
  try {
    await mcp.connect(transport);
  } catch (error) {
    throw new Error(`mcp-git did not start: ${errorText(error)}\n${serverErrors.trim()}`, { cause: error });
  }
  let listed: Awaited<ReturnType<Client['listTools']>>;
  try {
    listed = await mcp.listTools();
  } catch (error) {
    await mcp.close();
    throw error;
  }
  for (const tool of listed.tools) {
    if (!(GIT_TOOLS as readonly string[]).includes(tool.name)) continue;
    const { $schema: _schema, ...parameters } = tool.inputSchema as Record<string, unknown>;
    tools.set(tool.name, {
      definition: {
        type: 'function',
        function: { name: tool.name, description: tool.description ?? tool.name, parameters },
      },
      async run(input) {
        const result = await mcp.callTool({ name: tool.name, arguments: input });
        const content = (result.content as Array<{ type: string; text?: string }> | undefined) ?? [];
        const text = content
          .filter((part) => part.type === 'text')
          .map((part) => part.text ?? '')
          .join('\n');
        const data = record(result.structuredContent);
        const ok = result.isError !== true;
        return {
          ok,
          text,
          ...(data ? { data } : {}),
          summary: ok ? gitSummary(tool.name, data, text) : text,
        };
      },
    });
  }

  return { tools, close: () => mcp.close() };
}

/** graphql-client: the schema introspected over HTTP, the Hasura helpers bound to it. */
async function startGraphqlTools(endpoint: string, headers: Record<string, string>): Promise<ToolGroup> {
  const tools = new Map<string, Tool>();
  const graphql = createGraphQLClient({ endpoint, headers });
  let schema: GraphQLSchema;
  try {
    schema = schemaFromIntrospection(await graphql.request(getIntrospectionQuery()));
  } catch (error) {
    await graphql.close();
    throw error;
  }
  const hasura = createHasura({ client: graphql, schema, maxRows: 50 });
  const tableNames = hasura.tables.map((table) => table.name);
  tools.set('hasura_select', {
    definition: {
      type: 'function',
      function: {
        name: 'hasura_select',
        description: `Rows of a table of the shop database (${tableNames.join(', ')}), filtered with a Hasura where object.`,
        parameters: {
          type: 'object',
          properties: {
            table: { type: 'string', description: 'table name' },
            columns: {
              type: 'array',
              items: { type: 'string' },
              description: 'columns; dotted paths follow relationships',
            },
            where: {
              type: 'object',
              description: 'filter, e.g. { "vip": true } or { "total": { "_gt": 100 } }',
            },
            order_by: { type: 'object', description: 'e.g. { "name": "asc" }' },
            limit: { type: 'integer' },
          },
          required: ['table'],
        },
      },
    },
    async run(input) {
      try {
        const where = record(input.where);
        const orderBy = record(input.order_by);
        const columns = stringList(input.columns);
        const rows = await hasura.select(String(input.table), {
          ...(columns ? { columns } : {}),
          ...(where ? { where } : {}),
          ...(orderBy ? { orderBy } : {}),
          ...(typeof input.limit === 'number' ? { limit: input.limit } : {}),
        });
        return {
          ok: true,
          text: JSON.stringify(rows),
          data: rows,
          summary: `${rows.length} rows of ${String(input.table)}`,
        };
      } catch (error) {
        return { ok: false, text: `error: ${errorText(error)}`, summary: errorSummary(error) };
      }
    },
  });
  tools.set('hasura_aggregate', {
    definition: {
      type: 'function',
      function: {
        name: 'hasura_aggregate',
        description: 'Count, sum, avg, min or max over the rows of a table that match a filter.',
        parameters: {
          type: 'object',
          properties: {
            table: { type: 'string' },
            count: { type: 'boolean' },
            sum: { type: 'array', items: { type: 'string' } },
            avg: { type: 'array', items: { type: 'string' } },
            min: { type: 'array', items: { type: 'string' } },
            max: { type: 'array', items: { type: 'string' } },
            where: { type: 'object' },
          },
          required: ['table'],
        },
      },
    },
    async run(input) {
      try {
        const where = record(input.where);
        const lists = Object.fromEntries(
          (['sum', 'avg', 'min', 'max'] as const).flatMap((kind) => {
            const columns = stringList(input[kind]);
            return columns ? [[kind, columns]] : [];
          }),
        );
        const aggregate = await hasura.aggregate(String(input.table), {
          ...(input.count === true ? { count: true } : {}),
          ...lists,
          ...(where ? { where } : {}),
        });
        return {
          ok: true,
          text: JSON.stringify(aggregate),
          data: aggregate,
          summary: `${String(input.table)}: ${JSON.stringify(aggregate)}`,
        };
      } catch (error) {
        return { ok: false, text: `error: ${errorText(error)}`, summary: errorSummary(error) };
      }
    },
  });

  return { tools, close: () => graphql.close() };
}

/** rem: the library over a vdir, as `rem add` would write it. */
async function startRemTools(vdir: string): Promise<ToolGroup> {
  const tools = new Map<string, Tool>();
  const reminders = createReminders({ backend: await openBackend({ kind: 'vdir', vdir }) });
  tools.set('add_reminder', {
    definition: {
      type: 'function',
      function: {
        name: 'add_reminder',
        description: 'Adds a reminder (rem). Dates like "tomorrow 9am", "next fri", "in 2h" or ISO.',
        parameters: {
          type: 'object',
          properties: {
            title: { type: 'string' },
            list: { type: 'string', description: 'list name, created if missing' },
            due: { type: 'string' },
            priority: { type: 'string', enum: ['high', 'medium', 'low', 'none'] },
            notes: { type: 'string' },
          },
          required: ['title'],
        },
      },
    },
    async run(input) {
      try {
        const list = typeof input.list === 'string' && input.list !== '' ? input.list : 'Reminders';
        if (!(await reminders.lists()).some((entry) => entry.name === list)) await reminders.createList(list);
        const added = await reminders.add({
          title: String(input.title),
          list,
          ...(typeof input.due === 'string' ? { due: input.due } : {}),
          ...(typeof input.priority === 'string'
            ? { priority: input.priority as 'high' | 'medium' | 'low' | 'none' }
            : {}),
          ...(typeof input.notes === 'string' ? { notes: input.notes } : {}),
        });
        return {
          ok: true,
          text: JSON.stringify(added),
          data: added,
          summary: `reminder ${added.id} "${added.title}" in ${added.list}, due ${added.due ?? 'never'}`,
        };
      } catch (error) {
        return { ok: false, text: `error: ${errorText(error)}`, summary: errorSummary(error) };
      }
    },
  });

  return { tools, close: () => reminders.close() };
}

/**
 * Starts the tools: spawns the mcp-git bin on stdio and lists its tools, introspects the GraphQL
 * endpoint, opens rem's vdir backend. What started is stopped again if a later part fails.
 * @param options the repository, the GraphQL endpoint and the vdir
 * @returns the toolbox; close() stops mcp-git, the GraphQL client and rem
 * @throws Error when a part cannot start
 */
export async function createToolbox(options: ToolboxOptions): Promise<Toolbox> {
  const groups: ToolGroup[] = [];
  try {
    groups.push(await startGitTools(options.repoDir));
    groups.push(await startGraphqlTools(options.graphqlUrl, options.graphqlHeaders));
    groups.push(await startRemTools(options.vdir));
  } catch (error) {
    await Promise.allSettled(groups.map((group) => group.close()));
    throw error;
  }
  const tools = new Map(groups.flatMap((group) => [...group.tools]));
  return {
    definitions(names) {
      return names.map((name) => {
        const tool = tools.get(name);
        if (!tool) throw new Error(`no tool named ${name}; the demo has ${[...tools.keys()].join(', ')}`);
        return tool.definition;
      });
    },
    async run(name, input) {
      const tool = tools.get(name);
      if (!tool) return { ok: false, text: `error: no tool named ${name}`, summary: `unknown tool ${name}` };
      try {
        return await tool.run(input);
      } catch (error) {
        return { ok: false, text: `error: ${errorText(error)}`, summary: errorSummary(error) };
      }
    },
    async close() {
      await Promise.allSettled(groups.map((group) => group.close()));
    },
  };
}
