/**
 * Coding-session bench: replays the scripted 15-turn agent session of fixtures/coding-session.ts
 * and, before each assistant step (one upstream call), compares the tokens sent with the full
 * history against the context @ballast/memory builds at a budget. At the last call it checks that
 * the key facts (file names, the decision, the constraints, the error id) are still in the context.
 *
 * Usage: node --import tsx bench/coding-session.ts [--budget <tokens>] [--json]
 */
import { performance } from 'node:perf_hooks';
import type { ContextParts, Turn } from '../src/index.js';
import { createInMemoryStore, createSessionMemory } from '../src/index.js';
import { createCodingSession, type KeyFact } from './fixtures/coding-session.js';
import {
  type BenchArgs,
  countTokens,
  MODEL,
  messageTokens,
  parseBenchArgs,
  recentWindow,
  round1,
  runBench,
} from './shared.js';

const DEFAULT_BUDGET = 4000;
const USAGE = 'usage: pnpm --filter @ballast/memory bench:session -- [--budget <tokens>] [--json]';
// Trooper's published figure: their number, measured on their session, quoted for orientation only.
const TROOPER = { savingPct: -89, fullHistoryTokensPerCall: 10_820, memoryTokensPerCall: 1_157, turns: 15 };

function hasFact(text: string, fact: KeyFact): boolean {
  const lower = text.toLowerCase();
  return fact.needles.every((needle) => lower.includes(needle.toLowerCase()));
}

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

async function main({ budget, json }: BenchArgs<never>): Promise<number> {
  const session = createCodingSession();
  const store = createInMemoryStore();
  const memory = createSessionMemory({ store });
  // Load the tokenizer before anything is timed.
  countTokens([{ role: 'user', content: 'warm up' }]);

  const calls: Call[] = [];
  const sent: Turn[] = [];
  // Each sent turn's share of the count, for the recent-window baseline.
  const costs: number[] = [];
  let lastContextText = '';
  let lastWindowText = '';
  for (const turn of session.turns) {
    if (turn.role === 'assistant' && sent.length > 0) {
      const started = performance.now();
      const context = await memory.buildContext(session.sessionId, { budgetTokens: budget });
      const buildMs = performance.now() - started;
      const fullHistoryTokens = countTokens(sent);
      const memoryTokens = countTokens(context.messages);
      const window = recentWindow(costs, sent.length, budget).map((at) => sent[at] as Turn);
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
    costs.push(messageTokens(turn));
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

runBench({
  name: 'bench:session',
  usage: USAGE,
  parse: (argv) => parseBenchArgs(argv, DEFAULT_BUDGET),
  main,
});
