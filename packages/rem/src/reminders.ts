import { filledRecord, unknownListError } from './backends/shared.js';
import { daysAfter, parseDue, startOfDay, toLocalIso } from './dates.js';
import { RemError } from './errors.js';
import type {
  IndexedReminder,
  NewReminderRecord,
  PriorityLabel,
  Reminder,
  ReminderBackend,
  ReminderList,
  ReminderRecord,
} from './types.js';

/** A due time as the library accepts it: a Date, ISO or natural-language text, or null to clear. */
export type DueInput = Date | string | null;

/** What {@link Reminders.add} takes. */
export interface AddReminderInput {
  title: string;
  /** The list to add to. @default the default list */
  list?: string;
  due?: DueInput;
  /** Force an all-day (true) or timed (false) due; by default it follows the text. */
  allDay?: boolean;
  /** `high`, `medium`, `low`, `none` or an iCalendar number 0-9. */
  priority?: PriorityLabel | number;
  notes?: string | null;
  url?: string | null;
  flagged?: boolean;
  tags?: string[];
  /** `daily`, `weekly`, `monthly`, `yearly`, `weekdays`, `every 2 weeks` or an RRULE. */
  repeat?: string | null;
}

/** What {@link Reminders.update} takes: every field optional; null clears. */
export interface UpdateReminderInput extends Partial<Omit<AddReminderInput, 'title' | 'list'>> {
  title?: string;
  /** Moves the reminder to this list. */
  list?: string;
}

/** The filters of {@link Reminders.list}. */
export interface ListFilter {
  list?: string;
  incomplete?: boolean;
  completed?: boolean;
  flagged?: boolean;
  dueBefore?: DueInput;
  dueAfter?: DueInput;
  /** Words that must all appear in the title or notes (case-insensitive). */
  search?: string;
}

/** One list with its counts. */
export interface ListSummary extends ReminderList {
  total: number;
  incomplete: number;
}

/** What {@link Reminders.stats} returns. */
export interface ReminderStats {
  total: number;
  completed: number;
  incomplete: number;
  flagged: number;
  overdue: number;
  dueToday: number;
  /** completed / total, 0 when there are none. */
  completionRate: number;
  lists: Array<{ name: string; total: number; completed: number; incomplete: number; overdue: number }>;
}

/** What {@link Reminders.completeWithNext} returns. */
export interface CompleteResult {
  /** The reminders named, now completed. */
  completed: Reminder[];
  /** New reminders carrying on the series of the repeating ones, at their next due. */
  next: Reminder[];
}

/** What {@link Reminders.addMany} returns. */
export interface ImportResult {
  /** Reminders created (or that would be, on a dry run). */
  created: Reminder[];
  /** Entries skipped and why (a uid that already exists, a missing title). */
  skipped: Array<{ title: string; reason: string }>;
  dryRun: boolean;
}

/** Options of {@link createReminders}. */
export interface RemindersOptions {
  backend: ReminderBackend;
  /** The list `add` uses when none is given. @default 'Reminders' if it exists, else the first list */
  defaultList?: string;
  /** The clock. @default () => new Date() */
  now?: () => Date;
}

/** The reminders library: every operation of the `rem` CLI and MCP server. */
export interface Reminders {
  readonly backend: ReminderBackend;
  list(filter?: ListFilter): Promise<Reminder[]>;
  get(ref: string): Promise<Reminder>;
  /** Resolves ids, unique id prefixes or uids; all of them or none (REM_NOT_FOUND, REM_AMBIGUOUS_ID). */
  resolve(refs: string[]): Promise<Reminder[]>;
  add(input: AddReminderInput): Promise<Reminder>;
  update(ref: string, input: UpdateReminderInput): Promise<Reminder>;
  /** Completes reminders; a repeating one is completed and a copy is made for its next due. */
  complete(refs: string[]): Promise<Reminder[]>;
  /** {@link Reminders.complete}, also returning the copies made for repeating reminders. */
  completeWithNext(refs: string[]): Promise<CompleteResult>;
  uncomplete(refs: string[]): Promise<Reminder[]>;
  delete(refs: string[]): Promise<Reminder[]>;
  search(query: string, filter?: Omit<ListFilter, 'search'>): Promise<Reminder[]>;
  lists(): Promise<ListSummary[]>;
  createList(name: string): Promise<ReminderList>;
  renameList(name: string, newName: string): Promise<ReminderList>;
  /** Deletes a list and returns how many reminders went with it. */
  deleteList(name: string): Promise<{ name: string; deleted: number }>;
  stats(): Promise<ReminderStats>;
  today(): Promise<Reminder[]>;
  overdue(): Promise<Reminder[]>;
  upcoming(days?: number): Promise<Reminder[]>;
  /** Adds many reminders, all validated before any is written. */
  addMany(inputs: AddReminderInput[], options?: { dryRun?: boolean }): Promise<ImportResult>;
  close(): Promise<void>;
}

const ID_LENGTH = 8;

/**
 * The short id of a uid: its 32-bit FNV-1a hash as 8 hex characters, stable across processes
 * and backends. FNV rather than a cryptographic hash because every listing computes one per
 * reminder and an id only has to spread well, not resist attack.
 * @param uid the iCalendar UID
 * @returns the short id
 */
export function shortId(uid: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < uid.length; index += 1) {
    hash ^= uid.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(ID_LENGTH, '0');
}

/**
 * The label of an iCalendar priority: 1-4 high, 5 medium, 6-9 low, 0 none.
 * @param priority 0-9
 * @returns the label
 */
export function priorityLabel(priority: number): PriorityLabel {
  if (priority >= 1 && priority <= 4) return 'high';
  if (priority === 5) return 'medium';
  if (priority >= 6 && priority <= 9) return 'low';
  return 'none';
}

const PRIORITY_VALUES: Record<PriorityLabel, number> = { high: 1, medium: 5, low: 9, none: 0 };

/**
 * Reads a priority given as a label or a number.
 * @param value `high`, `medium`, `low`, `none`, or 0-9
 * @returns the iCalendar number
 * @throws RemError REM_INVALID_INPUT for anything else
 */
export function parsePriority(value: PriorityLabel | number | string): number {
  if (typeof value === 'number' || /^\d$/.test(value)) {
    const number = Number(value);
    if (Number.isInteger(number) && number >= 0 && number <= 9) return number;
  } else {
    const label = value.toLowerCase() as PriorityLabel;
    if (Object.hasOwn(PRIORITY_VALUES, label)) return PRIORITY_VALUES[label];
  }
  throw new RemError(
    'REM_INVALID_INPUT',
    `priority "${value}" is not one of high, medium, low, none or a number 0-9`,
    { details: { field: 'priority', given: value } },
  );
}

const REPEAT_SHORTHANDS: Record<string, string> = {
  daily: 'FREQ=DAILY',
  weekly: 'FREQ=WEEKLY',
  monthly: 'FREQ=MONTHLY',
  yearly: 'FREQ=YEARLY',
  annually: 'FREQ=YEARLY',
  weekdays: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR',
};
const REPEAT_UNITS: Record<string, string> = {
  day: 'DAILY',
  days: 'DAILY',
  week: 'WEEKLY',
  weeks: 'WEEKLY',
  month: 'MONTHLY',
  months: 'MONTHLY',
  year: 'YEARLY',
  years: 'YEARLY',
};

/**
 * Reads a recurrence: `daily`, `weekly`, `monthly`, `yearly`, `weekdays`, `every N days|weeks|
 * months|years`, or an RRULE (with or without the `RRULE:` prefix).
 * @param value what the user typed
 * @returns the RRULE value
 * @throws RemError REM_INVALID_INPUT naming the forms that work
 */
export function parseRepeat(value: string): string {
  const text = value.trim();
  const lower = text.toLowerCase();
  const shorthand = Object.hasOwn(REPEAT_SHORTHANDS, lower) ? REPEAT_SHORTHANDS[lower] : undefined;
  if (shorthand) return shorthand;
  const every = /^every\s+(\d+)\s+([a-z]+)$/.exec(lower);
  if (every) {
    const unit = every[2] ?? '';
    const freq = Object.hasOwn(REPEAT_UNITS, unit) ? REPEAT_UNITS[unit] : undefined;
    const interval = Number(every[1]);
    if (freq && interval >= 1) return interval === 1 ? `FREQ=${freq}` : `FREQ=${freq};INTERVAL=${interval}`;
  }
  const rule = text.replace(/^rrule:/i, '').toUpperCase();
  if (/^FREQ=(SECONDLY|MINUTELY|HOURLY|DAILY|WEEKLY|MONTHLY|YEARLY)(;[A-Z]+=[A-Z0-9,+:-]+)*$/.test(rule)) {
    return rule;
  }
  if (
    /^(FREQ=[^;]+)?(;?[A-Z]+=[A-Z0-9,+:-]+)+$/.test(rule) &&
    /(^|;)FREQ=(SECONDLY|MINUTELY|HOURLY|DAILY|WEEKLY|MONTHLY|YEARLY)(;|$)/.test(rule)
  ) {
    return rule;
  }
  throw new RemError(
    'REM_INVALID_INPUT',
    `repeat "${value}" is not understood; use daily, weekly, monthly, yearly, weekdays, "every 2 weeks" or an RRULE such as FREQ=WEEKLY;BYDAY=MO`,
    { details: { field: 'repeat', given: value } },
  );
}

function validateUrl(value: string): string {
  try {
    return new URL(value).href;
  } catch (error) {
    throw new RemError(
      'REM_INVALID_INPUT',
      `url "${value}" is not an absolute URL such as https://example.com/page`,
      {
        cause: error,
        details: { field: 'url', given: value },
      },
    );
  }
}

function present(record: ReminderRecord): Reminder {
  // Spelled out rather than spread: one object shape, built fast, for every reminder listed.
  return {
    id: shortId(record.uid),
    uid: record.uid,
    title: record.title,
    notes: record.notes,
    list: record.list,
    due: record.due,
    allDay: record.allDay,
    priority: record.priority,
    priorityLabel: priorityLabel(record.priority),
    flagged: record.flagged,
    completed: record.completed,
    completedAt: record.completedAt,
    url: record.url,
    tags: record.tags,
    repeat: record.repeat,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

/** Sort: incomplete first, then by due (undated last), priority (high first), title. */
function sortReminders(reminders: Reminder[]): Reminder[] {
  // Keys computed once per reminder: parsing dates inside the comparator dominated listing time.
  const keyed = reminders.map((reminder) => ({
    reminder,
    due: reminder.due ? Date.parse(reminder.due) : Number.POSITIVE_INFINITY,
    rank: reminder.priority === 0 ? 10 : reminder.priority,
  }));
  keyed.sort((a, b) => {
    if (a.reminder.completed !== b.reminder.completed) return a.reminder.completed ? 1 : -1;
    if (a.due !== b.due) return a.due - b.due;
    if (a.rank !== b.rank) return a.rank - b.rank;
    return a.reminder.title < b.reminder.title ? -1 : a.reminder.title > b.reminder.title ? 1 : 0;
  });
  return keyed.map((entry) => entry.reminder);
}

async function readDue(value: DueInput, now: Date): Promise<{ due: string; allDay: boolean } | null> {
  if (value === null) return null;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) {
      throw new RemError('REM_BAD_DATE', 'an invalid Date was given as a due time');
    }
    return { due: toLocalIso(value), allDay: false };
  }
  const parsed = await parseDue(value, now);
  return { due: toLocalIso(parsed.date), allDay: parsed.allDay };
}

async function readBound(value: DueInput | undefined, now: Date, field: string): Promise<number | undefined> {
  if (value === undefined || value === null) return undefined;
  try {
    const parsed = value instanceof Date ? value : (await parseDue(value, now)).date;
    return parsed.getTime();
  } catch (error) {
    if (RemError.isInstance(error)) {
      throw new RemError('REM_BAD_DATE', `${field}: ${error.message}`, {
        cause: error,
        details: error.details ?? {},
      });
    }
    throw error;
  }
}

/** A reminder's due as a comparable instant; an all-day due counts as the end of its day. */
function dueInstant(reminder: Reminder): number | undefined {
  if (!reminder.due) return undefined;
  const time = Date.parse(reminder.due);
  return reminder.allDay ? daysAfter(new Date(time), 1).getTime() - 1 : time;
}

/**
 * The reminders library over one backend: ids by unique prefix, natural-language dates,
 * filters, batches resolved before anything changes.
 * @param options the backend, a default list and a clock
 * @returns the library
 * @example
 * ```ts
 * import { createReminders, createMemoryBackend } from '@ballast/rem';
 * const reminders = createReminders({ backend: createMemoryBackend() });
 * const added = await reminders.add({ title: 'Call Ana', due: 'tomorrow 9am', priority: 'high' });
 * await reminders.complete([added.id.slice(0, 4)]);
 * ```
 */
export function createReminders(options: RemindersOptions): Reminders {
  const { backend } = options;
  const clock = options.now ?? (() => new Date());

  const all = async (): Promise<Reminder[]> => (await backend.reminders()).map(present);

  /** Records by uid, for the update paths that need revisions. */
  const loadRecords = async (): Promise<ReminderRecord[]> => backend.reminders();

  /**
   * resolveIn over the backend's cache when it has one and vouches for the reminders picked, else
   * over every reminder. An error always comes from the full listing, so it is never stale.
   */
  const resolveRecords = async (refs: string[]): Promise<ReminderRecord[]> => {
    const indexed = await backend.indexed?.();
    if (indexed !== undefined) {
      let targets: ReminderRecord[] | undefined;
      try {
        targets = indexed.confirm(resolveIn(indexed.entries, refs));
      } catch {
        targets = undefined;
      }
      if (targets !== undefined) return targets;
    }
    return resolveIn(await loadRecords(), refs);
  };

  const resolveIn = <T extends IndexedReminder>(records: T[], refs: string[]): T[] => {
    if (refs.length === 0) {
      throw new RemError('REM_INVALID_INPUT', 'no reminder id was given; run `rem list` to see ids');
    }
    const withIds = records.map((record) => ({ record, id: shortId(record.uid) }));
    const problems: string[] = [];
    const found: T[] = [];
    let ambiguous = false;
    for (const ref of refs) {
      const wanted = ref.trim().toLowerCase();
      const exact = withIds.filter(
        (entry) => entry.id === wanted || entry.record.uid.toLowerCase() === wanted,
      );
      const matches =
        exact.length > 0
          ? exact
          : wanted === ''
            ? []
            : withIds.filter(
                (entry) => entry.id.startsWith(wanted) || entry.record.uid.toLowerCase().startsWith(wanted),
              );
      if (matches.length === 1 && matches[0]) {
        found.push(matches[0].record);
      } else if (matches.length === 0) {
        problems.push(`no reminder has id "${ref}"`);
      } else {
        ambiguous = true;
        const shown = matches
          .slice(0, 5)
          .map((entry) => `${entry.id} "${entry.record.title}"`)
          .join(', ');
        problems.push(
          `id "${ref}" matches ${matches.length} reminders (${shown}${matches.length > 5 ? ', …' : ''}); give more characters`,
        );
      }
    }
    if (problems.length > 0) {
      const message = `${problems.join('; ')}. Nothing was changed; run \`rem list\` to see ids.`;
      throw new RemError(ambiguous ? 'REM_AMBIGUOUS_ID' : 'REM_NOT_FOUND', message, {
        details: { given: refs },
      });
    }
    // The same reminder named twice (by id and by uid) is changed once.
    return [...new Map(found.map((record) => [record.uid, record])).values()];
  };

  const requireList = async (name: string): Promise<ReminderList> => {
    const lists = await backend.lists();
    const match =
      lists.find((list) => list.name === name) ??
      lists.find((list) => list.name.toLowerCase() === name.toLowerCase());
    if (!match)
      throw unknownListError(
        name,
        lists.map((list) => list.name),
      );
    return match;
  };

  const defaultList = async (create = true): Promise<string> => {
    const lists = await backend.lists();
    if (options.defaultList) {
      const match = lists.find((list) => list.name === options.defaultList);
      if (match) return match.name;
      throw unknownListError(
        options.defaultList,
        lists.map((list) => list.name),
      );
    }
    const preferred = lists.find((list) => list.name === 'Reminders') ?? lists[0];
    if (preferred) return preferred.name;
    if (!create) return 'Reminders';
    // A fresh store: make the conventional default rather than refuse the first add.
    return (await backend.createList('Reminders')).name;
  };

  const checkCapabilities = (input: UpdateReminderInput): void => {
    const missing: string[] = [];
    const capabilities = backend.capabilities;
    if (input.flagged !== undefined && !capabilities.flagged) missing.push('flagged');
    if (input.url != null && !capabilities.url) missing.push('url');
    if (input.tags !== undefined && input.tags.length > 0 && !capabilities.tags) missing.push('tags');
    if (input.repeat != null && !capabilities.repeat) missing.push('repeat');
    if (missing.length > 0) {
      throw new RemError(
        'REM_UNSUPPORTED',
        `the ${backend.name} backend cannot store ${missing.join(', ')}; leave ${missing.length > 1 ? 'them' : 'it'} out or use the vdir or caldav backend`,
        { details: { fields: missing, backend: backend.name } },
      );
    }
  };

  /** Validates an add input into a record; throws before anything is written. */
  const prepare = async (input: AddReminderInput, now: Date, list: string): Promise<NewReminderRecord> => {
    const title = typeof input.title === 'string' ? input.title.trim() : '';
    if (title === '') {
      throw new RemError('REM_INVALID_INPUT', 'a reminder needs a title (a non-empty text)', {
        details: { field: 'title' },
      });
    }
    checkCapabilities(input);
    const due = input.due === undefined ? null : await readDue(input.due, now);
    const record: NewReminderRecord = { title, list };
    if (due) {
      record.due = due.due;
      record.allDay = input.allDay ?? due.allDay;
      if (record.allDay && !due.allDay) record.due = toLocalIso(startOfDay(new Date(due.due)));
    }
    if (input.priority !== undefined) record.priority = parsePriority(input.priority);
    if (input.notes) record.notes = input.notes;
    if (input.url) record.url = validateUrl(input.url);
    if (input.flagged) record.flagged = true;
    if (input.tags && input.tags.length > 0)
      record.tags = input.tags.map((tag) => tag.trim()).filter(Boolean);
    if (input.repeat) record.repeat = parseRepeat(input.repeat);
    if (record.repeat && !record.due) {
      throw new RemError('REM_INVALID_INPUT', 'a repeating reminder needs a due date (--due)', {
        details: { field: 'repeat' },
      });
    }
    return record;
  };

  const setCompleted = async (refs: string[], completed: boolean): Promise<CompleteResult> => {
    const targets = await resolveRecords(refs);
    const at = toLocalIso(clock());
    const changed: Reminder[] = [];
    const following: Reminder[] = [];
    for (const record of targets) {
      if (record.completed === completed) {
        changed.push(present(record));
        continue;
      }
      const next: ReminderRecord = { ...record, completed, completedAt: completed ? at : null };
      if (completed && record.repeat && record.due) {
        // As todoman does: this occurrence is done and a copy carries the series on.
        const { nextOccurrence } = await import('./recurrence.js');
        const upcoming = nextOccurrence(record.repeat, record.due, record.allDay);
        next.repeat = null;
        changed.push(present(await backend.update(next)));
        if (upcoming) {
          const {
            uid: _uid,
            revision: _revision,
            createdAt: _created,
            updatedAt: _updated,
            ...rest
          } = record;
          const copy: NewReminderRecord = {
            ...rest,
            tags: [...record.tags],
            due: upcoming.due,
            repeat: upcoming.repeat,
          };
          following.push(present(await backend.create(copy)));
        }
        continue;
      }
      changed.push(present(await backend.update(next)));
    }
    return { completed: changed, next: following };
  };

  const filterReminders = async (
    reminders: Reminder[],
    filter: ListFilter,
    now: Date,
  ): Promise<Reminder[]> => {
    if (filter.incomplete && filter.completed) {
      throw new RemError('REM_INVALID_INPUT', '--incomplete and --completed exclude each other; give one');
    }
    let listName: string | undefined;
    if (filter.list !== undefined) listName = (await requireList(filter.list)).name;
    const before = await readBound(filter.dueBefore, now, 'due-before');
    const after = await readBound(filter.dueAfter, now, 'due-after');
    const words = (filter.search ?? '').toLowerCase().split(/\s+/).filter(Boolean);
    return sortReminders(
      reminders.filter((reminder) => {
        if (listName !== undefined && reminder.list !== listName) return false;
        if (filter.incomplete && reminder.completed) return false;
        if (filter.completed && !reminder.completed) return false;
        if (filter.flagged && !reminder.flagged) return false;
        if (before !== undefined || after !== undefined) {
          if (!reminder.due) return false;
          const due = Date.parse(reminder.due);
          if (before !== undefined && due >= before) return false;
          if (after !== undefined && due <= after) return false;
        }
        if (words.length > 0) {
          const haystack =
            `${reminder.title}\n${reminder.notes ?? ''}\n${reminder.tags.join(' ')}`.toLowerCase();
          if (!words.every((word) => haystack.includes(word))) return false;
        }
        return true;
      }),
    );
  };

  const api: Reminders = {
    backend,
    async list(filter = {}) {
      return filterReminders(await all(), filter, clock());
    },
    async get(ref) {
      const [record] = await resolveRecords([ref]);
      if (!record) throw new RemError('REM_NOT_FOUND', `no reminder has id "${ref}"`);
      return present(record);
    },
    async resolve(refs) {
      return (await resolveRecords(refs)).map(present);
    },
    async add(input) {
      const named = input.list === undefined ? undefined : (await requireList(input.list)).name;
      // Validate everything before the default list may be created, so bad input changes nothing.
      const record = await prepare(input, clock(), named ?? '');
      record.list = named ?? (await defaultList());
      return present(await backend.create(record));
    },
    async addMany(inputs, addOptions = {}) {
      const now = clock();
      const lists = await backend.lists();
      const existing = new Set((await loadRecords()).map((record) => record.uid));
      const prepared: NewReminderRecord[] = [];
      const skipped: ImportResult['skipped'] = [];
      // Not created yet: an invalid entry must leave the store as it was.
      const fallbackList = inputs.some((input) => input.list === undefined)
        ? await defaultList(false)
        : undefined;
      for (const [index, input] of inputs.entries()) {
        const uid = (input as { uid?: unknown }).uid;
        if (typeof uid === 'string' && existing.has(uid)) {
          skipped.push({ title: String(input.title), reason: `uid ${uid} already exists` });
          continue;
        }
        const listName = input.list ?? fallbackList ?? 'Reminders';
        if (!lists.some((candidate) => candidate.name === listName) && listName !== fallbackList) {
          const error = unknownListError(
            listName,
            lists.map((candidate) => candidate.name),
          );
          throw new RemError(
            'REM_UNKNOWN_LIST',
            `entry ${index + 1} ("${String(input.title ?? '')}"): ${error.message}; or pass --list to put every entry in one list. Nothing was imported.`,
            {
              details: error.details ?? {},
            },
          );
        }
        try {
          const record = await prepare(input, now, listName);
          if (typeof uid === 'string' && uid !== '') record.uid = uid;
          const completed = (input as { completed?: unknown }).completed;
          if (completed === true) {
            record.completed = true;
            const completedAt = (input as { completedAt?: unknown }).completedAt;
            record.completedAt = typeof completedAt === 'string' ? completedAt : toLocalIso(now);
          }
          prepared.push(record);
          // A uid repeated in the same file is skipped like one already stored.
          if (typeof uid === 'string' && uid !== '') existing.add(uid);
        } catch (error) {
          if (RemError.isInstance(error)) {
            throw new RemError(
              error.code as never,
              `entry ${index + 1} ("${String(input.title ?? '')}"): ${error.message}`,
              {
                cause: error,
              },
            );
          }
          throw error;
        }
      }
      if (
        !addOptions.dryRun &&
        fallbackList !== undefined &&
        !lists.some((candidate) => candidate.name === fallbackList) &&
        prepared.some((record) => record.list === fallbackList)
      ) {
        await backend.createList(fallbackList);
      }
      const created: Reminder[] = [];
      for (const record of prepared) {
        if (addOptions.dryRun) {
          const at = toLocalIso(now);
          created.push(present(filledRecord(record, record.uid ?? `(new ${created.length + 1})`, at)));
        } else {
          created.push(present(await backend.create(record)));
        }
      }
      return { created, skipped, dryRun: addOptions.dryRun ?? false };
    },
    async update(ref, input) {
      const [record] = await resolveRecords([ref]);
      if (!record) throw new RemError('REM_NOT_FOUND', `no reminder has id "${ref}"`);
      checkCapabilities(input);
      const next: ReminderRecord = { ...record, tags: [...record.tags] };
      if (input.title !== undefined) {
        if (input.title.trim() === '') {
          throw new RemError('REM_INVALID_INPUT', 'the title cannot be empty', {
            details: { field: 'title' },
          });
        }
        next.title = input.title.trim();
      }
      if (input.list !== undefined) next.list = (await requireList(input.list)).name;
      if (input.due !== undefined) {
        const due = await readDue(input.due, clock());
        next.due = due?.due ?? null;
        next.allDay = due ? (input.allDay ?? due.allDay) : false;
        if (due && next.allDay && !due.allDay) next.due = toLocalIso(startOfDay(new Date(due.due)));
      }
      if (input.priority !== undefined) next.priority = parsePriority(input.priority);
      if (input.notes !== undefined) next.notes = input.notes === '' ? null : input.notes;
      if (input.url !== undefined)
        next.url = input.url === null || input.url === '' ? null : validateUrl(input.url);
      if (input.flagged !== undefined) next.flagged = input.flagged;
      if (input.tags !== undefined) next.tags = input.tags.map((tag) => tag.trim()).filter(Boolean);
      if (input.repeat !== undefined)
        next.repeat = input.repeat === null || input.repeat === '' ? null : parseRepeat(input.repeat);
      if (next.repeat && !next.due) {
        throw new RemError('REM_INVALID_INPUT', 'a repeating reminder needs a due date (--due)', {
          details: { field: 'repeat' },
        });
      }
      return present(await backend.update(next));
    },
    complete: async (refs) => (await setCompleted(refs, true)).completed,
    completeWithNext: (refs) => setCompleted(refs, true),
    uncomplete: async (refs) => (await setCompleted(refs, false)).completed,
    async delete(refs) {
      const targets = await resolveRecords(refs);
      await backend.delete(targets);
      return targets.map(present);
    },
    async search(query, filter = {}) {
      if (query.trim() === '') {
        throw new RemError('REM_INVALID_INPUT', 'search needs some words to look for');
      }
      return filterReminders(await all(), { ...filter, search: query }, clock());
    },
    async lists() {
      const [lists, records] = await Promise.all([backend.lists(), backend.reminders()]);
      return lists.map((list) => {
        const inList = records.filter((record) => record.list === list.name);
        return {
          ...list,
          total: inList.length,
          incomplete: inList.filter((record) => !record.completed).length,
        };
      });
    },
    async createList(name) {
      const trimmed = name.trim();
      if (trimmed === '') throw new RemError('REM_INVALID_INPUT', 'a list needs a name');
      return backend.createList(trimmed);
    },
    async renameList(name, newName) {
      const list = await requireList(name);
      if (newName.trim() === '') throw new RemError('REM_INVALID_INPUT', 'the new list name cannot be empty');
      return backend.renameList(list.name, newName.trim());
    },
    async deleteList(name) {
      const list = await requireList(name);
      const records = await backend.reminders({ lists: [list.name] });
      await backend.deleteList(list.name);
      return { name: list.name, deleted: records.filter((record) => record.list === list.name).length };
    },
    async stats() {
      const reminders = await all();
      const now = clock().getTime();
      const today = startOfDay(clock());
      const tomorrow = daysAfter(today, 1).getTime();
      const isOverdue = (reminder: Reminder): boolean => {
        const due = dueInstant(reminder);
        return !reminder.completed && due !== undefined && due < now;
      };
      const byList = new Map<string, ReminderStats['lists'][number]>();
      for (const list of await backend.lists()) {
        byList.set(list.name, { name: list.name, total: 0, completed: 0, incomplete: 0, overdue: 0 });
      }
      let completed = 0;
      let flagged = 0;
      let overdue = 0;
      let dueToday = 0;
      for (const reminder of reminders) {
        const entry =
          byList.get(reminder.list) ??
          byList
            .set(reminder.list, { name: reminder.list, total: 0, completed: 0, incomplete: 0, overdue: 0 })
            .get(reminder.list);
        if (!entry) continue;
        entry.total += 1;
        if (reminder.completed) {
          completed += 1;
          entry.completed += 1;
        } else {
          entry.incomplete += 1;
        }
        if (reminder.flagged) flagged += 1;
        if (isOverdue(reminder)) {
          overdue += 1;
          entry.overdue += 1;
        }
        if (!reminder.completed && reminder.due) {
          const due = Date.parse(reminder.due);
          if (due >= today.getTime() && due < tomorrow) dueToday += 1;
        }
      }
      return {
        total: reminders.length,
        completed,
        incomplete: reminders.length - completed,
        flagged,
        overdue,
        dueToday,
        completionRate: reminders.length === 0 ? 0 : completed / reminders.length,
        lists: [...byList.values()],
      };
    },
    async today() {
      const start = startOfDay(clock()).getTime();
      const end = daysAfter(clock(), 1).getTime();
      return sortReminders(
        (await all()).filter((reminder) => {
          if (reminder.completed || !reminder.due) return false;
          const due = Date.parse(reminder.due);
          return due >= start && due < end;
        }),
      );
    },
    async overdue() {
      const now = clock().getTime();
      return sortReminders(
        (await all()).filter((reminder) => {
          const due = dueInstant(reminder);
          return !reminder.completed && due !== undefined && due < now;
        }),
      );
    },
    async upcoming(days = 7) {
      if (!Number.isInteger(days) || days < 1) {
        throw new RemError('REM_INVALID_INPUT', `--days must be a whole number of days ≥ 1, got ${days}`, {
          details: { field: 'days', given: days },
        });
      }
      const now = clock();
      const start = startOfDay(now).getTime();
      const end = daysAfter(now, days + 1).getTime();
      return sortReminders(
        (await all()).filter((reminder) => {
          if (reminder.completed || !reminder.due) return false;
          const due = Date.parse(reminder.due);
          const instant = dueInstant(reminder) ?? due;
          return instant >= now.getTime() && due >= start && due < end;
        }),
      );
    },
    close: () => backend.close(),
  };
  return api;
}
