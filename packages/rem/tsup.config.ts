import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTsupConfig } from '@ballast/tsup-config';
import type { Options } from 'tsup';

type Plugin = NonNullable<Options['esbuildPlugins']>[number];

const SOURCE = resolve(dirname(fileURLToPath(import.meta.url)), 'src');

// What the CLI loads only when a command needs it, each its own file in dist/: the other backends,
// the iCalendar code over ical.js, the memory backend (tests), recurrence, import/export and the MCP server. Everything else a
// vdir command runs (the vdir backend, the plain-VTODO reader and writers) is in dist/cli.js itself.
const LAZY: Record<string, string> = {
  'backends/caldav': 'cli-caldav',
  'backends/eventkit': 'cli-eventkit',
  'backends/memory': 'cli-memory',
  'ical/vtodo': 'cli-vtodo',
  recurrence: 'cli-recurrence',
  transfer: 'cli-transfer',
  mcp: 'cli-mcp',
};

/**
 * Turns `import('./backends/caldav.js')` into `import('./cli-caldav.js')`, left for Node to load.
 * Code splitting would do the laziness too, but it moves every module two files share into a chunk
 * of its own, and each extra module file costs a cold start about a millisecond.
 */
const lazyFiles: Plugin = {
  name: 'rem-lazy-files',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      if (args.kind !== 'dynamic-import') return undefined;
      const target = relative(SOURCE, resolve(args.resolveDir, args.path)).replace(/\.[jt]s$/, '');
      const file = LAZY[target];
      return file === undefined ? undefined : { path: `./${file}.js`, external: true };
    });
  },
};

// The library keeps its dependencies external and is split (index and mcp share code). The CLI is
// bundled with the part of core it uses (BallastError) and not split: one file for a vdir command,
// plus the lazy ones above, each bundled whole. Duplicated helpers are fine: errors are recognised
// by BallastError.isInstance, not by class identity.
export default [
  createTsupConfig({ entry: ['src/index.ts', 'src/mcp.ts'], clean: false, splitting: true }),
  createTsupConfig({
    entry: {
      cli: 'src/cli.ts',
      ...Object.fromEntries(Object.entries(LAZY).map(([source, file]) => [file, `src/${source}.ts`])),
    },
    clean: false,
    dts: false,
    splitting: false,
    noExternal: ['@ballast/core'],
    esbuildPlugins: [lazyFiles],
  }),
];
