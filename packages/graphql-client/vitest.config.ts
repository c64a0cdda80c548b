import { defineProject } from 'vitest/config';
export default defineProject({
  test: {
    name: 'graphql-client',
    include: ['src/**/*.test.ts'],
    testTimeout: 30_000,
    // graphql ships CJS for Node and ESM for bundlers: run graphql-http through Vite too, so both
    // sides of a test share one graphql module (two copies refuse each other's schemas).
    server: { deps: { inline: ['graphql-http'] } },
  },
});
