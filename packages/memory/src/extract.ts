import { sentences, terms } from './text.js';
import type { MemoryItemKind, Turn } from './types.js';

/** What one turn contributes to the structured state; computed once, when the turn is appended. */
export interface TurnFacts {
  /** Structured items found in the turn (decisions, constraints, open and resolved items). */
  items: Array<{ kind: MemoryItemKind; text: string }>;
  /** Entities: `kind:value` (file, url, id, date, name). */
  entities: Array<{ kind: EntityKind; value: string }>;
  /** The turn's most informative clause, short: what the state shows of it. */
  gist: string;
  /** How much the turn is worth keeping when nothing else is known (no query). */
  salience: number;
}

/** Entity kinds the state groups by. */
export type EntityKind = 'file' | 'url' | 'id' | 'date' | 'name';

const URL_PATTERN = /\bhttps?:\/\/[^\s)>"'\]]+/g;
const FILE_PATTERN =
  /(?:^|[\s`'"(])((?:\.{0,2}\/)?(?:[\w.-]+\/)*[\w-]+\.(?:ts|tsx|js|jsx|mjs|cjs|json|ya?ml|toml|md|py|go|rs|java|rb|sh|sql|css|html|txt|lock|env|c|h|cpp))\b/g;
const ID_PATTERN =
  /\b(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[A-Z][A-Z0-9]+-\d+|[A-Z]{1,4}\d{3,}|#\d{2,}|[0-9a-f]{7,40}(?=\b)(?<=\b[0-9a-f]*[a-f][0-9a-f]*))\b/g;
const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTHS = 'January|February|March|April|May|June|July|August|September|October|November|December';
const DATE_PATTERN = new RegExp(
  `\\b(?:\\d{4}-\\d{2}-\\d{2}|\\d{1,2} (?:${MONTHS}),? \\d{4}|(?:${MONTHS}) \\d{1,2}(?:st|nd|rd|th)?,? \\d{4}|(?:${MONTHS}) \\d{4})\\b`,
  'g',
);
const NAME_PATTERN = /(?<=[a-z,;:] )[A-Z][a-z]{2,}(?: [A-Z][a-z]{2,})?\b/g;

const DECISION =
  /\b(?:decided|decision to|we(?:'ll| will) (?:use|go with|keep)|let'?s (?:use|go with|switch to)|going with|settled on|switch(?:ed)? to|agreed to|instead of)\b/i;
// Imperatives and rules, not "it must have been lovely" or "I'm always here".
const CONSTRAINT =
  /(?:(?:^|[,;:] )(?:always|never|don'?t|do not|make sure|only|avoid)\b|\b(?:must(?! have| be|'ve)|must not|should not|shouldn'?t|is required|are required|no more than|at most|at least|without (?:changing|breaking)|keep(?:ing)? [\w ]{0,20}(?:unchanged|stable|backwards?))\b)/i;
const OPEN =
  /\b(?:todo|to-do|need to|needs to|still (?:failing|broken|open)|not yet|next step|follow[- ]up|pending)\b/i;
const RESOLVED = /\b(?:fixed|resolved|passes now|passing now|works now|merged|closed)\b/i;
const EVENT =
  /\b(?:I|we|my|our)\b[^.!?]{0,40}\b(?:went|go|started|finished|bought|got|made|visited|joined|moved|adopted|painted|ran|won|lost|met|took|signed|learned|decided|planning|plan|going to|have been|was|am|is|love|loved)\b/i;

/** Folds relative day words into the turn's own date, so "yesterday" still means something later. */
function resolveRelativeDates(text: string, timestamp: Turn['timestamp']): string {
  const when = timestamp === undefined ? Number.NaN : new Date(timestamp).getTime();
  if (Number.isNaN(when)) return text;
  const day = (offset: number): string => {
    const date = new Date(when + offset * 86_400_000);
    return `${date.getUTCDate()} ${MONTH_NAMES[date.getUTCMonth()]} ${date.getUTCFullYear()}`;
  };
  return text
    .replace(/\byesterday\b/gi, (word) => `${word} (${day(-1)})`)
    .replace(/\blast week\b/gi, (word) => `${word} (week before ${day(0)})`)
    .replace(/\blast weekend\b/gi, (word) => `${word} (weekend before ${day(0)})`)
    .replace(/\btoday\b/gi, (word) => `${word} (${day(0)})`)
    .replace(/\btomorrow\b/gi, (word) => `${word} (${day(1)})`);
}

function clip(text: string, maxWords: number): string {
  const words = text.split(/\s+/);
  return words.length <= maxWords ? text : `${words.slice(0, maxWords).join(' ')}…`;
}

/**
 * Reads one turn: its structured items, entities, a short gist and a salience score. Pure and
 * deterministic: the same turn always gives the same facts, on every replica.
 * @param turn the turn
 * @returns what it contributes to the state
 */
export function extractTurnFacts(turn: Turn): TurnFacts {
  const content = turn.role === 'tool' ? turn.content.slice(0, 4000) : turn.content;
  const items: TurnFacts['items'] = [];
  const entities: TurnFacts['entities'] = [];
  const seen = new Set<string>();
  const entity = (kind: EntityKind, value: string): void => {
    const key = `${kind}:${value}`;
    if (seen.has(key)) return;
    seen.add(key);
    entities.push({ kind, value });
  };
  for (const match of content.matchAll(URL_PATTERN)) entity('url', match[0].replace(/[.,;:]+$/, ''));
  const withoutUrls = content.replace(URL_PATTERN, ' ');
  for (const match of withoutUrls.matchAll(FILE_PATTERN)) entity('file', match[1] as string);
  for (const match of withoutUrls.matchAll(ID_PATTERN)) entity('id', match[0]);
  for (const match of content.matchAll(DATE_PATTERN)) entity('date', match[0]);
  if (turn.role !== 'tool') for (const match of content.matchAll(NAME_PATTERN)) entity('name', match[0]);

  const parts = sentences(content);
  if (turn.role !== 'tool') {
    for (const sentence of parts) {
      if (sentence.length > 400) continue;
      if (DECISION.test(sentence)) items.push({ kind: 'decision', text: clip(sentence, 30) });
      else if (CONSTRAINT.test(sentence) && (turn.role === 'user' || turn.role === 'system'))
        items.push({ kind: 'constraint', text: clip(sentence, 30) });
      else if (RESOLVED.test(sentence) && turn.role !== 'system')
        items.push({ kind: 'resolved', text: clip(sentence, 24) });
      else if (OPEN.test(sentence) && turn.role === 'user')
        items.push({ kind: 'open', text: clip(sentence, 24) });
    }
  }

  // The gist: the sentence with the most distinct content terms, dated when the turn is.
  let best = '';
  let bestScore = -1;
  for (const sentence of parts) {
    const score =
      new Set(terms(sentence)).size + (EVENT.test(sentence) ? 3 : 0) + (DATE_PATTERN.test(sentence) ? 2 : 0);
    DATE_PATTERN.lastIndex = 0;
    if (score > bestScore) {
      best = sentence;
      bestScore = score;
    }
  }
  const speaker = turn.name ?? turn.role;
  const gist =
    turn.role === 'tool'
      ? `${speaker} output: ${clip(parts[0] ?? '', 14)}`
      : `${speaker}: ${clip(resolveRelativeDates(best, turn.timestamp), 16)}`;

  const contentTerms = new Set(terms(content)).size;
  const salience =
    Math.min(contentTerms, 20) / 4 +
    entities.length * 1.5 +
    items.length * 3 +
    (EVENT.test(content) ? 3 : 0) +
    (/\d/.test(content) ? 1 : 0) -
    (contentTerms < 4 ? 4 : 0);
  return { items, entities, gist, salience };
}
