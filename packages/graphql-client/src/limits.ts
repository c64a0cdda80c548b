import { BallastError } from '@ballast/core';
import {
  type ArgumentNode,
  type DocumentNode,
  type FieldNode,
  type GraphQLField,
  type GraphQLSchema,
  getNamedType,
  getNullableType,
  isCompositeType,
  isListType,
  Kind,
  TypeInfo,
  type ValueNode,
  type VariableDefinitionNode,
  visit,
  visitWithTypeInfo,
} from 'graphql';

/** Options of {@link enforceListLimits}. */
export interface ListLimitOptions {
  /** The most rows any list field may return. */
  maxRows: number;
  /** The `limit` injected where a list field has none; at most `maxRows`. @default maxRows */
  defaultLimit?: number;
}

/** The outcome of {@link enforceListLimits}. */
export interface ListLimitResult {
  /** A new document with every list field bounded; the input document is not changed. */
  document: DocumentNode;
  /**
   * Variables used as a `limit`, in order of first use. Their defaults in the document were bounded
   * already; the values a caller passes must be clamped too, with {@link clampLimitVariables}.
   */
  clampedVariables: string[];
  /** The fields that got a `limit` (response paths like `articles.comments`; in a fragment, `...Name.field`). */
  injected: string[];
  /** The fields whose literal `limit` (above `maxRows`, or `null`) was lowered. */
  lowered: string[];
}

/**
 * Bounds every list a query can return: each field that returns a list of objects and takes a
 * `limit: Int` argument (Hasura's table fields and array relationships, at any depth and inside
 * fragments) gets `limit: defaultLimit` when it has none, a literal `limit` above `maxRows` (or
 * `null`, which means no limit) is lowered to `maxRows`, and a variable used as a limit is reported
 * so that the caller can clamp its value.
 *
 * Fields that return a single object are left alone, `<table>_aggregate` included: a limit there
 * would change the aggregate, so its `nodes` stay as the query asked.
 *
 * @param schema the schema the document was validated against
 * @param document a valid document (see `validateDocument`)
 * @param options `maxRows` and the `defaultLimit` to inject
 * @returns the bounded document, the variables to clamp, and the paths changed
 * @throws {BallastError} `GRAPHQL_INVALID_OPTIONS` when `maxRows` or `defaultLimit` is not a positive
 * integer, or `defaultLimit` is above `maxRows`
 * @example
 * ```ts
 * const { document, clampedVariables } = enforceListLimits(schema, parse('{ articles { comments { id } } }'), { maxRows: 100 });
 * print(document); // { articles(limit: 100) { comments(limit: 100) { id } } }
 * const variables = clampLimitVariables(input, clampedVariables, 100);
 * ```
 */
export function enforceListLimits(
  schema: GraphQLSchema,
  document: DocumentNode,
  options: ListLimitOptions,
): ListLimitResult {
  const maxRows = positiveInteger(options.maxRows, 'maxRows');
  const defaultLimit = positiveInteger(options.defaultLimit ?? maxRows, 'defaultLimit');
  if (defaultLimit > maxRows) {
    throw new BallastError(
      'GRAPHQL_INVALID_OPTIONS',
      `defaultLimit (${defaultLimit}) must not be above maxRows (${maxRows}).`,
      { details: { field: 'defaultLimit' } },
    );
  }
  const typeInfo = new TypeInfo(schema);
  const clamped = new Set<string>();
  const injected: string[] = [];
  const lowered: string[] = [];
  const path: string[] = [];
  const bounded = visit(
    document,
    visitWithTypeInfo(typeInfo, {
      FragmentDefinition: {
        enter(node) {
          path.push(`...${node.name.value}`);
        },
        leave() {
          path.pop();
        },
      },
      Field: {
        enter(node) {
          path.push((node.alias ?? node.name).value);
          const field = typeInfo.getFieldDef();
          if (!field || !isBoundableList(field)) return undefined;
          const here = path.join('.');
          const argument = node.arguments?.find((candidate) => candidate.name.value === 'limit');
          if (!argument) {
            injected.push(here);
            return withLimit(node, undefined, defaultLimit);
          }
          const { value } = argument;
          if (value.kind === Kind.VARIABLE) clamped.add(value.name.value);
          else if (value.kind === Kind.NULL || (value.kind === Kind.INT && Number(value.value) > maxRows)) {
            lowered.push(here);
            return withLimit(node, argument, value.kind === Kind.NULL ? defaultLimit : maxRows);
          }
          return undefined;
        },
        leave() {
          path.pop();
        },
      },
    }),
  );
  const clampedVariables = [...clamped];
  return {
    document:
      clampedVariables.length === 0
        ? bounded
        : boundVariableDefaults(bounded, clamped, defaultLimit, maxRows),
    clampedVariables,
    injected,
    lowered,
  };
}

/**
 * Clamps the values of the variables {@link enforceListLimits} reported: a number above `maxRows`
 * or a `null` becomes `maxRows`. An absent variable stays absent (the document's default, bounded
 * by `enforceListLimits`, applies); values that are not numbers are left for the server to reject.
 *
 * @param variables the variables the caller will send
 * @param names `clampedVariables` from {@link enforceListLimits}
 * @param maxRows the same `maxRows`
 * @returns a new variables object
 * @example
 * ```ts
 * clampLimitVariables({ n: 5000, where: {} }, ['n'], 100); // { n: 100, where: {} }
 * ```
 */
export function clampLimitVariables(
  variables: Readonly<Record<string, unknown>> | undefined,
  names: readonly string[],
  maxRows: number,
): Record<string, unknown> {
  const result: Record<string, unknown> = { ...variables };
  for (const name of names) {
    if (!Object.hasOwn(result, name)) continue;
    const value = result[name];
    if (value === null || (typeof value === 'number' && value > maxRows)) result[name] = maxRows;
  }
  return result;
}

function isBoundableList(field: GraphQLField<unknown, unknown>): boolean {
  const type = getNullableType(field.type);
  if (!isListType(type) || !isCompositeType(getNamedType(type))) return false;
  const limit = field.args.find((argument) => argument.name === 'limit');
  return limit !== undefined && getNamedType(limit.type).name === 'Int';
}

function intValue(value: number): ValueNode {
  return { kind: Kind.INT, value: String(value) };
}

function withLimit(node: FieldNode, existing: ArgumentNode | undefined, limit: number): FieldNode {
  const argument: ArgumentNode = {
    kind: Kind.ARGUMENT,
    name: { kind: Kind.NAME, value: 'limit' },
    value: intValue(limit),
  };
  const others = (node.arguments ?? []).filter((candidate) => candidate !== existing);
  return { ...node, arguments: [...others, argument] };
}

// Without a default, an absent `$limit` would mean no limit at all; with one above maxRows, too many.
function boundVariableDefaults(
  document: DocumentNode,
  names: Set<string>,
  defaultLimit: number,
  maxRows: number,
): DocumentNode {
  return visit(document, {
    VariableDefinition(node): VariableDefinitionNode | undefined {
      if (!names.has(node.variable.name.value)) return undefined;
      const current = node.defaultValue;
      if (current === undefined || current.kind === Kind.NULL) {
        return { ...node, defaultValue: { kind: Kind.INT, value: String(defaultLimit) } };
      }
      if (current.kind === Kind.INT && Number(current.value) > maxRows) {
        return { ...node, defaultValue: { kind: Kind.INT, value: String(maxRows) } };
      }
      return undefined;
    },
    // Variable definitions sit on operations only; skip every selection.
    SelectionSet: () => false,
  });
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new BallastError(
      'GRAPHQL_INVALID_OPTIONS',
      `${name} must be an integer of at least 1, got ${value}.`,
      {
        details: { field: name },
      },
    );
  }
  return value;
}
