import {
  appendFileSync,
  constants,
  copyFileSync,
  type Dirent,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { RemError } from '../errors.js';
import type {
  BackendCapabilities,
  IndexedReminders,
  NewReminderRecord,
  ReminderBackend,
  ReminderList,
  ReminderRecord,
} from '../types.js';
import { unknownListError } from './shared.js';

/** Options of {@link createVdirBackend}. */
export interface VdirBackendOptions {
  /** The vdir root: one subfolder per list, one `.ics` file per reminder (todoman's `path` without `/*`). */
  root: string;
  /**
   * The clock used for DTSTAMP, LAST-MODIFIED, CREATED and COMPLETED.
   * @default () => new Date()
   */
  now?: () => Date;
}

/** The file under the root that caches parsed reminders; hidden, so todoman and vdirsyncer skip it. */
export const VDIR_INDEX_FILE = '.rem-index.json';

/** Index changes appended since the index was last written whole; applied by every read. */
export const VDIR_JOURNAL_FILE = '.rem-index.journal';

/** Past this many journal lines the next save rewrites the index whole. */
const JOURNAL_FOLD_LINES = 256;

// Bump when the parser changes what it reads, so old caches are rebuilt.
// 2: revisions are FNV fingerprints, no longer SHA-1; an older index is rebuilt.
// 3: entries are [file, entry] pairs, not an object keyed by file: an object with a thousand keys
//    parses at half the speed, and turning it into a Map cost as much again.
const INDEX_VERSION = 3;

/**
 * A record without `list` (the folder's current name is used) and `revision`, as a tuple: the
 * index of a thousand reminders then parses in a few milliseconds.
 */
type StoredRecord = [
  uid: string,
  title: string,
  notes: string | null,
  due: string | null,
  allDay: boolean,
  priority: number,
  flagged: boolean,
  completed: boolean,
  completedAt: string | null,
  url: string | null,
  tags: string[],
  repeat: string | null,
  createdAt: string | null,
  updatedAt: string | null,
];

/**
 * One file in the index: its mtime, size and inode when read (an atomic replace by another tool
 * always changes the inode), the sha1 of its bytes (the record's revision) and the record, or
 * null for a file that did not parse (tried again once it changes).
 */
type IndexEntry = [
  mtimeMs: number,
  size: number,
  inode: number,
  revision: string,
  record: StoredRecord | null,
];

interface ListFolder {
  folder: string;
  path: string;
  list: ReminderList;
  /** The folder's entries, read on first use (a scan needs them; naming the lists does not). */
  readonly entries: Dirent[];
}

/** A file to read: new, or changed since it was indexed, with its stat taken before the read. */
interface StaleFile {
  key: string;
  folder: ListFolder;
  fileName: string;
  path: string;
  stats: Stats;
}

/** What {@link ReminderBackend.indexed} hands out: an index entry, not yet a record. */
interface IndexedItem {
  uid: string;
  title: string;
  key: string;
  folder: ListFolder;
  fileName: string;
  cached: IndexEntry;
}

interface StoredItem {
  key: string;
  folder: ListFolder;
  fileName: string;
  record: ReminderRecord;
}

type VtodoModule = typeof import('../ical/vtodo.js');

const capabilities: BackendCapabilities = {
  flagged: true,
  url: true,
  tags: true,
  repeat: true,
  listManagement: true,
};

/**
 * Opens a vdir (the layout vdirsyncer and todoman use) as a reminder backend.
 *
 * Each non-hidden subfolder of `root` is a list, named by its `displayname` file when it has one,
 * else by the folder; each `.ics` file in it holds one VTODO. Writes go to a hidden temp file and
 * are renamed into place; new files never replace existing ones; updates and deletes refuse with
 * REM_CONFLICT when the file's content hash differs from `record.revision`. Parsed reminders are
 * cached in `root/.rem-index.json`, checked by mtime and size, so a warm listing parses nothing
 * and does not load the iCalendar parser.
 *
 * @param options the root folder and an optional clock
 * @returns the backend; `close()` releases nothing but is safe to call
 * @example
 * const backend = await createVdirBackend({ root: `${homedir()}/.local/share/calendars` });
 * const open = (await backend.reminders()).filter((reminder) => !reminder.completed);
 */
export async function createVdirBackend(options: VdirBackendOptions): Promise<ReminderBackend> {
  const root = options.root;
  const clock = options.now ?? (() => new Date());
  const indexPath = join(root, VDIR_INDEX_FILE);
  let index: Map<string, IndexEntry> | null = null;
  let vtodoModule: VtodoModule | null = null;
  /** The items of the last scan of every list, for {@link locate}. */
  let lastItems: StoredItem[] = [];

  // ical.js takes tens of milliseconds to load, so only a parse or a write pays for it.
  const loadVtodo = async (): Promise<VtodoModule> => {
    vtodoModule ??= await import('../ical/vtodo.js');
    return vtodoModule;
  };

  const journalPath = join(root, VDIR_JOURNAL_FILE);
  /** Lines the journal held when read; past {@link JOURNAL_FOLD_LINES} it is folded in. */
  let journalLines = 0;
  /** Entries changed since the index was read (null: removed), for the journal. */
  const changes = new Map<string, IndexEntry | null>();
  /** The index file was unusable (corrupt, another version) or the journal long: write it whole. */
  let rewriteWhole = false;

  const loadIndex = (): Map<string, IndexEntry> => {
    if (index === null) {
      const { entries, usable } = readIndex(indexPath);
      journalLines = readJournal(journalPath, entries);
      index = trackChanges(entries, changes);
      if (!usable || journalLines > JOURNAL_FOLD_LINES) {
        rewriteWhole = true;
        saveIndex();
      }
    }
    return index;
  };

  /**
   * Records a new file's entry. A process that has not read the index (a lone `rem add`) appends
   * one line to the journal instead of reading and rewriting the whole index; the next reader
   * applies it. Both are caches checked by stat, so a lost line only costs a reparse.
   */
  const recordEntry = (key: string, entry: IndexEntry): void => {
    if (index !== null) {
      index.set(key, entry);
      saveIndex();
      return;
    }
    appendJournal(journalPath, [[key, entry]]);
  };

  let saveScheduled: NodeJS.Immediate | null = null;

  // Writes are coalesced (a bulk import saves once), flushed at the latest when the process exits.
  const saveIndex = (): void => {
    if (saveScheduled !== null) return;
    saveScheduled = setImmediate(flushIndex);
    process.once('exit', flushIndex);
  };

  /**
   * A few changed entries are appended to the journal; many (a first scan, an import), or a
   * journal grown long, rewrite the index whole and drop the journal. A command that changes one
   * reminder so never rewrites a thousand-entry index.
   */
  function flushIndex(): void {
    if (saveScheduled === null) return;
    clearImmediate(saveScheduled);
    saveScheduled = null;
    process.removeListener('exit', flushIndex);
    if (index === null || (changes.size === 0 && !rewriteWhole)) return;
    if (!rewriteWhole && journalLines + changes.size <= JOURNAL_FOLD_LINES) {
      if (appendJournal(journalPath, [...changes])) {
        journalLines += changes.size;
        changes.clear();
        return;
      }
    }
    const entries = [...index];
    try {
      writeAtomically(root, VDIR_INDEX_FILE, JSON.stringify({ version: INDEX_VERSION, entries }));
      // Lines appended since it was read are dropped with it; their files just get reparsed.
      if (journalLines > 0) unlinkQuietly(journalPath);
      journalLines = 0;
      changes.clear();
      rewriteWhole = false;
    } catch {
      // The index is only a cache; a read-only or vanished root just means parsing next time.
    }
  }

  const listFolders = (): ListFolder[] => {
    const folders: ListFolder[] = [];
    for (const entry of readDirectory(root)) {
      if (entry.name.startsWith('.')) continue;
      const path = join(root, entry.name);
      const isDirectory =
        entry.isDirectory() ||
        (entry.isSymbolicLink() && statSync(path, { throwIfNoEntry: false })?.isDirectory() === true);
      if (!isDirectory) continue;
      // Metadata files are looked up by name: listing a hundred reminders to name one list
      // cost `rem add` more than the write itself.
      const displayName = readMetadata(path, 'displayname');
      const color = readMetadata(path, 'color');
      let entries: Dirent[] | undefined;
      folders.push({
        folder: entry.name,
        path,
        list: { name: displayName ?? entry.name, handle: entry.name, color },
        get entries() {
          entries ??= readDirectory(path);
          return entries;
        },
      });
    }
    return folders.sort((left, right) => compareNames(left.list.name, right.list.name));
  };

  const findFolder = (folders: ListFolder[], name: string): ListFolder => {
    const found =
      folders.find((candidate) => candidate.list.name === name) ??
      folders.find((candidate) => candidate.folder === name);
    if (found !== undefined) return found;
    throw unknownListError(
      name,
      folders.map((candidate) => candidate.list.name),
    );
  };

  /**
   * Reads and parses files that are new or changed since indexed, and indexes them: the `stats`
   * given were taken before the read, so a write in between leaves a stale stat and the next scan
   * parses again rather than trusting old content. Returns the ones that parsed.
   */
  const readFiles = async (stale: StaleFile[], cache: Map<string, IndexEntry>): Promise<StoredItem[]> => {
    // Plain files are read without ical.js; only what needs it (a TZID, an RRULE) loads it.
    const { quickParseVtodo } = await import('../ical/quick-vtodo.js');
    const items: StoredItem[] = [];
    for (const file of stale) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(file.path);
      } catch (error) {
        if (isMissing(error)) continue;
        throw error;
      }
      let record: StoredRecord | null = null;
      try {
        const text = bytes.toString('utf8');
        const list = file.folder.list.name;
        record = toStored(quickParseVtodo(text, list) ?? (await loadVtodo()).parseVtodo(text, list));
      } catch {
        // Not a reminder we can read: skip it, leave the file alone, retry when it changes.
      }
      const entry: IndexEntry = [
        file.stats.mtimeMs,
        file.stats.size,
        file.stats.ino,
        hashBytes(bytes),
        record,
      ];
      cache.set(file.key, entry);
      if (record !== null) {
        items.push({
          key: file.key,
          folder: file.folder,
          fileName: file.fileName,
          record: toRecord(entry, file.folder.list.name),
        });
      }
    }
    return items;
  };

  const scan = async (listNames?: string[]): Promise<StoredItem[]> => {
    const folders = listFolders();
    const selected =
      listNames === undefined ? folders : [...new Set(listNames.map((name) => findFolder(folders, name)))];
    const cache = loadIndex();
    let changed = false;
    const items: StoredItem[] = [];
    const seen = new Set<string>();
    const stale: StaleFile[] = [];

    for (const folder of selected) {
      for (const entry of folder.entries) {
        if (!isReminderFile(entry)) continue;
        const fileName = entry.name;
        // Plain concatenation: path.join's normalising is a measurable share of a warm scan.
        const path = `${folder.path}/${fileName}`;
        const stats = statSync(path, { throwIfNoEntry: false });
        if (stats === undefined || !stats.isFile()) continue;
        const key = `${folder.folder}/${fileName}`;
        seen.add(key);
        const cached = cache.get(key);
        if (
          cached !== undefined &&
          cached[0] === stats.mtimeMs &&
          cached[1] === stats.size &&
          cached[2] === stats.ino
        ) {
          if (cached[4] !== null) {
            items.push({ key, folder, fileName, record: toRecord(cached, folder.list.name) });
          }
        } else {
          stale.push({ key, folder, fileName, path, stats });
        }
      }
    }

    if (stale.length > 0) {
      items.push(...(await readFiles(stale, cache)));
      changed = true;
    }

    const selectedFolders = new Set(selected.map((folder) => folder.folder));
    const existingFolders = new Set(folders.map((folder) => folder.folder));
    for (const key of cache.keys()) {
      const folder = key.slice(0, key.indexOf('/'));
      if ((selectedFolders.has(folder) && !seen.has(key)) || !existingFolders.has(folder)) {
        cache.delete(key);
        changed = true;
      }
    }
    if (changed) saveIndex();
    items.sort((left, right) => (left.key < right.key ? -1 : left.key > right.key ? 1 : 0));
    if (listNames === undefined) lastItems = items;
    return items;
  };

  /**
   * Every reminder as the index has it, for files the folders still hold, without a stat per file
   * (a file not indexed yet is read now) and without building a record per file. `confirm` stats
   * the files of the reminders named and builds their records when they are still as indexed.
   */
  const indexed = async (): Promise<IndexedReminders> => {
    const cache = loadIndex();
    const entries: IndexedItem[] = [];
    const fresh: StaleFile[] = [];
    for (const folder of listFolders()) {
      for (const entry of folder.entries) {
        if (!isReminderFile(entry)) continue;
        const fileName = entry.name;
        const key = `${folder.folder}/${fileName}`;
        const cached = cache.get(key);
        if (cached === undefined) {
          // A file another tool just added: read it now, as a scan would.
          const path = `${folder.path}/${fileName}`;
          const stats = statSync(path, { throwIfNoEntry: false });
          if (stats?.isFile()) fresh.push({ key, folder, fileName, path, stats });
        } else if (cached[4] !== null) {
          entries.push({ uid: cached[4][0], title: cached[4][1], key, folder, fileName, cached });
        }
      }
    }
    if (fresh.length > 0) {
      for (const { key, folder, fileName, record } of await readFiles(fresh, cache)) {
        const cached = cache.get(key) as IndexEntry;
        entries.push({ uid: record.uid, title: record.title, key, folder, fileName, cached });
      }
      saveIndex();
    }
    return {
      entries,
      confirm: (named) => {
        const items: StoredItem[] = [];
        for (const { key, folder, fileName, cached } of named as IndexedItem[]) {
          const stats = statSync(`${folder.path}/${fileName}`, { throwIfNoEntry: false });
          if (
            stats === undefined ||
            !stats.isFile() ||
            stats.mtimeMs !== cached[0] ||
            stats.size !== cached[1] ||
            stats.ino !== cached[2]
          ) {
            return undefined;
          }
          items.push({ key, folder, fileName, record: toRecord(cached, folder.list.name) });
        }
        lastItems = items;
        return items.map((item) => item.record);
      },
    };
  };

  const findItem = (items: StoredItem[], uid: string): StoredItem | undefined =>
    items.find((item) => item.record.uid === uid);

  /** Reads the file, checks it still has `revision` and returns its text and actual revision. */
  const readChecked = (
    item: StoredItem,
    revision: string | undefined,
  ): { text: string; revision: string } => {
    const path = join(item.folder.path, item.fileName);
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (error) {
      if (isMissing(error)) throw conflict(item, 'was deleted');
      throw error;
    }
    const actual = hashBytes(bytes);
    if (revision !== undefined && actual !== revision) throw conflict(item, 'changed');
    return { text: bytes.toString('utf8'), revision: actual };
  };

  /**
   * Records a file just written in the index and returns it as stored. `stats` are those of the
   * bytes we wrote (taken before the rename), so a later write by someone else never pairs their
   * stat with our content.
   */
  const remember = async (
    folder: ListFolder,
    written: WrittenFile,
    text: string,
    known?: ReminderRecord,
  ): Promise<ReminderRecord> => {
    const parsed = known ?? (await loadVtodo()).parseVtodo(text, folder.list.name);
    const entry: IndexEntry = [
      written.stats.mtimeMs,
      written.stats.size,
      written.stats.ino,
      hashBytes(Buffer.from(text, 'utf8')),
      toStored(parsed),
    ];
    recordEntry(`${folder.folder}/${written.fileName}`, entry);
    return toRecord(entry, folder.list.name);
  };

  /**
   * The file holding `record` and its text, checked against `record.revision`. The file found by
   * the last full scan (or confirmed lookup) is read directly when it was at that same revision:
   * the content check is what makes that safe. Otherwise, or when that read fails, a scan finds it.
   */
  const locate = async (
    record: ReminderRecord,
  ): Promise<{ item: StoredItem; previous: { text: string; revision: string } }> => {
    const known = record.revision === undefined ? undefined : findItem(lastItems, record.uid);
    if (known !== undefined && known.record.revision === record.revision) {
      try {
        return { item: known, previous: readChecked(known, record.revision) };
      } catch {
        // Moved, deleted or changed since: the scan below finds out which.
      }
    }
    const item = findItem(await scan(), record.uid);
    if (item === undefined) throw notFound([record.uid]);
    return { item, previous: readChecked(item, record.revision) };
  };

  const backend: ReminderBackend = {
    name: 'vdir',
    capabilities,

    lists: () => guard(async () => listFolders().map((folder) => folder.list)),

    reminders: (query = {}) => guard(async () => (await scan(query.lists)).map((item) => item.record)),

    indexed: () => guard(async () => indexed()),

    create: (record: NewReminderRecord) =>
      guard(async () => {
        const folder = findFolder(listFolders(), record.list);
        // A new file needs no parser: the fresh writer skips loading ical.js.
        const { freshRecord, writeFreshVtodo } = await import('../ical/fresh-vtodo.js');
        if (record.uid !== undefined) {
          const existing = findItem(await scan(), record.uid);
          if (existing !== undefined) {
            throw new RemError(
              'REM_INVALID_INPUT',
              `a reminder with uid "${record.uid}" already exists in list "${existing.record.list}"; update it instead`,
              { details: { given: record.uid } },
            );
          }
        }
        // globalThis.crypto loads node:crypto only when read, so a listing never pays for it.
        const uid = record.uid ?? globalThis.crypto.randomUUID();
        const now = clock();
        const fresh = { ...record, uid, list: folder.list.name };
        const text = writeFreshVtodo(fresh, now);
        const written = writeExclusively(folder.path, `${fileNameFor(uid)}.ics`, text);
        return remember(folder, written, text, freshRecord(fresh, now));
      }),

    update: (record: ReminderRecord) =>
      guard(async () => {
        const { item, previous } = await locate(record);
        // The folder the file was just read from, unless the record moves to another list.
        const target =
          record.list === item.folder.list.name ? item.folder : findFolder(listFolders(), record.list);
        const now = clock();
        // A completion is patched line by line; anything else goes through ical.js.
        const [{ quickPatchVtodo }, { quickParseVtodo }] = await Promise.all([
          import('../ical/quick-patch.js'),
          import('../ical/quick-vtodo.js'),
        ]);
        const patched =
          target.folder === item.folder.folder ? quickPatchVtodo(record, previous.text, now) : undefined;
        const text = patched ?? (await loadVtodo()).serializeVtodo(record, previous.text, { now });
        const known = patched === undefined ? undefined : quickParseVtodo(text, target.list.name);
        // Checked again just before the file is replaced, to narrow the window for a lost update.
        const revision = previous.revision;
        let stored: ReminderRecord;
        if (target.folder === item.folder.folder) {
          const written = writeAtomically(item.folder.path, item.fileName, text, () =>
            readChecked(item, revision),
          );
          stored = await remember(target, written, text, known);
        } else {
          const written = writeExclusively(target.path, item.fileName, text);
          try {
            readChecked(item, revision);
          } catch (error) {
            unlinkSync(join(target.path, written.fileName));
            throw error;
          }
          unlinkQuietly(join(item.folder.path, item.fileName));
          loadIndex().delete(item.key);
          stored = await remember(target, written, text);
        }
        saveIndex();
        return stored;
      }),

    delete: (records: ReminderRecord[]) =>
      guard(async () => {
        if (records.length === 0) return;
        // Every file is found and checked before any is removed.
        const found: Array<{ item: StoredItem }> = [];
        const missing: string[] = [];
        for (const record of records) {
          try {
            found.push(await locate(record));
          } catch (error) {
            if (!RemError.isInstance(error) || error.code !== 'REM_NOT_FOUND') throw error;
            missing.push(record.uid);
          }
        }
        if (missing.length > 0) throw notFound(missing);
        const cache = loadIndex();
        for (const { item } of found) {
          unlinkQuietly(join(item.folder.path, item.fileName));
          cache.delete(item.key);
        }
        saveIndex();
      }),

    createList: (name: string) =>
      guard(async () => {
        checkListName(name);
        const folders = listFolders();
        if (folders.some((folder) => folder.list.name === name || folder.folder === name)) {
          throw listExists(name);
        }
        mkdirSync(root, { recursive: true });
        try {
          mkdirSync(join(root, name));
        } catch (error) {
          if (errorCode(error) === 'EEXIST') throw listExists(name);
          throw error;
        }
        return { name, handle: name, color: null };
      }),

    renameList: (name: string, newName: string) =>
      guard(async () => {
        checkListName(newName);
        const folders = listFolders();
        const folder = findFolder(folders, name);
        if (
          folders.some(
            (other) => other !== folder && (other.list.name === newName || other.folder === newName),
          )
        ) {
          throw listExists(newName);
        }
        if (readMetadata(folder.path, 'displayname') !== null) {
          // A synced folder's name is its collection id; vdirsyncer carries displayname to the server.
          writeAtomically(folder.path, 'displayname', newName);
          return { ...folder.list, name: newName };
        }
        const newPath = join(root, newName);
        if (statSync(newPath, { throwIfNoEntry: false }) !== undefined) throw listExists(newName);
        renameSync(folder.path, newPath);
        const cache = loadIndex();
        for (const [key, entry] of [...cache]) {
          if (!key.startsWith(`${folder.folder}/`)) continue;
          cache.delete(key);
          cache.set(`${newName}/${key.slice(folder.folder.length + 1)}`, entry);
        }
        saveIndex();
        return { name: newName, handle: newName, color: folder.list.color };
      }),

    deleteList: (name: string) =>
      guard(async () => {
        const folder = findFolder(listFolders(), name);
        rmSync(folder.path, { recursive: true, force: true });
        const cache = loadIndex();
        for (const key of [...cache.keys()]) if (key.startsWith(`${folder.folder}/`)) cache.delete(key);
        saveIndex();
      }),

    close: async () => {
      flushIndex();
    },
  };
  return backend;
}

/**
 * Reads the index file. `usable` is false when a file is there but cannot be used (torn,
 * corrupt, another version), so the next save replaces it; a missing file is usable (empty).
 */
function readIndex(indexPath: string): { entries: Map<string, IndexEntry>; usable: boolean } {
  const entries = new Map<string, IndexEntry>();
  let text: string;
  try {
    text = readFileSync(indexPath, 'utf8');
  } catch {
    return { entries, usable: true };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { entries, usable: false };
  }
  if (typeof parsed !== 'object' || parsed === null) return { entries, usable: false };
  const { version, entries: stored } = parsed as { version?: unknown; entries?: unknown };
  if (version !== INDEX_VERSION || !Array.isArray(stored)) return { entries, usable: false };
  for (const pair of stored as unknown[]) {
    if (Array.isArray(pair) && typeof pair[0] === 'string' && isIndexEntry(pair[1]))
      entries.set(pair[0], pair[1]);
  }
  return { entries, usable: true };
}

/** Applies the journal's lines to `entries` in order; returns how many lines it held. */
function readJournal(journalPath: string, entries: Map<string, IndexEntry>): number {
  let text: string;
  try {
    text = readFileSync(journalPath, 'utf8');
  } catch {
    return 0;
  }
  let lines = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    lines += 1;
    try {
      const [key, entry] = JSON.parse(line) as [unknown, unknown];
      if (typeof key !== 'string') continue;
      if (entry === null) entries.delete(key);
      else if (isIndexEntry(entry)) entries.set(key, entry);
    } catch {
      // A torn or foreign line: skip it; the file it described is reparsed.
    }
  }
  return lines;
}

/** Appends entries (null: removed) as one write; false when it could not. */
function appendJournal(journalPath: string, entries: Array<[string, IndexEntry | null]>): boolean {
  try {
    appendFileSync(journalPath, entries.map((entry) => `${JSON.stringify(entry)}\n`).join(''));
    return true;
  } catch {
    // A cache write that failed: the next scan parses the file instead.
    return false;
  }
}

/** The index map, noting every set and delete in `changes`. */
function trackChanges(
  entries: Map<string, IndexEntry>,
  changes: Map<string, IndexEntry | null>,
): Map<string, IndexEntry> {
  const tracked = new Map(entries);
  const set = tracked.set.bind(tracked);
  const remove = tracked.delete.bind(tracked);
  tracked.set = (key, entry) => {
    changes.set(key, entry);
    return set(key, entry);
  };
  tracked.delete = (key) => {
    if (remove(key)) {
      changes.set(key, null);
      return true;
    }
    return false;
  };
  return tracked;
}

function isIndexEntry(value: unknown): value is IndexEntry {
  if (!Array.isArray(value) || value.length !== 5) return false;
  const [mtimeMs, size, inode, revision, record] = value as unknown[];
  return (
    typeof mtimeMs === 'number' &&
    typeof size === 'number' &&
    typeof inode === 'number' &&
    typeof revision === 'string' &&
    (record === null ||
      (Array.isArray(record) &&
        record.length === 14 &&
        typeof record[0] === 'string' &&
        typeof record[1] === 'string' &&
        Array.isArray(record[10])))
  );
}

function toStored(record: ReminderRecord): StoredRecord {
  return [
    record.uid,
    record.title,
    record.notes,
    record.due,
    record.allDay,
    record.priority,
    record.flagged,
    record.completed,
    record.completedAt,
    record.url,
    record.tags,
    record.repeat,
    record.createdAt,
    record.updatedAt,
  ];
}

function toRecord(entry: IndexEntry, list: string): ReminderRecord {
  const stored = entry[4] as StoredRecord;
  return {
    uid: stored[0],
    title: stored[1],
    notes: stored[2],
    list,
    due: stored[3],
    allDay: stored[4],
    priority: stored[5],
    flagged: stored[6],
    completed: stored[7],
    completedAt: stored[8],
    url: stored[9],
    tags: stored[10].slice(),
    repeat: stored[11],
    createdAt: stored[12],
    updatedAt: stored[13],
    revision: entry[3],
  };
}

/** A visible `.ics` file (or a link to one) in a list folder. */
function isReminderFile(entry: Dirent): boolean {
  return (
    entry.name.endsWith('.ics') && !entry.name.startsWith('.') && (entry.isFile() || entry.isSymbolicLink())
  );
}

function readDirectory(path: string): Dirent[] {
  try {
    return readdirSync(path, { withFileTypes: true });
  } catch (error) {
    if (isMissing(error) || errorCode(error) === 'ENOTDIR') return [];
    throw error;
  }
}

/** A vdirsyncer metadata file (`displayname`, `color`): one line of text, or null when absent or empty. */
function readMetadata(folderPath: string, name: string): string | null {
  const path = `${folderPath}/${name}`;
  // existsSync throws nothing for the usual absent file; a caught ENOENT costs more than the check.
  if (!existsSync(path)) return null;
  try {
    const value = readFileSync(path, 'utf8').trim();
    return value === '' ? null : value;
  } catch {
    return null;
  }
}

function compareNames(left: string, right: string): number {
  const leftLower = left.toLowerCase();
  const rightLower = right.toLowerCase();
  if (leftLower !== rightLower) return leftLower < rightLower ? -1 : 1;
  return left < right ? -1 : left > right ? 1 : 0;
}

/**
 * A 64-bit content fingerprint (two FNV-1a lanes) plus the length: enough to notice that a file
 * changed between read and write, and cheap enough to run on every file a scan reparses.
 */
function hashBytes(bytes: Buffer): string {
  let low = 0x811c9dc5;
  let high = 0x050c5d1f;
  for (let index = 0; index < bytes.length; index += 1) {
    const byte = bytes[index] as number;
    low = Math.imul(low ^ byte, 0x01000193);
    high = Math.imul(high ^ byte, 0x01000193) ^ (low >>> 7);
  }
  return `${bytes.length.toString(16)}-${(high >>> 0).toString(16).padStart(8, '0')}${(low >>> 0).toString(16).padStart(8, '0')}`;
}

/** Random hex for temp and fallback file names (uniqueness, not secrecy). */
function randomHex(length: number): string {
  let text = '';
  while (text.length < length) text += Math.random().toString(16).slice(2);
  return text.slice(0, length);
}

function temporaryPath(folderPath: string, fileName: string): string {
  return join(folderPath, `.${fileName}.${process.pid}.${randomHex(12)}.tmp`);
}

interface WrittenFile {
  fileName: string;
  /** The stat of the bytes written, taken before they were moved into place. */
  stats: Stats;
}

/**
 * Replaces (or creates) `fileName` through a hidden temp file and a rename, so a reader sees the
 * old or the new file, never half of one. `beforeRename` may throw to abandon the write.
 */
function writeAtomically(
  folderPath: string,
  fileName: string,
  text: string,
  beforeRename?: () => void,
): WrittenFile {
  const temporary = temporaryPath(folderPath, fileName);
  writeFileSync(temporary, text, { flag: 'wx' });
  try {
    // rename keeps the inode and mtime, so this is the stat the final file will have.
    const stats = statSync(temporary);
    beforeRename?.();
    renameSync(temporary, join(folderPath, fileName));
    return { fileName, stats };
  } catch (error) {
    unlinkQuietly(temporary);
    throw error;
  }
}

/**
 * Writes a new file under `preferredName`, or a fresh variant of it when that name is taken, and
 * returns the name used. The file appears complete (temp file + hard link), and an existing file
 * is never replaced.
 */
function writeExclusively(folderPath: string, preferredName: string, text: string): WrittenFile {
  const temporary = temporaryPath(folderPath, preferredName);
  writeFileSync(temporary, text, { flag: 'wx' });
  try {
    // A hard link shares the inode and mtime, so this is the stat the final file will have.
    const stats = statSync(temporary);
    const stem = preferredName.replace(/\.ics$/, '');
    for (let attempt = 0; ; attempt += 1) {
      const fileName = attempt === 0 ? preferredName : `${stem}-${randomHex(8)}.ics`;
      const target = join(folderPath, fileName);
      try {
        linkSync(temporary, target);
        return { fileName, stats };
      } catch (error) {
        const code = errorCode(error);
        if (code === 'EEXIST' && attempt < 10) continue;
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EXDEV') throw error;
      }
      // A file system without hard links: an exclusive copy still never replaces a file.
      try {
        copyFileSync(temporary, target, constants.COPYFILE_EXCL);
        return { fileName, stats: statSync(target) };
      } catch (error) {
        if (errorCode(error) === 'EEXIST' && attempt < 10) continue;
        throw error;
      }
    }
  } finally {
    unlinkQuietly(temporary);
  }
}

/** A file name for a UID: safe on every file system, never hidden. */
function fileNameFor(uid: string): string {
  const safe = uid
    .replace(/[^A-Za-z0-9@._+-]/g, '_')
    .replace(/^\.+/, '')
    .slice(0, 200);
  return safe === '' ? randomHex(16) : safe;
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}

function checkListName(name: string): void {
  if (name.trim() === '' || name.includes('/') || name.includes('\0') || name.startsWith('.')) {
    throw new RemError(
      'REM_INVALID_INPUT',
      `"${name}" cannot be a list name: it must be non-empty, must not start with "." and must not contain "/" or NUL`,
      { details: { given: name } },
    );
  }
}

function listExists(name: string): RemError {
  return new RemError('REM_LIST_EXISTS', `a list named "${name}" already exists; pick another name`, {
    details: { given: name },
  });
}

function notFound(uids: string[]): RemError {
  return new RemError(
    'REM_NOT_FOUND',
    `no reminder with uid ${uids.map((uid) => `"${uid}"`).join(', ')}; nothing was changed`,
    { details: { given: uids } },
  );
}

function conflict(item: StoredItem, what: string): RemError {
  return new RemError(
    'REM_CONFLICT',
    `reminder "${item.record.title}" ${what} since it was read (${item.folder.folder}/${item.fileName}); read it again and retry`,
    { details: { given: item.record.uid, file: `${item.folder.folder}/${item.fileName}` } },
  );
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

function isMissing(error: unknown): boolean {
  return errorCode(error) === 'ENOENT';
}

/** Lets a RemError through and turns anything else (I/O) into REM_BACKEND_FAILED. */
async function guard<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (RemError.isInstance(error)) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new RemError('REM_BACKEND_FAILED', `the vdir backend failed: ${message}`, { cause: error });
  }
}
