#!/usr/bin/env node
// `pnpm --filter @ballast/demo start` (what `pnpm demo` runs): builds the demo and every package
// it uses with turbo (cached: a second run rebuilds nothing), then runs the built demo with the
// arguments given. Exits with the demo's exit code.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const args = process.argv.slice(2).filter((argument) => argument !== '--');
const quiet = args.includes('--json');
const say = (text) => (quiet ? process.stderr : process.stdout).write(`${text}\n`);

const started = Date.now();
say('Building the demo and the packages it uses (turbo, cached after the first run)…');
const build = spawnSync(
  'pnpm',
  [
    '--workspace-root',
    'exec',
    'turbo',
    'run',
    'build',
    '--filter=@ballast/demo...',
    '--output-logs=errors-only',
  ],
  { cwd: packageDir, encoding: 'utf8', env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' } },
);
if (build.status !== 0 || !existsSync(cli)) {
  process.stderr.write(`${build.stdout ?? ''}${build.stderr ?? ''}`);
  process.stderr.write(
    `\nThe build failed${build.error ? ` (${build.error.message})` : ''}: the demo cannot run.\n`,
  );
  process.exit(1);
}
const cached = /Cached:\s+(\d+) cached, (\d+) total/.exec(build.stdout ?? '');
say(
  `Built in ${((Date.now() - started) / 1000).toFixed(1)} s${cached ? ` (${cached[1]} of ${cached[2]} tasks cached)` : ''}.`,
);

// The demo handles Ctrl-C itself (it stops the stack and cleans up); this wrapper waits for it.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => {});
const demo = spawn(process.execPath, [cli, ...args], { stdio: 'inherit' });
demo.on('exit', (code, signal) => process.exit(code ?? (signal === 'SIGINT' ? 130 : 1)));
