import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultDataset, type MockHasura, startMockHasura } from '@ballast/mock-hasura';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGraphQLMcpServer, type GraphQLMcpOptions } from './mcp.js';

let hasura: MockHasura;
let folder: string;

beforeAll(async () => {
  hasura = await startMockHasura({ ...defaultDataset(), adminSecret: 'secret' });
  folder = mkdtempSync(join(tmpdir(), 'ballast-graphql-ops-'));
  writeFileSync(
    join(folder, 'orders.graphql'),
    '# Orders of one customer, newest first.\nquery CustomerOrders($customerId: Int!, $status: String) {\n  orders(where: { customer_id: { _eq: $customerId }, status: { _eq: $status } }, order_by: { placed_at: desc }) { id status total }\n}\n',
  );
});

afterAll(async () => {
  await hasura.close();
  rmSync(folder, { recursive: true, force: true });
});

beforeEach(() => hasura.reset());

async function connect(options: Partial<GraphQLMcpOptions> = {}) {
  const server = await createGraphQLMcpServer({
    endpoint: hasura.url,
    headers: { 'x-hasura-admin-secret': 'secret' },
    ...options,
  });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'test', version: '1.0.0' });
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  return {
    client,
    call: async (name: string, args: Record<string, unknown> = {}) =>
      (await client.callTool({ name, arguments: args })) as CallToolResult,
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

const textOf = (result: CallToolResult): string =>
  result.content.map((part) => (part.type === 'text' ? part.text : '')).join('');

describe('createGraphQLMcpServer', () => {
  it('lists its tools with honest annotations, one per saved operation included', async () => {
    const server = await connect({ operationsDir: folder });
    const { tools } = await server.client.listTools();
    const byName = new Map(tools.map((tool) => [tool.name, tool]));
    for (const name of [
      'graphql_schema',
      'graphql_validate',
      'graphql_query',
      'hasura_tables',
      'hasura_describe_table',
      'hasura_select',
      'hasura_aggregate',
      'op_CustomerOrders',
    ]) {
      expect(byName.has(name), name).toBe(true);
      expect(byName.get(name)?.outputSchema, name).toBeDefined();
    }
    expect(byName.get('graphql_query')?.annotations).toMatchObject({
      readOnlyHint: true,
      destructiveHint: false,
    });
    expect(byName.get('op_CustomerOrders')?.description).toBe('Orders of one customer, newest first.');
    expect(byName.get('op_CustomerOrders')?.inputSchema).toMatchObject({
      properties: { customerId: { type: 'integer' } },
      required: ['customerId'],
    });
    for (const tool of tools)
      expect(Object.keys(tool.annotations ?? {}).sort(), tool.name).toEqual([
        'destructiveHint',
        'idempotentHint',
        'openWorldHint',
        'readOnlyHint',
        'title',
      ]);
    await server.close();
  });

  describe('graphql_schema', () => {
    it('summarises every table, and describes and searches the rest', async () => {
      const server = await connect();
      const summary = await server.call('graphql_schema', { mode: 'summary' });
      for (const table of ['customers', 'products', 'orders', 'order_items', 'reviews'])
        expect(textOf(summary)).toContain(table);
      const described = await server.call('graphql_schema', { mode: 'describe', name: 'orders' });
      expect(textOf(described)).toContain('placed_at');
      const found = await server.call('graphql_schema', { mode: 'search', keyword: 'unit_price' });
      expect(textOf(found)).toContain('order_items');
      await server.close();
    });
  });

  describe('graphql_query', () => {
    it('never sends an invalid query, and answers with suggestions', async () => {
      const server = await connect();
      const before = hasura.requests.length;
      const result = await server.call('graphql_query', { query: '{ orders { id totl } }' });
      expect(result.structuredContent).toMatchObject({ valid: false });
      expect(textOf(result)).toMatch(/Not sent.*\n.*Did you mean "total"/);
      expect(hasura.requests.length).toBe(before);
      await server.close();
    });

    it('caps every list at maxRows, nested relationships too, and says so', async () => {
      const server = await connect({ maxRows: 2 });
      const result = await server.call('graphql_query', { query: '{ customers { id orders { id } } }' });
      const data = (
        result.structuredContent as { data: { customers: Array<{ orders: unknown[] }> }; limited: string[] }
      ).data;
      expect(data.customers).toHaveLength(2);
      for (const customer of data.customers) expect(customer.orders.length).toBeLessThanOrEqual(2);
      expect((result.structuredContent as { limited: string[] }).limited.length).toBeGreaterThan(0);
      const sent = JSON.stringify(hasura.requests.at(-1)?.body);
      expect(sent).toContain('limit: 2');
      await server.close();
    });

    it('refuses mutations unless allowed, and allows only the listed root fields', async () => {
      const closed = await connect();
      const refused = await closed.call('graphql_query', {
        query: 'mutation { delete_reviews(where: {}) { affected_rows } }',
      });
      expect(refused.structuredContent).toMatchObject({ valid: false });
      expect(hasura.data.reviews).toHaveLength(10);
      await closed.close();
      const listed = await connect({ allowMutations: ['update_orders'] });
      const { tools } = await listed.client.listTools();
      expect(tools.find((tool) => tool.name === 'graphql_query')?.annotations).toMatchObject({
        readOnlyHint: false,
        destructiveHint: true,
      });
      const stillRefused = await listed.call('graphql_query', {
        query: 'mutation { delete_reviews(where: {}) { affected_rows } }',
      });
      expect(stillRefused.structuredContent).toMatchObject({ valid: false });
      const allowed = await listed.call('graphql_query', {
        query:
          'mutation { update_orders(where: { id: { _eq: 1 } }, _set: { note: "gift" }) { affected_rows } }',
      });
      expect(allowed.structuredContent).toMatchObject({
        valid: true,
        data: { update_orders: { affected_rows: 1 } },
      });
      await listed.close();
    });
  });

  describe('the Hasura tools', () => {
    it('select with a JSON filter, relationships and order, within the row cap', async () => {
      const server = await connect({ maxRows: 5 });
      const result = await server.call('hasura_select', {
        table: 'orders',
        columns: ['id', 'total', 'customer.name'],
        where: {
          status: 'shipped',
          customer: { country: { _in: ['DE', 'FR', 'US', 'GB', 'JP', 'SE', 'NL', 'IT'] } },
        },
        order_by: { total: 'desc' },
        limit: 50,
      });
      const rows = (
        result.structuredContent as {
          rows: Array<{ total: number; customer: { name: string } }>;
          limit: number;
        }
      ).rows;
      expect((result.structuredContent as { limit: number }).limit).toBe(5);
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.length).toBeLessThanOrEqual(5);
      const totals = rows.map((row) => row.total);
      expect([...totals].sort((left, right) => right - left)).toEqual(totals);
      expect(rows[0]?.customer.name).toBeTypeOf('string');
      const bad = await server.call('hasura_select', { table: 'orders', where: { sttus: 'x' } });
      expect(bad.isError).toBe(true);
      expect(textOf(bad)).toMatch(/^where\.sttus: expected a column or relationship of orders/);
      await server.close();
    });

    it('aggregate counts and sums, matching the data', async () => {
      const server = await connect();
      const result = await server.call('hasura_aggregate', {
        table: 'order_items',
        sum: ['quantity'],
        max: ['unit_price'],
      });
      const aggregate = (
        result.structuredContent as { aggregate: { count: number; sum: { quantity: number } } }
      ).aggregate;
      expect(aggregate.count).toBe(hasura.data.order_items?.length);
      expect(aggregate.sum.quantity).toBe(
        hasura.data.order_items?.reduce((total, row) => total + Number(row.quantity), 0),
      );
      await server.close();
    });

    it('run a saved operation with typed inputs', async () => {
      const server = await connect({ operationsDir: folder });
      const result = await server.call('op_CustomerOrders', { customerId: 1 });
      const orders = (result.structuredContent as { data: { orders: Array<{ id: number }> } }).data.orders;
      expect(orders.length).toBe(hasura.data.orders?.filter((order) => order.customer_id === 1).length);
      const wrong = await server.call('op_CustomerOrders', { customerId: 'one' });
      expect(wrong.isError).toBe(true);
      await server.close();
    });
  });
});

describe('the graphql-mcp bin over stdio', () => {
  it('serves the SDK client with credentials from its command line', async () => {
    const bin = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [bin, '--endpoint', hasura.url, '--header', 'x-hasura-admin-secret: secret', '--max-rows', '3'],
      stderr: 'pipe',
    });
    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(transport);
    const result = (await client.callTool({
      name: 'hasura_select',
      arguments: { table: 'customers', columns: ['name'] },
    })) as CallToolResult;
    expect((result.structuredContent as { rows: unknown[] }).rows).toHaveLength(3);
    expect(hasura.requests.at(-1)?.headers['x-hasura-admin-secret']).toBe('secret');
    await client.close();
  });
});
