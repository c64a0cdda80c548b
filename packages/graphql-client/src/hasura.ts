import { BallastError } from '@ballast/core';
import {
  type GraphQLField,
  type GraphQLInputObjectType,
  type GraphQLNamedType,
  type GraphQLSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
} from 'graphql';

/** A column of a Hasura table. */
export interface HasuraColumn {
  name: string;
  /** The scalar's name: Int, String, Boolean, Float, numeric, timestamptz, uuid, jsonb… */
  type: string;
  nullable: boolean;
}

/** A relationship of a Hasura table. */
export interface HasuraRelationship {
  name: string;
  kind: 'object' | 'array';
  table: string;
}

/** A table as Hasura exposes it, read from the schema. */
export interface HasuraTable {
  name: string;
  description?: string;
  columns: HasuraColumn[];
  relationships: HasuraRelationship[];
  /** The primary key's columns (from `<table>_by_pk`), empty when there is none. */
  primaryKey: string[];
  /** Whether `<table>_aggregate` exists. */
  aggregate: boolean;
  /** Columns sum and avg apply to. */
  numericColumns: string[];
  /** Which mutations the schema has for it (for this role). */
  mutations: { insert: boolean; update: boolean; delete: boolean };
}

/** A built operation: the document text and its variables. */
export interface BuiltOperation {
  query: string;
  variables: Record<string, unknown>;
  /** The root field the answer's data is under. */
  field: string;
}

const COMPARISON_OPERATORS = new Set([
  '_eq',
  '_neq',
  '_gt',
  '_gte',
  '_lt',
  '_lte',
  '_in',
  '_nin',
  '_like',
  '_nlike',
  '_ilike',
  '_nilike',
  '_is_null',
]);

function invalid(path: string, expected: string, got?: unknown): BallastError {
  return new BallastError(
    'GRAPHQL_INVALID_ARGUMENT',
    `${path}: expected ${expected}${got === undefined ? '' : `, got ${JSON.stringify(got)}`}`,
    {
      details: { path },
    },
  );
}

function isListOfObjects(field: GraphQLField<unknown, unknown>): boolean {
  let type = field.type;
  if (isNonNullType(type)) type = type.ofType;
  return isListType(type) && isObjectType(getNamedType(type));
}

/**
 * The tables of a Hasura-shaped schema: every query root field that returns a list of objects and
 * takes `where: <type>_bool_exp`, with its columns, relationships, key, aggregate and mutations.
 * @param schema the schema (introspected for the role the agent uses)
 * @returns the tables, in the schema's order
 */
export function discoverTables(schema: GraphQLSchema): HasuraTable[] {
  const query = schema.getQueryType();
  if (!query) return [];
  const mutation = schema.getMutationType()?.getFields() ?? {};
  const rootFields = query.getFields();
  const tables: HasuraTable[] = [];
  for (const field of Object.values(rootFields)) {
    if (!isListOfObjects(field)) continue;
    const where = field.args.find((argument) => argument.name === 'where');
    if (!where || !getNamedType(where.type).name.endsWith('_bool_exp')) continue;
    const type = getNamedType(field.type);
    if (!isObjectType(type)) continue;
    const columns: HasuraColumn[] = [];
    const relationships: HasuraRelationship[] = [];
    for (const column of Object.values(type.getFields())) {
      const named = getNamedType(column.type);
      if (isScalarType(named) || isEnumType(named)) {
        if (
          column.args.length === 0 ||
          !isListType(isNonNullType(column.type) ? column.type.ofType : column.type)
        ) {
          columns.push({ name: column.name, type: named.name, nullable: !isNonNullType(column.type) });
        }
      } else if (isObjectType(named) && !column.name.endsWith('_aggregate')) {
        relationships.push({
          name: column.name,
          kind: isListOfObjects(column) ? 'array' : 'object',
          table: named.name,
        });
      }
    }
    const byPk = rootFields[`${field.name}_by_pk`];
    const numeric = new Set(['Int', 'Float', 'numeric', 'bigint', 'smallint', 'float8', 'money']);
    tables.push({
      name: field.name,
      ...(field.description ? { description: field.description } : {}),
      columns,
      relationships,
      primaryKey: byPk ? byPk.args.map((argument) => argument.name) : [],
      aggregate: `${field.name}_aggregate` in rootFields,
      numericColumns: columns.filter((column) => numeric.has(column.type)).map((column) => column.name),
      mutations: {
        insert: `insert_${field.name}` in mutation,
        update: `update_${field.name}` in mutation,
        delete: `delete_${field.name}` in mutation,
      },
    });
  }
  return tables;
}

/** Finds a table by name, or fails naming the ones there are. */
export function findTable(tables: readonly HasuraTable[], name: unknown): HasuraTable {
  const table = tables.find((candidate) => candidate.name === name);
  if (!table) {
    const close = tables.filter(
      (candidate) =>
        typeof name === 'string' && (candidate.name.includes(name) || name.includes(candidate.name)),
    );
    throw invalid(
      'table',
      `one of the schema's tables${
        close.length
          ? ` (did you mean ${close
              .map((item) => item.name)
              .sort()
              .join(', ')}?)`
          : ''
      }`,
      name,
    );
  }
  return table;
}

/**
 * A `where` boolean expression from a plain JSON filter, checked against the table: keys are
 * columns, relationships (nested filters), `_and`, `_or` or `_not`; a column's value is either a
 * plain value (meaning `_eq`) or an object of comparison operators.
 * @param tables the schema's tables (for relationships)
 * @param table the table filtered
 * @param filter e.g. `{ status: 'open', amount: { _gt: 10 }, author: { name: { _ilike: '%ann%' } } }`
 * @param path where in the arguments, for error messages
 * @returns the `where` value
 * @throws {BallastError} `GRAPHQL_INVALID_ARGUMENT` naming the path of a bad key or operator
 */
export function buildWhere(
  tables: readonly HasuraTable[],
  table: HasuraTable,
  filter: unknown,
  path = 'where',
): Record<string, unknown> {
  if (typeof filter !== 'object' || filter === null || Array.isArray(filter)) {
    throw invalid(path, 'an object of columns, relationships, _and, _or, _not', filter);
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(filter)) {
    const at = `${path}.${key}`;
    if (key === '_and' || key === '_or') {
      if (!Array.isArray(value)) throw invalid(at, 'an array of filters', value);
      out[key] = value.map((item, index) => buildWhere(tables, table, item, `${at}[${index}]`));
    } else if (key === '_not') {
      out[key] = buildWhere(tables, table, value, at);
    } else if (table.columns.some((column) => column.name === key)) {
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        for (const operator of Object.keys(value)) {
          if (!COMPARISON_OPERATORS.has(operator)) {
            throw invalid(`${at}.${operator}`, `an operator: ${[...COMPARISON_OPERATORS].join(' ')}`);
          }
        }
        out[key] = value;
      } else {
        out[key] = value === null ? { _is_null: true } : { _eq: value };
      }
    } else {
      const relationship = table.relationships.find((item) => item.name === key);
      if (!relationship) {
        throw invalid(
          at,
          `a column or relationship of ${table.name} (${[...table.columns.map((column) => column.name), ...table.relationships.map((item) => item.name)].join(', ')})`,
        );
      }
      const target =
        tables.find((item) => item.name === relationship.table) ?? tables.find((item) => item.name === key);
      if (!target) throw invalid(at, 'a relationship to a known table');
      out[key] = buildWhere(tables, target, value, at);
    }
  }
  return out;
}

/** A selection set from column paths (`title`, `author.name`, `comments.body`), checked against the tables. */
export function buildSelection(
  tables: readonly HasuraTable[],
  table: HasuraTable,
  columns: readonly string[] | undefined,
  path = 'columns',
): string {
  const wanted = columns && columns.length > 0 ? columns : table.columns.map((column) => column.name);
  const tree = new Map<string, string[]>();
  for (const [index, column] of wanted.entries()) {
    if (typeof column !== 'string' || column === '')
      throw invalid(`${path}[${index}]`, 'a column name', column);
    const [head = '', ...rest] = column.split('.');
    const children = tree.get(head) ?? [];
    if (rest.length > 0) children.push(rest.join('.'));
    tree.set(head, children);
  }
  const parts: string[] = [];
  for (const [name, children] of tree) {
    if (table.columns.some((column) => column.name === name)) {
      if (children.length > 0) throw invalid(path, `${name} is a column, not a relationship`);
      parts.push(name);
      continue;
    }
    const relationship = table.relationships.find((item) => item.name === name);
    if (!relationship) {
      throw invalid(
        path,
        `columns of ${table.name} (${table.columns.map((column) => column.name).join(', ')}) or relationships (${table.relationships.map((item) => item.name).join(', ') || 'none'})`,
        name,
      );
    }
    const target =
      tables.find((item) => item.name === relationship.table) ?? findTable(tables, relationship.table);
    parts.push(`${name} { ${buildSelection(tables, target, children, `${path}.${name}`)} }`);
  }
  return parts.join(' ');
}

function typeName(schema: GraphQLSchema, name: string): GraphQLNamedType {
  const type = schema.getType(name);
  if (!type)
    throw new BallastError(
      'GRAPHQL_NOT_HASURA',
      `the schema has no type ${name}: is this a Hasura-style schema?`,
    );
  return type;
}

/** Options of {@link buildSelect}. */
export interface SelectOptions {
  columns?: string[];
  where?: Record<string, unknown>;
  orderBy?: Record<string, unknown> | Array<Record<string, unknown>>;
  limit?: number;
  offset?: number;
  distinctOn?: string[];
}

/**
 * A select of a table as a document with variables.
 * @throws {BallastError} `GRAPHQL_INVALID_ARGUMENT` naming the bad argument
 */
export function buildSelect(
  schema: GraphQLSchema,
  tables: readonly HasuraTable[],
  tableName: string,
  options: SelectOptions,
  maxRows: number,
): BuiltOperation {
  const table = findTable(tables, tableName);
  const variables: Record<string, unknown> = {};
  const definitions: string[] = [];
  const args: string[] = [];
  if (options.where !== undefined) {
    variables.where = buildWhere(tables, table, options.where);
    definitions.push(`$where: ${typeName(schema, `${table.name}_bool_exp`).name}`);
    args.push('where: $where');
  }
  if (options.orderBy !== undefined) {
    const orders = Array.isArray(options.orderBy) ? options.orderBy : [options.orderBy];
    for (const [index, order] of orders.entries()) {
      for (const [column, direction] of Object.entries(order)) {
        if (
          !table.columns.some((item) => item.name === column) &&
          !table.relationships.some((item) => item.name === column)
        ) {
          throw invalid(`orderBy[${index}].${column}`, `a column of ${table.name}`);
        }
        if (typeof direction === 'string' && !/^(asc|desc)(_nulls_(first|last))?$/.test(direction)) {
          throw invalid(
            `orderBy[${index}].${column}`,
            'asc, desc, asc_nulls_first, asc_nulls_last, desc_nulls_first or desc_nulls_last',
            direction,
          );
        }
      }
    }
    variables.order_by = orders;
    definitions.push(`$order_by: [${typeName(schema, `${table.name}_order_by`).name}!]`);
    args.push('order_by: $order_by');
  }
  const limit = options.limit ?? maxRows;
  if (!Number.isInteger(limit) || limit < 0)
    throw invalid('limit', 'a whole number of 0 or more', options.limit);
  variables.limit = Math.min(limit, maxRows);
  definitions.push('$limit: Int');
  args.push('limit: $limit');
  if (options.offset !== undefined) {
    if (!Number.isInteger(options.offset) || options.offset < 0)
      throw invalid('offset', 'a whole number of 0 or more', options.offset);
    variables.offset = options.offset;
    definitions.push('$offset: Int');
    args.push('offset: $offset');
  }
  if (options.distinctOn !== undefined) {
    const selectColumn = typeName(schema, `${table.name}_select_column`);
    for (const [index, column] of options.distinctOn.entries()) {
      if (!isEnumType(selectColumn) || !selectColumn.getValue(column))
        throw invalid(`distinctOn[${index}]`, `a column of ${table.name}`, column);
    }
    variables.distinct_on = options.distinctOn;
    definitions.push(`$distinct_on: [${selectColumn.name}!]`);
    args.push('distinct_on: $distinct_on');
  }
  const selection = buildSelection(tables, table, options.columns);
  return {
    query: `query Select(${definitions.join(', ')}) { ${table.name}(${args.join(', ')}) { ${selection} } }`,
    variables,
    field: table.name,
  };
}

/** Options of {@link buildAggregate}. */
export interface AggregateOptions {
  count?: boolean;
  sum?: string[];
  avg?: string[];
  min?: string[];
  max?: string[];
  where?: Record<string, unknown>;
}

/**
 * An aggregate of a table (`<table>_aggregate`) as a document with variables.
 * @throws {BallastError} `GRAPHQL_INVALID_ARGUMENT` naming the bad argument
 */
export function buildAggregate(
  schema: GraphQLSchema,
  tables: readonly HasuraTable[],
  tableName: string,
  options: AggregateOptions,
): BuiltOperation {
  const table = findTable(tables, tableName);
  if (!table.aggregate)
    throw invalid(
      'table',
      `a table with an aggregate field (${table.name}_aggregate is not in the schema for this role)`,
    );
  const fields: string[] = [];
  if (options.count !== false) fields.push('count');
  for (const kind of ['sum', 'avg', 'min', 'max'] as const) {
    const columns = options[kind];
    if (!columns || columns.length === 0) continue;
    const allowed =
      kind === 'sum' || kind === 'avg' ? table.numericColumns : table.columns.map((column) => column.name);
    for (const [index, column] of columns.entries()) {
      if (!allowed.includes(column))
        throw invalid(
          `${kind}[${index}]`,
          `a ${kind === 'sum' || kind === 'avg' ? 'numeric ' : ''}column of ${table.name} (${allowed.join(', ')})`,
          column,
        );
    }
    fields.push(`${kind} { ${columns.join(' ')} }`);
  }
  if (fields.length === 0) throw invalid('count', 'count, or at least one of sum, avg, min, max');
  const variables: Record<string, unknown> = {};
  let header = '';
  let args = '';
  if (options.where !== undefined) {
    variables.where = buildWhere(tables, table, options.where);
    header = `($where: ${typeName(schema, `${table.name}_bool_exp`).name})`;
    args = '(where: $where)';
  }
  return {
    query: `query Aggregate${header} { ${table.name}_aggregate${args} { aggregate { ${fields.join(' ')} } } }`,
    variables,
    field: `${table.name}_aggregate`,
  };
}

/**
 * A lookup by primary key (`<table>_by_pk`).
 * @throws {BallastError} `GRAPHQL_INVALID_ARGUMENT` when a key column is missing or unknown
 */
export function buildByPk(
  schema: GraphQLSchema,
  tables: readonly HasuraTable[],
  tableName: string,
  key: Record<string, unknown>,
  columns?: string[],
): BuiltOperation {
  const table = findTable(tables, tableName);
  if (table.primaryKey.length === 0)
    throw invalid('table', `a table with a primary key (${table.name}_by_pk is not in the schema)`);
  const field = schema.getQueryType()?.getFields()[`${table.name}_by_pk`];
  const definitions: string[] = [];
  const args: string[] = [];
  const variables: Record<string, unknown> = {};
  for (const column of table.primaryKey) {
    if (!(column in key))
      throw invalid(`key.${column}`, `a value (the key of ${table.name} is ${table.primaryKey.join(', ')})`);
    const argument = field?.args.find((item) => item.name === column);
    definitions.push(`$${column}: ${String(argument?.type ?? 'Int!')}`);
    args.push(`${column}: $${column}`);
    variables[column] = key[column];
  }
  for (const column of Object.keys(key)) {
    if (!table.primaryKey.includes(column))
      throw invalid(`key.${column}`, `a key column of ${table.name} (${table.primaryKey.join(', ')})`);
  }
  return {
    query: `query ByPk(${definitions.join(', ')}) { ${table.name}_by_pk(${args.join(', ')}) { ${buildSelection(tables, table, columns)} } }`,
    variables,
    field: `${table.name}_by_pk`,
  };
}

/** Which mutations are allowed: none, all, or root fields by name. */
export type MutationPolicy = boolean | readonly string[];

function assertMutation(policy: MutationPolicy, field: string): void {
  const allowed = policy === true || (Array.isArray(policy) && policy.includes(field));
  if (!allowed) {
    throw new BallastError(
      'GRAPHQL_MUTATION_NOT_ALLOWED',
      `${field} is a mutation, which this client does not allow: enable mutations (all, or this root field by name)`,
    );
  }
}

function inputType(schema: GraphQLSchema, name: string): GraphQLInputObjectType {
  const type = typeName(schema, name);
  if (!isInputObjectType(type)) throw new BallastError('GRAPHQL_NOT_HASURA', `${name} is not an input type`);
  return type;
}

function checkColumns(table: HasuraTable, values: unknown, path: string): Record<string, unknown> {
  if (typeof values !== 'object' || values === null || Array.isArray(values))
    throw invalid(path, 'an object of columns and values', values);
  for (const column of Object.keys(values)) {
    if (!table.columns.some((item) => item.name === column))
      throw invalid(`${path}.${column}`, `a column of ${table.name}`);
  }
  return values as Record<string, unknown>;
}

/**
 * An insert (`insert_<table>`), only where the policy allows it.
 * @throws {BallastError} `GRAPHQL_MUTATION_NOT_ALLOWED`, `GRAPHQL_INVALID_ARGUMENT`
 */
export function buildInsert(
  schema: GraphQLSchema,
  tables: readonly HasuraTable[],
  tableName: string,
  objects: unknown[],
  policy: MutationPolicy,
  returning?: string[],
): BuiltOperation {
  const table = findTable(tables, tableName);
  const field = `insert_${table.name}`;
  assertMutation(policy, field);
  if (!Array.isArray(objects) || objects.length === 0)
    throw invalid('objects', 'a non-empty array of rows', objects);
  const rows = objects.map((row, index) => checkColumns(table, row, `objects[${index}]`));
  const type = inputType(schema, `${table.name}_insert_input`);
  return {
    query: `mutation Insert($objects: [${type.name}!]!) { ${field}(objects: $objects) { affected_rows returning { ${buildSelection(tables, table, returning, 'returning')} } } }`,
    variables: { objects: rows },
    field,
  };
}

/**
 * An update (`update_<table>`) of the rows a filter picks, only where the policy allows it.
 * @throws {BallastError} `GRAPHQL_MUTATION_NOT_ALLOWED`, `GRAPHQL_INVALID_ARGUMENT`
 */
export function buildUpdate(
  schema: GraphQLSchema,
  tables: readonly HasuraTable[],
  tableName: string,
  where: unknown,
  set: unknown,
  policy: MutationPolicy,
): BuiltOperation {
  const table = findTable(tables, tableName);
  const field = `update_${table.name}`;
  assertMutation(policy, field);
  const filter = buildWhere(tables, table, where);
  if (Object.keys(filter).length === 0)
    throw invalid('where', 'a filter (an empty one would update every row)');
  const values = checkColumns(table, set, 'set');
  const setType = inputType(schema, `${table.name}_set_input`);
  return {
    query: `mutation Update($where: ${table.name}_bool_exp!, $set: ${setType.name}) { ${field}(where: $where, _set: $set) { affected_rows } }`,
    variables: { where: filter, set: values },
    field,
  };
}

/**
 * A delete (`delete_<table>`) of the rows a filter picks, only where the policy allows it.
 * @throws {BallastError} `GRAPHQL_MUTATION_NOT_ALLOWED`, `GRAPHQL_INVALID_ARGUMENT`
 */
export function buildDelete(
  tables: readonly HasuraTable[],
  tableName: string,
  where: unknown,
  policy: MutationPolicy,
): BuiltOperation {
  const table = findTable(tables, tableName);
  const field = `delete_${table.name}`;
  assertMutation(policy, field);
  const filter = buildWhere(tables, table, where);
  if (Object.keys(filter).length === 0)
    throw invalid('where', 'a filter (an empty one would delete every row)');
  return {
    query: `mutation Delete($where: ${table.name}_bool_exp!) { ${field}(where: $where) { affected_rows } }`,
    variables: { where: filter },
    field,
  };
}

/** Options of {@link createHasura}. */
export interface HasuraOptions {
  /** The client that runs the operations. */
  client: {
    request<Data = Record<string, unknown>>(
      document: string,
      variables?: Record<string, unknown>,
    ): Promise<Data>;
  };
  /** The schema of the role the client's headers select (introspected, or from SDL). */
  schema: GraphQLSchema;
  /** The most rows a select returns. @default 100 */
  maxRows?: number;
  /** Which mutations may run. @default false */
  allowMutations?: MutationPolicy;
}

/** The Hasura helpers bound to a client and a schema: each builds its operation and runs it. */
export interface Hasura {
  tables: HasuraTable[];
  select<Row = Record<string, unknown>>(table: string, options?: SelectOptions): Promise<Row[]>;
  aggregate(table: string, options: AggregateOptions): Promise<Record<string, unknown>>;
  byPk<Row = Record<string, unknown>>(
    table: string,
    key: Record<string, unknown>,
    columns?: string[],
  ): Promise<Row | null>;
  insert(
    table: string,
    objects: unknown[],
    returning?: string[],
  ): Promise<{ affected_rows: number; returning: unknown[] }>;
  update(table: string, where: unknown, set: unknown): Promise<{ affected_rows: number }>;
  delete(table: string, where: unknown): Promise<{ affected_rows: number }>;
}

/**
 * Binds the Hasura helpers to a client and a schema.
 * @param options the client, the schema, the row cap and the mutation policy
 * @returns select, aggregate, byPk and the mutation helpers, and the discovered tables
 * @example
 * ```ts
 * const hasura = createHasura({ client, schema, maxRows: 50 });
 * const open = await hasura.select('orders', { columns: ['id', 'customer.name'], where: { status: 'open' } });
 * ```
 */
export function createHasura(options: HasuraOptions): Hasura {
  const tables = discoverTables(options.schema);
  const maxRows = options.maxRows ?? 100;
  const policy = options.allowMutations ?? false;
  // Builders throw on bad arguments; every method is async so the caller always gets a rejection.
  const run = async <T>(build: () => BuiltOperation): Promise<T> => {
    const built = build();
    return (await options.client.request<Record<string, T>>(built.query, built.variables))[built.field] as T;
  };
  return {
    tables,
    select: (table, selectOptions = {}) =>
      run(() => buildSelect(options.schema, tables, table, selectOptions, maxRows)),
    aggregate: async (table, aggregateOptions) =>
      (
        await run<{ aggregate: Record<string, unknown> }>(() =>
          buildAggregate(options.schema, tables, table, aggregateOptions),
        )
      ).aggregate,
    byPk: (table, key, columns) => run(() => buildByPk(options.schema, tables, table, key, columns)),
    insert: (table, objects, returning) =>
      run(() => buildInsert(options.schema, tables, table, objects, policy, returning)),
    update: (table, where, set) => run(() => buildUpdate(options.schema, tables, table, where, set, policy)),
    delete: (table, where) => run(() => buildDelete(tables, table, where, policy)),
  };
}
