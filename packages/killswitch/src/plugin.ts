import {
  type ChatRequest,
  createPricing,
  type GatewayPlugin,
  type Logger,
  type PluginEvent,
  type PluginHost,
  type PluginSnapshot,
  type Pricing,
  type RequestContext,
  type RequestDecision,
  silentLogger,
  type Usage,
} from '@ballast/core';
import { createAlerter } from './alerts.js';
import { createLoopDetector, type LoopDetector } from './loop-detector.js';
import {
  type BudgetConfig,
  type KillswitchOptions,
  parseKillswitchOptions,
  windowBucket,
} from './options.js';
import { createKillswitchStore } from './store/index.js';
import type { CounterChange, KillRecord, KillswitchStore, KillTarget, LedgerEntry } from './store/types.js';

/** USD are counted in nano-dollars so that every backend adds integers. */
const nano = 1e9;
const toNano = (usd: number): number => Math.ceil(usd * nano);

/** What the killswitch holds for one admitted call until it settles. */
interface Reservation {
  changes: CounterChange[];
  /** Index of each dimension's changes, to settle with real amounts. */
  usdIndexes: number[];
  tokenIndexes: number[];
  requestIndexes: number[];
  reservedUsd: number;
  reservedOutputTokens: number;
  sessionKey: string;
}

const reservationKey = Symbol('ballast.killswitch.reservation');

/** Recent denials, cuts, kills and revives kept for `snapshot()`. */
const eventLimit = 100;
/** The most recently seen sessions `snapshot()` reports. */
const snapshotSessionLimit = 500;

/** A session as the admin API shows it. */
export interface SessionSummary {
  session: string;
  spendUsd: number;
  steps: number;
  inFlight: number;
  killed: boolean;
  lastDecision?: string;
  lastSeen: number;
}

/** The killswitch: a gateway plugin plus the operator's controls. */
export interface Killswitch extends GatewayPlugin {
  /** Kills a session, agent, key or everything: in-flight streams are cut, new calls denied until revived. */
  kill(target: KillTarget, reason?: string): Promise<void>;
  revive(target: KillTarget): Promise<void>;
  kills(): Promise<KillRecord[]>;
  sessions(): Promise<SessionSummary[]>;
  /**
   * Dashboard data: the 500 most recently seen sessions (spend and USD budget, steps and step cap,
   * calls in flight, killed, last decision) and the last 100 denials, cuts, kills and revives.
   */
  snapshot(): Promise<PluginSnapshot>;
  /** Spend from the ledger, grouped. */
  spend(
    by: 'session' | 'agent' | 'key' | 'model',
  ): Promise<Array<{ key: string; usd: number; calls: number; inputTokens: number; outputTokens: number }>>;
  readonly store: KillswitchStore;
}

/** Extra inputs of {@link createKillswitch} besides the options. */
export interface KillswitchHost {
  logger?: Logger;
  pricing?: Pricing;
  now?: () => number;
  /** A ready store, instead of the one `options.store` describes. */
  killswitchStore?: KillswitchStore;
}

function deny(
  code: string,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): RequestDecision {
  return { action: 'deny', code, status, message, headers };
}

function scopeId(budget: BudgetConfig['scope'] | KillTarget['scope'], context: RequestContext): string {
  switch (budget) {
    case 'session':
      return context.sessionId ?? 'anonymous';
    case 'agent':
      return context.agent ?? 'anonymous';
    case 'key':
      return context.clientKey ?? 'local';
    default:
      return '*';
  }
}

function headerNumber(context: RequestContext, name: string): number | undefined {
  const value = context.headers[name];
  if (value === undefined || value === '') return undefined;
  const parsed = Number(value);
  return Number.isFinite(parsed) && parsed > 0 ? parsed : undefined;
}

/**
 * Creates the killswitch. As a proxy plugin: `plugins: [{ use: "@ballast/killswitch", options }]`.
 *
 * Before a call it checks kills and loops, then reserves the call's worst-case cost (counted input
 * plus output cap, at the dearest of the route's targets) against every budget that applies, in
 * one atomic step; a call that does not fit is denied, so concurrent calls cannot overshoot. After
 * the call it commits the real cost and releases the rest; a cut or abandoned stream commits what
 * was streamed.
 *
 * @param input options (see the README's table)
 * @param host logger and pricing from the proxy
 * @returns the plugin, with kill/revive and reporting methods
 * @throws BallastError `KILLSWITCH_INVALID_OPTIONS`, or the store's error when it cannot open
 */
export async function createKillswitch(input: unknown, host: KillswitchHost = {}): Promise<Killswitch> {
  const options: KillswitchOptions = parseKillswitchOptions(input);
  const logger = host.logger ?? silentLogger;
  const pricing = host.pricing ?? createPricing();
  const now = host.now ?? Date.now;
  const store = host.killswitchStore ?? (await createKillswitchStore(options.store, { now }));
  const loops: LoopDetector | undefined =
    options.loop === false ? undefined : createLoopDetector(options.loop);
  const alert = createAlerter(options.alerts, logger);
  const killed = new Map<string, KillRecord>();
  const inFlight = new Set<RequestContext>();
  const sessions = new Map<string, { lastDecision?: string; lastSeen: number; agent?: string }>();
  const killKey = (target: KillTarget) => `${target.scope}:${target.id}`;
  const events: PluginEvent[] = [];
  const recordEvent = (event: PluginEvent): void => {
    events.push(event);
    if (events.length > eventLimit) events.shift();
  };

  const matches = (target: KillTarget, context: RequestContext): boolean =>
    target.scope === 'all' || scopeId(target.scope, context) === target.id;
  const applyKill = (target: KillTarget, isKilled: boolean, reason?: string): void => {
    // A local kill arrives twice (here and from the store's echo): only a change is an event.
    if (killed.has(killKey(target)) !== isKilled) {
      recordEvent({
        kind: isKilled ? 'kill' : 'revive',
        at: now(),
        ...(target.scope === 'session'
          ? { session: target.id }
          : { target: target.scope === 'all' ? 'all' : `${target.scope}:${target.id}` }),
        ...(isKilled ? { code: 'killed' } : {}),
        ...(reason ? { message: reason } : {}),
      });
    }
    if (!isKilled) {
      killed.delete(killKey(target));
      return;
    }
    killed.set(killKey(target), { ...target, ...(reason ? { reason } : {}), at: now() });
    for (const context of inFlight) {
      if (matches(target, context)) {
        context.abort({
          action: 'cut',
          code: 'killed',
          status: 403,
          message: `killed by an operator${reason ? `: ${reason}` : ''}`,
        });
      }
    }
  };
  try {
    for (const record of await store.listKills()) killed.set(killKey(record), record);
  } catch (error) {
    logger.warn('killswitch could not load kills from its store', { error: String(error) });
  }
  const unsubscribe = await store
    .subscribeKills((event) => applyKill(event.target, event.killed, event.reason))
    .catch((error: unknown) => {
      logger.warn('killswitch could not subscribe to kills', { error: String(error) });
      return async () => {};
    });

  const killedFor = (context: RequestContext): KillRecord | undefined => {
    if (killed.size === 0) return undefined;
    for (const scope of ['all', 'session', 'agent', 'key'] as const) {
      const record = killed.get(`${scope}:${scope === 'all' ? '*' : scopeId(scope, context)}`);
      if (record) return record;
    }
    return undefined;
  };

  /** The dearest route target's prices, per million tokens, and its output maximum. */
  const pricesFor = (
    context: RequestContext,
  ): { input: number; output: number; maxOutput?: number } | undefined => {
    const models =
      context.candidates.length > 0 ? context.candidates.map((target) => target.model) : [context.model];
    let found: { input: number; output: number; maxOutput?: number } | undefined;
    for (const model of models) {
      try {
        const price = pricing.priceOf(model);
        const input = Math.max(price.input, price.cacheWrite ?? 0);
        if (!found || input + price.output > found.input + found.output) {
          found = {
            input,
            output: price.output,
            ...(price.maxOutputTokens ? { maxOutput: price.maxOutputTokens } : {}),
          };
        }
      } catch {
        // An unpriced target cannot be budgeted; a priced one still can.
      }
    }
    return found;
  };

  const settle = async (
    context: RequestContext,
    usage: Usage | undefined,
    costUsd: number | undefined,
    outcome: LedgerEntry['outcome'],
  ) => {
    inFlight.delete(context);
    const reservation = context.state.get(reservationKey) as Reservation | undefined;
    if (!reservation) return;
    context.state.delete(reservationKey);
    const release = usage === undefined;
    const actualNano = release ? 0 : toNano(costUsd ?? 0);
    const actualTokens = release ? 0 : usage.inputTokens + usage.outputTokens;
    const adjustments: CounterChange[] = [];
    reservation.changes.forEach((change, index) => {
      let amount = 0;
      if (reservation.usdIndexes.includes(index)) amount = actualNano - change.amount;
      else if (reservation.tokenIndexes.includes(index)) amount = actualTokens - change.amount;
      else if (reservation.requestIndexes.includes(index) && release) amount = -change.amount;
      if (amount !== 0)
        adjustments.push({ key: change.key, amount, ...(change.ttlMs ? { ttlMs: change.ttlMs } : {}) });
    });
    try {
      // Settlement and the ledger line go out together: one round trip's wait instead of two.
      const ledgerWrite = release
        ? undefined
        : store.appendLedger({
            requestId: context.requestId,
            at: now(),
            ...(context.sessionId ? { sessionId: context.sessionId } : {}),
            ...(context.agent ? { agent: context.agent } : {}),
            ...(context.clientKey ? { clientKey: context.clientKey } : {}),
            model: context.target?.model ?? context.model,
            ...(context.target ? { provider: context.target.provider } : {}),
            inputTokens: usage.inputTokens,
            outputTokens: usage.outputTokens,
            costUsd: costUsd ?? 0,
            outcome,
          });
      const [values] = await Promise.all([
        adjustments.length > 0 ? store.adjust(adjustments) : Promise.resolve([]),
        ledgerWrite,
      ]);
      if (!release) {
        // Warn once a budget passes its warnAt share.
        adjustments.forEach((change, index) => {
          const budget = budgetOfKey.get(change.key);
          const value = values[index];
          if (!budget || value === undefined) return;
          const limit = budget.limit;
          const before = value - change.amount;
          if (value >= budget.warnAt * limit && before < budget.warnAt * limit) {
            alert({
              type: 'budget-warning',
              key: change.key,
              used: value / budget.divisor,
              limit: limit / budget.divisor,
            });
          }
        });
      }
    } catch (error) {
      logger.error('killswitch could not settle a call', {
        requestId: context.requestId,
        error: String(error),
      });
    }
  };
  const budgetOfKey = new Map<string, { limit: number; warnAt: number; divisor: number }>();

  const plugin: Killswitch = {
    name: 'killswitch',
    store,

    async onRequest(context) {
      const sessionKey = scopeId('session', context);
      const touch = (decision: string) =>
        sessions.set(sessionKey, {
          lastDecision: decision,
          lastSeen: now(),
          ...(context.agent ? { agent: context.agent } : {}),
        });
      const refuse = (
        code: string,
        status: number,
        message: string,
        headers: Record<string, string> = {},
      ): RequestDecision => {
        recordEvent({
          kind: 'denial',
          at: now(),
          session: sessionKey,
          code,
          message,
          requestId: context.requestId,
          plugin: 'killswitch',
        });
        return deny(code, status, message, headers);
      };
      const kill = killedFor(context);
      if (kill) {
        touch('killed');
        alert({ type: 'denial', code: 'killed', session: sessionKey });
        return refuse(
          'killed',
          403,
          `this ${kill.scope === 'all' ? 'proxy' : kill.scope} was killed by an operator${kill.reason ? `: ${kill.reason}` : ''}; revive it to continue`,
        );
      }
      if (loops) {
        const verdict = loops.check(sessionKey, context.request, now());
        if (verdict.loop) {
          if (options.loop !== false && options.loop.action === 'warn') {
            context.setResponseHeader('x-ballast-warning', `loop: ${verdict.message}`);
            alert({
              type: 'loop-warning',
              session: sessionKey,
              kind: verdict.kind,
              message: verdict.message,
            });
          } else {
            touch('loop_detected');
            alert({ type: 'denial', code: 'loop_detected', session: sessionKey, message: verdict.message });
            return refuse('loop_detected', 429, `loop detected (${verdict.kind}): ${verdict.message}`);
          }
        }
      }

      // Which counters this call reserves against, with their limits.
      const time = now();
      type Line = {
        key: string;
        limit?: number;
        ttlMs?: number;
        dimension: 'usd' | 'tokens' | 'requests';
        warnAt: number;
        label: string;
      };
      const lines: Line[] = [];
      const sessionUsdKey = `session:${sessionKey}:usd:total`;
      const sessionStepsKey = `session:${sessionKey}:requests:total`;
      for (const budget of options.budgets) {
        const id = scopeId(budget.scope, context);
        const { bucket, ttlMs } = windowBucket(budget.window, time);
        const add = (dimension: Line['dimension'], limit: number | undefined, divisor: number) => {
          if (limit === undefined) return;
          const key = `${budget.scope}:${id}:${dimension}:${bucket}`;
          const existing = lines.find((line) => line.key === key);
          const scaled = Math.floor(limit * divisor);
          if (existing) existing.limit = Math.min(existing.limit ?? scaled, scaled);
          else
            lines.push({
              key,
              limit: scaled,
              ...(ttlMs ? { ttlMs } : {}),
              dimension,
              warnAt: budget.warnAt,
              label: `${budget.scope} ${dimension} budget`,
            });
        };
        add('usd', budget.usd, nano);
        add('tokens', budget.tokens, 1);
        add('requests', budget.requests, 1);
      }
      // Session totals are always counted: they feed the response headers.
      const clientUsd = options.allowClientCaps
        ? headerNumber(context, 'x-ballast-session-budget-usd')
        : undefined;
      const clientSteps = options.allowClientCaps
        ? headerNumber(context, 'x-ballast-session-max-steps')
        : undefined;
      for (const [key, dimension, cap, divisor] of [
        [sessionUsdKey, 'usd', clientUsd, nano],
        [sessionStepsKey, 'requests', clientSteps, 1],
      ] as const) {
        let line = lines.find((candidate) => candidate.key === key);
        if (!line) {
          line = { key, dimension, warnAt: 0.8, label: `session ${dimension} budget` };
          lines.push(line);
        }
        // Clients may tighten their own caps, never loosen them.
        if (cap !== undefined)
          line.limit = Math.min(line.limit ?? Number.POSITIVE_INFINITY, Math.floor(cap * divisor));
      }
      for (const line of lines) {
        if (line.limit !== undefined && Number.isFinite(line.limit)) {
          budgetOfKey.set(line.key, {
            limit: line.limit,
            warnAt: line.warnAt,
            divisor: line.dimension === 'usd' ? nano : 1,
          });
        }
      }

      const usdLimited = lines.some((line) => line.dimension === 'usd' && line.limit !== undefined);
      const tokenLimited = lines.some((line) => line.dimension === 'tokens' && line.limit !== undefined);
      const prices = pricesFor(context);
      if (usdLimited && !prices) {
        touch('budget_exceeded');
        return refuse(
          'budget_exceeded',
          402,
          `no price is known for "${context.model}", so its cost cannot be reserved against the USD budget; add it under pricing: in the config`,
        );
      }
      const request: ChatRequest = context.request;
      const inputTokens = context.inputTokens;
      let outputCap = request.maxOutputTokens;
      let rewrite: ChatRequest | undefined;
      let current: number[] | undefined;
      if (outputCap === undefined && (usdLimited || tokenLimited) && options.clampOutput) {
        // No cap: give the call the output the budgets can still afford, so they cannot be overshot.
        try {
          current = await store.read(lines.map((line) => line.key));
        } catch (error) {
          if (options.failOpen) {
            logger.warn('killswitch store unreachable; letting the call through (failOpen)', {
              error: String(error),
            });
            return undefined;
          }
          touch('state_unavailable');
          return refuse(
            'state_unavailable',
            503,
            'the killswitch cannot reach its store, so it cannot account this call (fail-closed)',
          );
        }
        let affordable = prices?.maxOutput ?? Number.POSITIVE_INFINITY;
        lines.forEach((line, index) => {
          if (line.limit === undefined) return;
          const remaining = line.limit - (current?.[index] ?? 0);
          if (line.dimension === 'usd' && prices) {
            const remainingUsd = remaining / nano - (inputTokens * prices.input) / 1e6;
            affordable = Math.min(affordable, Math.floor((remainingUsd * 1e6) / prices.output));
          }
          if (line.dimension === 'tokens') affordable = Math.min(affordable, remaining - inputTokens);
        });
        if (!Number.isFinite(affordable) || affordable < options.minOutputTokens) {
          touch('budget_exceeded');
          alert({ type: 'denial', code: 'budget_exceeded', session: sessionKey });
          return refuse(
            'budget_exceeded',
            402,
            `the budget cannot afford even ${options.minOutputTokens} output tokens for this request`,
          );
        }
        outputCap = affordable;
        rewrite = { ...request, maxOutputTokens: outputCap };
      }
      const worstOutput = outputCap ?? prices?.maxOutput ?? 0;
      const reservedUsd = prices ? (inputTokens * prices.input + worstOutput * prices.output) / 1e6 : 0;
      const changes: CounterChange[] = [];
      const reservation: Reservation = {
        changes,
        usdIndexes: [],
        tokenIndexes: [],
        requestIndexes: [],
        reservedUsd,
        reservedOutputTokens: worstOutput,
        sessionKey,
      };
      for (const line of lines) {
        const amount =
          line.dimension === 'usd'
            ? toNano(reservedUsd)
            : line.dimension === 'tokens'
              ? inputTokens + worstOutput
              : 1;
        const index =
          changes.push({
            key: line.key,
            amount,
            ...(line.limit !== undefined && Number.isFinite(line.limit) ? { limit: line.limit } : {}),
            ...(line.ttlMs ? { ttlMs: line.ttlMs } : {}),
          }) - 1;
        reservation[
          line.dimension === 'usd'
            ? 'usdIndexes'
            : line.dimension === 'tokens'
              ? 'tokenIndexes'
              : 'requestIndexes'
        ].push(index);
      }
      let outcome: Awaited<ReturnType<KillswitchStore['reserve']>>;
      try {
        outcome = await store.reserve(changes);
      } catch (error) {
        if (options.failOpen) {
          logger.warn('killswitch store unreachable; letting the call through (failOpen)', {
            error: String(error),
          });
          return undefined;
        }
        touch('state_unavailable');
        alert({ type: 'denial', code: 'state_unavailable', session: sessionKey });
        return refuse(
          'state_unavailable',
          503,
          'the killswitch cannot reach its store, so it cannot account this call (fail-closed)',
        );
      }
      if (!outcome.ok) {
        const failed = outcome;
        const line = lines.find((candidate) => candidate.key === failed.key);
        const steps = line?.dimension === 'requests' && line.key.startsWith('session:');
        const code = steps ? 'max_steps_exceeded' : 'budget_exceeded';
        const divisor = line?.dimension === 'usd' ? nano : 1;
        const unit = line?.dimension === 'usd' ? 'USD' : (line?.dimension ?? '');
        touch(code);
        alert({ type: 'denial', code, session: sessionKey, key: failed.key });
        return refuse(
          code,
          402,
          steps
            ? `the session has made its ${failed.limit} allowed calls`
            : `${line?.label ?? 'budget'} cannot cover this call: ${(failed.current / divisor).toFixed(6)} of ${(failed.limit / divisor).toFixed(6)} ${unit} used, the call may cost up to ${line?.dimension === 'usd' ? reservedUsd.toFixed(6) : changes.find((change) => change.key === failed.key)?.amount} ${unit}`,
          sessionHeaders(lines, changes, outcome),
        );
      }
      context.state.set(reservationKey, reservation);
      inFlight.add(context);
      touch('allowed');
      for (const [name, value] of Object.entries(sessionHeaders(lines, changes, outcome)))
        context.setResponseHeader(name, value);
      return rewrite ? { action: 'rewrite', request: rewrite } : undefined;
    },

    onStreamEvent(context, _event, progress) {
      const reservation = context.state.get(reservationKey) as Reservation | undefined;
      if (!reservation) return undefined;
      if (
        progress.costUsd !== undefined &&
        reservation.reservedUsd > 0 &&
        progress.costUsd > reservation.reservedUsd
      ) {
        return {
          action: 'cut',
          code: 'budget_exceeded',
          status: 402,
          message: `the call spent its reserved $${reservation.reservedUsd.toFixed(6)}`,
        };
      }
      if (
        reservation.reservedOutputTokens > 0 &&
        progress.outputTokens > reservation.reservedOutputTokens * 1.05 + 16
      ) {
        return {
          action: 'cut',
          code: 'budget_exceeded',
          status: 402,
          message: 'the call streamed past its reserved output tokens',
        };
      }
      return undefined;
    },

    onResponse: (context, outcome) => settle(context, outcome.usage, outcome.costUsd, 'completed'),
    onAbort(context, outcome) {
      if (outcome.reason === 'cut') {
        recordEvent({
          kind: 'cut',
          at: now(),
          session: scopeId('session', context),
          ...(outcome.code ? { code: outcome.code } : {}),
          message: `cut after ${outcome.usage.outputTokens} output tokens`,
          requestId: context.requestId,
          plugin: 'killswitch',
        });
      }
      return settle(context, outcome.usage, outcome.costUsd, outcome.reason === 'cut' ? 'cut' : 'aborted');
    },
    async onError(context, error) {
      if (error.code.startsWith('PROXY_') && !error.code.includes('CLIENT'))
        loops?.recordError(scopeId('session', context), now());
      await settle(context, undefined, undefined, 'failed');
    },

    async kill(target, reason) {
      await store.setKill(target, true, reason);
      applyKill(target, true, reason);
      alert({ type: 'kill', target, ...(reason ? { reason } : {}) });
    },
    async revive(target) {
      await store.setKill(target, false);
      applyKill(target, false);
      if (target.scope === 'session') loops?.reset(target.id);
      if (target.scope === 'all') loops?.reset();
    },
    async kills() {
      return [...killed.values()];
    },
    async sessions() {
      const ids = [...sessions.keys()];
      const values = await store.read(
        ids.flatMap((id) => [`session:${id}:usd:total`, `session:${id}:requests:total`]),
      );
      return ids.map((id, index) => {
        const seen = sessions.get(id) as { lastDecision?: string; lastSeen: number };
        return {
          session: id,
          spendUsd: (values[index * 2] ?? 0) / nano,
          steps: values[index * 2 + 1] ?? 0,
          inFlight: [...inFlight].filter((context) => scopeId('session', context) === id).length,
          killed: killed.has(`session:${id}`) || killed.has('all:*'),
          ...(seen.lastDecision ? { lastDecision: seen.lastDecision } : {}),
          lastSeen: seen.lastSeen,
        };
      });
    },
    async snapshot(): Promise<PluginSnapshot> {
      const recent = [...sessions]
        .sort((first, second) => second[1].lastSeen - first[1].lastSeen)
        .slice(0, snapshotSessionLimit);
      const values = await store.read(
        recent.flatMap(([id]) => [`session:${id}:usd:total`, `session:${id}:requests:total`]),
      );
      const running = new Map<string, number>();
      for (const context of inFlight) {
        const id = scopeId('session', context);
        running.set(id, (running.get(id) ?? 0) + 1);
      }
      return {
        sessions: recent.map(([id, seen], index) => {
          const budget = budgetOfKey.get(`session:${id}:usd:total`);
          const stepCap = budgetOfKey.get(`session:${id}:requests:total`);
          return {
            session: id,
            ...(seen.agent ? { agent: seen.agent } : {}),
            spendUsd: (values[index * 2] ?? 0) / nano,
            ...(budget ? { budgetUsd: budget.limit / nano } : {}),
            steps: values[index * 2 + 1] ?? 0,
            ...(stepCap ? { maxSteps: stepCap.limit } : {}),
            inFlight: running.get(id) ?? 0,
            killed:
              killed.has(`session:${id}`) ||
              killed.has('all:*') ||
              (seen.agent !== undefined && killed.has(`agent:${seen.agent}`)),
            ...(seen.lastDecision ? { lastDecision: seen.lastDecision } : {}),
            lastSeen: seen.lastSeen,
          };
        }),
        events: [...events],
      };
    },
    async spend(by) {
      const groups = new Map<
        string,
        { key: string; usd: number; calls: number; inputTokens: number; outputTokens: number }
      >();
      for (const entry of await store.ledger()) {
        const key =
          (by === 'session'
            ? entry.sessionId
            : by === 'agent'
              ? entry.agent
              : by === 'key'
                ? entry.clientKey
                : entry.model) ?? '(none)';
        const group = groups.get(key) ?? { key, usd: 0, calls: 0, inputTokens: 0, outputTokens: 0 };
        group.usd += entry.costUsd;
        group.calls += 1;
        group.inputTokens += entry.inputTokens;
        group.outputTokens += entry.outputTokens;
        groups.set(key, group);
      }
      return [...groups.values()].sort((a, b) => b.usd - a.usd);
    },
    routes: [],
    async close() {
      // Closing the store ends its subscriptions too; unsubscribing first could wait on a dead connection.
      if (host.killswitchStore) await unsubscribe();
      else await store.close();
    },
  };
  (plugin as { routes: GatewayPlugin['routes'] }).routes = adminRoutes(plugin);
  return plugin;

  function sessionHeaders(
    lines: Array<{ key: string; limit?: number }>,
    changes: CounterChange[],
    outcome: Awaited<ReturnType<KillswitchStore['reserve']>>,
  ): Record<string, string> {
    const at = (key: string) => lines.findIndex((line) => line.key === key);
    const sessionKey = lines.find(
      (line) => line.key.startsWith('session:') && line.key.endsWith(':usd:total'),
    )?.key;
    const stepsKey = lines.find(
      (line) => line.key.startsWith('session:') && line.key.endsWith(':requests:total'),
    )?.key;
    if (!sessionKey || !stepsKey) return {};
    const usdIndex = at(sessionKey);
    const stepIndex = at(stepsKey);
    const reservedNano = changes[usdIndex]?.amount ?? 0;
    const after = outcome.ok
      ? (outcome.values[usdIndex] ?? 0)
      : outcome.key === sessionKey
        ? outcome.current
        : Number.NaN;
    const spentNano = outcome.ok ? after - reservedNano : after;
    const limit = lines[usdIndex]?.limit;
    const headers: Record<string, string> = {};
    if (Number.isFinite(spentNano)) headers['x-ballast-session-spend-usd'] = (spentNano / nano).toFixed(6);
    if (limit !== undefined && Number.isFinite(limit) && Number.isFinite(after)) {
      headers['x-ballast-session-remaining-usd'] = (Math.max(0, limit - after) / nano).toFixed(6);
    }
    if (outcome.ok) headers['x-ballast-session-steps'] = String(outcome.values[stepIndex] ?? 0);
    return headers;
  }
}

function adminRoutes(killswitch: Killswitch): NonNullable<GatewayPlugin['routes']> {
  const targetOf = async (request: Request): Promise<KillTarget | Response> => {
    let body: Record<string, unknown>;
    try {
      body = (await request.json()) as Record<string, unknown>;
    } catch {
      return Response.json(
        {
          error: {
            message: 'body must be JSON: {"session": id} | {"agent": name} | {"key": id} | {"all": true}',
            type: 'invalid_request_error',
          },
        },
        { status: 400 },
      );
    }
    if (body.all === true) return { scope: 'all', id: '*' };
    for (const scope of ['session', 'agent', 'key'] as const) {
      if (typeof body[scope] === 'string' && body[scope] !== '') return { scope, id: body[scope] as string };
    }
    return Response.json(
      {
        error: {
          message: 'say what to target: {"session": id} | {"agent": name} | {"key": id} | {"all": true}',
          type: 'invalid_request_error',
        },
      },
      { status: 400 },
    );
  };
  return [
    {
      method: 'POST',
      path: '/admin/kill',
      auth: 'admin',
      async handle(request) {
        const target = await targetOf(request.clone());
        if (target instanceof Response) return target;
        const body = (await request.json().catch(() => ({}))) as { reason?: unknown };
        await killswitch.kill(target, typeof body.reason === 'string' ? body.reason : undefined);
        return Response.json({ killed: target });
      },
    },
    {
      method: 'POST',
      path: '/admin/revive',
      auth: 'admin',
      async handle(request) {
        const target = await targetOf(request);
        if (target instanceof Response) return target;
        await killswitch.revive(target);
        return Response.json({ revived: target });
      },
    },
    {
      method: 'GET',
      path: '/admin/sessions',
      auth: 'admin',
      handle: async () =>
        Response.json({ sessions: await killswitch.sessions(), kills: await killswitch.kills() }),
    },
    {
      method: 'GET',
      path: '/admin/spend',
      auth: 'admin',
      async handle(request) {
        const by = new URL(request.url).searchParams.get('by') ?? 'session';
        if (!['session', 'agent', 'key', 'model'].includes(by)) {
          return Response.json(
            { error: { message: 'by must be session, agent, key or model', type: 'invalid_request_error' } },
            { status: 400 },
          );
        }
        return Response.json({ by, spend: await killswitch.spend(by as 'session') });
      },
    },
  ];
}

/** The plugin factory the proxy calls for `use: "@ballast/killswitch"`. */
export default function createPlugin(
  options: Record<string, unknown>,
  host: PluginHost,
): Promise<Killswitch> {
  return createKillswitch(options, { logger: host.logger, pricing: host.pricing });
}
