#!/usr/bin/env node
// The `rem` command. It runs the CLI bundle (dist/cli-main.cjs) through V8's code cache, kept in
// rem's cache folder, so a command does not compile the same ~90 KB of JavaScript every time it
// starts: that compile was ~2.5 ms of a 40 ms `rem complete`. The first run, and any run after the
// bundle or Node changed, compiles as usual and saves the cache when it exits.
import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Script } from 'node:vm';

const BUNDLE = join(__dirname, 'cli-main.cjs');
const CACHE_PREFIX = 'cli-';
const CACHE_SUFFIX = '.v8cache';

const source = readFileSync(BUNDLE, 'utf8');
// V8 checks a cache against the source's length, not its content: the file's identity names the
// cache, so a rebuilt bundle of the same length never runs old code.
const bundleStats = statSync(BUNDLE);
const cacheDir = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'rem');
const cacheName = `${CACHE_PREFIX}${process.version}-${process.arch}-${bundleStats.size}-${Math.trunc(bundleStats.mtimeMs)}-${bundleStats.ino}${CACHE_SUFFIX}`;
const cacheFile = join(cacheDir, cacheName);

let cachedData: Buffer | undefined;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  // No cache yet: compile, and save one at exit.
}

// The bundle's import() calls become __import: a script compiled by node:vm cannot import on its
// own without an experimental flag, so this module imports for it.
const script = new Script(
  `(function (exports, require, module, __filename, __dirname, __import) {${source.replace(/^#!.*/, '')}\n})`,
  { filename: BUNDLE, cachedData },
);

if (cachedData === undefined || script.cachedDataRejected === true) {
  // At exit the functions this command ran are compiled too, so they go into the cache.
  process.once('exit', () => {
    try {
      mkdirSync(cacheDir, { recursive: true });
      const temporary = `${cacheFile}.${process.pid}.tmp`;
      writeFileSync(temporary, script.createCachedData());
      renameSync(temporary, cacheFile);
      for (const name of readdirSync(cacheDir)) {
        if (name !== cacheName && name.startsWith(CACHE_PREFIX) && name.endsWith(CACHE_SUFFIX)) {
          unlinkSync(join(cacheDir, name));
        }
      }
    } catch {
      // A cache that cannot be written (read-only home, full disk) only costs the compile.
    }
  });
}

const importFromBundle = (specifier: string): Promise<unknown> =>
  import(specifier.startsWith('.') ? pathToFileURL(join(__dirname, specifier)).href : specifier);

const bundleModule = { exports: {} };
(script.runInThisContext() as (...args: unknown[]) => void).call(
  bundleModule.exports,
  bundleModule.exports,
  // This file sits beside the bundle, so its require resolves what the bundle's would.
  require,
  bundleModule,
  BUNDLE,
  __dirname,
  importFromBundle,
);
