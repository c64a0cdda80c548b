export {
  type BatchEntry,
  createGraphQLClient,
  type GraphQLClient,
  type GraphQLClientOptions,
  type GraphQLErrorEntry,
  type GraphQLResult,
  type RequestOptions,
  type RetryOptions,
} from './client.js';
export {
  type AggregateOptions,
  type BuiltOperation,
  buildAggregate,
  buildByPk,
  buildDelete,
  buildInsert,
  buildSelect,
  buildSelection,
  buildUpdate,
  buildWhere,
  createHasura,
  discoverTables,
  findTable,
  type Hasura,
  type HasuraColumn,
  type HasuraOptions,
  type HasuraRelationship,
  type HasuraTable,
  type MutationPolicy,
  type SelectOptions,
} from './hasura.js';
export { clampLimitVariables, enforceListLimits } from './limits.js';
export { createGraphQLMcpServer, type GraphQLMcpOptions } from './mcp.js';
export { createSchemaCache, loadSchemaFromSdl, schemaFromIntrospection } from './schema.js';
export { describeType, searchSchema, summarizeSchema } from './summary.js';
export { validateDocument } from './validate.js';
