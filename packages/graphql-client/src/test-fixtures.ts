// Hasura-shaped SDL for unit tests and the bench: the types, descriptions and root fields that
// Hasura v2 generates for Postgres tables, so summaries and limits are measured on a realistic shape.

/** A scalar column type as Hasura names it. */
export type FixtureScalar =
  | 'Int'
  | 'String'
  | 'Boolean'
  | 'Float'
  | 'numeric'
  | 'timestamptz'
  | 'uuid'
  | 'jsonb';

/** A column of a fixture table. */
export interface FixtureColumn {
  name: string;
  type: FixtureScalar;
  nullable: boolean;
  description?: string;
}

/** A relationship of a fixture table to another fixture table. */
export interface FixtureRelationship {
  name: string;
  table: string;
  kind: 'object' | 'array';
}

/** A Postgres table as Hasura would track it. */
export interface FixtureTable {
  name: string;
  description?: string;
  /** The first column is the primary key. */
  columns: FixtureColumn[];
  relationships: FixtureRelationship[];
}

const nouns = [
  'users',
  'organizations',
  'teams',
  'projects',
  'articles',
  'comments',
  'tags',
  'categories',
  'products',
  'orders',
  'order_items',
  'invoices',
  'payments',
  'customers',
  'addresses',
  'shipments',
  'warehouses',
  'suppliers',
  'reviews',
  'carts',
  'coupons',
  'subscriptions',
  'plans',
  'events',
  'tickets',
  'venues',
  'sessions',
  'devices',
  'notifications',
  'messages',
  'channels',
  'files',
  'folders',
  'permissions',
  'roles',
  'audit_logs',
  'tasks',
  'milestones',
  'sprints',
  'releases',
  'deployments',
  'environments',
  'metrics',
  'alerts',
  'incidents',
  'webhooks',
  'api_keys',
  'countries',
  'currencies',
  'exchange_rates',
];

const extraColumns: Array<Omit<FixtureColumn, 'name'> & { suffix: string }> = [
  { suffix: 'name', type: 'String', nullable: false, description: 'Display name' },
  { suffix: 'status', type: 'String', nullable: true },
  { suffix: 'amount', type: 'numeric', nullable: true },
  { suffix: 'is_active', type: 'Boolean', nullable: false },
  { suffix: 'score', type: 'Float', nullable: true },
  { suffix: 'external_id', type: 'uuid', nullable: true },
  { suffix: 'metadata', type: 'jsonb', nullable: true },
  { suffix: 'priority', type: 'Int', nullable: true },
];

/**
 * `count` tables with realistic names, 6 to 10 columns each and foreign keys to earlier tables
 * (an object relationship on the child, an array relationship on the parent).
 */
export function fixtureTables(count: number): FixtureTable[] {
  const tables: FixtureTable[] = [];
  for (let index = 0; index < count; index += 1) {
    const base = nouns[index % nouns.length] as string;
    const name = index < nouns.length ? base : `${base}_${Math.floor(index / nouns.length) + 1}`;
    const columns: FixtureColumn[] = [
      { name: 'id', type: 'Int', nullable: false, description: `Primary key of ${name}` },
      { name: 'created_at', type: 'timestamptz', nullable: false },
    ];
    const width = 4 + (index % 5);
    for (let column = 0; column < width; column += 1) {
      const extra = extraColumns[(index + column) % extraColumns.length];
      if (!extra) continue;
      const { suffix, ...rest } = extra;
      columns.push({ name: column === 0 ? suffix : `${singular(name)}_${suffix}`, ...rest });
    }
    tables.push({ name, description: `${name} of the workspace`, columns, relationships: [] });
  }
  // A tree of foreign keys plus two hubs referenced by many tables, as users and organizations are.
  for (let index = 1; index < tables.length; index += 1) {
    const child = tables[index] as FixtureTable;
    const parents = new Set([Math.floor((index - 1) / 2)]);
    if (index % 3 === 1) parents.add(0);
    if (index % 5 === 0) parents.add(1);
    for (const parentIndex of parents) {
      if (parentIndex >= index) continue;
      const parent = tables[parentIndex] as FixtureTable;
      const key = `${singular(parent.name)}_id`;
      child.columns.push({ name: key, type: 'Int', nullable: false });
      child.relationships.push({ name: singular(parent.name), table: parent.name, kind: 'object' });
      parent.relationships.push({ name: child.name, table: child.name, kind: 'array' });
    }
  }
  return tables;
}

function singular(name: string): string {
  if (name.endsWith('ies')) return `${name.slice(0, -3)}y`;
  if (name.endsWith('sses')) return name.slice(0, -2);
  return name.endsWith('s') ? name.slice(0, -1) : name;
}

const comparisonOperators = ['_eq', '_gt', '_gte', '_lt', '_lte', '_neq'];

function comparisonExp(scalar: FixtureScalar): string {
  const lines = [
    `"""\nBoolean expression to compare columns of type "${scalar}". All fields are combined with logical 'AND'.\n"""`,
    `input ${scalar}_comparison_exp {`,
    ...comparisonOperators.map((operator) => `  ${operator}: ${scalar}`),
    `  _in: [${scalar}!]`,
    '  _is_null: Boolean',
    `  _nin: [${scalar}!]`,
  ];
  if (scalar === 'String') {
    for (const operator of [
      '_ilike',
      '_iregex',
      '_like',
      '_nilike',
      '_niregex',
      '_nlike',
      '_nregex',
      '_nsimilar',
      '_regex',
      '_similar',
    ]) {
      lines.push(`  """does the column match the given pattern"""\n  ${operator}: String`);
    }
  }
  if (scalar === 'jsonb') {
    lines.push('  """does the column contain the given json value at the top level"""\n  _contains: jsonb');
    lines.push('  """does the string exist as a top-level key in the column"""\n  _has_key: String');
  }
  lines.push('}');
  return lines.join('\n');
}

const numericScalars = new Set<FixtureScalar>(['Int', 'Float', 'numeric']);
const aggregateStats = ['stddev', 'stddev_pop', 'stddev_samp', 'var_pop', 'var_samp', 'variance'];

function listArgs(table: string): string {
  return [
    `"""distinct select on columns"""\n    distinct_on: [${table}_select_column!]`,
    '"""limit the number of rows returned"""\n    limit: Int',
    '"""skip the first n rows. Use only with order_by"""\n    offset: Int',
    `"""sort the rows by one or more columns"""\n    order_by: [${table}_order_by!]`,
    `"""filter the rows returned"""\n    where: ${table}_bool_exp`,
  ].join('\n    ');
}

function tableSdl(table: FixtureTable, all: Map<string, FixtureTable>): string {
  const { name } = table;
  const pk = table.columns[0] as FixtureColumn;
  const numeric = table.columns.filter((column) => numericScalars.has(column.type));
  const comparable = table.columns.filter((column) => column.type !== 'jsonb' && column.type !== 'Boolean');
  const columnType = (column: FixtureColumn): string => `${column.type}${column.nullable ? '' : '!'}`;
  const parts: string[] = [];
  const fields = table.columns.map(
    (column) =>
      `  ${column.description ? `"""${column.description}"""\n  ` : ''}${column.name}: ${columnType(column)}`,
  );
  for (const relationship of table.relationships) {
    if (relationship.kind === 'object') {
      fields.push(`  """An object relationship"""\n  ${relationship.name}: ${relationship.table}!`);
    } else {
      fields.push(
        `  """An array relationship"""\n  ${relationship.name}(\n    ${listArgs(relationship.table)}\n  ): [${relationship.table}!]!`,
        `  """An aggregate relationship"""\n  ${relationship.name}_aggregate(\n    ${listArgs(relationship.table)}\n  ): ${relationship.table}_aggregate!`,
      );
    }
  }
  parts.push(
    `"""\n${table.description ?? `columns and relationships of "${name}"`}\n"""\ntype ${name} {\n${fields.join('\n')}\n}`,
    `"""\naggregated selection of "${name}"\n"""\ntype ${name}_aggregate {\n  aggregate: ${name}_aggregate_fields\n  nodes: [${name}!]!\n}`,
  );
  const aggregateFields = [
    `  count(columns: [${name}_select_column!], distinct: Boolean): Int!`,
    `  max: ${name}_max_fields`,
    `  min: ${name}_min_fields`,
  ];
  if (numeric.length > 0) {
    aggregateFields.push(`  avg: ${name}_avg_fields`, `  sum: ${name}_sum_fields`);
    for (const stat of aggregateStats) aggregateFields.push(`  ${stat}: ${name}_${stat}_fields`);
  }
  parts.push(
    `"""\naggregate fields of "${name}"\n"""\ntype ${name}_aggregate_fields {\n${aggregateFields.sort().join('\n')}\n}`,
  );
  if (numeric.length > 0) {
    for (const stat of ['avg', ...aggregateStats]) {
      parts.push(
        `"""\naggregate ${stat} on columns\n"""\ntype ${name}_${stat}_fields {\n${numeric.map((column) => `  ${column.name}: Float`).join('\n')}\n}`,
      );
    }
    parts.push(
      `"""\naggregate sum on columns\n"""\ntype ${name}_sum_fields {\n${numeric.map((column) => `  ${column.name}: ${column.type}`).join('\n')}\n}`,
    );
  }
  for (const bound of ['max', 'min']) {
    parts.push(
      `"""\naggregate ${bound} on columns\n"""\ntype ${name}_${bound}_fields {\n${comparable.map((column) => `  ${column.name}: ${column.type}`).join('\n')}\n}`,
    );
  }
  const boolExp = [
    `  _and: [${name}_bool_exp!]`,
    `  _not: ${name}_bool_exp`,
    `  _or: [${name}_bool_exp!]`,
    ...table.columns.map((column) => `  ${column.name}: ${column.type}_comparison_exp`),
    ...table.relationships.map((relationship) => `  ${relationship.name}: ${relationship.table}_bool_exp`),
  ];
  parts.push(
    `"""\nBoolean expression to filter rows from the table "${name}". All fields are combined with a logical 'AND'.\n"""\ninput ${name}_bool_exp {\n${boolExp.join('\n')}\n}`,
    `"""\nunique or primary key constraints on table "${name}"\n"""\nenum ${name}_constraint {\n  """\n  unique or primary key constraint on columns "${pk.name}"\n  """\n  ${name}_pkey\n}`,
  );
  if (numeric.length > 0) {
    parts.push(
      `"""\ninput type for incrementing numeric columns in table "${name}"\n"""\ninput ${name}_inc_input {\n${numeric.map((column) => `  ${column.name}: ${column.type}`).join('\n')}\n}`,
    );
  }
  const insertFields = [
    ...table.columns.map((column) => `  ${column.name}: ${column.type}`),
    ...table.relationships.map((relationship) =>
      relationship.kind === 'object'
        ? `  ${relationship.name}: ${relationship.table}_obj_rel_insert_input`
        : `  ${relationship.name}: ${relationship.table}_arr_rel_insert_input`,
    ),
  ];
  parts.push(
    `"""\ninput type for inserting data into table "${name}"\n"""\ninput ${name}_insert_input {\n${insertFields.join('\n')}\n}`,
    `"""\nresponse of any mutation on the table "${name}"\n"""\ntype ${name}_mutation_response {\n  """number of rows affected by the mutation"""\n  affected_rows: Int!\n  """data from the rows affected by the mutation"""\n  returning: [${name}!]!\n}`,
    `"""\ninput type for inserting array relation for remote table "${name}"\n"""\ninput ${name}_arr_rel_insert_input {\n  data: [${name}_insert_input!]!\n  """upsert condition"""\n  on_conflict: ${name}_on_conflict\n}`,
    `"""\ninput type for inserting object relation for remote table "${name}"\n"""\ninput ${name}_obj_rel_insert_input {\n  data: ${name}_insert_input!\n  """upsert condition"""\n  on_conflict: ${name}_on_conflict\n}`,
    `"""\non_conflict condition type for table "${name}"\n"""\ninput ${name}_on_conflict {\n  constraint: ${name}_constraint!\n  update_columns: [${name}_update_column!]! = []\n  where: ${name}_bool_exp\n}`,
  );
  const orderBy = [
    ...table.columns.map((column) => `  ${column.name}: order_by`),
    ...table.relationships.map((relationship) =>
      relationship.kind === 'object'
        ? `  ${relationship.name}: ${relationship.table}_order_by`
        : `  ${relationship.name}_aggregate: ${relationship.table}_aggregate_order_by`,
    ),
  ];
  parts.push(
    `"""\nOrdering options when selecting data from "${name}".\n"""\ninput ${name}_order_by {\n${orderBy.join('\n')}\n}`,
    `"""\norder by aggregate values of table "${name}"\n"""\ninput ${name}_aggregate_order_by {\n  count: order_by\n}`,
    `"""\nprimary key columns input for table: ${name}\n"""\ninput ${name}_pk_columns_input {\n  ${pk.name}: ${pk.type}!\n}`,
    `"""\nselect columns of table "${name}"\n"""\nenum ${name}_select_column {\n${table.columns.map((column) => `  """column name"""\n  ${column.name}`).join('\n')}\n}`,
    `"""\ninput type for updating data in table "${name}"\n"""\ninput ${name}_set_input {\n${table.columns.map((column) => `  ${column.name}: ${column.type}`).join('\n')}\n}`,
    `"""\nupdate columns of table "${name}"\n"""\nenum ${name}_update_column {\n${table.columns.map((column) => `  """column name"""\n  ${column.name}`).join('\n')}\n}`,
    `"""\nStreaming cursor of the table "${name}"\n"""\ninput ${name}_stream_cursor_input {\n  """Stream column input with initial value"""\n  initial_value: ${name}_stream_cursor_value_input!\n  """cursor ordering"""\n  ordering: cursor_ordering\n}`,
    `"""\nInitial value of the column from where the streaming should start\n"""\ninput ${name}_stream_cursor_value_input {\n${table.columns.map((column) => `  ${column.name}: ${column.type}`).join('\n')}\n}`,
    `input ${name}_updates {\n${numeric.length > 0 ? `  """increments the numeric columns with given value of the filtered values"""\n  _inc: ${name}_inc_input\n` : ''}  """sets the columns of the filtered rows to the given values"""\n  _set: ${name}_set_input\n  """filter the rows which have to be updated"""\n  where: ${name}_bool_exp!\n}`,
  );
  for (const relationship of table.relationships) {
    if (!all.has(relationship.table)) throw new Error(`Unknown table ${relationship.table} in ${name}.`);
  }
  return parts.join('\n\n');
}

function rootFields(table: FixtureTable, operation: 'query' | 'mutation' | 'subscription'): string[] {
  const { name } = table;
  const pk = table.columns[0] as FixtureColumn;
  const hasNumeric = table.columns.some((column) => numericScalars.has(column.type));
  if (operation === 'mutation') {
    return [
      `  """\n  delete data from the table: "${name}"\n  """\n  delete_${name}(\n    """filter the rows which have to be deleted"""\n    where: ${name}_bool_exp!\n  ): ${name}_mutation_response`,
      `  """\n  delete single row from the table: "${name}"\n  """\n  delete_${name}_by_pk(${pk.name}: ${pk.type}!): ${name}`,
      `  """\n  insert data into the table: "${name}"\n  """\n  insert_${name}(\n    """the rows to be inserted"""\n    objects: [${name}_insert_input!]!\n    """upsert condition"""\n    on_conflict: ${name}_on_conflict\n  ): ${name}_mutation_response`,
      `  """\n  insert a single row into the table: "${name}"\n  """\n  insert_${name}_one(\n    """the row to be inserted"""\n    object: ${name}_insert_input!\n    """upsert condition"""\n    on_conflict: ${name}_on_conflict\n  ): ${name}`,
      `  """\n  update data of the table: "${name}"\n  """\n  update_${name}(\n${hasNumeric ? `    """increments the numeric columns with given value of the filtered values"""\n    _inc: ${name}_inc_input\n` : ''}    """sets the columns of the filtered rows to the given values"""\n    _set: ${name}_set_input\n    """filter the rows which have to be updated"""\n    where: ${name}_bool_exp!\n  ): ${name}_mutation_response`,
      `  """\n  update single row of the table: "${name}"\n  """\n  update_${name}_by_pk(\n${hasNumeric ? `    _inc: ${name}_inc_input\n` : ''}    _set: ${name}_set_input\n    pk_columns: ${name}_pk_columns_input!\n  ): ${name}`,
      `  """\n  update multiples rows of table: "${name}"\n  """\n  update_${name}_many(\n    """updates to execute, in order"""\n    updates: [${name}_updates!]!\n  ): [${name}_mutation_response]`,
    ];
  }
  const fields = [
    `  """\n  fetch data from the table: "${name}"\n  """\n  ${name}(\n    ${listArgs(name)}\n  ): [${name}!]!`,
    `  """\n  fetch aggregated fields from the table: "${name}"\n  """\n  ${name}_aggregate(\n    ${listArgs(name)}\n  ): ${name}_aggregate!`,
    `  """fetch data from the table: "${name}" using primary key columns"""\n  ${name}_by_pk(${pk.name}: ${pk.type}!): ${name}`,
  ];
  if (operation === 'subscription') {
    fields.push(
      `  """\n  fetch data from the table in a streaming manner: "${name}"\n  """\n  ${name}_stream(\n    """maximum number of rows returned in a single batch"""\n    batch_size: Int!\n    """cursor to stream the results returned by the query"""\n    cursor: [${name}_stream_cursor_input]!\n    """filter the rows returned"""\n    where: ${name}_bool_exp\n  ): [${name}!]!`,
    );
  }
  return fields;
}

/**
 * The SDL Hasura v2 serves for `tables`: the table types, every generated helper type, and the
 * query, mutation and subscription roots (`query_root`, `mutation_root`, `subscription_root`).
 */
export function hasuraSdl(tables: readonly FixtureTable[]): string {
  const all = new Map(tables.map((table) => [table.name, table]));
  const scalars = new Set<FixtureScalar>(['Int', 'String', 'Boolean']);
  for (const table of tables) for (const column of table.columns) scalars.add(column.type);
  const builtIn = new Set(['Int', 'String', 'Boolean', 'Float']);
  const parts = [
    'schema {\n  query: query_root\n  mutation: mutation_root\n  subscription: subscription_root\n}',
    ...[...scalars].filter((scalar) => !builtIn.has(scalar)).map((scalar) => `scalar ${scalar}`),
    ...[...scalars].sort().map(comparisonExp),
    '"""ordering argument of a cursor"""\nenum cursor_ordering {\n  """ascending ordering of the cursor"""\n  ASC\n  """descending ordering of the cursor"""\n  DESC\n}',
    '"""column ordering options"""\nenum order_by {\n  """in ascending order, nulls last"""\n  asc\n  """in ascending order, nulls first"""\n  asc_nulls_first\n  """in ascending order, nulls last"""\n  asc_nulls_last\n  """in descending order, nulls first"""\n  desc\n  """in descending order, nulls first"""\n  desc_nulls_first\n  """in descending order, nulls last"""\n  desc_nulls_last\n}',
    ...tables.map((table) => tableSdl(table, all)),
    `type query_root {\n${tables.flatMap((table) => rootFields(table, 'query')).join('\n')}\n}`,
    `"""mutation root"""\ntype mutation_root {\n${tables.flatMap((table) => rootFields(table, 'mutation')).join('\n')}\n}`,
    `type subscription_root {\n${tables.flatMap((table) => rootFields(table, 'subscription')).join('\n')}\n}`,
  ];
  return `${parts.join('\n\n')}\n`;
}

/** A small blog database: authors, articles (with an author), comments (on an article, by an author), tags. */
export const blogTables: FixtureTable[] = [
  {
    name: 'authors',
    description: 'People who write articles',
    columns: [
      { name: 'id', type: 'Int', nullable: false },
      { name: 'name', type: 'String', nullable: false, description: 'Full name as shown on the byline' },
      { name: 'email', type: 'String', nullable: true },
      { name: 'created_at', type: 'timestamptz', nullable: false },
    ],
    relationships: [
      { name: 'articles', table: 'articles', kind: 'array' },
      { name: 'comments', table: 'comments', kind: 'array' },
    ],
  },
  {
    name: 'articles',
    description: 'Published and draft articles',
    columns: [
      { name: 'id', type: 'Int', nullable: false },
      { name: 'title', type: 'String', nullable: false },
      { name: 'body', type: 'String', nullable: true },
      { name: 'rating', type: 'numeric', nullable: true },
      { name: 'is_published', type: 'Boolean', nullable: false },
      { name: 'author_id', type: 'Int', nullable: false },
    ],
    relationships: [
      { name: 'author', table: 'authors', kind: 'object' },
      { name: 'comments', table: 'comments', kind: 'array' },
    ],
  },
  {
    name: 'comments',
    columns: [
      { name: 'id', type: 'Int', nullable: false },
      { name: 'body', type: 'String', nullable: false },
      { name: 'article_id', type: 'Int', nullable: false },
      { name: 'author_id', type: 'Int', nullable: false },
    ],
    relationships: [
      { name: 'article', table: 'articles', kind: 'object' },
      { name: 'author', table: 'authors', kind: 'object' },
    ],
  },
  {
    name: 'tags',
    columns: [
      { name: 'id', type: 'Int', nullable: false },
      { name: 'label', type: 'String', nullable: false },
      { name: 'metadata', type: 'jsonb', nullable: true },
    ],
    relationships: [],
  },
];
