import type { ChatRequest, ChatResponse, Dialect, StreamEvent, Usage } from './chat.js';
import { BallastError } from './errors.js';
import type { Logger } from './logger.js';
import type { Pricing } from './pricing.js';
import type { Store } from './store.js';

/** A provider and model the request may be sent to, in route order. */
export interface RouteTarget {
  provider: string;
  model: string;
}

/**
 * Everything a plugin knows about one call. The host (the proxy, or killswitch's `guardFetch`)
 * creates it with {@link createRequestContext}; plugins read it and act through its methods.
 */
export interface RequestContext {
  /** Unique id of this call (`x-ballast-request-id`). */
  readonly requestId: string;
  /** `x-ballast-session`, when the client sent one. */
  readonly sessionId: string | undefined;
  /** `x-ballast-agent`, when the client sent one. */
  readonly agent: string | undefined;
  /** A stable, non-secret id of the client's key (e.g. a hash prefix), when known. */
  readonly clientKey: string | undefined;
  /** The dialect of the endpoint the client called. */
  readonly dialect: Dialect;
  /** The model the client asked for. */
  readonly model: string;
  /** The request in neutral form, after any rewrite by an earlier plugin. */
  readonly request: ChatRequest;
  /** The body as the client sent it. */
  readonly rawRequest: unknown;
  /** Input tokens of `request`, counted with core's tokenizer (recounted after a rewrite). */
  readonly inputTokens: number;
  /** The route's targets in order; the call may fall back along them. */
  readonly candidates: readonly RouteTarget[];
  /** The target of the current attempt, once one is chosen. */
  readonly target: RouteTarget | undefined;
  /** Request headers, lower-cased, with credentials removed. */
  readonly headers: Readonly<Record<string, string>>;
  /** Aborted when the call is cut by a plugin, the client goes away, or the host times out. */
  readonly signal: AbortSignal;
  /** Millisecond timestamp of the call's arrival. */
  readonly startedAt: number;
  /** Scratch space for plugins, per call. Key it by something the plugin owns (a symbol). */
  readonly state: Map<symbol | string, unknown>;
  /** Cuts the call: the host aborts upstream and ends the client's response with this error. */
  abort(cut: CutDecision): void;
  /** Adds a header to the client's response (ignored once headers have been sent). */
  setResponseHeader(name: string, value: string): void;
  /** The headers plugins set for the response so far. */
  readonly responseHeaders: ReadonlyMap<string, string>;
}

/** Let the call go ahead. */
export interface AllowDecision {
  action: 'allow';
}

/** Refuse the call; the client gets an error in its dialect with this status and code. */
export interface DenyDecision {
  action: 'deny';
  /** Stable code, e.g. `budget_exceeded` (becomes `error.code` / `error.type` on the wire). */
  code: string;
  status: number;
  message: string;
  /** Extra response headers (e.g. `retry-after`). */
  headers?: Record<string, string>;
}

/** Send a different request upstream (e.g. memory's compacted messages). */
export interface RewriteDecision {
  action: 'rewrite';
  request: ChatRequest;
}

/** What `onRequest` may decide. Returning nothing means allow. */
export type RequestDecision = AllowDecision | DenyDecision | RewriteDecision;

/** Stop a call mid-flight. */
export interface CutDecision {
  action: 'cut';
  code: string;
  message: string;
  /** Status used if the response has not started yet. @default 403 */
  status?: number;
}

/** What `onStreamEvent` may decide. Returning nothing means continue. */
export type StreamDecision = { action: 'continue' } | CutDecision;

/** How far a stream has got. */
export interface StreamProgress {
  /** Output tokens streamed so far (counted from the deltas, before the provider reports a total). */
  outputTokens: number;
  /** Cost so far at the target model's price, when the price is known. */
  costUsd: number | undefined;
}

/** The outcome of a call that completed. */
export interface CompletionOutcome {
  usage: Usage;
  /** USD at the target model's price; undefined when the price is unknown. */
  costUsd: number | undefined;
  streamed: boolean;
  /** The neutral response (non-streamed calls only). */
  response?: ChatResponse;
  status: number;
}

/** The outcome of a call that was cut short (client gone, plugin cut, timeout) after it started. */
export interface AbortOutcome {
  /** Usage so far: reported by the provider where it was, else counted from what was streamed. */
  usage: Usage;
  costUsd: number | undefined;
  reason: 'client-disconnect' | 'cut' | 'timeout';
  /** The cut's code when `reason` is `cut`. */
  code?: string;
}

/** A plain HTTP route a plugin mounts on the host (admin API, dashboard data). */
export interface PluginRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Exact path, e.g. `/admin/kill`. */
  path: string;
  /** `admin` routes require the host's admin bearer token. */
  auth: 'admin' | 'none';
  handle(request: Request): Response | Promise<Response>;
}

/**
 * One session as a plugin sees it, for dashboards. Only `session` is required: each plugin fills in
 * what it knows (the killswitch spend and steps, memory the tokens it saved), and the host merges
 * the sessions of every plugin by id with {@link mergePluginSnapshots}.
 */
export interface SessionSnapshot {
  /** The session id (`x-ballast-session`); plugins that count calls without one use `anonymous`. */
  session: string;
  /** The agent name last seen on the session (`x-ballast-agent` or the client key's agent). */
  agent?: string;
  /** USD spent by the session so far. */
  spendUsd?: number;
  /** The session's USD budget, when one applies to it as a whole (not per time window). */
  budgetUsd?: number;
  /** Calls the session has made (admitted, whatever their outcome). */
  steps?: number;
  /** Calls the session may make, when capped. */
  maxSteps?: number;
  /** Calls of the session being served now. */
  inFlight?: number;
  /** Whether new calls of the session are refused by an operator's kill (of it, its agent, key, or all). */
  killed?: boolean;
  /** The plugin's last decision on the session: `allowed`, or a denial code such as `budget_exceeded`. */
  lastDecision?: string;
  /** Epoch ms of the session's last call. */
  lastSeen?: number;
  /** Input tokens sent upstream for the session, summed over its calls. */
  tokensSent?: number;
  /** Input tokens the client's full histories came to, summed over the same calls. */
  tokensFullHistory?: number;
  /** Input tokens not sent thanks to memory: `tokensFullHistory - tokensSent`. */
  tokensSaved?: number;
}

/** What a {@link PluginEvent} records. */
export type PluginEventKind = 'denial' | 'cut' | 'kill' | 'revive';

/** Something an operator wants to see in a list of recent events: a denial, a cut, a kill, a revive. */
export interface PluginEvent {
  kind: PluginEventKind;
  /** Epoch ms. */
  at: number;
  /** The session concerned, when the event concerns one. */
  session?: string;
  /** What a kill or revive targeted when it is not one session, e.g. `agent:planner`, `key:ci`, `all`. */
  target?: string;
  /** The decision's code (`budget_exceeded`, `killed`, ...). */
  code?: string;
  /** A human-readable reason. Never holds a secret. */
  message?: string;
  /** The call it concerns; hosts use it to drop the same denial reported twice. */
  requestId?: string;
  /** The plugin that decided it; {@link mergePluginSnapshots} fills it in when missing. */
  plugin?: string;
}

/** What a plugin exposes for a dashboard: its view of sessions and its recent events. */
export interface PluginSnapshot {
  /** Sessions the plugin knows, at most one entry per session id. */
  sessions?: SessionSnapshot[];
  /** Recent events, in any order (hosts sort them). */
  events?: PluginEvent[];
}

/** A plugin's snapshot with the plugin's name, as {@link collectPluginSnapshots} returns them. */
export interface NamedPluginSnapshot {
  plugin: string;
  snapshot: PluginSnapshot;
}

/**
 * A gateway plugin: the contract the proxy runs and killswitch and memory implement.
 *
 * For every call the host runs `onRequest` of each plugin in configured order. A rewrite feeds
 * the next plugin; a deny stops the chain. After that, every plugin whose `onRequest` ran and did
 * not deny gets exactly one of `onResponse`, `onAbort` or `onError`, so a reservation taken before
 * the call is always settled or released.
 */
export interface GatewayPlugin {
  /** Name used in logs, metrics and decision headers. */
  readonly name: string;
  /** Before the request goes upstream: allow, deny or rewrite. */
  onRequest?(context: RequestContext): RequestDecision | undefined | Promise<RequestDecision | undefined>;
  /** On each upstream stream event, in order, before it reaches the client. Keep it fast and synchronous. */
  onStreamEvent?(
    context: RequestContext,
    event: StreamEvent,
    progress: StreamProgress,
  ): StreamDecision | undefined;
  /** After a call completed, with its real usage and cost. */
  onResponse?(context: RequestContext, outcome: CompletionOutcome): void | Promise<void>;
  /** After a call was cut short once started. */
  onAbort?(context: RequestContext, outcome: AbortOutcome): void | Promise<void>;
  /** After a call failed: every target failed, or a later plugin denied it. */
  onError?(context: RequestContext, error: BallastError): void | Promise<void>;
  /** HTTP routes to mount. */
  readonly routes?: readonly PluginRoute[];
  /**
   * Dashboard data: the plugin's sessions and recent events, from state it already keeps. Called
   * only while someone is looking (a dashboard open), at most a few times a second; keep it cheap
   * and bounded (e.g. the most recently seen few hundred sessions).
   */
  snapshot?(): PluginSnapshot | Promise<PluginSnapshot>;
  /** Releases timers, connections and subscriptions. */
  close?(): void | Promise<void>;
}

/** What the host gives a plugin factory. */
export interface PluginHost {
  logger: Logger;
  pricing: Pricing;
  /** The host's shared-state store, when one is configured. */
  store?: Store;
}

/**
 * A plugin module's export: `export default` (or `export const createPlugin`) a factory.
 * The proxy loads `use: "@ballast/killswitch"` with `import()` and calls it with `options`.
 */
export type GatewayPluginFactory<Options = Record<string, unknown>> = (
  options: Options,
  host: PluginHost,
) => GatewayPlugin | Promise<GatewayPlugin>;

/**
 * Identity helper that types a plugin factory.
 * @param factory the factory
 * @returns the same factory
 */
export function defineGatewayPlugin<Options>(
  factory: GatewayPluginFactory<Options>,
): GatewayPluginFactory<Options> {
  return factory;
}

/** What {@link createRequestContext} needs. */
export interface RequestContextInit {
  requestId: string;
  dialect: Dialect;
  /** The neutral request, or a function that parses it on first read (hosts keep unread requests unparsed). */
  request: ChatRequest | (() => ChatRequest);
  /** The model asked for; required when `request` is lazy. */
  model?: string;
  rawRequest?: unknown;
  /** The counted input tokens, or a function that counts them on first read. */
  inputTokens: number | (() => number);
  sessionId?: string;
  agent?: string;
  clientKey?: string;
  candidates?: RouteTarget[];
  headers?: Record<string, string>;
  /**
   * A signal of the host's own (client disconnect); the context's signal follows it. A function is
   * called only when a plugin first reads `context.signal`, so a host need not make one per call.
   */
  signal?: AbortSignal | (() => AbortSignal);
  /** Called once when a plugin cuts the call, so the host can stop its upstream work. */
  onCut?: (decision: CutDecision) => void;
  now?: () => number;
}

/** A request context plus the methods only the host calls. */
export interface HostRequestContext extends RequestContext {
  /** Replaces the request (after a rewrite) with its recounted input tokens. */
  replaceRequest(request: ChatRequest, inputTokens: number): void;
  /** Whether a plugin replaced the request. */
  readonly rewritten: boolean;
  /** Records the target of the current attempt. */
  setTarget(target: RouteTarget): void;
  /** The cut a plugin asked for, if any. */
  readonly cut: CutDecision | undefined;
}

/**
 * Creates the context of one call. Hosts call this; plugins receive it.
 * @param init what the host knows of the call
 * @returns the context
 */
export function createRequestContext(init: RequestContextInit): HostRequestContext {
  return new CallContext(init);
}

const cutError = (decision: CutDecision): BallastError =>
  new BallastError(`CUT_${decision.code.toUpperCase()}`, decision.message);

const noResponseHeaders: ReadonlyMap<string, string> = new Map();

/**
 * The context as a class: its methods live on the prototype and its maps and controller are made
 * on first use, so a host that builds one per call (the proxy, with or without plugins) allocates
 * one object, not a dozen closures and two maps.
 */
class CallContext implements HostRequestContext {
  readonly requestId: string;
  readonly sessionId: string | undefined;
  readonly agent: string | undefined;
  readonly clientKey: string | undefined;
  readonly dialect: Dialect;
  readonly model: string;
  readonly rawRequest: unknown;
  readonly candidates: readonly RouteTarget[];
  readonly headers: Readonly<Record<string, string>>;
  readonly startedAt: number;
  #request: ChatRequest | undefined;
  #parseRequest: (() => ChatRequest) | undefined;
  #inputTokens: number | undefined;
  #countInput: (() => number) | undefined;
  #hostSignal: AbortSignal | (() => AbortSignal) | undefined;
  #onCut: ((decision: CutDecision) => void) | undefined;
  #controller: AbortController | undefined;
  #state: Map<symbol | string, unknown> | undefined;
  #responseHeaders: Map<string, string> | undefined;
  #target: RouteTarget | undefined;
  #cut: CutDecision | undefined;
  #rewritten = false;

  constructor(init: RequestContextInit) {
    if (typeof init.request === 'function') this.#parseRequest = init.request;
    else this.#request = init.request;
    if (typeof init.inputTokens === 'function') this.#countInput = init.inputTokens;
    else this.#inputTokens = init.inputTokens;
    const model = init.model ?? this.#request?.model;
    if (model === undefined) {
      throw new BallastError(
        'CORE_INVALID_CONTEXT',
        'createRequestContext needs `model` when `request` is lazy',
      );
    }
    this.model = model;
    this.requestId = init.requestId;
    this.sessionId = init.sessionId;
    this.agent = init.agent;
    this.clientKey = init.clientKey;
    this.dialect = init.dialect;
    this.rawRequest = init.rawRequest;
    this.candidates = init.candidates ?? [];
    this.headers = init.headers ?? {};
    this.#hostSignal = init.signal;
    this.#onCut = init.onCut;
    this.startedAt = (init.now ?? Date.now)();
  }

  get request(): ChatRequest {
    this.#request ??= (this.#parseRequest as () => ChatRequest)();
    return this.#request;
  }

  get inputTokens(): number {
    this.#inputTokens ??= (this.#countInput as () => number)();
    return this.#inputTokens;
  }

  get target(): RouteTarget | undefined {
    return this.#target;
  }

  // The controller is made on first use: a host with no plugin reading the signal pays nothing for it.
  #control(): AbortController {
    if (this.#controller) return this.#controller;
    const created = new AbortController();
    this.#controller = created;
    if (this.#cut) {
      created.abort(cutError(this.#cut));
      return created;
    }
    const host = typeof this.#hostSignal === 'function' ? this.#hostSignal() : this.#hostSignal;
    if (host) {
      if (host.aborted) created.abort(host.reason);
      else host.addEventListener('abort', () => created.abort(host.reason), { once: true });
    }
    return created;
  }

  get signal(): AbortSignal {
    return this.#control().signal;
  }

  get state(): Map<symbol | string, unknown> {
    this.#state ??= new Map();
    return this.#state;
  }

  abort(decision: CutDecision): void {
    if (this.#cut) return;
    this.#cut = decision;
    // A signal nobody has read yet is made aborted when it is read (see #control).
    this.#controller?.abort(cutError(decision));
    this.#onCut?.(decision);
  }

  setResponseHeader(name: string, value: string): void {
    this.#responseHeaders ??= new Map();
    this.#responseHeaders.set(name.toLowerCase(), value);
  }

  get responseHeaders(): ReadonlyMap<string, string> {
    return this.#responseHeaders ?? noResponseHeaders;
  }

  replaceRequest(next: ChatRequest, tokens: number): void {
    this.#request = next;
    this.#inputTokens = tokens;
    this.#rewritten = true;
  }

  get rewritten(): boolean {
    return this.#rewritten;
  }

  setTarget(next: RouteTarget): void {
    this.#target = next;
  }

  get cut(): CutDecision | undefined {
    return this.#cut;
  }
}

/** The result of {@link runRequestHooks}. */
export type RequestHooksResult =
  | { action: 'allow'; admitted: GatewayPlugin[] }
  | { action: 'deny'; decision: DenyDecision; plugin: string };

/**
 * Runs `onRequest` of each plugin in order, applying rewrites. On a deny, earlier plugins that
 * admitted the call get `onError` at once, so their reservations are released.
 *
 * @param plugins the plugins, in configured order
 * @param context the call's context
 * @param recount counts the input tokens of a rewritten request
 * @returns allow with the plugins that must later be settled, or the deny and who decided it
 * @throws BallastError `CORE_PLUGIN_FAILED` when a hook throws (earlier plugins are released first)
 */
export async function runRequestHooks(
  plugins: readonly GatewayPlugin[],
  context: HostRequestContext,
  recount: (request: ChatRequest) => number,
): Promise<RequestHooksResult> {
  const admitted: GatewayPlugin[] = [];
  for (const plugin of plugins) {
    let decision: RequestDecision | undefined;
    try {
      decision = await plugin.onRequest?.(context);
    } catch (error) {
      const failure = new BallastError('CORE_PLUGIN_FAILED', `plugin ${plugin.name} failed in onRequest`, {
        cause: error,
        status: 500,
      });
      await runErrorHooks(admitted, context, failure);
      throw failure;
    }
    if (decision?.action === 'deny') {
      const error = new BallastError(decision.code, decision.message, { status: decision.status });
      await runErrorHooks(admitted, context, error);
      return { action: 'deny', decision, plugin: plugin.name };
    }
    if (decision?.action === 'rewrite') context.replaceRequest(decision.request, recount(decision.request));
    admitted.push(plugin);
  }
  return { action: 'allow', admitted };
}

/**
 * Runs `onStreamEvent` of each admitted plugin; the first cut wins and is recorded on the context.
 * @param plugins the admitted plugins
 * @param context the call's context
 * @param event the neutral stream event about to reach the client
 * @param progress output so far
 * @returns the cut, if a plugin asked for one
 */
export function runStreamHooks(
  plugins: readonly GatewayPlugin[],
  context: HostRequestContext,
  event: StreamEvent,
  progress: StreamProgress,
): CutDecision | undefined {
  for (const plugin of plugins) {
    const decision = plugin.onStreamEvent?.(context, event, progress);
    if (decision?.action === 'cut') {
      context.abort(decision);
      return decision;
    }
  }
  return context.cut;
}

/**
 * Runs a settle hook on every admitted plugin, isolating failures: one plugin's error never
 * stops another's settlement. Failures are logged.
 */
async function runSettleHooks(
  plugins: readonly GatewayPlugin[],
  run: (plugin: GatewayPlugin) => void | Promise<void>,
  logger?: Logger,
): Promise<void> {
  await Promise.all(
    plugins.map(async (plugin) => {
      try {
        await run(plugin);
      } catch (error) {
        logger?.error('plugin settle hook failed', { plugin: plugin.name, error: String(error) });
      }
    }),
  );
}

/**
 * Tells every admitted plugin the call completed.
 * @param plugins the admitted plugins
 * @param context the call's context
 * @param outcome usage and cost
 * @param logger where hook failures are logged
 */
export function runResponseHooks(
  plugins: readonly GatewayPlugin[],
  context: RequestContext,
  outcome: CompletionOutcome,
  logger?: Logger,
): Promise<void> {
  return runSettleHooks(plugins, (plugin) => plugin.onResponse?.(context, outcome), logger);
}

/**
 * Tells every admitted plugin the call was cut short.
 * @param plugins the admitted plugins
 * @param context the call's context
 * @param outcome usage so far and the reason
 * @param logger where hook failures are logged
 */
export function runAbortHooks(
  plugins: readonly GatewayPlugin[],
  context: RequestContext,
  outcome: AbortOutcome,
  logger?: Logger,
): Promise<void> {
  return runSettleHooks(plugins, (plugin) => plugin.onAbort?.(context, outcome), logger);
}

/**
 * Tells every admitted plugin the call failed.
 * @param plugins the admitted plugins
 * @param context the call's context
 * @param error why
 * @param logger where hook failures are logged
 */
export function runErrorHooks(
  plugins: readonly GatewayPlugin[],
  context: RequestContext,
  error: BallastError,
  logger?: Logger,
): Promise<void> {
  return runSettleHooks(plugins, (plugin) => plugin.onError?.(context, error), logger);
}

/** Options of {@link collectPluginSnapshots}. */
export interface CollectSnapshotsOptions {
  /** Where a failing `snapshot()` is logged. @default silent */
  logger?: Logger;
}

/**
 * Asks every plugin that has `snapshot()` for it, at once. A plugin whose snapshot throws or
 * rejects is logged and left out, so one broken plugin never blanks the dashboard.
 * @param plugins the host's plugins
 * @param options where failures are logged
 * @returns the snapshots with their plugins' names, in plugin order
 * @example
 * ```ts
 * const state = mergePluginSnapshots(await collectPluginSnapshots(proxy.plugins));
 * ```
 */
export async function collectPluginSnapshots(
  plugins: readonly GatewayPlugin[],
  options: CollectSnapshotsOptions = {},
): Promise<NamedPluginSnapshot[]> {
  const results = await Promise.all(
    plugins.map(async (plugin): Promise<NamedPluginSnapshot | undefined> => {
      if (!plugin.snapshot) return undefined;
      try {
        return { plugin: plugin.name, snapshot: await plugin.snapshot() };
      } catch (error) {
        options.logger?.warn('plugin snapshot failed', { plugin: plugin.name, error: String(error) });
        return undefined;
      }
    }),
  );
  return results.filter((result): result is NamedPluginSnapshot => result !== undefined);
}

/** Options of {@link mergePluginSnapshots}. */
export interface MergeSnapshotsOptions {
  /** The most events to keep (the newest). @default 100 */
  eventLimit?: number;
}

/** Every session and event of several snapshots, merged. */
export interface MergedSnapshot {
  /** One entry per session id, the most recently seen first. */
  sessions: SessionSnapshot[];
  /** The newest first, each with its `plugin`, without the same call's event reported twice. */
  events: PluginEvent[];
}

const sessionFields = [
  'agent',
  'spendUsd',
  'budgetUsd',
  'steps',
  'maxSteps',
  'inFlight',
  'lastDecision',
  'tokensSent',
  'tokensFullHistory',
  'tokensSaved',
] as const satisfies ReadonlyArray<keyof SessionSnapshot>;

/**
 * Merges plugins' snapshots (see {@link collectPluginSnapshots}) into one view.
 *
 * Sessions with the same id become one: a field takes the first value given, in snapshot order
 * (config order), except `lastSeen` (the latest) and `killed` (killed if any plugin says so).
 * Events keep their plugin's name; an event with a `requestId` is kept once per kind and call, so
 * a denial both the plugin and the host recorded shows once.
 *
 * @param entries snapshots with their plugins' names, in plugin order
 * @param options how many events to keep
 * @returns the merged sessions and events
 */
export function mergePluginSnapshots(
  entries: readonly NamedPluginSnapshot[],
  options: MergeSnapshotsOptions = {},
): MergedSnapshot {
  const eventLimit = options.eventLimit ?? 100;
  const sessions = new Map<string, SessionSnapshot>();
  const events: PluginEvent[] = [];
  const seenCalls = new Set<string>();
  for (const { plugin, snapshot } of entries) {
    for (const session of snapshot.sessions ?? []) {
      const merged = sessions.get(session.session);
      if (!merged) {
        sessions.set(session.session, { ...session });
        continue;
      }
      for (const field of sessionFields) {
        if (merged[field] === undefined && session[field] !== undefined) {
          (merged as unknown as Record<string, unknown>)[field] = session[field];
        }
      }
      if (session.lastSeen !== undefined) merged.lastSeen = Math.max(merged.lastSeen ?? 0, session.lastSeen);
      if (session.killed !== undefined) merged.killed = merged.killed === true || session.killed;
    }
    for (const event of snapshot.events ?? []) {
      if (event.requestId !== undefined) {
        const callKey = `${event.kind}\u0000${event.requestId}`;
        if (seenCalls.has(callKey)) continue;
        seenCalls.add(callKey);
      }
      events.push(event.plugin === undefined ? { ...event, plugin } : event);
    }
  }
  events.sort((first, second) => second.at - first.at);
  if (events.length > eventLimit) events.length = eventLimit;
  return {
    sessions: [...sessions.values()].sort((first, second) => (second.lastSeen ?? 0) - (first.lastSeen ?? 0)),
    events,
  };
}
