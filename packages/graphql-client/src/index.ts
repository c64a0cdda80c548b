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
