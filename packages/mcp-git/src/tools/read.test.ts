import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, readlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, makeRepository, sh, tempDir, textOf, write } from '../test-support.js';
import { readTools } from './read.js';

type Connection = Awaited<ReturnType<typeof connect>>;

const NOTES = `${Array.from({ length: 40 }, (_, index) => `note ${index + 1}`).join('\n')}\n`;
const LOGO = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x00, 0x01, 0x02, 0xff, 0xfe]);
const DATED = '2024-03-01T12:00:00+05:30';

/** Commits the staged changes with a fixed author and date. */
function commitAt(root: string, message: string): void {
  execFileSync('git', ['commit', '--quiet', '-m', message], {
    cwd: root,
    env: {
      ...process.env,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_AUTHOR_NAME: 'Dated Author',
      GIT_AUTHOR_EMAIL: 'dated@example.com',
      GIT_AUTHOR_DATE: DATED,
      GIT_COMMITTER_NAME: 'Test Author',
      GIT_COMMITTER_EMAIL: 'author@example.com',
      GIT_COMMITTER_DATE: DATED,
    },
  });
}

/** Every file, symlink and folder under a directory, with a hash of its content. */
function snapshot(directory: string): Record<string, string> {
  const entries: Record<string, string> = {};
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      const name = relative(directory, path);
      if (entry.isDirectory()) {
        entries[name] = 'folder';
        walk(path);
      } else if (entry.isSymbolicLink()) entries[name] = `symlink ${readlinkSync(path)}`;
      else entries[name] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  walk(directory);
  return entries;
}

function errorText(result: CallToolResult): string {
  expect(result.isError).toBe(true);
  return textOf(result);
}

const folders: Array<{ cleanup(): void }> = [];
let root = '';
let worktreePath = '';
let connection: Connection;
let small: Connection;
const commits = { first: '', second: '', third: '', feature: '', lonely: '' };

beforeAll(async () => {
  const folder = tempDir();
  const outside = tempDir();
  folders.push(folder, outside);
  root = join(folder.path, 'repo');
  mkdirSync(root);
  makeRepository(root);
  write(root, 'README.md', '# Demo\nRun with --verbose\n');
  write(root, 'notes.txt', NOTES);
  writeFileSync(join(root, 'logo.bin'), LOGO);
  sh(root, 'add', 'README.md', 'notes.txt', 'logo.bin');
  commitAt(root, 'Document the flag');
  commits.first = sh(root, 'rev-parse', 'HEAD~2').trim();
  commits.second = sh(root, 'rev-parse', 'HEAD~1').trim();
  commits.third = sh(root, 'rev-parse', 'HEAD').trim();
  commits.feature = sh(
    root,
    'commit-tree',
    `${commits.second}^{tree}`,
    '-p',
    commits.second,
    '-m',
    'Feature work',
  ).trim();
  sh(root, 'branch', '--force', 'feature', commits.feature);
  commits.lonely = sh(root, 'commit-tree', `${commits.first}^{tree}`, '-m', 'Unrelated root').trim();
  sh(root, 'branch', 'lonely', commits.lonely);
  sh(root, 'tag', 'v1', commits.second);
  sh(root, 'tag', '--annotate', 'v2', '--message', 'Release two');
  write(root, 'README.md', '# Demo\nwork in progress\n');
  sh(root, 'stash', 'push', '--quiet', '--message', 'wip readme');
  sh(root, 'remote', 'add', 'origin', 'https://alice:s3cret@example.com/team/repo.git');
  sh(root, 'remote', 'set-url', '--push', 'origin', 'https://ghp_token123@example.com/team/repo.git');
  sh(root, 'remote', 'add', 'upstream', 'git@github.com:team/repo.git');
  sh(root, 'remote', 'add', 'mirror', 'https://example.com/repo.git?access_token=abc123&ref=main');
  sh(root, 'remote', 'add', 'vendor', 'ssh://deploy:hunter2@git.example.com/vendor.git');
  worktreePath = join(outside.path, 'wt');
  sh(root, 'worktree', 'add', '--quiet', worktreePath, 'feature');
  sh(root, 'worktree', 'lock', '--reason', 'on a usb stick', worktreePath);
  // A stale stat in the index: a command that refreshed and wrote the index would show up.
  utimesSync(join(root, 'README.md'), new Date(), new Date(Date.now() + 10_000));
  connection = await connect({ repositories: [root] });
  small = await connect({ repositories: [root], maxBytes: 100 });
});

afterAll(async () => {
  await connection?.close();
  await small?.close();
  for (const folder of folders) folder.cleanup();
});

describe('readTools', () => {
  describe('when a client lists the tools', () => {
    it('lists each read tool as read-only, non-destructive, idempotent and closed-world, with an output schema', async () => {
      const { tools } = await connection.client.listTools();
      const names = [
        'git_blame',
        'git_grep',
        'git_show_file',
        'git_tree',
        'git_reflog',
        'git_merge_base',
        'git_rev_parse',
        'git_tags',
        'git_stash_list',
        'git_remotes',
        'git_worktrees',
      ];
      expect(readTools.map((tool) => tool.name)).toEqual(names);
      for (const name of names) {
        const tool = tools.find((candidate) => candidate.name === name);
        expect(tool?.annotations).toMatchObject({
          readOnlyHint: true,
          destructiveHint: false,
          idempotentHint: true,
          openWorldHint: false,
        });
        expect(tool?.outputSchema?.type).toBe('object');
        expect(tool?.description).not.toBe('');
      }
    });
  });

  describe('when each read tool runs', () => {
    const calls: Array<[string, Record<string, unknown>]> = [
      ['git_blame', { path: 'README.md' }],
      ['git_grep', { pattern: 'Demo' }],
      ['git_grep', { pattern: 'Demo', revision: 'v1' }],
      ['git_show_file', { path: 'README.md' }],
      ['git_tree', { recursive: true }],
      ['git_reflog', {}],
      ['git_merge_base', { revisions: ['main', 'feature'] }],
      ['git_rev_parse', { revision: 'v2' }],
      ['git_tags', {}],
      ['git_stash_list', {}],
      ['git_remotes', {}],
      ['git_worktrees', {}],
    ];
    it.each(calls)('leaves .git byte-identical after %s %j', async (name, args) => {
      const before = snapshot(join(root, '.git'));
      const result = await connection.call(name, { repo_path: root, ...args });
      expect(result.isError ?? false).toBe(false);
      expect(snapshot(join(root, '.git'))).toEqual(before);
    });
  });
});

describe('git_blame', () => {
  describe('when a line range is given', () => {
    it('returns each line with the commit, author, date and content', async () => {
      const result = await connection.call('git_blame', {
        repo_path: root,
        path: 'README.md',
        start_line: 1,
        end_line: 2,
      });
      const firstDate = sh(root, 'log', '-1', '--format=%aI', commits.first).trim();
      expect(result.structuredContent).toEqual({
        path: 'README.md',
        revision: 'HEAD',
        truncated: false,
        lines: [
          {
            line: 1,
            hash: commits.first,
            author: 'Test Author',
            email: 'author@example.com',
            date: firstDate,
            summary: 'First commit',
            content: '# Demo',
          },
          {
            line: 2,
            hash: commits.third,
            author: 'Dated Author',
            email: 'dated@example.com',
            date: DATED,
            summary: 'Document the flag',
            content: 'Run with --verbose',
          },
        ],
      });
      expect(textOf(result)).toContain('Run with --verbose');
    });

    it('returns only the lines in the range', async () => {
      const result = await connection.call('git_blame', {
        repo_path: root,
        path: 'notes.txt',
        start_line: 10,
        end_line: 12,
      });
      const lines = (result.structuredContent as { lines: Array<{ line: number; content: string }> }).lines;
      expect(lines.map((line) => [line.line, line.content])).toEqual([
        [10, 'note 10'],
        [11, 'note 11'],
        [12, 'note 12'],
      ]);
    });
  });

  describe('when a revision is given', () => {
    it('blames the file as of that revision, not the uncommitted or later content', async () => {
      const result = await connection.call('git_blame', {
        repo_path: root,
        path: 'README.md',
        revision: 'v1',
      });
      const lines = (result.structuredContent as { lines: Array<{ hash: string; content: string }> }).lines;
      expect(lines).toEqual([expect.objectContaining({ hash: commits.first, content: '# Demo' })]);
    });
  });

  describe('when the input is bad', () => {
    it('names revision when it starts with "-"', async () => {
      const text = errorText(
        await connection.call('git_blame', { repo_path: root, path: 'README.md', revision: '--output=x' }),
      );
      expect(text).toMatch(/^revision: /);
    });

    it('names path when it escapes the repository', async () => {
      const text = errorText(await connection.call('git_blame', { repo_path: root, path: '../outside.txt' }));
      expect(text).toMatch(/^path: .*outside the repository/);
    });

    it('names path when the file does not exist at the revision', async () => {
      const text = errorText(
        await connection.call('git_blame', { repo_path: root, path: 'notes.txt', revision: 'v1' }),
      );
      expect(text).toMatch(/^path: expected a file that exists at v1/);
    });

    it('names start_line when it is past the end of the file', async () => {
      const text = errorText(
        await connection.call('git_blame', { repo_path: root, path: 'README.md', start_line: 9 }),
      );
      expect(text).toBe('start_line: expected a line of the file (it has 2), got 9');
    });

    it('names end_line when it comes before start_line', async () => {
      const text = errorText(
        await connection.call('git_blame', {
          repo_path: root,
          path: 'notes.txt',
          start_line: 5,
          end_line: 2,
        }),
      );
      expect(text).toMatch(/^end_line: /);
    });
  });
});

describe('git_grep', () => {
  describe('when the pattern occurs in tracked files', () => {
    it('returns each match with its path, line number and text', async () => {
      const result = await connection.call('git_grep', { repo_path: root, pattern: 'note 1' });
      const matches = (result.structuredContent as { matches: unknown[] }).matches;
      expect(matches).toEqual([
        { path: 'notes.txt', line: 1, text: 'note 1' },
        ...Array.from({ length: 10 }, (_, index) => ({
          path: 'notes.txt',
          line: 10 + index,
          text: `note ${10 + index}`,
        })),
      ]);
      expect(result.structuredContent).toMatchObject({ truncated: false });
      expect(textOf(result)).toContain('notes.txt:1:note 1');
    });
  });

  describe('when the pattern starts with "-"', () => {
    it('searches for it instead of reading it as an option', async () => {
      const result = await connection.call('git_grep', { repo_path: root, pattern: '--verbose' });
      expect(result.structuredContent).toEqual({
        matches: [{ path: 'README.md', line: 2, text: 'Run with --verbose' }],
        truncated: false,
      });
    });
  });

  describe('when a revision is given', () => {
    it('searches that revision', async () => {
      const old = await connection.call('git_grep', { repo_path: root, pattern: 'Demo', revision: 'v1' });
      expect(old.structuredContent).toEqual({
        matches: [{ path: 'README.md', line: 1, text: '# Demo' }],
        truncated: false,
      });
      const none = await connection.call('git_grep', {
        repo_path: root,
        pattern: '--verbose',
        revision: 'v1',
      });
      expect(none.structuredContent).toEqual({ matches: [], truncated: false });
      expect(textOf(none)).toBe('No matches.');
    });
  });

  describe('when a path is given', () => {
    it('searches only that file or folder', async () => {
      const result = await connection.call('git_grep', { repo_path: root, pattern: 'e', path: 'src' });
      expect(result.structuredContent).toEqual({
        matches: [{ path: 'src/app.ts', line: 1, text: 'export const answer = 42;' }],
        truncated: false,
      });
    });
  });

  describe('when ignore_case or a regular expression is asked for', () => {
    it('matches regardless of case', async () => {
      const result = await connection.call('git_grep', {
        repo_path: root,
        pattern: 'DEMO',
        ignore_case: true,
        path: 'README.md',
      });
      expect(result.structuredContent).toEqual({
        matches: [{ path: 'README.md', line: 1, text: '# Demo' }],
        truncated: false,
      });
    });

    it('reads the pattern as an extended regular expression', async () => {
      const result = await connection.call('git_grep', {
        repo_path: root,
        pattern: '^note [0-9]$',
        fixed_strings: false,
      });
      expect((result.structuredContent as { matches: unknown[] }).matches).toHaveLength(9);
    });
  });

  describe('when there are more matches than max_results', () => {
    it('returns max_results matches and says the list is truncated', async () => {
      const result = await connection.call('git_grep', { repo_path: root, pattern: 'note', max_results: 3 });
      expect(result.structuredContent).toEqual({
        matches: [1, 2, 3].map((line) => ({ path: 'notes.txt', line, text: `note ${line}` })),
        truncated: true,
      });
      expect(textOf(result)).toContain('more than 3 matches');
    });
  });

  describe('when the client asks for progress', () => {
    it('reports progress while searching', async () => {
      const messages: string[] = [];
      await connection.client.callTool(
        { name: 'git_grep', arguments: { repo_path: root, pattern: 'Demo' } },
        undefined,
        {
          onprogress: (progress) => messages.push(progress.message ?? ''),
        },
      );
      expect(messages).toEqual(['searching', '1 matches']);
    });
  });

  describe('when the input is bad', () => {
    it('names pattern when it spans lines', async () => {
      expect(errorText(await connection.call('git_grep', { repo_path: root, pattern: 'a\nb' }))).toMatch(
        /^pattern: /,
      );
    });

    it('names revision when it starts with "-" or names nothing', async () => {
      expect(
        errorText(
          await connection.call('git_grep', { repo_path: root, pattern: 'a', revision: '-O/bin/sh' }),
        ),
      ).toMatch(/^revision: /);
      expect(
        errorText(await connection.call('git_grep', { repo_path: root, pattern: 'a', revision: 'nope' })),
      ).toMatch(/^revision: .*nope names none/);
    });

    it('names path when it escapes the repository', async () => {
      expect(
        errorText(await connection.call('git_grep', { repo_path: root, pattern: 'a', path: '../..' })),
      ).toMatch(/^path: .*outside the repository/);
    });
  });
});

describe('git_show_file', () => {
  describe('when the file is text', () => {
    it('returns its content at HEAD with its size and blob hash', async () => {
      const result = await connection.call('git_show_file', { repo_path: root, path: 'README.md' });
      expect(result.structuredContent).toEqual({
        path: 'README.md',
        revision: commits.third,
        hash: sh(root, 'rev-parse', 'HEAD:README.md').trim(),
        size: 26,
        binary: false,
        content: '# Demo\nRun with --verbose\n',
        truncated: false,
      });
      expect(textOf(result)).toBe('# Demo\nRun with --verbose\n');
    });

    it('returns the content at an older revision', async () => {
      const result = await connection.call('git_show_file', {
        repo_path: root,
        path: 'README.md',
        revision: 'v1',
      });
      expect(result.structuredContent).toMatchObject({
        revision: commits.second,
        content: '# Demo\n',
        size: 7,
      });
    });
  });

  describe('when the file is binary', () => {
    it('returns its size and no content', async () => {
      const result = await connection.call('git_show_file', { repo_path: root, path: 'logo.bin' });
      expect(result.structuredContent).toMatchObject({
        binary: true,
        content: null,
        size: LOGO.length,
        truncated: false,
      });
      expect(textOf(result)).toBe(`logo.bin is a binary file (${LOGO.length} bytes)`);
    });
  });

  describe('when the file is larger than the byte cap', () => {
    it('returns the first maxBytes bytes and says it is truncated', async () => {
      const result = await small.call('git_show_file', { repo_path: root, path: 'notes.txt' });
      expect(result.structuredContent).toMatchObject({
        size: NOTES.length,
        content: NOTES.slice(0, 100),
        truncated: true,
      });
      expect(textOf(result)).toContain(`[output truncated: ${NOTES.length} bytes, the first 100 shown`);
    });
  });

  describe('when the input is bad', () => {
    it('names path when it is a folder, missing, or outside the repository', async () => {
      expect(errorText(await connection.call('git_show_file', { repo_path: root, path: 'src' }))).toMatch(
        /^path: .*not a tree/,
      );
      expect(
        errorText(await connection.call('git_show_file', { repo_path: root, path: 'missing.txt' })),
      ).toMatch(/^path: expected a file that exists at HEAD/);
      expect(
        errorText(
          await connection.call('git_show_file', { repo_path: root, path: '../repo/../../etc/passwd' }),
        ),
      ).toMatch(/^path: .*outside the repository/);
      expect(
        errorText(await connection.call('git_show_file', { repo_path: root, path: '.git/config' })),
      ).toMatch(/^path: .*inside \.git/);
    });

    it('names revision when it names nothing', async () => {
      expect(
        errorText(
          await connection.call('git_show_file', {
            repo_path: root,
            path: 'README.md',
            revision: 'no-such-branch',
          }),
        ),
      ).toMatch(/^revision: /);
    });
  });
});

describe('git_tree', () => {
  describe('when no path is given', () => {
    it('lists the root of HEAD with mode, type, hash and size', async () => {
      const result = await connection.call('git_tree', { repo_path: root });
      const hashOf = (path: string): string => sh(root, 'rev-parse', `HEAD:${path}`).trim();
      expect(result.structuredContent).toEqual({
        revision: commits.third,
        truncated: false,
        entries: [
          { mode: '100644', type: 'blob', hash: hashOf('README.md'), path: 'README.md', size: 26 },
          { mode: '100644', type: 'blob', hash: hashOf('logo.bin'), path: 'logo.bin', size: LOGO.length },
          { mode: '100644', type: 'blob', hash: hashOf('notes.txt'), path: 'notes.txt', size: NOTES.length },
          { mode: '040000', type: 'tree', hash: hashOf('src'), path: 'src', size: null },
        ],
      });
    });
  });

  describe('when a folder or recursion is asked for', () => {
    it('lists the folder with paths from the repository root', async () => {
      const result = await connection.call('git_tree', { repo_path: root, path: 'src' });
      expect(
        (result.structuredContent as { entries: Array<{ path: string }> }).entries.map((entry) => entry.path),
      ).toEqual(['src/app.ts']);
    });

    it('lists every file below the folder', async () => {
      const result = await connection.call('git_tree', { repo_path: root, recursive: true, revision: 'v1' });
      expect(
        (result.structuredContent as { entries: Array<{ path: string }> }).entries.map((entry) => entry.path),
      ).toEqual(['README.md', 'src/app.ts']);
    });
  });

  describe('when the listing is larger than the byte cap', () => {
    it('returns the complete entries only and says it is truncated', async () => {
      const result = await small.call('git_tree', { repo_path: root });
      expect(result.structuredContent).toMatchObject({
        truncated: true,
        entries: [expect.objectContaining({ path: 'README.md' })],
      });
      expect(textOf(result)).toContain('[output truncated');
    });
  });

  describe('when the input is bad', () => {
    it('names path when it is a file or escapes the repository', async () => {
      expect(errorText(await connection.call('git_tree', { repo_path: root, path: 'README.md' }))).toMatch(
        /^path: /,
      );
      expect(errorText(await connection.call('git_tree', { repo_path: root, path: '../' }))).toMatch(
        /^path: .*outside/,
      );
    });

    it('names revision when it starts with "-"', async () => {
      expect(errorText(await connection.call('git_tree', { repo_path: root, revision: '--all' }))).toMatch(
        /^revision: /,
      );
    });
  });
});

describe('git_reflog', () => {
  describe('when a branch is given', () => {
    it('returns where it pointed, newest first, with the action and date', async () => {
      const result = await connection.call('git_reflog', { repo_path: root, ref: 'main' });
      expect(result.structuredContent).toEqual({
        ref: 'refs/heads/main',
        truncated: false,
        entries: [
          {
            selector: 'main@{0}',
            hash: commits.third,
            action: 'commit',
            message: 'Document the flag',
            date: DATED,
          },
          {
            selector: 'main@{1}',
            hash: commits.second,
            action: 'commit',
            message: 'Add the app',
            date: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/),
          },
          {
            selector: 'main@{2}',
            hash: commits.first,
            action: 'commit (initial)',
            message: 'First commit',
            date: expect.stringMatching(/^\d{4}-/),
          },
        ],
      });
    });
  });

  describe('when there are more entries than max_count', () => {
    it('returns the newest and says there are more', async () => {
      const result = await connection.call('git_reflog', { repo_path: root, max_count: 1 });
      expect(result.structuredContent).toMatchObject({
        ref: 'HEAD',
        truncated: true,
        entries: [{ selector: 'HEAD@{0}', hash: commits.third, action: 'reset' }],
      });
    });
  });

  describe('when the input is bad', () => {
    it('names ref when it is a hash, missing or starts with "-"', async () => {
      expect(errorText(await connection.call('git_reflog', { repo_path: root, ref: commits.third }))).toMatch(
        /^ref: /,
      );
      expect(errorText(await connection.call('git_reflog', { repo_path: root, ref: 'nope' }))).toMatch(
        /^ref: /,
      );
      expect(errorText(await connection.call('git_reflog', { repo_path: root, ref: '--all' }))).toMatch(
        /^ref: /,
      );
    });
  });
});

describe('git_merge_base', () => {
  describe('when the revisions share history', () => {
    it('returns their best common ancestor', async () => {
      const result = await connection.call('git_merge_base', {
        repo_path: root,
        revisions: ['main', 'feature'],
      });
      expect(result.structuredContent).toEqual({
        merge_base: commits.second,
        revisions: [commits.third, commits.feature],
      });
    });

    it('returns the common ancestor of all of three revisions', async () => {
      const result = await connection.call('git_merge_base', {
        repo_path: root,
        revisions: ['main', 'feature', commits.first],
      });
      expect(result.structuredContent).toMatchObject({ merge_base: commits.first });
    });
  });

  describe('when the revisions share no history', () => {
    it('returns null', async () => {
      const result = await connection.call('git_merge_base', {
        repo_path: root,
        revisions: ['main', 'lonely'],
      });
      expect(result.structuredContent).toEqual({
        merge_base: null,
        revisions: [commits.third, commits.lonely],
      });
    });
  });

  describe('when the input is bad', () => {
    it('names the revision that names nothing or starts with "-"', async () => {
      expect(
        errorText(await connection.call('git_merge_base', { repo_path: root, revisions: ['main', 'nope'] })),
      ).toMatch(/^revisions\[1\]: /);
      expect(
        errorText(await connection.call('git_merge_base', { repo_path: root, revisions: ['-a', 'main'] })),
      ).toMatch(/^revisions\[0\]: /);
    });

    it('names revisions when there is only one', async () => {
      expect(
        errorText(await connection.call('git_merge_base', { repo_path: root, revisions: ['main'] })),
      ).toContain('revisions');
    });
  });
});

describe('git_rev_parse', () => {
  describe('when the revision names an object', () => {
    it('returns its full hash and type', async () => {
      expect(
        (await connection.call('git_rev_parse', { repo_path: root, revision: 'main' })).structuredContent,
      ).toEqual({
        hash: commits.third,
        type: 'commit',
      });
      expect(
        (await connection.call('git_rev_parse', { repo_path: root, revision: 'v2' })).structuredContent,
      ).toEqual({
        hash: sh(root, 'rev-parse', 'refs/tags/v2').trim(),
        type: 'tag',
      });
      expect(
        (await connection.call('git_rev_parse', { repo_path: root, revision: 'HEAD:README.md' }))
          .structuredContent,
      ).toEqual({
        hash: sh(root, 'rev-parse', 'HEAD:README.md').trim(),
        type: 'blob',
      });
    });
  });

  describe('when the input is bad', () => {
    it('names revision when it names nothing or starts with "-"', async () => {
      expect(
        errorText(await connection.call('git_rev_parse', { repo_path: root, revision: 'nope' })),
      ).toMatch(/^revision: /);
      expect(
        errorText(await connection.call('git_rev_parse', { repo_path: root, revision: '--git-dir' })),
      ).toMatch(/^revision: /);
    });
  });
});

describe('git_tags', () => {
  describe('when there are lightweight and annotated tags', () => {
    it('returns each with its target, kind, subject and date', async () => {
      const result = await connection.call('git_tags', { repo_path: root });
      expect(result.structuredContent).toEqual({
        truncated: false,
        tags: [
          {
            name: 'v1',
            hash: commits.second,
            target: commits.second,
            annotated: false,
            subject: 'Add the app',
            date: sh(root, 'log', '-1', '--format=%cI', commits.second).trim(),
          },
          {
            name: 'v2',
            hash: sh(root, 'rev-parse', 'refs/tags/v2').trim(),
            target: commits.third,
            annotated: true,
            subject: 'Release two',
            date: sh(root, 'for-each-ref', '--format=%(taggerdate:iso-strict)', 'refs/tags/v2').trim(),
          },
        ],
      });
      expect(textOf(result)).toContain('v2');
    });
  });
});

describe('git_stash_list', () => {
  describe('when there is a stash', () => {
    it('returns it with its branch and message', async () => {
      const result = await connection.call('git_stash_list', { repo_path: root });
      expect(result.structuredContent).toEqual({
        truncated: false,
        stashes: [
          {
            index: 0,
            selector: 'stash@{0}',
            hash: sh(root, 'rev-parse', 'stash@{0}').trim(),
            branch: 'main',
            message: 'On main: wip readme',
            date: sh(root, 'log', '-1', '--format=%aI', 'stash@{0}').trim(),
          },
        ],
      });
    });
  });
});

describe('git_remotes', () => {
  describe('when remote URLs carry credentials', () => {
    it('returns the URLs with passwords and tokens replaced by ***', async () => {
      const result = await connection.call('git_remotes', { repo_path: root });
      expect(result.structuredContent).toEqual({
        truncated: false,
        remotes: [
          {
            name: 'mirror',
            fetch_url: 'https://example.com/repo.git?access_token=***&ref=main',
            push_urls: ['https://example.com/repo.git?access_token=***&ref=main'],
          },
          {
            name: 'origin',
            fetch_url: 'https://***@example.com/team/repo.git',
            push_urls: ['https://***@example.com/team/repo.git'],
          },
          {
            name: 'upstream',
            fetch_url: 'git@github.com:team/repo.git',
            push_urls: ['git@github.com:team/repo.git'],
          },
          {
            name: 'vendor',
            fetch_url: 'ssh://deploy:***@git.example.com/vendor.git',
            push_urls: ['ssh://deploy:***@git.example.com/vendor.git'],
          },
        ],
      });
      const text = textOf(result);
      for (const secret of ['s3cret', 'alice', 'ghp_token123', 'abc123', 'hunter2'])
        expect(text).not.toContain(secret);
    });
  });
});

describe('git_worktrees', () => {
  describe('when the repository has a linked worktree', () => {
    it('returns both with their commit, branch and lock', async () => {
      const result = await connection.call('git_worktrees', { repo_path: root });
      const common = { bare: false, detached: false, prunable: false, prunable_reason: null };
      expect(result.structuredContent).toEqual({
        truncated: false,
        worktrees: [
          { ...common, path: root, head: commits.third, branch: 'main', locked: false, locked_reason: null },
          {
            ...common,
            path: worktreePath,
            head: commits.feature,
            branch: 'feature',
            locked: true,
            locked_reason: 'on a usb stick',
          },
        ],
      });
    });
  });
});
