import { RemError } from '../errors.js';
import type { NewReminderRecord, ReminderRecord } from '../types.js';

/**
 * The error for a list name that does not exist, naming the lists that do.
 * @param given the name asked for
 * @param known the names that exist
 * @returns a REM_UNKNOWN_LIST error
 */
export function unknownListError(given: string, known: string[]): RemError {
  const hint =
    known.length === 0
      ? `there are no lists yet; create one with: rem lm create "${given}"`
      : `lists are: ${known.join(', ')} (or create it with: rem lm create "${given}")`;
  return new RemError('REM_UNKNOWN_LIST', `no list "${given}"; ${hint}`, {
    details: { given, known },
  });
}

/**
 * A new record as stored: every field it leaves out takes its empty value (null, false, 0, no tags).
 * @param record the record as given
 * @param uid its uid
 * @param at the time for createdAt and updatedAt
 * @returns the whole record, without a revision
 */
export function filledRecord(record: NewReminderRecord, uid: string, at: string): ReminderRecord {
  return {
    uid,
    title: record.title,
    notes: record.notes ?? null,
    list: record.list,
    due: record.due ?? null,
    allDay: record.allDay ?? false,
    priority: record.priority ?? 0,
    flagged: record.flagged ?? false,
    completed: record.completed ?? false,
    completedAt: record.completedAt ?? null,
    url: record.url ?? null,
    tags: [...(record.tags ?? [])],
    repeat: record.repeat ?? null,
    createdAt: at,
    updatedAt: at,
  };
}
