/**
 * LoCoMo bench: feeds each conversation of a LoCoMo file to @ballast/memory turn by turn, builds a
 * context at a token budget after every turn, then asks where each question's evidence went. The
 * same run measures three baselines (full history, recent window, BM25 over raw turns) with the
 * same tokenizer, so every number is read beside its floor and ceiling.
 *
 * The data is CC BY-NC: it is read by path and never copied into the repo.
 *
 * Usage: node --import tsx bench/locomo.ts [--data <locomo-dev.json>] [--budget <tokens>] [--json]
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Turn } from '../src/index.js';
import { createBm25Index, createInMemoryStore, createSessionMemory } from '../src/index.js';
import {
  countTokens,
  MODEL,
  messageTokens,
  parseBenchArgs,
  REPLY_PRIMING_TOKENS,
  recentWindow,
  round1,
  runBench,
} from './shared.js';

const DEFAULT_BUDGET = 2000;
const USAGE =
  'usage: pnpm --filter @ballast/memory bench:locomo -- [--data <locomo-dev.json>] [--budget <tokens>] [--json]';
const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const CATEGORY_NAMES: Readonly<Record<number, string>> = {
  1: 'multi-hop',
  2: 'temporal',
  3: 'open-domain',
  4: 'single-hop',
};

// ---------------------------------------------------------------------------------------------
// Arguments

interface Options {
  data: string;
  budget: number;
  json: boolean;
}

function parseOptions(argv: readonly string[]): Options | 'help' {
  const args = parseBenchArgs(argv, DEFAULT_BUDGET, ['data']);
  if (args === 'help') return 'help';
  return { data: resolveDataPath(args.strings.data), budget: args.budget, json: args.json };
}

function resolveDataPath(given: string | undefined): string {
  if (given === undefined) {
    const dir = process.env.BALLAST_LOCOMO_DIR;
    if (dir !== undefined && dir !== '') return resolve(dir, 'locomo-dev.json');
    return resolve(PACKAGE_DIR, '../../../shared/data/locomo/locomo-dev.json');
  }
  const fromCwd = resolve(process.cwd(), given);
  // `pnpm --filter` runs the script in the package folder; a relative path was typed where pnpm started.
  const initCwd = process.env.INIT_CWD;
  if (!existsSync(fromCwd) && initCwd !== undefined && existsSync(resolve(initCwd, given))) {
    return resolve(initCwd, given);
  }
  return fromCwd;
}

// ---------------------------------------------------------------------------------------------
// Data

interface LocomoTurn {
  speaker: string;
  dia_id: string;
  text: string;
  blip_caption?: string;
}

interface LocomoQuestion {
  question: string;
  answer?: string | number;
  adversarial_answer?: string;
  evidence?: string[];
  category: number;
}

interface LocomoSample {
  sample_id: string;
  conversation: Record<string, unknown>;
  qa: LocomoQuestion[];
}

interface Conversation {
  id: string;
  turns: Turn[];
  sessions: number;
  /** Sessions that have a date but no turns. */
  emptySessions: number;
  questions: Question[];
}

interface Question {
  category: number;
  question: string;
  /** Normalised evidence ids that name turns of the conversation. */
  evidence: string[];
  /** Content words of the gold answer. */
  answerWords: string[];
}

interface DataNotes {
  adversarialSkipped: number;
  /** Evidence ids that were malformed and rewritten ("D:11:26", "D8:6; D9:17"). */
  evidenceNormalised: number;
  /** Evidence ids dropped: not a turn id ("D") or no such turn in the conversation. */
  evidenceDropped: string[];
  /** Questions of categories 1-4 left with no evidence (kept for answer recall only). */
  questionsWithoutEvidence: number;
  /** Questions whose answer has no content word (kept for evidence only). */
  questionsWithoutAnswerWords: number;
  emptySessions: number;
}

function loadConversations(path: string, notes: DataNotes): Conversation[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read ${path} as JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!Array.isArray(raw))
    throw new Error(`${path} is not a LoCoMo file: expected a JSON array of conversations`);
  return raw.map((sample: LocomoSample, index) => {
    if (
      typeof sample?.sample_id !== 'string' ||
      typeof sample.conversation !== 'object' ||
      !Array.isArray(sample.qa)
    ) {
      throw new Error(`${path}[${index}] is not a LoCoMo conversation (sample_id, conversation, qa)`);
    }
    return toConversation(sample, notes);
  });
}

function toConversation(sample: LocomoSample, notes: DataNotes): Conversation {
  const conversation = sample.conversation;
  const speakerA = conversation.speaker_a;
  const sessionNumbers = Object.keys(conversation)
    .map((key) => /^session_(\d+)$/.exec(key)?.[1])
    .filter((number): number is string => number !== undefined)
    .map(Number)
    .sort((left, right) => left - right);
  const datedSessions = Object.keys(conversation).filter((key) => /^session_\d+_date_time$/.test(key));
  const turns: Turn[] = [];
  let emptySessions = 0;
  for (const number of sessionNumbers) {
    const sessionTurns = conversation[`session_${number}`];
    if (!Array.isArray(sessionTurns) || sessionTurns.length === 0) {
      emptySessions += 1;
      continue;
    }
    const dateTime = conversation[`session_${number}_date_time`];
    const timestamp = typeof dateTime === 'string' ? toIsoTimestamp(dateTime) : undefined;
    for (const entry of sessionTurns as LocomoTurn[]) {
      // `query` (an annotator's image-search string) is never read: it leaks answers.
      const caption = entry.blip_caption ? ` [shares an image: ${entry.blip_caption}]` : '';
      const turn: Turn = {
        id: entry.dia_id,
        role: entry.speaker === speakerA ? 'user' : 'assistant',
        content: `${entry.text}${caption}`,
        name: entry.speaker,
      };
      if (timestamp !== undefined) turn.timestamp = timestamp;
      turns.push(turn);
    }
  }
  emptySessions += datedSessions.filter((key) => !(key.replace(/_date_time$/, '') in conversation)).length;
  notes.emptySessions += emptySessions;

  const turnIds = new Set(turns.map((turn) => turn.id));
  const questions: Question[] = [];
  for (const entry of sample.qa) {
    if (!(entry.category in CATEGORY_NAMES)) {
      notes.adversarialSkipped += 1;
      continue;
    }
    const evidence: string[] = [];
    for (const id of normaliseEvidence(entry.evidence ?? [], notes)) {
      if (turnIds.has(id)) evidence.push(id);
      else notes.evidenceDropped.push(`${sample.sample_id}:${id}`);
    }
    if (evidence.length === 0) notes.questionsWithoutEvidence += 1;
    const answerWords = [...new Set(contentWords(String(entry.answer ?? '')))];
    if (answerWords.length === 0) notes.questionsWithoutAnswerWords += 1;
    questions.push({ category: entry.category, question: entry.question, evidence, answerWords });
  }
  return { id: sample.sample_id, turns, sessions: sessionNumbers.length, emptySessions, questions };
}

/** Splits "D8:6; D9:17", rewrites "D:11:26" to "D11:26", drops what is not a turn id ("D"). */
function normaliseEvidence(raw: readonly string[], notes: DataNotes): string[] {
  const ids: string[] = [];
  for (const entry of raw) {
    const parts = String(entry).split(/[;,]/);
    for (const part of parts) {
      const trimmed = part.trim();
      const id = trimmed.replace(/^D:(\d+):(\d+)$/, 'D$1:$2');
      if (parts.length > 1 || id !== trimmed) notes.evidenceNormalised += 1;
      if (/^D\d+:\d+$/.test(id)) ids.push(id);
      else notes.evidenceDropped.push(JSON.stringify(trimmed));
    }
  }
  return [...new Set(ids)];
}

const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];

/** "1:56 pm on 8 May, 2023" → "2023-05-08T13:56:00.000Z" (no zone is given; UTC keeps it stable); else as is. */
function toIsoTimestamp(text: string): string {
  const match = /^(\d{1,2}):(\d{2})\s*([ap]m)\s+on\s+(\d{1,2})\s+([A-Za-z]+),?\s+(\d{4})$/i.exec(text.trim());
  if (!match) return text;
  const [, hourText, minuteText, meridiem, dayText, monthText, yearText] = match as unknown as string[];
  const month = MONTHS.indexOf((monthText as string).toLowerCase());
  if (month < 0) return text;
  const hour = (Number(hourText) % 12) + ((meridiem as string).toLowerCase() === 'pm' ? 12 : 0);
  return new Date(Date.UTC(Number(yearText), month, Number(dayText), hour, Number(minuteText))).toISOString();
}

// ---------------------------------------------------------------------------------------------
// Words and tokens

const ANSWER_STOPWORDS = new Set(
  (
    'a an the and or but of to in on at by for with from into onto about as is are was were be been being ' +
    'it its this that these those he she they them his her hers their theirs him i me my we us our you your ' +
    'do does did has have had not no so than then there here what which who whom when where why how also ' +
    'some any all can could would should will just very s t'
  ).split(' '),
);

/** Lower-cased words, punctuation stripped ("Caroline's" → "caroline"), stopwords dropped. */
function contentWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/['’]s\b/g, '')
    .replace(/['’]/g, '')
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word !== '' && !ANSWER_STOPWORDS.has(word));
}

function percentile(values: readonly number[], share: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(share * sorted.length) - 1))] as number;
}

const round2 = (value: number): number => Math.round(value * 100) / 100;
const pct = (part: number, whole: number): number => (whole === 0 ? 0 : (100 * part) / whole);
const mean = (values: readonly number[]): number =>
  values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;

// ---------------------------------------------------------------------------------------------
// Systems

type SystemName = 'memory' | 'fullHistory' | 'recentWindow' | 'bm25';
const SYSTEMS: readonly SystemName[] = ['memory', 'fullHistory', 'recentWindow', 'bm25'];
const SYSTEM_LABELS: Readonly<Record<SystemName, string>> = {
  memory: '@ballast/memory',
  fullHistory: 'full history',
  recentWindow: 'recent window',
  bm25: 'BM25 raw turns',
};

interface QuestionResult {
  category: number;
  /** Share of evidence in the end-of-conversation context built without a query; undefined without evidence. */
  inContext: number | undefined;
  /** Same, in the context built with the question as the query. */
  retrievable: number | undefined;
  /** Share of the answer's content words in the query context's text; undefined without answer words. */
  answerRecall: number | undefined;
}

interface Tally {
  /** Σ tokens of the contexts built before each turn (no query). */
  contextTokens: number;
  /** Σ full-history tokens before each turn. */
  fullTokens: number;
  /** Every context built, with or without a query. */
  contexts: number;
  withinBudget: number;
  maxContextTokens: number;
  buildMs: number[];
  queryBuildMs: number[];
  /** How many turns the end-of-conversation context (no query) carries, per conversation. */
  endSourceTurns: number[];
  questions: QuestionResult[];
}

function emptyTally(): Tally {
  return {
    contextTokens: 0,
    fullTokens: 0,
    contexts: 0,
    withinBudget: 0,
    maxContextTokens: 0,
    buildMs: [],
    queryBuildMs: [],
    endSourceTurns: [],
    questions: [],
  };
}

function recordContext(tally: Tally, tokens: number, budget: number): void {
  tally.contexts += 1;
  if (tokens <= budget) tally.withinBudget += 1;
  tally.maxContextTokens = Math.max(tally.maxContextTokens, tokens);
}

function shareOf(evidence: readonly string[], present: ReadonlySet<string>): number | undefined {
  if (evidence.length === 0) return undefined;
  return evidence.filter((id) => present.has(id)).length / evidence.length;
}

function answerRecall(
  answerWords: readonly string[],
  text: string | ReadonlySet<string>,
): number | undefined {
  if (answerWords.length === 0) return undefined;
  const words = typeof text === 'string' ? new Set(contentWords(text)) : text;
  return answerWords.filter((word) => words.has(word)).length / answerWords.length;
}

interface ConversationRun {
  id: string;
  turns: number;
  buildP95Ms: number;
  prefixUnchanged: number;
  prefixComparisons: number;
}

interface Checks {
  /** Contexts whose ctx.tokens differed from our recount of ctx.messages. */
  reportedTokensMismatch: number;
  largestReportedTokensGap: number;
  /** Contexts whose ctx.fullHistoryTokens differed from our full-history count. */
  fullHistoryTokensMismatch: number;
  /** Largest ctx.fullHistoryTokens − ours (negative: the library counts fewer). */
  largestFullHistoryGap: number;
  /** Ids in ctx.sourceTurnIds that name no appended turn. */
  unknownSourceTurnIds: number;
}

async function runConversation(
  conversation: Conversation,
  budget: number,
  tallies: Record<SystemName, Tally>,
  appendMs: number[],
  checks: Checks,
): Promise<ConversationRun> {
  const store = createInMemoryStore();
  const memory = createSessionMemory({ store });
  const sessionId = conversation.id;
  const index = createBm25Index();
  const costs: number[] = [];
  const ids = new Set<string>();
  let fullTokens = REPLY_PRIMING_TOKENS;
  const buildMs: number[] = [];
  let endSourceIds = new Set<string>();
  const memoryTally = tallies.memory;

  for (const [position, turn] of conversation.turns.entries()) {
    const appendStart = performance.now();
    await memory.append(sessionId, [turn]);
    appendMs.push(performance.now() - appendStart);
    index.add(turn.id, turn.content);
    ids.add(turn.id);
    const cost = messageTokens(turn);
    costs.push(cost);
    fullTokens += cost;

    const buildStart = performance.now();
    const context = await memory.buildContext(sessionId, { budgetTokens: budget });
    const elapsed = performance.now() - buildStart;
    buildMs.push(elapsed);
    memoryTally.buildMs.push(elapsed);
    const tokens = countTokens(context.messages);
    recordContext(memoryTally, tokens, budget);
    memoryTally.contextTokens += tokens;
    memoryTally.fullTokens += fullTokens;
    checkContext(context, tokens, fullTokens, ids, checks);
    if (position === conversation.turns.length - 1) endSourceIds = new Set(context.sourceTurnIds);

    // Baselines on the same call.
    const full = tallies.fullHistory;
    recordContext(full, fullTokens, budget);
    full.contextTokens += fullTokens;
    full.fullTokens += fullTokens;
    const windowStart = performance.now();
    const window = recentWindow(costs, position + 1, budget);
    const windowMs = performance.now() - windowStart;
    const windowTokens = window.reduce((sum, at) => sum + (costs[at] as number), REPLY_PRIMING_TOKENS);
    for (const name of ['recentWindow', 'bm25'] as const) {
      const tally = tallies[name];
      recordContext(tally, windowTokens, budget);
      tally.contextTokens += windowTokens;
      tally.fullTokens += fullTokens;
      tally.buildMs.push(windowMs);
    }
  }

  const stats = await memory.stats(sessionId);
  const turns = conversation.turns;
  const end = turns.length;
  const endWindow = recentWindow(costs, end, budget);
  const endWindowIds = new Set(endWindow.map((at) => (turns[at] as Turn).id));
  const endWindowWords = new Set(endWindow.flatMap((at) => contentWords((turns[at] as Turn).content)));
  const allWords = new Set(turns.flatMap((turn) => contentWords(turn.content)));
  const allIds = new Set(turns.map((turn) => turn.id));
  const positionOf = new Map(turns.map((turn, at) => [turn.id, at]));
  memoryTally.endSourceTurns.push(endSourceIds.size);
  tallies.fullHistory.endSourceTurns.push(end);
  tallies.recentWindow.endSourceTurns.push(endWindow.length);
  tallies.bm25.endSourceTurns.push(endWindow.length);

  for (const question of conversation.questions) {
    const { category, evidence, answerWords } = question;
    const inContext = shareOf(evidence, endSourceIds);

    const buildStart = performance.now();
    const context = await memory.buildContext(sessionId, { budgetTokens: budget, query: question.question });
    const elapsed = performance.now() - buildStart;
    memoryTally.queryBuildMs.push(elapsed);
    const tokens = countTokens(context.messages);
    recordContext(memoryTally, tokens, budget);
    checkContext(context, tokens, fullTokens, ids, checks);
    memoryTally.questions.push({
      category,
      inContext,
      retrievable: shareOf(evidence, new Set(context.sourceTurnIds)),
      answerRecall: answerRecall(answerWords, context.messages.map((message) => message.content).join('\n')),
    });

    tallies.fullHistory.questions.push({
      category,
      inContext: shareOf(evidence, allIds),
      retrievable: shareOf(evidence, allIds),
      answerRecall: answerRecall(answerWords, allWords),
    });
    const windowRecall = answerRecall(answerWords, endWindowWords);
    const windowShare = shareOf(evidence, endWindowIds);
    tallies.recentWindow.questions.push({
      category,
      inContext: windowShare,
      retrievable: windowShare,
      answerRecall: windowRecall,
    });

    // BM25 over raw turns: the best-scoring whole turns that fit, sent in conversation order.
    const searchStart = performance.now();
    const picked: number[] = [];
    let used = REPLY_PRIMING_TOKENS;
    for (const hit of index.search(question.question, index.size)) {
      const at = positionOf.get(hit.id) as number;
      const cost = costs[at] as number;
      if (used + cost > budget) continue;
      used += cost;
      picked.push(at);
    }
    picked.sort((left, right) => left - right);
    tallies.bm25.queryBuildMs.push(performance.now() - searchStart);
    recordContext(tallies.bm25, used, budget);
    tallies.bm25.questions.push({
      category,
      inContext: windowShare,
      retrievable: shareOf(evidence, new Set(picked.map((at) => (turns[at] as Turn).id))),
      answerRecall: answerRecall(answerWords, picked.map((at) => (turns[at] as Turn).content).join('\n')),
    });
  }
  await store.close();
  return {
    id: conversation.id,
    turns: end,
    buildP95Ms: percentile(buildMs, 0.95),
    prefixUnchanged: stats.prefixUnchanged,
    // Read before the query builds: consecutive contexts of the turn-by-turn feed.
    prefixComparisons: Math.max(0, stats.contextsBuilt - 1),
  };
}

function checkContext(
  context: { tokens: number; fullHistoryTokens: number; sourceTurnIds: readonly string[] },
  recount: number,
  fullTokens: number,
  ids: ReadonlySet<string>,
  checks: Checks,
): void {
  if (context.tokens !== recount) {
    checks.reportedTokensMismatch += 1;
    checks.largestReportedTokensGap = Math.max(
      checks.largestReportedTokensGap,
      Math.abs(context.tokens - recount),
    );
  }
  if (context.fullHistoryTokens !== fullTokens) {
    checks.fullHistoryTokensMismatch += 1;
    const gap = context.fullHistoryTokens - fullTokens;
    if (Math.abs(gap) > Math.abs(checks.largestFullHistoryGap)) checks.largestFullHistoryGap = gap;
  }
  for (const id of context.sourceTurnIds) if (!ids.has(id)) checks.unknownSourceTurnIds += 1;
}

// ---------------------------------------------------------------------------------------------
// Report

interface QuestionMetrics {
  questions: number;
  evidenceInContextPct: number;
  evidenceRetrievablePct: number;
  answerTokenRecallPct: number;
}

interface SystemMetrics extends QuestionMetrics {
  tokenSavingPct: number;
  budgetCompliancePct: number;
  contextsBuilt: number;
  maxContextTokens: number;
  meanContextTokens: number;
  /** Mean number of turns the end-of-conversation context carries (sourceTurnIds for memory). */
  meanEndContextTurns: number;
  buildP95Ms: number;
  queryBuildP95Ms: number;
}

function questionMetrics(results: readonly QuestionResult[]): QuestionMetrics {
  const defined = (values: Array<number | undefined>): number[] =>
    values.filter((value): value is number => value !== undefined);
  return {
    questions: results.length,
    evidenceInContextPct: round1(100 * mean(defined(results.map((result) => result.inContext)))),
    evidenceRetrievablePct: round1(100 * mean(defined(results.map((result) => result.retrievable)))),
    answerTokenRecallPct: round1(100 * mean(defined(results.map((result) => result.answerRecall)))),
  };
}

function systemMetrics(tally: Tally, feedCalls: number): SystemMetrics {
  return {
    tokenSavingPct: round1(100 * (1 - tally.contextTokens / tally.fullTokens)),
    budgetCompliancePct: round1(pct(tally.withinBudget, tally.contexts)),
    ...questionMetrics(tally.questions),
    contextsBuilt: tally.contexts,
    maxContextTokens: tally.maxContextTokens,
    meanContextTokens: Math.round(tally.contextTokens / feedCalls),
    meanEndContextTurns: round1(mean(tally.endSourceTurns)),
    buildP95Ms: round2(percentile([...tally.buildMs, ...tally.queryBuildMs], 0.95)),
    queryBuildP95Ms: round2(percentile(tally.queryBuildMs, 0.95)),
  };
}

interface Goal {
  metric: string;
  goal: string;
  value: number;
  pass: boolean;
}

async function main({ data, budget, json }: Options): Promise<number> {
  if (!existsSync(data)) {
    console.error(
      `bench:locomo: LoCoMo data not found at ${data}\n` +
        'Pass --data <path to locomo-dev.json> or set BALLAST_LOCOMO_DIR to its folder. ' +
        'The data is CC BY-NC and is not part of the repo.',
    );
    return 1;
  }

  const notes: DataNotes = {
    adversarialSkipped: 0,
    evidenceNormalised: 0,
    evidenceDropped: [],
    questionsWithoutEvidence: 0,
    questionsWithoutAnswerWords: 0,
    emptySessions: 0,
  };
  const conversations = loadConversations(data, notes);
  const tallies = Object.fromEntries(SYSTEMS.map((name) => [name, emptyTally()])) as Record<
    SystemName,
    Tally
  >;
  const appendMs: number[] = [];
  const checks: Checks = {
    reportedTokensMismatch: 0,
    largestReportedTokensGap: 0,
    fullHistoryTokensMismatch: 0,
    largestFullHistoryGap: 0,
    unknownSourceTurnIds: 0,
  };
  // Load the tokenizer before anything is timed.
  countTokens([{ role: 'user', content: 'warm up' }]);

  const runs: ConversationRun[] = [];
  const started = performance.now();
  for (const conversation of conversations) {
    const before = {
      contextTokens: tallies.memory.contextTokens,
      fullTokens: tallies.memory.fullTokens,
      questions: tallies.memory.questions.length,
    };
    const conversationStart = performance.now();
    const run = await runConversation(conversation, budget, tallies, appendMs, checks);
    runs.push(run);
    const memory = tallies.memory;
    const saving =
      100 * (1 - (memory.contextTokens - before.contextTokens) / (memory.fullTokens - before.fullTokens));
    const asked = questionMetrics(memory.questions.slice(before.questions));
    console.error(
      `${conversation.id}: ${run.turns} turns in ${conversation.sessions} sessions` +
        `${conversation.emptySessions > 0 ? ` (${conversation.emptySessions} dated without turns)` : ''}, ` +
        `${conversation.questions.length} questions | saving ${saving.toFixed(1)}%, ` +
        `build p95 ${run.buildP95Ms.toFixed(2)} ms, evidence in context ${asked.evidenceInContextPct}%, ` +
        `retrievable ${asked.evidenceRetrievablePct}% | ${((performance.now() - conversationStart) / 1000).toFixed(1)} s`,
    );
  }

  const feedCalls = runs.reduce((sum, run) => sum + run.turns, 0);
  const metrics = Object.fromEntries(
    SYSTEMS.map((name) => [name, systemMetrics(tallies[name], feedCalls)]),
  ) as Record<SystemName, SystemMetrics>;
  const longest = runs.reduce((best, run) => (run.turns > best.turns ? run : best));
  const prefixComparisons = runs.reduce((sum, run) => sum + run.prefixComparisons, 0);
  const prefixUnchanged = runs.reduce((sum, run) => sum + run.prefixUnchanged, 0);
  const prefixUnchangedPct = round1(prefixComparisons === 0 ? 100 : pct(prefixUnchanged, prefixComparisons));
  const appendP95Ms = round2(percentile(appendMs, 0.95));

  const perCategory: Record<string, { category: number } & Record<SystemName, QuestionMetrics>> = {};
  for (const [category, name] of Object.entries(CATEGORY_NAMES)) {
    const of = (system: SystemName): QuestionMetrics =>
      questionMetrics(tallies[system].questions.filter((result) => result.category === Number(category)));
    perCategory[name] = {
      category: Number(category),
      memory: of('memory'),
      fullHistory: of('fullHistory'),
      recentWindow: of('recentWindow'),
      bm25: of('bm25'),
    };
  }

  const memory = metrics.memory;
  const worstBuildP95 = round2(Math.max(memory.buildP95Ms, longest.buildP95Ms));
  const goals: Goal[] = [
    {
      metric: 'tokenSavingPct',
      goal: '>= 80',
      value: memory.tokenSavingPct,
      pass: memory.tokenSavingPct >= 80,
    },
    {
      metric: 'budgetCompliancePct',
      goal: '= 100',
      value: memory.budgetCompliancePct,
      pass: tallies.memory.withinBudget === tallies.memory.contexts,
    },
    {
      metric: 'evidenceRetrievablePct',
      goal: '>= 85',
      value: memory.evidenceRetrievablePct,
      pass: memory.evidenceRetrievablePct >= 85,
    },
    {
      metric: 'evidenceInContextPct',
      goal: '>= 30',
      value: memory.evidenceInContextPct,
      pass: memory.evidenceInContextPct >= 30,
    },
    {
      metric: 'buildP95Ms',
      goal: '<= 10, the worse of all builds and the longest conversation',
      value: worstBuildP95,
      pass: worstBuildP95 <= 10,
    },
  ];
  const goalsApply = budget === 2000;

  const result = {
    bench: 'locomo',
    data,
    model: MODEL,
    budgetTokens: budget,
    conversations: runs.length,
    turns: feedCalls,
    questions: memory.questions,
    tokenSavingPct: memory.tokenSavingPct,
    budgetCompliancePct: memory.budgetCompliancePct,
    evidenceInContextPct: memory.evidenceInContextPct,
    evidenceRetrievablePct: memory.evidenceRetrievablePct,
    answerTokenRecallPct: memory.answerTokenRecallPct,
    buildP95Ms: memory.buildP95Ms,
    feedBuildP95Ms: round2(percentile(tallies.memory.buildMs, 0.95)),
    queryBuildP95Ms: memory.queryBuildP95Ms,
    appendP95Ms,
    prefixUnchangedPct,
    longestConversation: { id: longest.id, turns: longest.turns, buildP95Ms: round2(longest.buildP95Ms) },
    contextsBuilt: memory.contextsBuilt,
    maxContextTokens: memory.maxContextTokens,
    meanContextTokens: memory.meanContextTokens,
    meanFullHistoryTokens: Math.round(tallies.memory.fullTokens / feedCalls),
    meanEndContextTurns: memory.meanEndContextTurns,
    baselines: { fullHistory: metrics.fullHistory, recentWindow: metrics.recentWindow, bm25: metrics.bm25 },
    perCategory,
    checks,
    dataNotes: { ...notes, evidenceDropped: notes.evidenceDropped },
    goals: goalsApply ? goals : [],
    elapsedSeconds: round1((performance.now() - started) / 1000),
  };

  if (json) {
    console.log(JSON.stringify(result));
    return 0;
  }

  console.log(
    `\nLoCoMo (${runs.length} conversations, ${feedCalls} turns, ${memory.questions} questions of categories 1-4), ` +
      `budget ${budget} tokens, counted with ${MODEL}'s tokenizer\n`,
  );
  const rows: Array<[string, (metric: SystemMetrics) => string | number]> = [
    ['token saving %', (metric) => metric.tokenSavingPct],
    ['mean tokens per call', (metric) => metric.meanContextTokens],
    ['max tokens of a context', (metric) => metric.maxContextTokens],
    ['budget compliance %', (metric) => metric.budgetCompliancePct],
    ['evidence in context % (no query)', (metric) => metric.evidenceInContextPct],
    ['evidence retrievable % (query)', (metric) => metric.evidenceRetrievablePct],
    ['answer token recall % (query)', (metric) => metric.answerTokenRecallPct],
    ['turns in end context (mean)', (metric) => metric.meanEndContextTurns],
    ['build p95 ms (all builds)', (metric) => metric.buildP95Ms],
    ['query build p95 ms', (metric) => metric.queryBuildP95Ms],
  ];
  console.table(
    Object.fromEntries(
      rows.map(([label, read]) => [
        label,
        Object.fromEntries(SYSTEMS.map((name) => [SYSTEM_LABELS[name], read(metrics[name])])),
      ]),
    ),
  );
  console.log(
    `memory only: append p95 ${appendP95Ms} ms, feed build p95 ${result.feedBuildP95Ms} ms, ` +
      `longest conversation ${longest.id} (${longest.turns} turns) build p95 ${result.longestConversation.buildP95Ms} ms, ` +
      `prefix unchanged ${prefixUnchangedPct}% of consecutive contexts` +
      (metrics.bm25.queryBuildP95Ms > 0
        ? `, query build p95 ${(memory.queryBuildP95Ms / metrics.bm25.queryBuildP95Ms).toFixed(1)}× the BM25 baseline's`
        : ''),
  );

  console.log('\nPer category: evidence in context % / evidence retrievable % / answer token recall %\n');
  console.table(
    Object.fromEntries(
      Object.entries(perCategory).map(([name, entry]) => [
        `${entry.category} ${name} (${entry.memory.questions})`,
        Object.fromEntries(
          SYSTEMS.map((system) => [
            SYSTEM_LABELS[system],
            `${entry[system].evidenceInContextPct} / ${entry[system].evidenceRetrievablePct} / ${entry[system].answerTokenRecallPct}`,
          ]),
        ),
      ]),
    ),
  );

  console.log(
    `\ndata: ${notes.adversarialSkipped} adversarial questions skipped, ${notes.emptySessions} dated sessions without turns, ` +
      `${notes.evidenceNormalised} malformed evidence ids normalised, ${notes.evidenceDropped.length} dropped ` +
      `(${notes.evidenceDropped.join(', ') || 'none'}), ${notes.questionsWithoutEvidence} questions without evidence, ` +
      `${notes.questionsWithoutAnswerWords} without answer words`,
  );
  console.log(
    `checks: ctx.tokens ≠ recount in ${checks.reportedTokensMismatch} contexts (largest gap ${checks.largestReportedTokensGap}), ` +
      `ctx.fullHistoryTokens ≠ ours in ${checks.fullHistoryTokensMismatch} (largest gap ${checks.largestFullHistoryGap}), ` +
      `${checks.unknownSourceTurnIds} unknown ids in sourceTurnIds`,
  );

  if (goalsApply) {
    console.log('\nGoals at --budget 2000:');
    for (const goal of goals) {
      console.log(`${goal.pass ? 'PASS' : 'MISS'}  ${goal.metric} ${goal.value} (goal ${goal.goal})`);
    }
  } else {
    console.log(`\nGoals are set at --budget 2000; not checked at ${budget}.`);
  }
  console.log(`\n${result.elapsedSeconds} s`);
  return 0;
}

runBench({ name: 'bench:locomo', usage: USAGE, parse: parseOptions, main });
