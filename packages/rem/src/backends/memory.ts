import { randomUUID } from 'node:crypto';
import { RemError } from '../errors.js';
import type { NewReminderRecord, ReminderBackend, ReminderList, ReminderRecord } from '../types.js';
import { filledRecord, unknownListError } from './shared.js';

/** Options of {@link createMemoryBackend}. */
export interface MemoryBackendOptions {
  /** Lists to start with. @default ['Reminders'] */
  lists?: string[];
  /** The clock for timestamps. @default () => new Date() */
  now?: () => Date;
}

/**
 * A backend that keeps everything in this process: for tests and for trying the library.
 * @param options starting lists and a clock
 * @returns a backend with every capability
 * @example
 * ```ts
 * const reminders = createReminders({ backend: createMemoryBackend() });
 * ```
 */
export function createMemoryBackend(options: MemoryBackendOptions = {}): ReminderBackend {
  const now = options.now ?? (() => new Date());
  const lists = new Map<string, ReminderList>();
  const items = new Map<string, ReminderRecord>();
  let version = 0;
  for (const name of options.lists ?? ['Reminders']) {
    lists.set(name, { name, handle: name, color: null });
  }
  const requireList = (name: string): void => {
    if (!lists.has(name)) throw unknownListError(name, [...lists.keys()]);
  };
  const stamp = (): string => {
    version += 1;
    return String(version);
  };
  return {
    name: 'memory',
    capabilities: { flagged: true, url: true, tags: true, repeat: true, listManagement: true },
    async lists() {
      return [...lists.values()].sort((a, b) => a.name.localeCompare(b.name));
    },
    async reminders(filter) {
      const wanted = filter?.lists ? new Set(filter.lists) : undefined;
      return [...items.values()]
        .filter((item) => !wanted || wanted.has(item.list))
        .map((item) => ({ ...item, tags: [...item.tags] }));
    },
    async create(record: NewReminderRecord) {
      requireList(record.list);
      const uid = record.uid ?? randomUUID();
      if (items.has(uid)) {
        throw new RemError('REM_INVALID_INPUT', `a reminder with uid ${uid} already exists`);
      }
      const at = now().toISOString();
      const stored: ReminderRecord = { ...filledRecord(record, uid, at), revision: stamp() };
      items.set(uid, stored);
      return { ...stored, tags: [...stored.tags] };
    },
    async update(record: ReminderRecord) {
      const current = items.get(record.uid);
      if (!current) throw new RemError('REM_NOT_FOUND', `no reminder with uid ${record.uid}`);
      if (record.revision !== undefined && record.revision !== current.revision) {
        throw new RemError(
          'REM_CONFLICT',
          `reminder "${current.title}" changed since it was read; read it again and retry`,
        );
      }
      requireList(record.list);
      const stored = {
        ...record,
        tags: [...record.tags],
        updatedAt: now().toISOString(),
        revision: stamp(),
      };
      items.set(record.uid, stored);
      return { ...stored, tags: [...stored.tags] };
    },
    async delete(records: ReminderRecord[]) {
      const missing = records.find((record) => !items.has(record.uid));
      if (missing) throw new RemError('REM_NOT_FOUND', `no reminder with uid ${missing.uid}`);
      for (const record of records) items.delete(record.uid);
    },
    async createList(name: string) {
      if (lists.has(name)) throw new RemError('REM_LIST_EXISTS', `a list "${name}" already exists`);
      const list = { name, handle: name, color: null };
      lists.set(name, list);
      return list;
    },
    async renameList(name: string, newName: string) {
      requireList(name);
      if (lists.has(newName)) {
        throw new RemError('REM_LIST_EXISTS', `a list "${newName}" already exists`);
      }
      lists.delete(name);
      const list = { name: newName, handle: newName, color: null };
      lists.set(newName, list);
      for (const item of items.values()) if (item.list === name) item.list = newName;
      return list;
    },
    async deleteList(name: string) {
      requireList(name);
      lists.delete(name);
      for (const [uid, item] of items) if (item.list === name) items.delete(uid);
    },
    async close() {},
  };
}
