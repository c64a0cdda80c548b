/**
 * Throughput of token counting on ~100 KB of real English and code, against js-tiktoken in the
 * same run.
 *
 *   cd packages/core && node --import tsx bench/tokenizer.bench.ts [path/to/locomo-dev.json]
 *
 * The English half is LoCoMo conversation text, read by path and never copied into the repo
 * (CC BY-NC); without it the corpus is the repo's own Markdown and TypeScript.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tiktoken } from 'js-tiktoken/lite';
import o200kBase from 'js-tiktoken/ranks/o200k_base';
import type { ChatMessage, ChatRequest } from '../src/chat.js';
import { countRequestTokens, countTextTokens } from '../src/tokens.js';

// tokens.ts loads gpt-tokenizer's CommonJS build lazily; clear that same instance's merge cache.
const { clearMergeCache, countTokens: gptTokenizerCount } = createRequire(import.meta.url)(
  'gpt-tokenizer/cjs/encoding/o200k_base',
) as {
  clearMergeCache(): void;
  countTokens(text: string, options?: { disallowedSpecial?: Set<string> }): number;
};

const targetBytes = 100 * 1024;
const warmupIterations = 5;
const timedIterations = 30;

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const locomoPath = resolve(process.argv[2] ?? join(repoRoot, '../shared/data/locomo/locomo-dev.json'));

function walk(directory: string, extensions: string[], found: string[] = []): string[] {
  for (const entry of readdirSync(directory)) {
    if (entry === 'node_modules' || entry === 'dist' || entry.startsWith('.git')) continue;
    const path = join(directory, entry);
    if (statSync(path).isDirectory()) walk(path, extensions, found);
    else if (extensions.some((extension) => entry.endsWith(extension))) found.push(path);
  }
  return found;
}

function locomoText(path: string, bytes: number): string {
  const conversations = JSON.parse(readFileSync(path, 'utf8')) as Array<{
    conversation: Record<string, unknown>;
  }>;
  let text = '';
  for (const { conversation } of conversations) {
    for (const [key, turns] of Object.entries(conversation)) {
      if (!/^session_\d+$/.test(key) || !Array.isArray(turns)) continue;
      for (const turn of turns as Array<{ speaker: string; text: string }>) {
        text += `${turn.speaker}: ${turn.text}\n`;
        if (Buffer.byteLength(text) >= bytes) return text;
      }
    }
  }
  return text;
}

function repoText(bytes: number): string {
  let text = '';
  for (const path of walk(repoRoot, ['.ts', '.md']).sort()) {
    text += `${readFileSync(path, 'utf8')}\n`;
    if (Buffer.byteLength(text) >= bytes) break;
  }
  return text;
}

function buildCorpus(): { text: string; source: string } {
  let english = '';
  try {
    english = locomoText(locomoPath, targetBytes * 0.6);
  } catch {
    // No LoCoMo: the repo's own text only.
  }
  const code = repoText(targetBytes - Buffer.byteLength(english));
  const text = Buffer.from(english + code)
    .subarray(0, targetBytes)
    .toString('utf8')
    .replace(/\uFFFD$/, '');
  return { text, source: english.length > 0 ? 'LoCoMo conversations + repo .ts/.md' : 'repo .ts/.md' };
}

interface Timing {
  medianMs: number;
  tokens: number;
}

interface Case {
  name: string;
  run: () => number;
  beforeEach?: () => void;
}

// Rounds interleave the cases, so a noisy neighbour slows all of them alike.
function timeAll(cases: Case[]): Timing[] {
  const tokens = cases.map(() => 0);
  const samples: number[][] = cases.map(() => []);
  for (let round = 0; round < warmupIterations + timedIterations; round++) {
    cases.forEach((entry, index) => {
      entry.beforeEach?.();
      const start = performance.now();
      tokens[index] = entry.run();
      const elapsed = performance.now() - start;
      if (round >= warmupIterations) samples[index]?.push(elapsed);
    });
  }
  return cases.map((_, index) => {
    const sorted = (samples[index] ?? []).sort((left, right) => left - right);
    return { medianMs: sorted[Math.floor(sorted.length / 2)] ?? Number.NaN, tokens: tokens[index] ?? 0 };
  });
}

const { text, source } = buildCorpus();
const bytes = Buffer.byteLength(text);
const tiktoken = new Tiktoken(o200kBase);

// 200 messages of ~500 bytes each, alternating user and assistant.
const messages: ChatMessage[] = [];
const chunk = Math.ceil(text.length / 200);
for (let index = 0; index < 200; index++) {
  messages.push({
    role: index % 2 === 0 ? 'user' : 'assistant',
    content: [{ type: 'text', text: text.slice(index * chunk, (index + 1) * chunk) }],
  });
}
const request: ChatRequest = {
  model: 'gpt-4o',
  system: [{ type: 'text', text: 'You are a helpful assistant.' }],
  messages,
};
const claudeRequest: ChatRequest = { ...request, model: 'claude-sonnet-4-5' };

const cases: Case[] = [
  { name: 'js-tiktoken lite o200k encode (baseline)', run: () => tiktoken.encode(text, [], []).length },
  { name: 'countTextTokens o200k (warm merge cache)', run: () => countTextTokens(text) },
  {
    name: 'countTextTokens o200k (merge cache cleared)',
    run: () => countTextTokens(text),
    beforeEach: clearMergeCache,
  },
  {
    name: 'gpt-tokenizer countTokens (cache cleared)',
    run: () => gptTokenizerCount(text, { disallowedSpecial: new Set() }),
    beforeEach: clearMergeCache,
  },
  { name: 'countRequestTokens 200 msgs gpt-4o (warm)', run: () => countRequestTokens(request).tokens },
  {
    name: 'countRequestTokens 200 msgs gpt-4o (cache cleared)',
    run: () => countRequestTokens(request).tokens,
    beforeEach: clearMergeCache,
  },
  { name: 'countRequestTokens 200 msgs claude (warm)', run: () => countRequestTokens(claudeRequest).tokens },
];
const timings = timeAll(cases);
const [baseline, ours, oursCold] = timings as [Timing, Timing, Timing];

const firstCl100kStart = performance.now();
countTextTokens('hello', 'gpt-4');
const firstCl100kMs = performance.now() - firstCl100kStart;

if (ours.tokens !== baseline.tokens) {
  throw new Error(`Counts disagree: ours ${ours.tokens}, js-tiktoken ${baseline.tokens}`);
}

function row(name: string, timing: Timing): Record<string, string> {
  const seconds = timing.medianMs / 1000;
  return {
    case: name,
    'median ms': timing.medianMs.toFixed(2),
    tokens: String(timing.tokens),
    'tokens/s': Math.round(timing.tokens / seconds).toLocaleString('en-US'),
    'MB/s': (bytes / 1e6 / seconds).toFixed(2),
    'vs js-tiktoken': (baseline.medianMs / timing.medianMs).toFixed(2),
  };
}

console.log(
  `date ${new Date().toISOString()}  node ${process.version}  corpus ${(bytes / 1024).toFixed(1)} KB (${source})  ` +
    `warm-up ${warmupIterations}, median of ${timedIterations}`,
);
console.table(cases.map((entry, index) => row(entry.name, timings[index] as Timing)));
console.log(
  `ratio ours/js-tiktoken (throughput): warm ${(baseline.medianMs / ours.medianMs).toFixed(2)}x, ` +
    `cache cleared ${(baseline.medianMs / oursCold.medianMs).toFixed(2)}x; first cl100k call (builds the encoder): ${firstCl100kMs.toFixed(1)} ms`,
);
