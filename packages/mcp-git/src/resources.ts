import { basename } from 'node:path';
import { BallastError } from '@ballast/core';
import { completable } from '@modelcontextprotocol/sdk/server/completable.js';
import { type McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { type GitResult, git } from './git.js';
import { assertSafeName, type Repository, type RepositoryGuard, resolveRevision } from './guard.js';

/** Limits the resources and prompts share with the tools. */
export interface ResourceLimits {
  maxBytes: number;
  timeoutMs: number;
}

/** Short, unique names for the allowed repositories (their folder names, numbered on a clash). */
function repositoryNames(guard: RepositoryGuard): Map<string, string> {
  const names = new Map<string, string>();
  for (const root of guard.list()) {
    let name = basename(root);
    for (let index = 2; names.has(name); index += 1) name = `${basename(root)}-${index}`;
    names.set(name, root);
  }
  return names;
}

const refsOf = async (repository: Repository, limits: ResourceLimits): Promise<string[]> => {
  const result = await git({
    cwd: repository.root,
    args: ['for-each-ref', '--format=%(refname:short)', 'refs/heads', 'refs/tags'],
    config: repository.neutralised,
    timeoutMs: limits.timeoutMs,
  });
  return ['HEAD', ...result.stdout.split('\n').filter((line) => line !== '')];
};

/**
 * Registers the `git://{repo}/{ref}/{+path}` resource template (a file at a revision, with
 * completion of repository, ref and path) and three prompts: a commit message from the staged
 * diff, a review of a diff, a changelog between two refs.
 * @param server the MCP server
 * @param guard the repository guard of that server
 * @param limits byte cap and timeout of each git call
 */
export function registerResourcesAndPrompts(
  server: McpServer,
  guard: RepositoryGuard,
  limits: ResourceLimits,
): void {
  const run = (repository: Repository, args: readonly string[]): Promise<GitResult> =>
    git({
      cwd: repository.root,
      args,
      config: repository.neutralised,
      maxBytes: limits.maxBytes,
      timeoutMs: limits.timeoutMs,
    });
  const openByName = async (name: unknown): Promise<Repository> => {
    const root = typeof name === 'string' ? repositoryNames(guard).get(name) : undefined;
    if (!root)
      throw new BallastError(
        'MCP_GIT_INVALID_REPOSITORY',
        `no repository named ${JSON.stringify(name)}: see list_repositories`,
      );
    return guard.open(root);
  };
  const safeRepository = async (name: string | undefined): Promise<Repository | undefined> =>
    name === undefined ? undefined : openByName(name).catch(() => undefined);

  server.registerResource(
    'file-at-ref',
    new ResourceTemplate('git://{repo}/{ref}/{+path}', {
      list: undefined,
      complete: {
        repo: (value) => [...repositoryNames(guard).keys()].filter((name) => name.startsWith(value)),
        ref: async (value, context) => {
          const repository = await safeRepository(context?.arguments?.repo);
          if (!repository) return [];
          return (await refsOf(repository, limits)).filter((ref) => ref.startsWith(value)).slice(0, 100);
        },
        path: async (value, context) => {
          const repository = await safeRepository(context?.arguments?.repo);
          const ref = context?.arguments?.ref ?? 'HEAD';
          if (!repository) return [];
          const id = await resolveRevision(repository, 'ref', ref).catch(() => undefined);
          if (!id) return [];
          const listing = await run(repository, ['ls-tree', '-r', '--name-only', '-z', id]);
          return listing.stdout
            .split('\0')
            .filter((path) => path !== '' && path.startsWith(value))
            .slice(0, 100);
        },
      },
    }),
    {
      title: 'File at a revision',
      description: 'The content of a file at a branch, tag or commit: git://<repository>/<ref>/<path>',
    },
    async (uri, variables) => {
      const repository = await openByName(variables.repo);
      const ref = Array.isArray(variables.ref) ? variables.ref.join('/') : variables.ref;
      const path = Array.isArray(variables.path) ? variables.path.join('/') : variables.path;
      const id = await resolveRevision(repository, 'ref', ref);
      const inside = await guard.path(repository, 'path', decodeURIComponent(path ?? ''));
      const blob = await run(repository, ['cat-file', 'blob', `${id}:${inside}`]).catch(() => {
        throw new BallastError('MCP_GIT_NOT_FOUND', `${inside} does not exist at ${ref}`);
      });
      return {
        contents: [
          {
            uri: uri.href,
            mimeType: 'text/plain',
            text: blob.truncated
              ? `${blob.stdout}\n[truncated at ${limits.maxBytes} bytes of ${blob.totalBytes}]`
              : blob.stdout,
          },
        ],
      };
    },
  );

  const repoArgument = completable(z.string().describe('Path of the repository'), (value) =>
    guard.list().filter((root) => root.startsWith(value)),
  );
  const refArgument = (description: string) =>
    completable(z.string().describe(description), async (value, context) => {
      const root = context?.arguments?.repo_path;
      const repository = root ? await guard.open(root).catch(() => undefined) : undefined;
      if (!repository) return [];
      return (await refsOf(repository, limits)).filter((ref) => ref.startsWith(value)).slice(0, 100);
    });
  const diffText = (result: GitResult): string =>
    result.truncated ? `${result.stdout}\n[diff truncated at ${limits.maxBytes} bytes]` : result.stdout;

  server.registerPrompt(
    'commit_message',
    {
      title: 'Commit message from the staged diff',
      description: 'Asks for a commit message (a short summary line, then the why) for what is staged.',
      argsSchema: { repo_path: repoArgument },
    },
    async (args) => {
      const repository = await guard.open(args.repo_path);
      const diff = await run(repository, [
        'diff',
        '--cached',
        '--no-ext-diff',
        '--no-textconv',
        '--no-color',
      ]);
      if (diff.stdout.trim() === '') throw new BallastError('MCP_GIT_NOTHING_TO_COMMIT', 'nothing is staged');
      return {
        messages: [
          {
            role: 'user',
            content: {
              type: 'text',
              text: `Write a commit message for the staged changes below: a summary line of at most 72 characters in the imperative mood, a blank line, then why the change was made. Do not describe what the diff already shows line by line.\n\n${diffText(diff)}`,
            },
          },
        ],
      };
    },
  );

  server.registerPrompt(
    'review_diff',
    {
      title: 'Review a diff',
      description: 'Asks for a code review of the working tree against a revision (HEAD by default).',
      argsSchema: {
        repo_path: repoArgument,
        target: refArgument('Revision to compare the working tree with').optional(),
      },
    },
    async (args) => {
      const repository = await guard.open(args.repo_path);
      const target = await resolveRevision(repository, 'target', args.target ?? 'HEAD');
      const diff = await run(repository, [
        'diff',
        '--no-ext-diff',
        '--no-textconv',
        '--no-color',
        target,
        '--',
      ]);
      return {
        messages: [
          {
            role: 'user',
            content: {
              type: 'text',
              text: `Review this change as a careful senior engineer: correctness first, then security, then tests and readability. Quote the lines you comment on.\n\n${diffText(diff) || '(no changes)'}`,
            },
          },
        ],
      };
    },
  );

  server.registerPrompt(
    'changelog',
    {
      title: 'Changelog between two refs',
      description: 'Asks for a user-facing changelog of the commits between two refs.',
      argsSchema: {
        repo_path: repoArgument,
        from: refArgument('The older ref (excluded)'),
        to: refArgument('The newer ref (included)').optional(),
      },
    },
    async (args) => {
      const repository = await guard.open(args.repo_path);
      const from = await resolveRevision(repository, 'from', assertSafeName('from', args.from));
      const to = await resolveRevision(repository, 'to', args.to ?? 'HEAD');
      const log = await run(repository, [
        'log',
        '--no-color',
        '--format=- %s (%h, %an)%n%w(0,2,2)%b',
        `${from}..${to}`,
      ]);
      return {
        messages: [
          {
            role: 'user',
            content: {
              type: 'text',
              text: `Write a changelog for users from these commits (${args.from}..${args.to ?? 'HEAD'}): group them under Added, Changed, Fixed and Removed, leave out internal chores, one line each.\n\n${log.stdout || '(no commits)'}`,
            },
          },
        ],
      };
    },
  );
}
