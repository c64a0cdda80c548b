// Value rules shared by the ical.js serializer (vtodo.ts) and the line-level patcher
// (quick-patch.ts), which must agree on what counts as a change.

/** null for null, undefined and the empty string; the value otherwise. */
export function nonEmpty(value: string | null | undefined): string | null {
  return value === null || value === undefined || value === '' ? null : value;
}

/** CR LF and a bare CR become LF, the one line break TEXT values hold. */
export function normalizeLineBreaks(value: string): string {
  return value.replace(/\r\n?/g, '\n');
}

/** Tags trimmed, line breaks made spaces, empties and repeats dropped, order kept. */
export function uniqueTags(tags: string[]): string[] {
  const unique: string[] = [];
  for (const tag of tags) {
    const trimmed = tag.replace(/[\r\n]+/g, ' ').trim();
    if (trimmed !== '' && !unique.includes(trimmed)) unique.push(trimmed);
  }
  return unique;
}

export function sameList(left: string[], right: string[]): boolean {
  return left.length === right.length && left.every((value, index) => value === right[index]);
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

/** A UTC DATE-TIME value, as ical.js writes one: 20261125T170000Z. */
export function utcStamp(date: Date): string {
  return (
    `${pad(date.getUTCFullYear(), 4)}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}` +
    `T${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}Z`
  );
}
