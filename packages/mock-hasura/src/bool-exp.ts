// Evaluates a `<table>_bool_exp` against a row with SQL's three-valued logic, as the Postgres query Hasura
// generates would: a comparison with a null cell is unknown, `_not` of unknown stays unknown, and only rows
// whose whole expression is true are kept.

import { countRows } from './aggregate.js';
import { hasuraError } from './hasura-error.js';
import { compareCells, scalarOf } from './scalars.js';
import {
  type CellValue,
  type ColumnSpec,
  type RelationshipSpec,
  type Row,
  relationshipOf,
  type TableSpec,
} from './spec.js';
import type { Store } from './store.js';

/** A coerced `_bool_exp` argument: operator and field names to values. */
export type BoolExp = Readonly<Record<string, unknown>>;

type Truth = boolean | null;

/** Where an error in the expression is reported, as Hasura's `extensions.path`. */
export interface ExpressionPath {
  readonly path: string;
}

function and(values: Iterable<Truth>): Truth {
  let unknown = false;
  for (const value of values) {
    if (value === false) return false;
    if (value === null) unknown = true;
  }
  return unknown ? null : true;
}

function or(values: Iterable<Truth>): Truth {
  let unknown = false;
  for (const value of values) {
    if (value === true) return true;
    if (value === null) unknown = true;
  }
  return unknown ? null : false;
}

function* map<T>(items: Iterable<T>, evaluate: (item: T) => Truth): Generator<Truth> {
  for (const item of items) yield evaluate(item);
}

/** The rows of `rows` for which `where` is true. */
export function filterRows(
  store: Store,
  table: TableSpec,
  rows: readonly Row[],
  where: BoolExp | null | undefined,
  at: ExpressionPath,
): Row[] {
  if (!where) return [...rows];
  return rows.filter((row) => evaluate(store, table, row, where, at) === true);
}

/** The truth of `expression` for `row`: true, false, or null (unknown). */
export function evaluate(
  store: Store,
  table: TableSpec,
  row: Row,
  expression: BoolExp,
  at: ExpressionPath,
): Truth {
  return and(
    map(Object.entries(expression), ([key, value]): Truth => {
      if (value === null || value === undefined) return true;
      if (key === '_and')
        return and(map(value as BoolExp[], (item) => evaluate(store, table, row, item, at)));
      if (key === '_or') return or(map(value as BoolExp[], (item) => evaluate(store, table, row, item, at)));
      if (key === '_not') {
        const inner = evaluate(store, table, row, value as BoolExp, at);
        return inner === null ? null : !inner;
      }
      const relationship = relationshipOf(table, key);
      if (relationship) {
        const remote = store.table(relationship.table);
        return store
          .related(relationship, row)
          .some((related) => evaluate(store, remote, related, value as BoolExp, at) === true);
      }
      if (key.endsWith('_aggregate')) {
        const arrayRelationship = relationshipOf(table, key.slice(0, -'_aggregate'.length));
        if (arrayRelationship) return aggregatePredicate(store, arrayRelationship, row, value, at);
      }
      const column = table.columns.find((candidate) => candidate.name === key);
      if (!column)
        throw hasuraError(
          `field '${key}' not found in type: '${table.name}_bool_exp'`,
          'validation-failed',
          at.path,
        );
      return compareColumn(column, row[key] ?? null, value as BoolExp, at);
    }),
  );
}

/** `<rel>_aggregate: { count: { arguments, distinct, filter, predicate } }` on an array relationship. */
function aggregatePredicate(
  store: Store,
  relationship: RelationshipSpec,
  row: Row,
  value: unknown,
  at: ExpressionPath,
): Truth {
  const remote = store.table(relationship.table);
  const { count } = value as { count?: Record<string, unknown> | null };
  if (!count) return true;
  const rows = filterRows(
    store,
    remote,
    store.related(relationship, row),
    count.filter as BoolExp | null,
    at,
  );
  const total = countRows(
    rows,
    (count.arguments as string[] | null | undefined) ?? [],
    count.distinct === true,
  );
  const countColumn: ColumnSpec = { name: 'count', type: 'Int' };
  return compareColumn(countColumn, total, count.predicate as BoolExp, at);
}

/** The truth of a `<type>_comparison_exp` for one cell; its operators are combined with AND. */
export function compareColumn(
  column: ColumnSpec,
  cell: CellValue,
  operators: BoolExp,
  at: ExpressionPath,
): Truth {
  return and(
    map(Object.entries(operators), ([operator, operand]): Truth => {
      if (operand === undefined) return true;
      if (operand === null) {
        throw hasuraError(
          `unexpected null value for type "${scalarOf(column.type).name}"`,
          'validation-failed',
          `${at.path}.${column.name}.${operator}`,
        );
      }
      if (operator === '_is_null') return (cell === null) === operand;
      if (operator === '_in' || operator === '_nin') {
        const list = operand as CellValue[];
        // `x = ANY('{}')` is false even for a null x, so `_nin: []` keeps null cells.
        if (list.length === 0) return operator === '_nin';
        if (cell === null) return null;
        const found = list.some((item) => compareCells(cell, item, column.type) === 0);
        return operator === '_in' ? found : !found;
      }
      if (cell === null) return null;
      switch (operator) {
        case '_eq':
          return compareCells(cell, operand as CellValue, column.type) === 0;
        case '_neq':
          return compareCells(cell, operand as CellValue, column.type) !== 0;
        case '_gt':
          return compareCells(cell, operand as CellValue, column.type) > 0;
        case '_gte':
          return compareCells(cell, operand as CellValue, column.type) >= 0;
        case '_lt':
          return compareCells(cell, operand as CellValue, column.type) < 0;
        case '_lte':
          return compareCells(cell, operand as CellValue, column.type) <= 0;
        default:
          return matchText(operator, String(cell), String(operand), `${at.path}.${column.name}.${operator}`);
      }
    }),
  );
}

const patternCache = new Map<string, RegExp>();

function matchText(operator: string, text: string, pattern: string, path: string): boolean {
  const negated = operator.startsWith('_n') && operator !== '_neq';
  const base = negated ? `_${operator.slice(2)}` : operator;
  const cacheKey = `${base}\u0000${pattern}`;
  let regExp = patternCache.get(cacheKey);
  if (!regExp) {
    try {
      regExp = textPattern(base, pattern);
    } catch (error) {
      throw hasuraError(`invalid regular expression: ${(error as Error).message}`, 'data-exception', path);
    }
    if (patternCache.size > 1000) patternCache.clear();
    patternCache.set(cacheKey, regExp);
  }
  return regExp.test(text) !== negated;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function textPattern(operator: string, pattern: string): RegExp {
  switch (operator) {
    case '_like':
      return new RegExp(`^${likeSource(pattern)}$`, 's');
    case '_ilike':
      return new RegExp(`^${likeSource(pattern)}$`, 'is');
    case '_regex':
      return new RegExp(pattern, 's');
    case '_iregex':
      return new RegExp(pattern, 'is');
    case '_similar':
      return new RegExp(`^(?:${similarSource(pattern)})$`, 's');
    default:
      throw new Error(`unknown operator ${operator}`);
  }
}

/** SQL LIKE: `%` any run, `_` any one character, `\` escapes. */
function likeSource(pattern: string): string {
  let source = '';
  for (let index = 0; index < pattern.length; index += 1) {
    const character = pattern[index] as string;
    if (character === '\\' && index + 1 < pattern.length) {
      index += 1;
      source += escapeRegExp(pattern[index] as string);
    } else if (character === '%') source += '.*';
    else if (character === '_') source += '.';
    else source += escapeRegExp(character);
  }
  return source;
}

/** SQL SIMILAR TO: LIKE's wildcards plus regular-expression alternation, grouping, classes and repetition. */
function similarSource(pattern: string): string {
  let source = '';
  for (let index = 0; index < pattern.length; index += 1) {
    const character = pattern[index] as string;
    if (character === '\\' && index + 1 < pattern.length) {
      index += 1;
      source += escapeRegExp(pattern[index] as string);
    } else if (character === '%') source += '.*';
    else if (character === '_') source += '.';
    else if ('.^$/'.includes(character)) source += `\\${character}`;
    else source += character;
  }
  return source;
}
