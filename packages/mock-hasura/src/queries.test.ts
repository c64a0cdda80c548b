import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultDataset } from './default-dataset.js';
import { postGraphQL } from './http-test-client.js';
import { type MockHasura, startMockHasura } from './mock-hasura.js';

let hasura: MockHasura;

beforeAll(async () => {
  hasura = await startMockHasura(defaultDataset());
});

afterAll(async () => {
  await hasura.close();
});

/** Runs a query that must succeed and returns its data. */
async function data<T = Record<string, unknown>>(
  query: string,
  variables?: Record<string, unknown>,
): Promise<T> {
  const { status, body } = await postGraphQL<T>(hasura.url, query, variables);
  expect(status).toBe(200);
  expect(body.errors).toBeUndefined();
  return body.data as T;
}

/** Runs a query that must fail and returns its errors. */
async function errors(query: string, variables?: Record<string, unknown>) {
  const { status, body } = await postGraphQL(hasura.url, query, variables);
  expect(status).toBe(200);
  expect(body.errors?.length).toBeGreaterThan(0);
  return body.errors ?? [];
}

/** The ids a list query returns, in order. */
async function ids(query: string, variables?: Record<string, unknown>): Promise<number[]> {
  const result = await data<Record<string, { id: number }[]>>(query, variables);
  const [rows] = Object.values(result);
  return (rows ?? []).map((row) => row.id);
}

describe('<table>(where)', () => {
  describe('when comparing columns', () => {
    it('filters with _eq, _gt, _in and _nin', async () => {
      expect(
        await ids('{ customers(where: { country: { _eq: "GB" } }, order_by: { id: asc }) { id } }'),
      ).toEqual([1, 3]);
      expect(await ids('{ products(where: { price: { _gt: 200 } }, order_by: { id: asc }) { id } }')).toEqual(
        [3, 4, 5, 8],
      );
      expect(
        await ids(
          '{ orders(where: { status: { _in: ["paid", "pending"] } }, order_by: { id: asc }) { id } }',
        ),
      ).toEqual([4, 6, 10, 11]);
      expect(
        await ids(
          '{ orders(where: { status: { _nin: ["paid", "pending"] } }, order_by: { id: asc }) { id } }',
        ),
      ).toEqual([1, 2, 3, 5, 7, 8, 9, 12]);
    });

    it('combines several operators on one column with AND', async () => {
      expect(
        await ids(
          '{ products(where: { price: { _gte: 74, _lte: 219, _neq: 129.9 } }, order_by: { id: asc }) { id } }',
        ),
      ).toEqual([6, 8, 9]);
    });

    it('matches text with _like, _ilike, _nilike, _regex and _similar', async () => {
      const query = '{ products(where: { name: $PATTERN }, order_by: { id: asc }) { id } }';
      const byName = (pattern: string) => ids(query.replace('$PATTERN', pattern));
      expect(await byName('{ _ilike: "%monitor%" }')).toEqual([3, 4]);
      expect(await byName('{ _like: "%monitor%" }')).toEqual([]);
      expect(await byName('{ _nilike: "%o%" }')).toEqual([6, 7, 9]);
      expect(await byName('{ _nlike: "%o%" }')).toEqual([6, 7, 9]);
      expect(
        await ids('{ products(where: { sku: { _like: "MN-___" } }, order_by: { id: asc }) { id } }'),
      ).toEqual([3, 4]);
      expect(
        await ids('{ products(where: { sku: { _regex: "^(KB|MS)-" } }, order_by: { id: asc }) { id } }'),
      ).toEqual([1, 2]);
      expect(
        await ids('{ products(where: { sku: { _similar: "(KB|MS)-%" } }, order_by: { id: asc }) { id } }'),
      ).toEqual([1, 2]);
      expect(await ids('{ products(where: { sku: { _iregex: "^kb" } }) { id } }')).toEqual([1]);
    });

    it('finds nulls with _is_null', async () => {
      expect(
        await ids('{ customers(where: { phone: { _is_null: true } }, order_by: { id: asc }) { id } }'),
      ).toEqual([2, 5, 7]);
      expect(
        await ids('{ customers(where: { phone: { _is_null: false } }, order_by: { id: asc }) { id } }'),
      ).toEqual([1, 3, 4, 6, 8]);
    });

    it('compares timestamptz as instants and accepts numeric strings', async () => {
      expect(
        await ids(
          '{ orders(where: { placed_at: { _gte: "2024-03-01", _lt: "2024-03-10T00:00:00Z" } }, order_by: { id: asc }) { id } }',
        ),
      ).toEqual([4, 5, 8]);
      expect(await ids('{ orders(where: { total: { _gt: "500" } }, order_by: { id: asc }) { id } }')).toEqual(
        [2, 4, 5, 9],
      );
    });

    it('takes the expression from a variable', async () => {
      const query =
        'query ($where: customers_bool_exp!) { customers(where: $where, order_by: { id: asc }) { id } }';
      expect(await ids(query, { where: { vip: { _eq: true }, country: { _eq: 'US' } } })).toEqual([2, 6]);
    });
  });

  describe('when combining expressions', () => {
    it('supports _and, _or and _not', async () => {
      expect(
        await ids(`{ customers(
          where: { _or: [{ country: { _eq: "NL" } }, { _and: [{ vip: { _eq: true } }, { country: { _eq: "US" } }] }] }
          order_by: { id: asc }
        ) { id } }`),
      ).toEqual([2, 5, 6]);
      expect(
        await ids('{ customers(where: { _not: { country: { _eq: "US" } } }, order_by: { id: asc }) { id } }'),
      ).toEqual([1, 3, 5]);
    });

    it('treats an empty _or as false and an empty _and as true', async () => {
      expect(await ids('{ customers(where: { _or: [] }) { id } }')).toEqual([]);
      expect(await ids('{ customers(where: { _and: [] }) { id } }')).toHaveLength(8);
    });

    it('drops rows whose comparison is unknown under _not, as SQL does', async () => {
      // Customers 2, 5 and 7 have no phone: NOT (NULL LIKE '+44%') is NULL, so they are not returned.
      expect(
        await ids(
          '{ customers(where: { _not: { phone: { _like: "+44%" } } }, order_by: { id: asc }) { id } }',
        ),
      ).toEqual([4, 6, 8]);
    });
  });

  describe('when filtering on relationships', () => {
    it('filters through an object relationship', async () => {
      expect(
        await ids(
          '{ orders(where: { customer: { country: { _eq: "GB" } } }, order_by: { id: asc }) { id } }',
        ),
      ).toEqual([1, 2, 4, 5]);
    });

    it('keeps rows with at least one matching row through an array relationship', async () => {
      expect(await ids('{ customers(where: { orders: { status: { _eq: "cancelled" } } }) { id } }')).toEqual([
        3,
      ]);
      expect(
        await ids(
          '{ customers(where: { reviews: { product: { category: { _eq: "audio" } } } }, order_by: { id: asc }) { id } }',
        ),
      ).toEqual([2, 5, 6]);
    });

    it('filters on the count of an array relationship with <rel>_aggregate', async () => {
      expect(
        await ids(
          '{ customers(where: { orders_aggregate: { count: { predicate: { _gte: 2 } } } }, order_by: { id: asc }) { id } }',
        ),
      ).toEqual([1, 2, 3, 5, 6]);
      expect(
        await ids(`{ customers(
          where: { orders_aggregate: { count: { predicate: { _eq: 0 }, filter: { status: { _eq: "delivered" } } } } }
          order_by: { id: asc }
        ) { id } }`),
      ).toEqual([3, 4, 7, 8]);
    });
  });

  describe('when the expression is invalid', () => {
    it('rejects a null operand the way Hasura v2 does', async () => {
      const [error] = await errors('{ customers(where: { phone: { _eq: null } }) { id } }');
      expect(error?.message).toBe('unexpected null value for type "String"');
      expect(error?.extensions?.code).toBe('validation-failed');
    });

    it('rejects an unknown column as a validation error', async () => {
      const [error] = await errors('{ customers(where: { nickname: { _eq: "x" } }) { id } }');
      expect(error?.message).toBe(
        'Field "nickname" is not defined by type "customers_bool_exp". Did you mean "name"?',
      );
      expect(error?.extensions?.code).toBe('validation-failed');
    });
  });
});

describe('<table>(order_by)', () => {
  describe('when the column has nulls', () => {
    it('puts nulls last ascending and first descending, unless told otherwise', async () => {
      const ordered = (direction: string) =>
        ids(`{ customers(order_by: [{ phone: ${direction} }, { id: asc }]) { id } }`);
      expect(await ordered('asc')).toEqual([4, 6, 8, 3, 1, 2, 5, 7]);
      expect(await ordered('desc')).toEqual([2, 5, 7, 1, 3, 8, 6, 4]);
      expect(await ordered('asc_nulls_first')).toEqual([2, 5, 7, 4, 6, 8, 3, 1]);
      expect(await ordered('asc_nulls_last')).toEqual([4, 6, 8, 3, 1, 2, 5, 7]);
      expect(await ordered('desc_nulls_first')).toEqual([2, 5, 7, 1, 3, 8, 6, 4]);
      expect(await ordered('desc_nulls_last')).toEqual([1, 3, 8, 6, 4, 2, 5, 7]);
    });
  });

  describe('when one object has several keys', () => {
    it('orders by the keys in the order the query wrote them', async () => {
      expect(await ids('{ products(order_by: { category: asc, price: desc }) { id } }')).toEqual([
        8, 10, 7, 5, 6, 4, 3, 1, 9, 2,
      ]);
      expect(await ids('{ products(order_by: { price: desc, category: asc }) { id } }')).toEqual([
        4, 3, 5, 8, 1, 6, 9, 10, 2, 7,
      ]);
    });

    it('keeps the key order of a variable', async () => {
      const query = 'query ($order: [products_order_by!]) { products(order_by: $order) { id } }';
      expect(await ids(query, { order: { price: 'desc', category: 'asc' } })).toEqual([
        4, 3, 5, 8, 1, 6, 9, 10, 2, 7,
      ]);
    });
  });

  describe('when ordering through relationships', () => {
    it('orders by a column of an object relationship', async () => {
      expect(await ids('{ orders(order_by: [{ customer: { name: asc } }, { id: asc }]) { id } }')).toEqual([
        1, 2, 4, 5, 8, 9, 10, 7, 12, 3, 11, 6,
      ]);
    });

    it('orders by an aggregate of an array relationship', async () => {
      expect(
        await ids(
          '{ customers(order_by: [{ orders_aggregate: { count: desc } }, { id: asc }], limit: 3) { id } }',
        ),
      ).toEqual([6, 1, 2]);
      expect(
        await ids(
          '{ customers(order_by: [{ orders_aggregate: { sum: { total: desc_nulls_last } } }, { id: asc }]) { id } }',
        ),
      ).toEqual([3, 6, 1, 2, 4, 5, 7, 8]);
    });
  });
});

describe('<table>(limit, offset, distinct_on)', () => {
  it('pages with limit and offset', async () => {
    expect(await ids('{ orders(order_by: { id: asc }, limit: 3, offset: 2) { id } }')).toEqual([3, 4, 5]);
    expect(await ids('{ orders(order_by: { id: asc }, offset: 10) { id } }')).toEqual([11, 12]);
    expect(await ids('{ orders(limit: 0) { id } }')).toEqual([]);
  });

  it('keeps the first row of each distinct_on group, then pages', async () => {
    expect(
      await ids(
        '{ orders(distinct_on: [customer_id], order_by: [{ customer_id: asc }, { placed_at: desc }]) { id } }',
      ),
    ).toEqual([2, 11, 5, 6, 12, 10]);
    expect(
      await ids(
        '{ products(distinct_on: category, order_by: [{ category: asc }, { price: asc }], limit: 2) { id } }',
      ),
    ).toEqual([7, 6]);
  });

  it('rejects distinct_on columns that do not lead the order_by', async () => {
    const [error] = await errors(
      '{ orders(distinct_on: [customer_id], order_by: { placed_at: desc }) { id } }',
    );
    expect(error?.message).toBe('"distinct_on" columns must match initial "order_by" columns');
    expect(error?.extensions?.code).toBe('validation-failed');
  });

  it('rejects a negative limit', async () => {
    const [error] = await errors('{ orders(limit: -1) { id } }');
    expect(error?.extensions?.code).toBe('validation-failed');
  });
});

describe('<table>_by_pk', () => {
  it('returns the row with that key, or null', async () => {
    expect(await data('{ customers_by_pk(id: 3) { name } }')).toEqual({
      customers_by_pk: { name: 'Alan Turing' },
    });
    expect(await data('{ customers_by_pk(id: 99) { name } }')).toEqual({ customers_by_pk: null });
  });

  it('takes every column of a composite key', async () => {
    expect(await data('{ order_items_by_pk(order_id: 2, product_id: 7) { quantity unit_price } }')).toEqual({
      order_items_by_pk: { quantity: 3, unit_price: 12.5 },
    });
  });

  it('requires the key arguments', async () => {
    const [error] = await errors('{ order_items_by_pk(order_id: 2) { quantity } }');
    expect(error?.message).toBe(
      'Field "order_items_by_pk" argument "product_id" of type "Int!" is required, but it was not provided.',
    );
  });
});

describe('<table>_aggregate', () => {
  it('computes count, sum, avg, min and max', async () => {
    expect(
      await data(`{ products_aggregate {
        aggregate {
          count
          with_weight: count(columns: [weight_kg])
          categories: count(columns: [category], distinct: true)
          sum { price }
          avg { price }
          min { price name }
          max { price weight_kg }
        }
      } }`),
    ).toEqual({
      products_aggregate: {
        aggregate: {
          count: 10,
          with_weight: 8,
          categories: 4,
          sum: { price: 1806.89 },
          avg: { price: 180.689 },
          min: { price: 12.5, name: '27" 4K Monitor' },
          max: { price: 599, weight_kg: 8.7 },
        },
      },
    });
  });

  it('aggregates the rows the arguments select and returns them as nodes', async () => {
    expect(
      await data(
        '{ reviews_aggregate(where: { product_id: { _eq: 5 } }, order_by: { id: asc }) { aggregate { count avg { rating } sum { rating } } nodes { id } } }',
      ),
    ).toEqual({
      reviews_aggregate: {
        aggregate: { count: 2, avg: { rating: 4 }, sum: { rating: 8 } },
        nodes: [{ id: 4 }, { id: 9 }],
      },
    });
  });

  it('computes variance and standard deviation, null for a sample of one', async () => {
    const result = await data<{
      one: { aggregate: Record<string, { rating: number | null }> };
      two: { aggregate: Record<string, { rating: number | null }> };
    }>(`{
      two: reviews_aggregate(where: { product_id: { _eq: 1 } }) {
        aggregate { var_pop { rating } var_samp { rating } variance { rating } stddev_pop { rating } stddev_samp { rating } stddev { rating } }
      }
      one: reviews_aggregate(where: { product_id: { _eq: 6 } }) { aggregate { stddev { rating } var_pop { rating } } }
    }`);
    expect(result.two.aggregate).toEqual({
      var_pop: { rating: 0.25 },
      var_samp: { rating: 0.5 },
      variance: { rating: 0.5 },
      stddev_pop: { rating: 0.5 },
      stddev_samp: { rating: expect.closeTo(Math.SQRT1_2, 12) },
      stddev: { rating: expect.closeTo(Math.SQRT1_2, 12) },
    });
    expect(result.one.aggregate).toEqual({ stddev: { rating: null }, var_pop: { rating: 0 } });
  });

  it('gives count 0 and null sums over no rows', async () => {
    expect(
      await data(
        '{ orders_aggregate(where: { status: { _eq: "lost" } }) { aggregate { count sum { total } max { placed_at } } } }',
      ),
    ).toEqual({
      orders_aggregate: { aggregate: { count: 0, sum: { total: null }, max: { placed_at: null } } },
    });
  });
});

describe('relationship fields', () => {
  it('resolves nested array relationships with their own arguments', async () => {
    expect(
      await data(`{
        customers(where: { id: { _in: [1, 6] } }, order_by: { id: asc }) {
          name
          orders(where: { status: { _neq: "cancelled" } }, order_by: { placed_at: desc }, limit: 2) {
            id
            order_items(order_by: [{ quantity: desc }, { product_id: asc }], limit: 1) { quantity product { name } }
          }
        }
      }`),
    ).toEqual({
      customers: [
        {
          name: 'Ada Lovelace',
          orders: [
            { id: 2, order_items: [{ quantity: 3, product: { name: 'USB-C Cable 2m' } }] },
            { id: 1, order_items: [{ quantity: 1, product: { name: 'Mechanical Keyboard' } }] },
          ],
        },
        {
          name: 'Barbara Liskov',
          orders: [
            { id: 10, order_items: [{ quantity: 1, product: { name: 'Thunderbolt Dock' } }] },
            { id: 8, order_items: [{ quantity: 2, product: { name: 'Noise-Cancelling Headphones' } }] },
          ],
        },
      ],
    });
  });

  it('aggregates an array relationship with <rel>_aggregate', async () => {
    expect(
      await data(
        '{ customers_by_pk(id: 6) { orders_aggregate { aggregate { count sum { total } max { placed_at } } } } }',
      ),
    ).toEqual({
      customers_by_pk: {
        orders_aggregate: {
          aggregate: { count: 3, sum: { total: 1285.9 }, max: { placed_at: '2024-03-12T20:05:00+00:00' } },
        },
      },
    });
  });

  it('returns an empty list for a row with no related rows', async () => {
    expect(await data('{ customers_by_pk(id: 7) { orders { id } } }')).toEqual({
      customers_by_pk: { orders: [] },
    });
  });
});
