import { BallastError, type ChatMessage, countMessageTokens, countTextTokens } from '@ballast/core';
import { type Bm25Index, createBm25Index } from './bm25.js';
import { headAndTail, similarity, snippetFor } from './compress.js';
import { type EntityKind, extractTurnFacts, type TurnFacts } from './extract.js';
import { assertTurns } from './store/memory.js';
import type { MemoryStore } from './store/types.js';
import { contentWords, hashText, terms } from './text.js';
import type {
  BuiltContext,
  ContextMessage,
  MemoryItem,
  MemoryPolicy,
  SearchHit,
  SessionStats,
  Summarize,
  Turn,
} from './types.js';

/** Options of {@link createSessionMemory}. */
export interface SessionMemoryOptions {
  /** Where turns and state live (in-memory, SQLite, Redis). */
  store: MemoryStore;
  /** How the budget is divided and when to compact; every field optional. */
  policy?: Partial<MemoryPolicy>;
  /** An optional summariser run at each compaction step over the turns being archived. */
  summarize?: Summarize;
}

/** Options of {@link SessionMemory.buildContext}. */
export interface BuildContextOptions {
  /** The most tokens the context may take, counted with core's tokenizer for the policy's model. */
  budgetTokens: number;
  /** What to retrieve archived turns for; the latest user turn when absent. */
  query?: string;
}

/** A session memory: see {@link createSessionMemory}. */
export interface SessionMemory {
  /** Appends turns (ids already in the session are skipped). @returns how many were new */
  append(sessionId: string, turns: readonly Turn[]): Promise<{ appended: number; length: number }>;
  /** Builds the context for the next call within `budgetTokens`. */
  buildContext(sessionId: string, options: BuildContextOptions): Promise<BuiltContext>;
  /** The turns that best match a query, best first, with their most relevant sentences. */
  search(sessionId: string, query: string, options?: { limit?: number }): Promise<SearchHit[]>;
  /** The session's statistics (prefix reuse, compactions, failed summaries). */
  stats(sessionId: string): Promise<SessionStats>;
  /** Forgets a session. */
  clear(sessionId: string): Promise<boolean>;
  /** Closes the store. */
  close(): Promise<void>;
}

/** The defaults of {@link MemoryPolicy}. */
export const defaultMemoryPolicy: Readonly<MemoryPolicy> = Object.freeze({
  model: 'gpt-4o',
  recentMaxShare: 0.25,
  recentMinShare: 0.12,
  pinnedShare: 0.15,
  stateShare: 0.15,
  compressedShare: 0.05,
  toolOutputMaxTokens: 200,
  repeatSimilarity: 0.9,
});

/** Smallest budget a context can be built in: one short message and its framing. */
const MIN_BUDGET = 32;
/** Words of a retrieved turn's snippet. */
const SNIPPET_WORDS = 20;
/** Share of the space left that retrieval for an implicit query (the latest user turn) may take. */
const IMPLICIT_QUERY_SHARE = 0.35;
/** Words of a retrieved turn's neighbour. */
const NEIGHBOUR_WORDS = 10;
/** Framing tokens per message (OpenAI's count: 3 per message plus the role). */
const FRAMING = 4;
/** Sessions whose derived state is kept in this process. */
const CACHE_SESSIONS = 1000;

interface Analysed {
  turn: Turn;
  index: number;
  tokens: number;
  terms: string[];
  facts: TurnFacts;
  /** The id of an earlier turn this one repeats, if any. */
  repeatOf?: string;
  /** The turn's rarest words, as written: what the digest shows of it. */
  keyphrase?: string;
  keyTokens?: number;
}

interface Prefix {
  boundary: number;
  text: string;
  hash: string;
  items: MemoryItem[];
  sourceTurnIds: string[];
  parts: { pinned: number; state: number; compressed: number };
  /** Turns shown in the compressed section (retrieval skips them). */
  compressedIds: string[];
}

interface PersistedState {
  version: 1;
  prefixes: Record<string, Prefix>;
  summaries: MemoryItem[];
  summarizedThrough: number;
  lastPrefixHash?: string;
  contextsBuilt: number;
  prefixUnchanged: number;
  compactions: number;
  failedSummaries: number;
}

interface Session {
  id: string;
  turns: Analysed[];
  byId: Map<string, number>;
  index: Bm25Index;
  state: PersistedState;
  /** Recent non-repeat turns by term signature, to fold repeats. */
  signatures: Map<string, string>;
}

function invalid(message: string): never {
  throw new BallastError('MEMORY_INVALID_OPTIONS', message);
}

function resolvePolicy(policy: Partial<MemoryPolicy> | undefined): MemoryPolicy {
  const merged = { ...defaultMemoryPolicy, ...policy };
  for (const key of Object.keys(merged) as Array<keyof MemoryPolicy>) {
    if (!(key in defaultMemoryPolicy)) invalid(`policy.${key} is not a policy option`);
    const value = merged[key];
    if (key === 'model') {
      if (typeof value !== 'string' || value === '') invalid('policy.model must be a model name (a string)');
    } else if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      invalid(`policy.${key} must be a number of 0 or more, got ${JSON.stringify(value)}`);
    }
  }
  for (const key of [
    'recentMaxShare',
    'recentMinShare',
    'pinnedShare',
    'stateShare',
    'compressedShare',
    'repeatSimilarity',
  ] as const) {
    if (merged[key] > 1)
      invalid(`policy.${key} is a share of the budget: between 0 and 1, got ${merged[key]}`);
  }
  if (merged.recentMinShare > merged.recentMaxShare) {
    invalid('policy.recentMinShare must not exceed policy.recentMaxShare');
  }
  if (merged.pinnedShare + merged.stateShare + merged.compressedShare + merged.recentMaxShare > 1) {
    invalid(
      'policy shares pinnedShare + stateShare + compressedShare + recentMaxShare must add up to 1 or less',
    );
  }
  return merged;
}

function emptyState(): PersistedState {
  return {
    version: 1,
    prefixes: {},
    summaries: [],
    summarizedThrough: 0,
    contextsBuilt: 0,
    prefixUnchanged: 0,
    compactions: 0,
    failedSummaries: 0,
  };
}

const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const dateLabels = new Map<string | number, string | undefined>();

/** "8 May 2023" for a timestamp (cached: Intl formatting is slow and timestamps repeat). */
function dateLabel(timestamp: Turn['timestamp']): string | undefined {
  if (timestamp === undefined) return undefined;
  if (dateLabels.has(timestamp)) return dateLabels.get(timestamp);
  const when = new Date(timestamp);
  const label = Number.isNaN(when.getTime())
    ? typeof timestamp === 'string'
      ? timestamp
      : undefined
    : `${when.getUTCDate()} ${MONTH_NAMES[when.getUTCMonth()]} ${when.getUTCFullYear()}`;
  if (dateLabels.size > 10_000) dateLabels.clear();
  dateLabels.set(timestamp, label);
  return label;
}

function toChat(messages: readonly ContextMessage[]): ChatMessage[] {
  return messages.map((message) => ({
    role: message.role,
    content: [{ type: 'text', text: message.content }],
    ...(message.name === undefined ? {} : { name: message.name }),
  }));
}

const ENTITY_LABELS: Record<EntityKind, string> = {
  file: 'Files',
  url: 'URLs',
  id: 'IDs',
  date: 'Dates',
  name: 'Names',
};

/**
 * Creates a session memory: each call gets a context of the session within a token budget
 * instead of the whole history. The context holds, in order:
 *
 * 1. a prefix that changes only at compaction steps (so provider prompt caches keep hitting): the
 *    system prompt and the task as first stated, a structured state (intent, decisions,
 *    constraints, open and resolved items, entities, facts, optional summaries), and the last
 *    archived turns compressed;
 * 2. archived turns retrieved (BM25) for the query or the latest user turn, as snippets;
 * 3. the most recent turns, verbatim.
 *
 * No LLM is needed; a `summarize` hook may add items, which are source-checked and budgeted like
 * the rest, and a failed summary changes nothing.
 *
 * @param options the store, the policy, an optional summariser
 * @returns the memory
 * @throws {BallastError} `MEMORY_INVALID_OPTIONS` naming the option that is wrong
 * @example
 * ```ts
 * const memory = createSessionMemory({ store: createInMemoryStore() });
 * await memory.append('s1', [{ id: 't1', role: 'user', content: 'Fix the date parser in src/parse.ts' }]);
 * const context = await memory.buildContext('s1', { budgetTokens: 2000 });
 * context.messages; // send these instead of the whole history
 * ```
 */
export function createSessionMemory(options: SessionMemoryOptions): SessionMemory {
  if (typeof options !== 'object' || options === null || typeof options.store?.append !== 'function') {
    invalid('createSessionMemory needs { store }: a MemoryStore such as createInMemoryStore()');
  }
  if (options.summarize !== undefined && typeof options.summarize !== 'function') {
    invalid('summarize must be a function (turns) => items');
  }
  const policy = resolvePolicy(options.policy);
  const { store, summarize } = options;
  const sessions = new Map<string, Session>();
  const locks = new Map<string, Promise<unknown>>();

  /** Runs work on one session at a time, so its cache never sees two writers. */
  function exclusive<T>(sessionId: string, work: () => Promise<T>): Promise<T> {
    const previous = locks.get(sessionId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    locks.set(sessionId, settled);
    void settled.then(() => {
      if (locks.get(sessionId) === settled) locks.delete(sessionId);
    });
    return next;
  }

  function analyse(session: Session, turn: Turn): void {
    const index = session.turns.length;
    const turnTerms = terms(turn.content);
    const entry: Analysed = {
      turn,
      index,
      // As countMessageTokens counts a message: framing, content, and the name (plus one) if any.
      tokens:
        countTextTokens(turn.content, policy.model) +
        FRAMING +
        (turn.name ? countTextTokens(turn.name, policy.model) + 1 : 0),
      terms: turnTerms,
      facts: extractTurnFacts(turn),
    };
    // Repeats: the same role saying (nearly) the same thing again is folded into the first time.
    if (turnTerms.length >= 8) {
      const signature = `${turn.role}:${[...new Set(turnTerms)].sort().slice(0, 12).join(' ')}`;
      const earlier = session.signatures.get(signature);
      if (earlier !== undefined) {
        const first = session.turns[session.byId.get(earlier) as number];
        if (first && similarity(first.terms, turnTerms) >= policy.repeatSimilarity) entry.repeatOf = earlier;
      } else session.signatures.set(signature, turn.id);
    }
    session.turns.push(entry);
    session.byId.set(turn.id, index);
    // The speaker's name is indexed too: questions often name who said or did something.
    const body = turn.role === 'tool' ? turn.content.slice(0, 4000) : turn.content;
    session.index.add(turn.id, turn.name ? `${turn.name} ${body}` : body);
  }

  async function load(sessionId: string): Promise<Session> {
    let session = sessions.get(sessionId);
    if (!session) {
      const raw = await store.getState(sessionId);
      let state = emptyState();
      if (raw !== undefined) {
        try {
          const parsed = JSON.parse(raw) as PersistedState;
          if (parsed?.version === 1) state = parsed;
        } catch {
          // A state that cannot be read is rebuilt from the turns, which are the truth.
        }
      }
      session = {
        id: sessionId,
        turns: [],
        byId: new Map(),
        index: createBm25Index(),
        state,
        signatures: new Map(),
      };
      if (sessions.size >= CACHE_SESSIONS) sessions.delete(sessions.keys().next().value as string);
      sessions.set(sessionId, session);
    }
    // Another replica (or process) may have appended since: read only what is new.
    const fresh = await store.turns(sessionId, session.turns.length);
    for (const turn of fresh) analyse(session, turn);
    return session;
  }

  async function save(session: Session): Promise<void> {
    await store.setState(session.id, JSON.stringify(session.state));
  }

  /**
   * A turn's digest: its rarest content words in their order (a word is rare when few turns of the
   * session use it), at most eight. "I went to a LGBTQ support group yesterday" gives "LGBTQ support
   * group yesterday": a few tokens that still answer "what did she do, and when".
   */
  function keyphrase(session: Session, entry: Analysed): string {
    if (entry.keyphrase !== undefined) return entry.keyphrase;
    if (entry.turn.role === 'tool') {
      entry.keyphrase = entry.facts.gist.replace(/^[^:]*: /, '');
    } else {
      const size = Math.max(1, session.index.size);
      const words = contentWords(entry.turn.content);
      const rare = words.filter(
        (item) => /\d/.test(item.word) || session.index.documentFrequency(item.term) / size <= 0.03,
      );
      const chosen =
        rare.length >= 2
          ? rare
          : words
              .slice()
              .sort(
                (left, right) =>
                  session.index.documentFrequency(left.term) - session.index.documentFrequency(right.term),
              )
              .slice(0, 3);
      const seen = new Set<string>();
      const kept: string[] = [];
      for (const item of words) {
        if (!chosen.includes(item) || seen.has(item.term)) continue;
        seen.add(item.term);
        kept.push(item.word);
        if (kept.length >= 8) break;
      }
      entry.keyphrase = kept.join(' ');
    }
    entry.keyTokens = countTextTokens(entry.keyphrase, policy.model) + 1;
    return entry.keyphrase;
  }

  /** Digest lines: entries in session order, a line per day and speaker, phrases joined by "; ". */
  function renderDigest(entries: readonly Analysed[], session: Session): string[] {
    const lines: string[] = [];
    let day: string | undefined;
    let speaker: string | undefined;
    let current: string[] = [];
    const flush = (): void => {
      if (current.length > 0) lines.push(`${speaker}: ${current.join('; ')}`);
      current = [];
    };
    for (const entry of [...entries].sort((left, right) => left.index - right.index)) {
      const label = dateLabel(entry.turn.timestamp);
      const who = entry.turn.name ?? entry.turn.role;
      if (label !== undefined && label !== day) {
        flush();
        lines.push(`[${label}]`);
        day = label;
      }
      if (who !== speaker) {
        flush();
        speaker = who;
      }
      const phrase = keyphrase(session, entry);
      if (phrase) current.push(phrase);
    }
    flush();
    return lines;
  }

  /** What a digest entry costs: its phrase and separator, plus a share of its line and day headers. */
  function digestCost(session: Session, entry: Analysed): number {
    keyphrase(session, entry);
    return (entry.keyTokens as number) + 2;
  }

  /** Where the verbatim tail starts for a budget: moves forward only at compaction steps. */
  function boundaryFor(session: Session, budget: number, previous: number): number {
    const turns = session.turns;
    const recentMax = Math.floor(budget * policy.recentMaxShare);
    const recentMin = Math.floor(budget * policy.recentMinShare);
    let tail = 0;
    for (let index = previous; index < turns.length; index += 1) tail += (turns[index] as Analysed).tokens;
    if (tail <= recentMax) return previous;
    // Compaction step: keep the newest turns that fit in the smaller share, at least the last one.
    let boundary = turns.length - 1;
    let kept = (turns[boundary] as Analysed).tokens;
    while (boundary - 1 > previous && kept + (turns[boundary - 1] as Analysed).tokens <= recentMin) {
      boundary -= 1;
      kept += (turns[boundary] as Analysed).tokens;
    }
    // Never start the tail with a tool result whose call would be archived.
    while (boundary > previous + 1 && (turns[boundary] as Analysed).turn.role === 'tool') boundary -= 1;
    return Math.max(boundary, previous);
  }

  function pinnedCount(session: Session): number {
    // The leading system turns and the first user turn: the task as first stated.
    let count = 0;
    while (count < session.turns.length && session.turns[count]?.turn.role === 'system') count += 1;
    if (session.turns[count]?.turn.role === 'user') count += 1;
    return count;
  }

  function buildPrefix(session: Session, boundary: number, budget: number): Prefix {
    const turns = session.turns;
    const items: MemoryItem[] = [];
    const sources = new Set<string>();
    const lines: string[] = [];
    const compressedIds: string[] = [];
    const pinnedEnd = Math.min(pinnedCount(session), boundary);

    // 1. Pinned: system prompt(s) and the task as first stated.
    const pinnedChars = Math.floor(budget * policy.pinnedShare) * 4;
    const systemText = turns
      .slice(0, pinnedEnd)
      .filter((entry) => entry.turn.role === 'system')
      .map((entry) => entry.turn.content)
      .join('\n\n');
    const task = turns.slice(0, pinnedEnd).find((entry) => entry.turn.role === 'user');
    let pinnedText = '';
    if (systemText)
      pinnedText += headAndTail(systemText, Math.floor(pinnedChars * 0.6), turns[0]?.turn.id ?? '');
    if (task) {
      pinnedText += `${pinnedText ? '\n\n' : ''}Task as first stated (turn ${task.turn.id}): ${headAndTail(task.turn.content, Math.floor(pinnedChars * (systemText ? 0.4 : 1)), task.turn.id)}`;
    }
    for (const entry of turns.slice(0, pinnedEnd)) sources.add(entry.turn.id);
    const pinnedTokens = pinnedText ? countTextTokens(pinnedText, policy.model) : 0;

    // 2. Structured state from the archived turns.
    let stateRoom = Math.floor(budget * policy.stateShare);
    const stateLines: string[] = [];
    const add = (kind: MemoryItem['kind'], text: string, ids: string[], tokens?: number): boolean => {
      const cost = tokens ?? countTextTokens(text, policy.model) + 2;
      if (cost > stateRoom) return false;
      stateRoom -= cost;
      items.push({ kind, text, sourceTurnIds: ids });
      for (const id of ids) sources.add(id);
      return true;
    };
    const archived = turns.slice(pinnedEnd, boundary).filter((entry) => entry.repeatOf === undefined);
    const latestUser = [...archived].reverse().find((entry) => entry.turn.role === 'user');
    if (latestUser && latestUser !== task) {
      if (add('intent', `Latest request: ${latestUser.facts.gist}`, [latestUser.turn.id])) {
        stateLines.push(`Intent: ${latestUser.facts.gist}`);
      }
    }
    const byKind = new Map<string, Array<{ text: string; id: string }>>();
    const seenText = new Set<string>();
    for (const entry of archived) {
      for (const item of entry.facts.items) {
        if (seenText.has(item.text)) continue;
        seenText.add(item.text);
        const list = byKind.get(item.kind) ?? [];
        list.push({ text: item.text, id: entry.turn.id });
        byKind.set(item.kind, list);
      }
    }
    const labels: Array<[MemoryItem['kind'], string, number]> = [
      ['constraint', 'Constraints', 8],
      ['decision', 'Decisions', 8],
      ['open', 'Open', 5],
      ['resolved', 'Resolved', 5],
    ];
    for (const [kind, label, limit] of labels) {
      // Newest first when there are too many: later decisions supersede earlier ones.
      const list = (byKind.get(kind) ?? []).slice(-limit);
      const shown: string[] = [];
      for (const item of list) if (add(kind, item.text, [item.id])) shown.push(`- ${item.text}`);
      if (shown.length > 0) stateLines.push(`${label}:`, ...shown);
    }
    // Entities, by kind, first mention as the source; names only when said more than once.
    const entityCounts = new Map<string, { kind: EntityKind; value: string; first: string; count: number }>();
    for (const entry of archived) {
      for (const entity of entry.facts.entities) {
        const key = `${entity.kind}:${entity.value}`;
        const known = entityCounts.get(key);
        if (known) known.count += 1;
        else entityCounts.set(key, { ...entity, first: entry.turn.id, count: 1 });
      }
    }
    const entityLines: string[] = [];
    for (const kind of ['file', 'id', 'url', 'date', 'name'] as const) {
      const list = [...entityCounts.values()]
        .filter((entity) => entity.kind === kind && (kind !== 'name' || entity.count > 1))
        .sort((left, right) => right.count - left.count)
        .slice(0, kind === 'name' ? 8 : 12);
      const shown: string[] = [];
      for (const entity of list)
        if (
          add(
            'entity',
            `${ENTITY_LABELS[kind]}: ${entity.value}`,
            [entity.first],
            countTextTokens(entity.value, policy.model) + 1,
          )
        )
          shown.push(entity.value);
      if (shown.length > 0) entityLines.push(`${ENTITY_LABELS[kind]}: ${shown.join(', ')}`);
    }
    if (entityLines.length > 0) stateLines.push('Entities:', ...entityLines);
    // Summaries from the hook, if any (already source-checked).
    const summaryLines: string[] = [];
    for (const summary of session.state.summaries) {
      if (
        summary.sourceTurnIds.every((id) => (session.byId.get(id) ?? Number.POSITIVE_INFINITY) < boundary)
      ) {
        if (add(summary.kind, summary.text, summary.sourceTurnIds)) summaryLines.push(`- ${summary.text}`);
      }
    }
    if (summaryLines.length > 0) stateLines.push('Summary:', ...summaryLines);
    // Facts: the most salient archived turns' gists, shown in order, grouped by day.
    const compressedStart = compressedFrom(session, boundary, pinnedEnd, budget);
    const candidates = archived
      .filter((entry) => entry.index < compressedStart && entry.facts.salience > 0)
      .sort((left, right) => right.facts.salience - left.facts.salience || right.index - left.index);
    const chosen: Analysed[] = [];
    for (const entry of candidates) {
      if (stateRoom < 6) break;
      const phrase = keyphrase(session, entry);
      if (phrase && add('fact', phrase, [entry.turn.id], digestCost(session, entry))) chosen.push(entry);
    }
    if (chosen.length > 0)
      stateLines.push(
        'Digest of earlier turns (key words, by day and speaker):',
        ...renderDigest(chosen, session),
      );

    // 3. The last archived turns, compressed.
    const compressedLines: string[] = [];
    for (const entry of turns.slice(compressedStart, boundary)) {
      compressedIds.push(entry.turn.id);
      sources.add(entry.turn.id);
      compressedLines.push(compressedLine(entry));
    }

    if (pinnedText) lines.push(pinnedText);
    lines.push(
      `## Session memory (turns before ${turns[boundary]?.turn.id ?? 'now'} compacted; recent turns follow verbatim)`,
    );
    if (stateLines.length > 0) lines.push(stateLines.join('\n'));
    if (compressedLines.length > 0) lines.push(`Earlier turns, compressed:\n${compressedLines.join('\n')}`);
    const text = lines.join('\n\n');
    const stateText = stateLines.join('\n');
    const compressedText = compressedLines.join('\n');
    return {
      boundary,
      text,
      hash: hashText(text),
      items,
      sourceTurnIds: [...sources],
      parts: {
        pinned: pinnedTokens,
        state: stateText ? countTextTokens(stateText, policy.model) : 0,
        compressed: compressedText ? countTextTokens(compressedText, policy.model) : 0,
      },
      compressedIds,
    };
  }

  function compressedLine(entry: Analysed): string {
    const who = entry.turn.name ?? entry.turn.role;
    if (entry.repeatOf !== undefined) return `- ${who} (${entry.turn.id}): repeats turn ${entry.repeatOf}`;
    const maxChars = entry.turn.role === 'tool' ? policy.toolOutputMaxTokens * 4 : 600;
    return `- ${who} (${entry.turn.id}): ${headAndTail(entry.turn.content, maxChars, entry.turn.id)}`;
  }

  /** Where the compressed section starts: as many turns just before the boundary as fit its share. */
  function compressedFrom(session: Session, boundary: number, pinnedEnd: number, budget: number): number {
    let room = Math.floor(budget * policy.compressedShare);
    let start = boundary;
    while (start - 1 >= pinnedEnd) {
      const entry = session.turns[start - 1] as Analysed;
      const cost =
        entry.repeatOf !== undefined
          ? 12
          : Math.min(entry.tokens, (entry.turn.role === 'tool' ? policy.toolOutputMaxTokens : 150) + 12);
      if (cost > room) break;
      room -= cost;
      start -= 1;
    }
    return start;
  }

  async function runSummary(session: Session, from: number, to: number): Promise<void> {
    if (!summarize || to <= from) return;
    const batch = session.turns.slice(from, to).map((entry) => entry.turn);
    const allowed = new Set(batch.map((turn) => turn.id));
    try {
      const result = await summarize(batch);
      if (!Array.isArray(result)) throw new Error('summarize did not return an array of items');
      const checked: MemoryItem[] = [];
      for (const item of result) {
        if (
          typeof item?.text !== 'string' ||
          item.text.trim() === '' ||
          !Array.isArray(item.sourceTurnIds) ||
          item.sourceTurnIds.length === 0 ||
          !item.sourceTurnIds.every((id) => allowed.has(id))
        ) {
          throw new Error('a summary item lacks text or names turns it was not given');
        }
        checked.push({ kind: 'summary', text: item.text.trim(), sourceTurnIds: [...item.sourceTurnIds] });
      }
      session.state.summaries.push(...checked);
      session.state.summarizedThrough = to;
    } catch {
      // The deterministic state stays as it was: a failed summary replaces nothing.
      session.state.failedSummaries += 1;
    }
  }

  async function build(sessionId: string, options: BuildContextOptions): Promise<BuiltContext> {
    const budget = options?.budgetTokens;
    if (typeof budget !== 'number' || !Number.isInteger(budget) || budget < MIN_BUDGET) {
      throw new BallastError(
        'MEMORY_INVALID_BUDGET',
        `budgetTokens must be a whole number of at least ${MIN_BUDGET}, got ${JSON.stringify(budget)}`,
      );
    }
    if (options.query !== undefined && typeof options.query !== 'string') {
      invalid('query must be a string');
    }
    const session = await load(sessionId);
    const turns = session.turns;
    const key = String(budget);
    let prefix = session.state.prefixes[key];
    if (prefix && prefix.boundary > turns.length) prefix = undefined;
    const previous = prefix?.boundary ?? 0;
    const boundary = boundaryFor(session, budget, previous);
    if (!prefix || boundary !== prefix.boundary) {
      if (boundary > 0) {
        if (boundary > previous) {
          session.state.compactions += 1;
          await runSummary(session, session.state.summarizedThrough, boundary);
        }
        prefix = buildPrefix(session, boundary, budget);
      } else {
        prefix = {
          boundary: 0,
          text: '',
          hash: hashText(''),
          items: [],
          sourceTurnIds: [],
          parts: { pinned: 0, state: 0, compressed: 0 },
          compressedIds: [],
        };
      }
      session.state.prefixes[key] = prefix;
    }

    const messages: ContextMessage[] = [];
    if (prefix.text) messages.push({ role: 'system', content: prefix.text });
    const prefixMessages = messages.length;
    const tail: ContextMessage[] = turns.slice(boundary).map((entry) => ({
      role: entry.turn.role,
      content: entry.turn.content,
      ...(entry.turn.name === undefined ? {} : { name: entry.turn.name }),
    }));
    let tailTokens = 0;
    for (const entry of turns.slice(boundary)) tailTokens += entry.tokens;
    const prefixTokens = prefix.text ? countTextTokens(prefix.text, policy.model) + FRAMING : 0;

    // Retrieval: archived turns for the query, as snippets, into the space left.
    // In priority order (the best first); rendered in session order.
    const retrieved: Array<{ entry: Analysed; text: string }> = [];
    // More archived turns, as digest phrases, when the query leaves space.
    const digest: Analysed[] = [];
    let retrievedRoom = budget - prefixTokens - tailTokens - FRAMING - 16;
    if (boundary > 0 && retrievedRoom > 24) {
      const query =
        options.query ?? [...turns].reverse().find((entry) => entry.turn.role === 'user')?.turn.content ?? '';
      const skip = new Set([...prefix.compressedIds]);
      const inState = new Set(
        prefix.items.filter((item) => item.kind === 'fact').flatMap((item) => item.sourceTurnIds),
      );
      const pinnedEnd = Math.min(pinnedCount(session), boundary);
      const hits = query
        ? session.index.search(query, 200, (id) => {
            const index = session.byId.get(id) as number;
            return index < boundary && index >= pinnedEnd && !skip.has(id);
          })
        : [];
      // Lines are costed one by one and written in session order, grouped by day, so a date is
      // paid for once per day rather than once per line.
      const picked: Array<{ entry: Analysed; text: string }> = [];
      const take = (entry: Analysed, text: string): boolean => {
        const cost = countTextTokens(text, policy.model) + 1;
        if (cost > retrievedRoom) return false;
        retrievedRoom -= cost;
        picked.push({ entry, text });
        return true;
      };
      const days = new Set<string>();
      const dayCost = (entry: Analysed): void => {
        const label = dateLabel(entry.turn.timestamp);
        if (label !== undefined && !days.has(label)) {
          days.add(label);
          retrievedRoom -= 6;
        }
      };
      // A hit and its neighbours: an answer often sits in the turn after the one that matches
      // the question's words (measured on LoCoMo: ±1 turn around the top hits finds more evidence
      // per token than more hits).
      const chosen = new Set<string>();
      const offer = (entry: Analysed | undefined, words: number): void => {
        if (!entry || chosen.has(entry.turn.id) || entry.repeatOf !== undefined) return;
        if (entry.index < pinnedEnd || entry.index >= boundary || skip.has(entry.turn.id)) return;
        // Already in the state whole: nothing more to show. Whole means the gist holds the entire
        // turn, not merely that it was not cut: a tool output's gist is its first sentence, often
        // a short header, and the answer sits below it.
        if (inState.has(entry.turn.id) && gistHoldsWholeTurn(entry)) return;
        const who = entry.turn.name ?? entry.turn.role;
        const body =
          entry.turn.role === 'tool'
            ? `(${entry.turn.id}) ${headAndTail(entry.turn.content, policy.toolOutputMaxTokens * 2, entry.turn.id)}`
            : snippetFor(entry.turn.content, query, words);
        const room = retrievedRoom;
        dayCost(entry);
        if (take(entry, `- ${who}: ${body}`)) chosen.add(entry.turn.id);
        else retrievedRoom = room;
      };
      // An explicit query gets all the space left; the latest user turn standing in for one gets a
      // part of it, and the digest of the session gets the rest.
      const reserve =
        options.query === undefined ? Math.floor(retrievedRoom * (1 - IMPLICIT_QUERY_SHARE)) : 0;
      hits.forEach((hit, rank) => {
        if (retrievedRoom - reserve < 12) return;
        const at = session.byId.get(hit.id) as number;
        offer(turns[at], SNIPPET_WORDS);
        offer(turns[at + 1], NEIGHBOUR_WORDS);
        offer(turns[at - 1], NEIGHBOUR_WORDS);
        if (rank < 5) offer(turns[at + 2], NEIGHBOUR_WORDS);
      });
      // Space the query did not use goes to more of the most salient archived turns.
      if (retrievedRoom >= 12) {
        const taken = new Set(picked.map((item) => item.entry.turn.id));
        const extra = turns
          .slice(pinnedEnd, boundary)
          .filter(
            (entry) =>
              !taken.has(entry.turn.id) &&
              !inState.has(entry.turn.id) &&
              !skip.has(entry.turn.id) &&
              entry.repeatOf === undefined &&
              entry.facts.salience > 0,
          )
          .sort((left, right) => right.facts.salience - left.facts.salience || right.index - left.index);
        for (const entry of extra) {
          if (retrievedRoom < 6) break;
          const cost = digestCost(session, entry);
          if (cost > retrievedRoom || !keyphrase(session, entry)) continue;
          retrievedRoom -= cost;
          digest.push(entry);
        }
      }
      retrieved.push(...picked);
    }
    const renderRetrieved = (): string => {
      const lines: string[] = [];
      if (digest.length > 0)
        lines.push(
          'More of the earlier turns (key words, by day and speaker):',
          ...renderDigest(digest, session),
        );
      if (retrieved.length > 0) lines.push('Earlier turns relevant now (retrieved from the session):');
      let day: string | undefined;
      for (const item of [...retrieved].sort((left, right) => left.entry.index - right.entry.index)) {
        const label = dateLabel(item.entry.turn.timestamp);
        if (label !== undefined && label !== day) {
          lines.push(`[${label}]`);
          day = label;
        }
        lines.push(item.text);
      }
      return lines.join('\n');
    };
    let retrievedMessage: ContextMessage | undefined;
    const retrievedCount = (): number => retrieved.length + digest.length;
    if (retrievedCount() > 0) {
      retrievedMessage = { role: 'system', content: renderRetrieved() };
      messages.push(retrievedMessage);
    }
    messages.push(...tail);

    // Fit exactly: the estimate above leaves a margin; the count below is the one that counts.
    let tokens = countMessageTokens(toChat(messages), policy.model).tokens;
    while (tokens > budget && retrievedMessage && retrievedCount() > 0) {
      const share = Math.min(0.5, (tokens - budget) / Math.max(1, tokens));
      // The digest goes first (its least salient end), then the weakest retrieved turns.
      const from = digest.length > 0 ? digest : retrieved;
      const drop = Math.max(1, Math.ceil(from.length * share));
      from.splice(-drop, drop);
      if (retrievedCount() === 0) messages.splice(messages.indexOf(retrievedMessage), 1);
      else retrievedMessage.content = renderRetrieved();
      tokens = countMessageTokens(toChat(messages), policy.model).tokens;
    }
    // Still over: the tail itself is too big (one huge turn). Cut its largest messages to head and tail.
    let tailCuts = 0;
    while (tokens > budget && tailCuts < 20) {
      tailCuts += 1;
      const over = tokens - budget;
      let largest = -1;
      for (let index = prefixMessages; index < messages.length; index += 1) {
        if (
          largest < 0 ||
          (messages[index] as ContextMessage).content.length >
            (messages[largest] as ContextMessage).content.length
        )
          largest = index;
      }
      const message = largest >= 0 ? (messages[largest] as ContextMessage) : undefined;
      if (!message || message.content.length < 80) break;
      const turnId = turns[boundary + (largest - messages.length + tail.length)]?.turn.id ?? 'archive';
      const target = Math.max(40, message.content.length - (over + 24) * 4);
      message.content = headAndTail(message.content, target, turnId);
      tokens = countMessageTokens(toChat(messages), policy.model).tokens;
    }
    // Last resort (a budget smaller than the prefix): cut the prefix too. The cache is lost, not the fit.
    while (tokens > budget && messages[0] && messages[0].content.length > 40) {
      const first = messages[0];
      first.content = headAndTail(
        first.content,
        Math.max(40, Math.floor(first.content.length * 0.6)),
        'archive',
      );
      tokens = countMessageTokens(toChat(messages), policy.model).tokens;
    }
    if (tokens > budget) {
      throw new BallastError(
        'MEMORY_BUDGET_TOO_SMALL',
        `the session's newest turns cannot be fitted into ${budget} tokens even cut down; raise budgetTokens`,
      );
    }

    const state = session.state;
    const hash =
      messages.length > 0 && prefixMessages > 0
        ? hashText((messages[0] as ContextMessage).content)
        : hashText('');
    const unchanged = state.lastPrefixHash === hash;
    if (state.contextsBuilt > 0 && unchanged) state.prefixUnchanged += 1;
    state.contextsBuilt += 1;
    state.lastPrefixHash = hash;
    await save(session);

    const sourceTurnIds = new Set<string>(prefix.sourceTurnIds);
    for (const item of retrieved) sourceTurnIds.add(item.entry.turn.id);
    for (const entry of digest) sourceTurnIds.add(entry.turn.id);
    for (const entry of turns.slice(boundary)) sourceTurnIds.add(entry.turn.id);
    let fullHistoryTokens = 3;
    for (const entry of turns) fullHistoryTokens += entry.tokens;
    const retrievedTokens =
      retrievedMessage && retrievedCount() > 0 ? countTextTokens(retrievedMessage.content, policy.model) : 0;
    return {
      messages,
      tokens,
      budgetTokens: budget,
      sourceTurnIds: [...sourceTurnIds],
      recentTurnIds: turns.slice(boundary).map((entry) => entry.turn.id),
      items: prefix.items.map((item) => ({ ...item, sourceTurnIds: [...item.sourceTurnIds] })),
      parts: {
        ...prefix.parts,
        retrieved: retrievedTokens,
        // Measured after the fit, which may have cut the tail.
        recent: tail.length > 0 ? countMessageTokens(toChat(tail), policy.model).tokens - 3 : 0,
      },
      prefixMessages,
      prefixHash: hash,
      prefixUnchanged: unchanged,
      fullHistoryTokens,
    };
  }

  return {
    async append(sessionId, turns) {
      assertTurns(sessionId, turns);
      return exclusive(sessionId, async () => {
        const result = await store.append(sessionId, turns);
        const session = sessions.get(sessionId);
        if (session) {
          // Read back what is new (ours and any other replica's), in the store's order.
          for (const turn of await store.turns(sessionId, session.turns.length)) analyse(session, turn);
        }
        return result;
      });
    },
    buildContext(sessionId, options) {
      return exclusive(sessionId, () => build(sessionId, options));
    },
    async search(sessionId, query, searchOptions = {}) {
      const limit = searchOptions.limit ?? 10;
      if (typeof query !== 'string') invalid('query must be a string');
      if (!Number.isInteger(limit) || limit < 1)
        invalid(`limit must be a whole number of 1 or more, got ${limit}`);
      return exclusive(sessionId, async () => {
        const session = await load(sessionId);
        return session.index.search(query, limit).map((hit) => {
          const entry = session.turns[session.byId.get(hit.id) as number] as Analysed;
          return {
            turnId: hit.id,
            score: hit.score,
            snippet: snippetFor(entry.turn.content, query, 40),
            role: entry.turn.role,
            ...(entry.turn.name === undefined ? {} : { name: entry.turn.name }),
          };
        });
      });
    },
    stats(sessionId) {
      return exclusive(sessionId, async () => {
        const session = await load(sessionId);
        const state = session.state;
        return {
          turns: session.turns.length,
          contextsBuilt: state.contextsBuilt,
          prefixUnchanged: state.prefixUnchanged,
          prefixUnchangedShare:
            state.contextsBuilt > 1 ? state.prefixUnchanged / (state.contextsBuilt - 1) : 1,
          compactions: state.compactions,
          failedSummaries: state.failedSummaries,
        };
      });
    },
    clear(sessionId) {
      return exclusive(sessionId, async () => {
        sessions.delete(sessionId);
        return store.clear(sessionId);
      });
    },
    close() {
      sessions.clear();
      return store.close();
    },
  };
}

/** Whether a turn's gist is its entire content (uncut, nothing after the first sentence). */
function gistHoldsWholeTurn(entry: Analysed): boolean {
  const gist = entry.facts.gist;
  if (gist.endsWith('…')) return false;
  const content = entry.turn.content.replace(/\s+/g, ' ').trim();
  return gist.replace(/\s+/g, ' ').includes(content);
}
