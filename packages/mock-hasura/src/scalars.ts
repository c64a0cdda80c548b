// The two Postgres scalars Hasura adds to the GraphQL built-ins, and the column type to scalar mapping.

import {
  GraphQLBoolean,
  GraphQLFloat,
  GraphQLInt,
  GraphQLScalarType,
  GraphQLString,
  Kind,
  type ValueNode,
} from 'graphql';
import type { CellValue, ColumnType } from './spec.js';

/** Postgres' text form of a timestamptz in UTC: `2024-03-01T09:30:00+00:00`, with fractions only when non-zero. */
export function formatTimestamp(epochMs: number): string {
  return new Date(epochMs).toISOString().replace('.000Z', 'Z').replace('Z', '+00:00');
}

/** The epoch milliseconds of a stored or supplied timestamptz, or NaN. */
export function parseTimestamp(value: string): number {
  return Date.parse(value);
}

function coerceTimestamp(value: unknown): string {
  if (typeof value !== 'string')
    throw new TypeError(`timestamptz cannot represent a non-string value: ${String(value)}`);
  const epochMs = parseTimestamp(value);
  if (Number.isNaN(epochMs))
    throw new TypeError(`invalid input syntax for type timestamp with time zone: "${value}"`);
  return formatTimestamp(epochMs);
}

function coerceNumeric(value: unknown): number {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isFinite(number)) {
    throw new TypeError(`invalid input syntax for type numeric: "${String(value)}"`);
  }
  return number;
}

/** `timestamptz`: ISO 8601 strings, stored and returned in Postgres' UTC text form. */
export const GraphQLTimestamptz = new GraphQLScalarType<string, string>({
  name: 'timestamptz',
  serialize: (value) => (value instanceof Date ? formatTimestamp(value.getTime()) : coerceTimestamp(value)),
  parseValue: coerceTimestamp,
  parseLiteral: (node: ValueNode) => {
    if (node.kind !== Kind.STRING) throw new TypeError('timestamptz literals are strings');
    return coerceTimestamp(node.value);
  },
});

/** `numeric`: returned as a JSON number (Hasura's default), accepted as a number or a numeric string. */
export const GraphQLNumeric = new GraphQLScalarType<number, number>({
  name: 'numeric',
  serialize: coerceNumeric,
  parseValue: coerceNumeric,
  parseLiteral: (node: ValueNode) => {
    if (node.kind !== Kind.INT && node.kind !== Kind.FLOAT && node.kind !== Kind.STRING) {
      throw new TypeError('numeric literals are numbers or numeric strings');
    }
    return coerceNumeric(node.value);
  },
});

/** The GraphQL scalar of a column type. */
export function scalarOf(type: ColumnType): GraphQLScalarType {
  switch (type) {
    case 'Int':
      return GraphQLInt;
    case 'String':
      return GraphQLString;
    case 'Boolean':
      return GraphQLBoolean;
    case 'Float':
      return GraphQLFloat;
    case 'timestamptz':
      return GraphQLTimestamptz;
    case 'numeric':
      return GraphQLNumeric;
  }
}

/** Postgres ordering of two non-null cells of one column type (strings in byte order, the "C" collation). */
export function compareCells(left: CellValue, right: CellValue, type: ColumnType): number {
  if (type === 'timestamptz') return parseTimestamp(String(left)) - parseTimestamp(String(right));
  if (typeof left === 'number' && typeof right === 'number') return left - right;
  if (typeof left === 'boolean' && typeof right === 'boolean') return Number(left) - Number(right);
  const leftText = String(left);
  const rightText = String(right);
  return leftText < rightText ? -1 : leftText > rightText ? 1 : 0;
}
