/**
 * Coding-session bench: replays the scripted 15-turn agent session of fixtures/coding-session.ts
 * and, before each assistant step (one upstream call), compares the tokens sent with the full
 * history against the context @ballast/memory builds at a budget. At the last call it checks that
 * the key facts (file names, the decision, the constraints, the error id) are still in the context.
 *
 * Usage: node --import tsx bench/coding-session.ts [--budget <tokens>] [--json]
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { type ChatMessage, countMessageTokens } from '@ballast/core';
import type { ContextParts, Turn, TurnRole } from '../src/index.js';
import { createInMemoryStore, createSessionMemory } from '../src/index.js';
import { createCodingSession, type KeyFact } from './fixtures/coding-session.js';

const MODEL = 'gpt-4o';
const DEFAULT_BUDGET = 4000;
const USAGE = 'usage: pnpm --filter @ballast/memory bench:session -- [--budget <tokens>] [--json]';
// Trooper's published figure: their number, measured on their session, quoted for orientation only.
const TROOPER = { savingPct: -89, fullHistoryTokensPerCall: 10_820, memoryTokensPerCall: 1_157, turns: 15 };

class UsageError extends Error {}

interface Options {
  budget: number;
  json: boolean;
}

function parseOptions(argv: readonly string[]): Options | 'help' {
  // `pnpm run script -- --flag` may hand the script a literal `--` first.
  const args = argv[0] === '--' ? argv.slice(1) : [...argv];
  let values: { budget?: string | undefined; json?: boolean | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        budget: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return 'help';
  let budget = DEFAULT_BUDGET;
  if (values.budget !== undefined) {
    if (!/^\d+$/.test(values.budget) || Number(values.budget) < 1) {
      throw new UsageError(
        `--budget must be a positive whole number of tokens (got ${JSON.stringify(values.budget)})`,
      );
    }
    budget = Number(values.budget);
  }
  return { budget, json: values.json ?? false };
}

function toChatMessage(message: { role: TurnRole; content: string; name?: string | undefined }): ChatMessage {
  const chat: ChatMessage = { role: message.role, content: [{ type: 'text', text: message.content }] };
  if (message.name !== undefined) chat.name = message.name;
  return chat;
}

function countTokens(
  messages: ReadonlyArray<{ role: TurnRole; content: string; name?: string | undefined }>,
): number {
  return countMessageTokens(messages.map(toChatMessage), MODEL).tokens;
}

/** The newest turns that fit the budget, oldest first. */
function recentWindow(turns: readonly Turn[], budget: number): Turn[] {
  const picked: Turn[] = [];
  for (let index = turns.length - 1; index >= 0; index -= 1) {
    const candidate = [turns[index] as Turn, ...picked];
    if (countTokens(candidate) > budget) break;
    picked.unshift(turns[index] as Turn);
  }
  return picked;
}

function hasFact(text: string, fact: KeyFact): boolean {
  const lower = text.toLowerCase();
  return fact.needles.every((needle) => lower.includes(needle.toLowerCase()));
}

const round1 = (value: number): number => Math.round(value * 10) / 10;
/** A saving as a change in tokens: 77.3 → "−77.3%", -4 → "+4%". */
const asChange = (saving: number): string => (saving >= 0 ? `−${saving}%` : `+${-saving}%`);
const savingPct = (memory: number, full: number): number => round1(100 * (1 - memory / full));

interface Call {
  call: number;
  /** The assistant turn this call produces. */
  beforeTurnId: string;
  turns: number;
  fullHistoryTokens: number;
  memoryTokens: number;
  savingPct: number;
  withinBudget: boolean;
  recentWindowTokens: number;
  prefixUnchanged: boolean;
  parts: ContextParts;
  buildMs: number;
}

async function main(): Promise<number> {
  let options: Options | 'help';
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`bench:session: ${error.message}\n${USAGE}`);
    return 2;
  }
  if (options === 'help') {
    console.log(USAGE);
    return 0;
  }
  const { budget, json } = options;
  const session = createCodingSession();
  const store = createInMemoryStore();
  const memory = createSessionMemory({ store });
  // Load the tokenizer before anything is timed.
  countTokens([{ role: 'user', content: 'warm up' }]);

  const calls: Call[] = [];
  const sent: Turn[] = [];
  let lastContextText = '';
  let lastWindowText = '';
  for (const turn of session.turns) {
    if (turn.role === 'assistant' && sent.length > 0) {
      const started = performance.now();
      const context = await memory.buildContext(session.sessionId, { budgetTokens: budget });
      const buildMs = performance.now() - started;
      const fullHistoryTokens = countTokens(sent);
      const memoryTokens = countTokens(context.messages);
      const window = recentWindow(sent, budget);
      calls.push({
        call: calls.length + 1,
        beforeTurnId: turn.id,
        turns: sent.length,
        fullHistoryTokens,
        memoryTokens,
        savingPct: savingPct(memoryTokens, fullHistoryTokens),
        withinBudget: memoryTokens <= budget,
        recentWindowTokens: countTokens(window),
        prefixUnchanged: context.prefixUnchanged,
        parts: context.parts,
        buildMs,
      });
      lastContextText = context.messages.map((message) => message.content).join('\n');
      lastWindowText = window.map((message) => message.content).join('\n');
    }
    await memory.append(session.sessionId, [turn]);
    sent.push(turn);
  }
  const stats = await memory.stats(session.sessionId);
  await store.close();

  const last = calls.at(-1);
  if (last === undefined) throw new Error('the fixture has no assistant turn after the first turn');
  // The history of the last call: every turn before the last assistant step.
  const lastHistoryText = session.turns
    .slice(0, last.turns)
    .map((turn) => turn.content)
    .join('\n');
  const keyFacts = session.keyFacts.map((fact) => ({
    label: fact.label,
    kind: fact.kind,
    inFullHistory: hasFact(lastHistoryText, fact),
    inMemory: hasFact(lastContextText, fact),
    inRecentWindow: hasFact(lastWindowText, fact),
  }));
  const fullTotal = calls.reduce((sum, call) => sum + call.fullHistoryTokens, 0);
  const memoryTotal = calls.reduce((sum, call) => sum + call.memoryTokens, 0);
  const result = {
    bench: 'coding-session',
    model: MODEL,
    budgetTokens: budget,
    turns: session.turns.length,
    calls,
    totals: {
      fullHistoryTokens: fullTotal,
      memoryTokens: memoryTotal,
      savingPct: savingPct(memoryTotal, fullTotal),
      meanFullHistoryTokensPerCall: Math.round(fullTotal / calls.length),
      meanMemoryTokensPerCall: Math.round(memoryTotal / calls.length),
    },
    lastCall: {
      fullHistoryTokens: last.fullHistoryTokens,
      memoryTokens: last.memoryTokens,
      savingPct: last.savingPct,
    },
    keyFacts,
    keyFactsPresentPct: round1((100 * keyFacts.filter((fact) => fact.inMemory).length) / keyFacts.length),
    keyFactsInRecentWindowPct: round1(
      (100 * keyFacts.filter((fact) => fact.inRecentWindow).length) / keyFacts.length,
    ),
    budgetCompliancePct: round1((100 * calls.filter((call) => call.withinBudget).length) / calls.length),
    prefixUnchangedPct: round1(100 * stats.prefixUnchangedShare),
    maxBuildMs: Math.round(Math.max(...calls.map((call) => call.buildMs)) * 100) / 100,
    reference: {
      name: 'Trooper (published, not measured here)',
      ...TROOPER,
    },
  };

  if (json) {
    console.log(JSON.stringify(result));
    return 0;
  }

  console.log(
    `\nCoding session: ${session.turns.length} turns, ${calls.length} calls (one before each assistant step), ` +
      `budget ${budget} tokens, counted with ${MODEL}'s tokenizer\n`,
  );
  console.table(
    calls.map((call) => ({
      call: call.call,
      'before turn': call.beforeTurnId,
      'turns so far': call.turns,
      'full history': call.fullHistoryTokens,
      memory: call.memoryTokens,
      'saving %': call.savingPct,
      '≤ budget': call.withinBudget ? 'yes' : 'NO',
      'recent window': call.recentWindowTokens,
      'prefix same': call.prefixUnchanged ? 'yes' : 'no',
      'pinned/state/compressed/retrieved/recent': [
        call.parts.pinned,
        call.parts.state,
        call.parts.compressed,
        call.parts.retrieved,
        call.parts.recent,
      ].join('/'),
      'build ms': Math.round(call.buildMs * 100) / 100,
    })),
  );
  console.log(`\nKey facts at the last call (before ${last.beforeTurnId}):\n`);
  console.table(
    keyFacts.map((fact) => ({
      fact: fact.label,
      'full history': fact.inFullHistory ? 'yes' : 'no',
      memory: fact.inMemory ? 'yes' : 'MISSING',
      'recent window': fact.inRecentWindow ? 'yes' : 'no',
    })),
  );
  const { totals } = result;
  console.log(
    `\n@ballast/memory: ${totals.meanFullHistoryTokensPerCall.toLocaleString('en-US')} → ` +
      `${totals.meanMemoryTokensPerCall.toLocaleString('en-US')} tokens per call on average ` +
      `(${asChange(totals.savingPct)}), last call ${last.fullHistoryTokens.toLocaleString('en-US')} → ` +
      `${last.memoryTokens.toLocaleString('en-US')} (${asChange(last.savingPct)}), ` +
      `${keyFacts.filter((fact) => fact.inMemory).length}/${keyFacts.length} key facts kept, ` +
      `${result.budgetCompliancePct}% of calls within budget | ` +
      `Trooper publishes −89% (10,820 → 1,157 tokens per call on a 15-turn session; their number, not ours)`,
  );
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(
      `bench:session failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    process.exitCode = 1;
  },
);
