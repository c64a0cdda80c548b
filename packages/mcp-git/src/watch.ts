import {
  closeSync,
  existsSync,
  type FSWatcher,
  lstatSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statfsSync,
  unlinkSync,
  watch,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGit } from './git.js';
import type { Repository } from './guard.js';
import type { ToolAnswer } from './tool.js';

// git status without git, when nothing changed. Like git's own fsmonitor, but kept in the server
// and writing nothing into .git: every folder of the work tree (ignored folders excepted) and the
// ref and index files are watched with inotify. A status answer is kept only when no event came
// while its git ran (an event delivered later drops it), and it is served again only while no
// event has come since. Before an answer is served, a barrier makes sure every event the kernel
// queued before that moment has been delivered: the server creates a file in a folder of its own,
// watched through the same inotify queue (libuv has one per event loop), and waits for that
// file's event, which the kernel queues after every earlier one. A queue overflow drops only
// events that follow thousands of undelivered ones, and those drop the answer when they arrive.
//
// Anything this cannot watch for sure turns it off for that repository, and git answers every
// call: file systems other than local disks and tmpfs (network and FUSE file systems do not report
// every change), submodules and nested repositories, config that names other excludes files, more
// folders than MAX_DIRECTORIES, names that are not UTF-8, a watch the kernel refuses.

/** statfs magic numbers of the file systems whose changes inotify reports in full. */
const LOCAL_FILESYSTEMS = new Set([
  0xef53, // ext2, ext3, ext4
  0x58465342, // xfs
  0x9123683e, // btrfs
  0x01021994, // tmpfs
  0x794c7630, // overlayfs
  0x2fc12fc1, // zfs
  0xf2f52010, // f2fs
]);
/** More folders than this and the repository is left to git (each one is an inotify watch). */
export const MAX_DIRECTORIES = 8192;
const BARRIER_TIMEOUT_MS = 2000;

function isUtf8(name: Buffer): boolean {
  return Buffer.from(name.toString('utf8'), 'utf8').equals(name);
}

/** Waits until every file-system event queued before the call has been delivered. */
class Barrier {
  readonly #dir: string;
  readonly #waiting = new Map<string, () => void>();
  #next = 0;

  constructor() {
    this.#dir = mkdtempSync(join(tmpdir(), 'ballast-mcp-git-'));
    const dir = this.#dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    watch(dir, { persistent: false }, (_event, name) => {
      const done = name === null ? undefined : this.#waiting.get(name);
      if (!done) return;
      this.#waiting.delete(name as string);
      done();
    });
  }

  /** Resolves true once the events queued before the call are delivered, false if that failed. */
  pass(): Promise<boolean> {
    const name = `cookie-${this.#next++}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(name);
        resolve(false);
      }, BARRIER_TIMEOUT_MS);
      this.#waiting.set(name, () => {
        clearTimeout(timer);
        resolve(true);
      });
      const path = join(this.#dir, name);
      try {
        closeSync(openSync(path, 'w'));
        unlinkSync(path);
      } catch {
        clearTimeout(timer);
        this.#waiting.delete(name);
        resolve(false);
      }
    });
  }
}

/** Lists the ignored folders of a repository, relative to its root; undefined when that failed. */
export type IgnoredLister = (repository: Repository) => Promise<string[] | undefined>;

/** The ignored folders as git sees them: git does not list a folder that holds a tracked file. */
export const listIgnoredFolders: IgnoredLister = async (repository) => {
  const result = await runGit({
    cwd: repository.root,
    args: ['ls-files', '-z', '--others', '--ignored', '--exclude-standard', '--directory'],
    config: repository.neutralised,
    maxBytes: 16 * 1024 * 1024,
  }).catch(() => undefined);
  if (result?.exitCode !== 0 || result.truncated) return undefined;
  return result.stdout
    .split('\0')
    .filter((entry) => entry.endsWith('/'))
    .map((entry) => entry.slice(0, -1))
    .sort();
};

type State = 'new' | 'starting' | 'ready' | 'off';

/** The watches of one repository and the status answer they vouch for. */
export class WorkTreeWatcher {
  readonly #repository: Repository;
  readonly #barrier: Barrier;
  readonly #listIgnored: IgnoredLister;
  readonly #watchers: FSWatcher[] = [];
  #state: State = 'new';
  #generation = 0;
  #rescan = false;
  #ignored = new Set<string>();
  #answer: { generation: number; variant: string; answer: ToolAnswer<unknown> } | undefined;
  /** Why the watcher is off, for tests and diagnostics. */
  reason: string | undefined;
  /** Answers served from the watch (hits) and git answers kept (kept). */
  readonly stats = { hits: 0, kept: 0 };

  constructor(repository: Repository, barrier: Barrier, listIgnored: IgnoredLister) {
    this.#repository = repository;
    this.#barrier = barrier;
    this.#listIgnored = listIgnored;
  }

  /** Whether the watches are in place (the first status call starts them). */
  get state(): State {
    return this.#state;
  }

  /**
   * The kept status answer when nothing has changed since it was made.
   * @param variant what else shapes the answer (the server's byte cap): it must match
   */
  async lookup(variant: string): Promise<ToolAnswer<unknown> | undefined> {
    if (this.#state !== 'ready' || this.#answer === undefined) return undefined;
    if (!(await this.#barrier.pass())) {
      this.#off('the event barrier did not pass');
      return undefined;
    }
    const kept = this.#answer;
    if (
      kept === undefined ||
      kept.generation !== this.#generation ||
      kept.variant !== variant ||
      this.#rescan
    )
      return undefined;
    this.stats.hits += 1;
    return kept.answer;
  }

  /**
   * The status answer: the kept one while nothing has changed since it was made, else what
   * `compute` (git) says, kept when no event came while it ran.
   * @param variant what else shapes the answer (the server's byte cap)
   * @param compute asks git
   */
  async answer<Output>(
    variant: string,
    compute: () => Promise<ToolAnswer<Output>>,
  ): Promise<ToolAnswer<Output>> {
    const kept = await this.lookup(variant);
    if (kept) return kept as ToolAnswer<Output>;
    const token = this.#begin();
    const answer = await compute();
    this.#keep(token, variant, answer);
    return answer;
  }

  /**
   * Called before git runs: a token when an answer may be kept, undefined otherwise (the watches
   * are then started or renewed in the background).
   */
  #begin(): number | undefined {
    if (this.#state === 'new' || (this.#state === 'ready' && this.#rescan)) void this.#start();
    return this.#state === 'ready' && !this.#rescan ? this.#generation : undefined;
  }

  /**
   * Keeps git's answer if no event came since `#begin`. An event of a change made while git ran
   * and delivered only later drops the answer then, and {@link lookup}'s barrier delivers every
   * such event before an answer is served, so no barrier is needed here.
   */
  #keep(token: number | undefined, variant: string, answer: ToolAnswer<unknown>): void {
    if (token === undefined) return;
    if (this.#state === 'ready' && !this.#rescan && this.#generation === token) {
      this.#answer = { generation: token, variant, answer };
      this.stats.kept += 1;
    }
  }

  /** Stops every watch. */
  close(): void {
    for (const watcher of this.#watchers.splice(0)) watcher.close();
    this.#answer = undefined;
  }

  #off(reason: string): void {
    this.close();
    this.#state = 'off';
    this.reason = reason;
  }

  #changed(): void {
    this.#generation += 1;
    this.#answer = undefined;
  }

  async #start(): Promise<void> {
    this.close();
    this.#state = 'starting';
    this.#rescan = false;
    const repository = this.#repository;
    try {
      for (const path of [repository.root, repository.gitDir, repository.commonDir]) {
        const type = Number(statfsSync(path).type);
        if (!LOCAL_FILESYSTEMS.has(type))
          return this.#off(
            `${path} is on a file system inotify may not report in full (0x${type.toString(16)})`,
          );
      }
      if (existsSync(join(repository.root, '.gitmodules'))) return this.#off('the repository has submodules');
      for (const config of [
        join(repository.commonDir, 'config'),
        join(repository.gitDir, 'config.worktree'),
      ]) {
        const text = existsSync(config) ? readFileSync(config, 'utf8') : '';
        // Another excludes file, or included config that may name one, is not watched.
        if (/^\s*\[\s*include(?:if)?\b|\bexcludesfile\b/im.test(text))
          return this.#off('the config names or includes files the watch does not cover');
      }
      const before = await this.#listIgnored(repository);
      if (before === undefined) return this.#off('git could not list the ignored folders');
      this.#ignored = new Set(before.map((path) => join(repository.root, path)));
      let count = 0;
      const add = (dir: string, onEvent: (name: Buffer | null, event: string, dir: string) => void): void => {
        count += 1;
        if (count > MAX_DIRECTORIES) throw new Error(`more than ${MAX_DIRECTORIES} folders`);
        const watcher = watch(dir, { persistent: false, encoding: 'buffer' }, (event, name) =>
          onEvent(name, event, dir),
        );
        watcher.on('error', () => {
          this.#changed();
          this.#rescan = true;
        });
        this.#watchers.push(watcher);
      };
      const walkGit = (dir: string): void => {
        add(dir, (name, event, at) => this.#onGitEvent(name, event, at, walkGit));
        for (const entry of readdirSync(dir, { withFileTypes: true })) {
          if (entry.isDirectory()) walkGit(join(dir, entry.name));
        }
      };
      for (const dir of new Set([repository.gitDir, repository.commonDir])) {
        add(dir, (name, event, at) => this.#onGitEvent(name, event, at, walkGit));
        if (existsSync(join(dir, 'info')))
          add(join(dir, 'info'), (name, event, at) => this.#onGitEvent(name, event, at, walkGit));
      }
      walkGit(join(repository.commonDir, 'refs'));
      const walkTree = (dir: string): void => {
        add(dir, (name, event, at) => this.#onTreeEvent(name, event, at, walkTree));
        for (const entry of readdirSync(dir, { withFileTypes: true, encoding: 'buffer' })) {
          if (!isUtf8(entry.name)) throw new Error('a file name is not UTF-8');
          const name = entry.name.toString('utf8');
          if (name === '.git') {
            if (dir !== repository.root) throw new Error(`${join(dir, name)} is a nested repository`);
            continue;
          }
          const path = join(dir, name);
          if (entry.isDirectory() && !this.#ignored.has(path)) walkTree(path);
        }
      };
      walkTree(repository.root);
      // The ignored folders again, now that every watch is in place: a .gitignore changed before
      // its folder was watched shows as a different list, and the watches are made again.
      const after = await this.#listIgnored(repository);
      if (after === undefined || after.join('\0') !== before.join('\0')) {
        this.#rescan = true;
      }
      this.#state = 'ready';
    } catch (error) {
      this.#off(error instanceof Error ? error.message : String(error));
    }
  }

  #onTreeEvent(name: Buffer | null, event: string, dir: string, walk: (dir: string) => void): void {
    this.#changed();
    if (name === null || !isUtf8(name)) {
      this.#rescan = true;
      return;
    }
    const text = name.toString('utf8');
    if (text === '.gitignore' || text === '.gitmodules' || text === '.git') this.#rescan = true;
    if (event !== 'rename') return;
    // While the watches are being made, a new folder may be missed: make them again.
    if (this.#state !== 'ready') {
      this.#rescan = true;
      return;
    }
    // A new folder: watch it and what it already holds.
    const path = join(dir, text);
    try {
      if (lstatSync(path).isDirectory() && !this.#ignored.has(path)) walk(path);
    } catch {
      // Gone again, or too many folders: the next status call watches afresh.
      this.#rescan = true;
    }
  }

  #onGitEvent(name: Buffer | null, event: string, dir: string, walk: (dir: string) => void): void {
    const text = name === null ? undefined : name.toString('utf8');
    // git writes a ref, the index or config to `<name>.lock` and renames it into place, which is
    // an event of its own for the final name. A lock taken and dropped changes nothing: every
    // plain `git status` (a shell prompt, an editor) takes index.lock and drops it.
    if (text?.endsWith('.lock')) return;
    this.#changed();
    if (
      text === undefined ||
      text === 'config' ||
      text === 'config.worktree' ||
      text === 'exclude' ||
      text === 'info'
    )
      this.#rescan = true;
    if (event !== 'rename' || text === undefined) return;
    if (this.#state !== 'ready') {
      this.#rescan = true;
      return;
    }
    const path = join(dir, text);
    // A new folder under refs (refs/heads/feature/): watch it too.
    if (!path.startsWith(join(this.#repository.commonDir, 'refs'))) return;
    try {
      if (lstatSync(path).isDirectory()) walk(path);
    } catch {
      this.#rescan = true;
    }
  }
}

/** The watchers of every repository a server's status calls touched. */
export class WorkTreeWatchers {
  readonly #watchers = new Map<string, WorkTreeWatcher>();
  #barrier: Barrier | undefined | null;

  /**
   * The watcher of a repository, created on first use; undefined for a bare repository or when
   * this process cannot watch at all.
   */
  for(repository: Repository, listIgnored: IgnoredLister = listIgnoredFolders): WorkTreeWatcher | undefined {
    if (repository.bare) return undefined;
    if (this.#barrier === undefined) {
      try {
        this.#barrier = new Barrier();
      } catch {
        this.#barrier = null;
      }
    }
    if (this.#barrier === null) return undefined;
    const key = `${repository.root}\0${repository.gitDir}`;
    let watcher = this.#watchers.get(key);
    if (!watcher) {
      watcher = new WorkTreeWatcher(repository, this.#barrier, listIgnored);
      this.#watchers.set(key, watcher);
    }
    return watcher;
  }

  /** Stops every watch (the server is closing). */
  close(): void {
    for (const watcher of this.#watchers.values()) watcher.close();
    this.#watchers.clear();
  }
}
