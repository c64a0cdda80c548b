import { type ChatRequest, type Dialect, formatRequest } from '@ballast/core';
import type { ProviderConfig } from './config.js';

/** A provider and the model to ask it for. */
export interface ResolvedTarget {
  provider: ProviderConfig;
  model: string;
  /** `provider/model`: the key of its breaker and quota state. */
  key: string;
}

/** What to send upstream. */
export interface UpstreamRequest {
  url: string;
  /** The url split for undici's dispatch: scheme, host and port... */
  origin: string;
  /** ...and the rest. */
  path: string;
  headers: Record<string, string>;
  body: string | Buffer;
}

const anthropicVersion = '2023-06-01';

/**
 * Builds the upstream request for one target.
 *
 * Same dialect and no plugin rewrite: the client's body goes through as sent (unknown fields
 * included), with only the model replaced. Otherwise the neutral request is written in the
 * provider's dialect. OpenAI streams always ask for the usage chunk, so every stream is accounted.
 *
 * @param options the client's dialect and body, the neutral request (read only when needed), the target
 * @returns url, headers and body
 */
export function buildUpstreamRequest(options: {
  clientDialect: Dialect;
  rawBody: Record<string, unknown>;
  /** The body's bytes as received: sent as they are when nothing needs changing. */
  rawBytes?: Buffer;
  neutral: () => ChatRequest;
  rewritten: boolean;
  target: ResolvedTarget;
  stream: boolean;
  clientHeaders: Record<string, string | string[] | undefined>;
}): UpstreamRequest {
  const { provider, model } = options.target;
  let body: Record<string, unknown>;
  let bytes: Buffer | undefined;
  const sameDialect = provider.type === options.clientDialect && !options.rewritten;
  const needsUsageOption =
    provider.type === 'openai' &&
    options.stream &&
    (options.rawBody.stream_options as { include_usage?: unknown } | undefined)?.include_usage !== true;
  if (sameDialect && options.rawBytes && model === options.rawBody.model && !needsUsageOption) {
    // Nothing to change: forward the client's bytes without re-serialising them.
    body = options.rawBody;
    bytes = options.rawBytes;
  } else if (sameDialect) {
    body = { ...options.rawBody, model };
  } else {
    body = formatRequest(
      provider.type,
      { ...options.neutral(), model },
      { defaultMaxTokens: provider.defaultMaxTokens },
    ) as Record<string, unknown>;
  }
  if (bytes === undefined && provider.type === 'openai' && options.stream) {
    const current =
      typeof body.stream_options === 'object' && body.stream_options !== null ? body.stream_options : {};
    body.stream_options = { ...current, include_usage: true };
  }

  const headers = upstreamHeaders(provider, options.stream, options.clientDialect, options.clientHeaders);
  const { url, origin, path } = endpointOf(provider);
  return { url, origin, path, headers, body: bytes ?? JSON.stringify(body) };
}

const endpoints = new WeakMap<ProviderConfig, { url: string; origin: string; path: string }>();

/** The provider's chat endpoint, parsed once. */
function endpointOf(provider: ProviderConfig): { url: string; origin: string; path: string } {
  let endpoint = endpoints.get(provider);
  if (!endpoint) {
    const url =
      provider.type === 'openai' ? `${provider.baseUrl}/chat/completions` : `${provider.baseUrl}/v1/messages`;
    const parsed = new URL(url);
    endpoint = { url, origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
    endpoints.set(provider, endpoint);
  }
  return endpoint;
}

const headerCache = new WeakMap<ProviderConfig, Map<string, Record<string, string>>>();

/**
 * The headers a provider gets. They depend only on the provider, streaming, and (for Anthropic
 * clients) the client's `anthropic-version`/`anthropic-beta`, so each combination is built once.
 * The returned object is shared: callers must not change it.
 */
function upstreamHeaders(
  provider: ProviderConfig,
  stream: boolean,
  clientDialect: Dialect,
  clientHeaders: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const version = clientDialect === 'anthropic' ? clientHeaders['anthropic-version'] : undefined;
  const beta = clientDialect === 'anthropic' ? clientHeaders['anthropic-beta'] : undefined;
  const cacheKey = `${stream ? 's' : 'j'}|${typeof version === 'string' ? version : ''}|${typeof beta === 'string' ? beta : ''}`;
  let forProvider = headerCache.get(provider);
  const cached = forProvider?.get(cacheKey);
  if (cached) return cached;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: stream ? 'text/event-stream' : 'application/json',
  };
  if (provider.type === 'openai') {
    if (provider.apiKey) headers.authorization = `Bearer ${provider.apiKey}`;
  } else {
    if (provider.apiKey) headers['x-api-key'] = provider.apiKey;
    headers['anthropic-version'] = typeof version === 'string' ? version : anthropicVersion;
    if (typeof beta === 'string') headers['anthropic-beta'] = beta;
  }
  Object.assign(headers, provider.headers);
  if (!forProvider) {
    forProvider = new Map();
    headerCache.set(provider, forProvider);
  }
  // Bounded: the key varies only with the versions and betas clients send.
  if (forProvider.size < 1000) forProvider.set(cacheKey, headers);
  return headers;
}

/** How an upstream attempt failed. */
export type FailureKind =
  | 'connection'
  | 'timeout'
  | 'quota'
  | 'rate-limit'
  | 'overloaded'
  | 'server'
  | 'conflict'
  | 'client';

/** A classified upstream failure. */
export interface UpstreamFailure {
  kind: FailureKind;
  /** Whether the next target should be tried. */
  fallback: boolean;
  status: number;
  message: string;
  /** The upstream's own error type/code, when it gave one. */
  upstreamCode?: string;
  /** Epoch ms until which the target should be skipped (quota, rate limit), when known. */
  resetAt?: number;
  /** Milliseconds the upstream asked to wait (`retry-after`), when it said. */
  retryAfterMs?: number;
}

function errorDetails(body: unknown): { message?: string; code?: string } {
  if (typeof body !== 'object' || body === null) return {};
  const error = (body as { error?: unknown }).error;
  if (typeof error === 'object' && error !== null) {
    const record = error as Record<string, unknown>;
    const out: { message?: string; code?: string } = {};
    if (typeof record.message === 'string') out.message = record.message;
    const code = record.code ?? record.type;
    if (typeof code === 'string') out.code = code;
    return out;
  }
  return {};
}

/** Parses an OpenAI rate-limit duration (`1s`, `6m0s`, `20ms`, `1h2m`) into milliseconds. */
export function parseResetDuration(value: string): number | undefined {
  let total = 0;
  let matched = false;
  for (const match of value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    matched = true;
    const amount = Number(match[1]);
    const unit = match[2];
    total +=
      unit === 'ms'
        ? amount
        : unit === 's'
          ? amount * 1000
          : unit === 'm'
            ? amount * 60_000
            : amount * 3_600_000;
  }
  return matched ? total : undefined;
}

type HeaderBag = Record<string, string | string[] | undefined>;

function header(headers: HeaderBag, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * When a rate-limited or exhausted target may be tried again, from `retry-after`,
 * `retry-after-ms`, OpenAI's `x-ratelimit-reset-*` durations and Anthropic's
 * `anthropic-ratelimit-*-reset` timestamps; the latest of those present.
 * @param headers upstream response headers (lower-case names)
 * @param now the clock
 * @returns epoch ms, or undefined when no header says
 */
export function resetTimeFrom(headers: HeaderBag, now: number): { resetAt?: number; retryAfterMs?: number } {
  const candidates: number[] = [];
  let retryAfterMs: number | undefined;
  const retryAfter = header(headers, 'retry-after');
  if (retryAfter !== undefined) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds)) retryAfterMs = seconds * 1000;
    else {
      const date = Date.parse(retryAfter);
      if (Number.isFinite(date)) retryAfterMs = Math.max(0, date - now);
    }
  }
  const retryAfterMsHeader = Number(header(headers, 'retry-after-ms'));
  if (Number.isFinite(retryAfterMsHeader) && header(headers, 'retry-after-ms') !== undefined)
    retryAfterMs = retryAfterMsHeader;
  if (retryAfterMs !== undefined) candidates.push(now + retryAfterMs);
  for (const name of ['x-ratelimit-reset-requests', 'x-ratelimit-reset-tokens']) {
    const value = header(headers, name);
    const duration = value === undefined ? undefined : parseResetDuration(value);
    if (duration !== undefined) candidates.push(now + duration);
  }
  for (const name of [
    'anthropic-ratelimit-requests-reset',
    'anthropic-ratelimit-tokens-reset',
    'anthropic-ratelimit-input-tokens-reset',
    'anthropic-ratelimit-output-tokens-reset',
  ]) {
    const value = header(headers, name);
    const time = value === undefined ? Number.NaN : Date.parse(value);
    if (Number.isFinite(time)) candidates.push(time);
  }
  const out: { resetAt?: number; retryAfterMs?: number } = {};
  if (candidates.length > 0) out.resetAt = Math.max(...candidates);
  if (retryAfterMs !== undefined) out.retryAfterMs = retryAfterMs;
  return out;
}

/**
 * Classifies an upstream error response: which ones move to the next target (408, 409, 429,
 * 5xx, Anthropic 529, and quota/billing errors: OpenAI `insufficient_quota`, 402, Anthropic's
 * "credit balance"), and which are the client's own mistake and go back to it as they are.
 * @param status the upstream status
 * @param body the parsed error body, if it was JSON
 * @param headers the upstream headers
 * @param now the clock
 * @returns the classification
 */
export function classifyUpstreamError(
  status: number,
  body: unknown,
  headers: HeaderBag,
  now: number,
): UpstreamFailure {
  const { message = `upstream answered ${status}`, code } = errorDetails(body);
  const reset = resetTimeFrom(headers, now);
  const base = { status, message, ...(code === undefined ? {} : { upstreamCode: code }), ...reset };
  const quota =
    status === 402 ||
    code === 'insufficient_quota' ||
    code === 'billing_hard_limit_reached' ||
    /credit balance|insufficient[_ ]quota|billing/i.test(message);
  if (quota && status !== 401) return { ...base, kind: 'quota', fallback: true };
  if (status === 429) return { ...base, kind: 'rate-limit', fallback: true };
  if (status === 529) return { ...base, kind: 'overloaded', fallback: true };
  if (status === 408) return { ...base, kind: 'timeout', fallback: true };
  if (status === 409) return { ...base, kind: 'conflict', fallback: true };
  if (status >= 500) return { ...base, kind: 'server', fallback: true };
  return { ...base, kind: 'client', fallback: false };
}
