// The table spec a schema is generated from, the dataset rows, and the spec's consistency checks.

/** A Postgres column type as Hasura exposes it: the GraphQL built-ins plus the `timestamptz` and `numeric` scalars. */
export type ColumnType = 'Int' | 'String' | 'Boolean' | 'Float' | 'timestamptz' | 'numeric';

/** A stored cell: `timestamptz` is an ISO string (`2024-03-01T09:30:00+00:00`), `numeric` a number. */
export type CellValue = string | number | boolean | null;

/** One table row, keyed by column name. */
export type Row = Record<string, CellValue>;

/** Rows per table name. */
export type Rows = Record<string, Row[]>;

/**
 * What an insert that leaves a column out stores: `'autoincrement'` (a serial: one more than the largest
 * value seen), `'now'` (the current time, for `timestamptz`) or a fixed value.
 */
export type ColumnDefault = 'autoincrement' | 'now' | { readonly value: CellValue };

/** A column of a table. */
export interface ColumnSpec {
  readonly name: string;
  readonly type: ColumnType;
  /** @default false */
  readonly nullable?: boolean;
  /** Filled in by inserts that leave the column out. */
  readonly default?: ColumnDefault;
  /** Shown as the field's description (Hasura shows the Postgres column comment). */
  readonly description?: string;
}

/** A relationship: `object` (many-to-one, one row or null) or `array` (one-to-many). */
export interface RelationshipSpec {
  readonly name: string;
  readonly kind: 'object' | 'array';
  /** The remote table's name. */
  readonly table: string;
  /** Local column name to remote column name, e.g. `{ customer_id: 'id' }`. */
  readonly mapping: Readonly<Record<string, string>>;
}

/** A table as Hasura tracks it. */
export interface TableSpec {
  readonly name: string;
  readonly columns: readonly ColumnSpec[];
  /** Column names of the primary key; empty means no `_by_pk` fields and no `on_conflict`. */
  readonly primaryKey: readonly string[];
  /** @default [] */
  readonly relationships?: readonly RelationshipSpec[];
  /** Shown as the type's description (Hasura shows the Postgres table comment). */
  readonly description?: string;
}

/** A table spec plus its rows: what {@link defaultDataset} returns and {@link startMockHasura} takes. */
export interface Dataset {
  readonly tables: readonly TableSpec[];
  readonly rows: Readonly<Record<string, readonly Row[]>>;
}

const GRAPHQL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NUMERIC_TYPES: ReadonlySet<ColumnType> = new Set(['Int', 'Float', 'numeric']);

/** Whether `_inc`, `sum`, `avg` and the other numeric aggregates apply to a column of this type. */
export function isNumericType(type: ColumnType): boolean {
  return NUMERIC_TYPES.has(type);
}

/** Whether `min`/`max` apply to a column of this type (Postgres has no min/max over booleans). */
export function isComparableType(type: ColumnType): boolean {
  return type !== 'Boolean';
}

/** The tables by name, after checking that names, keys and relationships refer to things that exist. */
export function indexTables(tables: readonly TableSpec[]): Map<string, TableSpec> {
  const byName = new Map<string, TableSpec>();
  for (const table of tables) {
    if (!GRAPHQL_NAME.test(table.name))
      throw new Error(`mock-hasura: table name "${table.name}" is not a GraphQL name`);
    if (byName.has(table.name)) throw new Error(`mock-hasura: table "${table.name}" is declared twice`);
    byName.set(table.name, table);
  }
  for (const table of tables) {
    const fieldNames = new Set<string>();
    const claim = (name: string): void => {
      if (!GRAPHQL_NAME.test(name))
        throw new Error(`mock-hasura: "${table.name}.${name}" is not a GraphQL name`);
      if (fieldNames.has(name)) throw new Error(`mock-hasura: "${table.name}.${name}" is declared twice`);
      fieldNames.add(name);
    };
    for (const column of table.columns) claim(column.name);
    if (table.columns.length === 0) throw new Error(`mock-hasura: table "${table.name}" has no columns`);
    for (const key of table.primaryKey) {
      if (!table.columns.some((column) => column.name === key)) {
        throw new Error(`mock-hasura: primary key column "${table.name}.${key}" does not exist`);
      }
    }
    for (const relationship of table.relationships ?? []) {
      claim(relationship.name);
      if (relationship.kind === 'array') claim(`${relationship.name}_aggregate`);
      const remote = byName.get(relationship.table);
      if (!remote) {
        throw new Error(
          `mock-hasura: relationship "${table.name}.${relationship.name}" targets unknown table "${relationship.table}"`,
        );
      }
      const pairs = Object.entries(relationship.mapping);
      if (pairs.length === 0)
        throw new Error(`mock-hasura: relationship "${table.name}.${relationship.name}" has no mapping`);
      for (const [local, remoteColumn] of pairs) {
        if (!table.columns.some((column) => column.name === local)) {
          throw new Error(
            `mock-hasura: relationship "${table.name}.${relationship.name}" maps unknown column "${local}"`,
          );
        }
        if (!remote.columns.some((column) => column.name === remoteColumn)) {
          throw new Error(
            `mock-hasura: relationship "${table.name}.${relationship.name}" maps to unknown column "${remote.name}.${remoteColumn}"`,
          );
        }
      }
    }
  }
  return byName;
}

/** The column spec, or a thrown error naming the table: the schema guarantees this never fails for a request. */
export function columnOf(table: TableSpec, name: string): ColumnSpec {
  const column = table.columns.find((candidate) => candidate.name === name);
  if (!column) throw new Error(`mock-hasura: unknown column "${table.name}.${name}"`);
  return column;
}

/** The relationship spec by name, if there is one. */
export function relationshipOf(table: TableSpec, name: string): RelationshipSpec | undefined {
  return table.relationships?.find((relationship) => relationship.name === name);
}
