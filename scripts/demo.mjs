#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
// `pnpm demo`: runs apps/demo once it exists.
import { existsSync } from 'node:fs';

const demo = new URL('../apps/demo/package.json', import.meta.url);
if (!existsSync(demo)) {
  console.error(
    [
      'The Ballast demo is not built yet.',
      '',
      'apps/demo (a scripted agent driving the proxy, killswitch, memory and the tool servers',
      'against an offline mock provider) lands with its own issue. Until then:',
      '  pnpm test                         build, lint, typecheck and run every test',
      '  pnpm --filter @ballast/core bench  the tokenizer benchmark',
    ].join('\n'),
  );
  process.exit(1);
}
const result = spawnSync('pnpm', ['--filter', '@ballast/demo', 'start', '--', ...process.argv.slice(2)], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
