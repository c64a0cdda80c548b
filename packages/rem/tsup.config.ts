import { createTsupConfig } from '@ballast/tsup-config';

// The library keeps its dependencies external. The CLI is bundled with the part of core it uses,
// and split, so each backend, the iCalendar code and the MCP server load only when a command
// needs them.
export default [
  createTsupConfig({ entry: ['src/index.ts', 'src/mcp.ts'], clean: false, splitting: true }),
  createTsupConfig({
    entry: ['src/cli.ts'],
    clean: false,
    dts: false,
    splitting: true,
    noExternal: ['@ballast/core'],
  }),
];
