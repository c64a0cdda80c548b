import { BallastError } from '@ballast/core';
import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
  parse,
  type SelectionSetNode,
  specifiedRules,
  type ValidationRule,
  validate,
} from 'graphql';

/** Options of {@link validateDocument}. */
export interface ValidateDocumentOptions {
  /**
   * The deepest allowed nesting of fields, the root field counting as 1 (`{ articles { author { name } } }`
   * has depth 3); fragments count as the fields they contain. @default no limit
   */
  maxDepth?: number;
  /** The most aliased fields allowed in the operation, counted once per use of a fragment. @default no limit */
  maxAliases?: number;
  /**
   * Whether mutations are allowed: `true` for all, or the names of the root mutation fields allowed
   * (`['insert_articles_one']`). Subscriptions are always refused. @default false
   */
  allowMutations?: boolean | readonly string[];
  /** Which operation of the document to validate and run; required when it has more than one. */
  operationName?: string;
}

/** A line and column in the query text, both counted from 1. */
export interface SourceLocation {
  line: number;
  column: number;
}

/**
 * Which check a {@link ValidationIssue} comes from: `syntax`, one of Ballast's policies
 * (`operation-selection`, `mutation-not-allowed`, `subscription-not-allowed`, `max-depth`,
 * `max-aliases`), or a GraphQL specification rule in kebab case (`fields-on-correct-type`,
 * `known-argument-names`, `variables-in-allowed-position`, ...).
 */
export type ValidationRuleName =
  | 'syntax'
  | 'operation-selection'
  | 'mutation-not-allowed'
  | 'subscription-not-allowed'
  | 'max-depth'
  | 'max-aliases'
  | (string & {});

/** One reason a document was rejected. */
export interface ValidationIssue {
  /** graphql-js's message, or Ballast's for its own policies. */
  message: string;
  /** Where in the query text the problem is; empty when it concerns the whole document. */
  locations: SourceLocation[];
  /** The names a "Did you mean ...?" message proposes (fields, arguments, types, enum values). */
  suggestions?: string[];
  /** Which check found the problem. */
  rule?: ValidationRuleName;
}

/** The outcome of {@link validateDocument}: the parsed document and its operation, or why it was rejected. */
export type ValidationResult =
  | { valid: true; document: DocumentNode; operation: OperationDefinitionNode }
  | { valid: false; errors: ValidationIssue[] };

/**
 * Validates a GraphQL document locally, before anything is sent: syntax, the GraphQL specification
 * rules against `schema` (with the names graphql-js suggests for misspellings), the choice of
 * operation, and Ballast's policies: depth and alias limits, mutations only when allowed, no
 * subscriptions.
 *
 * @param schema the schema to validate against (see `loadSchemaFromSdl`, `schemaFromIntrospection`)
 * @param source the query text
 * @param options limits, the mutation policy and the operation name
 * @returns `{ valid: true, document, operation }`, or `{ valid: false, errors }` listing every problem found
 * @throws {BallastError} `GRAPHQL_INVALID_OPTIONS` when a limit is not a positive integer
 * @throws {BallastError} `GRAPHQL_SCHEMA_INVALID` when `schema` itself is not a valid schema
 * @example
 * ```ts
 * const result = validateDocument(schema, '{ articles { titel } }', { maxDepth: 5 });
 * if (!result.valid) result.errors[0]; // { message: 'Cannot query field "titel" ... Did you mean "title"?', suggestions: ['title'], ... }
 * ```
 */
export function validateDocument(
  schema: GraphQLSchema,
  source: string,
  options: ValidateDocumentOptions = {},
): ValidationResult {
  // Agents send the same few queries again and again: the verdict for a schema, a text and the
  // options never changes, so it is kept (bounded) instead of parsing and validating each time.
  const key = `${options.maxDepth ?? ''}|${options.maxAliases ?? ''}|${JSON.stringify(options.allowMutations ?? false)}|${options.operationName ?? ''}|${source}`;
  let cache = verdicts.get(schema);
  const cached = cache?.get(key);
  if (cached) return cached;
  const result = validateUncached(schema, source, options);
  if (!cache) {
    cache = new Map();
    verdicts.set(schema, cache);
  }
  if (cache.size >= VERDICT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(key, result);
  return result;
}

const VERDICT_CACHE_SIZE = 500;
const verdicts = new WeakMap<GraphQLSchema, Map<string, ValidationResult>>();

function validateUncached(
  schema: GraphQLSchema,
  source: string,
  options: ValidateDocumentOptions,
): ValidationResult {
  const maxDepth = limitOption(options.maxDepth, 'maxDepth');
  const maxAliases = limitOption(options.maxAliases, 'maxAliases');
  let document: DocumentNode;
  try {
    document = parse(source);
  } catch (error) {
    if (!(error instanceof GraphQLError)) throw error;
    return { valid: false, errors: [issueOf(error, 'syntax')] };
  }
  const errors = specificationErrors(schema, document);
  const selected = selectOperation(document, options.operationName);
  if ('issue' in selected) errors.push(selected.issue);
  else {
    const { operation } = selected;
    errors.push(...operationPolicyErrors(document, operation, options.allowMutations ?? false));
    const fragments = fragmentsOf(document);
    if (maxDepth !== undefined) {
      const deepest = depthOf(operation.selectionSet, fragments, new Map(), new Set());
      if (deepest.depth > maxDepth) {
        const path = deepest.path.map((field) => (field.alias ?? field.name).value);
        const culprit = deepest.path[maxDepth];
        errors.push({
          message: `The query is ${deepest.depth} fields deep (at ${path.join('.')}); the limit is ${maxDepth}. Query fewer nested relationships, or make a second query from the ids.`,
          locations: culprit ? locationsOf(culprit) : locationsOf(operation),
          rule: 'max-depth',
        });
      }
    }
    if (maxAliases !== undefined) {
      const aliases = aliasCount(operation.selectionSet, fragments, new Map(), new Set());
      if (aliases > maxAliases) {
        errors.push({
          message: `The query uses ${aliases} aliases; the limit is ${maxAliases}. Fetch the rows in one field with a \`where\` filter instead of one alias each.`,
          locations: locationsOf(operation),
          rule: 'max-aliases',
        });
      }
    }
    if (errors.length === 0) return { valid: true, document, operation };
  }
  return { valid: false, errors };
}

function limitOption(value: number | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
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

function specificationErrors(schema: GraphQLSchema, document: DocumentNode): ValidationIssue[] {
  let errors: readonly GraphQLError[];
  try {
    errors = validate(schema, document, specifiedRules);
  } catch (error) {
    throw new BallastError('GRAPHQL_SCHEMA_INVALID', `The schema is not valid: ${messageOf(error)}`, {
      cause: error,
    });
  }
  if (errors.length === 0) return [];
  // Attribute each error to its rule only on this (rare) failure path: one pass per rule.
  const rules = new Map<string, string>();
  for (const rule of specifiedRules) {
    for (const error of validate(schema, document, [rule])) {
      rules.set(keyOf(error), ruleName(rule));
    }
  }
  return errors.map((error) => issueOf(error, rules.get(keyOf(error))));
}

function keyOf(error: GraphQLError): string {
  return `${error.message}@${(error.locations ?? []).map((location) => `${location.line}:${location.column}`).join(',')}`;
}

function ruleName(rule: ValidationRule): string {
  return rule.name
    .replace(/Rule$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase();
}

function issueOf(error: GraphQLError, rule: string | undefined): ValidationIssue {
  const suggestions = suggestionsOf(error.message);
  return {
    message: error.message,
    locations: (error.locations ?? []).map(({ line, column }) => ({ line, column })),
    ...(suggestions.length > 0 ? { suggestions } : {}),
    ...(rule === undefined ? {} : { rule }),
  };
}

/** The quoted names after "Did you mean" in a graphql-js message. */
function suggestionsOf(message: string): string[] {
  const start = message.indexOf('Did you mean');
  if (start < 0) return [];
  return [...message.slice(start).matchAll(/"([^"]+)"/g)].map((match) => match[1] as string);
}

type Selected = { operation: OperationDefinitionNode } | { issue: ValidationIssue };

function selectOperation(document: DocumentNode, operationName: string | undefined): Selected {
  const operations = document.definitions.filter(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  );
  const names = operations.map((operation) => operation.name?.value ?? '(anonymous)');
  if (operationName !== undefined) {
    const operation = operations.find((candidate) => candidate.name?.value === operationName);
    if (operation) return { operation };
    return {
      issue: {
        message: `The document has no operation named "${operationName}"; it has ${names.length === 0 ? 'none' : names.map((name) => `"${name}"`).join(', ')}.`,
        locations: [],
        ...(names.length > 0
          ? { suggestions: operations.flatMap((op) => (op.name ? [op.name.value] : [])) }
          : {}),
        rule: 'operation-selection',
      },
    };
  }
  const [only] = operations;
  if (only && operations.length === 1) return { operation: only };
  return {
    issue: {
      message:
        operations.length === 0
          ? 'The document has no operation to run (only fragments).'
          : `The document has ${operations.length} operations (${names.join(', ')}); pass operationName to choose one.`,
      locations: [],
      rule: 'operation-selection',
    },
  };
}

function operationPolicyErrors(
  document: DocumentNode,
  operation: OperationDefinitionNode,
  allowMutations: boolean | readonly string[],
): ValidationIssue[] {
  if (operation.operation === 'subscription') {
    return [
      {
        message:
          'Subscriptions are not supported: run the query instead, and again when you need fresh data.',
        locations: locationsOf(operation),
        rule: 'subscription-not-allowed',
      },
    ];
  }
  if (operation.operation !== 'mutation' || allowMutations === true) return [];
  if (allowMutations === false) {
    return [
      {
        message: 'Mutations are not allowed here: only queries can be run.',
        locations: locationsOf(operation),
        rule: 'mutation-not-allowed',
      },
    ];
  }
  const allowed = new Set(allowMutations);
  const errors: ValidationIssue[] = [];
  for (const field of rootFields(operation.selectionSet, fragmentsOf(document), new Set())) {
    if (field.name.value === '__typename' || allowed.has(field.name.value)) continue;
    errors.push({
      message: `The mutation "${field.name.value}" is not allowed; allowed mutations: ${allowed.size === 0 ? 'none' : [...allowed].join(', ')}.`,
      locations: locationsOf(field),
      rule: 'mutation-not-allowed',
    });
  }
  return errors;
}

/** The fields selected on the root type, looking through fragments on it. */
function rootFields(
  selectionSet: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  seen: Set<string>,
): FieldNode[] {
  const fields: FieldNode[] = [];
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) fields.push(selection);
    else if (selection.kind === Kind.INLINE_FRAGMENT) {
      fields.push(...rootFields(selection.selectionSet, fragments, seen));
    } else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = fragments.get(selection.name.value);
      if (fragment) fields.push(...rootFields(fragment.selectionSet, fragments, seen));
    }
  }
  return fields;
}

function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  return fragments;
}

interface Depth {
  depth: number;
  /** The fields on one deepest path, outermost first. */
  path: FieldNode[];
}

// Memoised per fragment, and a fragment seen on the current path counts 0 (cycles are a spec error
// reported separately), so a document of nested fragments cannot make this exponential.
function depthOf(
  selectionSet: SelectionSetNode | undefined,
  fragments: Map<string, FragmentDefinitionNode>,
  memo: Map<string, Depth>,
  active: Set<string>,
): Depth {
  let deepest: Depth = { depth: 0, path: [] };
  if (!selectionSet) return deepest;
  for (const selection of selectionSet.selections) {
    let candidate: Depth;
    if (selection.kind === Kind.FIELD) {
      const inner = depthOf(selection.selectionSet, fragments, memo, active);
      candidate = { depth: inner.depth + 1, path: [selection, ...inner.path] };
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      candidate = depthOf(selection.selectionSet, fragments, memo, active);
    } else {
      const name = selection.name.value;
      const fragment = fragments.get(name);
      if (!fragment || active.has(name)) continue;
      let known = memo.get(name);
      if (!known) {
        active.add(name);
        known = depthOf(fragment.selectionSet, fragments, memo, active);
        active.delete(name);
        memo.set(name, known);
      }
      candidate = known;
    }
    if (candidate.depth > deepest.depth) deepest = candidate;
  }
  return deepest;
}

function aliasCount(
  selectionSet: SelectionSetNode | undefined,
  fragments: Map<string, FragmentDefinitionNode>,
  memo: Map<string, number>,
  active: Set<string>,
): number {
  if (!selectionSet) return 0;
  let count = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.alias && selection.alias.value !== selection.name.value) count += 1;
      count += aliasCount(selection.selectionSet, fragments, memo, active);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      count += aliasCount(selection.selectionSet, fragments, memo, active);
    } else {
      const name = selection.name.value;
      const fragment = fragments.get(name);
      if (!fragment || active.has(name)) continue;
      let known = memo.get(name);
      if (known === undefined) {
        active.add(name);
        known = aliasCount(fragment.selectionSet, fragments, memo, active);
        active.delete(name);
        memo.set(name, known);
      }
      count += known;
    }
  }
  return count;
}

function locationsOf(node: {
  loc?: { startToken: { line: number; column: number } } | undefined;
}): SourceLocation[] {
  return node.loc ? [{ line: node.loc.startToken.line, column: node.loc.startToken.column }] : [];
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
