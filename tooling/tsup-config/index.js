import { defineConfig } from 'tsup';

/**
 * The shared build: ESM only, Node 20, declarations, no bundling of dependencies.
 * @param {import('tsup').Options} [overrides] per-package additions (extra entries, banners)
 * @returns {import('tsup').Options | import('tsup').Options[]}
 */
export function createTsupConfig(overrides = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm'],
    target: 'node20',
    platform: 'node',
    dts: true,
    sourcemap: true,
    clean: true,
    splitting: false,
    treeshake: true,
    ...overrides,
  });
}
