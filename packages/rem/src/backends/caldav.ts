import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Logger } from '@ballast/core';
import { RemError } from '../errors.js';
import type {
  BackendCapabilities,
  NewReminderRecord,
  ReminderBackend,
  ReminderList,
  ReminderRecord,
} from '../types.js';
import { unknownListError } from './shared.js';

// tsdav (~35 ms to import) and ical.js (behind the vtodo module) are loaded only when needed:
// a `rem list` whose calendars did not change needs neither.
type VtodoModule = typeof import('../ical/vtodo.js');
const importTsdav = () => import('tsdav');
type TsdavModule = Awaited<ReturnType<typeof importTsdav>>;

/** Options of {@link createCaldavBackend}. */
export interface CaldavBackendOptions {
  /**
   * The CalDAV server: its root or any URL on it. Discovery follows `/.well-known/caldav`, the
   * current-user-principal and its calendar-home-set. Credentials in the URL are used when
   * `username` and `password` are not given, and never shown in messages.
   */
  url: string;
  /** The user for HTTP Basic authentication. @default no Authorization header */
  username?: string;
  /** The password for HTTP Basic authentication. @default '' */
  password?: string;
  /**
   * Where discovery, the calendars' ctags and their parsed reminders are cached, so that a new
   * process does not rediscover or reparse. The password is never stored.
   * @default `$XDG_CACHE_HOME/rem`, else `~/.cache/rem`
   */
  cacheDir?: string;
  /**
   * The fetch to send every request with.
   * @default node:http(s) for the backend's own requests (the first call of the global fetch costs
   * ~25 ms of undici loading, an eighth of a `rem list`), globalThis.fetch for tsdav's
   */
  fetch?: typeof fetch;
  /** Where a skipped unreadable item or an unwritable cache is reported. @default silent */
  logger?: Logger;
}

const CACHE_VERSION = 1;
const REQUEST_TIMEOUT_MS = 30_000;
// Calendars fetched at once. More buys nothing from a small server (Radicale answers from a few
// threads behind a 5-connection backlog: ten at once cost a 1 s SYN retry now and then).
const SYNC_CONCURRENCY = 4;
const CAPABILITIES: BackendCapabilities = Object.freeze({
  flagged: true,
  url: true,
  tags: true,
  repeat: true,
  listManagement: true,
});

const LISTING_BODY =
  '<?xml version="1.0" encoding="utf-8"?>' +
  '<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" ' +
  'xmlns:cs="http://calendarserver.org/ns/" xmlns:a="http://apple.com/ns/ical/"><d:prop>' +
  '<d:resourcetype/><d:displayname/><cs:getctag/>' +
  '<c:supported-calendar-component-set/><a:calendar-color/></d:prop></d:propfind>';

const SYNC_TOKEN_BODY =
  '<?xml version="1.0" encoding="utf-8"?>' +
  '<d:propfind xmlns:d="DAV:"><d:prop><d:sync-token/></d:prop></d:propfind>';

const QUERY_BODY =
  '<?xml version="1.0" encoding="utf-8"?>' +
  '<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">' +
  '<d:prop><d:getetag/><c:calendar-data/></d:prop>' +
  '<c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VTODO"/></c:comp-filter></c:filter>' +
  '</c:calendar-query>';

function syncCollectionBody(syncToken: string): string {
  return (
    '<?xml version="1.0" encoding="utf-8"?>' +
    '<d:sync-collection xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">' +
    `<d:sync-token>${escapeXml(syncToken)}</d:sync-token><d:sync-level>1</d:sync-level>` +
    '<d:prop><d:getetag/><c:calendar-data/></d:prop></d:sync-collection>'
  );
}

/** One calendar object as cached: the raw text is kept so an update preserves what rem does not model. */
interface CachedObject {
  href: string;
  etag: string | null;
  ics: string;
  /** As parseVtodo returned it; `list` and `revision` are filled in on the way out. */
  record: ReminderRecord;
}

interface CachedCalendar {
  url: string;
  name: string;
  color: string | null;
  /** The ctag the server reported at the last listing. */
  listedCtag: string | null;
  /** The ctag `objects` are known to reflect (or to be older than). */
  syncedCtag: string | null;
  /** The sync-token `objects` reflect (or are newer than), for the next sync-collection REPORT. */
  syncToken: string | null;
  /** Null until the calendar's objects were first fetched. */
  objects: CachedObject[] | null;
}

interface CacheState {
  version: typeof CACHE_VERSION;
  url: string;
  username: string | null;
  principalUrl: string;
  homeUrl: string;
  calendars: CachedCalendar[];
}

interface ListedCalendar {
  url: string;
  name: string;
  color: string | null;
  ctag: string | null;
}

/** An HTTP answer, read to the end. */
interface HttpReply {
  status: number;
  statusText: string;
  etag: string | null;
  body: string;
}

/** Sends one request; throws only when no answer came (connection refused, timeout). */
type Transport = (
  method: string,
  url: string,
  headers: Record<string, string>,
  body: string | undefined,
) => Promise<HttpReply>;

interface FetchedObject {
  href: string;
  etag: string | null;
  ics: string;
}

/**
 * Opens a CalDAV server (Radicale, Nextcloud, Fastmail, Baïkal, SOGo…) as a reminders backend:
 * each calendar that holds VTODOs is a list, each VTODO a reminder, its ETag the revision.
 *
 * Nothing is sent until the first call. Discovery and every calendar's objects are cached on disk
 * (keyed by URL and user), so a warm `reminders()` is one PROPFIND for all calendars' ctags plus
 * a sync-collection REPORT for each calendar that changed, and parses only the items whose ETag
 * is new.
 *
 * @param options the server, credentials, cache folder and fetch
 * @returns the backend, named `caldav`
 * @throws {RemError} REM_INVALID_INPUT for a URL that is not http(s);
 *   REM_BACKEND_UNAVAILABLE for iCloud, whose upgraded Reminders CalDAV cannot reach
 * @example
 * ```ts
 * const backend = await createCaldavBackend({
 *   url: 'https://dav.example.com/',
 *   username: 'ana',
 *   password: process.env.REM_CALDAV_PASSWORD,
 * });
 * const open = (await backend.reminders()).filter((reminder) => !reminder.completed);
 * ```
 */
export async function createCaldavBackend(options: CaldavBackendOptions): Promise<ReminderBackend> {
  const server = parseServerUrl(options.url);
  const username = options.username ?? server.username;
  const password = options.password ?? server.password ?? '';
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const key = createHash('sha256')
    .update(`${server.url}\n${username ?? ''}`)
    .digest('hex')
    .slice(0, 32);
  return new CaldavBackend({
    serverUrl: server.url,
    username,
    authorization:
      username === undefined
        ? undefined
        : `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`,
    cacheFile: join(cacheDir, `caldav-${key}.json`),
    fetch: options.fetch,
    logger: options.logger,
  });
}

function defaultCacheDir(): string {
  const cacheHome = process.env.XDG_CACHE_HOME;
  return join(cacheHome ? cacheHome : join(homedir(), '.cache'), 'rem');
}

function parseServerUrl(raw: string): { url: string; username?: string; password?: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (error) {
    const shown = raw.replace(/\/\/[^/@]*@/, '//');
    throw new RemError(
      'REM_INVALID_INPUT',
      `the CalDAV URL "${shown}" is not a URL; write it like https://dav.example.com/`,
      { cause: error, details: { field: 'url', given: shown } },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RemError(
      'REM_INVALID_INPUT',
      `the CalDAV URL "${redactUrl(url.href)}" is not http or https; write it like https://dav.example.com/`,
      { details: { field: 'url', given: redactUrl(url.href) } },
    );
  }
  const host = url.hostname.replace(/\.$/, '');
  if (host === 'icloud.com' || host.endsWith('.icloud.com')) {
    throw new RemError(
      'REM_BACKEND_UNAVAILABLE',
      `iCloud Reminders cannot be reached over CalDAV (${host}): reminders upgraded since iOS 13 ` +
        'live in a store iCloud no longer serves over CalDAV. Use the eventkit backend on a Mac ' +
        '(REM_BACKEND=eventkit) instead.',
      { details: { given: redactUrl(url.href), known: ['eventkit'] } },
    );
  }
  const credentials: { username?: string; password?: string } = {};
  if (url.username !== '') credentials.username = decodeURIComponent(url.username);
  if (url.password !== '') credentials.password = decodeURIComponent(url.password);
  url.username = '';
  url.password = '';
  url.hash = '';
  return { url: url.href, ...credentials };
}

function redactUrl(href: string): string {
  try {
    const url = new URL(href);
    url.username = '';
    url.password = '';
    return url.href;
  } catch {
    return href;
  }
}

class CaldavBackend implements ReminderBackend {
  readonly name = 'caldav';
  readonly capabilities = CAPABILITIES;

  private readonly serverUrl: string;
  private readonly username: string | undefined;
  private readonly authorization: string | undefined;
  private readonly cacheFile: string;
  /** The injected fetch, else the global one (for tsdav only). */
  private readonly baseFetch: typeof fetch;
  private readonly transport: Transport;
  private readonly logger: Logger | undefined;
  private statePromise: Promise<CacheState> | undefined;
  /** Whether the calendar list was read from the server in this process (not only from the cache). */
  private listed = false;
  /** Whether the state differs from the cache file. */
  private dirty = false;
  private vtodoModule: Promise<VtodoModule> | undefined;
  private tsdavModule: Promise<TsdavModule> | undefined;

  constructor(settings: {
    serverUrl: string;
    username: string | undefined;
    authorization: string | undefined;
    cacheFile: string;
    fetch: typeof fetch | undefined;
    logger: Logger | undefined;
  }) {
    this.serverUrl = settings.serverUrl;
    this.username = settings.username;
    this.authorization = settings.authorization;
    this.cacheFile = settings.cacheFile;
    this.baseFetch = settings.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.transport = settings.fetch === undefined ? nodeTransport : fetchTransport(settings.fetch);
    this.logger = settings.logger;
  }

  async lists(): Promise<ReminderList[]> {
    const state = await this.state();
    await this.refreshListing(state);
    await this.persist();
    return state.calendars.map((calendar) => ({
      name: calendar.name,
      handle: calendar.url,
      color: calendar.color,
    }));
  }

  async reminders(options: { lists?: string[] } = {}): Promise<ReminderRecord[]> {
    const state = await this.state();
    await this.refreshListing(state);
    const selected =
      options.lists === undefined
        ? state.calendars
        : [...new Set(options.lists.map((name) => this.requireCalendar(state, name)))];
    const stale = selected.filter((calendar) => !isFresh(calendar));
    const gone = new Set<CachedCalendar>();
    await eachConcurrently(stale, SYNC_CONCURRENCY, async (calendar) => {
      if (!(await this.syncCalendar(calendar))) gone.add(calendar);
    });
    if (gone.size > 0) {
      state.calendars = state.calendars.filter((calendar) => !gone.has(calendar));
      this.dirty = true;
    }
    await this.persist();
    const records: ReminderRecord[] = [];
    for (const calendar of selected) {
      if (gone.has(calendar)) continue;
      for (const object of calendar.objects ?? []) records.push(present(object, calendar));
    }
    return records;
  }

  async create(record: NewReminderRecord): Promise<ReminderRecord> {
    const state = await this.state();
    let calendar = await this.findCalendar(state, record.list);
    const vtodo = await this.vtodo();
    const uid = record.uid ?? vtodo.quickUid();
    const ics = vtodo.serializeVtodo({ ...record, uid });
    let href = objectHref(calendar, uid);
    let response = await this.request('PUT', href, { body: ics, headers: { 'If-None-Match': '*' } });
    if (response.status === 404 || response.status === 409) {
      // The cached calendar URL is gone: read the calendars again, once.
      await this.refreshListing(state);
      calendar = this.requireCalendar(state, record.list);
      href = objectHref(calendar, uid);
      response = await this.request('PUT', href, { body: ics, headers: { 'If-None-Match': '*' } });
    }
    if (response.status === 412) {
      throw new RemError(
        'REM_INVALID_INPUT',
        `a reminder with uid ${uid} already exists in list "${calendar.name}"; give another uid or none`,
        { details: { field: 'uid', given: uid } },
      );
    }
    if (!isSuccess(response)) throw this.httpFailure('PUT', href, response);
    const stored = this.remember(calendar, href, response.etag, ics, vtodo);
    await this.persist();
    return present(stored, calendar);
  }

  async update(record: ReminderRecord): Promise<ReminderRecord> {
    const state = await this.state();
    const found = await this.locate(state, record.uid);
    const target =
      record.list === found.calendar.name ? found.calendar : await this.findCalendar(state, record.list);
    const vtodo = await this.vtodo();
    const ics = vtodo.serializeVtodo(record, found.object.ics);
    const conflict = (): RemError =>
      new RemError(
        'REM_CONFLICT',
        `reminder "${found.object.record.title}" changed on the server since it was read; read it again and retry`,
        { details: { given: record.uid, revision: record.revision } },
      );

    if (target === found.calendar) {
      const headers: Record<string, string> =
        record.revision === undefined ? {} : { 'If-Match': record.revision };
      const response = await this.request('PUT', found.object.href, { body: ics, headers });
      if (response.status === 412) throw conflict();
      if (!isSuccess(response)) throw this.httpFailure('PUT', found.object.href, response);
      const stored = this.remember(target, found.object.href, response.etag, ics, vtodo);
      await this.persist();
      return present(stored, target);
    }

    // A move: create in the new calendar, then delete the old one under the caller's revision.
    const href = objectHref(target, record.uid);
    const created = await this.request('PUT', href, { body: ics, headers: { 'If-None-Match': '*' } });
    if (created.status === 412) {
      throw new RemError(
        'REM_CONFLICT',
        `list "${target.name}" already holds a reminder with uid ${record.uid}; it cannot be moved there`,
        { details: { given: record.uid, list: target.name } },
      );
    }
    if (!isSuccess(created)) throw this.httpFailure('PUT', href, created);
    const etag = created.etag;
    const headers: Record<string, string> =
      record.revision === undefined ? {} : { 'If-Match': record.revision };
    const removed = await this.request('DELETE', found.object.href, { headers });
    if (removed.status === 412) {
      await this.request('DELETE', href, { headers: etag === null ? {} : { 'If-Match': etag } });
      throw conflict();
    }
    if (!isSuccess(removed) && removed.status !== 404) {
      throw this.httpFailure('DELETE', found.object.href, removed);
    }
    forget(found.calendar, found.object.href);
    const stored = this.remember(target, href, etag, ics, vtodo);
    this.dirty = true;
    await this.persist();
    return present(stored, target);
  }

  async delete(records: ReminderRecord[]): Promise<void> {
    const state = await this.state();
    const targets: { record: ReminderRecord; calendar: CachedCalendar; object: CachedObject }[] = [];
    for (const record of records) targets.push({ record, ...(await this.locate(state, record.uid)) });
    try {
      for (const [index, { record, calendar, object }] of targets.entries()) {
        const headers: Record<string, string> =
          record.revision === undefined ? {} : { 'If-Match': record.revision };
        const response = await this.request('DELETE', object.href, { headers });
        if (response.status === 412) {
          throw new RemError(
            'REM_CONFLICT',
            `reminder "${object.record.title}" changed on the server since it was read; read it again and retry` +
              (index > 0 ? ` (${index} of ${targets.length} were deleted before it)` : ''),
            { details: { given: record.uid, revision: record.revision, deleted: index } },
          );
        }
        // 404: someone else deleted it already, which is what was asked.
        if (!isSuccess(response) && response.status !== 404) {
          throw this.httpFailure('DELETE', object.href, response);
        }
        forget(calendar, object.href);
        this.dirty = true;
      }
    } finally {
      await this.persist();
    }
  }

  async createList(name: string): Promise<ReminderList> {
    const listName = requireListName(name);
    const state = await this.state();
    await this.refreshListing(state);
    if (state.calendars.some((calendar) => calendar.name === listName)) {
      throw new RemError('REM_LIST_EXISTS', `a list "${listName}" already exists`, {
        details: { given: listName },
      });
    }
    const url = `${state.homeUrl}${randomUUID()}/`;
    const tsdav = await this.tsdav();
    const [response] = await tsdav.makeCalendar({
      url,
      props: {
        'd:displayname': listName,
        'c:supported-calendar-component-set': { 'c:comp': { _attributes: { name: 'VTODO' } } },
      },
      fetch: this.davFetch,
    });
    if (response === undefined || !response.ok) {
      throw this.statusFailure('MKCALENDAR', url, response?.status ?? 0, response?.statusText ?? '');
    }
    state.calendars.push({
      url,
      name: listName,
      color: null,
      listedCtag: null,
      syncedCtag: null,
      syncToken: null,
      objects: null,
    });
    sortCalendars(state);
    this.dirty = true;
    await this.persist();
    return { name: listName, handle: url, color: null };
  }

  async renameList(name: string, newName: string): Promise<ReminderList> {
    const listName = requireListName(newName);
    const state = await this.state();
    await this.refreshListing(state);
    const calendar = this.requireCalendar(state, name);
    if (listName !== name && state.calendars.some((other) => other.name === listName)) {
      throw new RemError('REM_LIST_EXISTS', `a list "${listName}" already exists`, {
        details: { given: listName },
      });
    }
    const tsdav = await this.tsdav();
    const [response] = await tsdav.davRequest({
      url: calendar.url,
      init: {
        method: 'PROPPATCH',
        namespace: 'd',
        body: {
          propertyupdate: {
            _attributes: { 'xmlns:d': 'DAV:' },
            set: { prop: { displayname: listName } },
          },
        },
      },
      fetch: this.davFetch,
    });
    if (response === undefined || !response.ok) {
      throw this.statusFailure('PROPPATCH', calendar.url, response?.status ?? 0, response?.statusText ?? '');
    }
    // tsdav keeps only the properties the multistatus set with a 2xx status.
    if (!('displayname' in (response.props ?? {}))) {
      throw new RemError(
        'REM_BACKEND_FAILED',
        `the CalDAV server refused to rename list "${name}" (PROPPATCH ${redactUrl(calendar.url)} did not set displayname)`,
        { details: { method: 'PROPPATCH', url: redactUrl(calendar.url), given: listName } },
      );
    }
    calendar.name = listName;
    sortCalendars(state);
    this.dirty = true;
    await this.persist();
    return { name: calendar.name, handle: calendar.url, color: calendar.color };
  }

  async deleteList(name: string): Promise<void> {
    const state = await this.state();
    await this.refreshListing(state);
    const calendar = this.requireCalendar(state, name);
    const tsdav = await this.tsdav();
    const response = await tsdav.deleteObject({ url: calendar.url, fetch: this.davFetch });
    await response.arrayBuffer();
    if (!response.ok && response.status !== 404) {
      throw this.statusFailure('DELETE', calendar.url, response.status, response.statusText);
    }
    state.calendars = state.calendars.filter((other) => other !== calendar);
    this.dirty = true;
    await this.persist();
  }

  async close(): Promise<void> {
    await this.persist();
  }

  // --- state and cache -------------------------------------------------------------------------

  private state(): Promise<CacheState> {
    this.statePromise ??= this.loadState().catch((error: unknown) => {
      this.statePromise = undefined;
      throw error;
    });
    return this.statePromise;
  }

  private async loadState(): Promise<CacheState> {
    try {
      const cached: unknown = JSON.parse(await readFile(this.cacheFile, 'utf8'));
      if (this.isUsableCache(cached)) return cached;
    } catch {
      // No cache yet, or an unreadable one: discover.
    }
    const discovered = await this.discover();
    this.dirty = true;
    return {
      version: CACHE_VERSION,
      url: this.serverUrl,
      username: this.username ?? null,
      ...discovered,
      calendars: [],
    };
  }

  private isUsableCache(value: unknown): value is CacheState {
    if (typeof value !== 'object' || value === null) return false;
    const cache = value as Partial<CacheState>;
    return (
      cache.version === CACHE_VERSION &&
      cache.url === this.serverUrl &&
      cache.username === (this.username ?? null) &&
      typeof cache.principalUrl === 'string' &&
      typeof cache.homeUrl === 'string' &&
      Array.isArray(cache.calendars)
    );
  }

  /** Writes the state when it changed: to a temporary file, renamed over the cache. */
  private async persist(): Promise<void> {
    const state = await this.statePromise;
    if (!this.dirty || state === undefined) return;
    this.dirty = false;
    const temporary = `${this.cacheFile}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await mkdir(dirname(this.cacheFile), { recursive: true, mode: 0o700 });
      await writeFile(temporary, JSON.stringify(state), { mode: 0o600 });
      await rename(temporary, this.cacheFile);
    } catch (error) {
      // The cache only saves time: a read-only home must not break reminders.
      await rm(temporary, { force: true }).catch(() => undefined);
      this.logger?.warn('rem: could not write the CalDAV cache', {
        file: this.cacheFile,
        error: errorMessage(error),
      });
    }
  }

  // --- discovery and listing -------------------------------------------------------------------

  private async discover(): Promise<{ principalUrl: string; homeUrl: string }> {
    const tsdav = await this.tsdav();
    try {
      const account = await tsdav.createAccount({
        account: { serverUrl: this.serverUrl, accountType: 'caldav' },
        fetch: this.davFetch,
      });
      if (account.principalUrl === undefined || account.homeUrl === undefined) {
        throw new Error('the server named no calendar home');
      }
      return {
        principalUrl: canonicalUrl(account.principalUrl, this.serverUrl),
        homeUrl: canonicalUrl(account.homeUrl, this.serverUrl, true),
      };
    } catch (error) {
      if (error instanceof RemError) throw error;
      throw new RemError(
        'REM_BACKEND_FAILED',
        `found no CalDAV calendar home at ${this.serverUrl} (${errorMessage(error)}); check REM_CALDAV_URL`,
        { cause: error, details: { url: this.serverUrl } },
      );
    }
  }

  /**
   * Reads every calendar's name and ctag with one PROPFIND on the calendar home, rediscovering
   * once when the cached home is gone.
   */
  private async refreshListing(state: CacheState): Promise<void> {
    let response = await this.request('PROPFIND', state.homeUrl, {
      body: LISTING_BODY,
      headers: { Depth: '1' },
    });
    // A home that is gone or moved: discover it again, once.
    if (response.status === 404 || (response.status >= 300 && response.status < 400)) {
      Object.assign(state, await this.discover());
      this.dirty = true;
      response = await this.request('PROPFIND', state.homeUrl, {
        body: LISTING_BODY,
        headers: { Depth: '1' },
      });
    }
    if (response.status !== 207) throw this.httpFailure('PROPFIND', state.homeUrl, response);
    const listed = parseListing(response.body, state.homeUrl);
    this.mergeListing(state, listed);
    this.listed = true;
  }

  private mergeListing(state: CacheState, listed: ListedCalendar[]): void {
    const previous = new Map(state.calendars.map((calendar) => [calendar.url, calendar]));
    if (previous.size !== listed.length) this.dirty = true;
    state.calendars = listed.map((entry) => {
      const calendar = previous.get(entry.url);
      if (calendar === undefined) {
        this.dirty = true;
        return {
          url: entry.url,
          name: entry.name,
          color: entry.color,
          listedCtag: entry.ctag,
          syncedCtag: null,
          syncToken: null,
          objects: null,
        };
      }
      if (
        calendar.name !== entry.name ||
        calendar.color !== entry.color ||
        calendar.listedCtag !== entry.ctag
      ) {
        this.dirty = true;
        calendar.name = entry.name;
        calendar.color = entry.color;
        calendar.listedCtag = entry.ctag;
      }
      return calendar;
    });
    sortCalendars(state);
  }

  /** The calendar of that name, reading the calendars from the server when it is not cached. */
  private async findCalendar(state: CacheState, name: string): Promise<CachedCalendar> {
    if (!state.calendars.some((calendar) => calendar.name === name)) {
      await this.refreshListing(state);
    }
    return this.requireCalendar(state, name);
  }

  private requireCalendar(state: CacheState, name: string): CachedCalendar {
    const calendar = state.calendars.find((candidate) => candidate.name === name);
    if (calendar === undefined) {
      throw unknownListError(
        name,
        state.calendars.map((candidate) => candidate.name),
      );
    }
    return calendar;
  }

  /**
   * Finds a reminder by uid in the cache, brought up to date first when this process has not read
   * the server yet, or when the uid is not in it.
   */
  private async locate(
    state: CacheState,
    uid: string,
  ): Promise<{ calendar: CachedCalendar; object: CachedObject }> {
    const find = (): { calendar: CachedCalendar; object: CachedObject } | undefined => {
      for (const calendar of state.calendars) {
        const object = calendar.objects?.find((candidate) => candidate.record.uid === uid);
        if (object !== undefined) return { calendar, object };
      }
      return undefined;
    };
    let found = this.listed ? find() : undefined;
    if (found === undefined) {
      await this.reminders();
      found = find();
    }
    if (found !== undefined) return found;
    throw new RemError('REM_NOT_FOUND', `no reminder with uid ${uid} on the CalDAV server`, {
      details: { given: uid },
    });
  }

  // --- fetching objects ------------------------------------------------------------------------

  /**
   * Brings one calendar's objects up to date: a sync-collection REPORT from the last sync-token
   * when there is one, else a calendar-query for every VTODO. Returns false when the calendar is gone.
   */
  private async syncCalendar(calendar: CachedCalendar): Promise<boolean> {
    if (calendar.objects !== null && calendar.syncToken !== null) {
      const outcome = await this.syncCollection(calendar, calendar.objects, calendar.syncToken);
      if (outcome !== 'query') return outcome === 'synced';
    }
    return this.queryCalendar(calendar);
  }

  private async syncCollection(
    calendar: CachedCalendar,
    objects: CachedObject[],
    syncToken: string,
  ): Promise<'synced' | 'gone' | 'query'> {
    // Recorded before the request: a change made meanwhile is then fetched again next time.
    const listedCtag = calendar.listedCtag;
    const response = await this.request('REPORT', calendar.url, {
      body: syncCollectionBody(syncToken),
      headers: { Depth: '0' },
    });
    if (response.status === 404) {
      return 'gone';
    }
    // 403/409 with valid-sync-token: the token expired; other refusals: no sync support.
    if (
      response.status === 403 ||
      response.status === 409 ||
      response.status === 400 ||
      response.status === 501
    ) {
      return 'query';
    }
    if (response.status !== 207) throw this.httpFailure('REPORT', calendar.url, response);
    const multistatus = parseMultistatus(response.body, calendar.url);
    const byHref = new Map(objects.map((object) => [object.href, object]));
    const changed: FetchedObject[] = [];
    for (const item of multistatus.responses) {
      if (item.href === calendar.url) continue;
      if (item.status === 404 || (item.props.size === 0 && item.status !== null && item.status >= 400)) {
        byHref.delete(item.href);
        continue;
      }
      const etag = textOf(item.props.get('getetag'));
      const known = byHref.get(item.href);
      if (known !== undefined && etag !== null && known.etag === etag) continue;
      const ics = item.props.get('calendar-data')?.text ?? null;
      // A server that omits the data in sync-collection: take the calendar-query route instead.
      if (ics === null || ics.trim() === '') return 'query';
      if (!/BEGIN:VTODO/i.test(ics)) {
        byHref.delete(item.href);
        continue;
      }
      // Dropped first: a new version that does not parse must not leave the old one behind.
      byHref.delete(item.href);
      changed.push({ href: item.href, etag, ics });
    }
    for (const object of await this.parseObjects(changed, calendar)) byHref.set(object.href, object);
    calendar.objects = [...byHref.values()];
    calendar.syncToken = multistatus.syncToken ?? syncToken;
    calendar.syncedCtag = listedCtag;
    this.dirty = true;
    // 507 on the collection itself: the server truncated the changes; ask again from the new token.
    const truncated = multistatus.responses.some((item) => item.href === calendar.url && item.status === 507);
    if (truncated && calendar.syncToken !== syncToken) {
      return this.syncCollection(calendar, calendar.objects, calendar.syncToken);
    }
    return 'synced';
  }

  private async queryCalendar(calendar: CachedCalendar): Promise<boolean> {
    // Both recorded before the query: a change made meanwhile is then fetched again next time.
    const listedCtag = calendar.listedCtag;
    const syncToken = await this.currentSyncToken(calendar);
    if (syncToken === undefined) return false;
    const response = await this.request('REPORT', calendar.url, {
      body: QUERY_BODY,
      headers: { Depth: '1' },
    });
    if (response.status === 404) {
      return false;
    }
    if (response.status !== 207) throw this.httpFailure('REPORT', calendar.url, response);
    const multistatus = parseMultistatus(response.body, calendar.url);
    const known = new Map((calendar.objects ?? []).map((object) => [object.href, object]));
    const objects: CachedObject[] = [];
    const changed: FetchedObject[] = [];
    for (const item of multistatus.responses) {
      const ics = item.props.get('calendar-data')?.text ?? null;
      if (item.href === calendar.url || ics === null) continue;
      const etag = textOf(item.props.get('getetag'));
      const previous = known.get(item.href);
      if (previous !== undefined && etag !== null && previous.etag === etag) objects.push(previous);
      else changed.push({ href: item.href, etag, ics });
    }
    objects.push(...(await this.parseObjects(changed, calendar)));
    calendar.objects = objects;
    calendar.syncedCtag = listedCtag;
    calendar.syncToken = syncToken;
    this.dirty = true;
    return true;
  }

  /**
   * The calendar's sync-token (a PROPFIND of its own: asking for it in the listing would make
   * Radicale compute one for every calendar on every read), null when the server has none,
   * undefined when the calendar is gone.
   */
  private async currentSyncToken(calendar: CachedCalendar): Promise<string | null | undefined> {
    const response = await this.request('PROPFIND', calendar.url, {
      body: SYNC_TOKEN_BODY,
      headers: { Depth: '0' },
    });
    if (response.status === 404) {
      return undefined;
    }
    if (response.status !== 207) return null;
    const [item] = parseMultistatus(response.body, calendar.url).responses;
    return textOf(item?.props.get('sync-token'));
  }

  private async parseObjects(fetched: FetchedObject[], calendar: CachedCalendar): Promise<CachedObject[]> {
    if (fetched.length === 0) return [];
    const { parseVtodo } = await this.vtodo();
    const parsed: CachedObject[] = [];
    for (const item of fetched) {
      try {
        const record = parseVtodo(item.ics, calendar.name);
        delete record.revision;
        parsed.push({ href: item.href, etag: item.etag, ics: item.ics, record });
      } catch (error) {
        // One unreadable item written by another client must not hide the others.
        this.logger?.warn('rem: skipped a CalDAV item that is not a readable VTODO', {
          url: redactUrl(item.href),
          error: errorMessage(error),
        });
      }
    }
    return parsed;
  }

  /** Caches an object just written, under the ETag the server answered with. */
  private remember(
    calendar: CachedCalendar,
    href: string,
    etag: string | null,
    ics: string,
    vtodo: VtodoModule,
  ): CachedObject {
    const record = vtodo.parseVtodo(ics, calendar.name);
    delete record.revision;
    const object: CachedObject = { href, etag, ics, record };
    if (calendar.objects !== null) {
      calendar.objects = calendar.objects.filter((other) => other.href !== href);
      calendar.objects.push(object);
    }
    // The calendar's ctag changed with this write, so the next read syncs it; the object's ETag
    // is already known then, so nothing is parsed again.
    this.dirty = true;
    return object;
  }

  // --- lazy modules and HTTP --------------------------------------------------------------------

  private vtodo(): Promise<VtodoModule> {
    this.vtodoModule ??= import('../ical/vtodo.js');
    return this.vtodoModule;
  }

  private tsdav(): Promise<TsdavModule> {
    this.tsdavModule ??= importTsdav();
    return this.tsdavModule;
  }

  /** The fetch handed to tsdav: credentials, a timeout, and RemErrors for network failures and 401. */
  private readonly davFetch: typeof fetch = async (input, init = {}) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = init.method ?? 'GET';
    const headers = new Headers(init.headers);
    if (this.authorization !== undefined && !headers.has('authorization')) {
      headers.set('authorization', this.authorization);
    }
    let response: Response;
    try {
      response = await this.baseFetch(url, {
        ...init,
        headers,
        signal: init.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw networkFailure(method, url, error);
    }
    if (response.status === 401) {
      throw this.statusFailure(method, url, 401, response.statusText, await response.text());
    }
    return response;
  };

  /** Sends one of the backend's own requests, with credentials and a content type for the body. */
  private async request(
    method: string,
    url: string,
    options: { body?: string; headers?: Record<string, string> } = {},
  ): Promise<HttpReply> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.authorization !== undefined) headers.Authorization = this.authorization;
    if (options.body !== undefined) {
      headers['Content-Type'] =
        method === 'PUT' ? 'text/calendar; charset=utf-8' : 'application/xml; charset=utf-8';
    }
    let reply: HttpReply;
    try {
      reply = await this.transport(method, url, headers, options.body);
    } catch (error) {
      throw networkFailure(method, url, error);
    }
    if (reply.status === 401) throw this.httpFailure(method, url, reply);
    return reply;
  }

  private httpFailure(method: string, url: string, reply: HttpReply): RemError {
    return this.statusFailure(method, url, reply.status, reply.statusText, reply.body);
  }

  private statusFailure(
    method: string,
    url: string,
    status: number,
    statusText: string,
    body = '',
  ): RemError {
    const shown = redactUrl(url);
    const details = { method, url: shown, status };
    const cause = new Error(`HTTP ${status} ${statusText}${body === '' ? '' : `: ${body.slice(0, 500)}`}`);
    if (status === 401) {
      const who = this.username === undefined ? 'no user was given' : `user "${this.username}"`;
      return new RemError(
        'REM_BACKEND_FAILED',
        `the CalDAV server refused the credentials (${who}): ${method} ${shown} returned 401; ` +
          'check REM_CALDAV_USER and REM_CALDAV_PASSWORD',
        { cause, isRetryable: false, details },
      );
    }
    return new RemError(
      'REM_BACKEND_FAILED',
      `${method} ${shown} returned ${status}${statusText === '' ? '' : ` ${statusText}`}`,
      { cause, isRetryable: status >= 500 || status === 429 || status === 408, details },
    );
  }
}

function fetchTransport(fetchFunction: typeof fetch): Transport {
  return async (method, url, headers, body) => {
    const response = await fetchFunction(url, {
      method,
      headers,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      ...(body === undefined ? {} : { body }),
    });
    return {
      status: response.status,
      statusText: response.statusText,
      etag: response.headers.get('etag'),
      body: await response.text(),
    };
  };
}

const nodeTransport: Transport = async (method, url, headers, body) => {
  const { request } = url.startsWith('https:') ? await import('node:https') : await import('node:http');
  return new Promise<HttpReply>((resolve, reject) => {
    const outgoing = request(
      url,
      {
        method,
        headers: body === undefined ? headers : { ...headers, 'Content-Length': Buffer.byteLength(body) },
        timeout: REQUEST_TIMEOUT_MS,
      },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('error', reject);
        incoming.on('end', () => {
          const etag = incoming.headers.etag;
          resolve({
            status: incoming.statusCode ?? 0,
            statusText: incoming.statusMessage ?? '',
            etag: typeof etag === 'string' ? etag : null,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
      },
    );
    outgoing.on('timeout', () => {
      const timeout = new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`);
      timeout.name = 'TimeoutError';
      outgoing.destroy(timeout);
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
};

async function eachConcurrently<T>(
  items: T[],
  limit: number,
  action: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await action(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function isSuccess(reply: HttpReply): boolean {
  return reply.status >= 200 && reply.status < 300;
}

function networkFailure(method: string, url: string, error: unknown): RemError {
  const timedOut = error instanceof Error && error.name === 'TimeoutError';
  const reason = timedOut ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s` : networkReason(error);
  return new RemError('REM_BACKEND_FAILED', `${method} ${redactUrl(url)} failed: ${reason}`, {
    cause: error,
    isRetryable: true,
    details: { method, url: redactUrl(url) },
  });
}

function isFresh(calendar: CachedCalendar): boolean {
  if (calendar.objects === null) return false;
  return calendar.listedCtag !== null && calendar.listedCtag === calendar.syncedCtag;
}

function present(object: CachedObject, calendar: CachedCalendar): ReminderRecord {
  const record: ReminderRecord = { ...object.record, list: calendar.name, tags: [...object.record.tags] };
  if (object.etag !== null) record.revision = object.etag;
  return record;
}

function forget(calendar: CachedCalendar, href: string): void {
  if (calendar.objects !== null) calendar.objects = calendar.objects.filter((object) => object.href !== href);
}

function objectHref(calendar: CachedCalendar, uid: string): string {
  return `${calendar.url}${encodeURIComponent(uid)}.ics`;
}

function sortCalendars(state: CacheState): void {
  state.calendars.sort((left, right) => left.name.localeCompare(right.name));
}

function requireListName(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '') {
    throw new RemError('REM_INVALID_INPUT', 'a list name cannot be empty', {
      details: { field: 'name', given: name },
    });
  }
  return trimmed;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function networkReason(error: unknown): string {
  // undici says "fetch failed" and puts the reason (ECONNREFUSED, ENOTFOUND…) in `cause`.
  const reason = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  if (!(reason instanceof Error)) return String(reason);
  const code = (reason as Error & { code?: unknown }).code;
  return typeof code === 'string' && !reason.message.includes(code)
    ? `${code} (${reason.message})`
    : reason.message;
}

/**
 * The absolute form of an href with every path segment percent-encoded one way, so that the
 * server's spelling and ours compare equal.
 */
function canonicalUrl(href: string, base: string, collection = false): string {
  const url = new URL(href.trim(), base);
  url.pathname = url.pathname
    .split('/')
    .map((segment) => {
      try {
        return encodeURIComponent(decodeURIComponent(segment));
      } catch {
        return segment;
      }
    })
    .join('/');
  url.hash = '';
  if (collection && !url.pathname.endsWith('/')) url.pathname += '/';
  return url.href;
}

// --- a small XML reader for multistatus bodies (tsdav's xml-js stays off the hot path) ----------

interface XmlElement {
  /** The local name, without prefix. */
  name: string;
  attributes: Map<string, string>;
  children: XmlElement[];
  text: string;
}

interface DavResponse {
  href: string;
  /** The response-level status (a sync-collection removal), or null. */
  status: number | null;
  /** Properties returned with a 2xx status, by local name. */
  props: Map<string, XmlElement>;
}

const XML_TOKEN =
  /<!\[CDATA\[([\s\S]*?)\]\]>|<!--[\s\S]*?-->|<[?!][^>]*>|<\/[^>]*>|<([^\s/>]+)((?:[^>"']|"[^"]*"|'[^']*')*)>|([^<]+)/g;
const XML_ATTRIBUTE = /([^\s=/]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
const XML_ENTITY = /&(?:#(\d+)|#x([0-9a-fA-F]+)|(lt|gt|amp|quot|apos));/g;
const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function parseXml(xml: string): XmlElement {
  const root: XmlElement = { name: '', attributes: new Map(), children: [], text: '' };
  const stack: XmlElement[] = [root];
  let current = root;
  for (const match of xml.matchAll(XML_TOKEN)) {
    const [token, cdata, tagName, attributeText, text] = match;
    if (text !== undefined) {
      current.text += decodeXml(text);
    } else if (cdata !== undefined) {
      current.text += cdata;
    } else if (tagName !== undefined) {
      const element: XmlElement = {
        name: localName(tagName),
        attributes: parseAttributes(attributeText ?? ''),
        children: [],
        text: '',
      };
      current.children.push(element);
      if (!(attributeText ?? '').endsWith('/')) {
        stack.push(element);
        current = element;
      }
    } else if (token.startsWith('</') && stack.length > 1) {
      stack.pop();
      current = stack[stack.length - 1] ?? root;
    }
  }
  return root;
}

function localName(name: string): string {
  const colon = name.indexOf(':');
  return colon === -1 ? name : name.slice(colon + 1);
}

function parseAttributes(text: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const [, name, doubleQuoted, singleQuoted] of text.matchAll(XML_ATTRIBUTE)) {
    if (name !== undefined) attributes.set(localName(name), decodeXml(doubleQuoted ?? singleQuoted ?? ''));
  }
  return attributes;
}

function decodeXml(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(XML_ENTITY, (entity, decimal?: string, hex?: string, named?: string) => {
    if (decimal !== undefined) return String.fromCodePoint(Number.parseInt(decimal, 10));
    if (hex !== undefined) return String.fromCodePoint(Number.parseInt(hex, 16));
    return NAMED_ENTITIES[named ?? ''] ?? entity;
  });
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (character) => `&#${character.codePointAt(0)};`);
}

function child(element: XmlElement | undefined, name: string): XmlElement | undefined {
  return element?.children.find((candidate) => candidate.name === name);
}

function textOf(element: XmlElement | undefined): string | null {
  const text = element?.text.trim() ?? '';
  return text === '' ? null : text;
}

function statusCode(element: XmlElement | undefined): number | null {
  const match = /^\S+\s+(\d{3})/.exec(element?.text.trim() ?? '');
  return match?.[1] === undefined ? null : Number(match[1]);
}

function parseMultistatus(xml: string, base: string): { responses: DavResponse[]; syncToken: string | null } {
  const multistatus = child(parseXml(xml), 'multistatus');
  if (multistatus === undefined) {
    throw new RemError('REM_BACKEND_FAILED', `${redactUrl(base)} answered 207 without a multistatus body`, {
      details: { url: redactUrl(base) },
    });
  }
  const responses: DavResponse[] = [];
  for (const response of multistatus.children) {
    if (response.name !== 'response') continue;
    const href = textOf(child(response, 'href'));
    if (href === null) continue;
    const props = new Map<string, XmlElement>();
    for (const propstat of response.children) {
      if (propstat.name !== 'propstat') continue;
      const status = statusCode(child(propstat, 'status'));
      if (status !== null && (status < 200 || status > 299)) continue;
      for (const prop of child(propstat, 'prop')?.children ?? []) props.set(prop.name, prop);
    }
    responses.push({
      href: canonicalUrl(href, base),
      status: statusCode(child(response, 'status')),
      props,
    });
  }
  return { responses, syncToken: textOf(child(multistatus, 'sync-token')) };
}

function parseListing(xml: string, homeUrl: string): ListedCalendar[] {
  const calendars: ListedCalendar[] = [];
  for (const response of parseMultistatus(xml, homeUrl).responses) {
    if (child(response.props.get('resourcetype'), 'calendar') === undefined) continue;
    // No supported-calendar-component-set means every component is allowed.
    const components = (response.props.get('supported-calendar-component-set')?.children ?? []).filter(
      (component) => component.name === 'comp',
    );
    if (
      components.length > 0 &&
      !components.some((component) => component.attributes.get('name')?.toUpperCase() === 'VTODO')
    ) {
      continue;
    }
    const url = canonicalUrl(response.href, homeUrl, true);
    const segments = new URL(url).pathname.split('/').filter((segment) => segment !== '');
    calendars.push({
      url,
      name: textOf(response.props.get('displayname')) ?? decodeURIComponent(segments.at(-1) ?? url),
      color: textOf(response.props.get('calendar-color')),
      ctag: textOf(response.props.get('getctag')),
    });
  }
  return calendars;
}
