import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { BallastError, type ModelPrice } from '@ballast/core';
import { parse as parseYaml } from 'yaml';

/** A provider the proxy sends requests to. */
export interface ProviderConfig {
  /** Name used in routes, headers, logs and metrics. */
  name: string;
  /** `openai` for OpenAI and every OpenAI-compatible server; `anthropic` for Anthropic. */
  type: 'openai' | 'anthropic';
  /** OpenAI: up to and including `/v1` (`https://api.openai.com/v1`); Anthropic: the host (`https://api.anthropic.com`). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer` (openai) or `x-api-key` (anthropic). Never logged. */
  apiKey?: string;
  /** Extra headers for every request to this provider (`OpenAI-Organization`, `anthropic-beta`, ...). */
  headers: Record<string, string>;
  /** Time allowed until the response headers arrive; past it the next target is tried. @default 60000 */
  firstByteTimeoutMs: number;
  /** Time allowed between two body chunks once the response has started. @default 300000 */
  idleTimeoutMs: number;
  /** `max_tokens` sent to an anthropic provider for a request without an output cap. @default 4096 */
  defaultMaxTokens: number;
  /** Keep-alive connections per origin. @default 128 */
  connections: number;
  /** Retry the same target when it answers 429/503 with a `retry-after` at most this long. 0 turns it off. @default 0 */
  retryAfterMaxMs: number;
}

/** One target of a route. */
export interface TargetConfig {
  provider: string;
  /** Model to ask this provider for; the client's model when absent. */
  model?: string;
  /** Relative weight for the first choice; targets without weights keep their order. */
  weight?: number;
}

/** A route: the first whose glob matches the requested model wins. */
export interface RouteConfig {
  match: string;
  targets: TargetConfig[];
}

/** A plugin to load. */
export interface PluginConfig {
  /** A package name (resolved from the config file's folder, then the working directory) or a file path. */
  use: string;
  options: Record<string, unknown>;
  /** When the plugin throws, let the request through instead of failing it. @default false */
  failOpen: boolean;
}

/** A client key. */
export interface ClientKeyConfig {
  /** The bearer token clients send (`Authorization: Bearer` or `x-api-key`). */
  key: string;
  /** Name shown in logs, metrics and to plugins (never the key itself). */
  name: string;
  /** Default agent name for requests made with this key. */
  agent?: string;
}

/** The circuit breaker's settings, shared by all targets. */
export interface BreakerConfig {
  /** Failures within `windowMs` that open the breaker. @default 5 */
  failureThreshold: number;
  /** @default 30000 */
  windowMs: number;
  /** How long an open breaker skips its target before one probe is let through. @default 30000 */
  cooldownMs: number;
}

/** The whole, validated configuration. */
export interface ProxyConfig {
  server: {
    host: string;
    port: number;
    /** Bearer token of the admin API and plugin admin routes; admin routes are off without it. */
    adminToken?: string;
    /** Largest accepted request body. @default 10 MiB */
    bodyLimitBytes: number;
    /** On shutdown, how long in-flight requests may take to finish. @default 10000 */
    shutdownGraceMs: number;
  };
  pricing: Record<string, Partial<ModelPrice>>;
  providers: ProviderConfig[];
  routes: RouteConfig[];
  plugins: PluginConfig[];
  /** Client keys; without any, only clients on this machine (loopback) are accepted. */
  keys: ClientKeyConfig[];
  breaker: BreakerConfig;
  /** Folder plugin packages and relative paths resolve from. */
  baseDir: string;
}

/** Configuration as written by a user: everything with a default may be left out. */
export type ProxyConfigInput = Record<string, unknown>;

function configError(path: string, expected: string, value: unknown): never {
  const got =
    value === undefined
      ? 'nothing'
      : value === null
        ? 'null'
        : Array.isArray(value)
          ? 'a list'
          : JSON.stringify(value);
  throw new BallastError('PROXY_INVALID_CONFIG', `config ${path}: expected ${expected}, got ${got}`, {
    details: { path, expected },
  });
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function objectAt(value: unknown, path: string, optional = false): Record<string, unknown> {
  if (value === undefined && optional) return {};
  if (!isObject(value)) configError(path, 'a mapping', value);
  return value;
}

function stringAt(value: unknown, path: string): string {
  if (typeof value !== 'string' || value === '') configError(path, 'a non-empty string', value);
  return value;
}

function optionalStringAt(value: unknown, path: string): string | undefined {
  return value === undefined || value === null ? undefined : stringAt(value, path);
}

function numberAt(value: unknown, path: string, fallback: number, minimum = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < minimum) {
    configError(path, `a number >= ${minimum}`, value);
  }
  return value;
}

function checkKeys(source: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(source)) {
    if (!allowed.includes(key)) {
      configError(`${path}.${key}`, `one of the known keys (${allowed.join(', ')})`, source[key]);
    }
  }
}

function listAt(value: unknown, path: string, optional = false): unknown[] {
  if (value === undefined && optional) return [];
  if (!Array.isArray(value)) configError(path, 'a list', value);
  return value;
}

/**
 * Replaces `${VAR}` with the environment's value everywhere in a config tree.
 * @param value a parsed YAML/JSON value
 * @param env the environment
 * @param path where in the config the value sits, for error messages
 * @returns the value with every variable replaced
 * @throws BallastError `PROXY_INVALID_CONFIG` naming the variable and where it is used, when it is not set
 */
export function interpolateEnv(value: unknown, env: NodeJS.ProcessEnv, path = 'config'): unknown {
  if (typeof value === 'string') {
    const whole = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(value);
    const wholeValue = whole?.[1] === undefined ? undefined : env[whole[1]];
    // `port: ${PORT}` should give a number, as YAML would have read it.
    if (wholeValue !== undefined && /^(-?\d+(\.\d+)?|true|false)$/.test(wholeValue)) {
      return wholeValue === 'true' ? true : wholeValue === 'false' ? false : Number(wholeValue);
    }
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_match, name: string) => {
      const found = env[name];
      if (found === undefined) {
        throw new BallastError(
          'PROXY_MISSING_ENV',
          `config ${path} uses \${${name}}, but the environment variable ${name} is not set`,
          { details: { path, variable: name } },
        );
      }
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => interpolateEnv(item, env, `${path}[${index}]`));
  if (isObject(value)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolateEnv(item, env, `${path}.${key}`)]),
    );
  }
  return value;
}

/**
 * Validates a configuration object and fills in the defaults.
 * @param input the parsed configuration (after `${VAR}` interpolation)
 * @param baseDir the folder plugin packages and paths resolve from @default the working directory
 * @returns the full configuration
 * @throws BallastError `PROXY_INVALID_CONFIG` with the key's path and what was expected
 * @example
 * ```ts
 * const config = parseConfig({ providers: [{ name: 'openai', type: 'openai', baseUrl: 'https://api.openai.com/v1' }],
 *   routes: [{ match: '*', targets: [{ provider: 'openai' }] }] });
 * ```
 */
export function parseConfig(input: unknown, baseDir: string = process.cwd()): ProxyConfig {
  const root = objectAt(input, '(root)');
  checkKeys(root, ['server', 'pricing', 'providers', 'routes', 'plugins', 'keys', 'breaker'], 'config');

  const serverInput = objectAt(root.server, 'server', true);
  checkKeys(serverInput, ['host', 'port', 'adminToken', 'bodyLimitBytes', 'shutdownGraceMs'], 'server');
  const server: ProxyConfig['server'] = {
    host: optionalStringAt(serverInput.host, 'server.host') ?? '127.0.0.1',
    port: numberAt(serverInput.port, 'server.port', 8787),
    bodyLimitBytes: numberAt(serverInput.bodyLimitBytes, 'server.bodyLimitBytes', 10 * 1024 * 1024, 1),
    shutdownGraceMs: numberAt(serverInput.shutdownGraceMs, 'server.shutdownGraceMs', 10_000),
  };
  if (server.port > 65535 || !Number.isInteger(server.port))
    configError('server.port', 'a port number 0-65535', server.port);
  const adminToken = optionalStringAt(serverInput.adminToken, 'server.adminToken');
  if (adminToken !== undefined) server.adminToken = adminToken;

  const pricing = objectAt(root.pricing, 'pricing', true) as Record<string, Partial<ModelPrice>>;

  const providers = listAt(root.providers, 'providers').map((raw, index): ProviderConfig => {
    const path = `providers[${index}]`;
    const provider = objectAt(raw, path);
    checkKeys(
      provider,
      [
        'name',
        'type',
        'baseUrl',
        'apiKey',
        'headers',
        'firstByteTimeoutMs',
        'idleTimeoutMs',
        'defaultMaxTokens',
        'connections',
        'retryAfterMaxMs',
      ],
      path,
    );
    const type = provider.type;
    if (type !== 'openai' && type !== 'anthropic')
      configError(`${path}.type`, '"openai" or "anthropic"', type);
    const baseUrl = stringAt(provider.baseUrl, `${path}.baseUrl`);
    try {
      const url = new URL(baseUrl);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol');
    } catch {
      configError(`${path}.baseUrl`, 'an http(s) URL', baseUrl);
    }
    const headers = objectAt(provider.headers, `${path}.headers`, true);
    for (const [key, value] of Object.entries(headers)) stringAt(value, `${path}.headers.${key}`);
    const result: ProviderConfig = {
      name: stringAt(provider.name, `${path}.name`),
      type,
      baseUrl: baseUrl.replace(/\/+$/, ''),
      headers: headers as Record<string, string>,
      firstByteTimeoutMs: numberAt(provider.firstByteTimeoutMs, `${path}.firstByteTimeoutMs`, 60_000, 1),
      idleTimeoutMs: numberAt(provider.idleTimeoutMs, `${path}.idleTimeoutMs`, 300_000, 1),
      defaultMaxTokens: numberAt(provider.defaultMaxTokens, `${path}.defaultMaxTokens`, 4096, 1),
      connections: numberAt(provider.connections, `${path}.connections`, 128, 1),
      retryAfterMaxMs: numberAt(provider.retryAfterMaxMs, `${path}.retryAfterMaxMs`, 0),
    };
    const apiKey = optionalStringAt(provider.apiKey, `${path}.apiKey`);
    if (apiKey !== undefined) result.apiKey = apiKey;
    return result;
  });
  const names = new Set<string>();
  providers.forEach((provider, index) => {
    if (names.has(provider.name))
      configError(`providers[${index}].name`, 'a name no other provider has', provider.name);
    names.add(provider.name);
  });

  const routes = listAt(root.routes, 'routes').map((raw, index): RouteConfig => {
    const path = `routes[${index}]`;
    const route = objectAt(raw, path);
    checkKeys(route, ['match', 'targets'], path);
    const targets = listAt(route.targets, `${path}.targets`);
    if (targets.length === 0) configError(`${path}.targets`, 'at least one target', targets);
    return {
      match: stringAt(route.match, `${path}.match`),
      targets: targets.map((rawTarget, targetIndex) => {
        const targetPath = `${path}.targets[${targetIndex}]`;
        const target = objectAt(rawTarget, targetPath);
        checkKeys(target, ['provider', 'model', 'weight'], targetPath);
        const provider = stringAt(target.provider, `${targetPath}.provider`);
        if (!names.has(provider)) {
          configError(
            `${targetPath}.provider`,
            `the name of a configured provider (${[...names].join(', ')})`,
            provider,
          );
        }
        const out: TargetConfig = { provider };
        const model = optionalStringAt(target.model, `${targetPath}.model`);
        if (model !== undefined) out.model = model;
        if (target.weight !== undefined) out.weight = numberAt(target.weight, `${targetPath}.weight`, 1, 0);
        return out;
      }),
    };
  });

  const plugins = listAt(root.plugins, 'plugins', true).map((raw, index): PluginConfig => {
    const path = `plugins[${index}]`;
    const plugin = objectAt(raw, path);
    checkKeys(plugin, ['use', 'options', 'failOpen'], path);
    if (plugin.failOpen !== undefined && typeof plugin.failOpen !== 'boolean') {
      configError(`${path}.failOpen`, 'true or false', plugin.failOpen);
    }
    return {
      use: stringAt(plugin.use, `${path}.use`),
      options: objectAt(plugin.options, `${path}.options`, true),
      failOpen: plugin.failOpen === true,
    };
  });

  const keys = listAt(root.keys, 'keys', true).map((raw, index): ClientKeyConfig => {
    const path = `keys[${index}]`;
    const key = objectAt(raw, path);
    checkKeys(key, ['key', 'name', 'agent'], path);
    const out: ClientKeyConfig = {
      key: stringAt(key.key, `${path}.key`),
      name: stringAt(key.name, `${path}.name`),
    };
    const agent = optionalStringAt(key.agent, `${path}.agent`);
    if (agent !== undefined) out.agent = agent;
    return out;
  });

  const breakerInput = objectAt(root.breaker, 'breaker', true);
  checkKeys(breakerInput, ['failureThreshold', 'windowMs', 'cooldownMs'], 'breaker');
  const breaker: BreakerConfig = {
    failureThreshold: numberAt(breakerInput.failureThreshold, 'breaker.failureThreshold', 5, 1),
    windowMs: numberAt(breakerInput.windowMs, 'breaker.windowMs', 30_000, 1),
    cooldownMs: numberAt(breakerInput.cooldownMs, 'breaker.cooldownMs', 30_000, 1),
  };

  return { server, pricing, providers, routes, plugins, keys, breaker, baseDir: resolve(baseDir) };
}

const placeholderPrefix = '__ballast-env-';
// A hyphen cannot occur in a variable name, so it ends the name unambiguously.
const placeholderPattern = /__ballast-env-([A-Za-z_][A-Za-z0-9_]*)-__/g;

/** Turns placeholders back into `${VAR}`, and a value that is one variable alone into a typed scalar marker. */
function restorePlaceholders(value: unknown): unknown {
  if (typeof value === 'string')
    return value.replace(placeholderPattern, (_match, name: string) => `\${${name}}`);
  if (Array.isArray(value)) return value.map(restorePlaceholders);
  if (isObject(value))
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, restorePlaceholders(item)]));
  return value;
}

/**
 * Reads a YAML (or JSON) config file, interpolates `${VAR}` from the environment and validates it.
 * Plugins and relative paths then resolve from the file's folder.
 * @param file path to the file
 * @param env the environment @default process.env
 * @returns the validated configuration
 * @throws BallastError `PROXY_INVALID_CONFIG`, `PROXY_MISSING_ENV`, or `PROXY_CONFIG_UNREADABLE`
 */
export async function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<ProxyConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new BallastError('PROXY_CONFIG_UNREADABLE', `cannot read config file ${file}`, { cause: error });
  }
  // `${VAR}` is not valid YAML inside flow mappings (`{ apiKey: ${KEY} }`), so variables become
  // plain placeholders for parsing and are replaced in the parsed tree.
  const placeholders = text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g,
    (_match, name: string) => `${placeholderPrefix}${name}-__`,
  );
  let parsed: unknown;
  try {
    parsed = parseYaml(placeholders);
  } catch (error) {
    throw new BallastError(
      'PROXY_INVALID_CONFIG',
      `config file ${file} is not valid YAML: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  return parseConfig(interpolateEnv(restorePlaceholders(parsed), env), dirname(resolve(file)));
}
