import type { Options } from 'tsup';

/** The shared build: ESM only, Node 20, declarations, no bundling of dependencies. */
export function createTsupConfig(overrides?: Options): Options | Options[];
