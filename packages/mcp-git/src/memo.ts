import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Repository } from './guard.js';
import { isFullObjectId, readHead } from './refs.js';
import type { ToolAnswer, ToolContext } from './tool.js';
import { WorkTreeWatchers } from './watch.js';

// Answers that cannot change. A commit never changes, so what log, show and blame say about a
// resolved commit holds as long as what else shapes their output holds too: the repository's
// config files, the .mailmap, the shallow and grafts files. Those are stamped (inode, size,
// mtime, ctime) on every call and are part of the key; a config that includes other files or
// names other mailmap, ignore-revs or excludes files makes the answer uncacheable, because
// those files are not stamped.

/** Config that points at files the stamp does not cover. */
const UNSTAMPED_CONFIG = /^\s*\[\s*(?:include|includeif|mailmap)\b|\b(?:ignorerevsfile|excludesfile)\b/im;

/** At most this many bytes of answers are kept per process (least recently used go first). */
const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;

function fileStamp(path: string): string {
  const info = statSync(path, { bigint: true, throwIfNoEntry: false });
  return info ? `${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}` : '-';
}

/** A least-recently-used store of tool answers, bounded in bytes. */
export class AnswerCache {
  readonly #entries = new Map<string, { answer: ToolAnswer<unknown>; bytes: number }>();
  readonly #maxBytes: number;
  #bytes = 0;
  #configVerdicts = new Map<string, boolean>();

  constructor(maxBytes = DEFAULT_MAX_BYTES) {
    this.#maxBytes = maxBytes;
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  get(key: string): ToolAnswer<unknown> | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.answer;
  }

  set(key: string, answer: ToolAnswer<unknown>): void {
    const bytes = 2 * (key.length + answer.text.length + JSON.stringify(answer.structured).length);
    if (bytes > this.#maxBytes / 4) return;
    const old = this.#entries.get(key);
    if (old) {
      this.#bytes -= old.bytes;
      this.#entries.delete(key);
    }
    this.#entries.set(key, { answer, bytes });
    this.#bytes += bytes;
    for (const [oldest, entry] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= entry.bytes;
    }
  }

  /**
   * What, besides the commit, shapes the history answers of a repository, as one string; undefined
   * when the config reaches files the stamp cannot cover.
   */
  historyStamp(repository: Repository): string | undefined {
    const configs = [
      join(repository.commonDir, 'config'),
      join(repository.gitDir, 'config'),
      join(repository.gitDir, 'config.worktree'),
    ];
    const stamps: string[] = [];
    for (const path of configs) {
      const stamp = fileStamp(path);
      stamps.push(stamp);
      if (stamp === '-') continue;
      const key = `${path}\0${stamp}`;
      let plain = this.#configVerdicts.get(key);
      if (plain === undefined) {
        try {
          plain = !UNSTAMPED_CONFIG.test(readFileSync(path, 'utf8'));
        } catch {
          plain = false;
        }
        // One verdict per version of each config file; old versions are forgotten in bulk.
        if (this.#configVerdicts.size >= 256) this.#configVerdicts.clear();
        this.#configVerdicts.set(key, plain);
      }
      if (!plain) return undefined;
    }
    // A bare repository reads its mailmap from HEAD:.mailmap, so HEAD is part of the stamp there.
    const mailmap = repository.bare ? readHead(repository) : fileStamp(join(repository.root, '.mailmap'));
    if (mailmap === undefined) return undefined;
    stamps.push(
      mailmap,
      fileStamp(join(repository.commonDir, 'shallow')),
      fileStamp(join(repository.commonDir, 'info', 'grafts')),
    );
    return stamps.join('|');
  }
}

/** What a server keeps between calls: answers about commits, and the work-tree watchers for status. */
export interface Memo {
  answers: AnswerCache;
  watchers: WorkTreeWatchers;
}

let shared: Memo | undefined;

/** The process's memo: every server in the process shares it (keys name the repository). */
export function sharedMemo(): Memo {
  shared ??= { answers: new AnswerCache(), watchers: new WorkTreeWatchers() };
  return shared;
}

/**
 * The answer for `parts` about a commit, from the cache or from `compute` (then kept).
 * @param context the tool context: its memo (undefined when caching is off) and its byte cap,
 *   which shapes the answer and so is part of the key
 * @param repository the repository
 * @param parts what identifies the question: the tool, its arguments and the resolved commit
 * @param compute asks git
 */
export async function remembered<Output>(
  context: Pick<ToolContext, 'memo' | 'maxBytes'>,
  repository: Repository,
  parts: readonly unknown[] | undefined,
  compute: () => Promise<ToolAnswer<Output>>,
): Promise<ToolAnswer<Output>> {
  const memo = context.memo;
  if (!memo || parts === undefined) return compute();
  const stamp = memo.answers.historyStamp(repository);
  if (stamp === undefined) return compute();
  const key = JSON.stringify([repository.root, repository.gitDir, stamp, context.maxBytes, ...parts]);
  const hit = memo.answers.get(key);
  if (hit) return hit as ToolAnswer<Output>;
  const answer = await compute();
  // The stamp is taken again: a config or mailmap that changed while git ran keeps nothing.
  if (memo.answers.historyStamp(repository) === stamp) memo.answers.set(key, answer);
  return answer;
}

/**
 * The commit a revision names when that is known without git: HEAD (read from the ref files) or a
 * full object id; undefined otherwise (git resolves it, and the answer is not kept).
 * @param repository the repository
 * @param name the revision as given, undefined for HEAD
 */
export function knownCommit(repository: Repository, name: string | undefined): string | undefined {
  const head = readHead(repository);
  if (name === undefined || name === 'HEAD') return head;
  return head !== undefined && isFullObjectId(name, head) ? name : undefined;
}
