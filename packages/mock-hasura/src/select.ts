// The select pipeline Hasura compiles to SQL: WHERE, ORDER BY (with nulls placement), DISTINCT ON, OFFSET, LIMIT.

import { aggregateColumn, type ColumnAggregate } from './aggregate.js';
import { type BoolExp, type ExpressionPath, filterRows } from './bool-exp.js';
import { hasuraError } from './hasura-error.js';
import { compareCells } from './scalars.js';
import { type CellValue, type ColumnType, type Row, relationshipOf, type TableSpec } from './spec.js';
import type { Store } from './store.js';

/** The arguments every list field takes: `where`, `order_by`, `distinct_on`, `limit`, `offset`. */
export interface SelectArguments {
  readonly where?: BoolExp | null;
  readonly order_by?: unknown;
  readonly distinct_on?: readonly string[] | null;
  readonly limit?: number | null;
  readonly offset?: number | null;
}

type Direction =
  | 'asc'
  | 'asc_nulls_first'
  | 'asc_nulls_last'
  | 'desc'
  | 'desc_nulls_first'
  | 'desc_nulls_last';

interface SortKey {
  readonly value: (row: Row) => CellValue;
  readonly type: ColumnType;
  readonly direction: Direction;
  /** The column name when the key is a plain column of the selected table (DISTINCT ON must match these). */
  readonly column?: string;
}

/** The rows `arguments` select from `candidates`, in order. */
export function selectRows(
  store: Store,
  table: TableSpec,
  candidates: readonly Row[],
  args: SelectArguments,
  at: ExpressionPath,
): Row[] {
  for (const name of ['limit', 'offset'] as const) {
    const value = args[name];
    if (typeof value === 'number' && value < 0) {
      throw hasuraError(`unexpected negative value for "${name}"`, 'validation-failed', `${at.path}.${name}`);
    }
  }
  let rows = filterRows(store, table, candidates, args.where, { path: `${at.path}.where` });
  const keys = sortKeys(store, table, toList(args.order_by));
  if (keys.length > 0) rows.sort((left, right) => compareRows(left, right, keys));
  const distinct = args.distinct_on ?? [];
  if (distinct.length > 0) {
    checkDistinctMatchesOrder(distinct, keys, at);
    const seen = new Set<string>();
    rows = rows.filter((row) => {
      const key = JSON.stringify(distinct.map((column) => row[column] ?? null));
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }
  const offset = args.offset ?? 0;
  const end = args.limit === null || args.limit === undefined ? undefined : offset + args.limit;
  return offset > 0 || end !== undefined ? rows.slice(offset, end) : rows;
}

function toList(value: unknown): Record<string, unknown>[] {
  if (value === null || value === undefined) return [];
  return (Array.isArray(value) ? value : [value]) as Record<string, unknown>[];
}

function sortKeys(store: Store, table: TableSpec, orderBy: readonly Record<string, unknown>[]): SortKey[] {
  const keys: SortKey[] = [];
  for (const item of orderBy) {
    for (const [field, value] of Object.entries(item)) {
      if (value === null || value === undefined) continue;
      const relationship = relationshipOf(table, field);
      if (relationship) {
        // Object relationship: order by the related row's fields (null when there is none).
        const remote = store.table(relationship.table);
        for (const key of sortKeys(store, remote, toList(value))) {
          keys.push({
            type: key.type,
            direction: key.direction,
            value: (row) => {
              const related = store.related(relationship, row)[0];
              return related ? key.value(related) : null;
            },
          });
        }
        continue;
      }
      const aggregated = field.endsWith('_aggregate')
        ? relationshipOf(table, field.slice(0, -10))
        : undefined;
      if (aggregated) {
        const remote = store.table(aggregated.table);
        for (const [operation, operand] of Object.entries(value as Record<string, unknown>)) {
          if (operand === null || operand === undefined) continue;
          if (operation === 'count') {
            keys.push({
              type: 'Int',
              direction: operand as Direction,
              value: (row) => store.related(aggregated, row).length,
            });
            continue;
          }
          for (const [columnName, direction] of Object.entries(operand as Record<string, unknown>)) {
            if (direction === null || direction === undefined) continue;
            const column = remote.columns.find((candidate) => candidate.name === columnName);
            if (!column) continue;
            const type: ColumnType =
              operation === 'min' || operation === 'max' || operation === 'sum' ? column.type : 'Float';
            keys.push({
              type,
              direction: direction as Direction,
              value: (row) =>
                aggregateColumn(operation as ColumnAggregate, store.related(aggregated, row), column),
            });
          }
        }
        continue;
      }
      const column = table.columns.find((candidate) => candidate.name === field);
      if (!column) continue;
      keys.push({
        type: column.type,
        direction: value as Direction,
        column: column.name,
        value: (row) => row[field] ?? null,
      });
    }
  }
  return keys;
}

function compareRows(left: Row, right: Row, keys: readonly SortKey[]): number {
  for (const key of keys) {
    const leftValue = key.value(left);
    const rightValue = key.value(right);
    const descending = key.direction.startsWith('desc');
    // Postgres puts nulls last ascending and first descending unless told otherwise.
    const nullsFirst = key.direction.endsWith('nulls_first') || key.direction === 'desc';
    if (leftValue === null || rightValue === null) {
      if (leftValue === rightValue) continue;
      return (leftValue === null) === nullsFirst ? -1 : 1;
    }
    const order = compareCells(leftValue, rightValue, key.type);
    if (order !== 0) return descending ? -order : order;
  }
  return 0;
}

function checkDistinctMatchesOrder(
  distinct: readonly string[],
  keys: readonly SortKey[],
  at: ExpressionPath,
): void {
  // As in Postgres: the leading ORDER BY items, as many as there are DISTINCT ON columns, must be those columns.
  const columns = new Set(distinct);
  const leading = keys.slice(0, distinct.length);
  if (leading.some((key) => key.column === undefined || !columns.has(key.column))) {
    throw hasuraError(
      '"distinct_on" columns must match initial "order_by" columns',
      'validation-failed',
      `${at.path}.distinct_on`,
    );
  }
}
