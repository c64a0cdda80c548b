import { closeSync, constants, openSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Repository } from './guard.js';

// HEAD read from the ref files, as git's files backend stores them, so a repeated question about
// HEAD costs a few small reads instead of a git process. Anything this reader does not fully
// understand (an unborn branch, a reftable repository, a ref that is a directory, a name outside
// refs/, a symref chain longer than git follows) answers undefined, and the caller asks git.

const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
/** Ref names this reader follows: under refs/, plain characters only (git's own rules come on top). */
const PLAIN_REF = /^refs\/[A-Za-z0-9._+@/-]+$/;
/** Refs every worktree keeps for itself, in its own git dir rather than the common dir. */
const PER_WORKTREE = /^refs\/(?:bisect|worktree|rewritten)\//;
/** git reads at most this many refs to resolve one name, HEAD included (SYMREF_MAXDEPTH). */
const MAX_READS = 5;

/**
 * Whether a plain ref name also passes git's check_refname_format: no empty component, none that
 * starts with `.` or ends with `.lock`, no `..`, no `@{`, no trailing `.`.
 */
function isSafeRef(name: string): boolean {
  if (!PLAIN_REF.test(name) || name.includes('..') || name.includes('@{') || name.endsWith('.')) return false;
  return name
    .split('/')
    .every((component) => component !== '' && !component.startsWith('.') && !component.endsWith('.lock'));
}

interface PackedRefs {
  stamp: string;
  refs: Map<string, string>;
}

const packedCache = new Map<string, PackedRefs>();

function stampOf(path: string): string | undefined {
  const info = statSync(path, { bigint: true, throwIfNoEntry: false });
  return info ? `${info.ino}:${info.size}:${info.mtimeNs}:${info.ctimeNs}` : undefined;
}

/** The refs in `packed-refs`, parsed once per version of the file. */
function packedRefs(commonDir: string): Map<string, string> {
  const path = join(commonDir, 'packed-refs');
  const stamp = stampOf(path);
  if (stamp === undefined) return new Map();
  const cached = packedCache.get(path);
  if (cached?.stamp === stamp) return cached.refs;
  const refs = new Map<string, string>();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return refs;
  }
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith('^')) continue;
    const space = line.indexOf(' ');
    const id = line.slice(0, space);
    if (space !== -1 && OBJECT_ID.test(id)) refs.set(line.slice(space + 1), id);
  }
  packedCache.set(path, { stamp, refs });
  return refs;
}

/**
 * A loose ref file's content: the text; null when there is no such file (git then looks in
 * packed-refs); undefined when git has to judge (a folder where the ref would be, a file where a
 * folder of its path would be, a symlinked ref, which git reads relative to the git dir).
 */
function looseRef(path: string): string | null | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? null : undefined;
  }
  try {
    return readFileSync(fd, 'utf8').trim();
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * The commit HEAD points at, read from the ref files of the repository's git dir and common dir.
 * @param repository a repository the guard opened
 * @returns the object id, or undefined when git has to answer (unborn branch, reftable, anything unusual)
 */
export function readHead(repository: Pick<Repository, 'gitDir' | 'commonDir'>): string | undefined {
  let name = 'HEAD';
  for (let reads = 0; reads < MAX_READS; reads += 1) {
    const base = name === 'HEAD' || PER_WORKTREE.test(name) ? repository.gitDir : repository.commonDir;
    const content = looseRef(join(base, name));
    if (content === undefined) return undefined;
    // No loose file: the packed one, if any (HEAD itself and symrefs are never packed).
    if (content === null) return name === 'HEAD' ? undefined : packedRefs(repository.commonDir).get(name);
    if (OBJECT_ID.test(content)) return content;
    if (!content.startsWith('ref: ')) return undefined;
    name = content.slice(5).trim();
    if (!isSafeRef(name)) return undefined;
  }
  return undefined;
}

/** Whether a string is a full object id of the same length as `like` (the repository's hash). */
export function isFullObjectId(value: string, like: string): boolean {
  return value.length === like.length && OBJECT_ID.test(value);
}
