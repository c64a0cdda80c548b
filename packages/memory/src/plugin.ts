import {
  BallastError,
  type ChatMessage,
  type ChatRequest,
  type ContentPart,
  countRequestTokens,
  type GatewayPlugin,
  type Logger,
  type PluginHost,
  type PluginSnapshot,
  type RequestContext,
  type SessionSnapshot,
  silentLogger,
  type TextPart,
} from '@ballast/core';
import { createSessionMemory, type SessionMemory } from './session-memory.js';
import { createMemoryStoreFrom, type MemoryStoreConfig } from './store/index.js';
import { hashText } from './text.js';
import type { MemoryPolicy, Turn } from './types.js';

/** Options of the memory plugin (`plugins: [{ use: "@ballast/memory", options }]`). */
export interface MemoryPluginOptions {
  /** Where sessions live. @default { type: 'memory' } */
  store?: MemoryStoreConfig;
  /** Tokens the rewritten messages may take (the system prompt and tools come on top). @default 8000 */
  budgetTokens?: number;
  /** Memory for every request with `x-ballast-session`; otherwise only with `x-ballast-memory: on`. @default false */
  enabled?: boolean;
  /** The memory policy (shares of the budget, compaction). */
  policy?: Partial<MemoryPolicy>;
}

/** The plugin, with its memory for inspection. */
export interface MemoryPlugin extends GatewayPlugin {
  readonly memory: SessionMemory;
  /**
   * Dashboard data: for the 500 most recently seen sessions, the input tokens sent upstream against
   * what the client's full histories came to, summed over the session's completed calls.
   */
  snapshot(): PluginSnapshot;
}

/** What one call sent, kept on its context until it settles: a denied call sent nothing. */
interface CallTokens {
  sessionId: string;
  full: number;
  sent: number;
}

const callTokensKey = Symbol('ballast.memory.call-tokens');
/** Sessions whose token totals are kept; the least recently seen go first. */
const trackedSessionLimit = 10_000;
const snapshotSessionLimit = 500;

function invalid(path: string, expected: string, value: unknown): never {
  throw new BallastError(
    'MEMORY_INVALID_OPTIONS',
    `memory options ${path}: expected ${expected}, got ${value === undefined ? 'nothing' : JSON.stringify(value)}`,
  );
}

/** A message as the text memory keeps of it: text, tool calls and tool results written out. */
function messageText(message: ChatMessage): string {
  const out: string[] = [];
  for (const part of message.content) out.push(partText(part));
  return out.filter((text) => text !== '').join('\n');
}

function partText(part: ContentPart): string {
  switch (part.type) {
    case 'text':
      return part.text;
    case 'tool-call':
      return `[calls ${part.name}(${part.arguments})]`;
    case 'tool-result':
      return part.content.map((inner) => (inner.type === 'text' ? inner.text : '[image]')).join('\n');
    case 'image':
      return '[image]';
    default:
      return '';
  }
}

/** Replaces a message's text with a cut-down version, keeping its tool structure. */
function withText(message: ChatMessage, text: string): ChatMessage {
  const result = message.content.find((part) => part.type === 'tool-result');
  if (result && result.type === 'tool-result') {
    return { ...message, content: [{ ...result, content: [{ type: 'text', text }] }] };
  }
  const calls = message.content.filter((part) => part.type === 'tool-call');
  return { ...message, content: [{ type: 'text', text }, ...calls] };
}

/**
 * Creates the memory plugin: for a request with `x-ballast-session` (and memory on, by config or
 * `x-ballast-memory: on`), it keeps the session's history server-side and sends upstream the built
 * context instead of the whole history. The client keeps sending its full history; nothing in the
 * agent changes. Answers carry `x-ballast-memory-saved-tokens`.
 * @param options store, budget, when memory is on, policy
 * @param logger where failures are logged
 * @returns the plugin
 * @throws {BallastError} `MEMORY_INVALID_OPTIONS` naming the option that is wrong
 * @example
 * ```yaml
 * plugins:
 *   - use: "@ballast/memory"
 *     options: { enabled: true, budgetTokens: 8000, store: { type: sqlite, path: ./memory.db } }
 * ```
 */
export async function createMemoryPlugin(
  options: MemoryPluginOptions = {},
  logger: Logger = silentLogger,
): Promise<MemoryPlugin> {
  if (typeof options !== 'object' || options === null) invalid('', 'an object', options);
  const known = new Set(['store', 'budgetTokens', 'enabled', 'policy']);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) invalid(key, `one of ${[...known].join(', ')}`, key);
  }
  const budget = options.budgetTokens ?? 8000;
  if (!Number.isInteger(budget) || budget < 256)
    invalid('budgetTokens', 'a whole number of 256 or more', budget);
  if (options.enabled !== undefined && typeof options.enabled !== 'boolean') {
    invalid('enabled', 'true or false', options.enabled);
  }
  const store = await createMemoryStoreFrom(options.store ?? { type: 'memory' });
  const memory = createSessionMemory({ store, ...(options.policy ? { policy: options.policy } : {}) });
  const enabledByDefault = options.enabled ?? false;

  const totals = new Map<string, { tokensSent: number; tokensFullHistory: number; lastSeen: number }>();
  const count = (context: RequestContext): void => {
    const call = context.state.get(callTokensKey) as CallTokens | undefined;
    if (!call) return;
    context.state.delete(callTokensKey);
    const known = totals.get(call.sessionId);
    // Deleted and set again, so that the map stays in order of last use.
    totals.delete(call.sessionId);
    totals.set(call.sessionId, {
      tokensSent: (known?.tokensSent ?? 0) + call.sent,
      tokensFullHistory: (known?.tokensFullHistory ?? 0) + call.full,
      lastSeen: Date.now(),
    });
    if (totals.size > trackedSessionLimit) totals.delete(totals.keys().next().value as string);
  };

  const isOn = (context: RequestContext): boolean => {
    const header = context.headers['x-ballast-memory']?.toLowerCase();
    if (header === 'on' || header === 'true' || header === '1') return true;
    if (header === 'off' || header === 'false' || header === '0') return false;
    return enabledByDefault;
  };

  return {
    name: 'memory',
    memory,
    async onRequest(context) {
      const sessionId = context.sessionId;
      if (!sessionId || !isOn(context)) return undefined;
      const request = context.request;
      // Ids by position and content: the same history resent appends nothing; an edited one is detected.
      const turns: Turn[] = request.messages.map((message, index) => ({
        id: `${index}:${hashText(`${message.role}\u0000${messageText(message)}`)}`,
        role: message.role,
        content: messageText(message),
        ...(message.name === undefined ? {} : { name: message.name }),
      }));
      let { length } = await memory.append(sessionId, turns);
      if (length !== turns.length) {
        // The client's history is not a continuation of ours (edited, or another conversation): start over.
        await memory.clear(sessionId);
        ({ length } = await memory.append(sessionId, turns));
      }
      const full = context.inputTokens;
      const overhead = countRequestTokens({ ...request, messages: [] }).tokens;
      if (full <= budget + overhead) {
        context.state.set(callTokensKey, { sessionId, full, sent: full } satisfies CallTokens);
        context.setResponseHeader('x-ballast-memory-saved-tokens', '0');
        return undefined;
      }
      const built = await memory.buildContext(sessionId, { budgetTokens: budget });
      const byId = new Map(turns.map((turn, index) => [turn.id, index]));
      const memoryParts: TextPart[] = [];
      const tailMessages: ChatMessage[] = [];
      const recentStart = built.messages.length - built.recentTurnIds.length;
      built.messages.forEach((message, index) => {
        if (index < recentStart) {
          memoryParts.push({
            type: 'text',
            text: message.content,
            // The prefix changes only at compaction steps: mark it for Anthropic's prompt cache.
            ...(index < built.prefixMessages ? { cacheControl: { type: 'ephemeral' as const } } : {}),
          });
          return;
        }
        const turnId = built.recentTurnIds[index - recentStart] as string;
        const original = request.messages[byId.get(turnId) as number] as ChatMessage;
        const turn = turns[byId.get(turnId) as number] as Turn;
        tailMessages.push(message.content === turn.content ? original : withText(original, message.content));
      });
      // Providers want the conversation to open with a user turn.
      if (tailMessages[0]?.role !== 'user') {
        tailMessages.unshift({
          role: 'user',
          content: [{ type: 'text', text: '(The earlier conversation is in the session memory above.)' }],
        });
      }
      const rewritten: ChatRequest = {
        ...request,
        system: [...(request.system ?? []), ...memoryParts],
        messages: tailMessages,
      };
      const sent = countRequestTokens(rewritten).tokens;
      context.state.set(callTokensKey, { sessionId, full, sent } satisfies CallTokens);
      context.setResponseHeader('x-ballast-memory-saved-tokens', String(Math.max(0, full - sent)));
      context.setResponseHeader('x-ballast-memory-prefix-unchanged', built.prefixUnchanged ? '1' : '0');
      logger.debug('memory context built', { sessionId, full, sent, turns: length });
      return { action: 'rewrite', request: rewritten };
    },
    onResponse: count,
    onAbort: count,
    snapshot() {
      const recent = [...totals].slice(-snapshotSessionLimit).reverse();
      return {
        sessions: recent.map(
          ([session, tokens]): SessionSnapshot => ({
            session,
            tokensSent: tokens.tokensSent,
            tokensFullHistory: tokens.tokensFullHistory,
            tokensSaved: Math.max(0, tokens.tokensFullHistory - tokens.tokensSent),
            lastSeen: tokens.lastSeen,
          }),
        ),
      };
    },
    async close() {
      await memory.close();
    },
  };
}

/** The plugin factory the proxy calls for `use: "@ballast/memory"`. */
export default function createPlugin(
  options: Record<string, unknown>,
  host: PluginHost,
): Promise<MemoryPlugin> {
  return createMemoryPlugin(options as MemoryPluginOptions, host.logger);
}
