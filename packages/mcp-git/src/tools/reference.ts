import { BallastError } from '@ballast/core';
import { z } from 'zod';
import { gitFailure } from '../git.js';
import {
  assertSafeName,
  checkBranchName,
  invalidParameter,
  type Repository,
  resolveRevision,
} from '../guard.js';
import { knownCommit, remembered } from '../memo.js';
import { type AnyTool, defineTool, localBranch, type ToolContext, truncationNotice } from '../tool.js';

// The reference server's twelve tools (modelcontextprotocol/servers, mcp-server-git), with its
// names and parameters, typed results, and every argument checked before git sees it.

const repoPath = z.string().describe('Path of the repository (one of list_repositories)');
const contextLines = z
  .number()
  .int()
  .min(0)
  .max(1000)
  .default(3)
  .describe('Lines of context around each change');
const FIELD = '\u001f';
const RECORD = '\u001e';

const fileChange = z.object({
  path: z.string(),
  additions: z.number().nullable(),
  deletions: z.number().nullable(),
});
const diffOutput = {
  diff: z.string().describe('The unified diff'),
  files: z.array(fileChange).describe('Changed files with added and deleted lines (null for binary files)'),
  truncated: z.boolean(),
};

/** A diff and its per-file counts, with external diff drivers and textconv off. */
async function diffOf(context: ToolContext, repository: Repository, args: readonly string[], lines: number) {
  const common = ['--no-ext-diff', '--no-textconv', '--no-color', ...args];
  const [patch, stats] = await Promise.all([
    context.git(repository, ['diff', `-U${lines}`, ...common]),
    context.git(repository, ['diff', '--numstat', '-z', ...common]),
  ]);
  const files: Array<z.infer<typeof fileChange>> = [];
  const parts = stats.stdout.split('\0');
  for (let index = 0; index < parts.length; index += 1) {
    const line = parts[index] as string;
    if (line === '') continue;
    const [added = '', deleted = '', path = ''] = line.split('\t');
    // A rename: "a\td\t" then the old and new paths as the next two fields.
    let name = path;
    if (path === '') {
      index += 2;
      name = parts[index] ?? '';
    }
    files.push({
      path: name,
      additions: added === '-' ? null : Number(added),
      deletions: deleted === '-' ? null : Number(deleted),
    });
  }
  return {
    structured: { diff: patch.stdout, files, truncated: patch.truncated },
    text: (patch.stdout === '' ? 'No changes.' : patch.stdout) + truncationNotice(patch),
  };
}

const commitShape = z.object({
  hash: z.string(),
  author: z.string(),
  email: z.string(),
  date: z.string().describe('Author date, ISO 8601'),
  subject: z.string(),
  body: z.string(),
});

/** Commits from `git log` with a parseable format. */
export async function logOf(
  context: ToolContext,
  repository: Repository,
  args: readonly string[],
): Promise<{ commits: Array<z.infer<typeof commitShape>>; truncated: boolean }> {
  const result = await context.git(repository, [
    'log',
    `--format=%H${FIELD}%an${FIELD}%ae${FIELD}%aI${FIELD}%s${FIELD}%b${RECORD}`,
    '--no-color',
    ...args,
  ]);
  const commits = result.stdout
    .split(RECORD)
    .map((record) => record.replace(/^\n/, ''))
    .filter((record) => record !== '')
    .map((record) => {
      const [hash = '', author = '', email = '', date = '', subject = '', body = ''] = record.split(FIELD);
      return { hash, author, email, date, subject, body: body.trim() };
    })
    .filter((commit) => /^[0-9a-f]{40,64}$/.test(commit.hash));
  return { commits, truncated: result.truncated };
}

function renderCommits(commits: ReadonlyArray<z.infer<typeof commitShape>>): string {
  if (commits.length === 0) return 'No commits.';
  return commits
    .map(
      (commit) =>
        `Commit: ${commit.hash}\nAuthor: ${commit.author} <${commit.email}>\nDate: ${commit.date}\nMessage: ${commit.subject}${commit.body ? `\n\n${commit.body}` : ''}\n`,
    )
    .join('\n');
}

/** A timestamp parameter as git understands it: ISO 8601, or a relative "2 weeks ago". */
function timestamp(parameter: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[\w\s:.,+\-/]{1,64}$/.test(value) || value.startsWith('-')) {
    throw invalidParameter(
      parameter,
      'a date such as 2024-01-31, 2024-01-31T12:00:00Z or "2 weeks ago"',
      value,
    );
  }
  return value;
}

const statusEntry = z.object({
  path: z.string(),
  status: z.string().describe('Two-letter XY code as in git status --short'),
});

/** One `git status`, parsed. */
async function statusOf(context: ToolContext, repository: Repository) {
  const result = await context.git(repository, [
    'status',
    '--porcelain=v2',
    '--branch',
    '-z',
    '--untracked-files=all',
  ]);
  let branch: string | null = null;
  let head: string | null = null;
  let upstream: string | null = null;
  let ahead = 0;
  let behind = 0;
  const staged: Array<z.infer<typeof statusEntry>> = [];
  const unstaged: Array<z.infer<typeof statusEntry>> = [];
  const untracked: string[] = [];
  const conflicted: string[] = [];
  const fields = result.stdout.split('\0');
  for (let index = 0; index < fields.length; index += 1) {
    const entry = fields[index] as string;
    if (entry.startsWith('# branch.head ')) {
      const name = entry.slice(14);
      branch = name === '(detached)' ? null : name;
    } else if (entry.startsWith('# branch.oid ')) {
      const oid = entry.slice(13);
      head = oid === '(initial)' ? null : oid;
    } else if (entry.startsWith('# branch.upstream ')) upstream = entry.slice(18);
    else if (entry.startsWith('# branch.ab ')) {
      const match = /\+(\d+) -(\d+)/.exec(entry);
      ahead = Number(match?.[1] ?? 0);
      behind = Number(match?.[2] ?? 0);
    } else if (entry.startsWith('1 ') || entry.startsWith('2 ')) {
      const parts = entry.split(' ');
      const xy = parts[1] ?? '..';
      const path = entry.startsWith('1 ') ? parts.slice(8).join(' ') : parts.slice(9).join(' ');
      if (entry.startsWith('2 ')) index += 1; // the original path of a rename follows
      if (xy[0] !== '.') staged.push({ path, status: xy.replace(/\./g, ' ') });
      if (xy[1] !== '.') unstaged.push({ path, status: xy.replace(/\./g, ' ') });
    } else if (entry.startsWith('u ')) conflicted.push(entry.split(' ').slice(10).join(' '));
    else if (entry.startsWith('? ')) untracked.push(entry.slice(2));
  }
  const clean = staged.length + unstaged.length + untracked.length + conflicted.length === 0;
  const lines = [
    `On branch ${branch ?? '(detached HEAD)'}${upstream ? ` tracking ${upstream} (ahead ${ahead}, behind ${behind})` : ''}`,
    ...(staged.length
      ? ['Changes to be committed:', ...staged.map((item) => `  ${item.status} ${item.path}`)]
      : []),
    ...(unstaged.length
      ? ['Changes not staged for commit:', ...unstaged.map((item) => `  ${item.status} ${item.path}`)]
      : []),
    ...(untracked.length ? ['Untracked files:', ...untracked.map((path) => `  ${path}`)] : []),
    ...(conflicted.length ? ['Unmerged paths:', ...conflicted.map((path) => `  ${path}`)] : []),
    ...(clean ? ['nothing to commit, working tree clean'] : []),
  ];
  return {
    structured: { branch, head, upstream, ahead, behind, staged, unstaged, untracked, conflicted, clean },
    text: `Repository status:\n${lines.join('\n')}`,
  };
}

export const referenceTools: AnyTool[] = [
  defineTool({
    name: 'list_repositories',
    title: 'List repositories',
    description: 'The repositories this server may work on (narrowed by the client roots).',
    tier: 'read',
    input: {},
    output: { repositories: z.array(z.string()) },
    idempotent: true,
    async run(context) {
      const repositories = context.guard.list();
      return { structured: { repositories }, text: repositories.join('\n') };
    },
  }),
  defineTool({
    name: 'git_status',
    title: 'Working tree status',
    description:
      'Shows the working tree status: branch, upstream, staged, unstaged, untracked and conflicted files.',
    tier: 'read',
    input: { repo_path: repoPath },
    output: {
      branch: z.string().nullable().describe('Current branch, null when detached'),
      head: z.string().nullable().describe('HEAD commit, null before the first commit'),
      upstream: z.string().nullable(),
      ahead: z.number(),
      behind: z.number(),
      staged: z.array(statusEntry),
      unstaged: z.array(statusEntry),
      untracked: z.array(z.string()),
      conflicted: z.array(z.string()),
      clean: z.boolean(),
    },
    idempotent: true,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      // While the watched work tree has not changed, the last answer still holds (see watch.ts).
      const watcher = context.memo?.watchers.for(repository);
      const compute = () => statusOf(context, repository);
      return watcher ? watcher.answer(String(context.maxBytes), compute) : compute();
    },
  }),
  defineTool({
    name: 'git_diff_unstaged',
    title: 'Diff of unstaged changes',
    description: 'Shows changes in the working directory that are not yet staged.',
    tier: 'read',
    input: { repo_path: repoPath, context_lines: contextLines },
    output: diffOutput,
    idempotent: true,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      return diffOf(context, repository, [], args.context_lines);
    },
  }),
  defineTool({
    name: 'git_diff_staged',
    title: 'Diff of staged changes',
    description: 'Shows changes that are staged for commit.',
    tier: 'read',
    input: { repo_path: repoPath, context_lines: contextLines },
    output: diffOutput,
    idempotent: true,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      return diffOf(context, repository, ['--cached'], args.context_lines);
    },
  }),
  defineTool({
    name: 'git_diff',
    title: 'Diff against a revision',
    description: 'Shows differences between the working tree and a branch or commit.',
    tier: 'read',
    input: {
      repo_path: repoPath,
      target: z.string().describe('Branch, tag or commit to compare with'),
      context_lines: contextLines,
    },
    output: diffOutput,
    idempotent: true,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      const target = await resolveRevision(repository, 'target', args.target);
      return diffOf(context, repository, [target, '--'], args.context_lines);
    },
  }),
  defineTool({
    name: 'git_commit',
    title: 'Commit',
    description:
      'Records the staged changes as a new commit. Hooks do not run unless the server allows them.',
    tier: 'write',
    input: { repo_path: repoPath, message: z.string().min(1).describe('Commit message') },
    output: { hash: z.string(), branch: z.string().nullable(), summary: z.string() },
    idempotent: false,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      const staged = await context.gitRaw(repository, ['diff', '--cached', '--quiet']);
      if (staged.exitCode === 0) {
        throw new BallastError(
          'MCP_GIT_NOTHING_TO_COMMIT',
          'nothing is staged: add files with git_add first',
        );
      }
      // The message goes through stdin: no argument of it can ever be read as an option.
      const result = await context.git(repository, ['commit', '--no-edit', '--file=-'], {
        input: args.message,
      });
      const hash = (await context.git(repository, ['rev-parse', 'HEAD'])).stdout.trim();
      const branch =
        (await context.gitRaw(repository, ['symbolic-ref', '--quiet', '--short', 'HEAD'])).stdout.trim() ||
        null;
      const summary = result.stdout.trim().split('\n')[0] ?? '';
      return {
        structured: { hash, branch, summary },
        text: `Changes committed successfully with hash ${hash}`,
      };
    },
  }),
  defineTool({
    name: 'git_add',
    title: 'Stage files',
    description:
      'Adds file contents to the staging area. Files that look like secrets (.env, private keys, credentials) are refused unless confirm_secrets is true.',
    tier: 'write',
    input: {
      repo_path: repoPath,
      files: z
        .array(z.string())
        .min(1)
        .describe('Paths to stage, relative to the repository ("." for everything)'),
      confirm_secrets: z.boolean().default(false).describe('Stage files that look like secrets anyway'),
    },
    output: { staged: z.array(z.string()), secrets: z.array(z.string()) },
    idempotent: true,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      const paths: string[] = [];
      for (const [index, file] of args.files.entries())
        paths.push(await context.guard.path(repository, `files[${index}]`, file));
      // What would be staged, before staging anything: a refused batch changes nothing.
      const candidates = await context.git(repository, ['add', '--dry-run', '--', ...paths]);
      const wouldStage = candidates.stdout
        .split('\n')
        .map((line) => line.replace(/^add '(.*)'$/, '$1'))
        .filter((line) => line !== '');
      const secrets = wouldStage.filter(looksSecret);
      if (secrets.length > 0 && !args.confirm_secrets) {
        throw new BallastError(
          'MCP_GIT_SECRET_REFUSED',
          `refusing to stage files that look like secrets: ${secrets.join(', ')}; nothing was staged (pass confirm_secrets: true if they are not)`,
        );
      }
      await context.git(repository, ['add', '--', ...paths]);
      return {
        structured: { staged: wouldStage, secrets },
        text: `Files staged successfully: ${wouldStage.join(', ') || '(no changes)'}`,
      };
    },
  }),
  defineTool({
    name: 'git_reset',
    title: 'Unstage everything',
    description: 'Unstages all staged changes (the working tree is left as it is).',
    tier: 'write',
    input: { repo_path: repoPath },
    output: { unstaged: z.boolean() },
    idempotent: true,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      await context.git(repository, ['reset', '--quiet']);
      return { structured: { unstaged: true }, text: 'All staged changes reset' };
    },
  }),
  defineTool({
    name: 'git_log',
    title: 'Commit log',
    description:
      'Shows the commit log, newest first, optionally between two dates, by author, by message text or for a path, with paging (skip).',
    tier: 'read',
    input: {
      repo_path: repoPath,
      max_count: z.number().int().min(1).max(1000).default(10),
      start_timestamp: z
        .string()
        .optional()
        .describe('Only commits after this date (ISO 8601 or relative, e.g. "2 weeks ago")'),
      end_timestamp: z.string().optional().describe('Only commits before this date'),
      author: z.string().optional(),
      grep: z.string().optional().describe('Only commits whose message contains this text'),
      path: z.string().optional().describe('Only commits touching this path'),
      revision: z.string().optional().describe('Start from this revision instead of HEAD'),
      skip: z.number().int().min(0).default(0).describe('Skip this many commits (paging)'),
    },
    output: { commits: z.array(commitShape), truncated: z.boolean(), next_skip: z.number().nullable() },
    idempotent: true,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      const options = [`--max-count=${args.max_count + 1}`, `--skip=${args.skip}`];
      const since = timestamp('start_timestamp', args.start_timestamp);
      const until = timestamp('end_timestamp', args.end_timestamp);
      if (since) options.push(`--since=${since}`);
      if (until) options.push(`--until=${until}`);
      if (args.author !== undefined)
        options.push(`--author=${assertSafeName('author', args.author)}`, '--fixed-strings');
      if (args.grep !== undefined)
        options.push(`--grep=${assertSafeName('grep', args.grep)}`, '--fixed-strings');
      // One git process: a given revision is checked (it cannot be read as an option) and log
      // resolves it after --end-of-options; HEAD of an empty repository is no commits, not an error.
      const named = args.revision === undefined ? 'HEAD' : assertSafeName('revision', args.revision);
      const pathArgs =
        args.path === undefined ? [] : ['--', await context.guard.path(repository, 'path', args.path)];
      // A log from a known commit never changes (dates relative to now aside): keep the answer.
      const commit = knownCommit(repository, args.revision);
      const start = commit ?? named;
      const parts = commit === undefined || since || until ? undefined : ['git_log', commit, args];
      return remembered(context, repository, parts, async () => {
        let listed: Awaited<ReturnType<typeof logOf>>;
        try {
          listed = await logOf(context, repository, [...options, '--end-of-options', start, ...pathArgs]);
        } catch (error) {
          if (args.revision === undefined) {
            const head = await context.gitRaw(repository, ['rev-parse', '--verify', '--quiet', 'HEAD']);
            if (head.exitCode !== 0) {
              return {
                structured: { commits: [], truncated: false, next_skip: null },
                text: 'No commits yet.',
              };
            }
          } else if (/unknown revision|bad revision|ambiguous argument/i.test((error as Error).message)) {
            throw invalidParameter(
              'revision',
              `a revision of this repository (${named} names none)`,
              args.revision,
            );
          }
          throw error;
        }
        const { commits, truncated } = listed;
        const more = commits.length > args.max_count;
        const page = commits.slice(0, args.max_count);
        return {
          structured: { commits: page, truncated, next_skip: more ? args.skip + args.max_count : null },
          text:
            renderCommits(page) +
            (more ? `\n(more: call again with skip ${args.skip + args.max_count})` : ''),
        };
      });
    },
  }),
  defineTool({
    name: 'git_create_branch',
    title: 'Create a branch',
    description: 'Creates a new branch from the current HEAD or from base_branch.',
    tier: 'write',
    input: { repo_path: repoPath, branch_name: z.string(), base_branch: z.string().optional() },
    output: { branch: z.string(), base: z.string() },
    idempotent: false,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      const name = await checkBranchName(repository, 'branch_name', args.branch_name);
      const base = await resolveRevision(repository, 'base_branch', args.base_branch ?? 'HEAD');
      const exists = await localBranch(context, repository, name);
      if (exists.exitCode === 0)
        throw invalidParameter('branch_name', 'a branch that does not exist yet', name);
      await context.git(repository, ['branch', '--no-track', '--end-of-options', name, base]);
      return {
        structured: { branch: name, base },
        text: `Created branch '${name}' from '${args.base_branch ?? 'HEAD'}'`,
      };
    },
  }),
  defineTool({
    name: 'git_checkout',
    title: 'Switch branch',
    description:
      'Switches to an existing local branch. Uncommitted changes that would be overwritten make it fail, not vanish.',
    tier: 'write',
    input: { repo_path: repoPath, branch_name: z.string() },
    output: { branch: z.string(), head: z.string() },
    idempotent: true,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      const name = await checkBranchName(repository, 'branch_name', args.branch_name);
      const exists = await localBranch(context, repository, name);
      if (exists.exitCode !== 0)
        throw invalidParameter(
          'branch_name',
          'an existing local branch (create it with git_create_branch)',
          name,
        );
      await context.git(repository, ['switch', '--no-guess', '--quiet', name]);
      return {
        structured: { branch: name, head: exists.stdout.trim() },
        text: `Switched to branch '${name}'`,
      };
    },
  }),
  defineTool({
    name: 'git_show',
    title: 'Show a commit',
    description: 'Shows the contents of a commit: its metadata and diff.',
    tier: 'read',
    input: { repo_path: repoPath, revision: z.string() },
    output: { commit: commitShape, diff: z.string(), truncated: z.boolean() },
    idempotent: true,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      // One git process: the commit's fields and its diff from a single show.
      const name = assertSafeName('revision', args.revision);
      // A commit never changes: what show said about a known one is kept.
      const commitId = knownCommit(repository, name);
      return remembered(
        context,
        repository,
        commitId === undefined ? undefined : ['git_show', commitId, name],
        async () => {
          const result = await context.gitRaw(repository, [
            'show',
            `--format=%H${FIELD}%an${FIELD}%ae${FIELD}%aI${FIELD}%s${FIELD}%b${RECORD}`,
            '--no-ext-diff',
            '--no-textconv',
            '--no-color',
            '--end-of-options',
            `${commitId ?? name}^{commit}`,
            '--',
          ]);
          if (result.exitCode !== 0) {
            if (
              /unknown revision|bad revision|ambiguous argument|not a valid|invalid object/i.test(
                result.stderr,
              )
            ) {
              throw invalidParameter(
                'revision',
                `a revision of this repository (${name} names no commit)`,
                args.revision,
              );
            }
            throw gitFailure('show', result);
          }
          const cut = result.stdout.indexOf(RECORD);
          const [hash = '', author = '', email = '', date = '', subject = '', body = ''] = result.stdout
            .slice(0, cut)
            .split(FIELD);
          const commit = { hash, author, email, date, subject, body: body.trim() };
          const diff = { ...result, stdout: result.stdout.slice(cut + 1).replace(/^\n/, '') };
          return {
            structured: { commit, diff: diff.stdout, truncated: diff.truncated },
            text: `${renderCommits([commit])}\n${diff.stdout}${truncationNotice(diff)}`,
          };
        },
      );
    },
  }),
  defineTool({
    name: 'git_branch',
    title: 'List branches',
    description:
      'Lists local, remote or all branches, optionally only those containing (or not containing) a commit.',
    tier: 'read',
    input: {
      repo_path: repoPath,
      branch_type: z.enum(['local', 'remote', 'all']).default('local'),
      contains: z.string().optional(),
      not_contains: z.string().optional(),
    },
    output: {
      branches: z.array(
        z.object({
          name: z.string(),
          head: z.string(),
          current: z.boolean(),
          upstream: z.string().nullable(),
        }),
      ),
    },
    idempotent: true,
    async run(context, args) {
      const repository = await context.guard.open(args.repo_path);
      const options = [
        'branch',
        '--list',
        `--format=%(HEAD)${FIELD}%(refname:short)${FIELD}%(objectname)${FIELD}%(upstream:short)`,
      ];
      if (args.branch_type === 'remote') options.push('--remotes');
      if (args.branch_type === 'all') options.push('--all');
      if (args.contains !== undefined)
        options.push(`--contains=${await resolveRevision(repository, 'contains', args.contains)}`);
      if (args.not_contains !== undefined)
        options.push(`--no-contains=${await resolveRevision(repository, 'not_contains', args.not_contains)}`);
      const result = await context.git(repository, options);
      const branches = result.stdout
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => {
          const [mark = '', name = '', head = '', upstream = ''] = line.split(FIELD);
          return { name, head, current: mark === '*', upstream: upstream || null };
        });
      return {
        structured: { branches },
        text:
          branches.map((branch) => `${branch.current ? '* ' : '  '}${branch.name}`).join('\n') ||
          'No branches.',
      };
    },
  }),
];

const SECRET_NAMES =
  /(^|\/)(\.env(\..*)?|id_(rsa|dsa|ecdsa|ed25519)|.*\.(pem|key|p12|pfx|keystore|jks)|\.npmrc|\.pypirc|\.netrc|credentials(\.json)?|secrets?\.(json|ya?ml|toml))$/i;

/** Whether a path's name looks like it holds a secret. */
export function looksSecret(path: string): boolean {
  return SECRET_NAMES.test(path) && !/\.(example|sample|template)$/i.test(path);
}
