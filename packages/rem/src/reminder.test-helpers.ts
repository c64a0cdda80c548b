import { shortId } from './reminders.js';
import type { Reminder } from './types.js';

/**
 * A reminder for tests: every field at its empty default, `id` derived from `uid` as the library
 * derives it, overridden by `fields`.
 * @param fields at least a uid and a title
 * @returns the reminder
 */
export function makeReminder(fields: Partial<Reminder> & { uid: string; title: string }): Reminder {
  return {
    id: shortId(fields.uid),
    notes: null,
    list: 'Reminders',
    due: null,
    allDay: false,
    priority: 0,
    priorityLabel: 'none',
    flagged: false,
    completed: false,
    completedAt: null,
    url: null,
    tags: [],
    repeat: null,
    createdAt: null,
    updatedAt: null,
    ...fields,
  };
}
