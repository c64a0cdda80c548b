// The whole public surface of @ballast/mock-provider.

export {
  createMockProvider,
  type MockProvider,
  type MockProviderOptions,
} from './mock-provider.js';
export { type RedisForTests, redisForTests } from './redis-for-tests.js';
export type { MockReply, MockToolCall, MockUsage, RecordedRequest } from './reply.js';
export { runNodeScript } from './run-node.js';
