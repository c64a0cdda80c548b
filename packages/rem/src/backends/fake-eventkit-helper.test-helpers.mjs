#!/usr/bin/env node
// A stand-in for the Swift EventKit helper, for tests: the same JSON-lines protocol over stdio
// (docs/eventkit.md), an in-memory store, no EventKit. Run it as [process.execPath, thisFile].
//
// Environment flags:
//   FAKE_EVENTKIT_LISTS=Reminders,Work   the lists it starts with (default: Reminders)
//   FAKE_EVENTKIT_DENY=1                 answer the start with access "denied" and exit
//   FAKE_EVENTKIT_CRASH_ON=create,...    write to stderr and exit 70 on receiving one of these ops
//   FAKE_EVENTKIT_DELAY_MS=50            answer each request after a random delay up to this, so
//                                        answers come back out of order
//   FAKE_EVENTKIT_IGNORE_EOF=1           keep running after stdin ends (until killed)
import { randomUUID } from 'node:crypto';
import { writeSync } from 'node:fs';
import { createInterface } from 'node:readline';

const environment = process.env;
const crashOn = new Set((environment.FAKE_EVENTKIT_CRASH_ON ?? '').split(',').filter((name) => name !== ''));
const maximumDelayMs = Number(environment.FAKE_EVENTKIT_DELAY_MS ?? '0');

class HelperError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/** @type {Map<string, {name: string, handle: string, color: string | null}>} */
const lists = new Map();
/** @type {Map<string, Record<string, unknown>>} */
const reminders = new Map();
let clock = Date.parse('2026-01-05T09:00:00.000Z');

/** A fresh modification time, so every save yields a new revision. */
function tick() {
  clock += 1000;
  return new Date(clock).toISOString();
}

function addList(name) {
  const list = { name, handle: `fake-${randomUUID()}`, color: '#1BADF8' };
  lists.set(name, list);
  return list;
}

for (const name of (environment.FAKE_EVENTKIT_LISTS ?? 'Reminders').split(',')) addList(name);

function requireList(name) {
  const list = lists.get(name);
  if (list === undefined) {
    throw new HelperError(
      'UNKNOWN_LIST',
      `no list named "${name}"; the lists are: ${[...lists.keys()].join(', ')}`,
    );
  }
  return list;
}

function requireReminder(uid) {
  const reminder = reminders.get(uid);
  if (reminder === undefined) throw new HelperError('NOT_FOUND', `no reminder with uid ${uid}`);
  return reminder;
}

const FIELDS = [
  'title',
  'notes',
  'list',
  'due',
  'allDay',
  'priority',
  'completed',
  'completedAt',
  'url',
  'repeat',
];

/** Applies the fields present in `input`, as the Swift helper does; an absent field stays. */
function apply(input, reminder) {
  if ('list' in input && input.list !== reminder.list) requireList(input.list);
  for (const field of FIELDS) if (field in input) reminder[field] = input[field];
  if ('priority' in input) reminder.priority = Math.min(Math.max(Number(input.priority) || 0, 0), 9);
  if (input.completed === true && reminder.completedAt === null)
    reminder.completedAt = new Date(clock).toISOString();
  if (input.completed === false) reminder.completedAt = null;
  const updatedAt = tick();
  reminder.updatedAt = updatedAt;
  reminder.revision = updatedAt;
  return { ...reminder };
}

const operations = {
  lists() {
    return [...lists.values()].sort((left, right) => left.name.localeCompare(right.name));
  },
  reminders(params) {
    if (params.lists === undefined) return [...reminders.values()];
    for (const name of params.lists) requireList(name);
    return [...reminders.values()].filter((reminder) => params.lists.includes(reminder.list));
  },
  create({ record }) {
    requireList(record.list);
    const createdAt = tick();
    const reminder = {
      uid: randomUUID().toUpperCase(),
      title: record.title,
      notes: null,
      list: record.list,
      due: null,
      allDay: false,
      priority: 0,
      flagged: false,
      completed: false,
      completedAt: null,
      url: null,
      tags: [],
      repeat: null,
      createdAt,
      updatedAt: createdAt,
    };
    const stored = apply(record, reminder);
    reminders.set(reminder.uid, reminder);
    return stored;
  },
  update({ record }) {
    const reminder = requireReminder(record.uid);
    if (record.revision !== undefined && record.revision !== reminder.revision) {
      throw new HelperError(
        'CONFLICT',
        `the reminder "${reminder.title}" changed since it was read (modified ${reminder.revision}); read it again and retry`,
      );
    }
    return apply(record, reminder);
  },
  delete({ uids }) {
    for (const uid of uids) requireReminder(uid);
    for (const uid of uids) reminders.delete(uid);
    return null;
  },
  createList({ name }) {
    if (lists.has(name)) throw new HelperError('LIST_EXISTS', `a list named "${name}" already exists`);
    return addList(name);
  },
  renameList({ name, newName }) {
    const list = requireList(name);
    if (newName !== name && lists.has(newName)) {
      throw new HelperError('LIST_EXISTS', `a list named "${newName}" already exists`);
    }
    lists.delete(name);
    list.name = newName;
    lists.set(newName, list);
    for (const reminder of reminders.values()) if (reminder.list === name) reminder.list = newName;
    return list;
  },
  deleteList({ name }) {
    requireList(name);
    lists.delete(name);
    for (const [uid, reminder] of reminders) if (reminder.list === name) reminders.delete(uid);
    return null;
  },
};

function send(message) {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

function handle(text) {
  if (text.trim() === '') return;
  let request;
  try {
    request = JSON.parse(text);
  } catch {
    send({
      id: null,
      ok: false,
      error: { code: 'BAD_REQUEST', message: 'a request must be one JSON object per line' },
    });
    return;
  }
  if (crashOn.has(request.op)) {
    // Synchronous, so the message is out before the exit even where pipes are asynchronous.
    writeSync(2, `fake eventkit helper: simulated crash while handling ${request.op}\n`);
    process.exit(70);
  }
  let response;
  try {
    const operation = Object.hasOwn(operations, request.op) ? operations[request.op] : undefined;
    if (operation === undefined) throw new HelperError('BAD_REQUEST', `unknown op "${request.op}"`);
    // The store changes now, in arrival order; only the answer is delayed.
    response = { id: request.id, ok: true, result: operation(request.params ?? {}) };
  } catch (error) {
    response = {
      id: request.id,
      ok: false,
      error: { code: error instanceof HelperError ? error.code : 'FAILED', message: String(error.message) },
    };
  }
  if (maximumDelayMs > 0) setTimeout(() => send(response), Math.random() * maximumDelayMs);
  else send(response);
}

if (environment.FAKE_EVENTKIT_DENY === '1') {
  process.stdout.write(`${JSON.stringify({ ready: true, access: 'denied' })}\n`, () => process.exit(0));
} else {
  send({ ready: true, access: 'granted' });
  const input = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
  input.on('line', handle);
  input.on('close', () => {
    // Like the Swift helper, end with the input; delayed answers still go out first.
    if (environment.FAKE_EVENTKIT_IGNORE_EOF === '1') setInterval(() => {}, 60_000);
  });
}
