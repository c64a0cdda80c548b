import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  BallastError,
  type ChatRequest,
  type CutDecision,
  convertResponse,
  countRequestTokens,
  createDiagnostics,
  createPricing,
  createRequestContext,
  createSseParser,
  createStreamTranslator,
  createStreamUsageTracker,
  type Dialect,
  errorBody,
  errorStreamEvent,
  extractUsage,
  formatSseEvent,
  type GatewayPlugin,
  type HostRequestContext,
  type Logger,
  type Pricing,
  parseRequest,
  type RouteTarget,
  runAbortHooks,
  runErrorHooks,
  runRequestHooks,
  runResponseHooks,
  runStreamHooks,
  type SseEvent,
  type Store,
  silentLogger,
  type Usage,
} from '@ballast/core';
import { Agent, request as undiciRequest } from 'undici';
import type { ProviderConfig, ProxyConfig } from './config.js';
import { createDashboard, type DashboardState } from './dashboard.js';
import { TargetHealthBook } from './health.js';
import { createProxyMetrics, type ProxyMetrics } from './metrics.js';
import { loadPlugins } from './plugins.js';
import { type CompiledRoute, compileRoutes, findRoute, orderTargets } from './routing.js';
import {
  buildUpstreamRequest,
  classifyUpstreamError,
  type ResolvedTarget,
  resetTimeFrom,
  type UpstreamFailure,
} from './upstream.js';
import { callUpstream, type UpstreamAnswer } from './upstream-call.js';

/** Options of {@link createProxy} besides the configuration. */
export interface ProxyOptions {
  /** Where the proxy logs (the CLI passes pino). @default silent */
  logger?: Logger;
  /** Shared state handed to plugins. */
  store?: Store;
  /** Plugins to run in addition to (after) the configured ones; for embedding and tests. */
  plugins?: GatewayPlugin[];
  /** The clock, in epoch ms. @default Date.now */
  now?: () => number;
}

/** A running (or ready to run) gateway. */
export interface BallastProxy {
  /** Node's request handler, for embedding in another server. */
  readonly handler: (request: IncomingMessage, response: ServerResponse) => void;
  /** Starts listening on `server.host:server.port` (0 picks a free port). @returns the base URL */
  listen(): Promise<string>;
  /** Stops accepting, lets in-flight requests finish up to `server.shutdownGraceMs`, then closes everything. */
  close(): Promise<void>;
  /** The base URL once listening. */
  readonly url: string | undefined;
  readonly metrics: ProxyMetrics;
  /** Breaker and quota state of every target used so far. */
  readonly health: TargetHealthBook;
  readonly plugins: readonly GatewayPlugin[];
  /** What `GET /dashboard/state` answers: plugins' sessions and events, providers, spend over time. */
  dashboardState(): Promise<DashboardState>;
}

const quotaCooldownMs = 60_000;
const maxErrorBodyBytes = 64 * 1024;
const loopback = /^(127\.|::1$|::ffff:127\.)/;

interface Identity {
  keyName: string | undefined;
  agent: string | undefined;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    request.resume();
    return Promise.reject(
      new HttpError(
        413,
        'request_too_large',
        `request body of ${declared} bytes is over the limit of ${limit} bytes (server.bodyLimitBytes)`,
      ),
    );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        request.removeAllListeners('data');
        request.resume();
        reject(
          new HttpError(
            413,
            'request_too_large',
            `request body is over the limit of ${limit} bytes (server.bodyLimitBytes)`,
          ),
        );
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** Reads a whole undici body, up to `limit` bytes. */
async function readUpstream(body: AsyncIterable<Buffer>, limit = Number.POSITIVE_INFINITY): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
}

function safeJson(buffer: Buffer): unknown {
  try {
    return JSON.parse(buffer.toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * The `usage` object of a JSON response, read without parsing the rest: it is the last top-level
 * `"usage"` key in both dialects' responses. Falls back to a full parse if that does not work out.
 */
function usageOnly(buffer: Buffer): unknown {
  // Searched in the bytes: the response is never decoded as a whole.
  const at = buffer.lastIndexOf('"usage"');
  const open = at < 0 ? -1 : buffer.indexOf(123, at);
  if (open > 0) {
    let depth = 0;
    for (let index = open; index < buffer.length; index += 1) {
      const byte = buffer[index];
      if (byte === 123) depth += 1;
      else if (byte === 125) {
        depth -= 1;
        if (depth === 0) {
          try {
            return { usage: JSON.parse(buffer.toString('utf8', open, index + 1)) };
          } catch {
            break;
          }
        }
      }
    }
  }
  return safeJson(buffer);
}

/**
 * Fires `abort` once when the call must stop: the client went away, or a plugin cut the call.
 * undici takes an EventEmitter as a request's signal; one costs far less per request than an
 * AbortController, which is made only if a plugin reads `context.signal`.
 */
class CallStop extends EventEmitter {
  aborted = false;
  /** Whether it stopped because the client went away (not because of a cut). */
  clientLeft = false;
  private controller: AbortController | undefined;
  abort(clientLeft: boolean): void {
    if (this.aborted) return;
    this.aborted = true;
    this.clientLeft = clientLeft;
    this.emit('abort');
  }
  /** An AbortSignal that follows this one, for the plugins' request context. */
  toAbortSignal(): AbortSignal {
    if (!this.controller) {
      const controller = new AbortController();
      this.controller = controller;
      if (this.aborted) controller.abort();
      else this.once('abort', () => controller.abort());
    }
    return this.controller.signal;
  }
}

/** A streamed upstream answer, from undici's `request()`. */
type StreamedUpstream = Awaited<ReturnType<typeof undiciRequest>>;

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

const unpriced = new WeakMap<Pricing, Set<string>>();

/** The cost of a call, or undefined for a model without a price (remembered, so no error is built per call). */
function costOrUndefined(pricing: Pricing, model: string, usage: Usage): number | undefined {
  const known = unpriced.get(pricing);
  if (known?.has(model)) return undefined;
  try {
    return pricing.costOf(model, usage);
  } catch (error) {
    if (BallastError.isInstance(error) && error.code === 'CORE_UNKNOWN_MODEL') {
      if (known) {
        if (known.size < 10_000) known.add(model);
      } else unpriced.set(pricing, new Set([model]));
    }
    return undefined;
  }
}

/**
 * Creates the gateway from a validated configuration (see `parseConfig`/`loadConfig`).
 * Plugins are loaded here, so the returned promise rejects on a plugin that cannot be found.
 * @param config the configuration
 * @param options logger, store, extra plugins, clock
 * @returns the proxy; call `listen()` to serve
 * @example
 * ```ts
 * const proxy = await createProxy(parseConfig({ providers: [...], routes: [...] }));
 * const url = await proxy.listen(); // http://127.0.0.1:8787
 * ```
 */
export async function createProxy(config: ProxyConfig, options: ProxyOptions = {}): Promise<BallastProxy> {
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const pricing = createPricing(config.pricing);
  const diagnostics = createDiagnostics('proxy');
  const routes: CompiledRoute[] = compileRoutes(config.routes);
  const providers = new Map(config.providers.map((provider) => [provider.name, provider]));
  const agents = new Map<string, Agent>();
  const agentFor = (provider: ProviderConfig): Agent => {
    let agent = agents.get(provider.name);
    if (!agent) {
      agent = new Agent({ connections: provider.connections, keepAliveTimeout: 30_000, pipelining: 1 });
      agents.set(provider.name, agent);
    }
    return agent;
  };
  const health = new TargetHealthBook(config.breaker, now);
  let inFlight = 0;
  const metrics = createProxyMetrics(
    (gauge) => {
      for (const entry of health.snapshot()) {
        gauge.set({ target: entry.key }, entry.state === 'closed' ? 0 : entry.state === 'half-open' ? 1 : 2);
      }
    },
    (gauge) => gauge.set({}, inFlight),
  );
  const host = { logger, pricing, ...(options.store ? { store: options.store } : {}) };
  const plugins = [...(await loadPlugins(config.plugins, config.baseDir, host)), ...(options.plugins ?? [])];
  const pluginRoutes = new Map<string, NonNullable<GatewayPlugin['routes']>[number]>();
  for (const plugin of plugins)
    for (const route of plugin.routes ?? []) pluginRoutes.set(`${route.method} ${route.path}`, route);
  const keys = new Map(config.keys.map((key) => [key.key, key]));
  let callsInFlight = 0;
  const dashboard = createDashboard({
    plugins,
    health,
    providerNames: config.providers.map((provider) => provider.name),
    adminToken: config.server.adminToken,
    adminActions: config.server.adminToken !== undefined && pluginRoutes.has('POST /admin/kill'),
    callsInFlight: () => callsInFlight,
    now,
    logger,
  });
  let requestCounter = 0;
  const requestIdPrefix = Math.random().toString(36).slice(2, 8);

  // Unweighted routes always try the same targets for a model: resolve them once.
  const resolvedTargets = new Map<string, ResolvedTarget[]>();
  function resolveTargets(route: CompiledRoute, model: string): ResolvedTarget[] {
    const weighted = route.targets.some((target) => target.weight !== undefined);
    const cacheKey = `${route.match}\u0000${model}`;
    if (!weighted) {
      const cached = resolvedTargets.get(cacheKey);
      if (cached) return cached;
    }
    const targets = orderTargets(route.targets).map((target): ResolvedTarget => {
      const provider = providers.get(target.provider) as ProviderConfig;
      const targetModel = target.model ?? model;
      return { provider, model: targetModel, key: `${provider.name}/${targetModel}` };
    });
    if (!weighted && resolvedTargets.size < 10_000) resolvedTargets.set(cacheKey, targets);
    return targets;
  }

  // What plugins see of the targets, made once per (cached) target list.
  const candidateLists = new WeakMap<ResolvedTarget[], RouteTarget[]>();
  function candidatesOf(targets: ResolvedTarget[]): RouteTarget[] {
    let candidates = candidateLists.get(targets);
    if (!candidates) {
      candidates = Object.freeze(
        targets.map((target) => Object.freeze({ provider: target.provider.name, model: target.model })),
      ) as RouteTarget[];
      candidateLists.set(targets, candidates);
    }
    return candidates;
  }

  function identify(request: IncomingMessage): Identity {
    if (keys.size === 0) {
      if (!loopback.test(request.socket.remoteAddress ?? '')) {
        throw new HttpError(
          403,
          'forbidden',
          'this proxy has no client keys configured, so it accepts clients on this machine only; add keys: to the config to accept others',
        );
      }
      return { keyName: undefined, agent: undefined };
    }
    const bearer = headerValue(request.headers.authorization)?.replace(/^Bearer\s+/i, '');
    const token = bearer ?? headerValue(request.headers['x-api-key']);
    const key = token === undefined ? undefined : keys.get(token);
    if (!key) {
      throw new HttpError(
        401,
        'invalid_api_key',
        'missing or unknown client key: send one of the configured keys as Authorization: Bearer or x-api-key',
      );
    }
    return { keyName: key.name, agent: key.agent };
  }

  function sendJson(
    response: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    const text = JSON.stringify(body);
    response.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      ...headers,
    });
    response.end(text);
  }

  function sendError(
    response: ServerResponse,
    dialect: Dialect,
    status: number,
    code: string,
    message: string,
    headers: Record<string, string> = {},
  ): void {
    if (response.headersSent) {
      response.end();
      return;
    }
    sendJson(response, status, errorBody(dialect, { code, message }), headers);
  }

  async function handleChat(
    dialect: Dialect,
    request: IncomingMessage,
    response: ServerResponse,
    started: number,
    requestId: string,
  ): Promise<{ status: number; provider: string }> {
    const overheadHeader = (upstreamMs: number): string =>
      Math.max(0, performance.now() - started - upstreamMs).toFixed(3);
    const fail = (status: number, code: string, message: string, extra: Record<string, string> = {}) => {
      sendError(response, dialect, status, code, message, {
        'x-ballast-request-id': requestId,
        'x-ballast-overhead-ms': overheadHeader(0),
        ...extra,
      });
      return { status, provider: '' };
    };

    let identity: Identity;
    let raw: Buffer;
    try {
      identity = identify(request);
      raw = await readBody(request, config.server.bodyLimitBytes);
    } catch (error) {
      if (error instanceof HttpError) return fail(error.status, error.code, error.message);
      throw error;
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (error) {
      return fail(
        400,
        'invalid_request_error',
        `request body is not valid JSON: ${(error as Error).message}`,
      );
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return fail(
        400,
        'invalid_request_error',
        'request body must be a JSON object with "model" and "messages"',
      );
    }
    const rawBody = body as Record<string, unknown>;
    if (typeof rawBody.model !== 'string' || rawBody.model === '') {
      return fail(
        400,
        'invalid_request_error',
        'request body needs "model": the name of the model to use (a string)',
      );
    }
    if (!Array.isArray(rawBody.messages)) {
      return fail(400, 'invalid_request_error', 'request body needs "messages": an array of messages');
    }
    const model = rawBody.model;
    const route = findRoute(routes, model);
    if (!route) {
      return fail(
        404,
        'model_not_found',
        `no route matches model "${model}"; the configured routes match: ${routes.map((item) => `"${item.match}"`).join(', ')}`,
      );
    }
    const stream = rawBody.stream === true;
    const clientWantsUsage =
      dialect === 'openai' &&
      typeof rawBody.stream_options === 'object' &&
      rawBody.stream_options !== null &&
      (rawBody.stream_options as { include_usage?: unknown }).include_usage === true;

    const targets = resolveTargets(route, model);
    let parsed: ChatRequest | undefined;
    const neutral = (): ChatRequest => {
      parsed ??= parseRequest(dialect, rawBody);
      return parsed;
    };
    const stop = new CallStop();
    response.on('close', () => {
      if (!response.writableFinished) stop.abort(true);
    });
    const context: HostRequestContext = createRequestContext({
      requestId,
      dialect,
      model,
      request: neutral,
      rawRequest: rawBody,
      inputTokens: () => countRequestTokens(context.request).tokens,
      ...(headerValue(request.headers['x-ballast-session'])
        ? { sessionId: headerValue(request.headers['x-ballast-session']) as string }
        : {}),
      ...((headerValue(request.headers['x-ballast-agent']) ?? identity.agent)
        ? { agent: (headerValue(request.headers['x-ballast-agent']) ?? identity.agent) as string }
        : {}),
      ...(identity.keyName ? { clientKey: identity.keyName } : {}),
      candidates: candidatesOf(targets),
      // Only plugins read the headers: skip the copy when there are none.
      headers:
        plugins.length === 0
          ? {}
          : Object.fromEntries(
              Object.entries(request.headers)
                .filter(([name]) => name !== 'authorization' && name !== 'x-api-key')
                .map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : (value ?? '')]),
            ),
      ...(plugins.length > 0 ? { signal: () => stop.toAbortSignal(), onCut: () => stop.abort(false) } : {}),
      now,
    });

    let admitted: GatewayPlugin[] = [];
    if (plugins.length > 0) {
      try {
        const decision = await runRequestHooks(
          plugins,
          context,
          (rewritten) => countRequestTokens(rewritten).tokens,
        );
        if (decision.action === 'deny') {
          dashboard.recordEvent({
            kind: 'denial',
            at: now(),
            ...(context.sessionId === undefined ? {} : { session: context.sessionId }),
            code: decision.decision.code,
            message: decision.decision.message,
            requestId,
            plugin: decision.plugin,
          });
          return fail(decision.decision.status, decision.decision.code, decision.decision.message, {
            'x-should-retry': 'false',
            'x-ballast-decision': decision.decision.code,
            ...Object.fromEntries(context.responseHeaders),
            ...decision.decision.headers,
          });
        }
        admitted = decision.admitted;
      } catch (error) {
        const failure = BallastError.from(error, 'PROXY_INTERNAL');
        if (failure.code === 'CORE_INVALID_REQUEST' || failure.code === 'CORE_CONVERSION_UNSUPPORTED') {
          return fail(400, 'invalid_request_error', failure.message);
        }
        logger.error('plugin failed', { requestId, error: failure.message, cause: String(failure.cause) });
        return fail(
          500,
          'plugin_failed',
          `${failure.message}; the request was not sent (set failOpen: true on the plugin to let requests through)`,
        );
      }
    }

    const fallbackPath: string[] = [];
    let upstreamMs = 0;
    let lastFailure: UpstreamFailure | undefined;
    /** A plugin cut the call (an operator's kill) before its response started. */
    const answerCut = async (cut: CutDecision) => {
      recordCut(context, cut.code, cut.message);
      const nothing = { inputTokens: 0, outputTokens: 0 };
      await runAbortHooks(
        admitted,
        context,
        { usage: nothing, costUsd: 0, reason: 'cut', code: cut.code },
        logger,
      );
      return fail(cut.status ?? 403, cut.code, cut.message, {
        'x-should-retry': 'false',
        'x-ballast-decision': cut.code,
      });
    };
    const settleError = async (error: BallastError) => {
      if (admitted.length > 0) await runErrorHooks(admitted, context, error, logger);
    };

    for (const target of targets) {
      const skip = health.acquire(target.key);
      if (skip) {
        fallbackPath.push(`${target.key}:${skip}`);
        metrics.fallbacks.inc({ target: target.key, reason: skip });
        dashboard.recordFallback(target.key, skip);
        continue;
      }
      if (stop.clientLeft) {
        health.release(target.key);
        break;
      }
      context.setTarget({ provider: target.provider.name, model: target.model });
      let upstreamBody: ReturnType<typeof buildUpstreamRequest>;
      try {
        upstreamBody = buildUpstreamRequest({
          clientDialect: dialect,
          rawBody,
          rawBytes: raw,
          neutral: () => context.request,
          rewritten: context.rewritten,
          target,
          stream,
          clientHeaders: request.headers,
        });
      } catch (error) {
        health.release(target.key);
        const failure = BallastError.from(error);
        await settleError(failure);
        return fail(400, 'invalid_request_error', failure.message);
      }

      let attemptsOnTarget = 0;
      for (;;) {
        attemptsOnTarget += 1;
        const attemptStart = performance.now();
        diagnostics.publish('upstream-start', () => ({ requestId, target: target.key }));
        let upstream: UpstreamAnswer;
        // Streams need a Readable with backpressure; whole answers are read without one.
        let streamed: StreamedUpstream | undefined;
        try {
          if (stream) {
            const answer = await undiciRequest(upstreamBody.url, {
              method: 'POST',
              headers: upstreamBody.headers,
              body: upstreamBody.body,
              dispatcher: agentFor(target.provider),
              signal: stop,
              headersTimeout: target.provider.firstByteTimeoutMs,
              bodyTimeout: target.provider.idleTimeoutMs,
            });
            streamed = answer;
            upstream = {
              statusCode: answer.statusCode,
              headers: answer.headers,
              body: (limit) => readUpstream(answer.body, limit),
            };
          } else {
            upstream = await callUpstream(
              agentFor(target.provider),
              {
                origin: upstreamBody.origin,
                path: upstreamBody.path,
                headers: upstreamBody.headers,
                body: upstreamBody.body,
                headersTimeout: target.provider.firstByteTimeoutMs,
                bodyTimeout: target.provider.idleTimeoutMs,
              },
              stop,
            );
          }
        } catch (error) {
          upstreamMs += performance.now() - attemptStart;
          if (context.cut) {
            health.release(target.key);
            return answerCut(context.cut);
          }
          if (stop.clientLeft) {
            health.release(target.key);
            await settleError(
              new BallastError('PROXY_CLIENT_GONE', 'the client went away before the response started'),
            );
            return { status: 499, provider: target.provider.name };
          }
          const code = (error as { code?: string }).code ?? '';
          const timeout = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT';
          lastFailure = {
            kind: timeout ? 'timeout' : 'connection',
            fallback: true,
            status: timeout ? 504 : 502,
            message: timeout
              ? `${target.provider.name} sent no response within ${target.provider.firstByteTimeoutMs} ms (firstByteTimeoutMs)`
              : `cannot reach ${target.provider.name}: ${(error as Error).message}`,
          };
          health.fail(target.key);
          metrics.upstreamFailures.inc({ provider: target.provider.name, kind: lastFailure.kind });
          break;
        }
        upstreamMs += performance.now() - attemptStart;

        if (upstream.statusCode >= 200 && upstream.statusCode < 300) {
          health.succeed(target.key);
          dashboard.recordLatency(target.key, performance.now() - attemptStart);
          // One literal with every header the answer always has: cheaper than spreads and additions.
          const common: Record<string, string> = {
            'x-ballast-request-id': requestId,
            'x-ballast-provider': target.provider.name,
            'x-ballast-model': target.model,
            'x-ballast-fallbacks': String(fallbackPath.length),
            'x-ballast-overhead-ms': '',
          };
          if (fallbackPath.length > 0) common['x-ballast-fallback-path'] = fallbackPath.join(',');
          if (streamed) {
            await deliverStream({
              dialect,
              target,
              upstream: streamed,
              response,
              context,
              admitted,
              common,
              clientWantsUsage,
              started,
              upstreamMs,
              stop,
            });
          } else {
            const upstreamStart = performance.now();
            let buffer: Buffer;
            try {
              buffer = await upstream.body();
            } catch (error) {
              upstreamMs += performance.now() - upstreamStart;
              if (context.cut) return answerCut(context.cut);
              if (stop.clientLeft) {
                // The client left; the provider did nothing wrong.
                const nothing = { inputTokens: 0, outputTokens: 0 };
                await runAbortHooks(
                  admitted,
                  context,
                  { usage: nothing, costUsd: 0, reason: 'client-disconnect' },
                  logger,
                );
                return { status: 499, provider: target.provider.name };
              }
              health.fail(target.key);
              await settleError(BallastError.from(error, 'PROXY_UPSTREAM_BODY'));
              return fail(
                502,
                'upstream_error',
                `${target.provider.name} broke off its response: ${(error as Error).message}`,
              );
            }
            upstreamMs += performance.now() - upstreamStart;
            const sameDialect = target.provider.type === dialect;
            // Passed through as is: only the usage object needs reading, not the whole response.
            const parsedBody = sameDialect ? usageOnly(buffer) : safeJson(buffer);
            const usage = extractUsage(target.provider.type, parsedBody);
            const costUsd = costOrUndefined(pricing, target.model, usage);
            let out: Buffer | string = buffer;
            if (!sameDialect) {
              try {
                out = JSON.stringify(convertResponse(target.provider.type, dialect, parsedBody));
              } catch (error) {
                await settleError(BallastError.from(error, 'PROXY_BAD_UPSTREAM_RESPONSE'));
                return fail(
                  502,
                  'upstream_error',
                  `${target.provider.name} sent a response that cannot be translated: ${(error as Error).message}`,
                );
              }
            }
            account(target, usage, costUsd);
            const headers = common;
            headers['content-type'] = 'application/json';
            headers['content-length'] = String(Buffer.byteLength(out));
            if (costUsd !== undefined) headers['x-ballast-cost-usd'] = costUsd.toFixed(8);
            for (const [name, value] of context.responseHeaders) headers[name] = value;
            const overheadMs = Math.max(0, performance.now() - started - upstreamMs);
            headers['x-ballast-overhead-ms'] = overheadMs.toFixed(3);
            observeOverhead(dialect, overheadMs / 1000);
            response.writeHead(upstream.statusCode, headers);
            response.end(out);
            if (admitted.length > 0) {
              await runResponseHooks(
                admitted,
                context,
                { usage, costUsd, streamed: false, status: upstream.statusCode },
                logger,
              );
            }
          }
          return { status: upstream.statusCode, provider: target.provider.name };
        }

        // An error answer: read it (bounded), classify it, and decide.
        const errorBuffer = await upstream.body(maxErrorBodyBytes).catch(() => Buffer.alloc(0));
        const failure = classifyUpstreamError(
          upstream.statusCode,
          safeJson(errorBuffer),
          upstream.headers,
          now(),
        );
        lastFailure = failure;
        metrics.upstreamFailures.inc({ provider: target.provider.name, kind: failure.kind });
        if (!failure.fallback) {
          // The request itself is wrong: no other target would take it either.
          health.release(target.key);
          await settleError(
            new BallastError('PROXY_UPSTREAM_REJECTED', failure.message, { status: failure.status }),
          );
          const code =
            failure.upstreamCode ??
            (failure.status === 401 || failure.status === 403
              ? 'upstream_auth_error'
              : 'invalid_request_error');
          return fail(failure.status, code, `${target.provider.name}: ${failure.message}`, {
            'x-ballast-provider': target.provider.name,
          });
        }
        const retryable =
          (failure.kind === 'rate-limit' || failure.kind === 'server' || failure.kind === 'overloaded') &&
          failure.retryAfterMs !== undefined &&
          failure.retryAfterMs <= target.provider.retryAfterMaxMs &&
          attemptsOnTarget < 2;
        if (retryable) {
          await new Promise((resolve) => setTimeout(resolve, failure.retryAfterMs));
          if (stop.clientLeft) break;
          continue;
        }
        if (failure.kind === 'quota') health.exhaust(target.key, failure.resetAt ?? now() + quotaCooldownMs);
        else if (failure.kind === 'rate-limit' && failure.resetAt !== undefined)
          health.exhaust(target.key, failure.resetAt);
        if (failure.kind === 'quota' || failure.kind === 'rate-limit') health.release(target.key);
        else health.fail(target.key);
        break;
      }
      fallbackPath.push(`${target.key}:${lastFailure?.kind ?? 'failed'}`);
      metrics.fallbacks.inc({ target: target.key, reason: lastFailure?.kind ?? 'failed' });
      dashboard.recordFallback(target.key, lastFailure?.kind ?? 'failed');
    }

    const summary = fallbackPath.length > 0 ? ` (tried: ${fallbackPath.join(', ')})` : '';
    const status = lastFailure?.status ?? 503;
    const code =
      lastFailure?.kind === 'timeout'
        ? 'upstream_timeout'
        : lastFailure?.kind === 'quota'
          ? 'insufficient_quota'
          : lastFailure
            ? 'upstream_unavailable'
            : 'no_target_available';
    const message = lastFailure
      ? `every target for "${model}" failed; last: ${lastFailure.message}${summary}`
      : `no target for "${model}" is available now${summary}`;
    await settleError(new BallastError(`PROXY_${code.toUpperCase()}`, message, { status }));
    // Out of quota everywhere: 429 as OpenAI uses it, and no SDK retry, which cannot help.
    const quota = lastFailure?.kind === 'quota';
    const clientStatus = quota ? 429 : status === 429 || status >= 500 ? status : 502;
    return fail(clientStatus, code, message, {
      ...(quota ? { 'x-should-retry': 'false' } : {}),
      'x-ballast-fallbacks': String(fallbackPath.length),
      ...(fallbackPath.length > 0 ? { 'x-ballast-fallback-path': fallbackPath.join(',') } : {}),
    });
  }

  // Metric handles per label set, made on first use: the hot path does no label rendering.
  type CounterHandle = ReturnType<ProxyMetrics['tokens']['handle']>;
  type HistogramHandle = ReturnType<ProxyMetrics['overhead']['handle']>;
  const spendSeries = new Map<
    string,
    { input: CounterHandle; output: CounterHandle; cached: CounterHandle; cost: CounterHandle }
  >();
  const requestSeries = new Map<string, CounterHandle>();
  const durationSeries = new Map<string, HistogramHandle>();
  const overheadSeries = new Map<string, HistogramHandle>();
  const bounded = <T>(cache: Map<string, T>, key: string, make: () => T): T => {
    let found = cache.get(key);
    if (found === undefined) {
      found = make();
      if (cache.size < 10_000) cache.set(key, found);
    }
    return found;
  };
  const observeOverhead = (endpoint: string, seconds: number): void =>
    bounded(overheadSeries, endpoint, () => metrics.overhead.handle({ endpoint })).observe(seconds);

  function account(target: ResolvedTarget, usage: Usage, costUsd: number | undefined): void {
    const series = bounded(spendSeries, target.key, () => {
      const labels = { provider: target.provider.name, model: target.model };
      return {
        input: metrics.tokens.handle({ ...labels, kind: 'input' }),
        output: metrics.tokens.handle({ ...labels, kind: 'output' }),
        cached: metrics.tokens.handle({ ...labels, kind: 'cached_input' }),
        cost: metrics.cost.handle(labels),
      };
    });
    series.input.inc(usage.inputTokens);
    series.output.inc(usage.outputTokens);
    if (usage.cachedInputTokens) series.cached.inc(usage.cachedInputTokens);
    if (costUsd !== undefined) series.cost.inc(costUsd);
    dashboard.recordSpend(costUsd);
  }

  /** A plugin cut a call (an operator's kill, a spent reservation): listed on the dashboard. */
  function recordCut(context: HostRequestContext, code: string, message: string): void {
    dashboard.recordEvent({
      kind: 'cut',
      at: now(),
      ...(context.sessionId === undefined ? {} : { session: context.sessionId }),
      code,
      message,
      requestId: context.requestId,
    });
  }

  async function deliverStream(args: {
    dialect: Dialect;
    target: ResolvedTarget;
    upstream: StreamedUpstream;
    response: ServerResponse;
    context: HostRequestContext;
    admitted: GatewayPlugin[];
    common: Record<string, string>;
    clientWantsUsage: boolean;
    started: number;
    upstreamMs: number;
    stop: CallStop;
  }): Promise<void> {
    const { dialect, target, upstream, response, context, admitted, stop } = args;
    const providerDialect = target.provider.type;
    const overhead = Math.max(0, performance.now() - args.started - args.upstreamMs);
    observeOverhead(dialect, overhead / 1000);
    response.writeHead(200, {
      ...args.common,
      ...Object.fromEntries(context.responseHeaders),
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-ballast-overhead-ms': overhead.toFixed(3),
    });
    response.flushHeaders();

    const parser = createSseParser();
    const tracker = createStreamUsageTracker({
      dialect: providerDialect,
      model: target.model,
      // Counted only if the stream is cut before the provider reports its input usage.
      ...(admitted.length > 0 ? { inputTokens: () => context.inputTokens } : {}),
    });
    const translator = createStreamTranslator({
      from: providerDialect,
      to: dialect,
      includeUsage: args.clientWantsUsage,
      // Anthropic clients expect input tokens in message_start; OpenAI upstreams report them only at the end.
      ...(dialect === 'anthropic' && providerDialect === 'openai'
        ? { inputTokens: context.inputTokens }
        : {}),
    });
    const watchEvents = admitted.some((plugin) => plugin.onStreamEvent !== undefined);
    // OpenAI clients that did not ask for the usage chunk must not get it (we asked upstream for it).
    const hideUsageChunk = dialect === 'openai' && !args.clientWantsUsage;

    const write = async (events: SseEvent[]): Promise<void> => {
      for (const event of events) {
        // A closed response never drains: waiting on it would hang the request forever.
        if (response.destroyed || response.writableEnded) return;
        if (hideUsageChunk && event.data.startsWith('{') && event.data.includes('"choices":[]')) continue;
        if (!response.write(formatSseEvent(event))) {
          await new Promise<void>((resolve) => {
            const done = () => {
              response.off('drain', done);
              response.off('close', done);
              resolve();
            };
            response.on('drain', done);
            response.on('close', done);
          });
        }
      }
    };

    const usageSoFar = (): { usage: Usage; costUsd: number | undefined } => {
      const { usage } = tracker.snapshot();
      return { usage, costUsd: costOrUndefined(pricing, target.model, usage) };
    };

    let cutCode: string | undefined;
    let broken = false;
    const abortUpstream = () => upstream.body.destroy();
    // Fires when the client leaves and when a plugin cuts the call (an operator's kill).
    stop.once('abort', abortUpstream);
    try {
      for await (const chunk of upstream.body) {
        for (const event of parser.push(chunk as Buffer)) {
          const steps = tracker.push(event);
          if (watchEvents) {
            for (const step of steps) {
              const progress = {
                outputTokens: tracker.streamedOutputTokens(),
                costUsd: undefined as number | undefined,
              };
              progress.costUsd = costOrUndefined(pricing, target.model, {
                inputTokens: tracker.snapshot().usage.inputTokens,
                outputTokens: progress.outputTokens,
              });
              const cut = runStreamHooks(admitted, context, step, progress);
              if (cut) {
                cutCode = cut.code;
                break;
              }
            }
          }
          if (cutCode !== undefined || context.cut) break;
          await write(translator.push(event));
        }
        if (cutCode !== undefined || context.cut || stop.clientLeft) break;
      }
    } catch (error) {
      if (!stop.clientLeft && !context.cut) {
        broken = true;
        health.fail(target.key);
        logger.warn('upstream stream broke off', { requestId: context.requestId, error: String(error) });
        await write([
          errorStreamEvent(dialect, {
            code: 'upstream_error',
            message: `${target.provider.name} broke off the stream`,
          }),
        ]);
      }
    } finally {
      stop.off('abort', abortUpstream);
    }

    const cut = context.cut;
    if (cut || cutCode !== undefined) {
      upstream.body.destroy();
      const code = cut?.code ?? cutCode ?? 'killed';
      recordCut(context, code, cut?.message ?? 'the stream was stopped');
      await write([errorStreamEvent(dialect, { code, message: cut?.message ?? 'the stream was stopped' })]);
      response.end();
      const { usage, costUsd } = usageSoFar();
      account(target, usage, costUsd);
      await runAbortHooks(admitted, context, { usage, costUsd, reason: 'cut', code }, logger);
      return;
    }
    if (stop.clientLeft || broken) {
      upstream.body.destroy();
      response.end();
      const { usage, costUsd } = usageSoFar();
      account(target, usage, costUsd);
      await runAbortHooks(
        admitted,
        context,
        { usage, costUsd, reason: broken ? 'timeout' : 'client-disconnect' },
        logger,
      );
      return;
    }
    await write(translator.end());
    response.end();
    const { usage, costUsd } = usageSoFar();
    account(target, usage, costUsd);
    await runResponseHooks(admitted, context, { usage, costUsd, streamed: true, status: 200 }, logger);
  }

  function handleModels(request: IncomingMessage, response: ServerResponse): void {
    const ids = new Set<string>();
    for (const route of config.routes) {
      if (!/[*?]/.test(route.match)) ids.add(route.match);
      for (const target of route.targets) if (target.model) ids.add(target.model);
    }
    const created = Math.floor(now() / 1000);
    if (request.headers['anthropic-version'] !== undefined) {
      const data = [...ids].map((id) => ({
        type: 'model',
        id,
        display_name: id,
        created_at: new Date(created * 1000).toISOString(),
      }));
      sendJson(response, 200, {
        data,
        has_more: false,
        first_id: data[0]?.id ?? null,
        last_id: data.at(-1)?.id ?? null,
      });
      return;
    }
    sendJson(response, 200, {
      object: 'list',
      data: [...ids].map((id) => ({ id, object: 'model', created, owned_by: 'ballast' })),
    });
  }

  async function handlePluginRoute(
    route: NonNullable<GatewayPlugin['routes']>[number],
    request: IncomingMessage,
    response: ServerResponse,
  ): Promise<number> {
    if (route.auth === 'admin') {
      if (!config.server.adminToken) {
        sendJson(response, 403, {
          error: { message: 'admin routes are off: set server.adminToken in the config', type: 'forbidden' },
        });
        return 403;
      }
      if (headerValue(request.headers.authorization) !== `Bearer ${config.server.adminToken}`) {
        sendJson(response, 401, {
          error: {
            message: 'admin routes need Authorization: Bearer <server.adminToken>',
            type: 'unauthorized',
          },
        });
        return 401;
      }
    }
    const body =
      request.method === 'GET' || request.method === 'HEAD'
        ? undefined
        : await readBody(request, config.server.bodyLimitBytes);
    const webRequest = new Request(`http://${request.headers.host ?? 'localhost'}${request.url ?? '/'}`, {
      method: request.method ?? 'GET',
      headers: Object.entries(request.headers).flatMap(([name, value]) =>
        value === undefined
          ? []
          : Array.isArray(value)
            ? value.map((item): [string, string] => [name, item])
            : [[name, value] as [string, string]],
      ),
      ...(body ? { body } : {}),
    });
    const result = await route.handle(webRequest);
    const headers: Record<string, string> = {};
    result.headers.forEach((value, name) => {
      headers[name] = value;
    });
    if (result.body && headers['content-type']?.includes('text/event-stream')) {
      response.writeHead(result.status, headers);
      for await (const chunk of result.body as unknown as AsyncIterable<Uint8Array>) {
        if (!response.write(chunk)) await new Promise((resolve) => response.once('drain', resolve));
        if (response.destroyed) break;
      }
      response.end();
    } else {
      const buffer = Buffer.from(await result.arrayBuffer());
      response.writeHead(result.status, { ...headers, 'content-length': String(buffer.length) });
      response.end(buffer);
    }
    return result.status;
  }

  const handler = (request: IncomingMessage, response: ServerResponse): void => {
    const started = performance.now();
    requestCounter += 1;
    const requestId = `req_${requestIdPrefix}${requestCounter.toString(36)}`;
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const method = request.method ?? 'GET';
    inFlight += 1;
    const finish = (endpoint: string, status: number, provider = '') => {
      inFlight -= 1;
      const seconds = (performance.now() - started) / 1000;
      bounded(requestSeries, `${endpoint}\u0000${provider}\u0000${status}`, () =>
        metrics.requests.handle({ endpoint, provider, status: String(status) }),
      ).inc();
      bounded(durationSeries, endpoint, () => metrics.duration.handle({ endpoint })).observe(seconds);
      if (logger.isLevelEnabled?.('info') === false) return;
      logger.info('request', {
        requestId,
        method,
        path,
        status,
        provider,
        durationMs: Math.round(seconds * 1000),
      });
    };
    const dialect: Dialect | undefined =
      method === 'POST' && path === '/v1/chat/completions'
        ? 'openai'
        : method === 'POST' && path === '/v1/messages'
          ? 'anthropic'
          : undefined;
    if (dialect) {
      callsInFlight += 1;
      dashboard.touch();
      handleChat(dialect, request, response, started, requestId).then(
        (result) => {
          callsInFlight -= 1;
          dashboard.touch();
          finish(dialect, result.status, result.provider);
        },
        (error: unknown) => {
          callsInFlight -= 1;
          dashboard.touch();
          logger.error('request failed', { requestId, error: String(error) });
          sendError(response, dialect, 500, 'internal_error', 'the proxy failed to handle this request', {
            'x-ballast-request-id': requestId,
            'x-ballast-overhead-ms': (performance.now() - started).toFixed(3),
          });
          finish(dialect, 500);
        },
      );
      return;
    }
    const common = { 'x-ballast-request-id': requestId };
    const overhead = () => ({ ...common, 'x-ballast-overhead-ms': (performance.now() - started).toFixed(3) });
    if (method === 'GET' && path === '/healthz') {
      sendJson(response, 200, { status: 'ok' }, overhead());
      finish('healthz', 200);
      return;
    }
    if (method === 'GET' && path === '/metrics') {
      const text = metrics.render();
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', ...overhead() });
      response.end(text);
      finish('metrics', 200);
      return;
    }
    if (method === 'GET' && path === '/v1/models') {
      response.setHeader('x-ballast-overhead-ms', overhead()['x-ballast-overhead-ms']);
      handleModels(request, response);
      finish('models', 200);
      return;
    }
    const pluginRoute = pluginRoutes.get(`${method} ${path}`);
    if (pluginRoute) {
      for (const [name, value] of Object.entries(overhead())) response.setHeader(name, value);
      handlePluginRoute(pluginRoute, request, response).then(
        (status) => {
          // An admin action (a kill, a revive) changes what the dashboard shows.
          dashboard.touch();
          finish('plugin', status);
        },
        (error: unknown) => {
          logger.error('plugin route failed', { requestId, path, error: String(error) });
          if (!response.headersSent)
            sendJson(response, 500, { error: { message: 'plugin route failed', type: 'internal_error' } });
          else response.end();
          finish('plugin', 500);
        },
      );
      return;
    }
    // After plugin routes: a plugin may serve a path under /dashboard of its own.
    if (path === '/dashboard' || path.startsWith('/dashboard/')) {
      for (const [name, value] of Object.entries(overhead())) response.setHeader(name, value);
      dashboard.serve(request, response).then(
        (status) => finish('dashboard', status),
        (error: unknown) => {
          logger.error('dashboard failed', { requestId, path, error: String(error) });
          if (!response.headersSent)
            sendJson(response, 500, { error: { message: 'dashboard failed', type: 'internal_error' } });
          else response.end();
          finish('dashboard', 500);
        },
      );
      return;
    }
    sendJson(
      response,
      404,
      {
        error: {
          message: `no such endpoint: ${method} ${path}. Try POST /v1/chat/completions or POST /v1/messages`,
          type: 'not_found',
        },
      },
      overhead(),
    );
    finish('unknown', 404);
  };

  let server: Server | undefined;
  let url: string | undefined;
  let closePromise: Promise<void> | undefined;
  return {
    handler,
    get url() {
      return url;
    },
    metrics,
    health,
    plugins,
    dashboardState: () => dashboard.state(),
    async listen() {
      server = createServer({ keepAliveTimeout: 65_000 }, handler);
      const listening = server;
      await new Promise<void>((resolve, reject) => {
        listening.once('error', reject);
        listening.listen(config.server.port, config.server.host, () => resolve());
      });
      const address = listening.address() as AddressInfo;
      const hostName = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      url = `http://${hostName}:${address.port}`;
      return url;
    },
    close() {
      closePromise ??= shutdown();
      return closePromise;
    },
  };

  async function shutdown(): Promise<void> {
    {
      const closing = server;
      // Live dashboard streams never end on their own.
      dashboard.close();
      if (closing) {
        const closed = new Promise<void>((resolve) => closing.close(() => resolve()));
        closing.closeIdleConnections();
        const deadline = now() + config.server.shutdownGraceMs;
        while (inFlight > 0 && now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
        closing.closeAllConnections();
        await closed;
      }
      await Promise.all(plugins.map((plugin) => plugin.close?.()));
      await Promise.all([...agents.values()].map((agent) => agent.close()));
    }
  }
}
