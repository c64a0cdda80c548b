export { type Bm25Hit, type Bm25Index, type Bm25Options, createBm25Index } from './bm25.js';
export { headAndTail, snippetFor } from './compress.js';
export { createMemoryPlugin, default, type MemoryPlugin, type MemoryPluginOptions } from './plugin.js';
export {
  type BuildContextOptions,
  createSessionMemory,
  defaultMemoryPolicy,
  type SessionMemory,
  type SessionMemoryOptions,
} from './session-memory.js';
export {
  createInMemoryStore,
  createMemoryStoreFrom,
  createRedisMemoryStore,
  createSqliteMemoryStore,
  type MemoryStore,
  type MemoryStoreConfig,
  type RedisMemoryStoreOptions,
  type SqliteMemoryStoreOptions,
} from './store/index.js';
export type {
  BuiltContext,
  ContextMessage,
  ContextParts,
  MemoryItem,
  MemoryItemKind,
  MemoryPolicy,
  SearchHit,
  SessionStats,
  Summarize,
  Turn,
  TurnRole,
} from './types.js';
