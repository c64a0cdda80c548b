/** Who said a turn. */
export type TurnRole = 'system' | 'user' | 'assistant' | 'tool';

/** One turn of a session: a message, with an id every memory item can point back to. */
export interface Turn {
  /** Unique within the session; appending a turn whose id the session has is a no-op. */
  id: string;
  role: TurnRole;
  /** The text of the turn (tool calls and results rendered as text by the caller). */
  content: string;
  /** The speaker's or the tool's name. */
  name?: string;
  /** When it was said: epoch milliseconds or an ISO 8601 string. */
  timestamp?: number | string;
}

/** What a memory item records. */
export type MemoryItemKind =
  | 'intent'
  | 'decision'
  | 'constraint'
  | 'open'
  | 'resolved'
  | 'entity'
  | 'fact'
  | 'summary';

/** One piece of the structured state, with the turns it came from. */
export interface MemoryItem {
  kind: MemoryItemKind;
  text: string;
  /** The ids of the turns whose content this item carries. Never empty. */
  sourceTurnIds: string[];
}

/** A message of a built context, ready to send (roles as in the chat APIs). */
export interface ContextMessage {
  role: TurnRole;
  content: string;
  name?: string;
}

/** Token counts of each part of a built context. */
export interface ContextParts {
  /** System prompt and the task as first stated. */
  pinned: number;
  /** Structured state: intent, decisions, constraints, open and resolved items, entities, facts. */
  state: number;
  /** Older turns, compressed (tool outputs cut to head and tail, repeats folded). */
  compressed: number;
  /** Archived turns retrieved for the query. */
  retrieved: number;
  /** The most recent turns, verbatim. */
  recent: number;
}

/** The context built for one call. */
export interface BuiltContext {
  messages: ContextMessage[];
  /** Tokens of `messages` counted with core's tokenizer for the policy's model; never above the budget. */
  tokens: number;
  budgetTokens: number;
  /** Every turn whose content is in the context, verbatim or compressed. */
  sourceTurnIds: string[];
  /** The ids of the turns sent verbatim at the end of `messages`, in order. */
  recentTurnIds: string[];
  /** The state items that made it into the context. */
  items: MemoryItem[];
  parts: ContextParts;
  /**
   * How many leading messages form the compacted prefix (pinned start, state, compressed turns):
   * it changes only at compaction steps, so provider prompt caches keep hitting.
   */
  prefixMessages: number;
  /** A hash of the prefix, to compare between calls. */
  prefixHash: string;
  /** Whether the prefix is the same as in the previous context built for this session. */
  prefixUnchanged: boolean;
  /** Tokens of the whole session replayed as is, for comparison. */
  fullHistoryTokens: number;
}

/** A search hit. */
export interface SearchHit {
  turnId: string;
  score: number;
  /** The turn's most relevant sentences. */
  snippet: string;
  role: TurnRole;
  name?: string;
}

/** How the budget is divided and when the history is compacted. */
export interface MemoryPolicy {
  /** The model whose tokenizer counts the budget. @default 'gpt-4o' */
  model: string;
  /** Share of the budget the verbatim recent tail may grow to before a compaction step. @default 0.4 */
  recentMaxShare: number;
  /** Share of the budget the recent tail is cut back to at a compaction step. @default 0.2 */
  recentMinShare: number;
  /** Share of the budget for the pinned start. @default 0.15 */
  pinnedShare: number;
  /** Share of the budget for the structured state. @default 0.3 */
  stateShare: number;
  /** Share of the budget for compressed older turns. @default 0.1 */
  compressedShare: number;
  /** A tool output longer than this many tokens is cut to its head and tail with a pointer. @default 200 */
  toolOutputMaxTokens: number;
  /** Turns at least this long that repeat an earlier turn are folded into it. @default 0.9 */
  repeatSimilarity: number;
}

/** A summariser: turns in, memory items out (each with the ids of the turns it used). */
export type Summarize = (turns: readonly Turn[]) => Promise<MemoryItem[]> | MemoryItem[];

/** Statistics of one session. */
export interface SessionStats {
  turns: number;
  contextsBuilt: number;
  /** Contexts whose prefix equalled the previous context's. */
  prefixUnchanged: number;
  /** `prefixUnchanged / (contextsBuilt - 1)`, or 1 before the second context. */
  prefixUnchangedShare: number;
  /** Compaction steps so far. */
  compactions: number;
  /** Summaries that failed (their turns stayed as they were). */
  failedSummaries: number;
}
