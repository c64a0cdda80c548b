import { lstat, readdir, realpath, rm } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BallastError } from '@ballast/core';
import { z } from 'zod';
import {
  assertSafeName,
  checkBranchName,
  invalidParameter,
  isWithin,
  type Repository,
  resolveRevision,
} from '../guard.js';
import { type AnyTool, assertTier, defineTool, localBranch, type ToolContext } from '../tool.js';

// Local-write, destructive and network tools. Every string is checked before git sees it; what
// git could read as an option is a resolved hash, follows `--end-of-options`, or follows `--`.
// Operations that can stop half-way (merge, cherry-pick, revert, stash pop, pull) only start on a
// clean tracked tree and are undone on failure, so a call changes everything or nothing.

const repoPath = z.string().describe('Path of the repository (one of list_repositories)');
const pathList = z.array(z.string()).min(1).describe('Paths relative to the repository');
const remoteName = z.string().default('origin').describe('Name of a configured remote');

type Transport = 'https' | 'ssh' | 'file';

/** A message git stores as text: any text but control characters other than tab and newline. */
function messageText(parameter: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === '') throw invalidParameter(parameter, 'a non-empty message', value);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(value)) {
    throw invalidParameter(parameter, 'text without control characters other than tabs and newlines', value);
  }
  return value;
}

/** Paths checked by the guard, refusing a leading `-` even though `--` would make it literal. */
async function checkedPaths(
  context: ToolContext,
  repository: Repository,
  parameter: string,
  values: readonly string[],
) {
  const paths: string[] = [];
  for (const [index, value] of values.entries()) {
    const name = `${parameter}[${index}]`;
    if (value.startsWith('-'))
      throw invalidParameter(name, 'a path that does not start with "-" (write ./-name)', value);
    paths.push(await context.guard.path(repository, name, value));
  }
  return paths;
}

async function headOf(context: ToolContext, repository: Repository): Promise<string | null> {
  const result = await context.gitRaw(repository, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']);
  return result.exitCode === 0 ? result.stdout.trim() : null;
}

async function requireHead(context: ToolContext, repository: Repository, tool: string): Promise<string> {
  const head = await headOf(context, repository);
  if (head === null)
    throw new BallastError('MCP_GIT_NO_COMMITS', `${tool}: the repository has no commits yet`);
  return head;
}

async function currentBranch(context: ToolContext, repository: Repository): Promise<string | null> {
  const result = await context.gitRaw(repository, ['symbolic-ref', '--quiet', '--short', 'HEAD']);
  return result.exitCode === 0 ? result.stdout.trim() || null : null;
}

function nulList(output: string): string[] {
  return output.split('\0').filter((entry) => entry !== '');
}

/** Files with unresolved conflicts. */
async function conflictedFiles(context: ToolContext, repository: Repository): Promise<string[]> {
  const result = await context.gitRaw(repository, ['diff', '--name-only', '--diff-filter=U', '-z']);
  return [...new Set(nulList(result.stdout))];
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Refuses to start a multi-step operation on a tree whose undo could lose work: another operation
 * half-way, or uncommitted changes to tracked files (`git merge --abort` cannot always restore them).
 */
async function assertReadyForMerge(
  context: ToolContext,
  repository: Repository,
  tool: string,
): Promise<void> {
  for (const [file, what] of [
    ['MERGE_HEAD', 'a merge'],
    ['CHERRY_PICK_HEAD', 'a cherry-pick'],
    ['REVERT_HEAD', 'a revert'],
    ['sequencer', 'a cherry-pick or revert sequence'],
    ['rebase-merge', 'a rebase'],
    ['rebase-apply', 'a rebase or am'],
  ] as const) {
    if (await exists(join(repository.gitDir, file))) {
      throw new BallastError(
        'MCP_GIT_OPERATION_IN_PROGRESS',
        `${tool}: ${what} is in progress in this repository; finish or abort it first`,
      );
    }
  }
  const status = await context.git(repository, ['status', '--porcelain', '-z', '--untracked-files=no']);
  const changed = nulList(status.stdout).map((entry) => entry.slice(3));
  if (changed.length > 0) {
    throw new BallastError(
      'MCP_GIT_DIRTY_WORKTREE',
      `${tool}: the working tree has uncommitted changes (${changed.join(', ')}); commit them (git_commit) or stash them (git_stash_push) first, so that ${tool} can be undone completely if it conflicts`,
    );
  }
}

/** The failure of a git call, with git's last lines. */
function gitFailure(tool: string, stderr: string): BallastError {
  const message = stderr.trim().split('\n').slice(-3).join(' ');
  return new BallastError(
    'MCP_GIT_FAILED',
    `${tool} failed: ${message || 'git exited with an error'}; nothing was changed`,
  );
}

/** Reports git's `--progress` lines ("Receiving objects:  42% (21/50)") as MCP progress. */
function progressReporter(context: ToolContext): {
  onStderrLine(line: string): void;
  flush(): Promise<void>;
} {
  const pending: Array<Promise<void>> = [];
  let step = 0;
  let last = '';
  return {
    onStderrLine(line) {
      const text = line.trim();
      const match = /^(?:remote: )?([A-Za-z][A-Za-z ]*?):\s+(\d{1,3})%/.exec(text);
      if (!match) return;
      const key = `${match[1]} ${match[2]}`;
      if (key === last) return;
      last = key;
      step += 1;
      pending.push(context.progress(text, step).catch(() => undefined));
    },
    async flush() {
      await Promise.all(pending);
    },
  };
}

/** Whether a real local path lies inside one of the allowed repositories. */
async function assertLocalInside(
  context: ToolContext,
  parameter: string,
  path: string,
  shown: string,
): Promise<string> {
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    throw invalidParameter(parameter, 'a local repository that exists', shown);
  }
  if (!context.guard.list().some((root) => isWithin(root, real))) {
    throw new BallastError(
      'MCP_GIT_PATH_OUTSIDE_ROOT',
      `${parameter}: ${shown} is a local path outside the repositories this server was given; the file transport is only allowed inside them`,
    );
  }
  return real;
}

function transportRefused(parameter: string, url: string, what: string): BallastError {
  return new BallastError(
    'MCP_GIT_TRANSPORT_REFUSED',
    `${parameter}: ${url} uses ${what}, which this server refuses; use an https:// or ssh URL, or a local repository inside the allowed ones`,
    { details: { parameter } },
  );
}

/**
 * The transport a URL uses, refusing anything but https, ssh, and local paths inside the allowed
 * repositories. Relative local paths are read from `base`, as git reads them.
 */
async function transportOf(
  context: ToolContext,
  parameter: string,
  url: string,
  base: string,
): Promise<Transport> {
  assertSafeName(parameter, url);
  const helper = /^([A-Za-z0-9][A-Za-z0-9+.-]*)::/.exec(url);
  if (helper) throw transportRefused(parameter, url, `the ${helper[1]}:: remote helper`);
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/]*)/.exec(url);
  if (scheme) {
    const name = (scheme[1] as string).toLowerCase();
    const host = (scheme[2] as string).replace(/^[^@]*@/, '');
    if (host.startsWith('-'))
      throw invalidParameter(parameter, 'a URL whose host does not start with "-"', url);
    if (name === 'https') return 'https';
    if (name === 'ssh' || name === 'git+ssh' || name === 'ssh+git') return 'ssh';
    if (name === 'file') {
      let path: string;
      try {
        path = fileURLToPath(url);
      } catch {
        throw invalidParameter(parameter, 'a file:// URL of a local path', url);
      }
      await assertLocalInside(context, parameter, path, url);
      return 'file';
    }
    throw transportRefused(parameter, url, `the ${name}:// transport`);
  }
  // git's rule: a colon before any slash makes it scp-like ssh ("host:path", "user@host:path").
  const colon = url.indexOf(':');
  const slash = url.indexOf('/');
  if (colon > 0 && (slash === -1 || colon < slash)) {
    if (
      url
        .slice(0, colon)
        .replace(/^[^@]*@/, '')
        .startsWith('-')
    ) {
      throw invalidParameter(parameter, 'an ssh address whose host does not start with "-"', url);
    }
    return 'ssh';
  }
  await assertLocalInside(context, parameter, resolve(base, url), url);
  return 'file';
}

/** A configured remote, its name checked and every URL it would use (after insteadOf) vetted. */
async function checkRemote(
  context: ToolContext,
  repository: Repository,
  parameter: string,
  value: unknown,
  direction: 'fetch' | 'push',
): Promise<{ name: string; protocols: Transport[] }> {
  const name = assertSafeName(parameter, value);
  const format = await context.gitRaw(repository, ['check-ref-format', `refs/remotes/${name}/x`]);
  if (format.exitCode !== 0) throw invalidParameter(parameter, 'a valid remote name', value);
  const urls = await context.gitRaw(repository, [
    'remote',
    'get-url',
    '--all',
    ...(direction === 'push' ? ['--push'] : []),
    '--end-of-options',
    name,
  ]);
  const list = urls.stdout.split('\n').filter((url) => url !== '');
  if (urls.exitCode !== 0 || list.length === 0) {
    throw invalidParameter(parameter, 'the name of a configured remote (see git remote)', value);
  }
  const protocols = new Set<Transport>(['https', 'ssh']);
  for (const url of list) protocols.add(await transportOf(context, parameter, url, repository.root));
  return { name, protocols: [...protocols] };
}

/**
 * A folder that does not exist yet (or is empty) for init and clone: its real parent inside an
 * allowed repository and not inside a `.git` folder.
 */
async function newFolder(context: ToolContext, parameter: string, value: unknown): Promise<string> {
  const path = assertSafeName(parameter, value);
  const roots = context.guard.list();
  if (!isAbsolute(path) && roots.length !== 1) {
    throw invalidParameter(parameter, 'an absolute path (several repositories are served)', value);
  }
  const absolute = isAbsolute(path) ? resolve(path) : resolve(roots[0] as string, path);
  let parent: string;
  try {
    parent = await realpath(dirname(absolute));
  } catch {
    throw invalidParameter(parameter, 'a path whose parent folder exists', value);
  }
  const root = roots.find((candidate) => isWithin(candidate, parent));
  if (root === undefined) {
    throw new BallastError(
      'MCP_GIT_PATH_OUTSIDE_ROOT',
      `${parameter}: ${path} is not inside a repository this server was given (${roots.join(', ') || 'none admitted by the client roots'})`,
    );
  }
  const destination = join(parent, basename(absolute));
  if (relative(root, destination).split(sep).includes('.git')) {
    throw new BallastError('MCP_GIT_PATH_OUTSIDE_ROOT', `${parameter}: ${path} is inside a .git folder`);
  }
  const found = await lstat(destination).catch(() => undefined);
  if (found) {
    if (!found.isDirectory() || (await readdir(destination)).length > 0) {
      throw invalidParameter(parameter, 'a folder that does not exist yet or is empty', value);
    }
  }
  return destination;
}

/** A folder as a place to run git from (init and clone have no repository yet). */
function folder(path: string): Repository {
  return { root: path, gitDir: path, commonDir: path, bare: false, neutralised: [] };
}

/** Undoes the C-style quoting git puts on unusual paths in its human output ("odd \"name\".txt"). */
function unquote(path: string): string {
  if (!path.startsWith('"') || !path.endsWith('"') || path.length < 2) return path;
  const escapes: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, '\\': 92 };
  const body = path.slice(1, -1);
  const bytes: number[] = [];
  for (let index = 0; index < body.length; index += 1) {
    const char = body[index] as string;
    if (char !== '\\') {
      bytes.push(...Buffer.from(char, 'utf8'));
      continue;
    }
    const next = body[index + 1] ?? '';
    if (/[0-7]/.test(next)) {
      bytes.push(Number.parseInt(body.slice(index + 1, index + 4), 8));
      index += 3;
    } else {
      bytes.push(escapes[next] ?? next.charCodeAt(0));
      index += 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** The refs a fetch may move, as name -> object id. */
async function refSnapshot(
  context: ToolContext,
  repository: Repository,
  remote: string,
): Promise<Map<string, string>> {
  const result = await context.git(repository, [
    'for-each-ref',
    '--format=%(objectname) %(refname)',
    `refs/remotes/${remote}/`,
    'refs/tags/',
  ]);
  const refs = new Map<string, string>();
  for (const line of result.stdout.split('\n')) {
    const space = line.indexOf(' ');
    if (space > 0) refs.set(line.slice(space + 1), line.slice(0, space));
  }
  return refs;
}

const mergeStatus = z.enum(['up-to-date', 'fast-forward', 'merged', 'conflict']);

/** Runs a merge-like git command; on failure undoes it and reports the conflicts. */
async function mergeOrAbort(
  context: ToolContext,
  repository: Repository,
  tool: string,
  args: readonly string[],
  options: Parameters<ToolContext['gitRaw']>[2] = {},
): Promise<{ ok: true } | { ok: false; conflicts: string[] }> {
  const result = await context.gitRaw(repository, args, options);
  if (result.exitCode === 0) return { ok: true };
  const conflicts = await conflictedFiles(context, repository);
  if (await exists(join(repository.gitDir, 'MERGE_HEAD')))
    await context.git(repository, ['merge', '--abort']);
  if (conflicts.length > 0) return { ok: false, conflicts };
  throw gitFailure(tool, result.stderr);
}

const pushStatus = z.enum(['new', 'fast-forward', 'forced', 'up-to-date']);

export const writeTools: AnyTool[] = [
  defineTool({
    name: 'git_switch',
    title: 'Switch branch',
    description:
      'Switches to a local branch, or creates it from HEAD and switches to it (create: true). Uncommitted changes that would be overwritten make it fail, not vanish.',
    tier: 'write',
    input: {
      repo_path: repoPath,
      branch: z.string().describe('Branch to switch to'),
      create: z.boolean().default(false).describe('Create the branch from HEAD first (it must not exist)'),
    },
    output: {
      branch: z.string(),
      head: z.string().describe('The commit the branch points at'),
      created: z.boolean(),
      previous: z.string().nullable().describe('The branch HEAD was on before, null when detached'),
    },
    idempotent: true,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      const name = await checkBranchName(repository, 'branch', args.branch);
      const found = await localBranch(context, repository, name);
      if (args.create && found.exitCode === 0) {
        throw invalidParameter(
          'branch',
          'a branch that does not exist yet (or create: false to switch to it)',
          name,
        );
      }
      if (!args.create && found.exitCode !== 0) {
        throw invalidParameter('branch', 'an existing local branch (or create: true to create it)', name);
      }
      const previous = await currentBranch(context, repository);
      await context.git(repository, [
        'switch',
        '--no-guess',
        '--quiet',
        ...(args.create ? [`--create=${name}`] : [name]),
      ]);
      const head = (await headOf(context, repository)) ?? '';
      return {
        structured: { branch: name, head, created: args.create, previous },
        text: args.create ? `Switched to a new branch '${name}' at ${head}` : `Switched to branch '${name}'`,
      };
    },
  }),
  defineTool({
    name: 'git_unstage',
    title: 'Unstage files',
    description:
      'Removes the staged changes of the given paths from the index; the working tree files are left as they are.',
    tier: 'write',
    input: { repo_path: repoPath, paths: pathList },
    output: {
      unstaged: z.array(z.string()).describe('Paths whose staged changes were removed from the index'),
    },
    idempotent: true,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      const paths = await checkedPaths(context, repository, 'paths', args.paths);
      const head = await headOf(context, repository);
      let unstaged: string[];
      if (head === null) {
        // Before the first commit there is no HEAD to restore from: unstaging is removing from the index.
        unstaged = nulList(
          (await context.git(repository, ['ls-files', '--cached', '-z', '--', ...paths])).stdout,
        );
        if (unstaged.length > 0)
          await context.git(repository, ['rm', '--cached', '--quiet', '-r', '--', ...paths]);
      } else {
        unstaged = nulList(
          (await context.git(repository, ['diff', '--cached', '--name-only', '-z', '--', ...paths])).stdout,
        );
        await context.git(repository, ['restore', '--staged', '--quiet', '--', ...paths]);
      }
      return {
        structured: { unstaged },
        text: unstaged.length > 0 ? `Unstaged: ${unstaged.join(', ')}` : 'Nothing staged in these paths.',
      };
    },
  }),
  defineTool({
    name: 'git_restore',
    title: 'Discard changes to files',
    description:
      'Discards the unstaged changes of the given paths (the files are restored from the index); with staged: true also their staged changes (restored from HEAD). Discarded changes cannot be recovered.',
    tier: 'destructive',
    destructive: true,
    input: {
      repo_path: repoPath,
      paths: pathList,
      staged: z
        .boolean()
        .default(false)
        .describe('Also discard staged changes: index and files restored from HEAD'),
    },
    output: { restored: z.array(z.string()).describe('Paths whose changes were discarded') },
    idempotent: true,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      const paths = await checkedPaths(context, repository, 'paths', args.paths);
      if (args.staged) await requireHead(context, repository, 'git_restore with staged: true');
      const changed = await context.git(repository, [
        'diff',
        ...(args.staged ? ['HEAD'] : []),
        '--name-only',
        '-z',
        '--',
        ...paths,
      ]);
      const restored = nulList(changed.stdout);
      await context.git(repository, [
        'restore',
        '--worktree',
        ...(args.staged ? ['--staged'] : []),
        '--quiet',
        '--',
        ...paths,
      ]);
      return {
        structured: { restored },
        text:
          restored.length > 0
            ? `Discarded changes to: ${restored.join(', ')}`
            : 'No changes to discard in these paths.',
      };
    },
  }),
  defineTool({
    name: 'git_merge',
    title: 'Merge',
    description:
      'Merges a revision into the current branch. Needs a clean tracked tree. On a conflict the merge is aborted, nothing changes, and the conflicted files are reported (status "conflict").',
    tier: 'write',
    input: {
      repo_path: repoPath,
      revision: z.string().describe('Branch, tag or commit to merge'),
      no_ff: z
        .boolean()
        .default(false)
        .describe('Always create a merge commit, even when a fast-forward is possible'),
      message: z.string().optional().describe('Message of the merge commit'),
    },
    output: {
      status: mergeStatus,
      head: z.string().describe('HEAD after the call (unchanged on a conflict)'),
      merged: z.string().describe('The commit that was merged'),
      conflicts: z.array(z.string()).describe('Conflicted files when status is "conflict"'),
    },
    idempotent: true,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      const target = await resolveRevision(repository, 'revision', args.revision);
      const explicit = messageText('message', args.message);
      const before = await requireHead(context, repository, 'git_merge');
      await assertReadyForMerge(context, repository, 'git_merge');
      const isBranch = await context.gitRaw(repository, [
        'rev-parse',
        '--verify',
        '--quiet',
        `refs/heads/${args.revision}`,
      ]);
      const message = explicit ?? `Merge ${isBranch.exitCode === 0 ? 'branch ' : ''}'${args.revision}'`;
      const outcome = await mergeOrAbort(context, repository, 'git_merge', [
        'merge',
        '--no-edit',
        '--no-stat',
        '--no-autostash',
        args.no_ff ? '--no-ff' : '--ff',
        `--message=${message}`,
        target,
      ]);
      if (!outcome.ok) {
        return {
          structured: {
            status: 'conflict' as const,
            head: before,
            merged: target,
            conflicts: outcome.conflicts,
          },
          text: `Merging ${args.revision} conflicts in: ${outcome.conflicts.join(', ')}. The merge was aborted; nothing changed.`,
        };
      }
      const head = (await headOf(context, repository)) ?? before;
      const status: z.infer<typeof mergeStatus> =
        head === before ? 'up-to-date' : head === target ? 'fast-forward' : 'merged';
      const text =
        status === 'up-to-date'
          ? 'Already up to date.'
          : status === 'fast-forward'
            ? `Fast-forwarded to ${head}`
            : `Merged ${args.revision}: ${head}`;
      return { structured: { status, head, merged: target, conflicts: [] }, text };
    },
  }),
  defineTool({
    name: 'git_cherry_pick',
    title: 'Cherry-pick commits',
    description:
      'Applies the changes of the given commits, in order, as new commits on the current branch. Needs a clean tracked tree. If any of them conflicts, all of them are undone and the conflicted files are reported.',
    tier: 'write',
    input: {
      repo_path: repoPath,
      revisions: z.array(z.string()).min(1).max(100).describe('Commits to apply, in order'),
    },
    output: {
      status: z.enum(['applied', 'conflict']),
      head: z.string().describe('HEAD after the call (unchanged on a conflict)'),
      commits: z.array(z.string()).describe('The new commits, oldest first'),
      conflicts: z.array(z.string()),
      conflicted_revision: z.string().nullable().describe('The commit that conflicted'),
    },
    idempotent: false,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      const ids: string[] = [];
      for (const [index, revision] of args.revisions.entries())
        ids.push(await resolveRevision(repository, `revisions[${index}]`, revision));
      const before = await requireHead(context, repository, 'git_cherry_pick');
      await assertReadyForMerge(context, repository, 'git_cherry_pick');
      const result = await context.gitRaw(repository, ['cherry-pick', '--no-rerere-autoupdate', ...ids]);
      if (result.exitCode !== 0) {
        const conflicts = await conflictedFiles(context, repository);
        const picking = await context.gitRaw(repository, [
          'rev-parse',
          '--verify',
          '--quiet',
          'CHERRY_PICK_HEAD',
        ]);
        // Aborting a sequence goes back to where it started, undoing the picks that succeeded.
        await context.gitRaw(repository, ['cherry-pick', '--abort']);
        if ((await headOf(context, repository)) !== before)
          await context.git(repository, ['reset', '--merge', before, '--']);
        if (conflicts.length === 0) throw gitFailure('git_cherry_pick', result.stderr);
        const conflicted = picking.exitCode === 0 ? picking.stdout.trim() : null;
        return {
          structured: {
            status: 'conflict' as const,
            head: before,
            commits: [],
            conflicts,
            conflicted_revision: conflicted,
          },
          text: `Cherry-picking ${conflicted ?? 'the commits'} conflicts in: ${conflicts.join(', ')}. The cherry-pick was aborted; nothing changed.`,
        };
      }
      const head = (await headOf(context, repository)) ?? before;
      const commits = (await context.git(repository, ['rev-list', '--reverse', `${before}..${head}`])).stdout
        .split('\n')
        .filter(Boolean);
      return {
        structured: { status: 'applied' as const, head, commits, conflicts: [], conflicted_revision: null },
        text: `Applied ${commits.length} commit(s): ${commits.join(', ')}`,
      };
    },
  }),
  defineTool({
    name: 'git_revert',
    title: 'Revert a commit',
    description:
      'Creates a new commit that undoes the changes of a commit. Needs a clean tracked tree. On a conflict the revert is aborted, nothing changes, and the conflicted files are reported.',
    tier: 'write',
    input: { repo_path: repoPath, revision: z.string().describe('The commit to revert') },
    output: {
      status: z.enum(['reverted', 'conflict']),
      head: z.string(),
      commit: z.string().nullable().describe('The new commit, null on a conflict'),
      conflicts: z.array(z.string()),
    },
    idempotent: false,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      const id = await resolveRevision(repository, 'revision', args.revision);
      const before = await requireHead(context, repository, 'git_revert');
      await assertReadyForMerge(context, repository, 'git_revert');
      const result = await context.gitRaw(repository, ['revert', '--no-edit', '--no-rerere-autoupdate', id]);
      if (result.exitCode !== 0) {
        const conflicts = await conflictedFiles(context, repository);
        await context.gitRaw(repository, ['revert', '--abort']);
        if ((await headOf(context, repository)) !== before)
          await context.git(repository, ['reset', '--merge', before, '--']);
        if (conflicts.length === 0) throw gitFailure('git_revert', result.stderr);
        return {
          structured: { status: 'conflict' as const, head: before, commit: null, conflicts },
          text: `Reverting ${args.revision} conflicts in: ${conflicts.join(', ')}. The revert was aborted; nothing changed.`,
        };
      }
      const head = (await headOf(context, repository)) ?? before;
      return {
        structured: { status: 'reverted' as const, head, commit: head, conflicts: [] },
        text: `Reverted ${args.revision} with commit ${head}`,
      };
    },
  }),
  defineTool({
    name: 'git_stash_push',
    title: 'Stash changes',
    description:
      'Saves the uncommitted changes (and untracked files with include_untracked) on the stash and cleans the working tree.',
    tier: 'write',
    input: {
      repo_path: repoPath,
      message: z.string().optional().describe('Description of the stash entry'),
      include_untracked: z.boolean().default(false).describe('Stash untracked files too'),
    },
    output: {
      stashed: z.boolean().describe('False when there was nothing to stash'),
      ref: z.string().nullable().describe('stash@{0} when something was stashed'),
      hash: z.string().nullable(),
      message: z.string().nullable().describe('The stash entry as git stash list shows it'),
    },
    idempotent: false,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      const message = messageText('message', args.message);
      await requireHead(context, repository, 'git_stash_push');
      const top = async () =>
        (await context.gitRaw(repository, ['rev-parse', '--verify', '--quiet', 'refs/stash'])).stdout.trim();
      const before = await top();
      await context.git(repository, [
        'stash',
        'push',
        '--quiet',
        ...(args.include_untracked ? ['--include-untracked'] : []),
        ...(message === undefined ? [] : [`--message=${message}`]),
      ]);
      const after = await top();
      if (after === '' || after === before) {
        return {
          structured: { stashed: false, ref: null, hash: null, message: null },
          text: 'No local changes to save.',
        };
      }
      const subject = (
        await context.git(repository, [
          'log',
          '--walk-reflogs',
          '--max-count=1',
          '--format=%gs',
          'refs/stash',
        ])
      ).stdout.trim();
      return {
        structured: { stashed: true, ref: 'stash@{0}', hash: after, message: subject },
        text: `Saved working directory and index state as stash@{0}: ${subject}`,
      };
    },
  }),
  defineTool({
    name: 'git_stash_pop',
    title: 'Apply and drop a stash entry',
    description:
      'Applies a stash entry to the working tree and drops it. Needs a clean tracked tree. On a conflict everything it applied is undone and the entry is kept.',
    tier: 'write',
    input: {
      repo_path: repoPath,
      index: z.number().int().min(0).default(0).describe('Which entry: 0 is the newest (stash@{0})'),
    },
    output: {
      status: z.enum(['applied', 'conflict']),
      ref: z.string(),
      hash: z.string().describe('The stash commit'),
      conflicts: z.array(z.string()),
      remaining: z.number().describe('Stash entries left'),
    },
    idempotent: false,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      const ref = `stash@{${args.index}}`;
      const found = await context.gitRaw(repository, ['rev-parse', '--verify', '--quiet', `refs/${ref}`]);
      if (found.exitCode !== 0)
        throw invalidParameter('index', 'the index of an existing stash entry', args.index);
      const hash = found.stdout.trim();
      await assertReadyForMerge(context, repository, 'git_stash_pop');
      // Untracked files the entry would restore that do not exist now: a failed pop leaves them behind.
      const untrackedTree = await context.gitRaw(repository, [
        'rev-parse',
        '--verify',
        '--quiet',
        `${hash}^3`,
      ]);
      const restores: string[] = [];
      if (untrackedTree.exitCode === 0) {
        const names = await context.git(repository, [
          'ls-tree',
          '-r',
          '-z',
          '--name-only',
          untrackedTree.stdout.trim(),
        ]);
        for (const name of nulList(names.stdout))
          if (!(await exists(join(repository.root, name)))) restores.push(name);
      }
      const result = await context.gitRaw(repository, ['stash', 'pop', '--quiet', ref]);
      const count = async () =>
        nulList((await context.git(repository, ['stash', 'list', '-z', '--format=%gd'])).stdout).length;
      if (result.exitCode === 0) {
        const remaining = await count();
        return {
          structured: { status: 'applied' as const, ref, hash, conflicts: [], remaining },
          text: `Applied and dropped ${ref} (${hash}); ${remaining} stash entries left`,
        };
      }
      const conflicts = await conflictedFiles(context, repository);
      await context.git(repository, ['reset', '--merge', '--quiet']);
      for (const name of restores) await rm(join(repository.root, name), { force: true });
      if (conflicts.length === 0) throw gitFailure('git_stash_pop', result.stderr);
      return {
        structured: { status: 'conflict' as const, ref, hash, conflicts, remaining: await count() },
        text: `Applying ${ref} conflicts in: ${conflicts.join(', ')}. Nothing was applied and the entry is kept.`,
      };
    },
  }),
  defineTool({
    name: 'git_tag_create',
    title: 'Create a tag',
    description: 'Creates a tag at HEAD or at a revision; annotated when a message is given.',
    tier: 'write',
    input: {
      repo_path: repoPath,
      name: z.string().describe('Tag name, e.g. v1.2.0'),
      revision: z.string().optional().describe('Commit to tag (HEAD when left out)'),
      message: z.string().optional().describe('Message of an annotated tag'),
    },
    output: {
      name: z.string(),
      target: z.string().describe('The tagged commit'),
      annotated: z.boolean(),
      object: z
        .string()
        .describe('What refs/tags/<name> points at: the tag object, or the commit for a lightweight tag'),
    },
    idempotent: true,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      const name = assertSafeName('name', args.name);
      const format = await context.gitRaw(repository, ['check-ref-format', `refs/tags/${name}`]);
      if (format.exitCode !== 0)
        throw invalidParameter('name', 'a valid tag name (see git check-ref-format)', name);
      const taken = await context.gitRaw(repository, [
        'rev-parse',
        '--verify',
        '--quiet',
        `refs/tags/${name}`,
      ]);
      if (taken.exitCode === 0) throw invalidParameter('name', 'a tag that does not exist yet', name);
      const target = await resolveRevision(repository, 'revision', args.revision ?? 'HEAD');
      const message = messageText('message', args.message);
      if (message === undefined)
        await context.git(repository, ['tag', '--no-sign', '--end-of-options', name, target]);
      else {
        // The message goes through stdin, like git_commit's.
        await context.git(
          repository,
          ['tag', '--annotate', '--no-sign', '--file=-', '--end-of-options', name, target],
          { input: message },
        );
      }
      const object = (
        await context.git(repository, ['rev-parse', '--verify', `refs/tags/${name}`])
      ).stdout.trim();
      return {
        structured: { name, target, annotated: message !== undefined, object },
        text: `Created ${message === undefined ? 'lightweight' : 'annotated'} tag '${name}' at ${target}`,
      };
    },
  }),
  defineTool({
    name: 'git_reset_hard',
    title: 'Reset hard',
    description:
      'Moves the current branch to a revision and makes the index and working tree match it: uncommitted changes to tracked files are lost. Untracked files stay.',
    tier: 'destructive',
    destructive: true,
    input: {
      repo_path: repoPath,
      revision: z.string().describe('Where to move the branch (HEAD only discards uncommitted changes)'),
    },
    output: {
      head: z.string(),
      previous_head: z.string().describe('Where HEAD was (recoverable from the reflog)'),
      discarded: z.array(z.string()).describe('Tracked files whose uncommitted changes were discarded'),
    },
    idempotent: true,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      const target = await resolveRevision(repository, 'revision', args.revision);
      const previous = await requireHead(context, repository, 'git_reset_hard');
      const discarded = nulList(
        (await context.git(repository, ['diff', 'HEAD', '--name-only', '-z'])).stdout,
      );
      await context.git(repository, ['reset', '--hard', '--quiet', target, '--']);
      return {
        structured: { head: target, previous_head: previous, discarded },
        text: `HEAD is now at ${target} (was ${previous})${discarded.length ? `; discarded changes to: ${discarded.join(', ')}` : ''}`,
      };
    },
  }),
  defineTool({
    name: 'git_branch_delete',
    title: 'Delete a branch',
    description:
      'Deletes a local branch. Without force only a branch merged into HEAD or its upstream is deleted.',
    tier: 'destructive',
    destructive: true,
    input: {
      repo_path: repoPath,
      branch: z.string().describe('Local branch to delete'),
      force: z
        .boolean()
        .default(false)
        .describe('Delete even when its commits are not merged (git branch -D)'),
    },
    output: {
      branch: z.string(),
      head: z.string().describe('The commit the branch pointed at (to recreate it)'),
    },
    idempotent: true,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      const name = await checkBranchName(repository, 'branch', args.branch);
      const found = await localBranch(context, repository, name);
      if (found.exitCode !== 0) throw invalidParameter('branch', 'an existing local branch', name);
      if ((await currentBranch(context, repository)) === name) {
        throw invalidParameter('branch', 'a branch other than the current one (switch away first)', name);
      }
      await context.git(repository, [
        'branch',
        '--delete',
        ...(args.force ? ['--force'] : []),
        '--end-of-options',
        name,
      ]);
      const head = found.stdout.trim();
      return { structured: { branch: name, head }, text: `Deleted branch ${name} (was ${head})` };
    },
  }),
  defineTool({
    name: 'git_clean',
    title: 'Remove untracked files',
    description:
      'Removes untracked files (and untracked folders with directories: true); ignored files and nested repositories stay. By default a dry run that only lists what would be removed.',
    tier: 'destructive',
    destructive: true,
    input: {
      repo_path: repoPath,
      directories: z.boolean().default(false).describe('Also remove untracked folders'),
      dry_run: z.boolean().default(true).describe('Only list what would be removed'),
    },
    output: {
      dry_run: z.boolean(),
      removed: z
        .array(z.string())
        .describe('What was removed, or would be on a dry run (folders end with /)'),
      skipped: z.array(z.string()).describe('Nested repositories left alone'),
    },
    idempotent: true,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      const result = await context.git(repository, [
        'clean',
        args.dry_run ? '--dry-run' : '--force',
        ...(args.directories ? ['-d'] : []),
        '--',
      ]);
      const removed: string[] = [];
      const skipped: string[] = [];
      for (const line of result.stdout.split('\n')) {
        const gone = /^(?:Would remove|Removing) (.+)$/.exec(line);
        const kept = /^(?:Would skip repository|Skipping repository) (.+)$/.exec(line);
        if (gone) removed.push(unquote(gone[1] as string));
        else if (kept) skipped.push(unquote(kept[1] as string));
      }
      const list = removed.length > 0 ? removed.map((path) => `  ${path}`).join('\n') : '  (nothing)';
      return {
        structured: { dry_run: args.dry_run, removed, skipped },
        text: args.dry_run
          ? `Would remove:\n${list}\nDry run: nothing was removed (call again with dry_run: false).`
          : `Removed:\n${list}`,
      };
    },
  }),
  defineTool({
    name: 'git_fetch',
    title: 'Fetch',
    description:
      'Downloads commits, branches and tags from a remote and updates its remote-tracking branches; the working tree is not touched.',
    tier: 'network',
    input: {
      repo_path: repoPath,
      remote: remoteName,
      prune: z.boolean().default(false).describe('Remove remote-tracking branches the remote no longer has'),
    },
    output: {
      remote: z.string(),
      updated: z
        .array(z.object({ ref: z.string(), old: z.string().nullable(), new: z.string().nullable() }))
        .describe('Refs that changed: old null for new refs, new null for pruned ones'),
    },
    idempotent: true,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      const remote = await checkRemote(context, repository, 'remote', args.remote, 'fetch');
      const before = await refSnapshot(context, repository, remote.name);
      const progress = progressReporter(context);
      await context.git(
        repository,
        [
          'fetch',
          '--progress',
          '--no-recurse-submodules',
          // Never the repository's remote.<name>.uploadpack: for a local remote it runs through a shell.
          '--upload-pack=git-upload-pack',
          ...(args.prune ? ['--prune'] : []),
          remote.name,
        ],
        { protocols: remote.protocols, onStderrLine: progress.onStderrLine },
      );
      await progress.flush();
      const after = await refSnapshot(context, repository, remote.name);
      const updated: Array<{ ref: string; old: string | null; new: string | null }> = [];
      for (const [ref, id] of after)
        if (before.get(ref) !== id) updated.push({ ref, old: before.get(ref) ?? null, new: id });
      for (const [ref, id] of before) if (!after.has(ref)) updated.push({ ref, old: id, new: null });
      return {
        structured: { remote: remote.name, updated },
        text:
          updated.length > 0
            ? `Fetched from ${remote.name}:\n${updated.map((entry) => `  ${entry.ref}: ${entry.old ?? '(new)'} -> ${entry.new ?? '(pruned)'}`).join('\n')}`
            : `Fetched from ${remote.name}: already up to date.`,
      };
    },
  }),
  defineTool({
    name: 'git_pull',
    title: 'Pull',
    description:
      'Fetches a branch from a remote and integrates it into the current branch: fast-forward only by default, a merge with ff_only: false (never a rebase). Needs a clean tracked tree; a conflicting merge is aborted and the conflicted files reported.',
    tier: 'network',
    input: {
      repo_path: repoPath,
      remote: z
        .string()
        .optional()
        .describe("Remote to pull from (the current branch's upstream remote, else origin)"),
      branch: z
        .string()
        .optional()
        .describe("Remote branch (the current branch's upstream, else the same name)"),
      ff_only: z.boolean().default(true).describe('Only fast-forward; fail when the branches have diverged'),
    },
    output: {
      remote: z.string(),
      branch: z.string(),
      status: mergeStatus,
      previous_head: z.string(),
      head: z.string(),
      conflicts: z.array(z.string()),
    },
    idempotent: true,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      if (args.remote !== undefined) assertSafeName('remote', args.remote);
      if (args.branch !== undefined) assertSafeName('branch', args.branch);
      const current = await currentBranch(context, repository);
      if (current === null)
        throw new BallastError(
          'MCP_GIT_DETACHED_HEAD',
          'git_pull: HEAD is detached; switch to a branch first',
        );
      const config = async (key: string) =>
        (await context.gitRaw(repository, ['config', '--get', key])).stdout.trim();
      const upstreamRemote = await config(`branch.${current}.remote`);
      const remote = await checkRemote(
        context,
        repository,
        'remote',
        args.remote ?? (upstreamRemote || 'origin'),
        'fetch',
      );
      const upstreamBranch =
        remote.name === upstreamRemote
          ? (await config(`branch.${current}.merge`)).replace(/^refs\/heads\//, '')
          : '';
      const branch = await checkBranchName(repository, 'branch', args.branch ?? (upstreamBranch || current));
      const before = await requireHead(context, repository, 'git_pull');
      await assertReadyForMerge(context, repository, 'git_pull');
      const progress = progressReporter(context);
      const outcome = await mergeOrAbort(
        context,
        repository,
        'git_pull',
        [
          'pull',
          '--progress',
          '--no-rebase',
          args.ff_only ? '--ff-only' : '--ff',
          '--no-edit',
          '--no-stat',
          '--no-recurse-submodules',
          '--upload-pack=git-upload-pack',
          remote.name,
          `refs/heads/${branch}`,
        ],
        { protocols: remote.protocols, onStderrLine: progress.onStderrLine },
      );
      await progress.flush();
      if (!outcome.ok) {
        return {
          structured: {
            remote: remote.name,
            branch,
            status: 'conflict' as const,
            previous_head: before,
            head: before,
            conflicts: outcome.conflicts,
          },
          text: `Pulling ${remote.name}/${branch} conflicts in: ${outcome.conflicts.join(', ')}. The merge was aborted; nothing changed.`,
        };
      }
      const head = (await headOf(context, repository)) ?? before;
      const fetched = (
        await context.gitRaw(repository, ['rev-parse', '--verify', '--quiet', 'FETCH_HEAD^{commit}'])
      ).stdout.trim();
      const status: z.infer<typeof mergeStatus> =
        head === before ? 'up-to-date' : head === fetched ? 'fast-forward' : 'merged';
      return {
        structured: { remote: remote.name, branch, status, previous_head: before, head, conflicts: [] },
        text:
          status === 'up-to-date'
            ? 'Already up to date.'
            : `Pulled ${remote.name}/${branch} (${status}): ${before} -> ${head}`,
      };
    },
  }),
  defineTool({
    name: 'git_push',
    title: 'Push',
    description:
      'Pushes a local branch to the same name on a remote. force: true overwrites the remote branch only if it is still where this repository last saw it (--force-with-lease with --force-if-includes), and needs --allow-destructive; there is no plain --force.',
    tier: 'network',
    input: {
      repo_path: repoPath,
      remote: remoteName,
      branch: z.string().optional().describe('Local branch to push (the current branch when left out)'),
      set_upstream: z
        .boolean()
        .default(false)
        .describe('Make the pushed branch the upstream of the local one'),
      force: z
        .boolean()
        .default(false)
        .describe('Replace the remote branch, with lease semantics (needs --allow-destructive)'),
    },
    output: {
      remote: z.string(),
      branch: z.string(),
      remote_ref: z.string(),
      status: pushStatus,
      head: z.string().describe('The commit pushed'),
      summary: z.string().describe("git's summary of the update, e.g. 1a2b3c4..5d6e7f8"),
      upstream: z.string().nullable(),
    },
    idempotent: true,
    async run(context, args) {
      if (args.force) assertTier('git_push with force', 'destructive', context.permissions);
      const repository = await context.guard.open(args.repo_path);
      if (args.branch !== undefined) assertSafeName('branch', args.branch);
      const remote = await checkRemote(context, repository, 'remote', args.remote, 'push');
      const current = await currentBranch(context, repository);
      if (args.branch === undefined && current === null) {
        throw invalidParameter('branch', 'a branch name (HEAD is detached, so there is no current branch)');
      }
      const branch = await checkBranchName(repository, 'branch', args.branch ?? current);
      const found = await localBranch(context, repository, branch);
      if (found.exitCode !== 0) throw invalidParameter('branch', 'an existing local branch', branch);
      const ref = `refs/heads/${branch}`;
      const progress = progressReporter(context);
      const result = await context.gitRaw(
        repository,
        [
          'push',
          '--progress',
          '--porcelain',
          '--recurse-submodules=no',
          '--no-follow-tags',
          '--receive-pack=git-receive-pack',
          ...(args.set_upstream ? ['--set-upstream'] : []),
          ...(args.force ? [`--force-with-lease=${ref}`, '--force-if-includes'] : []),
          remote.name,
          `${ref}:${ref}`,
        ],
        { protocols: remote.protocols, onStderrLine: progress.onStderrLine },
      );
      await progress.flush();
      const line = result.stdout.split('\n').find((entry) => entry.includes(`\t${ref}:${ref}\t`));
      const flag = line?.[0];
      const summary = line?.split('\t')[2] ?? '';
      if (result.exitCode !== 0 || line === undefined || flag === '!') {
        const reason = summary || result.stderr.trim().split('\n').slice(-2).join(' ');
        const hint = /stale info|fetch first|non-fast-forward/.test(reason)
          ? '; the remote branch has commits this repository has not integrated: fetch (git_fetch) and merge or pull them first'
          : '';
        throw new BallastError(
          'MCP_GIT_PUSH_REJECTED',
          `git_push: ${remote.name} refused ${ref}: ${reason}${hint}; nothing was pushed`,
        );
      }
      const status: z.infer<typeof pushStatus> =
        flag === '*' ? 'new' : flag === '+' ? 'forced' : flag === '=' ? 'up-to-date' : 'fast-forward';
      const upstream = await context.git(repository, ['for-each-ref', '--format=%(upstream:short)', ref]);
      const head = found.stdout.trim();
      return {
        structured: {
          remote: remote.name,
          branch,
          remote_ref: ref,
          status,
          head,
          summary,
          upstream: upstream.stdout.trim() || null,
        },
        text: `Pushed ${branch} to ${remote.name} (${status}: ${summary})`,
      };
    },
  }),
  defineTool({
    name: 'git_init',
    title: 'Create a repository',
    description:
      'Creates a new, empty repository in a folder that does not exist yet (or is empty), only inside the repositories this server was given.',
    tier: 'write',
    input: {
      repo_path: z.string().describe('The new folder, inside an allowed repository'),
      initial_branch: z.string().default('main').describe('Name of the first branch'),
      bare: z.boolean().default(false).describe('Create a bare repository (no working tree)'),
    },
    output: {
      path: z.string().describe('Real path of the new repository'),
      branch: z.string(),
      bare: z.boolean(),
    },
    idempotent: true,
    async run(context, args) {
      const destination = await newFolder(context, 'repo_path', args.repo_path);
      const branch = assertSafeName('initial_branch', args.initial_branch);
      const place = folder(dirname(destination));
      const format = await context.gitRaw(place, ['check-ref-format', '--branch', branch]);
      if (format.exitCode !== 0 || format.stdout.trim() !== branch) {
        throw invalidParameter('initial_branch', 'a valid branch name (see git check-ref-format)', branch);
      }
      await context.git(place, [
        'init',
        '--quiet',
        `--initial-branch=${branch}`,
        ...(args.bare ? ['--bare'] : []),
        '--',
        destination,
      ]);
      return {
        structured: { path: destination, branch, bare: args.bare },
        text: `Initialized empty ${args.bare ? 'bare ' : ''}Git repository in ${destination} (branch ${branch})`,
      };
    },
  }),
  defineTool({
    name: 'git_clone',
    title: 'Clone a repository',
    description:
      'Clones an https or ssh URL, or a local repository inside the allowed ones, into a new folder inside an allowed repository. Submodules are not cloned; other transports (ext::, git://, http://) are refused.',
    tier: 'network',
    input: {
      url: z
        .string()
        .describe('https:// or ssh URL, or the path of a local repository inside the allowed ones'),
      destination: z.string().describe('The new folder, inside an allowed repository'),
    },
    output: {
      path: z.string().describe('Real path of the clone'),
      transport: z.enum(['https', 'ssh', 'file']),
      branch: z.string().nullable().describe('The branch checked out, null when the source had none'),
      head: z.string().nullable(),
    },
    idempotent: true,
    async run(context, args) {
      const destination = await newFolder(context, 'destination', args.destination);
      const parent = dirname(destination);
      const transport = await transportOf(context, 'url', args.url, parent);
      const progress = progressReporter(context);
      await context.git(
        folder(parent),
        [
          'clone',
          '--progress',
          '--no-recurse-submodules',
          '--upload-pack=git-upload-pack',
          '--',
          args.url,
          destination,
        ],
        {
          protocols: transport === 'file' ? ['https', 'ssh', 'file'] : ['https', 'ssh'],
          onStderrLine: progress.onStderrLine,
        },
      );
      await progress.flush();
      const clone = folder(destination);
      const branch = await currentBranch(context, clone);
      const head = await headOf(context, clone);
      return {
        structured: { path: destination, transport, branch, head },
        text: `Cloned ${args.url} into ${destination}${branch ? ` (branch ${branch})` : ''}`,
      };
    },
  }),
];
