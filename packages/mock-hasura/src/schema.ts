// Generates the GraphQL schema Hasura generates for a set of tracked tables, with resolvers over a Store.

import {
  GraphQLBoolean,
  GraphQLEnumType,
  type GraphQLEnumValueConfigMap,
  type GraphQLFieldConfig,
  type GraphQLFieldConfigArgumentMap,
  type GraphQLFieldConfigMap,
  GraphQLFloat,
  type GraphQLInputFieldConfigMap,
  GraphQLInputObjectType,
  type GraphQLInputType,
  GraphQLInt,
  GraphQLList,
  type GraphQLNamedType,
  GraphQLNonNull,
  type GraphQLNullableType,
  GraphQLObjectType,
  type GraphQLResolveInfo,
  GraphQLSchema,
  valueFromASTUntyped,
} from 'graphql';
import {
  aggregateColumn,
  COMPARABLE_AGGREGATES,
  type ColumnAggregate,
  countRows,
  NUMERIC_AGGREGATES,
} from './aggregate.js';
import { type BoolExp, filterRows } from './bool-exp.js';
import {
  deleteRows,
  findByPrimaryKey,
  insertRows,
  type MutationResult,
  type OnConflict,
  type UpdateOperators,
  updateRows,
} from './mutations.js';
import { scalarOf } from './scalars.js';
import { type SelectArguments, selectRows } from './select.js';
import {
  type ColumnSpec,
  type ColumnType,
  isComparableType,
  isNumericType,
  type Row,
  type Rows,
  type TableSpec,
} from './spec.js';
import { Store } from './store.js';

/** The per-request context the mock's resolvers read (all optional, so the schema also runs under plain `graphql()`). */
export type ResolverContext = {
  /** The request's variables as sent, before coercion: their key order decides multi-key `order_by` objects. */
  readonly rawVariables?: Readonly<Record<string, unknown>> | null | undefined;
  /** The `x-hasura-role` header, if any. */
  readonly role?: string | undefined;
};

interface AggregateSource {
  readonly rows: readonly Row[];
}

type Resolved = GraphQLFieldConfig<unknown, ResolverContext | undefined>;
type Fields = GraphQLFieldConfigMap<unknown, ResolverContext | undefined>;

const ORDER_BY = new GraphQLEnumType({
  name: 'order_by',
  description: 'column ordering options',
  values: {
    asc: { description: 'in ascending order, nulls last' },
    asc_nulls_first: { description: 'in ascending order, nulls first' },
    asc_nulls_last: { description: 'in ascending order, nulls last' },
    desc: { description: 'in descending order, nulls first' },
    desc_nulls_first: { description: 'in descending order, nulls first' },
    desc_nulls_last: { description: 'in descending order, nulls last' },
  },
});

const STRING_OPERATORS: Record<string, string> = {
  _ilike: 'does the column match the given case-insensitive pattern',
  _iregex: 'does the column match the given POSIX regular expression, case insensitive',
  _like: 'does the column match the given pattern',
  _nilike: 'does the column NOT match the given case-insensitive pattern',
  _niregex: 'does the column NOT match the given POSIX regular expression, case insensitive',
  _nlike: 'does the column NOT match the given pattern',
  _nregex: 'does the column NOT match the given POSIX regular expression, case sensitive',
  _nsimilar: 'does the column NOT match the given SQL regular expression',
  _regex: 'does the column match the given POSIX regular expression, case sensitive',
  _similar: 'does the column match the given SQL regular expression',
};

/**
 * Builds the schema Hasura generates for `tables`, resolved over `rows`.
 *
 * @param tables the tracked tables, their columns, primary keys and relationships
 * @param rows the dataset, live: mutations change these arrays and their row objects
 * @returns a schema with `query_root` and `mutation_root`
 * @throws Error when the spec is inconsistent (an unknown table or column, a duplicate name) or a row breaks it
 * @example
 * const schema = buildHasuraSchema(generateTables(50));
 * const sdl = printSchema(schema);
 */
export function buildHasuraSchema(tables: readonly TableSpec[], rows: Rows = {}): GraphQLSchema {
  return schemaOverStore(new Store(tables, rows));
}

/** The schema over an existing store (the server keeps the store to reset it). */
export function schemaOverStore(store: Store): GraphQLSchema {
  return new SchemaBuilder(store).build();
}

/** `$.selectionSet.<field>.selectionSet.<field>.args`, Hasura's path to the current field's arguments. */
function argumentsPath(info: GraphQLResolveInfo): string {
  const names: string[] = [];
  for (let path: GraphQLResolveInfo['path'] | undefined = info.path; path; path = path.prev) {
    if (typeof path.key === 'string') names.unshift(`selectionSet.${path.key}`);
  }
  return `$.${names.join('.')}.args`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Coercion rebuilds input objects in schema field order, but Hasura orders by the keys of an `order_by`
 * object in the order the query wrote them; this restores that order from the uncoerced value.
 */
function withQueryKeyOrder(coerced: unknown, raw: unknown): unknown {
  if (Array.isArray(coerced)) {
    const rawList: unknown[] = Array.isArray(raw) ? raw : [raw];
    return coerced.map((item, index) => withQueryKeyOrder(item, rawList[index]));
  }
  if (!isObject(coerced) || !isObject(raw)) return coerced;
  const ordered: Record<string, unknown> = {};
  for (const key of Object.keys(raw))
    if (key in coerced) ordered[key] = withQueryKeyOrder(coerced[key], raw[key]);
  for (const key of Object.keys(coerced)) if (!(key in ordered)) ordered[key] = coerced[key];
  return ordered;
}

function selectArgumentsOf(
  args: Record<string, unknown>,
  context: ResolverContext | undefined,
  info: GraphQLResolveInfo,
): SelectArguments {
  const node = info.fieldNodes[0]?.arguments?.find((argument) => argument.name.value === 'order_by');
  const raw = node ? valueFromASTUntyped(node.value, context?.rawVariables ?? undefined) : undefined;
  return { ...(args as SelectArguments), order_by: withQueryKeyOrder(args.order_by, raw) };
}

function list<T extends GraphQLNullableType>(type: T): GraphQLNonNull<GraphQLList<GraphQLNonNull<T>>> {
  return new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(type)));
}

function inputList<T extends GraphQLInputType>(type: T): GraphQLList<GraphQLNonNull<T>> {
  return new GraphQLList(new GraphQLNonNull(type));
}

function sortedByName<T>(fields: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(fields).sort(([left], [right]) => (left < right ? -1 : 1)));
}

class SchemaBuilder {
  readonly #store: Store;
  readonly #types = new Map<string, GraphQLNamedType>();

  constructor(store: Store) {
    this.#store = store;
  }

  build(): GraphQLSchema {
    const tables = [...this.#store.tables.values()];
    return new GraphQLSchema({
      query: new GraphQLObjectType({
        name: 'query_root',
        fields: () => sortedByName(Object.assign({}, ...tables.map((table) => this.#queryFields(table)))),
      }),
      mutation: new GraphQLObjectType({
        name: 'mutation_root',
        fields: () => sortedByName(Object.assign({}, ...tables.map((table) => this.#mutationFields(table)))),
      }),
    });
  }

  #memo<T extends GraphQLNamedType>(name: string, create: () => T): T {
    const existing = this.#types.get(name);
    if (existing) return existing as T;
    const type = create();
    this.#types.set(name, type);
    return type;
  }

  // ---- query root --------------------------------------------------------------------------------------------

  #queryFields(table: TableSpec): Fields {
    const store = this.#store;
    const fields: Fields = {
      [table.name]: {
        type: list(this.#object(table)),
        description: `fetch data from the table: "${table.name}"`,
        args: this.#selectArgs(table),
        resolve: (_root, args, context, info) =>
          selectRows(store, table, store.rowsOf(table.name), selectArgumentsOf(args, context, info), {
            path: argumentsPath(info),
          }),
      },
      [`${table.name}_aggregate`]: {
        type: new GraphQLNonNull(this.#aggregate(table)),
        description: `fetch aggregated fields from the table: "${table.name}"`,
        args: this.#selectArgs(table),
        resolve: (_root, args, context, info): AggregateSource => ({
          rows: selectRows(store, table, store.rowsOf(table.name), selectArgumentsOf(args, context, info), {
            path: argumentsPath(info),
          }),
        }),
      },
    };
    if (table.primaryKey.length > 0) {
      fields[`${table.name}_by_pk`] = {
        type: this.#object(table),
        description: `fetch data from the table: "${table.name}" using primary key columns`,
        args: this.#primaryKeyArgs(table),
        resolve: (_root, args) => findByPrimaryKey(store, table, args),
      };
    }
    return fields;
  }

  #selectArgs(table: TableSpec): GraphQLFieldConfigArgumentMap {
    return {
      distinct_on: { type: inputList(this.#selectColumn(table)), description: 'distinct select on columns' },
      limit: { type: GraphQLInt, description: 'limit the number of rows returned' },
      offset: { type: GraphQLInt, description: 'skip the first n rows. Use only with order_by' },
      order_by: {
        type: inputList(this.#orderBy(table)),
        description: 'sort the rows by one or more columns',
      },
      where: { type: this.#boolExp(table), description: 'filter the rows returned' },
    };
  }

  #primaryKeyArgs(table: TableSpec): GraphQLFieldConfigArgumentMap {
    return Object.fromEntries(
      table.primaryKey.map((name) => {
        const column = table.columns.find((candidate) => candidate.name === name) as ColumnSpec;
        return [name, { type: new GraphQLNonNull(scalarOf(column.type)) }];
      }),
    );
  }

  // ---- the table's object type -------------------------------------------------------------------------------

  #object(table: TableSpec): GraphQLObjectType {
    return this.#memo(
      table.name,
      () =>
        new GraphQLObjectType({
          name: table.name,
          description: table.description ?? `columns and relationships of "${table.name}"`,
          fields: () => this.#objectFields(table),
        }),
    );
  }

  #objectFields(table: TableSpec): Fields {
    const store = this.#store;
    const fields: Fields = {};
    for (const column of table.columns) {
      const scalar = scalarOf(column.type);
      fields[column.name] = {
        type: column.nullable ? scalar : new GraphQLNonNull(scalar),
        ...(column.description === undefined ? {} : { description: column.description }),
      };
    }
    for (const relationship of table.relationships ?? []) {
      const remote = store.table(relationship.table);
      if (relationship.kind === 'object') {
        fields[relationship.name] = {
          type: this.#object(remote),
          description: 'An object relationship',
          resolve: (row) => store.related(relationship, row as Row)[0] ?? null,
        };
        continue;
      }
      fields[relationship.name] = {
        type: list(this.#object(remote)),
        description: 'An array relationship',
        args: this.#selectArgs(remote),
        resolve: (row, args, context, info) =>
          selectRows(
            store,
            remote,
            store.related(relationship, row as Row),
            selectArgumentsOf(args, context, info),
            {
              path: argumentsPath(info),
            },
          ),
      };
      fields[`${relationship.name}_aggregate`] = {
        type: new GraphQLNonNull(this.#aggregate(remote)),
        description: 'An aggregate relationship',
        args: this.#selectArgs(remote),
        resolve: (row, args, context, info): AggregateSource => ({
          rows: selectRows(
            store,
            remote,
            store.related(relationship, row as Row),
            selectArgumentsOf(args, context, info),
            { path: argumentsPath(info) },
          ),
        }),
      };
    }
    return fields;
  }

  #selectColumn(table: TableSpec): GraphQLEnumType {
    return this.#memo(
      `${table.name}_select_column`,
      () =>
        new GraphQLEnumType({
          name: `${table.name}_select_column`,
          description: `select columns of table "${table.name}"`,
          values: columnValues(table.columns),
        }),
    );
  }

  // ---- filtering and ordering --------------------------------------------------------------------------------

  #comparison(type: ColumnType): GraphQLInputObjectType {
    const scalar = scalarOf(type);
    const name = `${scalar.name}_comparison_exp`;
    return this.#memo(name, () => {
      const fields: GraphQLInputFieldConfigMap = {
        _eq: { type: scalar },
        _gt: { type: scalar },
        _gte: { type: scalar },
        _in: { type: inputList(scalar) },
        _is_null: { type: GraphQLBoolean },
        _lt: { type: scalar },
        _lte: { type: scalar },
        _neq: { type: scalar },
        _nin: { type: inputList(scalar) },
      };
      if (type === 'String') {
        for (const [operator, description] of Object.entries(STRING_OPERATORS)) {
          fields[operator] = { type: scalar, description };
        }
      }
      return new GraphQLInputObjectType({
        name,
        description: `Boolean expression to compare columns of type "${scalar.name}". All fields are combined with logical 'AND'.`,
        fields: sortedByName(fields),
      });
    });
  }

  #boolExp(table: TableSpec): GraphQLInputObjectType {
    const name = `${table.name}_bool_exp`;
    return this.#memo(
      name,
      () =>
        new GraphQLInputObjectType({
          name,
          description: `Boolean expression to filter rows from the table "${table.name}". All fields are combined with a logical 'AND'.`,
          fields: () => {
            const self = this.#boolExp(table);
            const fields: GraphQLInputFieldConfigMap = {
              _and: { type: inputList(self) },
              _not: { type: self },
              _or: { type: inputList(self) },
            };
            for (const column of table.columns) fields[column.name] = { type: this.#comparison(column.type) };
            for (const relationship of table.relationships ?? []) {
              const remote = this.#store.table(relationship.table);
              fields[relationship.name] = { type: this.#boolExp(remote) };
              if (relationship.kind === 'array') {
                fields[`${relationship.name}_aggregate`] = { type: this.#aggregateBoolExp(remote) };
              }
            }
            return fields;
          },
        }),
    );
  }

  #aggregateBoolExp(table: TableSpec): GraphQLInputObjectType {
    const name = `${table.name}_aggregate_bool_exp`;
    return this.#memo(
      name,
      () =>
        new GraphQLInputObjectType({
          name,
          fields: () => ({
            count: {
              type: this.#memo(
                `${name}_count`,
                () =>
                  new GraphQLInputObjectType({
                    name: `${name}_count`,
                    fields: () => ({
                      arguments: { type: inputList(this.#selectColumn(table)) },
                      distinct: { type: GraphQLBoolean },
                      filter: { type: this.#boolExp(table) },
                      predicate: { type: new GraphQLNonNull(this.#comparison('Int')) },
                    }),
                  }),
              ),
            },
          }),
        }),
    );
  }

  #orderBy(table: TableSpec): GraphQLInputObjectType {
    const name = `${table.name}_order_by`;
    return this.#memo(
      name,
      () =>
        new GraphQLInputObjectType({
          name,
          description: `Ordering options when selecting data from "${table.name}".`,
          fields: () => {
            const fields: GraphQLInputFieldConfigMap = {};
            for (const column of table.columns) fields[column.name] = { type: ORDER_BY };
            for (const relationship of table.relationships ?? []) {
              const remote = this.#store.table(relationship.table);
              if (relationship.kind === 'object') fields[relationship.name] = { type: this.#orderBy(remote) };
              else fields[`${relationship.name}_aggregate`] = { type: this.#aggregateOrderBy(remote) };
            }
            return fields;
          },
        }),
    );
  }

  #aggregateOrderBy(table: TableSpec): GraphQLInputObjectType {
    const name = `${table.name}_aggregate_order_by`;
    return this.#memo(
      name,
      () =>
        new GraphQLInputObjectType({
          name,
          description: `order by aggregate values of table "${table.name}"`,
          fields: () => {
            const fields: GraphQLInputFieldConfigMap = { count: { type: ORDER_BY } };
            for (const operation of [...NUMERIC_AGGREGATES, ...COMPARABLE_AGGREGATES]) {
              const columns = aggregatedColumns(table, operation);
              if (columns.length === 0) continue;
              const typeName = `${table.name}_${operation}_order_by`;
              fields[operation] = {
                type: this.#memo(
                  typeName,
                  () =>
                    new GraphQLInputObjectType({
                      name: typeName,
                      description: `order by ${operation}() on columns of table "${table.name}"`,
                      fields: Object.fromEntries(columns.map((column) => [column.name, { type: ORDER_BY }])),
                    }),
                ),
              };
            }
            return sortedByName(fields);
          },
        }),
    );
  }

  // ---- aggregates --------------------------------------------------------------------------------------------

  #aggregate(table: TableSpec): GraphQLObjectType {
    const name = `${table.name}_aggregate`;
    return this.#memo(
      name,
      () =>
        new GraphQLObjectType({
          name,
          description: `aggregated selection of "${table.name}"`,
          fields: () => ({
            aggregate: { type: this.#aggregateFields(table), resolve: (source) => source },
            nodes: { type: list(this.#object(table)), resolve: (source) => (source as AggregateSource).rows },
          }),
        }),
    );
  }

  #aggregateFields(table: TableSpec): GraphQLObjectType {
    const name = `${table.name}_aggregate_fields`;
    return this.#memo(
      name,
      () =>
        new GraphQLObjectType({
          name,
          description: `aggregate fields of "${table.name}"`,
          fields: () => {
            const fields: Fields = {
              count: {
                type: new GraphQLNonNull(GraphQLInt),
                args: {
                  columns: { type: inputList(this.#selectColumn(table)) },
                  distinct: { type: GraphQLBoolean },
                },
                resolve: (source, args) =>
                  countRows((source as AggregateSource).rows, args.columns ?? [], args.distinct === true),
              },
            };
            for (const operation of [...NUMERIC_AGGREGATES, ...COMPARABLE_AGGREGATES]) {
              const columns = aggregatedColumns(table, operation);
              if (columns.length === 0) continue;
              fields[operation] = {
                type: this.#aggregateOperation(table, operation, columns),
                resolve: (source) => source,
              };
            }
            return sortedByName(fields);
          },
        }),
    );
  }

  #aggregateOperation(
    table: TableSpec,
    operation: ColumnAggregate,
    columns: readonly ColumnSpec[],
  ): GraphQLObjectType {
    const name = `${table.name}_${operation}_fields`;
    return this.#memo(
      name,
      () =>
        new GraphQLObjectType({
          name,
          description: `aggregate ${operation} on columns`,
          fields: Object.fromEntries(
            columns.map((column): [string, Resolved] => [
              column.name,
              {
                type:
                  operation === 'sum' || operation === 'min' || operation === 'max'
                    ? scalarOf(column.type)
                    : GraphQLFloat,
                resolve: (source) => aggregateColumn(operation, (source as AggregateSource).rows, column),
              },
            ]),
          ),
        }),
    );
  }

  // ---- mutations ---------------------------------------------------------------------------------------------

  #mutationFields(table: TableSpec): Fields {
    const store = this.#store;
    const hasKey = table.primaryKey.length > 0;
    const incInput = this.#columnsInput(table, 'inc');
    const updateArgs: GraphQLFieldConfigArgumentMap = {
      ...(incInput
        ? {
            _inc: {
              type: incInput,
              description: 'increments the numeric columns with given value of the filtered values',
            },
          }
        : {}),
      _set: {
        type: this.#columnsInput(table, 'set') as GraphQLInputObjectType,
        description: 'sets the columns of the filtered rows to the given values',
      },
    };
    const conflictArg: GraphQLFieldConfigArgumentMap = hasKey
      ? { on_conflict: { type: this.#onConflict(table), description: 'upsert condition' } }
      : {};
    const fields: Fields = {
      [`delete_${table.name}`]: {
        type: this.#mutationResponse(table),
        description: `delete data from the table: "${table.name}"`,
        args: {
          where: {
            type: new GraphQLNonNull(this.#boolExp(table)),
            description: 'filter the rows which have to be deleted',
          },
        },
        resolve: (_root, args, _context, info): MutationResult => {
          const path = `${argumentsPath(info)}.where`;
          return deleteRows(
            store,
            table,
            filterRows(store, table, store.rowsOf(table.name), args.where, { path }),
          );
        },
      },
      [`insert_${table.name}`]: {
        type: this.#mutationResponse(table),
        description: `insert data into the table: "${table.name}"`,
        args: {
          objects: {
            type: list(this.#columnsInput(table, 'insert') as GraphQLInputObjectType),
            description: 'the rows to be inserted',
          },
          ...conflictArg,
        },
        resolve: (_root, args, _context, info): MutationResult =>
          insertRows(
            store,
            table,
            args.objects,
            args.on_conflict as OnConflict | null,
            `${argumentsPath(info)}.objects`,
          ),
      },
      [`insert_${table.name}_one`]: {
        type: this.#object(table),
        description: `insert a single row into the table: "${table.name}"`,
        args: {
          object: {
            type: new GraphQLNonNull(this.#columnsInput(table, 'insert') as GraphQLInputObjectType),
            description: 'the row to be inserted',
          },
          ...conflictArg,
        },
        resolve: (_root, args, _context, info) =>
          insertRows(
            store,
            table,
            [args.object],
            args.on_conflict as OnConflict | null,
            `${argumentsPath(info)}.object`,
          ).returning[0] ?? null,
      },
      [`update_${table.name}`]: {
        type: this.#mutationResponse(table),
        description: `update data of the table: "${table.name}"`,
        args: {
          ...updateArgs,
          where: {
            type: new GraphQLNonNull(this.#boolExp(table)),
            description: 'filter the rows which have to be updated',
          },
        },
        resolve: (_root, args, _context, info): MutationResult => {
          const path = argumentsPath(info);
          const rows = filterRows(store, table, store.rowsOf(table.name), args.where, {
            path: `${path}.where`,
          });
          return updateRows(store, table, rows, args as UpdateOperators, path);
        },
      },
      [`update_${table.name}_many`]: {
        type: new GraphQLList(this.#mutationResponse(table)),
        description: `update multiples rows of table: "${table.name}"`,
        args: {
          updates: {
            type: list(this.#updates(table, updateArgs)),
            description: 'updates to execute, in order',
          },
        },
        resolve: (_root, args, _context, info): MutationResult[] => {
          const path = `${argumentsPath(info)}.updates`;
          return (args.updates as (UpdateOperators & { where: BoolExp })[]).map((update) => {
            const rows = filterRows(store, table, store.rowsOf(table.name), update.where, { path });
            return updateRows(store, table, rows, update, path);
          });
        },
      },
    };
    if (hasKey) {
      fields[`delete_${table.name}_by_pk`] = {
        type: this.#object(table),
        description: `delete single row from the table: "${table.name}"`,
        args: this.#primaryKeyArgs(table),
        resolve: (_root, args) => {
          const row = findByPrimaryKey(store, table, args);
          return row ? (deleteRows(store, table, [row]).returning[0] ?? null) : null;
        },
      };
      fields[`update_${table.name}_by_pk`] = {
        type: this.#object(table),
        description: `update single row of the table: "${table.name}"`,
        args: {
          ...updateArgs,
          pk_columns: { type: new GraphQLNonNull(this.#primaryKeyInput(table)) },
        },
        resolve: (_root, args, _context, info) => {
          const row = findByPrimaryKey(store, table, args.pk_columns);
          return row
            ? (updateRows(store, table, [row], args as UpdateOperators, argumentsPath(info)).returning[0] ??
                null)
            : null;
        },
      };
    }
    return fields;
  }

  /** `<table>_insert_input`, `<table>_set_input`, or `<table>_inc_input` (numeric columns; none without them). */
  #columnsInput(table: TableSpec, kind: 'insert' | 'set' | 'inc'): GraphQLInputObjectType | undefined {
    const columns =
      kind === 'inc' ? table.columns.filter((column) => isNumericType(column.type)) : table.columns;
    if (columns.length === 0) return undefined;
    const name = `${table.name}_${kind}_input`;
    const description = {
      insert: `input type for inserting data into table "${table.name}"`,
      set: `input type for updating data in table "${table.name}"`,
      inc: `input type for incrementing numeric columns in table "${table.name}"`,
    }[kind];
    return this.#memo(
      name,
      () =>
        new GraphQLInputObjectType({
          name,
          description,
          fields: Object.fromEntries(columns.map((column) => [column.name, { type: scalarOf(column.type) }])),
        }),
    );
  }

  #primaryKeyInput(table: TableSpec): GraphQLInputObjectType {
    const name = `${table.name}_pk_columns_input`;
    return this.#memo(
      name,
      () =>
        new GraphQLInputObjectType({
          name,
          description: `primary key columns input for table: ${table.name}`,
          fields: this.#primaryKeyArgs(table) as GraphQLInputFieldConfigMap,
        }),
    );
  }

  #mutationResponse(table: TableSpec): GraphQLObjectType {
    const name = `${table.name}_mutation_response`;
    return this.#memo(
      name,
      () =>
        new GraphQLObjectType({
          name,
          description: `response of any mutation on the table "${table.name}"`,
          fields: () => ({
            affected_rows: {
              type: new GraphQLNonNull(GraphQLInt),
              description: 'number of rows affected by the mutation',
            },
            returning: {
              type: list(this.#object(table)),
              description: 'data from the rows affected by the mutation',
            },
          }),
        }),
    );
  }

  #updates(table: TableSpec, updateArgs: GraphQLFieldConfigArgumentMap): GraphQLInputObjectType {
    const name = `${table.name}_updates`;
    return this.#memo(
      name,
      () =>
        new GraphQLInputObjectType({
          name,
          fields: () => ({
            ...(updateArgs as GraphQLInputFieldConfigMap),
            where: {
              type: new GraphQLNonNull(this.#boolExp(table)),
              description: 'filter the rows which have to be updated',
            },
          }),
        }),
    );
  }

  #onConflict(table: TableSpec): GraphQLInputObjectType {
    const name = `${table.name}_on_conflict`;
    return this.#memo(
      name,
      () =>
        new GraphQLInputObjectType({
          name,
          description: `on_conflict condition type for table "${table.name}"`,
          fields: () => ({
            constraint: {
              type: new GraphQLNonNull(
                this.#memo(
                  `${table.name}_constraint`,
                  () =>
                    new GraphQLEnumType({
                      name: `${table.name}_constraint`,
                      description: `unique or primary key constraints on table "${table.name}"`,
                      values: {
                        [`${table.name}_pkey`]: {
                          description: `unique or primary key constraint on columns ${table.primaryKey
                            .map((column) => `"${column}"`)
                            .join(', ')}`,
                        },
                      },
                    }),
                ),
              ),
            },
            update_columns: {
              type: new GraphQLNonNull(
                inputList(
                  this.#memo(
                    `${table.name}_update_column`,
                    () =>
                      new GraphQLEnumType({
                        name: `${table.name}_update_column`,
                        description: `update columns of table "${table.name}"`,
                        values: columnValues(table.columns),
                      }),
                  ),
                ),
              ),
              defaultValue: [],
            },
            where: { type: this.#boolExp(table) },
          }),
        }),
    );
  }
}

function columnValues(columns: readonly ColumnSpec[]): GraphQLEnumValueConfigMap {
  return Object.fromEntries(
    columns.map((column) => [column.name, { value: column.name, description: 'column name' }]),
  );
}

/** The columns an aggregate function applies to: numeric ones for sum/avg/…, comparable ones for min/max. */
function aggregatedColumns(table: TableSpec, operation: ColumnAggregate): ColumnSpec[] {
  return table.columns.filter((column) =>
    operation === 'min' || operation === 'max' ? isComparableType(column.type) : isNumericType(column.type),
  );
}
