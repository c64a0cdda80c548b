import { defaultDataset, type MockHasura, startMockHasura } from '@ballast/mock-hasura';
import { type GraphQLSchema, getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createGraphQLClient, type GraphQLClient } from './client.js';
import {
  buildAggregate,
  buildByPk,
  buildDelete,
  buildInsert,
  buildSelect,
  buildUpdate,
  buildWhere,
  createHasura,
  discoverTables,
  findTable,
  type HasuraTable,
} from './hasura.js';
import { schemaFromIntrospection } from './schema.js';

let hasura: MockHasura;
let client: GraphQLClient;
let schema: GraphQLSchema;
let tables: HasuraTable[];

beforeAll(async () => {
  hasura = await startMockHasura(defaultDataset());
  client = createGraphQLClient({ endpoint: hasura.url });
  // Introspected over HTTP, as an agent's client would see it.
  schema = schemaFromIntrospection(await client.request(getIntrospectionQuery()));
  tables = discoverTables(schema);
});

afterAll(async () => {
  await client.close();
  await hasura.close();
});

beforeEach(() => hasura.reset());

describe('discoverTables', () => {
  it('finds every table with its columns, relationships, key, aggregate and mutations', () => {
    expect(tables.map((table) => table.name).sort()).toEqual([
      'customers',
      'order_items',
      'orders',
      'products',
      'reviews',
    ]);
    const items = findTable(tables, 'order_items');
    expect(items.primaryKey).toEqual(['order_id', 'product_id']);
    expect(items.relationships).toEqual([
      { name: 'order', kind: 'object', table: 'orders' },
      { name: 'product', kind: 'object', table: 'products' },
    ]);
    expect(items.numericColumns).toEqual(['order_id', 'product_id', 'quantity', 'unit_price']);
    expect(items.mutations).toEqual({ insert: true, update: true, delete: true });
    expect(() => findTable(tables, 'order')).toThrow(/did you mean order_items, orders\?/);
  });
});

describe('buildWhere', () => {
  it('turns plain values into _eq, keeps operators, nests relationships, and names a bad key by its path', () => {
    const orders = findTable(tables, 'orders');
    expect(
      buildWhere(tables, orders, {
        status: 'shipped',
        total: { _gt: 100 },
        note: null,
        customer: { vip: true },
      }),
    ).toEqual({
      status: { _eq: 'shipped' },
      total: { _gt: 100 },
      note: { _is_null: true },
      customer: { vip: { _eq: true } },
    });
    expect(() => buildWhere(tables, orders, { _or: [{ status: 'x' }, { customer: { nme: 'a' } }] })).toThrow(
      /^where\._or\[1\]\.customer\.nme: expected a column or relationship of customers/,
    );
    expect(() => buildWhere(tables, orders, { total: { _between: [1, 2] } })).toThrow(
      /^where\.total\._between: expected an operator/,
    );
  });
});

describe('the builders against a real server', () => {
  it('select, aggregate and by-pk return what the data holds', async () => {
    const select = buildSelect(
      schema,
      tables,
      'products',
      { columns: ['name', 'price'], where: { category: 'books' }, orderBy: { price: 'asc' }, limit: 500 },
      3,
    );
    expect(select.variables.limit).toBe(3);
    const rows =
      (await client.request<Record<string, Array<{ price: number }>>>(select.query, select.variables))[
        select.field
      ] ?? [];
    const expected = (hasura.data.products ?? [])
      .filter((row) => row.category === 'books')
      .map((row) => Number(row.price))
      .sort((left, right) => left - right)
      .slice(0, 3);
    expect(rows.map((row) => row.price)).toEqual(expected);

    const aggregate = buildAggregate(schema, tables, 'reviews', {
      avg: ['rating'],
      where: { rating: { _gte: 4 } },
    });
    const result = await client.request<Record<string, { aggregate: { count: number } }>>(
      aggregate.query,
      aggregate.variables,
    );
    expect(result[aggregate.field]?.aggregate.count).toBe(
      (hasura.data.reviews ?? []).filter((row) => Number(row.rating) >= 4).length,
    );
    expect(() => buildAggregate(schema, tables, 'reviews', { sum: ['title'] })).toThrow(
      /^sum\[0\]: expected a numeric column of reviews/,
    );

    const first = hasura.data.order_items?.[0];
    const byPk = buildByPk(
      schema,
      tables,
      'order_items',
      { order_id: first?.order_id, product_id: first?.product_id },
      ['quantity', 'product.name'],
    );
    const item = await client.request<Record<string, { quantity: number }>>(byPk.query, byPk.variables);
    expect(item[byPk.field]?.quantity).toBe(first?.quantity);
    expect(() => buildByPk(schema, tables, 'order_items', { order_id: 1 })).toThrow(
      /^key\.product_id: expected a value/,
    );
  });

  it('mutations only where the policy allows, and never over every row', async () => {
    expect(() => buildDelete(tables, 'reviews', { rating: 1 }, false)).toThrow(
      /delete_reviews is a mutation, which this client does not allow/,
    );
    expect(() => buildDelete(tables, 'reviews', {}, true)).toThrow(/an empty one would delete every row/);
    expect(() => buildUpdate(schema, tables, 'orders', { id: 1 }, { note: 'x' }, ['insert_orders'])).toThrow(
      /update_orders is a mutation/,
    );
    const update = buildUpdate(schema, tables, 'orders', { id: 1 }, { note: 'gift wrap' }, ['update_orders']);
    expect(await client.request(update.query, update.variables)).toEqual({
      update_orders: { affected_rows: 1 },
    });
    expect(hasura.data.orders?.find((row) => row.id === 1)?.note).toBe('gift wrap');
    const insert = buildInsert(
      schema,
      tables,
      'reviews',
      [{ product_id: 1, customer_id: 1, rating: 5, title: 'Great', body: 'Works.' }],
      true,
      ['id', 'title'],
    );
    const inserted = await client.request<{ insert_reviews: { affected_rows: number } }>(
      insert.query,
      insert.variables,
    );
    expect(inserted.insert_reviews.affected_rows).toBe(1);
    expect(() => buildInsert(schema, tables, 'reviews', [{ stars: 5 }], true)).toThrow(
      /^objects\[0\]\.stars: expected a column of reviews/,
    );
  });
});

describe('createHasura', () => {
  it('runs the builders through the client: select, aggregate, byPk, and mutations only when allowed', async () => {
    const hasura = createHasura({ client, schema, maxRows: 2 });
    const rows = await hasura.select<{ name: string }>('customers', {
      columns: ['name'],
      orderBy: { name: 'asc' },
    });
    expect(rows).toHaveLength(2);
    expect(await hasura.aggregate('customers', { count: true })).toEqual({ count: rowCount('customers') });
    expect(await hasura.byPk<{ id: number }>('orders', { id: 2 }, ['id'])).toEqual({ id: 2 });
    await expect(hasura.delete('reviews', { rating: 1 })).rejects.toMatchObject({
      code: 'GRAPHQL_MUTATION_NOT_ALLOWED',
    });
    const writer = createHasura({ client, schema, allowMutations: ['update_orders'] });
    expect(await writer.update('orders', { id: 2 }, { note: 'rush' })).toEqual({ affected_rows: 1 });
  });
});

function rowCount(table: string): number {
  return hasura.data[table]?.length ?? 0;
}
