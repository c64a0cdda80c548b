import {
  BallastError,
  countRequestTokens,
  createPricing,
  createRequestContext,
  createSseParser,
  createStreamUsageTracker,
  type Dialect,
  errorBody,
  errorStreamEvent,
  extractUsage,
  formatRequest,
  formatSseEvent,
  type Logger,
  parseRequest,
  runAbortHooks,
  runErrorHooks,
  runRequestHooks,
  runResponseHooks,
  runStreamHooks,
  silentLogger,
} from '@ballast/core';
import { createKillswitch, type Killswitch } from './plugin.js';

/** Options of {@link guardFetch}: the killswitch's options plus who is calling. */
export interface GuardFetchOptions extends Record<string, unknown> {
  /** Session id for budgets and kills (or send `x-ballast-session` per request). */
  sessionId?: string;
  agent?: string;
  /** Price overrides, USD per million tokens, merged over the built-in table. */
  pricing?: Record<
    string,
    { input?: number; output?: number; cachedInput?: number; cacheWrite?: number; maxOutputTokens?: number }
  >;
  logger?: Logger;
}

/** A guarded fetch, with the killswitch behind it for kills and reports. */
export type GuardedFetch = typeof fetch & { killswitch: Killswitch };

function dialectOf(url: string): Dialect | undefined {
  const path = new URL(url).pathname;
  if (path.endsWith('/chat/completions')) return 'openai';
  if (path.endsWith('/messages')) return 'anthropic';
  return undefined;
}

let counter = 0;

/**
 * Wraps `fetch` so an in-process agent gets the killswitch without a proxy: budgets reserved
 * before each call, loops and kills denied, streams cut mid-flight. Pass the result as the `fetch`
 * of the official OpenAI or Anthropic SDK; denials come back as the provider's error shape with
 * `x-should-retry: false`, so the SDK throws instead of retrying.
 *
 * @param baseFetch the fetch to protect (usually `globalThis.fetch`)
 * @param options killswitch options (budgets, loop, store, ...) plus `sessionId`, `agent`, `pricing`
 * @returns the guarded fetch, with `.killswitch` for `kill`, `revive`, `sessions`, `spend`
 * @example
 * ```ts
 * const guarded = await guardFetch(fetch, { sessionId: 'run-42', budgets: [{ scope: 'session', usd: 1 }] });
 * const client = new OpenAI({ fetch: guarded });
 * ```
 */
export async function guardFetch(
  baseFetch: typeof fetch,
  options: GuardFetchOptions = {},
): Promise<GuardedFetch> {
  const {
    sessionId,
    agent,
    pricing: pricingOverrides,
    logger = silentLogger,
    ...killswitchOptions
  } = options;
  const pricing = createPricing(pricingOverrides ?? {});
  const killswitch = await createKillswitch(killswitchOptions, { logger, pricing });
  const plugins = [killswitch];

  const guarded = async (input: Parameters<typeof fetch>[0], init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const dialect = request.method === 'POST' ? dialectOf(request.url) : undefined;
    if (!dialect) return baseFetch(request);
    const text = await request.text();
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return baseFetch(request.url, {
        method: 'POST',
        headers: request.headers,
        body: text,
        signal: request.signal,
      });
    }
    const headers: Record<string, string> = {};
    request.headers.forEach((value, name) => {
      if (name !== 'authorization' && name !== 'x-api-key') headers[name] = value;
    });
    const model = String(body.model ?? '');
    counter += 1;
    const session = headers['x-ballast-session'] ?? sessionId;
    const agentName = headers['x-ballast-agent'] ?? agent;
    const context = createRequestContext({
      requestId: `guard_${counter.toString(36)}`,
      dialect,
      model,
      request: () => parseRequest(dialect, body),
      rawRequest: body,
      inputTokens: () => countRequestTokens(context.request).tokens,
      ...(session ? { sessionId: session } : {}),
      ...(agentName ? { agent: agentName } : {}),
      candidates: [{ provider: dialect, model }],
      headers,
      ...(request.signal ? { signal: request.signal } : {}),
    });
    context.setTarget({ provider: dialect, model });
    const decision = await runRequestHooks(
      plugins,
      context,
      (rewritten) => countRequestTokens(rewritten).tokens,
    );
    if (decision.action === 'deny') {
      return Response.json(
        errorBody(dialect, { code: decision.decision.code, message: decision.decision.message }),
        {
          status: decision.decision.status,
          headers: {
            'x-should-retry': 'false',
            'x-ballast-decision': decision.decision.code,
            ...Object.fromEntries(context.responseHeaders),
            ...decision.decision.headers,
          },
        },
      );
    }
    const outgoing = context.rewritten ? JSON.stringify(formatRequest(dialect, context.request)) : text;
    let response: Response;
    try {
      response = await baseFetch(request.url, {
        method: 'POST',
        headers: request.headers,
        body: outgoing,
        signal: context.signal,
      });
    } catch (error) {
      await runErrorHooks(
        plugins,
        context,
        new BallastError('KILLSWITCH_FETCH_FAILED', String(error), { cause: error }),
        logger,
      );
      throw error;
    }
    const extraHeaders = new Headers(response.headers);
    for (const [name, value] of context.responseHeaders) extraHeaders.set(name, value);
    if (!response.ok) {
      await runErrorHooks(
        plugins,
        context,
        new BallastError('PROXY_UPSTREAM_REJECTED', `upstream answered ${response.status}`),
        logger,
      );
      return new Response(response.body, { status: response.status, headers: extraHeaders });
    }
    const isStream = (response.headers.get('content-type') ?? '').includes('text/event-stream');
    if (!isStream || !response.body) {
      const raw = await response.text();
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        parsed = undefined;
      }
      const usage = extractUsage(dialect, parsed);
      let costUsd: number | undefined;
      try {
        costUsd = pricing.costOf(model, usage);
      } catch {
        costUsd = undefined;
      }
      await runResponseHooks(
        plugins,
        context,
        { usage, costUsd, streamed: false, status: response.status },
        logger,
      );
      return new Response(raw, { status: response.status, headers: extraHeaders });
    }

    // A stream: watch every event, cut it when the killswitch says so, settle at the end.
    const parser = createSseParser();
    const tracker = createStreamUsageTracker({ dialect, model, inputTokens: context.inputTokens });
    const encoder = new TextEncoder();
    const reader = response.body.getReader();
    let settled = false;
    const usageSoFar = () => {
      const { usage } = tracker.snapshot();
      let costUsd: number | undefined;
      try {
        costUsd = pricing.costOf(model, usage);
      } catch {
        costUsd = undefined;
      }
      return { usage, costUsd };
    };
    // A getter read through a function: TypeScript would otherwise keep an earlier narrowing.
    const cutNow = () => context.cut;
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        let chunk: { done: boolean; value?: Uint8Array | undefined };
        try {
          chunk = await reader.read();
        } catch {
          chunk = { done: true, value: undefined };
        }
        if (context.cut) {
          controller.enqueue(
            encoder.encode(
              formatSseEvent(
                errorStreamEvent(dialect, { code: context.cut.code, message: context.cut.message }),
              ),
            ),
          );
          controller.close();
          if (!settled) {
            settled = true;
            await runAbortHooks(
              plugins,
              context,
              { ...usageSoFar(), reason: 'cut', code: context.cut.code },
              logger,
            );
          }
          return;
        }
        if (chunk.done || !chunk.value) {
          controller.close();
          if (!settled) {
            settled = true;
            const { usage, costUsd } = usageSoFar();
            await runResponseHooks(plugins, context, { usage, costUsd, streamed: true, status: 200 }, logger);
          }
          return;
        }
        for (const event of parser.push(chunk.value)) {
          for (const step of tracker.push(event)) {
            const outputTokens = tracker.streamedOutputTokens();
            let costUsd: number | undefined;
            try {
              costUsd = pricing.costOf(model, {
                inputTokens: tracker.snapshot().usage.inputTokens,
                outputTokens,
              });
            } catch {
              costUsd = undefined;
            }
            if (runStreamHooks(plugins, context, step, { outputTokens, costUsd })) break;
          }
          if (cutNow()) break;
        }
        const cut = cutNow();
        if (cut) {
          await reader.cancel().catch(() => {});
          controller.enqueue(
            encoder.encode(
              formatSseEvent(errorStreamEvent(dialect, { code: cut.code, message: cut.message })),
            ),
          );
          controller.close();
          if (!settled) {
            settled = true;
            await runAbortHooks(plugins, context, { ...usageSoFar(), reason: 'cut', code: cut.code }, logger);
          }
          return;
        }
        controller.enqueue(chunk.value);
      },
      async cancel() {
        await reader.cancel().catch(() => {});
        if (!settled) {
          settled = true;
          await runAbortHooks(plugins, context, { ...usageSoFar(), reason: 'client-disconnect' }, logger);
        }
      },
    });
    return new Response(stream, { status: response.status, headers: extraHeaders });
  };
  return Object.assign(guarded as typeof fetch, { killswitch });
}
