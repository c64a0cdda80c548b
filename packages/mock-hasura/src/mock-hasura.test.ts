import {
  buildClientSchema,
  getIntrospectionQuery,
  type IntrospectionQuery,
  isEnumType,
  isInputObjectType,
  isObjectType,
  printSchema,
} from 'graphql';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defaultDataset } from './default-dataset.js';
import { postGraphQL } from './http-test-client.js';
import { type MockHasura, startMockHasura } from './mock-hasura.js';
import type { TableSpec } from './spec.js';

describe('startMockHasura', () => {
  let hasura: MockHasura;

  beforeAll(async () => {
    hasura = await startMockHasura(defaultDataset());
  });

  afterEach(() => {
    hasura.reset();
  });

  afterAll(async () => {
    await hasura.close();
  });

  describe('when introspected', () => {
    it('serves the Hasura-shaped schema to getIntrospectionQuery', async () => {
      const { status, body } = await postGraphQL<IntrospectionQuery>(hasura.url, getIntrospectionQuery());
      expect(status).toBe(200);
      const schema = buildClientSchema(body.data as IntrospectionQuery);
      expect(printSchema(schema)).toBe(printSchema(hasura.schema));

      const queryRoot = schema.getQueryType();
      expect(queryRoot?.name).toBe('query_root');
      expect(Object.keys(queryRoot?.getFields() ?? {})).toEqual(
        ['customers', 'order_items', 'orders', 'products', 'reviews'].flatMap((table) => [
          table,
          `${table}_aggregate`,
          `${table}_by_pk`,
        ]),
      );
      expect(
        Object.keys(schema.getMutationType()?.getFields() ?? {}).filter(
          (name) => name.endsWith('_customers') || name.includes('_customers_'),
        ),
      ).toEqual([
        'delete_customers',
        'delete_customers_by_pk',
        'insert_customers',
        'insert_customers_one',
        'update_customers',
        'update_customers_by_pk',
        'update_customers_many',
      ]);

      const boolExp = schema.getType('orders_bool_exp');
      expect(isInputObjectType(boolExp) && Object.keys(boolExp.getFields())).toEqual([
        '_and',
        '_not',
        '_or',
        'id',
        'customer_id',
        'status',
        'total',
        'placed_at',
        'shipped_at',
        'note',
        'customer',
        'order_items',
        'order_items_aggregate',
      ]);
      const orderBy = schema.getType('order_by');
      expect(isEnumType(orderBy) && orderBy.getValues().map((value) => value.name)).toEqual([
        'asc',
        'asc_nulls_first',
        'asc_nulls_last',
        'desc',
        'desc_nulls_first',
        'desc_nulls_last',
      ]);
      for (const scalar of ['Int', 'String', 'Boolean', 'Float', 'timestamptz', 'numeric']) {
        const comparison = schema.getType(`${scalar}_comparison_exp`);
        expect(isInputObjectType(comparison) && Object.keys(comparison.getFields())).toEqual(
          expect.arrayContaining(['_eq', '_neq', '_gt', '_gte', '_lt', '_lte', '_in', '_nin', '_is_null']),
        );
      }
      const stringComparison = schema.getType('String_comparison_exp');
      expect(isInputObjectType(stringComparison) && Object.keys(stringComparison.getFields())).toEqual(
        expect.arrayContaining(['_like', '_ilike', '_nlike', '_nilike']),
      );
      const aggregateFields = schema.getType('orders_aggregate_fields');
      expect(isObjectType(aggregateFields) && Object.keys(aggregateFields.getFields())).toEqual(
        expect.arrayContaining(['count', 'sum', 'avg', 'min', 'max']),
      );
      expect(schema.getType('order_items_select_column')?.toString()).toBe('order_items_select_column');
    });
  });

  describe('when a query names something the schema lacks', () => {
    it('answers with graphql-js validation errors and no data', async () => {
      const unknownTable = await postGraphQL(hasura.url, '{ customer { id } }');
      expect(unknownTable.status).toBe(200);
      expect(unknownTable.body.data).toBeUndefined();
      expect(unknownTable.body.errors?.[0]?.message).toMatch(
        /^Cannot query field "customer" on type "query_root"\. Did you mean "customers"/,
      );
      expect(unknownTable.body.errors?.[0]?.extensions?.code).toBe('validation-failed');

      const unknownColumn = await postGraphQL(hasura.url, '{ customers { id favourite_colour } }');
      expect(unknownColumn.body.errors?.[0]?.message).toBe(
        'Cannot query field "favourite_colour" on type "customers".',
      );
      expect(unknownColumn.body.errors?.[0]?.locations).toEqual([{ line: 1, column: 18 }]);
    });

    it('answers 200 even when the client accepts application/graphql-response+json, as Hasura does', async () => {
      const response = await fetch(hasura.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
        body: JSON.stringify({ query: '{ nope }' }),
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    });
  });

  describe('when requests arrive', () => {
    it('records each one with its body, headers and role', async () => {
      const query = 'query Names($limit: Int) { customers(limit: $limit) { name } }';
      await postGraphQL(hasura.url, query, { limit: 1 }, { 'x-hasura-role': 'analyst', 'x-trace': 'abc' });
      expect(hasura.requests).toHaveLength(1);
      const [request] = hasura.requests;
      expect(request?.method).toBe('POST');
      expect(request?.path).toBe('/v1/graphql');
      expect(request?.role).toBe('analyst');
      expect(request?.headers['x-hasura-role']).toBe('analyst');
      expect(request?.headers['x-trace']).toBe('abc');
      expect(request?.body).toEqual({ query, variables: { limit: 1 } });
    });

    it('answers a JSON array body with an array of results, in order', async () => {
      const response = await fetch(hasura.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([
          { query: 'mutation { delete_reviews(where: { rating: { _lt: 3 } }) { affected_rows } }' },
          { query: '{ reviews_aggregate { aggregate { count } } }' },
          { query: '{ nope }' },
        ]),
      });
      expect(response.status).toBe(200);
      const results = (await response.json()) as unknown[];
      expect(results).toHaveLength(3);
      expect(results[0]).toEqual({ data: { delete_reviews: { affected_rows: 2 } } });
      expect(results[1]).toEqual({ data: { reviews_aggregate: { aggregate: { count: 8 } } } });
      expect(results[2]).toMatchObject({ errors: [{ extensions: { code: 'validation-failed' } }] });
      expect(hasura.requests).toHaveLength(1);
    });

    it('answers /healthz and 404s other paths', async () => {
      const health = await fetch(`${hasura.origin}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.text()).toBe('OK');
      const missing = await fetch(`${hasura.origin}/v2/query`, { method: 'POST', body: '{}' });
      expect(missing.status).toBe(404);
      expect(await missing.json()).toEqual({
        path: '$',
        error: 'resource does not exist',
        code: 'not-found',
      });
    });
  });

  describe('when the dataset changes', () => {
    it('serves rows written to data directly', async () => {
      hasura.data.customers?.push({
        id: 50,
        name: 'Katherine Johnson',
        email: 'katherine@example.com',
        country: 'US',
        vip: false,
        phone: null,
        created_at: '2024-04-01T00:00:00+00:00',
      });
      expect((await postGraphQL(hasura.url, '{ customers_by_pk(id: 50) { name } }')).body.data).toEqual({
        customers_by_pk: { name: 'Katherine Johnson' },
      });
    });

    it('restores the initial rows and clears the requests on reset()', async () => {
      const customers = hasura.data.customers;
      await postGraphQL(
        hasura.url,
        'mutation { update_customers(where: {}, _set: { vip: true }) { affected_rows } }',
      );
      await postGraphQL(hasura.url, 'mutation { delete_orders(where: {}) { affected_rows } }');
      hasura.reset();
      expect(hasura.requests).toEqual([]);
      expect(hasura.data.customers).toBe(customers);
      expect(
        hasura.data.customers?.filter((customer) => customer.vip).map((customer) => customer.id),
      ).toEqual([1, 2, 6]);
      expect(hasura.data.orders).toHaveLength(12);
      const inserted = await postGraphQL<{ insert_reviews_one: { id: number } }>(
        hasura.url,
        'mutation { insert_reviews_one(object: { product_id: 1, customer_id: 1, rating: 3, title: "Again" }) { id } }',
      );
      expect(inserted.body.data?.insert_reviews_one.id).toBe(11);
    });
  });
});

describe('startMockHasura({ adminSecret })', () => {
  let hasura: MockHasura;

  beforeAll(async () => {
    hasura = await startMockHasura({ ...defaultDataset(), adminSecret: 's3cret' });
  });

  afterAll(async () => {
    await hasura.close();
  });

  describe('when the header is missing', () => {
    it('answers 200 with Hasura access-denied error', async () => {
      const { status, body } = await postGraphQL(hasura.url, '{ customers { id } }');
      expect(status).toBe(200);
      expect(body).toEqual({
        errors: [
          {
            message: 'x-hasura-admin-secret/x-hasura-access-key required, but not found',
            extensions: { path: '$', code: 'access-denied' },
          },
        ],
      });
    });
  });

  describe('when the header is wrong', () => {
    it('answers 200 with an invalid-secret error and still records the request', async () => {
      const { status, body } = await postGraphQL(hasura.url, '{ customers { id } }', undefined, {
        'x-hasura-admin-secret': 'guess',
      });
      expect(status).toBe(200);
      expect(body).toEqual({
        errors: [
          {
            message: 'invalid x-hasura-admin-secret/x-hasura-access-key',
            extensions: { path: '$', code: 'access-denied' },
          },
        ],
      });
      expect(hasura.requests.at(-1)?.headers['x-hasura-admin-secret']).toBe('guess');
    });
  });

  describe('when the header matches', () => {
    it('runs the operation, also under the legacy x-hasura-access-key', async () => {
      for (const header of ['x-hasura-admin-secret', 'x-hasura-access-key']) {
        const { body } = await postGraphQL(hasura.url, '{ customers_by_pk(id: 1) { name } }', undefined, {
          [header]: 's3cret',
        });
        expect(body).toEqual({ data: { customers_by_pk: { name: 'Ada Lovelace' } } });
      }
    });
  });
});

describe('startMockHasura(invalid spec)', () => {
  const table = (overrides: Partial<TableSpec>): TableSpec => ({
    name: 'things',
    columns: [{ name: 'id', type: 'Int' }],
    primaryKey: ['id'],
    ...overrides,
  });

  it('rejects a relationship to an unknown table', async () => {
    await expect(
      startMockHasura({
        tables: [
          table({
            relationships: [{ name: 'owner', kind: 'object', table: 'owners', mapping: { id: 'id' } }],
          }),
        ],
      }),
    ).rejects.toThrow('relationship "things.owner" targets unknown table "owners"');
  });

  it('rejects rows with unknown columns or duplicate keys', async () => {
    await expect(
      startMockHasura({ tables: [table({})], rows: { things: [{ id: 1, colour: 'red' }] } }),
    ).rejects.toThrow('a "things" row has unknown column "colour"');
    await expect(
      startMockHasura({ tables: [table({})], rows: { things: [{ id: 1 }, { id: 1 }] } }),
    ).rejects.toThrow('duplicate primary key [1] in "things"');
  });
});

describe('defaultDataset', () => {
  it('returns a fresh copy on every call', () => {
    const first = defaultDataset();
    (first.rows.customers as { name: string }[])[0] = { name: 'changed' };
    expect(defaultDataset().rows.customers?.[0]?.name).toBe('Ada Lovelace');
  });

  it('has five related tables whose order totals are the sums of their items', async () => {
    const dataset = defaultDataset();
    expect(dataset.tables.map((table) => table.name)).toEqual([
      'customers',
      'products',
      'orders',
      'order_items',
      'reviews',
    ]);
    expect(Object.values(dataset.rows).reduce((total, rows) => total + rows.length, 0)).toBe(62);
    const hasura = await startMockHasura(dataset);
    try {
      const { body } = await postGraphQL<{
        orders: { total: number; order_items: { quantity: number; unit_price: number }[] }[];
      }>(hasura.url, '{ orders { total order_items { quantity unit_price } } }');
      for (const order of body.data?.orders ?? []) {
        const sum = order.order_items.reduce((total, item) => total + item.quantity * item.unit_price, 0);
        expect(order.total).toBeCloseTo(sum, 6);
      }
      expect(body.data?.orders).toHaveLength(12);
    } finally {
      await hasura.close();
    }
  });
});

describe('startMockHasura({ cacheResults })', () => {
  it('answers a repeated query from its cache until a mutation changes the data', async () => {
    const server = await startMockHasura({ ...defaultDataset(), cacheResults: true });
    try {
      const query = 'query One($id: Int!) { orders_by_pk(id: $id) { id note } }';
      const first = await postGraphQL(server.url, query, { id: 1 });
      // A direct edit of the rows is not seen while the answer is cached: proof the cache answered.
      const row = server.data.orders?.find((order) => order.id === 1);
      if (row) row.note = 'edited behind the cache';
      const again = await postGraphQL(server.url, query, { id: 1 });
      expect(again.body).toEqual(first.body);
      await postGraphQL(
        server.url,
        'mutation { update_orders_by_pk(pk_columns: { id: 1 }, _set: { note: "cached?" }) { id } }',
      );
      const after = await postGraphQL(server.url, query, { id: 1 });
      expect(after.body).toEqual({ data: { orders_by_pk: { id: 1, note: 'cached?' } } });
      const other = await postGraphQL(server.url, query, { id: 2 });
      expect((other.body as { data: { orders_by_pk: { id: number } } }).data.orders_by_pk.id).toBe(2);
    } finally {
      await server.close();
    }
  });
});
