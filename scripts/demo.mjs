#!/usr/bin/env node
// `pnpm demo [-- --serve | --live | --json]`: builds and runs apps/demo (see apps/demo/README.md).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

const demo = new URL('../apps/demo/package.json', import.meta.url);
if (!existsSync(demo)) {
  console.error('apps/demo is missing: this checkout has no demo to run.');
  process.exit(1);
}
const args = process.argv.slice(2).filter((argument) => argument !== '--');
// The demo handles Ctrl-C itself (it stops its stack and cleans up); wait for it to finish.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => {});
const child = spawn('pnpm', ['--silent', '--filter', '@ballast/demo', 'start', ...args], {
  stdio: 'inherit',
});
child.on('error', (error) => {
  console.error(`pnpm demo: cannot start pnpm (${error.message})`);
  process.exit(1);
});
child.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGINT' ? 130 : 1)));
