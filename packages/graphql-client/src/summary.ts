import { BallastError, countTextTokens } from '@ballast/core';
import {
  type GraphQLArgument,
  type GraphQLEnumType,
  type GraphQLField,
  type GraphQLInputObjectType,
  type GraphQLInterfaceType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isLeafType,
  isListType,
  isObjectType,
  isScalarType,
  isUnionType,
  print,
} from 'graphql';

type Field = GraphQLField<unknown, unknown>;

/** Options of {@link summarizeSchema}. */
export interface SummarizeSchemaOptions {
  /** The most tokens the summary may take. */
  budgetTokens: number;
  /** The model whose tokenizer counts the tokens (see `countTextTokens` in `@ballast/core`). @default o200k_base */
  model?: string;
}

/** A schema summary from {@link summarizeSchema}. */
export interface SchemaSummary {
  /** The summary, ready to put in an agent's context. */
  text: string;
  /** Its size in tokens, at most `budgetTokens`. */
  tokens: number;
  /** How many tables, types and root fields are not shown in full (their names may still be listed). */
  omitted: number;
}

/** What a {@link describeType} call found. */
export type TypeDescription =
  | {
      found: true;
      /** The name described: a type (`articles`) or a field (`mutation_root.insert_articles`). */
      name: string;
      kind: 'table' | 'object' | 'interface' | 'union' | 'enum' | 'input' | 'scalar' | 'field';
      /** The description, one item a line. */
      text: string;
    }
  | {
      found: false;
      name: string;
      /** Names close to the one asked for. */
      suggestions: string[];
      /** A sentence saying so, with the suggestions. */
      text: string;
    };

/** What a {@link SearchHit} names. */
export type SearchHitKind = 'type' | 'root-field' | 'field' | 'argument' | 'enum-value' | 'input-field';

/** How a {@link SearchHit} matched the keyword; listed best first. */
export type SearchMatch = 'exact' | 'prefix' | 'substring' | 'description';

/** One match of {@link searchSchema}. */
export interface SearchHit {
  /**
   * Where the match is declared: `articles` (a type), `articles.title: String!` (a field),
   * `query_root.articles_by_pk(id: Int!)` (an argument), `order_by.asc` (an enum value).
   */
  path: string;
  kind: SearchHitKind;
  match: SearchMatch;
  /** The type that declares the match (the type itself for a type). */
  typeName: string;
  /** For types and fields reachable from the query root: the shortest path, like `query_root.articles.author`. */
  reach?: string;
  /** The start of the description, when it has one. */
  description?: string;
}

/** Options of {@link searchSchema}. */
export interface SearchSchemaOptions {
  /** The most hits to return. @default 20 */
  limit?: number;
}

/** The outcome of {@link searchSchema}. */
export interface SearchResult {
  /** The best hits, best first. */
  hits: SearchHit[];
  /** How many matched in all. */
  total: number;
}

// ---------------------------------------------------------------------------------------------
// Schema model: Hasura table families, helper types, relationships, ranking. Built once per schema.

const objectHelperSuffix =
  /^(aggregate|aggregate_fields|(avg|max|min|sum|stddev|stddev_pop|stddev_samp|var_pop|var_samp|variance)_fields|mutation_response)$/;
const sharedHelpers = new Set(['order_by', 'cursor_ordering']);
const maxColumnsInSummary = 40;

interface Relationship {
  field: Field;
  target: string;
  kind: 'object' | 'array' | 'aggregate';
}

interface Entry {
  type: GraphQLObjectType;
  /** The root query field listing its rows, for a Hasura table. */
  rootField: string | undefined;
  byPk: Field | undefined;
  aggregate: Field | undefined;
  columns: Field[];
  relationships: Relationship[];
  score: number;
}

interface Model {
  schema: GraphQLSchema;
  hasura: boolean;
  rootNames: Set<string>;
  /** Tables and other object types, most important first. */
  entries: Entry[];
  entryByName: Map<string, Entry>;
  /** Query and mutation root fields that belong to a table family (`t`, `t_by_pk`, `insert_t`, ...). */
  familyFields: Set<string>;
  /** Family mutation fields per table type name. */
  mutationsOf: Map<string, string[]>;
  otherQueryFields: Field[];
  otherMutationFields: Field[];
  /** Helper type name to the table it belongs to ('' for shared helpers like `Int_comparison_exp`). */
  helpers: Map<string, string>;
  /** Shortest path from the query root to each reachable object type. */
  reach: Map<string, string>;
}

const models = new WeakMap<GraphQLSchema, Model>();

function modelOf(schema: GraphQLSchema): Model {
  let model = models.get(schema);
  if (!model) {
    model = buildModel(schema);
    models.set(schema, model);
  }
  return model;
}

function buildModel(schema: GraphQLSchema): Model {
  const query = schema.getQueryType();
  const mutation = schema.getMutationType();
  const subscription = schema.getSubscriptionType();
  const rootNames = new Set([query, mutation, subscription].flatMap((type) => (type ? [type.name] : [])));
  const queryFields = query ? Object.values(query.getFields()) : [];
  const mutationFields = mutation ? Object.values(mutation.getFields()) : [];
  const queryByName = new Map(queryFields.map((field) => [field.name, field]));
  const mutationNames = new Set(mutationFields.map((field) => field.name));

  // A Hasura table: a root list field `t` of object type with a `t_aggregate` or `t_by_pk` sibling.
  const families = new Map<string, { rootField: string; byPk?: Field; aggregate?: Field }>();
  const familyFields = new Set<string>();
  const mutationsOf = new Map<string, string[]>();
  const candidates = [...queryFields].sort((a, b) => Number(isNamed(b)) - Number(isNamed(a)));
  function isNamed(field: Field): boolean {
    return getNamedType(field.type).name === field.name;
  }
  for (const field of candidates) {
    const type = getNullableType(field.type);
    const element = getNamedType(field.type);
    if (!isListType(type) || !isObjectType(element) || rootNames.has(element.name)) continue;
    if (field.args.some((argument) => argument.name === 'args')) continue; // a SQL function, not the table
    const byPk = queryByName.get(`${field.name}_by_pk`);
    const aggregate = queryByName.get(`${field.name}_aggregate`);
    if (!byPk && !aggregate) continue;
    if (families.has(element.name)) continue;
    families.set(element.name, {
      rootField: field.name,
      ...(byPk ? { byPk } : {}),
      ...(aggregate ? { aggregate } : {}),
    });
    familyFields.add(field.name);
    if (byPk) familyFields.add(byPk.name);
    if (aggregate) familyFields.add(aggregate.name);
    const mutations = [
      `insert_${field.name}`,
      `insert_${field.name}_one`,
      `update_${field.name}`,
      `update_${field.name}_by_pk`,
      `update_${field.name}_many`,
      `delete_${field.name}`,
      `delete_${field.name}_by_pk`,
    ].filter((name) => mutationNames.has(name));
    for (const name of mutations) familyFields.add(name);
    mutationsOf.set(element.name, mutations);
  }
  const hasura = families.size > 0;

  const helpers = new Map<string, string>();
  const typeMap = schema.getTypeMap();
  if (hasura) {
    for (const [name, type] of Object.entries(typeMap)) {
      if (name.startsWith('__') || families.has(name)) continue;
      if (name.endsWith('_comparison_exp') || sharedHelpers.has(name)) {
        helpers.set(name, '');
        continue;
      }
      const table = tablePrefix(name, families);
      if (table === undefined) continue;
      if (!isObjectType(type) || objectHelperSuffix.test(name.slice(table.length + 1)))
        helpers.set(name, table);
    }
  }

  const entries: Entry[] = [];
  for (const type of Object.values(typeMap)) {
    if (
      !isObjectType(type) ||
      type.name.startsWith('__') ||
      rootNames.has(type.name) ||
      helpers.has(type.name)
    ) {
      continue;
    }
    const family = families.get(type.name);
    const columns: Field[] = [];
    const relationships: Relationship[] = [];
    for (const field of Object.values(type.getFields())) {
      const named = getNamedType(field.type);
      if (isLeafType(named)) columns.push(field);
      else if (hasura && field.name.endsWith('_aggregate') && helpers.has(named.name)) {
        relationships.push({ field, target: helpers.get(named.name) || named.name, kind: 'aggregate' });
      } else {
        const kind = isListType(getNullableType(field.type)) ? 'array' : 'object';
        relationships.push({ field, target: named.name, kind });
      }
    }
    entries.push({
      type,
      rootField: family?.rootField,
      byPk: family?.byPk,
      aggregate: family?.aggregate,
      columns,
      relationships,
      score: 0,
    });
  }
  const entryByName = new Map(entries.map((entry) => [entry.type.name, entry]));
  const rootExposed = new Set(
    [...queryFields, ...mutationFields].map((field) => helperTable(getNamedType(field.type).name, helpers)),
  );
  // Importance: exposed at the root first, then how many types point at it one-to-one (a foreign
  // key's target is a hub like users), then how many relationships it has.
  const referenced = new Map<string, number>();
  for (const entry of entries) {
    for (const relationship of entry.relationships) {
      if (relationship.kind !== 'object' || relationship.target === entry.type.name) continue;
      referenced.set(relationship.target, (referenced.get(relationship.target) ?? 0) + 1);
    }
  }
  for (const entry of entries) {
    const related = entry.relationships.filter((relationship) => relationship.kind !== 'aggregate').length;
    const exposed = entry.rootField !== undefined || rootExposed.has(entry.type.name);
    entry.score = (exposed ? 1000 : 0) + 3 * (referenced.get(entry.type.name) ?? 0) + related;
  }
  entries.sort((a, b) => b.score - a.score || a.type.name.localeCompare(b.type.name));

  const reach = new Map<string, string>();
  const queue: string[] = [];
  if (query) {
    const ordered = [...queryFields].sort(
      (a, b) => Number(familyFields.has(b.name)) - Number(familyFields.has(a.name)),
    );
    for (const field of ordered) {
      const target = getNamedType(field.type).name;
      if (!entryByName.has(target) || reach.has(target)) continue;
      reach.set(target, `${query.name}.${field.name}`);
      queue.push(target);
    }
  }
  for (let index = 0; index < queue.length; index += 1) {
    const name = queue[index] as string;
    const entry = entryByName.get(name);
    for (const relationship of entry?.relationships ?? []) {
      if (relationship.kind === 'aggregate' || reach.has(relationship.target)) continue;
      if (!entryByName.has(relationship.target)) continue;
      reach.set(relationship.target, `${reach.get(name)}.${relationship.field.name}`);
      queue.push(relationship.target);
    }
  }

  return {
    schema,
    hasura,
    rootNames,
    entries,
    entryByName,
    familyFields,
    mutationsOf,
    otherQueryFields: queryFields.filter((field) => !familyFields.has(field.name)),
    otherMutationFields: mutationFields.filter((field) => !familyFields.has(field.name)),
    helpers,
    reach,
  };
}

/** The longest table name `t` such that `name` starts with `t_`. */
function tablePrefix(name: string, tables: Map<string, unknown>): string | undefined {
  for (let index = name.lastIndexOf('_'); index > 0; index = name.lastIndexOf('_', index - 1)) {
    const prefix = name.slice(0, index);
    if (tables.has(prefix)) return prefix;
  }
  return undefined;
}

function helperTable(name: string, helpers: Map<string, string>): string {
  return helpers.get(name) || name;
}

// ---------------------------------------------------------------------------------------------
// summarizeSchema

interface Item {
  name: string;
  section: string;
  line: string;
}

/**
 * Summarizes a schema for an agent's context within a token budget: the root query fields and
 * the tables (or object types) with their columns (`id:Int! title:String!`) and relationships
 * (`author:authors comments:[comments]`), most connected first. Hasura's generated families are
 * recognised: each table is listed once, with flags for `<t>_by_pk` and `<t>_aggregate`, and its
 * helper types (`_bool_exp`, `_order_by`, comparison expressions, aggregate fields) are explained
 * once in the header instead of listed. What does not fit is counted, named while names fit, and
 * left to {@link describeType} and {@link searchSchema}.
 *
 * @param schema the schema
 * @param options the budget in tokens and the model whose tokenizer counts them
 * @returns the text, its exact token count (at most the budget) and how many items are not shown in full
 * @throws {BallastError} `GRAPHQL_INVALID_OPTIONS` when `budgetTokens` is not a positive integer
 * @example
 * ```ts
 * const { text, tokens, omitted } = summarizeSchema(schema, { budgetTokens: 2000 });
 * ```
 */
export function summarizeSchema(schema: GraphQLSchema, options: SummarizeSchemaOptions): SchemaSummary {
  const { budgetTokens, model: tokenModel } = options;
  if (!Number.isInteger(budgetTokens) || budgetTokens < 1) {
    throw new BallastError(
      'GRAPHQL_INVALID_OPTIONS',
      `budgetTokens must be an integer of at least 1, got ${budgetTokens}.`,
      { details: { field: 'budgetTokens' } },
    );
  }
  const measure = (text: string): number => countTextTokens(text, tokenModel);
  const model = modelOf(schema);
  const header = headerOf(model);
  const items = itemsOf(model);
  const noun = model.hasura ? 'tables' : 'types';

  const render = (full: number, named: number, withHeader: boolean): string => {
    const lines = withHeader ? [...header] : [];
    let section = '';
    for (const item of items.slice(0, full)) {
      if (item.section !== section) {
        section = item.section;
        lines.push(section);
      }
      lines.push(item.line);
    }
    const omitted = items.length - full;
    if (omitted > 0) {
      const names = items.slice(full, full + named).map((item) => item.name);
      const unlisted = omitted - names.length;
      lines.push(
        `Not shown in full: ${omitted} ${full === 0 ? 'items' : `more ${noun}/fields`}${names.length > 0 ? `: ${names.join(', ')}` : ''}${unlisted > 0 ? `${names.length > 0 ? ',' : ''} and ${unlisted} more` : ''}.`,
      );
    }
    lines.push(
      `describe("<name>") gives a ${model.hasura ? 'table' : 'type'}'s fields with arguments${model.hasura ? ', filter operators and aggregates' : ''}; search("<keyword>") finds types, fields and arguments.`,
    );
    return lines.join('\n');
  };

  const all = render(items.length, 0, true);
  const allTokens = measure(all);
  if (allTokens <= budgetTokens) return { text: all, tokens: allTokens, omitted: 0 };

  // Estimate from per-piece counts, then correct against the exact count of the whole text.
  const base = measure(render(0, 0, true));
  const lineTokens = items.map((item) => measure(`${item.line}\n`));
  const nameTokens = items.map((item) => measure(`${item.name}, `));
  const sectionTokens = [...new Set(items.map((item) => item.section))].reduce(
    (sum, section) => sum + measure(`${section}\n`),
    0,
  );
  const named = (from: number, room: number): number => {
    let count = 0;
    for (let index = from; index < items.length && room >= (nameTokens[index] as number); index += 1) {
      room -= nameTokens[index] as number;
      count += 1;
    }
    return count;
  };
  let full = 0;
  let used = base + sectionTokens;
  while (full < items.length && used + (lineTokens[full] as number) <= budgetTokens) {
    used += lineTokens[full] as number;
    full += 1;
  }
  // Give up the last full lines for the names of the rest, but keep at least half the budget for lines.
  while (
    full > 0 &&
    named(full, budgetTokens - used) < items.length - full &&
    budgetTokens - used < budgetTokens / 2
  ) {
    full -= 1;
    used -= lineTokens[full] as number;
  }
  for (const withHeader of [true, false]) {
    for (let shown = full; shown >= 0; shown -= 1) {
      const room =
        budgetTokens - base - sectionTokens - lineTokens.slice(0, shown).reduce((a, b) => a + b, 0);
      for (
        let names = named(shown, Math.max(0, room));
        names >= 0;
        names = names > 8 ? names - 8 : names - 1
      ) {
        const text = render(shown, names, withHeader);
        const tokens = measure(text);
        if (tokens <= budgetTokens) return { text, tokens, omitted: items.length - shown };
      }
    }
  }
  return { text: '', tokens: 0, omitted: items.length };
}

function headerOf(model: Model): string[] {
  const { schema, hasura } = model;
  const tables = model.entries.filter((entry) => entry.rootField !== undefined).length;
  const lines: string[] = [];
  if (hasura) {
    const others = model.entries.length - tables;
    lines.push(
      `GraphQL schema (Hasura-style): ${tables} tables${others > 0 ? `, ${others} other object types` : ''}${model.otherQueryFields.length > 0 ? `, ${model.otherQueryFields.length} other query fields` : ''}.`,
      'Each table t is queried as t(where, order_by, limit, offset, distinct_on): [t]; "pk:<columns>" marks t_by_pk(<columns>), "agg" marks t_aggregate { aggregate { count sum avg max min } nodes }.',
    );
    const operators = comparisonOperators(schema);
    if (operators.length > 0) {
      lines.push(
        `where: { <column>: { ${operators.join(' ')} }, <relationship>: { ... }, _and: [...], _or: [...], _not: {...} }; order_by: { <column>: asc|desc }.`,
      );
    }
    const mutation = schema.getMutationType();
    if (mutation) {
      const withMutations = [...model.mutationsOf.values()].filter((names) => names.length > 0).length;
      if (withMutations > 0) {
        lines.push(
          `Mutations (only where allowed): insert_t, insert_t_one, update_t, update_t_by_pk, delete_t, delete_t_by_pk for ${withMutations} tables${model.otherMutationFields.length > 0 ? `, and ${model.otherMutationFields.length} others below` : ''}.`,
        );
      }
    }
  } else {
    const query = schema.getQueryType();
    lines.push(
      `GraphQL schema: ${model.otherQueryFields.length} query fields${query ? ` on ${query.name}` : ''}, ${model.entries.length} object types${model.otherMutationFields.length > 0 ? `, ${model.otherMutationFields.length} mutations` : ''}. Arguments of nested fields are shown by name; types as name:Type.`,
    );
  }
  return lines;
}

function comparisonOperators(schema: GraphQLSchema): string[] {
  const names = new Set<string>();
  for (const name of ['Int_comparison_exp', 'String_comparison_exp']) {
    const type = schema.getType(name);
    if (isInputObjectType(type)) for (const field of Object.keys(type.getFields())) names.add(field);
  }
  return [...names];
}

function itemsOf(model: Model): Item[] {
  const items: Item[] = [];
  const query = model.schema.getQueryType();
  const mutation = model.schema.getMutationType();
  for (const field of model.otherQueryFields) {
    items.push({
      name: field.name,
      section: `Query fields (${query?.name ?? 'Query'}):`,
      line: rootFieldLine(field),
    });
  }
  const tableSection = model.hasura
    ? 'Tables (name: columns | relationships | flags), most connected first:'
    : 'Types (name: scalar fields | object fields), most connected first:';
  const typeSection = 'Other object types:';
  // Tables first, then the types only reached through them (the sort is stable, so rank is kept).
  const ordered = model.hasura
    ? [...model.entries].sort((a, b) => Number(a.rootField === undefined) - Number(b.rootField === undefined))
    : model.entries;
  for (const entry of ordered) {
    const section = !model.hasura || entry.rootField !== undefined ? tableSection : typeSection;
    items.push({ name: entry.type.name, section, line: entryLine(entry, model) });
  }
  for (const field of model.otherMutationFields) {
    items.push({
      name: field.name,
      section: `Mutations (${mutation?.name ?? 'Mutation'}; only where allowed):`,
      line: rootFieldLine(field),
    });
  }
  return items;
}

function rootFieldLine(field: Field): string {
  const args = field.args.map((argument) => `${argument.name}:${String(argument.type)}`).join(',');
  return `${field.name}${args ? `(${args})` : ''}:${String(field.type)}`;
}

function entryLine(entry: Entry, model: Model): string {
  const shown = entry.columns.slice(0, maxColumnsInSummary);
  const columns = shown.map((field) => `${field.name}:${String(field.type)}`);
  if (entry.columns.length > shown.length) columns.push(`+${entry.columns.length - shown.length} more`);
  const relationships = entry.relationships
    .filter((relationship) => relationship.kind !== 'aggregate')
    .map((relationship) => {
      const args =
        !model.hasura && relationship.field.args.length > 0
          ? `(${relationship.field.args.map((a) => a.name).join(',')})`
          : '';
      const target = relationship.kind === 'array' ? `[${relationship.target}]` : relationship.target;
      return `${relationship.field.name}${args}:${target}`;
    });
  const flags: string[] = [];
  if (entry.rootField !== undefined && entry.rootField !== entry.type.name)
    flags.push(`query:${entry.rootField}`);
  if (entry.byPk) flags.push(`pk:${entry.byPk.args.map((argument) => argument.name).join(',')}`);
  if (entry.aggregate) flags.push('agg');
  const parts = [columns.join(' ')];
  if (relationships.length > 0 || flags.length > 0) parts.push(relationships.join(' ') || '-');
  if (flags.length > 0) parts.push(flags.join(' '));
  return `${entry.type.name}: ${parts.join(' | ')}`;
}

// ---------------------------------------------------------------------------------------------
// describeType

/**
 * Describes one type, table or root field in full: fields with arguments, defaults and
 * descriptions, enum values, input fields, union members. For a Hasura table it adds its root
 * fields, its filter operators per column, its ordering, its aggregate functions and its mutations,
 * in brief.
 *
 * @param schema the schema
 * @param name a type name (`articles`, `order_by`), a root field name (`articles_by_pk`,
 * `insert_articles`) or `Type.field`
 * @returns `{ found: true, kind, text }`, or `{ found: false, suggestions, text }` for an unknown name
 * @example
 * ```ts
 * describeType(schema, 'articles').text;
 * // table articles: Published and draft articles
 * // columns:
 * //   id: Int!
 * //   ...
 * ```
 */
export function describeType(schema: GraphQLSchema, name: string): TypeDescription {
  const model = modelOf(schema);
  const wanted = name.trim();
  const type = schema.getType(wanted) ?? caseInsensitiveType(schema, wanted);
  if (type) return describeNamedType(model, type);
  const dot = wanted.indexOf('.');
  if (dot > 0) {
    const owner = schema.getType(wanted.slice(0, dot));
    const fieldName = wanted.slice(dot + 1);
    if (isObjectType(owner) || isInterfaceType(owner)) {
      const field = owner.getFields()[fieldName];
      if (field)
        return {
          found: true,
          name: `${owner.name}.${field.name}`,
          kind: 'field',
          text: fieldText(owner, field),
        };
    }
  }
  for (const root of [schema.getQueryType(), schema.getMutationType()]) {
    const field = root?.getFields()[wanted];
    if (root && field)
      return { found: true, name: `${root.name}.${field.name}`, kind: 'field', text: fieldText(root, field) };
  }
  const suggestions = suggest(model, wanted);
  return {
    found: false,
    name: wanted,
    suggestions,
    text: `No type or root field named "${wanted}".${suggestions.length > 0 ? ` Did you mean ${suggestions.map((s) => `"${s}"`).join(', ')}?` : ''} search("<keyword>") finds types and fields.`,
  };
}

function caseInsensitiveType(schema: GraphQLSchema, name: string): GraphQLNamedType | undefined {
  const lower = name.toLowerCase();
  return Object.values(schema.getTypeMap()).find((type) => type.name.toLowerCase() === lower);
}

function describeNamedType(model: Model, type: GraphQLNamedType): TypeDescription {
  const entry = model.entryByName.get(type.name);
  if (entry?.rootField !== undefined)
    return { found: true, name: type.name, kind: 'table', text: tableText(model, entry) };
  const lines: string[] = [];
  const about = (kind: string): string =>
    `${kind} ${type.name}${type.description ? `: ${oneLine(type.description)}` : ''}`;
  if (isObjectType(type) || isInterfaceType(type)) {
    const kind = isObjectType(type) ? 'object' : 'interface';
    lines.push(about(kind === 'object' ? 'type' : 'interface'));
    const interfaces = type.getInterfaces();
    if (interfaces.length > 0) lines.push(`implements: ${interfaces.map((item) => item.name).join(', ')}`);
    if (isInterfaceType(type)) {
      const implementations = model.schema.getImplementations(type);
      const names = [...implementations.objects, ...implementations.interfaces].map((item) => item.name);
      if (names.length > 0) lines.push(`implemented by: ${names.join(', ')}`);
    }
    lines.push('fields:', ...Object.values(type.getFields()).map((field) => `  ${fieldSignature(field)}`));
    if (entry) lines.push(...reachLine(model, type.name));
    return { found: true, name: type.name, kind, text: lines.join('\n') };
  }
  if (isUnionType(type)) {
    lines.push(
      about('union'),
      `members: ${type
        .getTypes()
        .map((member) => member.name)
        .join(' | ')}`,
    );
    return { found: true, name: type.name, kind: 'union', text: lines.join('\n') };
  }
  if (isEnumType(type)) {
    lines.push(about('enum'), 'values:', ...enumValueLines(type));
    return { found: true, name: type.name, kind: 'enum', text: lines.join('\n') };
  }
  if (isInputObjectType(type)) {
    lines.push(about('input'), 'fields:', ...inputFieldLines(type));
    const table = model.helpers.get(type.name);
    if (table) lines.push(`(generated for table ${table}; describe("${table}") for the table)`);
    return { found: true, name: type.name, kind: 'input', text: lines.join('\n') };
  }
  lines.push(about('scalar'));
  if (isScalarType(type) && type.specifiedByURL) lines.push(`specified by: ${type.specifiedByURL}`);
  return { found: true, name: type.name, kind: 'scalar', text: lines.join('\n') };
}

function tableText(model: Model, entry: Entry): string {
  const { schema } = model;
  const name = entry.type.name;
  const lines = [`table ${name}${entry.type.description ? `: ${oneLine(entry.type.description)}` : ''}`];
  const query = schema.getQueryType();
  const rootField = entry.rootField ? query?.getFields()[entry.rootField] : undefined;
  lines.push('query fields:');
  if (rootField) lines.push(`  ${fieldSignature(rootField, false)}`);
  if (entry.byPk) lines.push(`  ${fieldSignature(entry.byPk, false)}`);
  if (entry.aggregate)
    lines.push(`  ${entry.aggregate.name}(same arguments): ${String(entry.aggregate.type)}`);
  lines.push('columns:', ...entry.columns.map((field) => `  ${fieldSignature(field)}`));
  if (entry.relationships.length > 0) {
    lines.push('relationships:');
    for (const relationship of entry.relationships) {
      const { field } = relationship;
      const args = field.args.length > 0 ? `(${field.args.map((argument) => argument.name).join(', ')})` : '';
      const kind =
        relationship.kind === 'aggregate'
          ? `aggregate of ${relationship.target}`
          : `${relationship.kind} relationship`;
      lines.push(
        `  ${field.name}${args}: ${String(field.type)} (${kind})${descriptionSuffix(field.description, kind)}`,
      );
    }
  }
  const filter = schema.getType(`${name}_bool_exp`);
  if (isInputObjectType(filter)) lines.push(...filterLines(filter));
  const orderBy = schema.getType(`${name}_order_by`);
  if (isInputObjectType(orderBy)) {
    const values = schema.getType('order_by');
    const fields = Object.values(orderBy.getFields()).map((field) => {
      const named = getNamedType(field.type);
      return named.name === 'order_by' ? field.name : `${field.name} (${named.name})`;
    });
    lines.push(
      `order_by (${orderBy.name}): ${fields.join(', ')}${
        isEnumType(values)
          ? `; directions: ${values
              .getValues()
              .map((value) => value.name)
              .join(' ')}`
          : ''
      }`,
    );
  }
  const aggregateType = entry.aggregate ? getNamedType(entry.aggregate.type) : undefined;
  const aggregateFieldsType = isObjectType(aggregateType)
    ? getNamedType(aggregateType.getFields().aggregate?.type ?? aggregateType)
    : undefined;
  if (isObjectType(aggregateFieldsType) && aggregateFieldsType !== aggregateType) {
    lines.push(
      `aggregate (${entry.aggregate?.name} { aggregate { ... } nodes { ... } }):`,
      ...aggregateLines(aggregateFieldsType),
    );
  }
  const mutations = model.mutationsOf.get(name) ?? [];
  if (mutations.length > 0) lines.push(`mutations (only where allowed): ${mutations.join(', ')}`);
  lines.push(...reachLine(model, name));
  return lines.join('\n');
}

function filterLines(filter: GraphQLInputObjectType): string[] {
  const logic: string[] = [];
  const byComparison = new Map<string, string[]>();
  const nested: string[] = [];
  for (const field of Object.values(filter.getFields())) {
    const named = getNamedType(field.type);
    if (field.name.startsWith('_')) logic.push(field.name);
    else if (named.name.endsWith('_comparison_exp')) {
      const columns = byComparison.get(named.name) ?? [];
      columns.push(field.name);
      byComparison.set(named.name, columns);
    } else nested.push(`${field.name} (${named.name})`);
  }
  const lines = [`where (${filter.name}):${logic.length > 0 ? ` ${logic.join(', ')};` : ''}`];
  for (const [comparison, columns] of byComparison) {
    const type = filter.getFields()[columns[0] as string]?.type;
    const named = type ? getNamedType(type) : undefined;
    const operators = isInputObjectType(named) ? Object.keys(named.getFields()).join(' ') : '';
    lines.push(`  ${columns.join(', ')}: ${operators} (${comparison})`);
  }
  if (nested.length > 0) lines.push(`  relationships: ${nested.join(', ')}`);
  return lines;
}

function aggregateLines(type: GraphQLObjectType): string[] {
  const groups = new Map<string, string[]>();
  const lines: string[] = [];
  for (const field of Object.values(type.getFields())) {
    const named = getNamedType(field.type);
    if (isObjectType(named)) {
      const columns = Object.keys(named.getFields()).join(', ');
      const functions = groups.get(columns) ?? [];
      functions.push(field.name);
      groups.set(columns, functions);
    } else lines.push(`  ${fieldSignature(field, false)}`);
  }
  for (const [columns, functions] of groups) lines.push(`  ${functions.join(', ')}: ${columns}`);
  return lines;
}

function reachLine(model: Model, name: string): string[] {
  const path = model.reach.get(name);
  return path ? [`reached by: ${path}`] : [];
}

function fieldText(owner: GraphQLObjectType | GraphQLInterfaceType, field: Field): string {
  const lines = [`${owner.name}.${field.name}: ${String(field.type)}${descriptionSuffix(field.description)}`];
  if (field.deprecationReason) lines.push(`deprecated: ${field.deprecationReason}`);
  if (field.args.length > 0)
    lines.push('arguments:', ...field.args.map((argument) => `  ${argumentSignature(argument)}`));
  return lines.join('\n');
}

function fieldSignature(field: Field, withDescription = true): string {
  const args = field.args.length > 0 ? `(${field.args.map(argumentSignature).join(', ')})` : '';
  const deprecated = field.deprecationReason ? ` (deprecated: ${field.deprecationReason})` : '';
  return `${field.name}${args}: ${String(field.type)}${deprecated}${withDescription ? descriptionSuffix(field.description) : ''}`;
}

function argumentSignature(argument: GraphQLArgument): string {
  const fallback = argument.astNode?.defaultValue
    ? ` = ${print(argument.astNode.defaultValue)}`
    : defaultOf(argument);
  return `${argument.name}: ${String(argument.type)}${fallback}`;
}

function defaultOf(value: { defaultValue?: unknown }): string {
  return value.defaultValue === undefined ? '' : ` = ${JSON.stringify(value.defaultValue)}`;
}

function enumValueLines(type: GraphQLEnumType): string[] {
  return type.getValues().map((value) => {
    const deprecated = value.deprecationReason ? ` (deprecated: ${value.deprecationReason})` : '';
    return `  ${value.name}${deprecated}${descriptionSuffix(value.description)}`;
  });
}

function inputFieldLines(type: GraphQLInputObjectType): string[] {
  return Object.values(type.getFields()).map((field) => {
    const fallback = field.astNode?.defaultValue
      ? ` = ${print(field.astNode.defaultValue)}`
      : defaultOf(field);
    return `  ${field.name}: ${String(field.type)}${fallback}${descriptionSuffix(field.description)}`;
  });
}

// Hasura's boilerplate descriptions ("column name", "An object relationship") say nothing the line does not.
const boilerplate = /^(column name|an (object|array|aggregate) relationship)$/i;

function descriptionSuffix(description: string | null | undefined, kind?: string): string {
  if (!description) return '';
  const text = oneLine(description);
  if (boilerplate.test(text) || (kind !== undefined && text.toLowerCase() === `an ${kind}`)) return '';
  return ` - ${text}`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function suggest(model: Model, wanted: string): string[] {
  const lower = wanted.toLowerCase();
  const names = [
    ...Object.keys(model.schema.getTypeMap()).filter((name) => !name.startsWith('__')),
    ...[model.schema.getQueryType(), model.schema.getMutationType()].flatMap((root) =>
      root ? Object.keys(root.getFields()) : [],
    ),
  ];
  const threshold = Math.max(1, Math.floor(lower.length / 3));
  const scored: Array<[string, number]> = [];
  for (const name of new Set(names)) {
    const candidate = name.toLowerCase();
    const distance = candidate.includes(lower) ? 0.5 : editDistance(lower, candidate, threshold);
    if (distance <= threshold) scored.push([name, distance + (model.helpers.has(name) ? 1 : 0)]);
  }
  scored.sort((a, b) => a[1] - b[1] || a[0].length - b[0].length || a[0].localeCompare(b[0]));
  return scored.slice(0, 5).map(([name]) => name);
}

/** Levenshtein distance, giving up (returning limit + 1) once it exceeds `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    let best = i;
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const value = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
      current.push(value);
      best = Math.min(best, value);
    }
    if (best > limit) return limit + 1;
    previous = current;
  }
  return previous[b.length] as number;
}

// ---------------------------------------------------------------------------------------------
// searchSchema

interface IndexEntry {
  name: string;
  lower: string;
  kind: SearchHitKind;
  path: string;
  typeName: string;
  typeLower: string;
  description: string | undefined;
  descriptionLower: string;
  helper: boolean;
  reach: string | undefined;
}

const kindRank: Record<SearchHitKind, number> = {
  type: 0,
  'root-field': 1,
  field: 2,
  'enum-value': 3,
  'input-field': 4,
  argument: 5,
};
const matchRank: Record<SearchMatch, number> = { exact: 0, prefix: 1, substring: 2, description: 3 };
const indexes = new WeakMap<GraphQLSchema, IndexEntry[]>();

/**
 * Searches type names, field names (with their arguments, enum values and input fields) and
 * descriptions for a keyword, ranked exact name match first, then prefix, then substring, then
 * description; within a rank, tables and their columns come before Hasura's generated helper
 * types. `Type.field` narrows the search to one type's fields; several words must all match.
 *
 * @param schema the schema
 * @param keyword a name or part of one (case-insensitive), `Type.field`, or several words
 * @param options the most hits to return
 * @returns the best hits, each with a declaration path and (when reachable) the path from the query root, and the total
 * @throws {BallastError} `GRAPHQL_INVALID_OPTIONS` when `limit` is not a positive integer
 * @example
 * ```ts
 * searchSchema(schema, 'title').hits[0];
 * // { path: 'articles.title: String!', kind: 'field', match: 'exact', typeName: 'articles', reach: 'query_root.articles.title' }
 * ```
 */
export function searchSchema(
  schema: GraphQLSchema,
  keyword: string,
  options: SearchSchemaOptions = {},
): SearchResult {
  const limit = options.limit ?? 20;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new BallastError(
      'GRAPHQL_INVALID_OPTIONS',
      `limit must be an integer of at least 1, got ${limit}.`,
      {
        details: { field: 'limit' },
      },
    );
  }
  const wanted = keyword.trim().toLowerCase();
  if (wanted === '') return { hits: [], total: 0 };
  let index = indexes.get(schema);
  if (!index) {
    index = buildIndex(modelOf(schema));
    indexes.set(schema, index);
  }
  const dot = wanted.indexOf('.');
  const owner = dot > 0 && !/\s/.test(wanted) ? wanted.slice(0, dot) : undefined;
  const terms = owner === undefined ? wanted.split(/\s+/) : [wanted.slice(dot + 1)];
  const scored: Array<{ entry: IndexEntry; match: SearchMatch }> = [];
  for (const entry of index) {
    if (owner !== undefined && (entry.typeLower !== owner || entry.kind === 'type')) continue;
    let worst = -1;
    for (const term of terms) {
      const rank = matchOf(entry, term, terms.length > 1);
      if (rank === undefined) {
        worst = -1;
        break;
      }
      worst = Math.max(worst, matchRank[rank]);
    }
    if (worst < 0) continue;
    const match = (Object.keys(matchRank) as SearchMatch[])[worst] as SearchMatch;
    scored.push({ entry, match });
  }
  scored.sort(
    (a, b) =>
      matchRank[a.match] - matchRank[b.match] ||
      Number(a.entry.helper) - Number(b.entry.helper) ||
      kindRank[a.entry.kind] - kindRank[b.entry.kind] ||
      a.entry.path.length - b.entry.path.length ||
      a.entry.path.localeCompare(b.entry.path),
  );
  const hits = scored.slice(0, limit).map(({ entry, match }): SearchHit => {
    const hit: SearchHit = { path: entry.path, kind: entry.kind, match, typeName: entry.typeName };
    if (entry.reach !== undefined) hit.reach = entry.reach;
    if (entry.description !== undefined) hit.description = entry.description;
    return hit;
  });
  return { hits, total: scored.length };
}

function matchOf(entry: IndexEntry, term: string, anyPart: boolean): SearchMatch | undefined {
  if (term === '') return 'prefix';
  if (entry.lower === term) return 'exact';
  if (entry.lower.startsWith(term)) return 'prefix';
  if (entry.lower.includes(term)) return 'substring';
  if (anyPart && entry.typeLower.includes(term)) return 'substring';
  return startsWord(entry.descriptionLower, term) ? 'description' : undefined;
}

// Descriptions match at the start of a word only: "ti" should not find every "relationship".
function startsWord(text: string, term: string): boolean {
  for (let at = text.indexOf(term); at >= 0; at = text.indexOf(term, at + 1)) {
    if (at === 0 || !/[a-z0-9]/.test(text[at - 1] as string)) return true;
  }
  return false;
}

function buildIndex(model: Model): IndexEntry[] {
  const { schema, helpers } = model;
  const entries: IndexEntry[] = [];
  const add = (
    name: string,
    kind: SearchHitKind,
    path: string,
    typeName: string,
    description: string | null | undefined,
    helper: boolean,
    reach?: string,
  ): void => {
    const line = description ? oneLine(description) : '';
    const text = line === '' || boilerplate.test(line) ? undefined : line;
    entries.push({
      name,
      lower: name.toLowerCase(),
      kind,
      path,
      typeName,
      typeLower: typeName.toLowerCase(),
      description: text === undefined ? undefined : text.length > 100 ? `${text.slice(0, 99)}…` : text,
      descriptionLower: text?.toLowerCase() ?? '',
      helper,
      reach,
    });
  };
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    const table = helpers.get(type.name);
    const helper = table !== undefined;
    // Subscriptions are always refused, so their root fields would only be noise.
    if (type === schema.getSubscriptionType()) continue;
    const root = model.rootNames.has(type.name);
    if (!root)
      add(type.name, 'type', type.name, type.name, type.description, helper, model.reach.get(type.name));
    // A table's generated helpers mirror its columns: index their names only, not their fields.
    if (table) continue;
    if (isObjectType(type) || isInterfaceType(type)) {
      const reachOfType = model.reach.get(type.name);
      for (const field of Object.values(type.getFields())) {
        const kind = root ? 'root-field' : 'field';
        add(
          field.name,
          kind,
          `${type.name}.${field.name}: ${String(field.type)}`,
          type.name,
          field.description,
          helper,
          reachOfType === undefined ? undefined : `${reachOfType}.${field.name}`,
        );
        // Hasura's list arguments repeat on every table and relationship; index custom arguments only.
        if (model.hasura && (root ? model.familyFields.has(field.name) : hasOnlyListArguments(field)))
          continue;
        for (const argument of field.args) {
          add(
            argument.name,
            'argument',
            `${type.name}.${field.name}(${argument.name}: ${String(argument.type)})`,
            type.name,
            argument.description,
            helper,
          );
        }
      }
    } else if (isEnumType(type)) {
      for (const value of type.getValues()) {
        add(value.name, 'enum-value', `${type.name}.${value.name}`, type.name, value.description, helper);
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        add(
          field.name,
          'input-field',
          `${type.name}.${field.name}: ${String(field.type)}`,
          type.name,
          field.description,
          helper,
        );
      }
    }
  }
  return entries;
}

const hasuraArguments = new Set(['distinct_on', 'limit', 'offset', 'order_by', 'where']);

function hasOnlyListArguments(field: Field): boolean {
  return field.args.every((argument) => hasuraArguments.has(argument.name));
}
