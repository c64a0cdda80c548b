import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTsupConfig } from '@ballast/tsup-config';
import type { Options } from 'tsup';

type Plugin = NonNullable<Options['esbuildPlugins']>[number];
type TsupPlugin = NonNullable<Options['plugins']>[number];

const SOURCE = resolve(dirname(fileURLToPath(import.meta.url)), 'src');

// What the CLI loads only when a command needs it, each its own file in dist/: the other backends,
// the iCalendar code over ical.js, the memory backend (tests), recurrence, import/export and the MCP server. Everything else a
// vdir command runs (the vdir backend, the plain-VTODO reader and writers) is in dist/cli.cjs itself.
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

/**
 * dist/cli.cjs runs cli-main.cjs as a node:vm script, which cannot call import() itself: each
 * `import('…')` becomes `__import('…')`, a function the bin passes in.
 */
const importThroughBin: TsupPlugin = {
  name: 'rem-import-through-bin',
  renderChunk(code) {
    return { code: code.replace(/(?<![\w$.])import\((?=['"`])/g, '__import(') };
  },
};

const cliBuild = {
  clean: false,
  dts: false,
  splitting: false,
  // Whitespace and syntax only, so stack traces keep their names: V8 parses a third less.
  minifyWhitespace: true,
  minifySyntax: true,
  noExternal: ['@ballast/core'],
  esbuildPlugins: [lazyFiles],
} satisfies Options;

// The library keeps its dependencies external and is split (index and mcp share code). The CLI is
// bundled with the part of core it uses (BallastError) and not split: one file for a vdir command,
// plus the lazy ones above, each bundled whole. Duplicated helpers are fine: errors are recognised
// by BallastError.isInstance, not by class identity.
//
// The CLI is CommonJS: on Node 20 a CommonJS main starts about 7 ms sooner than an ES module one
// (the ESM loader's resolve and link steps), a fifth of a warm `rem list`. Its import() calls
// still load the lazy files, which stay ES modules.
export default [
  createTsupConfig({ entry: ['src/index.ts', 'src/mcp.ts'], clean: false, splitting: true }),
  createTsupConfig({
    ...cliBuild,
    entry: Object.fromEntries(Object.entries(LAZY).map(([source, file]) => [file, `src/${source}.ts`])),
  }),
  createTsupConfig({
    ...cliBuild,
    entry: { 'cli-main': 'src/cli.ts' },
    format: ['cjs'],
    plugins: [importThroughBin],
  }),
  // The bin: loads cli-main.cjs through V8's code cache (src/bin.ts).
  createTsupConfig({ entry: { cli: 'src/bin.ts' }, format: ['cjs'], clean: false, dts: false }),
];
