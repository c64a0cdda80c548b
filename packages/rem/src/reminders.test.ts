import { describe, expect, it } from 'vitest';
import { createMemoryBackend } from './backends/memory.js';
import { toLocalIso } from './dates.js';
import { RemError } from './errors.js';
import {
  createReminders,
  parsePriority,
  parseRepeat,
  priorityLabel,
  type Reminders,
  shortId,
} from './reminders.js';
import type { ImportEntry } from './transfer.js';
import type { Reminder, ReminderBackend } from './types.js';

// Expected dates are built with local-time constructors, so the tests hold in any zone.
/** Wednesday 25 November 2026, 10:30 local time. */
const NOW = new Date(2026, 10, 25, 10, 30);

function localIso(year: number, monthIndex: number, day: number, hours = 0, minutes = 0): string {
  return toLocalIso(new Date(year, monthIndex, day, hours, minutes));
}

interface Harness {
  backend: ReminderBackend;
  reminders: Reminders;
}

function createHarness(
  setup: { lists?: string[]; defaultList?: string; backend?: ReminderBackend } = {},
): Harness {
  const backend =
    setup.backend ?? createMemoryBackend({ lists: setup.lists ?? ['Reminders', 'Work'], now: () => NOW });
  const reminders = createReminders({
    backend,
    now: () => NOW,
    ...(setup.defaultList === undefined ? {} : { defaultList: setup.defaultList }),
  });
  return { backend, reminders };
}

/** A backend that stores no flags, URLs, tags or recurrences (as EventKit over AppleScript would not). */
function createLimitedBackend(): ReminderBackend {
  const backend = createMemoryBackend({ lists: ['Reminders'], now: () => NOW });
  return {
    ...backend,
    name: 'limited',
    capabilities: { flagged: false, url: false, tags: false, repeat: false, listManagement: false },
  };
}

async function rejection(promise: Promise<unknown>): Promise<RemError> {
  try {
    await promise;
  } catch (error) {
    if (RemError.isInstance(error)) return error as RemError;
    throw error;
  }
  throw new Error('expected a RemError, but the call succeeded');
}

function thrown(action: () => unknown): RemError {
  try {
    action();
  } catch (error) {
    if (RemError.isInstance(error)) return error as RemError;
    throw error;
  }
  throw new Error('expected a RemError, but the call succeeded');
}

function titles(reminders: Reminder[]): string[] {
  return reminders.map((reminder) => reminder.title);
}

/** Two uids whose short ids start with the same character, so that character is ambiguous. */
function uidsSharingFirstIdCharacter(): [string, string] {
  const seen = new Map<string, string>();
  for (let index = 0; index < 100; index += 1) {
    const uid = `shared-${index}`;
    const first = shortId(uid).charAt(0);
    const earlier = seen.get(first);
    if (earlier !== undefined) return [earlier, uid];
    seen.set(first, uid);
  }
  throw new Error('no two uids share a first id character');
}

/** A week of reminders around NOW, in the lists Reminders and Work. */
async function seedWeek(reminders: Reminders): Promise<void> {
  await reminders.add({ title: 'Pay rent', due: 'yesterday 9am' });
  await reminders.add({ title: 'Old all-day', due: 'yesterday' });
  await reminders.add({ title: 'Call Ana', due: 'today 17:00', flagged: true, priority: 'high' });
  await reminders.add({ title: 'Water plants', due: 'today' });
  await reminders.add({ title: 'Buy bread', due: 'tomorrow 9am', notes: 'sourdough from the corner shop' });
  await reminders.add({ title: 'Book flights', due: '2026-12-02 09:00', tags: ['travel'] });
  await reminders.add({ title: 'Renew passport', due: '2026-12-03 09:00', tags: ['travel'] });
  const filed = await reminders.add({ title: 'Filed taxes', due: 'yesterday 12:00' });
  await reminders.complete([filed.id]);
  await reminders.add({ title: 'Standup notes', list: 'Work', due: 'today 8am' });
  await reminders.add({ title: 'Someday idea', list: 'Work' });
}

describe('shortId', () => {
  describe('when given a uid', () => {
    it('returns its 32-bit FNV-1a hash as 8 hex characters', () => {
      // Published FNV-1a test vectors.
      expect(shortId('a')).toBe('e40c292c');
      expect(shortId('foobar')).toBe('bf9cf968');
      expect(shortId('')).toBe('811c9dc5');
    });
  });
});

describe('priorityLabel', () => {
  describe('when given each iCalendar priority', () => {
    it('maps 1-4 to high, 5 to medium, 6-9 to low and 0 to none', () => {
      expect([0, 1, 4, 5, 6, 9].map(priorityLabel)).toEqual(['none', 'high', 'high', 'medium', 'low', 'low']);
    });
  });
});

describe('parsePriority', () => {
  describe('when given a label in any case', () => {
    it('returns its iCalendar number', () => {
      expect(['HIGH', 'medium', 'Low', 'none'].map(parsePriority)).toEqual([1, 5, 9, 0]);
    });
  });

  describe('when given a number or a digit', () => {
    it('returns the number', () => {
      expect(parsePriority(3)).toBe(3);
      expect(parsePriority('7')).toBe(7);
    });
  });

  describe('when given anything else', () => {
    it.each<string | number>(['urgent', 10, '10', 1.5, 'constructor', '__proto__'])(
      'refuses %s with REM_INVALID_INPUT',
      (value) => {
        expect(thrown(() => parsePriority(value)).code).toBe('REM_INVALID_INPUT');
      },
    );

    it('names the value and the accepted forms', () => {
      const error = thrown(() => parsePriority('urgent'));
      expect(error.message).toBe('priority "urgent" is not one of high, medium, low, none or a number 0-9');
    });
  });
});

describe('parseRepeat', () => {
  describe('when given a shorthand', () => {
    it.each([
      ['daily', 'FREQ=DAILY'],
      ['Weekly', 'FREQ=WEEKLY'],
      ['monthly', 'FREQ=MONTHLY'],
      ['annually', 'FREQ=YEARLY'],
      ['weekdays', 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR'],
    ])('reads %s as %s', (value, rule) => {
      expect(parseRepeat(value)).toBe(rule);
    });
  });

  describe('when given "every N units"', () => {
    it('adds an interval above one', () => {
      expect(parseRepeat('every 2 weeks')).toBe('FREQ=WEEKLY;INTERVAL=2');
      expect(parseRepeat('every 3 months')).toBe('FREQ=MONTHLY;INTERVAL=3');
    });

    it('leaves the interval out for one', () => {
      expect(parseRepeat('every 1 day')).toBe('FREQ=DAILY');
    });
  });

  describe('when given an RRULE', () => {
    it('strips the RRULE: prefix and upper-cases it', () => {
      expect(parseRepeat('rrule:freq=weekly;byday=mo')).toBe('FREQ=WEEKLY;BYDAY=MO');
    });

    it('accepts FREQ after other parts', () => {
      expect(parseRepeat('BYDAY=MO;FREQ=WEEKLY')).toBe('BYDAY=MO;FREQ=WEEKLY');
    });
  });

  describe('when given something else', () => {
    it.each([
      'fortnightly',
      'every 0 days',
      'every 2 fortnights',
      'every 2 constructor',
      'FREQ=FORTNIGHTLY',
      'constructor',
      '__proto__',
    ])('refuses %s with REM_INVALID_INPUT', (value) => {
      expect(thrown(() => parseRepeat(value)).code).toBe('REM_INVALID_INPUT');
    });

    it('names the value and the forms that work', () => {
      const error = thrown(() => parseRepeat('fortnightly'));
      expect(error.message).toContain('"fortnightly"');
      expect(error.message).toContain('every 2 weeks');
      expect(error.message).toContain('FREQ=WEEKLY;BYDAY=MO');
    });
  });
});

describe('createReminders', () => {
  describe('add', () => {
    describe('when given only a title', () => {
      it('stores it in the Reminders list with defaults', async () => {
        const { reminders } = createHarness();
        const added = await reminders.add({ title: '  Call Ana  ' });
        expect(added).toMatchObject({
          title: 'Call Ana',
          list: 'Reminders',
          due: null,
          allDay: false,
          priority: 0,
          priorityLabel: 'none',
          flagged: false,
          completed: false,
          notes: null,
          url: null,
          tags: [],
          repeat: null,
        });
        expect(added.id).toBe(shortId(added.uid));
        expect(await reminders.list()).toEqual([added]);
      });

      it('does not expose the backend revision', async () => {
        const { reminders } = createHarness();
        const added = await reminders.add({ title: 'Call Ana' });
        expect(added).not.toHaveProperty('revision');
        expect(await reminders.get(added.id)).not.toHaveProperty('revision');
      });
    });

    describe('when no Reminders list exists', () => {
      it('uses the first list by name', async () => {
        const { reminders } = createHarness({ lists: ['Work', 'Home'] });
        expect((await reminders.add({ title: 'Fix tap' })).list).toBe('Home');
      });

      it('creates a Reminders list in an empty store', async () => {
        const { reminders, backend } = createHarness({ lists: [] });
        expect((await reminders.add({ title: 'First' })).list).toBe('Reminders');
        expect((await backend.lists()).map((list) => list.name)).toEqual(['Reminders']);
      });

      it('leaves an empty store without lists when the input is bad', async () => {
        const { reminders, backend } = createHarness({ lists: [] });
        const error = await rejection(reminders.add({ title: 'First', due: 'whenever' }));
        expect(error.code).toBe('REM_BAD_DATE');
        expect(await backend.lists()).toEqual([]);
      });
    });

    describe('when a default list is configured', () => {
      it('uses it', async () => {
        const { reminders } = createHarness({ defaultList: 'Work' });
        expect((await reminders.add({ title: 'Standup' })).list).toBe('Work');
      });

      it('refuses one that does not exist, naming the lists that do', async () => {
        const { reminders } = createHarness({ defaultList: 'Errands' });
        const error = await rejection(reminders.add({ title: 'Standup' }));
        expect(error.code).toBe('REM_UNKNOWN_LIST');
        expect(error.message).toContain('Reminders, Work');
      });
    });

    describe('when given a list by another case', () => {
      it('stores it in the list of that name', async () => {
        const { reminders } = createHarness();
        expect((await reminders.add({ title: 'Standup', list: 'work' })).list).toBe('Work');
      });
    });

    describe('when given a list that does not exist', () => {
      it('refuses with REM_UNKNOWN_LIST and stores nothing', async () => {
        const { reminders } = createHarness();
        const error = await rejection(reminders.add({ title: 'Standup', list: 'Errands' }));
        expect(error.code).toBe('REM_UNKNOWN_LIST');
        expect(error.message).toContain('no list "Errands"');
        expect(error.details).toEqual({ given: 'Errands', known: ['Reminders', 'Work'] });
        expect(await reminders.list()).toEqual([]);
      });
    });

    describe('when given a due time as text', () => {
      it('stores a timed due as local ISO with offset', async () => {
        const { reminders } = createHarness();
        const added = await reminders.add({ title: 'Call Ana', due: 'tomorrow 9am' });
        expect(added.due).toBe(localIso(2026, 10, 26, 9, 0));
        expect(added.allDay).toBe(false);
      });

      it('stores a day without a time as all-day at local midnight', async () => {
        const { reminders } = createHarness();
        const added = await reminders.add({ title: 'Call Ana', due: 'fri' });
        expect(added.due).toBe(localIso(2026, 10, 27));
        expect(added.allDay).toBe(true);
      });

      it('moves a timed due to midnight when allDay is forced', async () => {
        const { reminders } = createHarness();
        const added = await reminders.add({ title: 'Call Ana', due: 'fri 3pm', allDay: true });
        expect(added.due).toBe(localIso(2026, 10, 27));
        expect(added.allDay).toBe(true);
      });

      it('refuses text that is not a date and stores nothing', async () => {
        const { reminders } = createHarness();
        const error = await rejection(reminders.add({ title: 'Call Ana', due: 'whenever' }));
        expect(error.code).toBe('REM_BAD_DATE');
        expect(error.message).toContain('"whenever"');
        expect(await reminders.list()).toEqual([]);
      });
    });

    describe('when given a due time as a Date', () => {
      it('stores that instant as a timed due', async () => {
        const { reminders } = createHarness();
        const added = await reminders.add({ title: 'Call Ana', due: new Date(2026, 11, 1, 14, 30) });
        expect(added.due).toBe(localIso(2026, 11, 1, 14, 30));
        expect(added.allDay).toBe(false);
      });

      it('refuses an invalid Date with REM_BAD_DATE', async () => {
        const { reminders } = createHarness();
        const error = await rejection(reminders.add({ title: 'Call Ana', due: new Date(Number.NaN) }));
        expect(error.code).toBe('REM_BAD_DATE');
      });
    });

    describe('when given every optional field', () => {
      it('stores them normalised', async () => {
        const { reminders } = createHarness();
        const added = await reminders.add({
          title: 'Book flights',
          due: 'next fri 3pm',
          priority: 'medium',
          notes: 'window seat',
          url: 'https://Example.com',
          flagged: true,
          tags: [' travel ', '', 'family'],
          repeat: 'every 2 weeks',
        });
        expect(added).toMatchObject({
          priority: 5,
          priorityLabel: 'medium',
          notes: 'window seat',
          url: 'https://example.com/',
          flagged: true,
          tags: ['travel', 'family'],
          repeat: 'FREQ=WEEKLY;INTERVAL=2',
        });
      });
    });

    describe('when given bad input', () => {
      it.each([
        ['an empty title', { title: '   ' }, 'a reminder needs a title'],
        ['an unknown priority', { title: 'Call', priority: 'urgent' as never }, 'priority "urgent"'],
        ['a relative URL', { title: 'Call', url: 'example.com/page' }, 'url "example.com/page"'],
        [
          'an unknown repeat',
          { title: 'Call', due: 'tomorrow', repeat: 'fortnightly' },
          'repeat "fortnightly"',
        ],
        ['a repeat without a due', { title: 'Call', repeat: 'weekly' }, 'needs a due date'],
      ])('refuses %s with REM_INVALID_INPUT and stores nothing', async (_case, input, message) => {
        const { reminders } = createHarness();
        const error = await rejection(reminders.add(input));
        expect(error.code).toBe('REM_INVALID_INPUT');
        expect(error.message).toContain(message);
        expect(await reminders.list()).toEqual([]);
      });
    });

    describe('when the backend cannot store a field', () => {
      it('refuses a flag with REM_UNSUPPORTED naming the field and backend', async () => {
        const { reminders } = createHarness({ backend: createLimitedBackend() });
        const error = await rejection(reminders.add({ title: 'Call', flagged: true }));
        expect(error.code).toBe('REM_UNSUPPORTED');
        expect(error.message).toBe(
          'the limited backend cannot store flagged; leave it out or use the vdir or caldav backend',
        );
        expect(await reminders.list()).toEqual([]);
      });

      it('names every unsupported field at once', async () => {
        const { reminders } = createHarness({ backend: createLimitedBackend() });
        const error = await rejection(
          reminders.add({
            title: 'Call',
            url: 'https://example.com',
            tags: ['a'],
            due: 'tomorrow',
            repeat: 'daily',
          }),
        );
        expect(error.message).toContain('cannot store url, tags, repeat; leave them out');
        expect(error.details).toEqual({ fields: ['url', 'tags', 'repeat'], backend: 'limited' });
      });

      it('accepts the fields left empty', async () => {
        const { reminders } = createHarness({ backend: createLimitedBackend() });
        const added = await reminders.add({ title: 'Call', url: null, tags: [], repeat: null });
        expect(added.title).toBe('Call');
      });
    });
  });

  describe('get', () => {
    describe('when given the id, a prefix of it or the uid', () => {
      it('returns the reminder for each', async () => {
        const { reminders } = createHarness();
        const added = await reminders.add({ title: 'Call Ana' });
        expect(await reminders.get(added.id)).toEqual(added);
        expect(await reminders.get(added.id.slice(0, 3))).toEqual(added);
        expect(await reminders.get(` ${added.id.slice(0, 4).toUpperCase()} `)).toEqual(added);
        expect(await reminders.get(added.uid)).toEqual(added);
      });
    });

    describe('when given a prefix of a uid', () => {
      it('returns the reminder', async () => {
        const { reminders, backend } = createHarness();
        await backend.create({ uid: 'journal-entry-42', title: 'Write', list: 'Reminders' });
        expect((await reminders.get('journal')).title).toBe('Write');
      });
    });

    describe('when nothing matches', () => {
      it('refuses with REM_NOT_FOUND naming the id', async () => {
        const { reminders } = createHarness();
        await reminders.add({ title: 'Call Ana' });
        const error = await rejection(reminders.get('zzzz'));
        expect(error.code).toBe('REM_NOT_FOUND');
        expect(error.message).toBe(
          'no reminder has id "zzzz". Nothing was changed; run `rem list` to see ids.',
        );
      });

      it('does not treat an empty id as a prefix of everything', async () => {
        const { reminders } = createHarness();
        await reminders.add({ title: 'Call Ana' });
        expect((await rejection(reminders.get(''))).code).toBe('REM_NOT_FOUND');
      });
    });

    describe('when a prefix matches more than one reminder', () => {
      it('refuses with REM_AMBIGUOUS_ID listing the candidates', async () => {
        const { reminders, backend } = createHarness();
        const [firstUid, secondUid] = uidsSharingFirstIdCharacter();
        await backend.create({ uid: firstUid, title: 'First', list: 'Reminders' });
        await backend.create({ uid: secondUid, title: 'Second', list: 'Reminders' });
        const prefix = shortId(firstUid).charAt(0);
        const error = await rejection(reminders.get(prefix));
        expect(error.code).toBe('REM_AMBIGUOUS_ID');
        expect(error.message).toContain(`id "${prefix}" matches 2 reminders`);
        expect(error.message).toContain(`${shortId(firstUid)} "First"`);
        expect(error.message).toContain(`${shortId(secondUid)} "Second"`);
        expect(error.message).toContain('give more characters');
      });

      it('resolves a longer prefix that is unique', async () => {
        const { reminders, backend } = createHarness();
        const [firstUid, secondUid] = uidsSharingFirstIdCharacter();
        await backend.create({ uid: firstUid, title: 'First', list: 'Reminders' });
        await backend.create({ uid: secondUid, title: 'Second', list: 'Reminders' });
        const firstId = shortId(firstUid);
        const secondId = shortId(secondUid);
        let shared = 0;
        while (firstId[shared] === secondId[shared]) shared += 1;
        expect((await reminders.get(secondId.slice(0, shared + 1))).title).toBe('Second');
      });
    });
  });

  describe('resolve', () => {
    describe('when given no ids', () => {
      it('refuses with REM_INVALID_INPUT', async () => {
        const { reminders } = createHarness();
        expect((await rejection(reminders.resolve([]))).code).toBe('REM_INVALID_INPUT');
      });
    });

    describe('when the same reminder is named by id and by uid', () => {
      it('returns it once', async () => {
        const { reminders } = createHarness();
        const added = await reminders.add({ title: 'Call Ana' });
        expect(await reminders.resolve([added.id, added.uid])).toEqual([added]);
      });
    });

    describe('when one id is missing and another ambiguous', () => {
      it('reports both with REM_AMBIGUOUS_ID', async () => {
        const { reminders, backend } = createHarness();
        const [firstUid, secondUid] = uidsSharingFirstIdCharacter();
        await backend.create({ uid: firstUid, title: 'First', list: 'Reminders' });
        await backend.create({ uid: secondUid, title: 'Second', list: 'Reminders' });
        const prefix = shortId(firstUid).charAt(0);
        const error = await rejection(reminders.resolve(['zzzz', prefix]));
        expect(error.code).toBe('REM_AMBIGUOUS_ID');
        expect(error.message).toContain('no reminder has id "zzzz"');
        expect(error.message).toContain(`id "${prefix}" matches 2 reminders`);
        expect(error.details).toEqual({ given: ['zzzz', prefix] });
      });
    });
  });

  describe('list', () => {
    describe('when given no filter', () => {
      it('sorts incomplete first, then by due (undated last), priority and title', async () => {
        const { reminders } = createHarness();
        const done = await reminders.add({ title: 'Done early', due: 'yesterday 9am' });
        await reminders.complete([done.id]);
        await reminders.add({ title: 'Undated' });
        await reminders.add({ title: 'Tomorrow', due: 'tomorrow 9am' });
        await reminders.add({ title: 'Low at five', due: 'today 5pm', priority: 'low' });
        await reminders.add({ title: 'High at five', due: 'today 5pm', priority: 'high' });
        await reminders.add({ title: 'Also high at five', due: 'today 5pm', priority: 1 });
        expect(titles(await reminders.list())).toEqual([
          'Also high at five',
          'High at five',
          'Low at five',
          'Tomorrow',
          'Undated',
          'Done early',
        ]);
      });
    });

    describe('when filtered by list', () => {
      it('returns only that list, matching its name in any case', async () => {
        const { reminders } = createHarness();
        await seedWeek(reminders);
        expect(titles(await reminders.list({ list: 'WORK' }))).toEqual(['Standup notes', 'Someday idea']);
      });

      it('refuses an unknown list with REM_UNKNOWN_LIST', async () => {
        const { reminders } = createHarness();
        expect((await rejection(reminders.list({ list: 'Errands' }))).code).toBe('REM_UNKNOWN_LIST');
      });
    });

    describe('when filtered by state', () => {
      it('returns only completed, only incomplete or only flagged reminders', async () => {
        const { reminders } = createHarness();
        await seedWeek(reminders);
        expect(titles(await reminders.list({ completed: true }))).toEqual(['Filed taxes']);
        expect(titles(await reminders.list({ incomplete: true }))).not.toContain('Filed taxes');
        expect(await reminders.list({ incomplete: true })).toHaveLength(9);
        expect(titles(await reminders.list({ flagged: true }))).toEqual(['Call Ana']);
      });

      it('refuses incomplete and completed together', async () => {
        const { reminders } = createHarness();
        const error = await rejection(reminders.list({ incomplete: true, completed: true }));
        expect(error.code).toBe('REM_INVALID_INPUT');
        expect(error.message).toContain('exclude each other');
      });
    });

    describe('when filtered by due bounds', () => {
      it('keeps dated reminders strictly before and after the bounds', async () => {
        const { reminders } = createHarness();
        await seedWeek(reminders);
        expect(
          titles(await reminders.list({ dueAfter: 'today', dueBefore: 'tomorrow', incomplete: true })),
        ).toEqual(['Standup notes', 'Call Ana']);
      });

      it('accepts Date bounds', async () => {
        const { reminders } = createHarness();
        await seedWeek(reminders);
        expect(titles(await reminders.list({ dueAfter: new Date(2026, 11, 1) }))).toEqual([
          'Book flights',
          'Renew passport',
        ]);
      });

      it('names the bound in a REM_BAD_DATE', async () => {
        const { reminders } = createHarness();
        const error = await rejection(reminders.list({ dueBefore: 'whenever' }));
        expect(error.code).toBe('REM_BAD_DATE');
        expect(error.message).toMatch(/^due-before: could not read "whenever"/);
      });
    });

    describe('when given search words', () => {
      it('keeps reminders holding every word in title, notes or tags, in any case', async () => {
        const { reminders } = createHarness();
        await seedWeek(reminders);
        expect(titles(await reminders.list({ search: 'ana CALL' }))).toEqual(['Call Ana']);
        expect(titles(await reminders.list({ search: 'sourdough' }))).toEqual(['Buy bread']);
        expect(titles(await reminders.list({ search: 'travel' }))).toEqual([
          'Book flights',
          'Renew passport',
        ]);
      });
    });
  });

  describe('search', () => {
    describe('when given words and a filter', () => {
      it('applies both', async () => {
        const { reminders } = createHarness();
        await seedWeek(reminders);
        expect(titles(await reminders.search('notes', { list: 'Work' }))).toEqual(['Standup notes']);
      });
    });

    describe('when given only spaces', () => {
      it('refuses with REM_INVALID_INPUT', async () => {
        const { reminders } = createHarness();
        expect((await rejection(reminders.search('   '))).code).toBe('REM_INVALID_INPUT');
      });
    });
  });

  describe('update', () => {
    describe('when given new fields', () => {
      it('changes only those fields', async () => {
        const { reminders } = createHarness();
        const added = await reminders.add({
          title: 'Call Ana',
          due: 'tomorrow 9am',
          notes: 'about the trip',
        });
        const updated = await reminders.update(added.id, {
          title: ' Call Ana back ',
          list: 'work',
          priority: 'low',
          tags: [' phone '],
        });
        expect(updated).toMatchObject({
          id: added.id,
          title: 'Call Ana back',
          list: 'Work',
          priority: 9,
          priorityLabel: 'low',
          tags: ['phone'],
          due: added.due,
          notes: 'about the trip',
        });
        expect(await reminders.get(added.id)).toEqual(updated);
      });
    });

    describe('when given null or empty values', () => {
      it('clears the due, notes, url and repeat', async () => {
        const { reminders } = createHarness();
        const added = await reminders.add({
          title: 'Call Ana',
          due: 'fri',
          notes: 'x',
          url: 'https://example.com',
          repeat: 'weekly',
        });
        const updated = await reminders.update(added.id, { due: null, notes: '', url: null, repeat: null });
        expect(updated).toMatchObject({ due: null, allDay: false, notes: null, url: null, repeat: null });
      });
    });

    describe('when given a new due', () => {
      it('follows the text for all-day', async () => {
        const { reminders } = createHarness();
        const added = await reminders.add({ title: 'Call Ana', due: 'tomorrow 9am' });
        const updated = await reminders.update(added.id, { due: 'fri' });
        expect(updated).toMatchObject({ due: localIso(2026, 10, 27), allDay: true });
      });

      it('moves a timed due to midnight when allDay is forced', async () => {
        const { reminders } = createHarness();
        const added = await reminders.add({ title: 'Call Ana' });
        const updated = await reminders.update(added.id, { due: 'fri 3pm', allDay: true });
        expect(updated).toMatchObject({ due: localIso(2026, 10, 27), allDay: true });
      });
    });

    describe('when given bad input', () => {
      it('refuses an empty title and changes nothing', async () => {
        const { reminders } = createHarness();
        const added = await reminders.add({ title: 'Call Ana' });
        const error = await rejection(reminders.update(added.id, { title: '  ' }));
        expect(error.code).toBe('REM_INVALID_INPUT');
        expect(await reminders.get(added.id)).toEqual(added);
      });

      it('refuses a repeat on a reminder without a due', async () => {
        const { reminders } = createHarness();
        const added = await reminders.add({ title: 'Call Ana' });
        const error = await rejection(reminders.update(added.id, { repeat: 'weekly' }));
        expect(error.code).toBe('REM_INVALID_INPUT');
        expect(error.message).toContain('needs a due date');
        expect((await reminders.get(added.id)).repeat).toBeNull();
      });

      it('refuses clearing the due of a repeating reminder', async () => {
        const { reminders } = createHarness();
        const added = await reminders.add({ title: 'Call Ana', due: 'fri', repeat: 'weekly' });
        const error = await rejection(reminders.update(added.id, { due: null }));
        expect(error.code).toBe('REM_INVALID_INPUT');
        expect((await reminders.get(added.id)).due).toBe(added.due);
      });

      it('refuses an unknown list', async () => {
        const { reminders } = createHarness();
        const added = await reminders.add({ title: 'Call Ana' });
        expect((await rejection(reminders.update(added.id, { list: 'Errands' }))).code).toBe(
          'REM_UNKNOWN_LIST',
        );
      });

      it('refuses an unknown id with REM_NOT_FOUND', async () => {
        const { reminders } = createHarness();
        expect((await rejection(reminders.update('zzzz', { title: 'x' }))).code).toBe('REM_NOT_FOUND');
      });
    });

    describe('when the backend cannot store a field', () => {
      it('refuses with REM_UNSUPPORTED and changes nothing', async () => {
        const { reminders } = createHarness({ backend: createLimitedBackend() });
        const added = await reminders.add({ title: 'Call Ana' });
        const error = await rejection(reminders.update(added.id, { tags: ['phone'], title: 'Renamed' }));
        expect(error.code).toBe('REM_UNSUPPORTED');
        expect((await reminders.get(added.id)).title).toBe('Call Ana');
      });
    });
  });

  describe('complete', () => {
    describe('when given ids of open reminders', () => {
      it('marks them completed at the clock time', async () => {
        const { reminders } = createHarness();
        const first = await reminders.add({ title: 'First' });
        const second = await reminders.add({ title: 'Second' });
        const completed = await reminders.complete([first.id, second.id.slice(0, 5)]);
        expect(
          completed.map((reminder) => [reminder.title, reminder.completed, reminder.completedAt]),
        ).toEqual([
          ['First', true, toLocalIso(NOW)],
          ['Second', true, toLocalIso(NOW)],
        ]);
        expect(await reminders.list({ completed: true })).toHaveLength(2);
      });
    });

    describe('when a reminder is already completed', () => {
      it('keeps its first completion time', async () => {
        const backend = createMemoryBackend({ lists: ['Reminders'], now: () => NOW });
        let clock = NOW;
        const reminders = createReminders({ backend, now: () => clock });
        const added = await reminders.add({ title: 'Call Ana' });
        await reminders.complete([added.id]);
        clock = new Date(2026, 10, 26, 8, 0);
        const [again] = await reminders.complete([added.id]);
        expect(again?.completedAt).toBe(toLocalIso(NOW));
      });
    });

    describe('when one id of the batch does not resolve', () => {
      it('refuses with REM_NOT_FOUND and completes none', async () => {
        const { reminders } = createHarness();
        const added = await reminders.add({ title: 'Call Ana' });
        const error = await rejection(reminders.complete([added.id, 'zzzz']));
        expect(error.code).toBe('REM_NOT_FOUND');
        expect(error.message).toContain('Nothing was changed');
        expect((await reminders.get(added.id)).completed).toBe(false);
      });
    });
  });

  describe('uncomplete', () => {
    describe('when given a completed reminder', () => {
      it('reopens it and clears the completion time', async () => {
        const { reminders } = createHarness();
        const added = await reminders.add({ title: 'Call Ana' });
        await reminders.complete([added.id]);
        const [reopened] = await reminders.uncomplete([added.id]);
        expect(reopened).toMatchObject({ completed: false, completedAt: null });
        expect((await reminders.get(added.id)).completed).toBe(false);
      });
    });
  });

  describe('delete', () => {
    describe('when given ids', () => {
      it('deletes them and returns what was deleted', async () => {
        const { reminders } = createHarness();
        const first = await reminders.add({ title: 'First' });
        const second = await reminders.add({ title: 'Second' });
        const kept = await reminders.add({ title: 'Kept' });
        const deleted = await reminders.delete([first.id, second.uid]);
        expect(titles(deleted)).toEqual(['First', 'Second']);
        expect(await reminders.list()).toEqual([kept]);
      });
    });

    describe('when one id of the batch does not resolve', () => {
      it('refuses and deletes none', async () => {
        const { reminders } = createHarness();
        const first = await reminders.add({ title: 'First' });
        const error = await rejection(reminders.delete([first.id, 'zzzz']));
        expect(error.code).toBe('REM_NOT_FOUND');
        expect(titles(await reminders.list())).toEqual(['First']);
      });
    });
  });

  describe('lists', () => {
    describe('when lists hold reminders', () => {
      it('returns each list with its total and open counts', async () => {
        const { reminders } = createHarness({ lists: ['Reminders', 'Work', 'Home'] });
        await seedWeek(reminders);
        expect(
          (await reminders.lists()).map(({ name, total, incomplete }) => ({ name, total, incomplete })),
        ).toEqual([
          { name: 'Home', total: 0, incomplete: 0 },
          { name: 'Reminders', total: 8, incomplete: 7 },
          { name: 'Work', total: 2, incomplete: 2 },
        ]);
      });
    });
  });

  describe('createList', () => {
    describe('when given a new name', () => {
      it('creates the list with the name trimmed', async () => {
        const { reminders } = createHarness();
        expect((await reminders.createList('  Home ')).name).toBe('Home');
        expect((await reminders.lists()).map((list) => list.name)).toEqual(['Home', 'Reminders', 'Work']);
      });
    });

    describe('when given a blank name', () => {
      it('refuses with REM_INVALID_INPUT', async () => {
        const { reminders } = createHarness();
        expect((await rejection(reminders.createList('  '))).code).toBe('REM_INVALID_INPUT');
      });
    });

    describe('when the list exists', () => {
      it('refuses with REM_LIST_EXISTS', async () => {
        const { reminders } = createHarness();
        expect((await rejection(reminders.createList('Work'))).code).toBe('REM_LIST_EXISTS');
      });
    });
  });

  describe('renameList', () => {
    describe('when given an existing list in any case', () => {
      it('renames it and moves its reminders', async () => {
        const { reminders } = createHarness();
        const added = await reminders.add({ title: 'Standup', list: 'Work' });
        expect((await reminders.renameList('work', ' Office ')).name).toBe('Office');
        expect((await reminders.get(added.id)).list).toBe('Office');
        expect((await reminders.lists()).map((list) => list.name)).toEqual(['Office', 'Reminders']);
      });
    });

    describe('when the list does not exist', () => {
      it('refuses with REM_UNKNOWN_LIST', async () => {
        const { reminders } = createHarness();
        expect((await rejection(reminders.renameList('Errands', 'Jobs'))).code).toBe('REM_UNKNOWN_LIST');
      });
    });

    describe('when the new name is blank', () => {
      it('refuses with REM_INVALID_INPUT', async () => {
        const { reminders } = createHarness();
        expect((await rejection(reminders.renameList('Work', ' '))).code).toBe('REM_INVALID_INPUT');
      });
    });
  });

  describe('deleteList', () => {
    describe('when the list holds reminders', () => {
      it('deletes the list and its reminders and says how many', async () => {
        const { reminders } = createHarness();
        await seedWeek(reminders);
        expect(await reminders.deleteList('work')).toEqual({ name: 'Work', deleted: 2 });
        expect((await reminders.lists()).map((list) => list.name)).toEqual(['Reminders']);
        expect(await reminders.list()).toHaveLength(8);
      });
    });

    describe('when the list does not exist', () => {
      it('refuses with REM_UNKNOWN_LIST', async () => {
        const { reminders } = createHarness();
        expect((await rejection(reminders.deleteList('Errands'))).code).toBe('REM_UNKNOWN_LIST');
      });
    });
  });

  describe('stats', () => {
    describe('when there are no reminders', () => {
      it('returns zeros and a completion rate of 0', async () => {
        const { reminders } = createHarness();
        expect(await reminders.stats()).toEqual({
          total: 0,
          completed: 0,
          incomplete: 0,
          flagged: 0,
          overdue: 0,
          dueToday: 0,
          completionRate: 0,
          lists: [
            { name: 'Reminders', total: 0, completed: 0, incomplete: 0, overdue: 0 },
            { name: 'Work', total: 0, completed: 0, incomplete: 0, overdue: 0 },
          ],
        });
      });
    });

    describe('when reminders span the week', () => {
      it('counts totals, overdue (all-day due at the end of its day) and due today', async () => {
        const { reminders } = createHarness();
        await seedWeek(reminders);
        expect(await reminders.stats()).toEqual({
          total: 10,
          completed: 1,
          incomplete: 9,
          flagged: 1,
          overdue: 3,
          dueToday: 3,
          completionRate: 0.1,
          lists: [
            { name: 'Reminders', total: 8, completed: 1, incomplete: 7, overdue: 2 },
            { name: 'Work', total: 2, completed: 0, incomplete: 2, overdue: 1 },
          ],
        });
      });
    });
  });

  describe('today', () => {
    describe('when reminders span the week', () => {
      it('returns the open reminders due today, past or not', async () => {
        const { reminders } = createHarness();
        await seedWeek(reminders);
        expect(titles(await reminders.today())).toEqual(['Water plants', 'Standup notes', 'Call Ana']);
      });
    });
  });

  describe('overdue', () => {
    describe('when reminders span the week', () => {
      it('returns open reminders past due, counting an all-day due today as not yet due', async () => {
        const { reminders } = createHarness();
        await seedWeek(reminders);
        expect(titles(await reminders.overdue())).toEqual(['Old all-day', 'Pay rent', 'Standup notes']);
      });
    });
  });

  describe('upcoming', () => {
    describe('when given no number of days', () => {
      it('returns open reminders from now to the end of the seventh day', async () => {
        const { reminders } = createHarness();
        await seedWeek(reminders);
        expect(titles(await reminders.upcoming())).toEqual([
          'Water plants',
          'Call Ana',
          'Buy bread',
          'Book flights',
        ]);
      });
    });

    describe('when given one day', () => {
      it('stops at the end of tomorrow', async () => {
        const { reminders } = createHarness();
        await seedWeek(reminders);
        expect(titles(await reminders.upcoming(1))).toEqual(['Water plants', 'Call Ana', 'Buy bread']);
      });
    });

    describe('when given a number that is not a whole number of days', () => {
      it.each([0, -2, 1.5])('refuses %s with REM_INVALID_INPUT', async (days) => {
        const { reminders } = createHarness();
        const error = await rejection(reminders.upcoming(days));
        expect(error.code).toBe('REM_INVALID_INPUT');
        expect(error.message).toContain(`got ${days}`);
      });
    });
  });

  describe('addMany', () => {
    describe('when every entry is valid', () => {
      it('creates them all in order', async () => {
        const { reminders } = createHarness();
        const result = await reminders.addMany([
          { title: 'First' },
          { title: 'Second', list: 'Work', due: 'tomorrow' },
        ]);
        expect(result.dryRun).toBe(false);
        expect(result.skipped).toEqual([]);
        expect(result.created.map((reminder) => [reminder.title, reminder.list, reminder.due])).toEqual([
          ['First', 'Reminders', null],
          ['Second', 'Work', localIso(2026, 10, 26)],
        ]);
        expect(await reminders.list()).toHaveLength(2);
      });

      it('keeps the uid and completion of an entry', async () => {
        const { reminders } = createHarness();
        const entries: ImportEntry[] = [
          { title: 'Done before', uid: 'imported-1', completed: true, completedAt: '2026-11-01T09:00:00Z' },
          { title: 'Done now', uid: 'imported-2', completed: true },
        ];
        const { created } = await reminders.addMany(entries);
        expect(created.map((reminder) => [reminder.uid, reminder.completed, reminder.completedAt])).toEqual([
          ['imported-1', true, '2026-11-01T09:00:00Z'],
          ['imported-2', true, toLocalIso(NOW)],
        ]);
        expect((await reminders.get('imported-1')).title).toBe('Done before');
      });
    });

    describe('when an entry has a uid that already exists', () => {
      it('skips it with a reason and creates the rest', async () => {
        const { reminders, backend } = createHarness();
        await backend.create({ uid: 'imported-1', title: 'Already here', list: 'Reminders' });
        const entries: ImportEntry[] = [
          { title: 'Again', uid: 'imported-1' },
          { title: 'New', uid: 'imported-2' },
        ];
        const result = await reminders.addMany(entries);
        expect(result.skipped).toEqual([{ title: 'Again', reason: 'uid imported-1 already exists' }]);
        expect(titles(result.created)).toEqual(['New']);
        expect(titles(await reminders.list())).toEqual(['Already here', 'New']);
      });
    });

    describe('when two entries share a uid', () => {
      it('creates the first and skips the second', async () => {
        const { reminders } = createHarness();
        const entries: ImportEntry[] = [
          { title: 'Original', uid: 'imported-1' },
          { title: 'Duplicate', uid: 'imported-1' },
        ];
        const result = await reminders.addMany(entries);
        expect(titles(result.created)).toEqual(['Original']);
        expect(result.skipped).toEqual([{ title: 'Duplicate', reason: 'uid imported-1 already exists' }]);
        expect(titles(await reminders.list())).toEqual(['Original']);
      });
    });

    describe('when dryRun is set', () => {
      it('returns what would be created and writes nothing', async () => {
        const { reminders } = createHarness();
        const result = await reminders.addMany([{ title: 'First', due: 'fri 3pm' }, { title: 'Second' }], {
          dryRun: true,
        });
        expect(result.dryRun).toBe(true);
        expect(result.created.map((reminder) => [reminder.title, reminder.list, reminder.due])).toEqual([
          ['First', 'Reminders', localIso(2026, 10, 27, 15, 0)],
          ['Second', 'Reminders', null],
        ]);
        expect(await reminders.list()).toEqual([]);
      });

      it('does not create the default list in an empty store', async () => {
        const { reminders, backend } = createHarness({ lists: [] });
        const result = await reminders.addMany([{ title: 'First' }], { dryRun: true });
        expect(result.created[0]?.list).toBe('Reminders');
        expect(await backend.lists()).toEqual([]);
      });
    });

    describe('when an entry is invalid', () => {
      it('refuses naming the entry and creates none', async () => {
        const { reminders } = createHarness();
        const error = await rejection(
          reminders.addMany([{ title: 'Fine' }, { title: 'Broken', due: 'whenever' }]),
        );
        expect(error.code).toBe('REM_BAD_DATE');
        expect(error.message).toMatch(/^entry 2 \("Broken"\): could not read "whenever"/);
        expect(await reminders.list()).toEqual([]);
      });

      it('refuses an entry without a title', async () => {
        const { reminders } = createHarness();
        const error = await rejection(reminders.addMany([{ title: '' }]));
        expect(error.code).toBe('REM_INVALID_INPUT');
        expect(error.message).toMatch(/^entry 1 /);
      });

      it('leaves an empty store without lists', async () => {
        const { reminders, backend } = createHarness({ lists: [] });
        await rejection(
          reminders.addMany([{ title: 'Fine' }, { title: 'Broken', priority: 'urgent' as never }]),
        );
        expect(await backend.lists()).toEqual([]);
      });
    });

    describe('when the default list is missing in an empty store', () => {
      it('creates it and adds the entries there', async () => {
        const { reminders, backend } = createHarness({ lists: [] });
        const result = await reminders.addMany([{ title: 'First' }]);
        expect(result.created[0]?.list).toBe('Reminders');
        expect((await backend.lists()).map((list) => list.name)).toEqual(['Reminders']);
      });
    });

    describe('when an entry names an unknown list', () => {
      it('refuses with REM_UNKNOWN_LIST and creates none', async () => {
        const { reminders } = createHarness();
        const error = await rejection(
          reminders.addMany([{ title: 'Fine' }, { title: 'Lost', list: 'Errands' }]),
        );
        expect(error.code).toBe('REM_UNKNOWN_LIST');
        expect(error.message).toContain('entry 2 ("Lost"): no list "Errands"');
        expect(error.message).toContain('Nothing was imported.');
        expect(await reminders.list()).toEqual([]);
      });
    });

    describe('when the backend cannot store a field of an entry', () => {
      it('refuses with REM_UNSUPPORTED naming the entry', async () => {
        const { reminders } = createHarness({ backend: createLimitedBackend() });
        const error = await rejection(reminders.addMany([{ title: 'Tagged', tags: ['a'] }]));
        expect(error.code).toBe('REM_UNSUPPORTED');
        expect(error.message).toMatch(/^entry 1 \("Tagged"\): the limited backend cannot store tags/);
      });
    });
  });
});

describe('Reminders.completeWithNext', () => {
  describe('when a repeating reminder is completed', () => {
    it('completes it and adds a copy at the next due that carries the series on', async () => {
      const reminders = createReminders({
        backend: createMemoryBackend(),
        now: () => new Date(2026, 10, 25, 10, 30),
      });
      const added = await reminders.add({ title: 'Standup', due: '2026-11-25 09:00', repeat: 'weekdays' });
      const result = await reminders.completeWithNext([added.id]);
      expect(result.completed).toMatchObject([{ id: added.id, completed: true, repeat: null }]);
      expect(result.next).toHaveLength(1);
      expect(result.next[0]).toMatchObject({
        title: 'Standup',
        completed: false,
        repeat: 'FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR',
      });
      expect(new Date(result.next[0]?.due ?? '').getTime()).toBe(new Date(2026, 10, 26, 9, 0).getTime());
      const open = await reminders.list({ incomplete: true });
      expect(open.map((reminder) => reminder.id)).toEqual([result.next[0]?.id]);
    });
  });
});
