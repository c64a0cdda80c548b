import { defineProject } from 'vitest/config';
export default defineProject({
  test: { name: 'demo', include: ['src/**/*.test.ts'], testTimeout: 90_000, hookTimeout: 30_000 },
});
