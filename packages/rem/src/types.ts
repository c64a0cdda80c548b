/** How urgent a reminder is, as `rem` names it. */
export type PriorityLabel = 'high' | 'medium' | 'low' | 'none';

/**
 * A reminder as a backend stores it: everything but the short id, which the library derives
 * from `uid`.
 */
export interface ReminderRecord {
  /** The iCalendar UID (or EventKit calendarItemExternalIdentifier); stable across processes. */
  uid: string;
  title: string;
  notes: string | null;
  /** The name of the list (vdir folder, CalDAV calendar, EventKit calendar) holding it. */
  list: string;
  /** Due time as ISO 8601 with offset, or null. An all-day due is local midnight. */
  due: string | null;
  allDay: boolean;
  /** iCalendar priority: 0 none, 1-4 high, 5 medium, 6-9 low. */
  priority: number;
  flagged: boolean;
  completed: boolean;
  completedAt: string | null;
  url: string | null;
  tags: string[];
  /** The recurrence as an RRULE value (`FREQ=WEEKLY;BYDAY=MO`), or null. */
  repeat: string | null;
  createdAt: string | null;
  updatedAt: string | null;
  /**
   * An opaque version tag (a CalDAV ETag, a hash of the vdir file) used to refuse an update
   * when the item changed underneath. Absent when the backend has no notion of versions.
   */
  revision?: string;
}

/** A reminder as the library, the CLI and the MCP server present it. */
export interface Reminder extends Omit<ReminderRecord, 'revision'> {
  /** Short id derived from `uid`; any unique prefix of it addresses the reminder. */
  id: string;
  priorityLabel: PriorityLabel;
}

/** What a new reminder needs; every field but `title` and `list` has a default. */
export interface NewReminderRecord {
  title: string;
  list: string;
  notes?: string | null;
  due?: string | null;
  allDay?: boolean;
  priority?: number;
  flagged?: boolean;
  completed?: boolean;
  completedAt?: string | null;
  url?: string | null;
  tags?: string[];
  repeat?: string | null;
  /** A UID to keep (imports); a fresh one is made when absent. */
  uid?: string;
}

/** One list (vdir folder, CalDAV calendar, EventKit calendar). */
export interface ReminderList {
  name: string;
  /** Backend-specific handle: the folder name, the calendar URL, the EventKit identifier. */
  handle: string;
  color: string | null;
}

/** What a backend can store; the library refuses a field the backend would drop. */
export interface BackendCapabilities {
  flagged: boolean;
  url: boolean;
  tags: boolean;
  repeat: boolean;
  /** Lists can be created, renamed and deleted. */
  listManagement: boolean;
}

/** A reminder as a cache last saw it: enough to resolve an id. */
export interface IndexedReminder {
  uid: string;
  title: string;
}

/** What {@link ReminderBackend.indexed} returns. */
export interface IndexedReminders {
  /** Every reminder as last indexed; a file changed since may read differently now. */
  entries: IndexedReminder[];
  /**
   * The whole records of `entries` (some of those above), when their files are still as indexed
   * (a stat each); undefined when one is not.
   */
  confirm(entries: IndexedReminder[]): ReminderRecord[] | undefined;
}

/**
 * The storage under the library. Every method may throw a {@link RemError}; a backend never
 * prints. Records passed in and out are plain data.
 */
export interface ReminderBackend {
  /** `vdir`, `caldav`, `eventkit` or `memory`. */
  readonly name: string;
  readonly capabilities: BackendCapabilities;
  /** Every list, sorted by name. */
  lists(): Promise<ReminderList[]>;
  /** Every reminder in every list (or in the named lists only). */
  reminders(options?: { lists?: string[] }): Promise<ReminderRecord[]>;
  /**
   * Optional: every reminder from a cache, without checking each one, or undefined when the cache
   * cannot answer. The library resolves ids with it and falls back to reminders() unless the
   * reminders it picked are confirmed. vdir has one: a thousand stats cost more than the rest of
   * `rem complete`.
   */
  indexed?(): Promise<IndexedReminders | undefined>;
  /** Stores a new reminder in `record.list` (which must exist) and returns it as stored. */
  create(record: NewReminderRecord): Promise<ReminderRecord>;
  /**
   * Replaces the stored reminder with `record` (same `uid`). `record.revision`, when present,
   * must still match the stored one, else REM_CONFLICT. A changed `record.list` moves it.
   */
  update(record: ReminderRecord): Promise<ReminderRecord>;
  /** Deletes reminders by uid; an unknown uid is REM_NOT_FOUND and nothing is deleted. */
  delete(records: ReminderRecord[]): Promise<void>;
  createList(name: string): Promise<ReminderList>;
  renameList(name: string, newName: string): Promise<ReminderList>;
  /** Deletes a list and every reminder in it. */
  deleteList(name: string): Promise<void>;
  /** Releases processes, sockets and files. */
  close(): Promise<void>;
}
