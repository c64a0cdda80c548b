import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  BallastError,
  type GatewayPlugin,
  type GatewayPluginFactory,
  type Logger,
  type PluginHost,
} from '@ballast/core';
import type { PluginConfig } from './config.js';

function exportTarget(entry: unknown): string | undefined {
  if (typeof entry === 'string') return entry;
  if (typeof entry !== 'object' || entry === null) return undefined;
  const conditions = entry as Record<string, unknown>;
  for (const condition of ['import', 'node', 'default']) {
    const found = exportTarget(conditions[condition]);
    if (found) return found;
  }
  return undefined;
}

/** The ESM entry file of an installed package, found by walking up `node_modules` from `fromDir`. */
function findPackageEntry(name: string, fromDir: string): string | undefined {
  let dir = resolve(fromDir);
  for (;;) {
    const packageDir = join(dir, 'node_modules', name);
    const manifestPath = join(packageDir, 'package.json');
    if (existsSync(manifestPath)) {
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
        exports?: unknown;
        module?: string;
        main?: string;
      };
      let entry: string | undefined;
      if (manifest.exports !== undefined) {
        const exportsField = manifest.exports as Record<string, unknown> | string;
        const root =
          typeof exportsField === 'object' && '.' in exportsField ? exportsField['.'] : exportsField;
        entry = exportTarget(root);
      }
      entry ??= manifest.module ?? manifest.main ?? 'index.js';
      return join(packageDir, entry);
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * Where a plugin's module is. A path (`./plugins/x.js`, `/abs/x.js`) resolves from the config
 * folder; a package name from the config folder's `node_modules` and then the working
 * directory's: pnpm's isolated layout means the proxy's own folder may not see the package.
 * @param use the config's `use`
 * @param baseDir the config file's folder
 * @returns a file URL to import
 * @throws BallastError `PROXY_PLUGIN_NOT_FOUND` saying where it looked
 */
export function resolvePlugin(use: string, baseDir: string): string {
  if (use.startsWith('.') || isAbsolute(use) || use.startsWith('file:')) {
    const path = use.startsWith('file:') ? new URL(use).pathname : resolve(baseDir, use);
    if (!existsSync(path)) {
      throw new BallastError(
        'PROXY_PLUGIN_NOT_FOUND',
        `plugin file ${path} (from use: "${use}") does not exist`,
      );
    }
    return pathToFileURL(path).href;
  }
  const searched = [...new Set([resolve(baseDir), process.cwd()])];
  for (const dir of searched) {
    const entry = findPackageEntry(use, dir);
    if (entry) return pathToFileURL(entry).href;
  }
  throw new BallastError(
    'PROXY_PLUGIN_NOT_FOUND',
    `plugin package "${use}" is not installed where the proxy looks: node_modules above ${searched.join(' and ')}. ` +
      `Install it next to the config file (e.g. pnpm add ${use}) or give a file path.`,
  );
}

async function guarded<T>(
  plugin: GatewayPlugin,
  hook: string,
  logger: Logger,
  run: () => T | Promise<T>,
): Promise<T | undefined> {
  try {
    return await run();
  } catch (error) {
    logger.warn('plugin failed open', { plugin: plugin.name, hook, error: String(error) });
    return undefined;
  }
}

/** Wraps a plugin so that a throw in a hook lets the request through (failOpen: true). */
function failOpen(plugin: GatewayPlugin, logger: Logger): GatewayPlugin {
  const wrapped: GatewayPlugin = { name: plugin.name, ...(plugin.routes ? { routes: plugin.routes } : {}) };
  const { onRequest, onStreamEvent, onResponse, onAbort, onError, close } = plugin;
  if (onRequest)
    wrapped.onRequest = (context) =>
      guarded(plugin, 'onRequest', logger, () => onRequest.call(plugin, context));
  if (onStreamEvent) {
    wrapped.onStreamEvent = (context, event, progress) => {
      try {
        return onStreamEvent.call(plugin, context, event, progress);
      } catch (error) {
        logger.warn('plugin failed open', {
          plugin: plugin.name,
          hook: 'onStreamEvent',
          error: String(error),
        });
        return undefined;
      }
    };
  }
  if (onResponse) {
    wrapped.onResponse = async (context, outcome) => {
      await guarded(plugin, 'onResponse', logger, () => onResponse.call(plugin, context, outcome));
    };
  }
  if (onAbort) {
    wrapped.onAbort = async (context, outcome) => {
      await guarded(plugin, 'onAbort', logger, () => onAbort.call(plugin, context, outcome));
    };
  }
  if (onError) {
    wrapped.onError = async (context, error) => {
      await guarded(plugin, 'onError', logger, () => onError.call(plugin, context, error));
    };
  }
  if (close) wrapped.close = () => close.call(plugin);
  return wrapped;
}

/**
 * Loads the configured plugins in order: resolve, `import()`, call the factory.
 * @param configs the config's `plugins`
 * @param baseDir the config file's folder
 * @param host what plugins get: logger, pricing, store
 * @returns the plugins, ready to run
 * @throws BallastError `PROXY_PLUGIN_NOT_FOUND` or `PROXY_PLUGIN_INVALID`
 */
export async function loadPlugins(
  configs: readonly PluginConfig[],
  baseDir: string,
  host: PluginHost,
): Promise<GatewayPlugin[]> {
  const plugins: GatewayPlugin[] = [];
  for (const config of configs) {
    const url = resolvePlugin(config.use, baseDir);
    const module = (await import(url)) as { default?: unknown; createPlugin?: unknown };
    const factory = (typeof module.default === 'function' ? module.default : module.createPlugin) as
      | GatewayPluginFactory<Record<string, unknown>>
      | undefined;
    if (typeof factory !== 'function') {
      throw new BallastError(
        'PROXY_PLUGIN_INVALID',
        `plugin "${config.use}" exports no factory: export default (or export const createPlugin) a function (options, host) => plugin`,
      );
    }
    const plugin = await factory(config.options, host);
    if (typeof plugin !== 'object' || plugin === null || typeof plugin.name !== 'string') {
      throw new BallastError(
        'PROXY_PLUGIN_INVALID',
        `plugin "${config.use}" factory did not return an object with a name`,
      );
    }
    plugins.push(config.failOpen ? failOpen(plugin, host.logger) : plugin);
  }
  return plugins;
}
