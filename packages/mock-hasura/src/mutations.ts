// Inserts, updates and deletes with the constraint checks Postgres makes (not-null, primary key, integer
// range), each all-or-nothing: a statement that fails changes nothing.

import { type BoolExp, evaluate } from './bool-exp.js';
import { hasuraError } from './hasura-error.js';
import { type CellValue, columnOf, type Row, type TableSpec } from './spec.js';
import { defaultValue, type Store } from './store.js';

/** A coerced `<table>_on_conflict`. */
export interface OnConflict {
  readonly constraint: string;
  readonly update_columns?: readonly string[] | null;
  readonly where?: BoolExp | null;
}

/** What a mutation did: the rows it inserted, updated or deleted (as they are now, or were when deleted). */
export interface MutationResult {
  readonly affected_rows: number;
  readonly returning: Row[];
}

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;

function primaryKeyOf(table: TableSpec, row: Row): string {
  return JSON.stringify(table.primaryKey.map((name) => row[name] ?? null));
}

function uniquenessViolation(table: TableSpec, path: string): Error {
  return hasuraError(
    `Uniqueness violation. duplicate key value violates unique constraint "${table.name}_pkey"`,
    'constraint-violation',
    path,
  );
}

function checkRow(table: TableSpec, row: Row, path: string): void {
  for (const column of table.columns) {
    const value = row[column.name] ?? null;
    if (value === null && !column.nullable) {
      throw hasuraError(
        `Not-NULL violation. null value in column "${column.name}" of relation "${table.name}" violates not-null constraint`,
        'constraint-violation',
        path,
      );
    }
    if (column.type === 'Int' && typeof value === 'number' && (value < INT_MIN || value > INT_MAX)) {
      throw hasuraError('integer out of range', 'data-exception', path);
    }
  }
}

/** `insert_<table>` / `insert_<table>_one`: new rows, or with `on_conflict` an upsert on the primary key. */
export function insertRows(
  store: Store,
  table: TableSpec,
  objects: readonly Row[],
  onConflict: OnConflict | null | undefined,
  path: string,
): MutationResult {
  const stored = store.rowsOf(table.name);
  const byKey = new Map<string, Row>();
  if (table.primaryKey.length > 0) for (const row of stored) byKey.set(primaryKeyOf(table, row), row);
  const inserts: Row[] = [];
  const updates: { row: Row; changes: Row }[] = [];
  const returning: Row[] = [];
  const touched = new Set<string>();
  for (const object of objects) {
    const row: Row = {};
    for (const column of table.columns) {
      const given = object[column.name];
      row[column.name] = given === undefined ? defaultValue(store, table, column) : given;
    }
    checkRow(table, row, path);
    if (table.primaryKey.length === 0) {
      inserts.push(row);
      returning.push(row);
      continue;
    }
    const key = primaryKeyOf(table, row);
    if (touched.has(key)) {
      throw onConflict
        ? hasuraError(
            'ON CONFLICT DO UPDATE command cannot affect row a second time',
            'constraint-violation',
            path,
          )
        : uniquenessViolation(table, path);
    }
    touched.add(key);
    const existing = byKey.get(key);
    if (!existing) {
      inserts.push(row);
      returning.push(row);
      continue;
    }
    if (!onConflict) throw uniquenessViolation(table, path);
    const columns = onConflict.update_columns ?? [];
    // DO NOTHING when no columns are to be updated or the existing row fails the conflict filter.
    if (columns.length === 0) continue;
    if (onConflict.where && evaluate(store, table, existing, onConflict.where, { path }) !== true) continue;
    const changes: Row = {};
    for (const name of columns) changes[name] = row[name] ?? null;
    updates.push({ row: existing, changes });
    returning.push(existing);
  }
  stored.push(...inserts);
  for (const { row, changes } of updates) Object.assign(row, changes);
  return { affected_rows: returning.length, returning };
}

/** The `_set` and `_inc` arguments of an update. */
export interface UpdateOperators {
  readonly _set?: Readonly<Record<string, CellValue>> | null;
  readonly _inc?: Readonly<Record<string, number>> | null;
}

/** `update_<table>*`: applies `_set` then `_inc` to `rows` (already selected by `where` or key). */
export function updateRows(
  store: Store,
  table: TableSpec,
  rows: readonly Row[],
  operators: UpdateOperators,
  path: string,
): MutationResult {
  const set = operators._set ?? {};
  const inc = operators._inc ?? {};
  for (const name of Object.keys(set)) {
    if (name in inc) {
      throw hasuraError(
        `column found in multiple operators; "${name}" in _set, _inc operators`,
        'validation-failed',
        path,
      );
    }
  }
  const planned = rows.map((row) => {
    const next: Row = { ...row, ...set };
    for (const [name, amount] of Object.entries(inc)) {
      const current = row[name] ?? null;
      next[name] =
        current === null ? null : roundLike(Number(current) + amount, columnOf(table, name).type === 'Float');
    }
    checkRow(table, next, path);
    return { row, next };
  });
  if (table.primaryKey.length > 0 && table.primaryKey.some((name) => name in set)) {
    const updated = new Set(rows);
    const keys = new Set<string>();
    for (const row of store.rowsOf(table.name)) if (!updated.has(row)) keys.add(primaryKeyOf(table, row));
    for (const { next } of planned) {
      const key = primaryKeyOf(table, next);
      if (keys.has(key)) throw uniquenessViolation(table, path);
      keys.add(key);
    }
  }
  for (const { row, next } of planned) Object.assign(row, next);
  return { affected_rows: rows.length, returning: [...rows] };
}

function roundLike(value: number, isFloat: boolean): number {
  return isFloat ? value : Number.parseFloat(value.toPrecision(15));
}

/** `delete_<table>*`: removes `rows` from the table, keeping the others in order. */
export function deleteRows(store: Store, table: TableSpec, rows: readonly Row[]): MutationResult {
  const doomed = new Set(rows);
  const stored = store.rowsOf(table.name);
  const kept = stored.filter((row) => !doomed.has(row));
  stored.splice(0, Number.POSITIVE_INFINITY, ...kept);
  return { affected_rows: rows.length, returning: [...rows] };
}

/** The row with these primary key values, if any. */
export function findByPrimaryKey(
  store: Store,
  table: TableSpec,
  key: Readonly<Record<string, unknown>>,
): Row | null {
  if (table.primaryKey.length === 0) return null;
  return (
    store.rowsOf(table.name).find((row) => table.primaryKey.every((name) => row[name] === key[name])) ?? null
  );
}
