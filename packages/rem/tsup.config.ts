import { createTsupConfig } from '@ballast/tsup-config';
import type { Plugin } from 'esbuild';

// commander requires node:child_process at load for executable subcommands, which rem has none
// of; loading it (and net, dgram, streams behind it) cost every command several milliseconds.
// Inside the CLI bundle it resolves to a stand-in that loads the real module only if used.
const lazyChildProcess: Plugin = {
  name: 'lazy-child-process',
  setup(build) {
    build.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      args.importer.includes('commander') ? { path: 'lazy-child-process', namespace: 'rem-shim' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'rem-shim' }, () => ({
      contents: "module.exports = { spawn: (...args) => require('node:child_process').spawn(...args) };",
      loader: 'js',
    }));
  },
};

// The library keeps its dependencies external. The CLI is bundled with commander and the part of
// core it uses, and split, so each backend, the iCalendar code and the MCP server load only when
// a command needs them.
export default [
  createTsupConfig({ entry: ['src/index.ts', 'src/mcp.ts'], clean: false, splitting: true }),
  createTsupConfig({
    entry: ['src/cli.ts'],
    clean: false,
    dts: false,
    splitting: true,
    noExternal: ['commander', '@ballast/core'],
    // tsup's node: prefix remover would claim the import before the stand-in could.
    removeNodeProtocol: false,
    esbuildPlugins: [lazyChildProcess],
    banner: {
      js: "import { createRequire as __remRequire } from 'node:module'; const require = __remRequire(import.meta.url);",
    },
  }),
];
