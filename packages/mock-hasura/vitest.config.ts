import { defineProject } from 'vitest/config';
export default defineProject({
  test: {
    name: 'mock-hasura',
    include: ['src/**/*.test.ts'],
    // graphql ships CJS for Node and ESM for bundlers: run graphql-http through Vite too, so the handler
    // and the schema share one graphql module (two copies refuse each other's schemas).
    server: { deps: { inline: ['graphql-http'] } },
  },
});
