import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { BallastError } from '@ballast/core';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import {
  type GraphQLInputType,
  type GraphQLSchema,
  getIntrospectionQuery,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  Kind,
  type OperationDefinitionNode,
  parse,
  print,
  typeFromAST,
} from 'graphql';
import { z } from 'zod';
import { createGraphQLClient, type GraphQLClient } from './client.js';
import {
  buildAggregate,
  buildSelect,
  discoverTables,
  findTable,
  type HasuraTable,
  type MutationPolicy,
} from './hasura.js';
import { clampLimitVariables, enforceListLimits } from './limits.js';
import { createSchemaCache, loadSchemaFromSdl, schemaFromIntrospection } from './schema.js';
import { describeType, searchSchema, summarizeSchema } from './summary.js';
import { validateDocument } from './validate.js';

/** Options of {@link createGraphQLMcpServer}. */
export interface GraphQLMcpOptions {
  endpoint: string;
  /** Credentials and role headers, from configuration only: no tool takes headers. */
  headers?: Record<string, string>;
  /** Mutations: off, all, or an allowlist of root fields. @default false */
  allowMutations?: MutationPolicy;
  /** Deepest selection nesting a query may have. @default 8 */
  maxDepth?: number;
  /** Most aliases a query may use. @default 30 */
  maxAliases?: number;
  /** Most rows any list field may return (`limit` is injected or lowered). @default 100 */
  maxRows?: number;
  /** An SDL file to use instead of introspecting the endpoint. */
  schemaFile?: string;
  /** How long an introspected schema is reused. @default 300000 */
  schemaTtlMs?: number;
  /** Token budget of the schema summary. @default 2000 */
  summaryBudgetTokens?: number;
  /** A folder of `.graphql` files: one tool per operation. */
  operationsDir?: string;
  /** A client to use instead of making one. */
  client?: GraphQLClient;
}

/** The annotations of a tool that only reads: honest hints, all four set. */
const READ_ONLY = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: false,
} as const;

function text(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

function failure(message: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: message }] };
}

/** The zod type of a GraphQL input type, for a saved operation's tool inputs. */
function zodOf(type: GraphQLInputType): z.ZodType {
  // Nullability is decided by the caller (required or optional input).
  if (isNonNullType(type)) return zodOf(type.ofType);
  let inner: z.ZodType;
  if (isListType(type)) inner = z.array(zodOf(type.ofType));
  else if (isEnumType(type)) {
    const values = type.getValues().map((value) => value.name);
    inner = values.length > 0 ? z.enum(values as [string, ...string[]]) : z.string();
  } else if (isInputObjectType(type))
    inner = z.record(z.string(), z.unknown()).describe(`${type.name} (an object)`);
  else if (isScalarType(type)) {
    inner =
      type.name === 'Int'
        ? z.number().int()
        : type.name === 'Float'
          ? z.number()
          : type.name === 'Boolean'
            ? z.boolean()
            : type.name === 'String' || type.name === 'ID'
              ? z.string()
              : z.unknown().describe(type.name);
  } else inner = z.unknown();
  return inner;
}

function inputShape(schema: GraphQLSchema, operation: OperationDefinitionNode): Record<string, z.ZodType> {
  const shape: Record<string, z.ZodType> = {};
  for (const definition of operation.variableDefinitions ?? []) {
    const type = typeFromAST(schema, definition.type) as GraphQLInputType | undefined;
    const name = definition.variable.name.value;
    const base = type ? zodOf(type) : z.unknown();
    const required = type !== undefined && isNonNullType(type) && definition.defaultValue === undefined;
    shape[name] = required ? base : base.optional();
  }
  return shape;
}

/**
 * Creates the `graphql-mcp` server: schema summary, describe and search, local validation, safe
 * queries (validated before sending, limits enforced, mutations off unless allowed), Hasura table
 * tools, and one tool per saved operation.
 * @param options endpoint, credentials, limits, saved operations
 * @returns the MCP server (connect it to a transport)
 * @throws {BallastError} when the schema cannot be loaded or a saved operation is invalid
 */
export async function createGraphQLMcpServer(options: GraphQLMcpOptions): Promise<McpServer> {
  const client =
    options.client ??
    createGraphQLClient({
      endpoint: options.endpoint,
      ...(options.headers ? { headers: options.headers } : {}),
    });
  const policy: MutationPolicy = options.allowMutations ?? false;
  const maxRows = options.maxRows ?? 100;
  const maxDepth = options.maxDepth ?? 8;
  const maxAliases = options.maxAliases ?? 30;
  const cache = createSchemaCache({ ttlMs: options.schemaTtlMs ?? 300_000 });
  const cacheKey = `${options.endpoint}\u0000${options.headers?.['x-hasura-role'] ?? ''}`;
  const schema = (): Promise<GraphQLSchema> =>
    cache.get(cacheKey, async () =>
      options.schemaFile
        ? loadSchemaFromSdl(options.schemaFile)
        : schemaFromIntrospection(await client.request(getIntrospectionQuery())),
    );
  let tablesOf: { schema: GraphQLSchema; tables: HasuraTable[] } | undefined;
  const tables = async (): Promise<HasuraTable[]> => {
    const current = await schema();
    if (tablesOf?.schema !== current) tablesOf = { schema: current, tables: discoverTables(current) };
    return tablesOf.tables;
  };
  // Loaded now: a server whose schema cannot be read should say so at start, not at the first call.
  const initial = await schema();

  const server = new McpServer(
    { name: 'ballast-graphql-mcp', version: '0.1.0' },
    {
      capabilities: { tools: {} },
      instructions:
        'Structured data over GraphQL. Start with graphql_schema (a summary), then describe or search; validate before querying; hasura_* tools build queries for you.',
    },
  );

  const run = async (
    work: () => Promise<{ structured: Record<string, unknown>; text: string }>,
  ): Promise<CallToolResult> => {
    try {
      const answer = await work();
      return { content: [{ type: 'text', text: answer.text }], structuredContent: answer.structured };
    } catch (error) {
      if (BallastError.isInstance(error)) return failure(error.message);
      return failure(error instanceof Error ? error.message : String(error));
    }
  };

  /** Validates, enforces limits, then sends: an invalid query never reaches the server. */
  const safeQuery = async (
    query: string,
    variables: Record<string, unknown> | undefined,
    operationName: string | undefined,
  ) => {
    const current = await schema();
    const checked = validateDocument(current, query, {
      maxDepth,
      maxAliases,
      allowMutations: policy,
      ...(operationName === undefined ? {} : { operationName }),
    });
    if (!checked.valid) {
      return { valid: false as const, errors: checked.errors };
    }
    const limited = enforceListLimits(current, checked.document, { maxRows });
    const clamped = clampLimitVariables(variables, limited.clampedVariables, maxRows);
    const result = await client.raw(
      print(limited.document),
      clamped,
      operationName === undefined ? {} : { operationName },
    );
    return { valid: true as const, result, injected: limited.injected, lowered: limited.lowered };
  };

  const mutationsOn = policy === true || (Array.isArray(policy) && policy.length > 0);

  server.registerTool(
    'graphql_schema',
    {
      title: 'GraphQL schema',
      description:
        'The schema for agents: mode "summary" (tables and fields within a token budget), "describe" (one type in full) or "search" (types and fields matching a keyword).',
      inputSchema: {
        mode: z.enum(['summary', 'describe', 'search']).default('summary'),
        name: z.string().optional().describe('The type or table to describe'),
        keyword: z.string().optional().describe('What to search for'),
        limit: z.number().int().min(1).max(100).default(20),
      },
      outputSchema: {
        text: z.string(),
        tokens: z.number().optional(),
        omitted: z.number().optional(),
        hits: z.array(z.record(z.string(), z.unknown())).optional(),
      },
      annotations: { title: 'GraphQL schema', ...READ_ONLY },
    },
    (args) =>
      run(async () => {
        const current = await schema();
        if (args.mode === 'describe') {
          if (!args.name)
            throw new BallastError(
              'GRAPHQL_INVALID_ARGUMENT',
              'name: expected the type or table to describe',
            );
          const described = describeType(current, args.name);
          return { structured: { text: described.text }, text: described.text };
        }
        if (args.mode === 'search') {
          if (!args.keyword)
            throw new BallastError('GRAPHQL_INVALID_ARGUMENT', 'keyword: expected what to search for');
          const found = searchSchema(current, args.keyword, { limit: args.limit });
          const lines = found.hits.map(
            (hit) => `${hit.path}${hit.description ? ` — ${hit.description}` : ''}`,
          );
          const rendered = lines.join('\n') || 'No match.';
          return {
            structured: { text: rendered, hits: found.hits as unknown as Array<Record<string, unknown>> },
            text: rendered,
          };
        }
        const summary = summarizeSchema(current, { budgetTokens: options.summaryBudgetTokens ?? 2000 });
        return {
          structured: { text: summary.text, tokens: summary.tokens, omitted: summary.omitted },
          text: summary.text,
        };
      }),
  );

  server.registerTool(
    'graphql_validate',
    {
      title: 'Validate a GraphQL document',
      description:
        'Checks a query against the schema and this server’s limits without sending it: errors with locations and "did you mean" suggestions.',
      inputSchema: { query: z.string(), operationName: z.string().optional() },
      outputSchema: { valid: z.boolean(), errors: z.array(z.record(z.string(), z.unknown())) },
      annotations: { title: 'Validate', ...READ_ONLY },
    },
    (args) =>
      run(async () => {
        const checked = validateDocument(await schema(), args.query, {
          maxDepth,
          maxAliases,
          allowMutations: policy,
          ...(args.operationName === undefined ? {} : { operationName: args.operationName }),
        });
        const errors = checked.valid ? [] : (checked.errors as unknown as Array<Record<string, unknown>>);
        return {
          structured: { valid: checked.valid, errors },
          text: checked.valid ? 'Valid.' : errors.map((error) => `- ${String(error.message)}`).join('\n'),
        };
      }),
  );

  server.registerTool(
    'graphql_query',
    {
      title: 'Run a GraphQL query',
      description: `Validates, then runs a query. Lists return at most ${maxRows} rows (a limit is added or lowered). ${mutationsOn ? 'Mutations are allowed as configured.' : 'Mutations are not allowed.'}`,
      inputSchema: {
        query: z.string(),
        variables: z.record(z.string(), z.unknown()).optional(),
        operationName: z.string().optional(),
      },
      outputSchema: {
        valid: z.boolean(),
        data: z.unknown().optional(),
        errors: z.array(z.record(z.string(), z.unknown())).optional(),
        limited: z.array(z.string()).optional().describe('Fields whose row count was capped'),
      },
      annotations: {
        title: 'Query',
        readOnlyHint: !mutationsOn,
        destructiveHint: mutationsOn,
        idempotentHint: !mutationsOn,
        openWorldHint: false,
      },
    },
    (args) =>
      run(async () => {
        const outcome = await safeQuery(args.query, args.variables, args.operationName);
        if (!outcome.valid) {
          const errors = outcome.errors as unknown as Array<Record<string, unknown>>;
          return {
            structured: { valid: false, errors },
            text: `Not sent: the query is invalid.\n${errors.map((error) => `- ${String(error.message)}`).join('\n')}`,
          };
        }
        const limited = [...outcome.injected, ...outcome.lowered];
        const errors = (outcome.result.errors ?? []) as unknown as Array<Record<string, unknown>>;
        return {
          structured: {
            valid: true,
            data: outcome.result.data ?? null,
            ...(errors.length ? { errors } : {}),
            ...(limited.length ? { limited } : {}),
          },
          text: `${text(outcome.result.data ?? null)}${errors.length ? `\nErrors:\n${text(errors)}` : ''}${limited.length ? `\n(at most ${maxRows} rows: ${limited.join(', ')})` : ''}`,
        };
      }),
  );

  const tableNames = (await tables()).map((table) => table.name);
  if (tableNames.length > 0) {
    server.registerTool(
      'hasura_tables',
      {
        title: 'Tables',
        description: 'The tables of this Hasura-style schema, with their column and relationship counts.',
        inputSchema: {},
        outputSchema: {
          tables: z.array(
            z.object({
              name: z.string(),
              columns: z.number(),
              relationships: z.number(),
              description: z.string().optional(),
            }),
          ),
        },
        annotations: { title: 'Tables', ...READ_ONLY },
      },
      () =>
        run(async () => {
          const list = (await tables()).map((table) => ({
            name: table.name,
            columns: table.columns.length,
            relationships: table.relationships.length,
            ...(table.description ? { description: table.description } : {}),
          }));
          return {
            structured: { tables: list },
            text: list
              .map(
                (table) => `${table.name} (${table.columns} columns, ${table.relationships} relationships)`,
              )
              .join('\n'),
          };
        }),
    );

    server.registerTool(
      'hasura_describe_table',
      {
        title: 'Describe a table',
        description:
          'A table’s columns and types, relationships, primary key, and whether aggregates and mutations exist.',
        inputSchema: { table: z.string() },
        outputSchema: { table: z.record(z.string(), z.unknown()) },
        annotations: { title: 'Describe table', ...READ_ONLY },
      },
      (args) =>
        run(async () => {
          const table = findTable(await tables(), args.table);
          const lines = [
            `${table.name}${table.primaryKey.length ? ` (key: ${table.primaryKey.join(', ')})` : ''}`,
            `columns: ${table.columns.map((column) => `${column.name}:${column.type}${column.nullable ? '' : '!'}`).join(' ')}`,
            `relationships: ${table.relationships.map((item) => `${item.name} -> ${item.table} (${item.kind})`).join(', ') || 'none'}`,
            `aggregate: ${table.aggregate ? 'yes' : 'no'}; mutations: ${
              Object.entries(table.mutations)
                .filter(([, on]) => on)
                .map(([name]) => name)
                .join(', ') || 'none'
            }`,
          ];
          return {
            structured: { table: table as unknown as Record<string, unknown> },
            text: lines.join('\n'),
          };
        }),
    );

    server.registerTool(
      'hasura_select',
      {
        title: 'Select rows',
        description: `Selects rows of a table: columns (dotted paths follow relationships, e.g. "author.name"), a JSON filter (column: value, or column: { _gt: 1 }; _and, _or, _not; relationships nest), order, limit (at most ${maxRows}), offset, distinct_on.`,
        inputSchema: {
          table: z.string(),
          columns: z.array(z.string()).optional(),
          where: z.record(z.string(), z.unknown()).optional(),
          order_by: z
            .union([z.record(z.string(), z.unknown()), z.array(z.record(z.string(), z.unknown()))])
            .optional(),
          limit: z.number().int().min(0).optional(),
          offset: z.number().int().min(0).optional(),
          distinct_on: z.array(z.string()).optional(),
        },
        outputSchema: {
          rows: z.array(z.record(z.string(), z.unknown())),
          count: z.number(),
          limit: z.number(),
        },
        annotations: { title: 'Select', ...READ_ONLY },
      },
      (args) =>
        run(async () => {
          const built = buildSelect(
            await schema(),
            await tables(),
            args.table,
            {
              ...(args.columns ? { columns: args.columns } : {}),
              ...(args.where ? { where: args.where } : {}),
              ...(args.order_by ? { orderBy: args.order_by } : {}),
              ...(args.limit !== undefined ? { limit: args.limit } : {}),
              ...(args.offset !== undefined ? { offset: args.offset } : {}),
              ...(args.distinct_on ? { distinctOn: args.distinct_on } : {}),
            },
            maxRows,
          );
          const data = await client.request<Record<string, Array<Record<string, unknown>>>>(
            built.query,
            built.variables,
          );
          const rows = data[built.field] ?? [];
          return {
            structured: { rows, count: rows.length, limit: built.variables.limit as number },
            text: text(rows),
          };
        }),
    );

    server.registerTool(
      'hasura_aggregate',
      {
        title: 'Aggregate a table',
        description:
          'Counts rows and computes sum, avg, min and max of columns, optionally over a JSON filter.',
        inputSchema: {
          table: z.string(),
          count: z.boolean().default(true),
          sum: z.array(z.string()).optional(),
          avg: z.array(z.string()).optional(),
          min: z.array(z.string()).optional(),
          max: z.array(z.string()).optional(),
          where: z.record(z.string(), z.unknown()).optional(),
        },
        outputSchema: { aggregate: z.record(z.string(), z.unknown()) },
        annotations: { title: 'Aggregate', ...READ_ONLY },
      },
      (args) =>
        run(async () => {
          const built = buildAggregate(await schema(), await tables(), args.table, {
            count: args.count,
            ...(args.sum ? { sum: args.sum } : {}),
            ...(args.avg ? { avg: args.avg } : {}),
            ...(args.min ? { min: args.min } : {}),
            ...(args.max ? { max: args.max } : {}),
            ...(args.where ? { where: args.where } : {}),
          });
          const data = await client.request<Record<string, { aggregate: Record<string, unknown> }>>(
            built.query,
            built.variables,
          );
          const aggregate = data[built.field]?.aggregate ?? {};
          return { structured: { aggregate }, text: text(aggregate) };
        }),
    );
  }

  // One tool per saved operation: typed inputs from its variables, checked against the schema now.
  if (options.operationsDir) {
    const files = (await readdir(options.operationsDir)).filter((file) => file.endsWith('.graphql')).sort();
    for (const file of files) {
      const source = await readFile(join(options.operationsDir, file), 'utf8');
      const operations = parse(source).definitions.filter(
        (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
      );
      for (const operation of operations) {
        const name = operation.name?.value ?? basename(file, '.graphql');
        const checked = validateDocument(initial, source, {
          operationName: name,
          allowMutations: policy,
          maxDepth,
          maxAliases,
        });
        if (!checked.valid) {
          throw new BallastError(
            'GRAPHQL_SAVED_OPERATION_INVALID',
            `${file}: operation ${name} is invalid: ${checked.errors.map((error) => error.message).join('; ')}`,
          );
        }
        const mutation = operation.operation === 'mutation';
        const toolName = `op_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
        const description = operation.loc
          ? source.slice(0, operation.loc.start).match(/#\s?(.*)\n\s*$/)?.[1]
          : undefined;
        server.registerTool(
          toolName,
          {
            title: name,
            description: description ?? `Runs the saved ${operation.operation} ${name} (${file}).`,
            inputSchema: inputShape(initial, operation),
            outputSchema: {
              data: z.unknown(),
              errors: z.array(z.record(z.string(), z.unknown())).optional(),
            },
            annotations: {
              title: name,
              readOnlyHint: !mutation,
              destructiveHint: mutation,
              idempotentHint: !mutation,
              openWorldHint: false,
            },
          },
          (args: Record<string, unknown>) =>
            run(async () => {
              const outcome = await safeQuery(source, args, name);
              if (!outcome.valid)
                throw new BallastError(
                  'GRAPHQL_SAVED_OPERATION_INVALID',
                  outcome.errors.map((error) => error.message).join('; '),
                );
              const errors = (outcome.result.errors ?? []) as unknown as Array<Record<string, unknown>>;
              return {
                structured: { data: outcome.result.data ?? null, ...(errors.length ? { errors } : {}) },
                text: text(outcome.result.data ?? null) + (errors.length ? `\nErrors:\n${text(errors)}` : ''),
              };
            }),
        );
      }
    }
  }

  return server;
}
