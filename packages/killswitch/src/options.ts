import { BallastError } from '@ballast/core';
import type { LoopOptions } from './loop-detector.js';
import type { StoreConfig } from './store/types.js';

/** What a budget counts against. */
export type BudgetScope = 'session' | 'agent' | 'key' | 'global';

/** How long a budget's counters last before starting again. */
export type BudgetWindow = 'minute' | 'hour' | 'day' | 'week' | 'month' | 'total';

/** One budget. At least one of `usd`, `tokens`, `requests` is set. */
export interface BudgetConfig {
  scope: BudgetScope;
  usd?: number;
  tokens?: number;
  /** Calls allowed; on a session budget these are its steps (`max_steps_exceeded`). */
  requests?: number;
  /** @default 'total' */
  window: BudgetWindow;
  /** Share of the budget at which the alert webhook is called. @default 0.8 */
  warnAt: number;
}

/** Where alerts go. */
export interface AlertConfig {
  webhook: string;
  /** @default 3 */
  attempts: number;
  /** @default 2000 */
  timeoutMs: number;
}

/** Options of the killswitch plugin and of `guardFetch`. */
export interface KillswitchOptions {
  budgets: BudgetConfig[];
  /** Loop detection; `false` turns it off. */
  loop: Partial<LoopOptions> | false;
  /** @default { type: 'memory' } */
  store: StoreConfig;
  /** When the store is unreachable, let calls through (logged) instead of 503 `state_unavailable`. @default false */
  failOpen: boolean;
  /** Give a request without an output cap one that the tightest USD budget can still afford. @default true */
  clampOutput: boolean;
  /** Below this affordable output, a request without a cap is denied rather than clamped. @default 16 */
  minOutputTokens: number;
  /** Let clients tighten their session caps with `x-ballast-session-budget-usd` / `-max-steps`. @default true */
  allowClientCaps: boolean;
  alerts?: AlertConfig;
}

const scopes: readonly BudgetScope[] = ['session', 'agent', 'key', 'global'];
const windows: readonly BudgetWindow[] = ['minute', 'hour', 'day', 'week', 'month', 'total'];

function invalid(path: string, expected: string, value: unknown): never {
  throw new BallastError(
    'KILLSWITCH_INVALID_OPTIONS',
    `killswitch options ${path}: expected ${expected}, got ${value === undefined ? 'nothing' : JSON.stringify(value)}`,
    { details: { path, expected } },
  );
}

function positive(value: unknown, path: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    invalid(path, 'a number above 0', value);
  return value;
}

/**
 * Validates killswitch options and fills in defaults.
 * @param input options as written in the proxy config or passed to `guardFetch`
 * @returns the full options
 * @throws BallastError `KILLSWITCH_INVALID_OPTIONS` naming the field and what was expected
 */
export function parseKillswitchOptions(input: unknown = {}): KillswitchOptions {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    invalid('(root)', 'a mapping', input);
  const raw = input as Record<string, unknown>;
  const known = [
    'budgets',
    'loop',
    'store',
    'failOpen',
    'clampOutput',
    'minOutputTokens',
    'allowClientCaps',
    'alerts',
  ];
  for (const key of Object.keys(raw))
    if (!known.includes(key)) invalid(key, `one of ${known.join(', ')}`, raw[key]);
  const budgetsInput = raw.budgets ?? [];
  if (!Array.isArray(budgetsInput)) invalid('budgets', 'a list', budgetsInput);
  const budgets = budgetsInput.map((item: unknown, index): BudgetConfig => {
    const path = `budgets[${index}]`;
    if (typeof item !== 'object' || item === null) invalid(path, 'a mapping', item);
    const budget = item as Record<string, unknown>;
    if (!scopes.includes(budget.scope as BudgetScope))
      invalid(`${path}.scope`, scopes.join(' | '), budget.scope);
    const window = (budget.window ?? 'total') as BudgetWindow;
    if (!windows.includes(window)) invalid(`${path}.window`, windows.join(' | '), budget.window);
    const out: BudgetConfig = {
      scope: budget.scope as BudgetScope,
      window,
      warnAt: budget.warnAt === undefined ? 0.8 : (positive(budget.warnAt, `${path}.warnAt`) as number),
    };
    const usd = positive(budget.usd, `${path}.usd`);
    // Counters hold nano-dollars as safe integers.
    if (usd !== undefined && usd * 1e9 > Number.MAX_SAFE_INTEGER)
      invalid(`${path}.usd`, 'at most 9000000', usd);
    const tokens = positive(budget.tokens, `${path}.tokens`);
    const requests = positive(budget.requests, `${path}.requests`);
    if (usd !== undefined) out.usd = usd;
    if (tokens !== undefined) out.tokens = tokens;
    if (requests !== undefined) out.requests = requests;
    if (usd === undefined && tokens === undefined && requests === undefined) {
      invalid(path, 'at least one of usd, tokens, requests', budget);
    }
    return out;
  });
  let store: StoreConfig = { type: 'memory' };
  if (raw.store !== undefined) {
    const candidate = raw.store as Record<string, unknown>;
    if (candidate.type === 'memory') store = { type: 'memory' };
    else if (candidate.type === 'sqlite') {
      if (typeof candidate.path !== 'string' || candidate.path === '')
        invalid('store.path', 'a file path for the SQLite database', candidate.path);
      store = { type: 'sqlite', path: candidate.path };
    } else if (candidate.type === 'redis') {
      if (typeof candidate.url !== 'string' || !candidate.url.startsWith('redis'))
        invalid('store.url', 'a redis:// URL', candidate.url);
      store = {
        type: 'redis',
        url: candidate.url,
        ...(typeof candidate.keyPrefix === 'string' ? { keyPrefix: candidate.keyPrefix } : {}),
      };
    } else invalid('store.type', 'memory | sqlite | redis', candidate.type);
  }
  const loop = raw.loop === false ? false : ((raw.loop ?? {}) as Partial<LoopOptions>);
  const options: KillswitchOptions = {
    budgets,
    loop,
    store,
    failOpen: raw.failOpen === true,
    clampOutput: raw.clampOutput !== false,
    minOutputTokens: positive(raw.minOutputTokens, 'minOutputTokens') ?? 16,
    allowClientCaps: raw.allowClientCaps !== false,
  };
  if (raw.alerts !== undefined) {
    const alerts = raw.alerts as Record<string, unknown>;
    if (typeof alerts.webhook !== 'string' || !/^https?:\/\//.test(alerts.webhook)) {
      invalid('alerts.webhook', 'an http(s) URL', alerts.webhook);
    }
    options.alerts = {
      webhook: alerts.webhook,
      attempts: positive(alerts.attempts, 'alerts.attempts') ?? 3,
      timeoutMs: positive(alerts.timeoutMs, 'alerts.timeoutMs') ?? 2000,
    };
  }
  return options;
}

const windowMs: Record<BudgetWindow, number> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
  month: 31 * 86_400_000,
  total: 0,
};

/**
 * The bucket of a windowed budget at a time, and how long its counter should live.
 * Windows are calendar-aligned in UTC (a day starts at 00:00 UTC; a month on the 1st).
 */
export function windowBucket(window: BudgetWindow, now: number): { bucket: string; ttlMs?: number } {
  if (window === 'total') return { bucket: 'total' };
  const date = new Date(now);
  if (window === 'month') {
    const start = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
    const end = Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
    return {
      bucket: `m${date.getUTCFullYear()}-${date.getUTCMonth() + 1}`,
      ttlMs: end - now + (end - start),
    };
  }
  const size = windowMs[window];
  const index = Math.floor(now / size);
  return { bucket: `${window[0]}${index}`, ttlMs: (index + 1) * size - now + size };
}
