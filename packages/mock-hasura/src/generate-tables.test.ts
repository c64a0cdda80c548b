import { graphql, printSchema, validateSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { generateTables } from './generate-tables.js';
import { postGraphQL } from './http-test-client.js';
import { startMockHasura } from './mock-hasura.js';
import { buildHasuraSchema } from './schema.js';

describe('generateTables', () => {
  describe('when asked for 50 tables', () => {
    const tables = generateTables(50);

    it('gives 50 uniquely named tables of 5 to 15 columns with an id primary key', () => {
      expect(tables).toHaveLength(50);
      expect(new Set(tables.map((table) => table.name)).size).toBe(50);
      for (const table of tables) {
        expect(table.columns.length).toBeGreaterThanOrEqual(5);
        expect(table.columns.length).toBeLessThanOrEqual(15);
        expect(table.primaryKey).toEqual(['id']);
      }
      const sizes = new Set(tables.map((table) => table.columns.length));
      expect(sizes.size).toBeGreaterThan(5);
    });

    it('relates each table to its neighbours both ways', () => {
      for (const [index, table] of tables.entries()) {
        const previous = tables[index - 1];
        const next = tables[index + 1];
        const kinds = (table.relationships ?? []).map((relationship) => [
          relationship.kind,
          relationship.table,
        ]);
        if (previous) expect(kinds).toContainEqual(['object', previous.name]);
        if (next) expect(kinds).toContainEqual(['array', next.name]);
      }
    });

    it('is deterministic, and the first n tables do not depend on how many follow', () => {
      expect(generateTables(50)).toEqual(tables);
      expect(generateTables(10)).toEqual(
        tables.slice(0, 10).map((table, index) =>
          index === 9
            ? {
                ...table,
                relationships: table.relationships?.filter((relationship) => relationship.kind === 'object'),
              }
            : table,
        ),
      );
    });

    it('builds a valid schema with every table queryable', async () => {
      const schema = buildHasuraSchema(tables);
      expect(validateSchema(schema)).toEqual([]);
      const rootFields = Object.keys(schema.getQueryType()?.getFields() ?? {});
      expect(rootFields).toHaveLength(150);
      for (const table of tables) expect(rootFields).toContain(`${table.name}_by_pk`);
      expect(printSchema(schema).length).toBeGreaterThan(100_000);
      const [first, second] = tables;
      const result = await graphql({
        schema,
        source: `{ ${first?.name}(limit: 1) { id ${second?.name}(where: { id: { _gt: 0 } }) { id } } }`,
      });
      expect(result).toEqual({ data: { [first?.name ?? '']: [] } });
    });
  });

  describe('when served with rows', () => {
    it('answers queries across a relationship', async () => {
      const tables = generateTables(3);
      const [first, second] = tables;
      if (!first || !second) throw new Error('expected two tables');
      const foreignKey = Object.keys(second.relationships?.[0]?.mapping ?? {})[0] ?? '';
      const fill = (columns: typeof first.columns, id: number, extra: Record<string, number>) =>
        Object.fromEntries(
          columns.map((column) => {
            const value = {
              Int: id,
              String: `v${id}`,
              Boolean: true,
              Float: 1.5,
              numeric: 2,
              timestamptz: '2024-01-01T00:00:00+00:00',
            }[column.type];
            return [column.name, extra[column.name] ?? value];
          }),
        );
      const hasura = await startMockHasura({
        tables,
        rows: {
          [first.name]: [fill(first.columns, 1, {})],
          [second.name]: [
            fill(second.columns, 7, { [foreignKey]: 1 }),
            fill(second.columns, 8, { [foreignKey]: 1 }),
          ],
        },
      });
      try {
        const { body } = await postGraphQL(
          hasura.url,
          `{ ${first.name} { id ${second.name}_aggregate { aggregate { count } } ${second.name}(order_by: { id: desc }) { id } } }`,
        );
        expect(body).toEqual({
          data: {
            [first.name]: [
              {
                id: 1,
                [`${second.name}_aggregate`]: { aggregate: { count: 2 } },
                [second.name]: [{ id: 8 }, { id: 7 }],
              },
            ],
          },
        });
      } finally {
        await hasura.close();
      }
    });
  });

  describe('when n is not a non-negative integer', () => {
    it('throws a RangeError', () => {
      expect(() => generateTables(-1)).toThrow(RangeError);
      expect(() => generateTables(1.5)).toThrow(RangeError);
      expect(generateTables(0)).toEqual([]);
    });
  });
});
