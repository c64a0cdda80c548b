/**
 * Text helpers shared by the index, the extractor and the compressor: word splitting with a light
 * stemmer, stopwords, and sentence splitting. Deterministic and dependency-free.
 */

const STOPWORDS = new Set(
  (
    'a about above after again against all am an and any are as at be because been before being below ' +
    'between both but by can could did do does doing down during each few for from further had has have ' +
    'having he her here hers herself him himself his how i if in into is it its itself just me more most ' +
    'my myself no nor not now of off on once only or other our ours ourselves out over own same she should ' +
    'so some such than that the their theirs them themselves then there these they this those through to ' +
    'too under until up very was we were what when where which while who whom why will with you your yours ' +
    'yourself yourselves also would im ive youre thats its dont really yeah oh wow hey hi thanks thank ' +
    'like get got one much well know think lot things thing something way even still going go'
  ).split(' '),
);

/**
 * A light suffix-stripping stemmer (plural, -ing, -ed, -ly): enough for "went"/"going" not to match
 * but "painting"/"paintings"/"painted" to, without a dictionary.
 */
export function stem(word: string): string {
  if (word.length <= 3) return word;
  if (word.endsWith('ies') && word.length > 4) return `${word.slice(0, -3)}y`;
  if (word.endsWith('sses')) return word.slice(0, -2);
  if (word.endsWith('ing') && word.length > 5) return trimDouble(word.slice(0, -3));
  if (word.endsWith('edly') && word.length > 6) return trimDouble(word.slice(0, -4));
  if (word.endsWith('ed') && word.length > 4) return trimDouble(word.slice(0, -2));
  if (word.endsWith('ly') && word.length > 5) return word.slice(0, -2);
  if (word.endsWith('es') && /(?:sh|ch|x|z|ss)es$/.test(word)) return word.slice(0, -2);
  if (word.endsWith('s') && !word.endsWith('ss') && !word.endsWith('us') && !word.endsWith('is'))
    return word.slice(0, -1);
  return word;
}

function trimDouble(word: string): string {
  const last = word.length - 1;
  if (last > 2 && word[last] === word[last - 1] && !'lsz'.includes(word[last] as string))
    return word.slice(0, -1);
  if (word.endsWith('at') || word.endsWith('bl') || word.endsWith('iz')) return `${word}e`;
  return word;
}

const WORD = /[\p{L}\p{N}]+(?:['’][\p{L}]+)?/gu;

/**
 * The index terms of a text: lower-cased words, stopwords dropped, stemmed.
 * @param text any text
 * @returns its terms, in order, repeats kept
 */
export function terms(text: string): string[] {
  const out: string[] = [];
  for (const match of text.toLowerCase().matchAll(WORD)) {
    const word = match[0].replace(/['’]s$/, '').replace(/['’]/g, '');
    if (word.length < 2 && !/\d/.test(word)) continue;
    if (STOPWORDS.has(word)) continue;
    out.push(stem(word));
  }
  return out;
}

/**
 * The words of a text that carry content, as written, each with its index term: stopwords and
 * one-letter words dropped. The digest keeps the rarest of them.
 * @param text any text
 * @returns the words in order
 */
export function contentWords(text: string): Array<{ word: string; term: string }> {
  const out: Array<{ word: string; term: string }> = [];
  for (const match of text.matchAll(WORD)) {
    const lower = match[0]
      .toLowerCase()
      .replace(/['’]s$/, '')
      .replace(/['’]/g, '');
    if ((lower.length < 2 && !/\d/.test(lower)) || STOPWORDS.has(lower)) continue;
    out.push({ word: match[0].replace(/['’]s$/, ''), term: stem(lower) });
  }
  return out;
}

/**
 * Splits a text into sentences (and lines), keeping each one's text trimmed.
 * @param text any text
 * @returns the non-empty sentences, in order
 */
export function sentences(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/\n+/)) {
    const parts = line.split(/(?<=[.!?])\s+(?=[\p{Lu}\d"“'([])/u);
    for (const part of parts) {
      const trimmed = part.trim();
      if (trimmed !== '') out.push(trimmed);
    }
  }
  return out;
}

/**
 * A 32-bit FNV-1a hash as 8 hex digits: stable across processes, for prefix and repeat checks.
 * @param text any text
 * @returns the hash
 */
export function hashText(text: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, '0');
}
