// Aggregate functions over a set of rows, with Postgres' results for empty and all-null inputs.

import { compareCells } from './scalars.js';
import type { CellValue, ColumnSpec, Row } from './spec.js';

/** The aggregate functions Hasura exposes per numeric column (each returns Float, except `sum`). */
export const NUMERIC_AGGREGATES = [
  'avg',
  'stddev',
  'stddev_pop',
  'stddev_samp',
  'sum',
  'var_pop',
  'var_samp',
  'variance',
] as const;

/** The aggregate functions Hasura exposes per comparable column. */
export const COMPARABLE_AGGREGATES = ['max', 'min'] as const;

/** One of Hasura's per-column aggregate functions. */
export type ColumnAggregate = (typeof NUMERIC_AGGREGATES)[number] | (typeof COMPARABLE_AGGREGATES)[number];

/**
 * `count(*)` with no columns; with columns, the rows whose column values are not all null (one column:
 * `count(column)`), de-duplicated when `distinct`.
 */
export function countRows(rows: readonly Row[], columns: readonly string[], distinct: boolean): number {
  if (columns.length === 0) return rows.length;
  const counted = rows.filter((row) => columns.some((column) => (row[column] ?? null) !== null));
  if (!distinct) return counted.length;
  return new Set(counted.map((row) => JSON.stringify(columns.map((column) => row[column] ?? null)))).size;
}

/** An aggregate of one column over the rows: null when no row has a value (and for a sample of one). */
export function aggregateColumn(
  operation: ColumnAggregate,
  rows: readonly Row[],
  column: ColumnSpec,
): CellValue {
  const values = rows.map((row) => row[column.name] ?? null).filter((value) => value !== null);
  if (values.length === 0) return null;
  if (operation === 'min' || operation === 'max') {
    const sign = operation === 'min' ? 1 : -1;
    return values.reduce((best, value) => (sign * compareCells(value, best, column.type) < 0 ? value : best));
  }
  const result = numericAggregate(operation, values.map(Number));
  // Postgres computes Int and numeric aggregates in exact decimals: 0.1 + 0.2 is 0.3, not 0.30000000000000004.
  return result === null || column.type === 'Float' ? result : Number.parseFloat(result.toPrecision(15));
}

function numericAggregate(
  operation: (typeof NUMERIC_AGGREGATES)[number],
  numbers: readonly number[],
): number | null {
  const sum = numbers.reduce((total, value) => total + value, 0);
  if (operation === 'sum') return sum;
  const mean = sum / numbers.length;
  if (operation === 'avg') return mean;
  const squares = numbers.reduce((total, value) => total + (value - mean) ** 2, 0);
  if (operation === 'var_pop') return squares / numbers.length;
  if (operation === 'stddev_pop') return Math.sqrt(squares / numbers.length);
  if (numbers.length < 2) return null;
  const sampleVariance = squares / (numbers.length - 1);
  return operation === 'stddev' || operation === 'stddev_samp' ? Math.sqrt(sampleVariance) : sampleVariance;
}
