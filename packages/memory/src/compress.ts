import { sentences, terms } from './text.js';

/**
 * Cuts a long text to its head and tail with a pointer to the turn that holds the rest, so a
 * 300-line tool output costs a few lines of context and can still be fetched by id.
 * @param text the text
 * @param maxChars the length above which it is cut (about 4 characters per token)
 * @param turnId the turn to point at
 * @returns the text, or its head, a pointer, and its tail
 */
export function headAndTail(text: string, maxChars: number, turnId: string): string {
  if (text.length <= maxChars) return text;
  const lines = text.split('\n');
  const keep = Math.max(1, Math.floor(maxChars / 2));
  if (lines.length >= 6) {
    const head: string[] = [];
    const tail: string[] = [];
    let used = 0;
    for (const line of lines) {
      if (used + line.length > keep && head.length > 0) break;
      head.push(line.slice(0, keep));
      used += line.length + 1;
    }
    used = 0;
    for (let index = lines.length - 1; index >= head.length; index -= 1) {
      const line = lines[index] as string;
      if (used + line.length > keep && tail.length > 0) break;
      tail.unshift(line.slice(0, keep));
      used += line.length + 1;
    }
    const omitted = lines.length - head.length - tail.length;
    if (omitted > 0)
      return [...head, `[… ${omitted} lines omitted; full text in turn ${turnId} …]`, ...tail].join('\n');
  }
  const omitted = text.length - 2 * keep;
  return `${text.slice(0, keep)} [… ${omitted} characters omitted; full text in turn ${turnId} …] ${text.slice(-keep)}`;
}

/**
 * The sentences of a text that best match a query, in their original order, within a word limit:
 * what retrieval puts in the context instead of the whole turn.
 * @param text the turn's text
 * @param query the query
 * @param maxWords the most words to keep
 * @returns the snippet
 */
export function snippetFor(text: string, query: string, maxWords: number): string {
  const parts = sentences(text);
  if (parts.length <= 1) return clipWords(text, maxWords);
  const wanted = new Set(terms(query));
  const scored = parts.map((sentence, index) => {
    const words = terms(sentence);
    let hits = 0;
    for (const word of new Set(words)) if (wanted.has(word)) hits += 1;
    return { index, sentence, score: hits * 10 + Math.min(words.length, 12) / 12 };
  });
  scored.sort((left, right) => right.score - left.score || left.index - right.index);
  const chosen: typeof scored = [];
  let words = 0;
  for (const entry of scored) {
    const count = entry.sentence.split(/\s+/).length;
    if (chosen.length > 0 && words + count > maxWords) continue;
    chosen.push(entry);
    words += count;
    if (words >= maxWords) break;
  }
  chosen.sort((left, right) => left.index - right.index);
  return clipWords(chosen.map((entry) => entry.sentence).join(' '), maxWords);
}

function clipWords(text: string, maxWords: number): string {
  const words = text.split(/\s+/);
  return words.length <= maxWords ? text : `${words.slice(0, maxWords).join(' ')}…`;
}

/**
 * Jaccard similarity of two texts' term sets, for folding repeated turns.
 * @returns 0 (nothing shared) to 1 (same terms)
 */
export function similarity(left: readonly string[], right: readonly string[]): number {
  if (left.length === 0 && right.length === 0) return 1;
  const a = new Set(left);
  const b = new Set(right);
  let shared = 0;
  for (const word of a) if (b.has(word)) shared += 1;
  return shared / (a.size + b.size - shared);
}
