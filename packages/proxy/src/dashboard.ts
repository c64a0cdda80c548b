import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  collectPluginSnapshots,
  formatSseEvent,
  type GatewayPlugin,
  type Logger,
  mergePluginSnapshots,
  type PluginEvent,
  type SessionSnapshot,
} from '@ballast/core';
import { dashboardPage } from './dashboard-page.js';
import type { BreakerState, TargetHealthBook } from './health.js';

/** Width of one spend bucket. */
const bucketMs = 1000;
/** How far back the spend series goes: ten minutes of one-second buckets. */
const bucketCount = 600;
/** Upstream latencies kept per target for its median. */
const latencySamples = 256;
/** Denials and cuts the proxy itself keeps. */
const eventCapacity = 100;
/** Events in the state. */
const stateEventLimit = 50;
/** Pushes to live clients are at most this often. */
const pushIntervalMs = 500;
/** State is recomputed this often even when the proxy saw nothing (plugins' state may change on its own). */
const refreshIntervalMs = 5000;
/** A comment line keeps idle connections (and the proxies in between) open. */
const heartbeatIntervalMs = 15_000;
/** A session seen this recently counts as live. */
const liveWindowMs = 60_000;

const loopbackAddress = /^(127\.|::1$|::ffff:127\.)/;
const loopbackHost = /^(localhost|[^:]+\.localhost|127(\.\d{1,3}){3}|\[::1\])(:\d+)?$/i;

/** Totals for the dashboard's header. */
export interface DashboardTotals {
  /** USD of every call the proxy completed (or cut) since it started. */
  spendUsd: number;
  /** Calls accounted since the proxy started (completed or cut once started). */
  calls: number;
  /** Sessions the plugins report. */
  sessions: number;
  /** Sessions with a call in flight or seen in the last minute. */
  liveSessions: number;
  /** Chat calls being served now. */
  inFlight: number;
  /** Sessions refused by an operator's kill. */
  killedSessions: number;
  /** Calls a plugin denied since the proxy started. */
  denials: number;
  /** Input tokens memory kept from being sent, over the reported sessions. */
  tokensSaved: number;
}

/** One target (provider and model) as the dashboard shows it. */
export interface ProviderStatus {
  /** `provider/model`, or the provider's name alone while none of its targets has been used. */
  target: string;
  provider: string;
  model?: string;
  /** The circuit breaker's state. */
  state: BreakerState;
  /** Epoch ms until which the target is skipped because its quota or rate limit ran out. */
  quotaBlockedUntil?: number;
  /** Answers it gave (successful attempts) since the proxy started. */
  calls: number;
  /** Times a call moved on from it to the next target. */
  fallbacks: number;
  /** Why the last call moved on from it (`server`, `quota`, `breaker-open`, ...). */
  lastFallbackReason?: string;
  /** Median time to its response headers over its last 256 answers, in ms. */
  p50LatencyMs?: number;
}

/** Spend over time, in buckets; only buckets with calls are listed. */
export interface SpendSeries {
  bucketMs: number;
  windowMs: number;
  /** `[bucket start (epoch ms), USD, calls]`, oldest first. */
  points: Array<[number, number, number]>;
}

/** What `GET /dashboard/state` answers and `GET /dashboard/events` pushes. */
export interface DashboardState {
  /** The proxy's clock when the state was made, epoch ms. */
  at: number;
  /** When the proxy started, epoch ms. */
  startedAt: number;
  totals: DashboardTotals;
  /** Every plugin's sessions merged by id, the most recently seen first. */
  sessions: SessionSnapshot[];
  providers: ProviderStatus[];
  /** Recent denials, cuts, kills and revives, the newest first. */
  events: PluginEvent[];
  spend: SpendSeries;
  /** Names of the loaded plugins. */
  plugins: string[];
  /** Whether `POST /admin/kill` and `/admin/revive` exist (a plugin mounts them and `server.adminToken` is set). */
  adminActions: boolean;
}

/** What {@link createDashboard} needs from the proxy. */
export interface DashboardOptions {
  plugins: readonly GatewayPlugin[];
  health: TargetHealthBook;
  /** The configured providers' names, shown before any of their targets is used. */
  providerNames: readonly string[];
  adminToken: string | undefined;
  /** Whether the admin kill and revive routes are mounted. */
  adminActions: boolean;
  /** Chat calls being served now. */
  callsInFlight: () => number;
  now: () => number;
  logger: Logger;
}

/** The dashboard: what the proxy records per call, and the `/dashboard` routes. */
export interface Dashboard {
  /** A call was accounted (completed, or cut after it started). O(1), no allocation. */
  recordSpend(costUsd: number | undefined): void;
  /** A target answered; `milliseconds` to its response headers. */
  recordLatency(target: string, milliseconds: number): void;
  /** A call moved on from `target`. */
  recordFallback(target: string, reason: string): void;
  /** A denial or a cut the proxy saw. */
  recordEvent(event: PluginEvent): void;
  /** Something else changed (a call started or ended, an admin action): live clients get a push. */
  touch(): void;
  /** The current state. */
  state(): Promise<DashboardState>;
  /**
   * Serves `GET /dashboard`, `/dashboard/state` and `/dashboard/events`.
   * @returns the status answered (an event stream resolves once its headers are sent)
   */
  serve(request: IncomingMessage, response: ServerResponse): Promise<number>;
  /** Ends live streams and stops the push timer. */
  close(): void;
}

/** What {@link dashboardAccess} decides on. */
export interface DashboardAccessInput {
  /** The socket's remote address. */
  remoteAddress: string | undefined;
  /** The `Host` header. */
  host: string | undefined;
  /** The `Authorization` header. */
  authorization: string | undefined;
  /** The `token` query parameter (an EventSource cannot send headers). */
  queryToken: string | undefined;
  /** `server.adminToken`. */
  adminToken: string | undefined;
}

/** Whether a dashboard data read is allowed, and if not, the answer. */
export type DashboardAccess = { allowed: true } | { allowed: false; status: 401 | 403; message: string };

function sameSecret(given: string, expected: string): boolean {
  // Hashed first so that the comparison takes the same time whatever the lengths.
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * Decides whether a read of the dashboard's data may go ahead. A client on this machine (loopback
 * address, and a `Host` that names loopback, so that a web page cannot reach it by DNS rebinding)
 * reads without a token; anyone else needs `server.adminToken`, as a bearer token or `?token=`.
 * @param input the request's address, headers and query token, and the configured admin token
 * @returns allowed, or the status and message to refuse with
 */
export function dashboardAccess(input: DashboardAccessInput): DashboardAccess {
  const bearer = input.authorization?.match(/^Bearer\s+(.+)$/i)?.[1];
  const given = bearer ?? input.queryToken;
  if (input.adminToken && given !== undefined && sameSecret(given, input.adminToken))
    return { allowed: true };
  const local =
    loopbackAddress.test(input.remoteAddress ?? '') &&
    (input.host === undefined || loopbackHost.test(input.host));
  if (local) return { allowed: true };
  if (!input.adminToken) {
    return {
      allowed: false,
      status: 403,
      message:
        'the dashboard data is served to this machine only; set server.adminToken to read it from elsewhere with that token',
    };
  }
  return {
    allowed: false,
    status: 401,
    message:
      given === undefined
        ? 'the dashboard data needs the admin token from another machine: Authorization: Bearer <server.adminToken> or ?token='
        : 'the admin token is wrong',
  };
}

/** Per-target counters, kept as the proxy calls. */
interface TargetStats {
  calls: number;
  fallbacks: number;
  lastFallbackReason: string | undefined;
  latencies: Float64Array;
  latencyCount: number;
}

function median(samples: Float64Array, count: number): number | undefined {
  if (count === 0) return undefined;
  const sorted = samples.slice(0, Math.min(count, samples.length)).sort();
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/**
 * Creates the dashboard of a proxy. Per call it only adds to a spend bucket and a latency ring;
 * plugins are asked for their snapshots only while a dashboard is open or its state is read.
 * @param options what the dashboard reads from the proxy
 * @returns the recorder and the routes
 */
export function createDashboard(options: DashboardOptions): Dashboard {
  const { plugins, health, now, logger } = options;
  const startedAt = now();
  const bucketStarts = new Float64Array(bucketCount).fill(-1);
  const bucketUsd = new Float64Array(bucketCount);
  const bucketCalls = new Uint32Array(bucketCount);
  let spendTotal = 0;
  let callsTotal = 0;
  let denialsTotal = 0;
  const targets = new Map<string, TargetStats>();
  const events: Array<PluginEvent | undefined> = new Array(eventCapacity);
  let eventCursor = 0;
  let version = 0;

  const statsOf = (target: string): TargetStats => {
    let stats = targets.get(target);
    if (!stats) {
      stats = {
        calls: 0,
        fallbacks: 0,
        lastFallbackReason: undefined,
        latencies: new Float64Array(latencySamples),
        latencyCount: 0,
      };
      // Bounded like the metric series: targets come from the config and the models asked for.
      if (targets.size < 10_000) targets.set(target, stats);
    }
    return stats;
  };

  function providersNow(): ProviderStatus[] {
    const rows = new Map<string, ProviderStatus>();
    const time = now();
    const rowOf = (target: string): ProviderStatus => {
      let row = rows.get(target);
      if (!row) {
        const slash = target.indexOf('/');
        row = {
          target,
          provider: slash < 0 ? target : target.slice(0, slash),
          ...(slash < 0 ? {} : { model: target.slice(slash + 1) }),
          state: 'closed',
          calls: 0,
          fallbacks: 0,
        };
        rows.set(target, row);
      }
      return row;
    };
    for (const entry of health.snapshot()) {
      const row = rowOf(entry.key);
      row.state = entry.state;
      if (entry.exhaustedUntil > time) row.quotaBlockedUntil = entry.exhaustedUntil;
    }
    for (const [target, stats] of targets) {
      const row = rowOf(target);
      row.calls = stats.calls;
      row.fallbacks = stats.fallbacks;
      if (stats.lastFallbackReason !== undefined) row.lastFallbackReason = stats.lastFallbackReason;
      const p50 = median(stats.latencies, stats.latencyCount);
      if (p50 !== undefined) row.p50LatencyMs = Math.round(p50 * 100) / 100;
    }
    const used = new Set([...rows.values()].map((row) => row.provider));
    for (const name of options.providerNames) if (!used.has(name)) rowOf(name);
    return [...rows.values()].sort((first, second) => first.target.localeCompare(second.target));
  }

  function spendNow(time: number): SpendSeries {
    const current = Math.floor(time / bucketMs);
    const points: Array<[number, number, number]> = [];
    for (let second = current - bucketCount + 1; second <= current; second += 1) {
      const slot = second % bucketCount;
      if (bucketStarts[slot] === second)
        points.push([second * bucketMs, bucketUsd[slot] as number, bucketCalls[slot] as number]);
    }
    return { bucketMs, windowMs: bucketMs * bucketCount, points };
  }

  async function state(): Promise<DashboardState> {
    const named = await collectPluginSnapshots(plugins, { logger });
    const recorded = events.filter((event): event is PluginEvent => event !== undefined);
    // The proxy's own records last: a plugin's record of the same call wins.
    named.push({ plugin: 'proxy', snapshot: { events: recorded } });
    const merged = mergePluginSnapshots(named, { eventLimit: stateEventLimit });
    const at = now();
    let liveSessions = 0;
    let killedSessions = 0;
    let tokensSaved = 0;
    for (const session of merged.sessions) {
      if ((session.inFlight ?? 0) > 0 || at - (session.lastSeen ?? 0) < liveWindowMs) liveSessions += 1;
      if (session.killed) killedSessions += 1;
      tokensSaved += session.tokensSaved ?? 0;
    }
    return {
      at,
      startedAt,
      totals: {
        spendUsd: spendTotal,
        calls: callsTotal,
        sessions: merged.sessions.length,
        liveSessions,
        inFlight: options.callsInFlight(),
        killedSessions,
        denials: denialsTotal,
        tokensSaved,
      },
      sessions: merged.sessions,
      providers: providersNow(),
      events: merged.events,
      spend: spendNow(at),
      plugins: plugins.map((plugin) => plugin.name),
      adminActions: options.adminActions,
    };
  }

  // Live clients share one state per push, made by one timer that runs only while a client is connected.
  const clients = new Set<ServerResponse>();
  let timer: NodeJS.Timeout | undefined;
  let pushedVersion = -1;
  let pushedFingerprint = '';
  let pushedAt = 0;
  let heartbeatAt = 0;
  let computing = false;

  /** The state as an SSE data line, and its fingerprint: the JSON without `at`, which always differs. */
  async function encodedState(): Promise<{ fingerprint: string; data: string }> {
    const { at, ...rest } = await state();
    const fingerprint = JSON.stringify(rest);
    return { fingerprint, data: `{"at":${at},${fingerprint.slice(1)}` };
  }

  const send = (response: ServerResponse, text: string): void => {
    // A client that has not taken the last push skips this one: every push is the whole state.
    if (response.writableNeedDrain || response.destroyed) return;
    response.write(text);
  };

  async function tick(): Promise<void> {
    if (computing || clients.size === 0) return;
    const time = now();
    if (time - heartbeatAt >= heartbeatIntervalMs) {
      heartbeatAt = time;
      const heartbeat = formatSseEvent({ comment: 'heartbeat' });
      for (const client of clients) send(client, heartbeat);
    }
    if (version === pushedVersion && time - pushedAt < refreshIntervalMs) return;
    computing = true;
    try {
      const seenVersion = version;
      const { fingerprint, data } = await encodedState();
      pushedVersion = seenVersion;
      pushedAt = time;
      if (fingerprint === pushedFingerprint) return;
      pushedFingerprint = fingerprint;
      const block = formatSseEvent({ event: 'state', data });
      for (const client of clients) send(client, block);
    } catch (error) {
      logger.warn('dashboard state failed', { error: String(error) });
    } finally {
      computing = false;
    }
  }

  function stopTimerIfIdle(): void {
    if (clients.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
      pushedFingerprint = '';
    }
  }

  const sendJson = (response: ServerResponse, status: number, body: unknown): number => {
    const text = JSON.stringify(body);
    response.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
    });
    response.end(text);
    return status;
  };

  async function serveEvents(request: IncomingMessage, response: ServerResponse): Promise<number> {
    const first = await encodedState();
    if (response.destroyed) return 499;
    response.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    response.write(formatSseEvent({ retry: 2000, event: 'state', data: first.data }));
    clients.add(response);
    const leave = () => {
      clients.delete(response);
      stopTimerIfIdle();
    };
    response.on('close', leave);
    request.on('error', leave);
    if (!timer) {
      pushedVersion = version;
      pushedFingerprint = first.fingerprint;
      pushedAt = now();
      heartbeatAt = pushedAt;
      timer = setInterval(() => void tick(), pushIntervalMs);
      timer.unref();
    }
    return 200;
  }

  return {
    recordSpend(costUsd) {
      const usd = costUsd ?? 0;
      const second = Math.floor(now() / bucketMs);
      const slot = second % bucketCount;
      if (bucketStarts[slot] !== second) {
        bucketStarts[slot] = second;
        bucketUsd[slot] = 0;
        bucketCalls[slot] = 0;
      }
      bucketUsd[slot] = (bucketUsd[slot] as number) + usd;
      bucketCalls[slot] = (bucketCalls[slot] as number) + 1;
      spendTotal += usd;
      callsTotal += 1;
      version += 1;
    },
    recordLatency(target, milliseconds) {
      const stats = statsOf(target);
      stats.latencies[stats.latencyCount % latencySamples] = milliseconds;
      stats.latencyCount += 1;
      stats.calls += 1;
    },
    recordFallback(target, reason) {
      const stats = statsOf(target);
      stats.fallbacks += 1;
      stats.lastFallbackReason = reason;
      version += 1;
    },
    recordEvent(event) {
      events[eventCursor] = event;
      eventCursor = (eventCursor + 1) % eventCapacity;
      if (event.kind === 'denial') denialsTotal += 1;
      version += 1;
    },
    touch() {
      version += 1;
    },
    state,
    async serve(request, response) {
      const url = request.url ?? '/';
      const query = url.indexOf('?');
      const path = query < 0 ? url : url.slice(0, query);
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.setHeader('allow', 'GET');
        return sendJson(response, 405, {
          error: { message: `${path} answers GET only`, type: 'method_not_allowed' },
        });
      }
      if (path === '/dashboard' || path === '/dashboard/') {
        const page = dashboardPage();
        response.writeHead(200, {
          'content-type': 'text/html; charset=utf-8',
          'content-length': Buffer.byteLength(page.html),
          'cache-control': 'no-store',
          'content-security-policy': page.contentSecurityPolicy,
          'x-content-type-options': 'nosniff',
          'x-frame-options': 'DENY',
          'referrer-policy': 'no-referrer',
        });
        response.end(request.method === 'HEAD' ? undefined : page.html);
        return 200;
      }
      if (path !== '/dashboard/state' && path !== '/dashboard/events') {
        return sendJson(response, 404, {
          error: {
            message: `no such dashboard route: ${path}. Try /dashboard, /dashboard/state or /dashboard/events`,
            type: 'not_found',
          },
        });
      }
      const header = request.headers.authorization;
      const access = dashboardAccess({
        remoteAddress: request.socket.remoteAddress,
        host: request.headers.host,
        authorization: Array.isArray(header) ? header[0] : header,
        queryToken:
          query < 0 ? undefined : (new URLSearchParams(url.slice(query + 1)).get('token') ?? undefined),
        adminToken: options.adminToken,
      });
      if (!access.allowed) {
        return sendJson(response, access.status, {
          error: { message: access.message, type: access.status === 401 ? 'unauthorized' : 'forbidden' },
        });
      }
      if (path === '/dashboard/events') return serveEvents(request, response);
      return sendJson(response, 200, await state());
    },
    close() {
      if (timer) clearInterval(timer);
      timer = undefined;
      for (const client of clients) client.end();
      clients.clear();
    },
  };
}
