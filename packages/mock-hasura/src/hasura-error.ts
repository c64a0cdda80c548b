// Errors in Hasura's shape: a message plus `extensions: { code, path }`.

import { GraphQLError } from 'graphql';

/** Hasura's error codes that the mock produces. */
export type HasuraErrorCode =
  | 'access-denied'
  | 'validation-failed'
  | 'constraint-violation'
  | 'data-exception'
  | 'not-found'
  | 'unexpected';

/** A GraphQL error carrying Hasura's `extensions.code` and `extensions.path` (a JSON path like `$.selectionSet.x.args.where`). */
export function hasuraError(message: string, code: HasuraErrorCode, path = '$'): GraphQLError {
  return new GraphQLError(message, { extensions: { code, path } });
}

/** Hasura's error body (`{ errors: [{ message, extensions }] }`) as JSON, for responses sent outside graphql-http. */
export function hasuraErrorBody(message: string, code: HasuraErrorCode, path = '$'): string {
  return JSON.stringify({ errors: [{ message, extensions: { path, code } }] });
}
