import { terms } from './text.js';

/** A scored document. */
export interface Bm25Hit {
  id: string;
  score: number;
}

/** Options of {@link createBm25Index}. @default k1 1.2, b 0.75 */
export interface Bm25Options {
  k1?: number;
  b?: number;
}

/** An incremental BM25 index over short documents (turns, sentences). */
export interface Bm25Index {
  /** Adds a document; adding an id again replaces nothing (the first text stays). */
  add(id: string, text: string): void;
  /** The best `limit` documents for a query, best first; documents without a query term are left out. */
  search(query: string, limit: number, filter?: (id: string) => boolean): Bm25Hit[];
  /** In how many documents a term (from `terms()`) occurs. */
  documentFrequency(term: string): number;
  /** How many documents are indexed. */
  readonly size: number;
}

/**
 * Creates an empty BM25 index. Postings are kept per term, so a search touches only the documents
 * that share a term with the query: fast enough to rebuild the context on every call.
 * @param options BM25's k1 and b
 * @returns the index
 * @example
 * ```ts
 * const index = createBm25Index();
 * index.add('t1', 'We deploy with Docker on Fridays');
 * index.search('when do we deploy?', 5); // [{ id: 't1', score: ... }]
 * ```
 */
export function createBm25Index(options: Bm25Options = {}): Bm25Index {
  const k1 = options.k1 ?? 1.2;
  const b = options.b ?? 0.75;
  const postings = new Map<string, Array<[number, number]>>();
  const lengths: number[] = [];
  const ids: string[] = [];
  const known = new Set<string>();
  let totalLength = 0;
  return {
    add(id, text) {
      if (known.has(id)) return;
      known.add(id);
      const doc = ids.length;
      ids.push(id);
      const words = terms(text);
      lengths.push(words.length);
      totalLength += words.length;
      const counts = new Map<string, number>();
      for (const word of words) counts.set(word, (counts.get(word) ?? 0) + 1);
      for (const [word, count] of counts) {
        let list = postings.get(word);
        if (!list) {
          list = [];
          postings.set(word, list);
        }
        list.push([doc, count]);
      }
    },
    search(query, limit, filter) {
      if (ids.length === 0 || limit <= 0) return [];
      const average = totalLength / ids.length || 1;
      const scores = new Map<number, number>();
      for (const word of new Set(terms(query))) {
        const list = postings.get(word);
        if (!list) continue;
        const idf = Math.log(1 + (ids.length - list.length + 0.5) / (list.length + 0.5));
        for (const [doc, count] of list) {
          const norm = count + k1 * (1 - b + (b * (lengths[doc] as number)) / average);
          scores.set(doc, (scores.get(doc) ?? 0) + (idf * count * (k1 + 1)) / norm);
        }
      }
      const ranked: Array<[number, number]> = [];
      for (const [doc, score] of scores) {
        if (filter && !filter(ids[doc] as string)) continue;
        ranked.push([doc, score]);
      }
      // Ties go to the later document: in a conversation the newer statement usually holds.
      ranked.sort((left, right) => right[1] - left[1] || right[0] - left[0]);
      const hits = ranked.slice(0, limit).map(([doc, score]) => ({ id: ids[doc] as string, score }));
      return hits;
    },
    documentFrequency(term) {
      return postings.get(term)?.length ?? 0;
    },
    get size() {
      return ids.length;
    },
  };
}
