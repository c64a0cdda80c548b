import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The demo package's folder (`src/..` under tsx, `dist/..` when built). The proxy runs here, so
 * `use: "@ballast/killswitch"` resolves from this package's node_modules.
 */
export const demoPackageDir: string = fileURLToPath(new URL('..', import.meta.url));

const require = createRequire(import.meta.url);

/**
 * The file of a workspace package's bin, read from its package.json.
 * @param packageName e.g. `@ballast/proxy`
 * @param bin the bin's name, e.g. `ballast-proxy`
 * @returns the absolute path of the built bin
 * @throws Error when the package has no such bin or it is not built
 */
export function binOf(packageName: string, bin: string): string {
  const manifestPath = require.resolve(`${packageName}/package.json`);
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    bin?: Record<string, string> | string;
  };
  const relative = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin?.[bin];
  if (relative === undefined) throw new Error(`${packageName} has no bin named ${bin}`);
  const path = join(dirname(manifestPath), relative);
  if (!existsSync(path)) {
    throw new Error(`${packageName} is not built (${path} is missing): run pnpm demo, or pnpm build`);
  }
  return path;
}
