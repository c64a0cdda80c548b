/**
 * Model prices, model-name resolution, and the cost of a call (after the fact, from its usage)
 * or of a request (before it is sent, at worst).
 */
import type { ChatRequest, ContentPart, Usage } from './chat.js';
import { BallastError } from './errors.js';
import { countRequestTokens, type TokenCountOptions } from './tokens.js';

/** What a model costs, in USD per million tokens, and its limits. */
export interface ModelPrice {
  /** Uncached input. */
  input: number;
  /** Output, including hidden reasoning. */
  output: number;
  /** Input read from the prompt cache. @default input */
  cachedInput?: number;
  /** Input written to the prompt cache (Anthropic: 1.25 × input for the 5-minute cache). @default input */
  cacheWrite?: number;
  /** The largest output the model produces in one call. */
  maxOutputTokens?: number;
  /** Input plus output tokens the model accepts. */
  contextWindow?: number;
}

/** Prices by model name. */
export type PricingTable = Readonly<Record<string, Readonly<ModelPrice>>>;

/** The largest cost a request can incur. */
export interface WorstCaseCost {
  /** Dollars, if every input token is billed uncached and the whole output budget is spent. */
  usd: number;
  /** Counted input tokens (see {@link countRequestTokens}). */
  inputTokens: number;
  /** The request's output cap, or the model's when the request has none. */
  outputTokens: number;
}

/** A pricing table with the functions that read it. */
export interface Pricing {
  /** The merged table: built-in prices with the overrides applied. */
  readonly table: PricingTable;
  /**
   * The price of a model, resolved as {@link priceOf} does.
   * @param model the model name as the client sent it
   * @returns the model's price
   * @throws {BallastError} `CORE_UNKNOWN_MODEL`
   */
  priceOf(model: string): Readonly<ModelPrice>;
  /**
   * The cost of a finished call, as {@link costOf}.
   * @param model the model that served the call
   * @param usage the call's usage
   * @returns dollars
   * @throws {BallastError} `CORE_UNKNOWN_MODEL`, `CORE_INVALID_USAGE`
   */
  costOf(model: string, usage: Usage): number;
  /**
   * The largest cost of a request, as {@link worstCaseCost}.
   * @param request the neutral request
   * @param options estimate factors for models whose tokenizer Ballast does not ship
   * @returns dollars, input tokens and output tokens
   * @throws {BallastError} `CORE_UNKNOWN_MODEL`, `CORE_UNKNOWN_MAX_OUTPUT`
   */
  worstCaseCost(request: ChatRequest, options?: TokenCountOptions): WorstCaseCost;
}

/** An Anthropic price: cache reads at 0.1 × input, 5-minute cache writes at 1.25 × input, 200k context. */
function anthropicPrice(input: number, output: number, maxOutputTokens: number): ModelPrice {
  return {
    input,
    cachedInput: input / 10,
    cacheWrite: input * 1.25,
    output,
    maxOutputTokens,
    contextWindow: 200_000,
  };
}

/**
 * Built-in list prices in USD per million tokens: standard tier (not batch, not priority, not
 * the >200k-token long-context tier), with Anthropic's 5-minute cache write at 1.25 × input.
 *
 * The providers' published list prices as last known to us (late 2025; OpenAI, Anthropic,
 * Google AI for developers), entered 2026-11-24 without a fresh check because the build machine
 * has no web access: verify before relying on them. Prices change: the `pricing:` section of the Ballast config overrides any
 * entry or adds models (see {@link createPricing}).
 *
 * `gpt-4o-2024-05-13` is listed because it costs more than the `gpt-4o` alias; other dated
 * snapshots resolve to their alias.
 */
export const defaultPricing: PricingTable = deepFreeze({
  // OpenAI
  'gpt-5': { input: 1.25, cachedInput: 0.125, output: 10, maxOutputTokens: 128_000, contextWindow: 400_000 },
  'gpt-5-mini': {
    input: 0.25,
    cachedInput: 0.025,
    output: 2,
    maxOutputTokens: 128_000,
    contextWindow: 400_000,
  },
  'gpt-5-nano': {
    input: 0.05,
    cachedInput: 0.005,
    output: 0.4,
    maxOutputTokens: 128_000,
    contextWindow: 400_000,
  },
  'gpt-4.1': { input: 2, cachedInput: 0.5, output: 8, maxOutputTokens: 32_768, contextWindow: 1_047_576 },
  'gpt-4.1-mini': {
    input: 0.4,
    cachedInput: 0.1,
    output: 1.6,
    maxOutputTokens: 32_768,
    contextWindow: 1_047_576,
  },
  'gpt-4.1-nano': {
    input: 0.1,
    cachedInput: 0.025,
    output: 0.4,
    maxOutputTokens: 32_768,
    contextWindow: 1_047_576,
  },
  'gpt-4o': { input: 2.5, cachedInput: 1.25, output: 10, maxOutputTokens: 16_384, contextWindow: 128_000 },
  'gpt-4o-2024-05-13': { input: 5, output: 15, maxOutputTokens: 4_096, contextWindow: 128_000 },
  'gpt-4o-mini': {
    input: 0.15,
    cachedInput: 0.075,
    output: 0.6,
    maxOutputTokens: 16_384,
    contextWindow: 128_000,
  },
  o1: { input: 15, cachedInput: 7.5, output: 60, maxOutputTokens: 100_000, contextWindow: 200_000 },
  o3: { input: 2, cachedInput: 0.5, output: 8, maxOutputTokens: 100_000, contextWindow: 200_000 },
  'o3-mini': { input: 1.1, cachedInput: 0.55, output: 4.4, maxOutputTokens: 100_000, contextWindow: 200_000 },
  'o4-mini': {
    input: 1.1,
    cachedInput: 0.275,
    output: 4.4,
    maxOutputTokens: 100_000,
    contextWindow: 200_000,
  },
  'gpt-4-turbo': { input: 10, output: 30, maxOutputTokens: 4_096, contextWindow: 128_000 },
  'gpt-3.5-turbo': { input: 0.5, output: 1.5, maxOutputTokens: 4_096, contextWindow: 16_385 },

  // Anthropic: cache reads at 0.1 x input, 5-minute cache writes at 1.25 x input (claude-3-haiku rounds both)
  'claude-opus-4-5': anthropicPrice(5, 25, 64_000),
  'claude-opus-4-1': anthropicPrice(15, 75, 32_000),
  'claude-opus-4': anthropicPrice(15, 75, 32_000),
  'claude-opus-4-0': anthropicPrice(15, 75, 32_000),
  'claude-sonnet-4-5': anthropicPrice(3, 15, 64_000),
  'claude-sonnet-4': anthropicPrice(3, 15, 64_000),
  'claude-sonnet-4-0': anthropicPrice(3, 15, 64_000),
  'claude-3-7-sonnet': anthropicPrice(3, 15, 64_000),
  'claude-haiku-4-5': anthropicPrice(1, 5, 64_000),
  'claude-3-5-haiku': anthropicPrice(0.8, 4, 8_192),
  'claude-3-haiku': { ...anthropicPrice(0.25, 1.25, 4_096), cachedInput: 0.03, cacheWrite: 0.3 },

  // Google (prompts up to 200k tokens for 2.5 Pro)
  'gemini-2.5-pro': {
    input: 1.25,
    cachedInput: 0.125,
    output: 10,
    maxOutputTokens: 65_536,
    contextWindow: 1_048_576,
  },
  'gemini-2.5-flash': {
    input: 0.3,
    cachedInput: 0.03,
    output: 2.5,
    maxOutputTokens: 65_536,
    contextWindow: 1_048_576,
  },
  'gemini-2.5-flash-lite': {
    input: 0.1,
    cachedInput: 0.01,
    output: 0.4,
    maxOutputTokens: 65_536,
    contextWindow: 1_048_576,
  },
  'gemini-2.0-flash': {
    input: 0.1,
    cachedInput: 0.025,
    output: 0.4,
    maxOutputTokens: 8_192,
    contextWindow: 1_048_576,
  },
});

const providerPrefixes = ['openai/', 'anthropic/', 'google/', 'models/'];
// `-2024-08-06`, `-20250929`, `@20250929` (Vertex AI) and `-latest`. Four-digit suffixes
// (`gpt-3.5-turbo-1106`) are not stripped: those snapshots were priced differently.
const snapshotSuffix = /(?:-\d{4}-\d{2}-\d{2}|[-@]\d{8}|-latest)$/;
const priceFields = ['input', 'output', 'cachedInput', 'cacheWrite'] as const;
const limitFields = ['maxOutputTokens', 'contextWindow'] as const;
const knownFields: ReadonlySet<string> = new Set<string>([...priceFields, ...limitFields]);

function deepFreeze(table: Record<string, ModelPrice>): PricingTable {
  for (const price of Object.values(table)) Object.freeze(price);
  return Object.freeze(table);
}

function stripProviderPrefix(model: string): string {
  let name = model;
  for (let changed = true; changed; ) {
    changed = false;
    for (const prefix of providerPrefixes) {
      if (name.startsWith(prefix)) {
        name = name.slice(prefix.length);
        changed = true;
      }
    }
  }
  return name;
}

function lookup(model: string, table: PricingTable): Readonly<ModelPrice> | undefined {
  if (Object.hasOwn(table, model)) return table[model];
  const unprefixed = stripProviderPrefix(model);
  if (unprefixed !== model && Object.hasOwn(table, unprefixed)) return table[unprefixed];
  const unversioned = unprefixed.replace(snapshotSuffix, '');
  if (unversioned !== unprefixed && Object.hasOwn(table, unversioned)) return table[unversioned];
  return undefined;
}

function unknownModel(model: string): BallastError {
  return new BallastError(
    'CORE_UNKNOWN_MODEL',
    `No price is known for model "${model}". Add it under \`pricing:\` in the Ballast config, ` +
      `e.g. pricing: { "${model}": { input: 1.0, output: 4.0 } } in USD per million tokens.`,
    { details: { model } },
  );
}

/**
 * Finds a model's price: by exact name; else without a provider prefix (`openai/`,
 * `anthropic/`, `google/`, `models/`); else also without a dated snapshot suffix
 * (`-2024-08-06`, `-20250929`) or `-latest`. Never by a looser prefix: `gpt-4o-mini` is not
 * `gpt-4o`.
 *
 * @param model the model name as the client sent it
 * @param table the prices to search @default defaultPricing
 * @returns the model's price
 * @throws {BallastError} `CORE_UNKNOWN_MODEL` naming the model, when no entry matches
 * @example
 * ```ts
 * priceOf('anthropic/claude-sonnet-4-5-20250929').input; // 3
 * ```
 */
export function priceOf(model: string, table: PricingTable = defaultPricing): Readonly<ModelPrice> {
  const price = lookup(model, table);
  if (price === undefined) throw unknownModel(model);
  return price;
}

function invalidPricing(model: string, field: string, problem: string): BallastError {
  return new BallastError(
    'CORE_INVALID_PRICING',
    `The price of model "${model}" in \`pricing:\` ${problem} (field \`${field}\`).`,
    { details: { model, field } },
  );
}

function validateOverride(model: string, override: Partial<ModelPrice>, isNew: boolean): void {
  if (typeof override !== 'object' || override === null) {
    throw invalidPricing(model, '(entry)', 'must be an object of prices');
  }
  for (const field of Object.keys(override)) {
    if (!knownFields.has(field)) {
      throw invalidPricing(
        model,
        field,
        `has an unknown field; expected one of ${[...knownFields].join(', ')}`,
      );
    }
  }
  for (const field of priceFields) {
    const value = override[field];
    if (value === undefined) {
      if (isNew && (field === 'input' || field === 'output')) {
        throw invalidPricing(model, field, 'is missing a required field: a new model needs input and output');
      }
      continue;
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw invalidPricing(
        model,
        field,
        `must be a finite number of USD per million tokens, 0 or more, got ${value}`,
      );
    }
  }
  for (const field of limitFields) {
    const value = override[field];
    if (value !== undefined && (!Number.isSafeInteger(value) || value <= 0)) {
      throw invalidPricing(model, field, `must be a whole number of tokens above 0, got ${value}`);
    }
  }
}

function cacheControlTtl(parts: readonly ContentPart[]): '5m' | '1h' | undefined {
  let ttl: '5m' | '1h' | undefined;
  for (const part of parts) {
    if (part.type === 'reasoning') continue;
    if (part.cacheControl !== undefined) {
      if (part.cacheControl.ttl === '1h') return '1h';
      ttl = '5m';
    }
    if (part.type === 'tool-result' && cacheControlTtl(part.content) === '1h') return '1h';
  }
  return ttl;
}

// The longest cache-write TTL the request asks for: writing to the cache can cost more than
// plain input, so a worst case must assume every input token is written.
function requestedCacheTtl(request: ChatRequest): '5m' | '1h' | undefined {
  let ttl: '5m' | '1h' | undefined;
  const consider = (found: '5m' | '1h' | undefined): void => {
    if (found === '1h' || (found === '5m' && ttl === undefined)) ttl = found;
  };
  if (request.system !== undefined) consider(cacheControlTtl(request.system));
  for (const message of request.messages) consider(cacheControlTtl(message.content));
  for (const tool of request.tools ?? []) {
    if (tool.cacheControl !== undefined) consider(tool.cacheControl.ttl === '1h' ? '1h' : '5m');
  }
  return ttl;
}

function checkCount(name: string, value: number | undefined): number {
  if (value === undefined) return 0;
  if (!Number.isFinite(value) || value < 0) {
    throw new BallastError(
      'CORE_INVALID_USAGE',
      `Usage field \`${name}\` must be a count of 0 or more, got ${value}.`,
      {
        details: { field: name, value },
      },
    );
  }
  return value;
}

function costWith(price: Readonly<ModelPrice>, model: string, usage: Usage): number {
  const input = checkCount('inputTokens', usage.inputTokens);
  const output = checkCount('outputTokens', usage.outputTokens);
  const cached = checkCount('cachedInputTokens', usage.cachedInputTokens);
  const written = checkCount('cacheWriteTokens', usage.cacheWriteTokens);
  const uncached = input - cached - written;
  if (uncached < 0) {
    throw new BallastError(
      'CORE_INVALID_USAGE',
      `Usage of model "${model}" has more cached (${cached}) and cache-written (${written}) tokens than input tokens (${input}); inputTokens must include both.`,
      { details: { model, inputTokens: input, cachedInputTokens: cached, cacheWriteTokens: written } },
    );
  }
  // Reasoning tokens are part of outputTokens: they are not added again.
  return (
    (uncached * price.input +
      cached * (price.cachedInput ?? price.input) +
      written * (price.cacheWrite ?? price.input) +
      output * price.output) /
    1e6
  );
}

function worstCaseWith(
  price: Readonly<ModelPrice>,
  request: ChatRequest,
  options: TokenCountOptions | undefined,
): WorstCaseCost {
  const outputTokens = request.maxOutputTokens ?? price.maxOutputTokens;
  if (outputTokens === undefined) {
    throw new BallastError(
      'CORE_UNKNOWN_MAX_OUTPUT',
      `Neither the request nor the price table gives a maximum output for model "${request.model}": ` +
        'set maxOutputTokens on the request, or maxOutputTokens for the model under `pricing:` in the Ballast config.',
      { details: { model: request.model } },
    );
  }
  const inputTokens = countRequestTokens(request, options).tokens;
  let inputPrice = price.input;
  const ttl = price.cacheWrite === undefined ? undefined : requestedCacheTtl(request);
  // Anthropic bills 5-minute cache writes at `cacheWrite` and 1-hour writes at 2 × input.
  if (ttl === '5m') inputPrice = Math.max(inputPrice, price.cacheWrite ?? inputPrice);
  if (ttl === '1h') inputPrice = Math.max(inputPrice, price.cacheWrite ?? inputPrice, 2 * price.input);
  return { usd: (inputTokens * inputPrice + outputTokens * price.output) / 1e6, inputTokens, outputTokens };
}

/**
 * Builds a pricing table from the built-in prices and the config's `pricing:` overrides.
 *
 * An override of a known model (resolved as {@link priceOf} does, so `openai/gpt-4o` overrides
 * from `gpt-4o`) may give only some fields; a new model must give `input` and `output`.
 *
 * @param overrides prices by model name, USD per million tokens
 * @returns the merged table and the functions that read it
 * @throws {BallastError} `CORE_INVALID_PRICING` naming the model and field, when a new model lacks
 *   `input` or `output`, a price is negative or not finite, a limit is not a whole number above 0,
 *   or a field is unknown
 * @example
 * ```ts
 * const pricing = createPricing({ 'gpt-4o': { cachedInput: 1 }, 'my-llama': { input: 0.2, output: 0.2 } });
 * pricing.costOf('my-llama', { inputTokens: 1_000_000, outputTokens: 0 }); // 0.2
 * ```
 */
export function createPricing(overrides: Readonly<Record<string, Partial<ModelPrice>>> = {}): Pricing {
  const merged: Record<string, ModelPrice> = { ...defaultPricing };
  for (const [model, override] of Object.entries(overrides)) {
    const base = lookup(model, defaultPricing);
    validateOverride(model, override, base === undefined);
    merged[model] = { ...base, ...override } as ModelPrice;
  }
  const table = deepFreeze(merged);
  return {
    table,
    priceOf: (model) => priceOf(model, table),
    costOf: (model, usage) => costWith(priceOf(model, table), model, usage),
    worstCaseCost: (request, options) => worstCaseWith(priceOf(request.model, table), request, options),
  };
}

const builtInPricing = createPricing();

/**
 * The cost of a finished call in USD: uncached input at `input`, cache reads at `cachedInput`,
 * cache writes at `cacheWrite` (each falling back to `input`), and output at `output`.
 * Reasoning tokens are already part of `outputTokens` and are not counted twice.
 *
 * @param model the model that served the call
 * @param usage the call's usage; `inputTokens` includes cached and cache-written tokens
 * @param pricing the prices to use @default the built-in prices
 * @returns dollars
 * @throws {BallastError} `CORE_UNKNOWN_MODEL` for a model with no price; `CORE_INVALID_USAGE` for
 *   negative counts or more cached and cache-written tokens than input tokens
 * @example
 * ```ts
 * costOf('gpt-4o', { inputTokens: 1_000_000, outputTokens: 1_000_000 }); // 12.5
 * ```
 */
export function costOf(model: string, usage: Usage, pricing: Pricing = builtInPricing): number {
  return pricing.costOf(model, usage);
}

/**
 * The most a request can cost before it is sent: its counted input (see
 * {@link countRequestTokens}) billed as uncached input, plus its output cap billed as output.
 * When the request marks prompt-cache breakpoints and the model bills cache writes, input is
 * billed at the cache-write price instead (2 × input for a 1-hour TTL), since that is higher.
 * The output cap is the request's `maxOutputTokens`, else the model's.
 *
 * @param request the neutral request
 * @param pricing the prices to use @default the built-in prices
 * @param options estimate factors for models whose tokenizer Ballast does not ship
 * @returns dollars, input tokens and output tokens
 * @throws {BallastError} `CORE_UNKNOWN_MODEL` for a model with no price; `CORE_UNKNOWN_MAX_OUTPUT`
 *   when neither the request nor the table gives a maximum output
 * @example
 * ```ts
 * const { usd } = worstCaseCost({ model: 'gpt-4o', messages, maxOutputTokens: 1000 });
 * ```
 */
export function worstCaseCost(
  request: ChatRequest,
  pricing: Pricing = builtInPricing,
  options?: TokenCountOptions,
): WorstCaseCost {
  return pricing.worstCaseCost(request, options);
}
