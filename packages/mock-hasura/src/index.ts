// The whole public surface of @ballast/mock-hasura.

export { defaultDataset } from './default-dataset.js';
export { generateTables } from './generate-tables.js';
export {
  type MockHasura,
  type MockHasuraOptions,
  type RecordedRequest,
  startMockHasura,
} from './mock-hasura.js';
export { buildHasuraSchema, type ResolverContext } from './schema.js';
export type {
  CellValue,
  ColumnDefault,
  ColumnSpec,
  ColumnType,
  Dataset,
  RelationshipSpec,
  Row,
  Rows,
  TableSpec,
} from './spec.js';
