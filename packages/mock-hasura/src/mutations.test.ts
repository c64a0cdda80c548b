import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defaultDataset } from './default-dataset.js';
import { postGraphQL } from './http-test-client.js';
import { type MockHasura, startMockHasura } from './mock-hasura.js';

let hasura: MockHasura;

beforeAll(async () => {
  hasura = await startMockHasura(defaultDataset());
});

beforeEach(() => {
  hasura.reset();
});

afterAll(async () => {
  await hasura.close();
});

async function data<T = Record<string, unknown>>(
  query: string,
  variables?: Record<string, unknown>,
): Promise<T> {
  const { status, body } = await postGraphQL<T>(hasura.url, query, variables);
  expect(status).toBe(200);
  expect(body.errors).toBeUndefined();
  return body.data as T;
}

async function firstError(query: string, variables?: Record<string, unknown>) {
  const { status, body } = await postGraphQL(hasura.url, query, variables);
  expect(status).toBe(200);
  expect(body.data ?? null).toBeNull();
  return body.errors?.[0];
}

describe('insert_<table>', () => {
  describe('when the rows are valid', () => {
    it('inserts them, fills defaults, and returns affected_rows and returning', async () => {
      const result = await data<{
        insert_customers: {
          affected_rows: number;
          returning: { id: number; name: string; vip: boolean; created_at: string }[];
        };
      }>(
        `mutation ($objects: [customers_insert_input!]!) {
        insert_customers(objects: $objects) { affected_rows returning { id name vip created_at } }
      }`,
        {
          objects: [
            { name: 'Linus Torvalds', email: 'linus@example.com', country: 'FI' },
            { name: 'Radia Perlman', email: 'radia@example.com', country: 'US', vip: true },
          ],
        },
      );
      expect(result.insert_customers.affected_rows).toBe(2);
      expect(result.insert_customers.returning.map(({ id, name, vip }) => ({ id, name, vip }))).toEqual([
        { id: 9, name: 'Linus Torvalds', vip: false },
        { id: 10, name: 'Radia Perlman', vip: true },
      ]);
      for (const { created_at } of result.insert_customers.returning) {
        expect(Math.abs(Date.parse(created_at) - Date.now())).toBeLessThan(60_000);
        expect(created_at).toMatch(/\+00:00$/);
      }
      expect(hasura.data.customers).toHaveLength(10);
      expect(await data('{ customers_aggregate { aggregate { count } } }')).toEqual({
        customers_aggregate: { aggregate: { count: 10 } },
      });
    });

    it('resolves relationships of the returned rows', async () => {
      expect(
        await data(`mutation {
          insert_orders_one(object: { customer_id: 1, status: "pending" }) { id total customer { name } order_items { product_id } }
        }`),
      ).toEqual({
        insert_orders_one: { id: 13, total: 0, customer: { name: 'Ada Lovelace' }, order_items: [] },
      });
    });

    it('returns null for an object relationship with no matching row', async () => {
      expect(
        await data(
          'mutation { insert_orders_one(object: { customer_id: 99, status: "pending" }) { customer { id } } }',
        ),
      ).toEqual({ insert_orders_one: { customer: null } });
    });
  });

  describe('when a row breaks a constraint', () => {
    it('reports a missing non-nullable column as a not-null violation', async () => {
      const error = await firstError(
        'mutation { insert_customers_one(object: { name: "Nobody", country: "FR" }) { id } }',
      );
      expect(error?.message).toBe(
        'Not-NULL violation. null value in column "email" of relation "customers" violates not-null constraint',
      );
      expect(error?.extensions).toEqual({
        code: 'constraint-violation',
        path: '$.selectionSet.insert_customers_one.args.object',
      });
      expect(hasura.data.customers).toHaveLength(8);
    });

    it('reports a duplicate key and inserts none of the rows', async () => {
      const error = await firstError(`mutation {
        insert_customers(objects: [
          { id: 20, name: "New", email: "new@example.com", country: "DE" }
          { id: 1, name: "Again", email: "again@example.com", country: "DE" }
        ]) { affected_rows }
      }`);
      expect(error?.message).toBe(
        'Uniqueness violation. duplicate key value violates unique constraint "customers_pkey"',
      );
      expect(error?.extensions?.code).toBe('constraint-violation');
      expect(await data('{ customers_by_pk(id: 20) { id } }')).toEqual({ customers_by_pk: null });
    });
  });

  describe('when on_conflict is given', () => {
    it('updates the listed columns of the conflicting row', async () => {
      expect(
        await data(`mutation {
          insert_products_one(
            object: { id: 7, sku: "CB-USB", name: "Renamed", category: "accessories", price: 9.99 }
            on_conflict: { constraint: products_pkey, update_columns: [price] }
          ) { id name price in_stock }
        }`),
      ).toEqual({ insert_products_one: { id: 7, name: 'USB-C Cable 2m', price: 9.99, in_stock: true } });
    });

    it('does nothing when no columns are to be updated', async () => {
      expect(
        await data(`mutation {
          insert_products(
            objects: [{ id: 7, sku: "CB-USB", name: "Renamed", category: "accessories", price: 9.99 }]
            on_conflict: { constraint: products_pkey, update_columns: [] }
          ) { affected_rows }
        }`),
      ).toEqual({ insert_products: { affected_rows: 0 } });
      expect(await data('{ products_by_pk(id: 7) { price } }')).toEqual({ products_by_pk: { price: 12.5 } });
    });

    it('skips conflicting rows that fail the conflict filter', async () => {
      expect(
        await data(`mutation {
          insert_products(
            objects: [{ id: 4, sku: "MN-340", name: "34in", category: "displays", price: 1 }]
            on_conflict: { constraint: products_pkey, update_columns: [price], where: { in_stock: { _eq: true } } }
          ) { affected_rows }
        }`),
      ).toEqual({ insert_products: { affected_rows: 0 } });
    });
  });
});

describe('update_<table>', () => {
  it('applies _set and _inc to the rows matching where', async () => {
    expect(
      await data(`mutation {
        update_orders(where: { status: { _eq: "pending" } }, _set: { status: "paid" }, _inc: { total: 10 }) {
          affected_rows
          returning { id status total }
        }
      }`),
    ).toEqual({
      update_orders: {
        affected_rows: 2,
        returning: [
          { id: 6, status: 'paid', total: 163 },
          { id: 11, status: 'paid', total: 134 },
        ],
      },
    });
    expect(
      await data('{ orders_aggregate(where: { status: { _eq: "pending" } }) { aggregate { count } } }'),
    ).toEqual({
      orders_aggregate: { aggregate: { count: 0 } },
    });
  });

  it('rejects a column in both _set and _inc', async () => {
    const error = await firstError(
      'mutation { update_orders(where: {}, _set: { total: 1 }, _inc: { total: 1 }) { affected_rows } }',
    );
    expect(error?.message).toBe('column found in multiple operators; "total" in _set, _inc operators');
    expect(error?.extensions?.code).toBe('validation-failed');
  });

  it('requires where', async () => {
    const { body } = await postGraphQL(
      hasura.url,
      'mutation { update_orders(_set: { note: "x" }) { affected_rows } }',
    );
    expect(body.errors?.[0]?.message).toBe(
      'Field "update_orders" argument "where" of type "orders_bool_exp!" is required, but it was not provided.',
    );
  });

  it('rejects an increment out of the Int range', async () => {
    const error = await firstError(
      'mutation { update_reviews_by_pk(pk_columns: { id: 1 }, _inc: { rating: 2147483647 }) { rating } }',
    );
    expect(error?.message).toBe('integer out of range');
    expect(error?.extensions?.code).toBe('data-exception');
  });
});

describe('update_<table>_by_pk', () => {
  it('updates the row with that key, or returns null', async () => {
    expect(
      await data(
        'mutation { update_products_by_pk(pk_columns: { id: 4 }, _set: { in_stock: true }) { id in_stock } }',
      ),
    ).toEqual({ update_products_by_pk: { id: 4, in_stock: true } });
    expect(
      await data(
        'mutation { update_products_by_pk(pk_columns: { id: 99 }, _set: { in_stock: true }) { id } }',
      ),
    ).toEqual({ update_products_by_pk: null });
  });

  it('rejects a key change onto an existing key', async () => {
    const error = await firstError(
      'mutation { update_customers_by_pk(pk_columns: { id: 1 }, _set: { id: 2 }) { id } }',
    );
    expect(error?.message).toBe(
      'Uniqueness violation. duplicate key value violates unique constraint "customers_pkey"',
    );
  });
});

describe('update_<table>_many', () => {
  it('applies the updates in order, each seeing the ones before', async () => {
    expect(
      await data(`mutation {
        update_orders_many(updates: [
          { where: { id: { _eq: 1 } }, _set: { note: "first" } }
          { where: { note: { _eq: "first" } }, _set: { status: "returned" } }
        ]) { affected_rows }
      }`),
    ).toEqual({ update_orders_many: [{ affected_rows: 1 }, { affected_rows: 1 }] });
    expect(await data('{ orders_by_pk(id: 1) { status note } }')).toEqual({
      orders_by_pk: { status: 'returned', note: 'first' },
    });
  });
});

describe('delete_<table>', () => {
  it('deletes the rows matching where and returns them', async () => {
    expect(
      await data(
        'mutation { delete_reviews(where: { rating: { _lt: 3 } }) { affected_rows returning { id rating } } }',
      ),
    ).toEqual({
      delete_reviews: {
        affected_rows: 2,
        returning: [
          { id: 6, rating: 2 },
          { id: 10, rating: 1 },
        ],
      },
    });
    expect(hasura.data.reviews?.map((review) => review.id)).toEqual([1, 2, 3, 4, 5, 7, 8, 9]);
  });
});

describe('delete_<table>_by_pk', () => {
  it('deletes the row with that key once, then returns null', async () => {
    const mutation =
      'mutation { delete_order_items_by_pk(order_id: 1, product_id: 2) { quantity product { name } } }';
    expect(await data(mutation)).toEqual({
      delete_order_items_by_pk: { quantity: 1, product: { name: 'Wireless Mouse' } },
    });
    expect(await data(mutation)).toEqual({ delete_order_items_by_pk: null });
    expect(await data('{ orders_by_pk(id: 1) { order_items { product_id } } }')).toEqual({
      orders_by_pk: { order_items: [{ product_id: 1 }] },
    });
  });
});

describe('a mutation operation', () => {
  describe('when one of its root fields fails', () => {
    it('rolls back the others and returns only errors, as Hasura does in one transaction', async () => {
      const { body } = await postGraphQL(
        hasura.url,
        `mutation {
          delete_reviews(where: {}) { affected_rows }
          insert_customers_one(object: { id: 1, name: "Dup", email: "dup@example.com", country: "GB" }) { id }
        }`,
      );
      expect(body).toEqual({
        errors: [
          expect.objectContaining({
            message: 'Uniqueness violation. duplicate key value violates unique constraint "customers_pkey"',
          }),
        ],
      });
      expect(hasura.data.reviews).toHaveLength(10);
    });
  });
});
