// The in-memory dataset a schema resolves over: the live rows per table and relationship lookups.

import { formatTimestamp } from './scalars.js';
import {
  type CellValue,
  type ColumnSpec,
  indexTables,
  type RelationshipSpec,
  type Row,
  type Rows,
  type TableSpec,
} from './spec.js';

/** The live rows plus the table specs; every resolver reads and writes through one store. */
export class Store {
  readonly tables: ReadonlyMap<string, TableSpec>;
  readonly data: Rows;
  /** The last serial issued per `table.column`, so a deleted maximum is not issued again (as with a sequence). */
  readonly serials = new Map<string, number>();

  constructor(tables: readonly TableSpec[], data: Rows) {
    this.tables = indexTables(tables);
    this.data = data;
    for (const table of tables) this.fill(table, this.rowsOf(table.name));
  }

  /** The spec of a table the schema was built from. */
  table(name: string): TableSpec {
    const table = this.tables.get(name);
    if (!table) throw new Error(`mock-hasura: unknown table "${name}"`);
    return table;
  }

  /** The live row array of a table (created empty if someone replaced the dataset's entry with nothing). */
  rowsOf(name: string): Row[] {
    let rows = this.data[name];
    if (rows === undefined) {
      rows = [];
      this.data[name] = rows;
    }
    return rows;
  }

  /** The remote rows a relationship reaches from `row`, in storage order (none when a local column is null). */
  related(relationship: RelationshipSpec, row: Row): Row[] {
    const pairs = Object.entries(relationship.mapping);
    const locals = pairs.map(([local]) => row[local] ?? null);
    if (locals.some((value) => value === null)) return [];
    return this.rowsOf(relationship.table).filter((remote) =>
      pairs.every(([, remoteColumn], index) => remote[remoteColumn] === locals[index]),
    );
  }

  /** Replaces every table's rows in place with copies of `rows`, so held references to `data` stay live. */
  replaceAll(rows: Readonly<Record<string, readonly Row[]>>): void {
    this.serials.clear();
    for (const table of this.tables.values()) {
      const copies = (rows[table.name] ?? []).map((row) => ({ ...row }));
      this.rowsOf(table.name).splice(0, Number.POSITIVE_INFINITY, ...copies);
      this.fill(table, this.rowsOf(table.name));
    }
  }

  /** A copy of every table's rows (by reference and by value), for {@link Store.restore}. */
  snapshot(): Map<string, [Row, Row][]> {
    const snapshot = new Map<string, [Row, Row][]>();
    for (const name of this.tables.keys()) {
      snapshot.set(
        name,
        this.rowsOf(name).map((row): [Row, Row] => [row, { ...row }]),
      );
    }
    return snapshot;
  }

  /** Rolls every table back to a snapshot, in place: the same row objects, with their old values. */
  restore(snapshot: ReadonlyMap<string, readonly (readonly [Row, Row])[]>): void {
    for (const [name, rows] of snapshot) {
      for (const [row, values] of rows) Object.assign(row, values);
      this.rowsOf(name).splice(0, Number.POSITIVE_INFINITY, ...rows.map(([row]) => row));
    }
  }

  /** The next value of a serial column: above both the last one issued and every stored value. */
  nextSerial(table: TableSpec, column: string): number {
    const key = `${table.name}.${column}`;
    let next = (this.serials.get(key) ?? 0) + 1;
    for (const row of this.rowsOf(table.name)) {
      const value = row[column];
      if (typeof value === 'number' && value >= next) next = value + 1;
    }
    this.serials.set(key, next);
    return next;
  }

  /** Fills columns the seed rows leave out (defaults, else null) and checks them like a database would. */
  private fill(table: TableSpec, rows: Row[]): void {
    const known = new Set(table.columns.map((column) => column.name));
    const keys = new Set<string>();
    for (const row of rows) {
      for (const name of Object.keys(row)) {
        if (!known.has(name))
          throw new Error(`mock-hasura: a "${table.name}" row has unknown column "${name}"`);
      }
      for (const column of table.columns) {
        if (row[column.name] === undefined) row[column.name] = defaultValue(this, table, column);
        if (!column.nullable && row[column.name] === null) {
          throw new Error(
            `mock-hasura: a "${table.name}" row has null in non-nullable column "${column.name}"`,
          );
        }
      }
      if (table.primaryKey.length > 0) {
        const key = JSON.stringify(table.primaryKey.map((name) => row[name]));
        if (keys.has(key)) throw new Error(`mock-hasura: duplicate primary key ${key} in "${table.name}"`);
        keys.add(key);
      }
    }
  }
}

/** What a column left out of an insert gets: its default, else null. */
export function defaultValue(store: Store, table: TableSpec, column: ColumnSpec): CellValue {
  const preset = column.default;
  if (preset === undefined) return null;
  if (preset === 'autoincrement') return store.nextSerial(table, column.name);
  if (preset === 'now') return formatTimestamp(Date.now());
  return preset.value;
}
