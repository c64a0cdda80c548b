import { realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { BallastError } from '@ballast/core';
import { git } from './git.js';

/** A repository a tool may touch, with the real paths of everything git will read or write. */
export interface Repository {
  /** The real path of the work tree (the git dir for a bare repository). */
  root: string;
  /** The real path of the git dir (`.git`, or where a `.git` file points). */
  gitDir: string;
  /** The real path of the common dir (shared by worktrees). */
  commonDir: string;
  bare: boolean;
  /**
   * `key=` entries that blank the program-running drivers the repository's config defines
   * (filters, diff textconv and commands, merge drivers): passed as `-c` to every git call.
   */
  neutralised: string[];
}

/** An input error: a tool answers it with a message naming the parameter. */
export function invalidParameter(parameter: string, expected: string, got?: unknown): BallastError {
  const shown = got === undefined ? '' : `, got ${JSON.stringify(got)}`;
  return new BallastError('MCP_GIT_INVALID_PARAMETER', `${parameter}: expected ${expected}${shown}`, {
    details: { parameter },
  });
}

/**
 * Whether `child` is `parent` or inside it, at a separator boundary: `/repo` admits `/repo/a`
 * but not `/repo-evil`.
 */
export function isWithin(parent: string, child: string): boolean {
  if (child === parent) return true;
  const prefix = parent.endsWith(sep) ? parent : `${parent}${sep}`;
  return child.startsWith(prefix);
}

/**
 * Checks a string that git will read as a name or revision: not empty, no leading `-` (it would
 * be read as an option), no control characters.
 * @throws {BallastError} `MCP_GIT_INVALID_PARAMETER` naming the parameter
 */
export function assertSafeName(parameter: string, value: unknown): string {
  if (typeof value !== 'string' || value === '')
    throw invalidParameter(parameter, 'a non-empty string', value);
  if (value.startsWith('-')) throw invalidParameter(parameter, 'a name that does not start with "-"', value);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(value)) throw invalidParameter(parameter, 'no control characters', value);
  return value;
}

/**
 * The allowed repositories and the checks every tool call goes through. Client roots may narrow
 * the allowed set, never widen it.
 */
export class RepositoryGuard {
  readonly #allowed: string[];
  #clientRoots: string[] | undefined;
  readonly #cache = new Map<string, Repository>();
  readonly #stamps = new Map<string, string>();

  private constructor(allowed: string[]) {
    this.#allowed = allowed;
  }

  /**
   * Resolves the configured repository paths to real paths.
   * @param paths `--repo` values
   * @returns the guard
   * @throws {BallastError} `MCP_GIT_INVALID_REPOSITORY` for a path that is not a git repository
   */
  static async create(paths: readonly string[]): Promise<RepositoryGuard> {
    if (paths.length === 0) {
      throw new BallastError(
        'MCP_GIT_INVALID_REPOSITORY',
        'give at least one repository: mcp-git --repo <path>',
      );
    }
    const allowed: string[] = [];
    for (const path of paths) {
      let real: string;
      try {
        real = await realpath(resolve(path));
      } catch {
        throw new BallastError('MCP_GIT_INVALID_REPOSITORY', `--repo ${path}: no such directory`);
      }
      allowed.push(real);
    }
    const guard = new RepositoryGuard(allowed);
    for (const root of allowed) await guard.open(root, 'repo');
    return guard;
  }

  /** The allowed repositories (narrowed by client roots when the client sent some). */
  list(): string[] {
    return this.#allowed.filter((root) => this.#admittedByClient(root));
  }

  /** Narrows to the client's roots (file:// URIs or paths); an empty list means no narrowing. */
  async setClientRoots(roots: readonly string[]): Promise<void> {
    if (roots.length === 0) {
      this.#clientRoots = undefined;
      return;
    }
    const real: string[] = [];
    for (const root of roots) {
      const path = root.startsWith('file://') ? decodeURIComponent(new URL(root).pathname) : root;
      try {
        real.push(await realpath(path));
      } catch {
        // A root that does not exist here admits nothing.
      }
    }
    this.#clientRoots = real;
  }

  #admittedByClient(path: string): boolean {
    if (this.#clientRoots === undefined) return true;
    return this.#clientRoots.some((root) => isWithin(root, path) || isWithin(path, root));
  }

  #allowedRoot(path: string): string | undefined {
    return this.#allowed.find((root) => isWithin(root, path));
  }

  /**
   * The repository at `repo_path`, checked: its real path, git dir and common dir all inside an
   * allowed repository (so a `.git` file or a symlink cannot lead elsewhere).
   * @param path the tool's `repo_path`
   * @param parameter the parameter's name for error messages
   * @returns the repository
   * @throws {BallastError} `MCP_GIT_PATH_OUTSIDE_ROOT` or `MCP_GIT_INVALID_REPOSITORY`
   */
  async open(path: unknown, parameter = 'repo_path'): Promise<Repository> {
    if (typeof path !== 'string' || path === '')
      throw invalidParameter(parameter, 'the path of a repository', path);
    if (!isAbsolute(path) && this.#allowed.length !== 1) {
      throw invalidParameter(parameter, 'an absolute path (several repositories are served)', path);
    }
    const absolute = isAbsolute(path) ? path : resolve(this.#allowed[0] as string, path);
    let real: string;
    try {
      real = await realpath(absolute);
    } catch {
      throw new BallastError('MCP_GIT_INVALID_REPOSITORY', `${parameter}: ${path} does not exist`);
    }
    const root = this.#allowedRoot(real);
    if (!root || !this.#admittedByClient(real)) {
      throw new BallastError(
        'MCP_GIT_PATH_OUTSIDE_ROOT',
        `${parameter}: ${path} is not inside a repository this server was given (${this.list().join(', ') || 'none admitted by the client roots'})`,
      );
    }
    const cached = this.#cache.get(real);
    // Reused while the repository's config file is unchanged: the neutralised drivers come from it.
    if (cached && (await configStamp(cached)) === this.#stamps.get(real)) return cached;
    const notRepository = (): never => {
      throw new BallastError('MCP_GIT_INVALID_REPOSITORY', `${parameter}: ${path} is not a git repository`);
    };
    // --show-toplevel fails in a bare repository: ask whether it is bare first.
    const bareResult = await git({ cwd: real, args: ['rev-parse', '--is-bare-repository'] }).catch(
      notRepository,
    );
    const bare = bareResult.stdout.trim() === 'true';
    const result = await git({
      cwd: real,
      args: ['rev-parse', ...(bare ? [] : ['--show-toplevel']), '--absolute-git-dir', '--git-common-dir'],
    }).catch(notRepository);
    const rest = result.stdout.trim().split('\n');
    const topLevel = bare ? undefined : rest.shift();
    const gitDirLine = rest.shift() ?? '';
    const commonLine = rest.shift() ?? '';
    const gitDir = await realpath(gitDirLine);
    const commonDir = await realpath(isAbsolute(commonLine) ? commonLine : resolve(real, commonLine));
    const top = bare ? gitDir : await realpath(topLevel ?? real);
    for (const [what, where] of [
      ['work tree', top],
      ['git dir', gitDir],
      ['common dir', commonDir],
    ] as const) {
      if (!this.#allowedRoot(where)) {
        throw new BallastError(
          'MCP_GIT_PATH_OUTSIDE_ROOT',
          `${parameter}: the repository's ${what} (${where}) is outside the allowed repositories`,
        );
      }
    }
    // Drivers a hostile .git/config can define run programs on status, diff, add and merge: blank
    // every one it names. Reading config runs nothing.
    const drivers = await git({
      cwd: top,
      args: [
        'config',
        '--includes',
        '--name-only',
        '--get-regexp',
        '^((filter|diff|merge)\\..+\\.(clean|smudge|process|textconv|command|driver)|remote\\..+\\.(uploadpack|receivepack))$',
      ],
    }).catch(() => undefined);
    const neutralised = (drivers?.stdout ?? '')
      .split('\n')
      .filter((key) => key !== '')
      // A remote's upload-pack and receive-pack go back to git's own programs; drivers are blanked.
      .map((key) => {
        if (key.endsWith('.uploadpack')) return `${key}=git-upload-pack`;
        if (key.endsWith('.receivepack')) return `${key}=git-receive-pack`;
        return `${key}=`;
      });
    const required = neutralised
      .filter((key) => key.startsWith('filter.'))
      .map((key) => `${key.slice(0, key.lastIndexOf('.'))}.required=false`);
    neutralised.push(...required);
    const repository: Repository = {
      root: top,
      gitDir,
      commonDir,
      bare,
      neutralised: [...new Set(neutralised)],
    };
    this.#cache.set(real, repository);
    this.#stamps.set(real, await configStamp(repository));
    return repository;
  }

  /**
   * A path inside the repository's work tree, relative to it, checked through symlinks (the real
   * path of its nearest existing ancestor must be inside too).
   * @throws {BallastError} `MCP_GIT_INVALID_PARAMETER` or `MCP_GIT_PATH_OUTSIDE_ROOT`
   */
  async path(repository: Repository, parameter: string, value: unknown): Promise<string> {
    if (typeof value !== 'string' || value === '')
      throw invalidParameter(parameter, 'a path in the repository', value);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
    if (/[\u0000-\u001f]/.test(value)) throw invalidParameter(parameter, 'no control characters', value);
    const absolute = resolve(repository.root, value);
    if (!isWithin(repository.root, absolute)) {
      throw new BallastError('MCP_GIT_PATH_OUTSIDE_ROOT', `${parameter}: ${value} is outside the repository`);
    }
    let probe = absolute;
    for (;;) {
      try {
        await stat(probe);
        break;
      } catch {
        const parent = dirname(probe);
        if (parent === probe) break;
        probe = parent;
      }
    }
    const real = await realpath(probe).catch(() => probe);
    if (!isWithin(repository.root, real)) {
      throw new BallastError(
        'MCP_GIT_PATH_OUTSIDE_ROOT',
        `${parameter}: ${value} leads outside the repository (through a symlink)`,
      );
    }
    const inside = relative(repository.root, absolute);
    if (inside === '.git' || inside.startsWith(`.git${sep}`)) {
      throw new BallastError('MCP_GIT_PATH_OUTSIDE_ROOT', `${parameter}: ${value} is inside .git`);
    }
    return inside === '' ? '.' : inside;
  }
}

/** When the repository's config files last changed (a change may define new drivers). */
async function configStamp(repository: Repository): Promise<string> {
  const stamps = await Promise.all(
    [
      join(repository.gitDir, 'config'),
      join(repository.commonDir, 'config'),
      join(repository.gitDir, 'config.worktree'),
    ].map((file) =>
      stat(file).then(
        (info) => `${info.mtimeMs}:${info.size}`,
        () => '-',
      ),
    ),
  );
  return stamps.join('|');
}

/**
 * A revision resolved to an object id with `rev-parse --verify`, so what git runs next is a hash,
 * never a string it could read as an option.
 * @throws {BallastError} `MCP_GIT_INVALID_PARAMETER` when it names nothing
 */
export async function resolveRevision(
  repository: Repository,
  parameter: string,
  value: unknown,
  peel: 'commit' | 'object' = 'commit',
): Promise<string> {
  const name = assertSafeName(parameter, value);
  const result = await git({
    cwd: repository.root,
    args: [
      'rev-parse',
      '--verify',
      '--quiet',
      '--end-of-options',
      peel === 'commit' ? `${name}^{commit}` : name,
    ],
  }).catch(() => undefined);
  const id = result?.stdout.trim();
  if (!id) throw invalidParameter(parameter, `a revision of this repository (${name} names none)`, value);
  return id;
}

/**
 * A branch name checked with `git check-ref-format --branch`.
 * @throws {BallastError} `MCP_GIT_INVALID_PARAMETER`
 */
export async function checkBranchName(
  repository: Repository,
  parameter: string,
  value: unknown,
): Promise<string> {
  const name = assertSafeName(parameter, value);
  const result = await git({ cwd: repository.root, args: ['check-ref-format', '--branch', name] }).catch(
    () => undefined,
  );
  if (!result || result.stdout.trim() !== name) {
    throw invalidParameter(parameter, 'a valid branch name (see git check-ref-format)', value);
  }
  return name;
}
