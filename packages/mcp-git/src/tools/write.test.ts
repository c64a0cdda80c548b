import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect, makeRepository, sh, tempDir, textOf, write } from '../test-support.js';
import type { Permissions } from '../tool.js';
import { writeTools } from './write.js';

type Connection = Awaited<ReturnType<typeof connect>>;

let temp: ReturnType<typeof tempDir>;
let work: string;
const open: Connection[] = [];
const folders: Array<{ cleanup(): void }> = [];

beforeEach(() => {
  temp = tempDir();
  work = makeRepository(join(temp.path, 'work'));
});

afterEach(async () => {
  for (const connection of open.splice(0)) await connection.close();
  for (const folder of folders.splice(0)) folder.cleanup();
  temp.cleanup();
});

const ALL: Partial<Permissions> = { destructive: true, network: true };

async function serve(permissions: Partial<Permissions> = {}, repositories = [work]): Promise<Connection> {
  const connection = await connect({ repositories, permissions });
  open.push(connection);
  return connection;
}

function head(repo: string, revision = 'HEAD'): string {
  return sh(repo, 'rev-parse', revision).trim();
}

function commit(repo: string, path: string, content: string, message: string): string {
  write(repo, path, content);
  sh(repo, 'add', '--', path);
  sh(repo, 'commit', '--quiet', '-m', message);
  return head(repo);
}

function clean(repo: string): boolean {
  return sh(repo, 'status', '--porcelain', '--untracked-files=all') === '';
}

function errorText(result: CallToolResult): string {
  expect(result.isError).toBe(true);
  return textOf(result);
}

function outsideFolder(): string {
  const folder = tempDir('ballast-mcp-git-outside-');
  folders.push(folder);
  return folder.path;
}

/** `main` and `feature` both change README.md: merging one into the other conflicts. */
function divergeReadme(): { main: string; feature: string } {
  sh(work, 'switch', '--quiet', 'feature');
  const feature = commit(work, 'README.md', '# Feature\n', 'Feature readme');
  sh(work, 'switch', '--quiet', 'main');
  const main = commit(work, 'README.md', '# Main\n', 'Main readme');
  return { main, feature };
}

/**
 * The temp folder becomes the server's one allowed repository (a workspace) holding `work`, a bare
 * `remote.git` that is work's origin, and `other`, a second clone of it: someone else.
 */
function withRemote(): { remote: string; other: string } {
  sh(temp.path, 'init', '--quiet');
  const remote = join(temp.path, 'remote.git');
  sh(temp.path, 'clone', '--quiet', '--bare', work, remote);
  sh(work, 'remote', 'add', 'origin', remote);
  sh(work, 'fetch', '--quiet', 'origin');
  sh(work, 'branch', '--quiet', '--set-upstream-to=origin/main', 'main');
  const other = join(temp.path, 'other');
  sh(temp.path, 'clone', '--quiet', remote, other);
  sh(other, 'config', 'user.name', 'Someone Else');
  sh(other, 'config', 'user.email', 'else@example.com');
  return { remote, other };
}

describe('writeTools', () => {
  describe('when listed', () => {
    it('have output schemas and annotations that say what they may destroy', async () => {
      const server = await serve(ALL);
      const { tools } = await server.client.listTools();
      const byName = new Map(tools.map((tool) => [tool.name, tool]));
      for (const tool of writeTools) {
        const listed = byName.get(tool.name);
        expect(listed?.outputSchema, tool.name).toBeDefined();
        expect(listed?.annotations?.readOnlyHint, tool.name).toBe(false);
      }
      const destructive = tools.filter((tool) => tool.annotations?.destructiveHint).map((tool) => tool.name);
      expect(destructive).toEqual(
        expect.arrayContaining(['git_restore', 'git_reset_hard', 'git_branch_delete', 'git_clean']),
      );
      expect(destructive).not.toContain('git_unstage');
      for (const name of ['git_fetch', 'git_pull', 'git_push', 'git_clone']) {
        expect(byName.get(name)?.annotations?.openWorldHint, name).toBe(true);
      }
      expect(byName.get('git_cherry_pick')?.annotations?.idempotentHint).toBe(false);
      expect(byName.get('git_reset_hard')?.annotations?.idempotentHint).toBe(true);
    });
  });
});

describe('permission tiers', () => {
  describe('when the server is read-only', () => {
    it.each([
      ['git_switch', { branch: 'feature' }],
      ['git_unstage', { paths: ['README.md'] }],
      ['git_merge', { revision: 'feature' }],
      ['git_cherry_pick', { revisions: ['feature'] }],
      ['git_revert', { revision: 'HEAD' }],
      ['git_stash_push', {}],
      ['git_stash_pop', {}],
      ['git_tag_create', { name: 'v1' }],
    ])('refuses %s naming "drop --read-only"', async (name, args) => {
      const server = await serve({ readOnly: true });
      const before = head(work);
      expect(errorText(await server.call(name, { repo_path: work, ...args }))).toMatch(
        /local write operation.*drop --read-only/,
      );
      expect(head(work)).toBe(before);
      expect(sh(work, 'rev-parse', '--abbrev-ref', 'HEAD').trim()).toBe('main');
    });

    it('refuses git_init naming "drop --read-only"', async () => {
      const server = await serve({ readOnly: true });
      expect(errorText(await server.call('git_init', { repo_path: join(work, 'new') }))).toMatch(
        /drop --read-only/,
      );
      expect(existsSync(join(work, 'new'))).toBe(false);
    });

    it('refuses git_pull and git_clone even with --allow-network, naming --read-only', async () => {
      withRemote();
      const server = await serve({ readOnly: true, network: true }, [temp.path]);
      expect(errorText(await server.call('git_pull', { repo_path: work }))).toMatch(/without --read-only/);
      const clone = await server.call('git_clone', {
        url: join(temp.path, 'remote.git'),
        destination: join(temp.path, 'copy'),
      });
      expect(errorText(clone)).toMatch(/without --read-only/);
      expect(existsSync(join(temp.path, 'copy'))).toBe(false);
    });
  });

  describe('when destructive operations are not allowed', () => {
    it.each([
      ['git_restore', { paths: ['README.md'] }],
      ['git_reset_hard', { revision: 'HEAD~1' }],
      ['git_branch_delete', { branch: 'feature' }],
      ['git_clean', { dry_run: false }],
    ])('refuses %s naming --allow-destructive', async (name, args) => {
      write(work, 'README.md', 'changed\n');
      write(work, 'junk.txt', 'junk\n');
      const server = await serve({ network: true });
      expect(errorText(await server.call(name, { repo_path: work, ...args }))).toMatch(
        /destructive operation.*--allow-destructive/,
      );
      expect(readFileSync(join(work, 'README.md'), 'utf8')).toBe('changed\n');
      expect(existsSync(join(work, 'junk.txt'))).toBe(true);
      expect(sh(work, 'branch', '--list', 'feature').trim()).toBe('feature');
    });
  });

  describe('when network operations are not allowed', () => {
    it.each([
      ['git_fetch', { repo_path: 'work' }],
      ['git_pull', { repo_path: 'work' }],
      ['git_push', { repo_path: 'work' }],
      ['git_clone', { url: 'https://example.com/a.git', destination: 'copy' }],
    ])('refuses %s naming --allow-network', async (name, args) => {
      const server = await serve({ destructive: true });
      const resolved = Object.fromEntries(
        Object.entries(args).map(([key, value]) => [key, key === 'repo_path' ? work : value]),
      );
      expect(errorText(await server.call(name, resolved))).toMatch(/network operation.*--allow-network/);
    });
  });
});

describe('option injection', () => {
  describe('when a string parameter starts with "-"', () => {
    it.each([
      ['git_switch', { branch: '-f' }, 'branch'],
      ['git_switch', { branch: '--orphan=x', create: true }, 'branch'],
      ['git_unstage', { paths: ['README.md', '--pathspec-from-file=x'] }, 'paths[1]'],
      ['git_restore', { paths: ['--source=HEAD~1'] }, 'paths[0]'],
      ['git_merge', { revision: '--abort' }, 'revision'],
      ['git_cherry_pick', { revisions: ['HEAD', '--quit'] }, 'revisions[1]'],
      ['git_revert', { revision: '--quit' }, 'revision'],
      ['git_tag_create', { name: '-d' }, 'name'],
      ['git_tag_create', { name: 'v1', revision: '--contains' }, 'revision'],
      ['git_reset_hard', { revision: '--merge' }, 'revision'],
      ['git_branch_delete', { branch: '--all' }, 'branch'],
      ['git_fetch', { remote: '--upload-pack=touch pwned' }, 'remote'],
      ['git_pull', { remote: '--upload-pack=x' }, 'remote'],
      ['git_pull', { remote: 'origin', branch: '--rebase' }, 'branch'],
      ['git_push', { remote: '--receive-pack=x' }, 'remote'],
      ['git_push', { branch: '--delete' }, 'branch'],
      ['git_init', { repo_path: '--template=/tmp' }, 'repo_path'],
      ['git_init', { repo_path: 'fresh', initial_branch: '--bare' }, 'initial_branch'],
      ['git_clone', { url: '--upload-pack=touch pwned', destination: 'copy' }, 'url'],
      ['git_clone', { url: 'https://example.com/a.git', destination: '--bare' }, 'destination'],
    ])('refuses %s with %j, naming the parameter', async (name, args, parameter) => {
      const server = await serve(ALL);
      const before = sh(work, 'for-each-ref');
      const needsRepo = name !== 'git_init' && name !== 'git_clone';
      const result = await server.call(name, { ...(needsRepo ? { repo_path: work } : {}), ...args });
      const text = errorText(result);
      expect(text.startsWith(`${parameter}: expected`)).toBe(true);
      expect(text).toMatch(/"-/);
      expect(sh(work, 'for-each-ref')).toBe(before);
      expect(existsSync(join(work, 'pwned'))).toBe(false);
    });
  });
});

describe('git_switch', () => {
  describe('when the branch exists', () => {
    it('switches to it and reports the previous branch', async () => {
      const server = await serve();
      const result = await server.call('git_switch', { repo_path: work, branch: 'feature' });
      expect(result.structuredContent).toEqual({
        branch: 'feature',
        head: head(work, 'feature'),
        created: false,
        previous: 'main',
      });
      expect(sh(work, 'rev-parse', '--abbrev-ref', 'HEAD').trim()).toBe('feature');
    });
  });

  describe('when create is true', () => {
    it('creates the branch at HEAD and switches to it', async () => {
      const server = await serve();
      const result = await server.call('git_switch', { repo_path: work, branch: 'topic/one', create: true });
      expect(result.structuredContent).toEqual({
        branch: 'topic/one',
        head: head(work, 'main'),
        created: true,
        previous: 'main',
      });
      expect(sh(work, 'rev-parse', '--abbrev-ref', 'HEAD').trim()).toBe('topic/one');
    });

    it('refuses a branch that already exists', async () => {
      const server = await serve();
      const result = await server.call('git_switch', { repo_path: work, branch: 'feature', create: true });
      expect(errorText(result)).toMatch(/^branch: expected a branch that does not exist yet/);
      expect(sh(work, 'rev-parse', '--abbrev-ref', 'HEAD').trim()).toBe('main');
    });
  });

  describe('when the branch does not exist and create is false', () => {
    it('fails naming the parameter', async () => {
      const server = await serve();
      const result = await server.call('git_switch', { repo_path: work, branch: 'nope' });
      expect(errorText(result)).toMatch(/^branch: expected an existing local branch/);
    });
  });
});

describe('git_unstage', () => {
  describe('when a file has staged changes', () => {
    it('removes them from the index and keeps the file', async () => {
      const server = await serve();
      write(work, 'src/app.ts', 'export const answer = 43;\n');
      write(work, 'README.md', '# Changed\n');
      sh(work, 'add', '.');
      const result = await server.call('git_unstage', { repo_path: work, paths: ['src/app.ts'] });
      expect(result.structuredContent).toEqual({ unstaged: ['src/app.ts'] });
      expect(sh(work, 'diff', '--cached', '--name-only').trim()).toBe('README.md');
      expect(readFileSync(join(work, 'src/app.ts'), 'utf8')).toBe('export const answer = 43;\n');
    });
  });

  describe('when the repository has no commits yet', () => {
    it('takes the files out of the index', async () => {
      const fresh = join(work, 'fresh');
      mkdirSync(fresh);
      sh(fresh, 'init', '--quiet');
      write(fresh, 'a.txt', 'a\n');
      sh(fresh, 'add', 'a.txt');
      const server = await serve();
      const result = await server.call('git_unstage', { repo_path: fresh, paths: ['a.txt'] });
      expect(result.structuredContent).toEqual({ unstaged: ['a.txt'] });
      expect(sh(fresh, 'status', '--porcelain').trim()).toBe('?? a.txt');
    });
  });

  describe('when a path leads outside the repository', () => {
    it('is refused', async () => {
      const server = await serve();
      const result = await server.call('git_unstage', { repo_path: work, paths: ['../outside.txt'] });
      expect(errorText(result)).toMatch(/paths\[0\]: .* is outside the repository/);
    });
  });
});

describe('git_restore', () => {
  describe('when a file has unstaged changes', () => {
    it('discards them from the working tree and leaves staged changes', async () => {
      const server = await serve({ destructive: true });
      write(work, 'README.md', '# Staged\n');
      sh(work, 'add', 'README.md');
      write(work, 'README.md', '# Staged and more\n');
      write(work, 'src/app.ts', 'broken\n');
      const result = await server.call('git_restore', { repo_path: work, paths: ['README.md', 'src'] });
      expect(result.structuredContent).toEqual({ restored: ['README.md', 'src/app.ts'] });
      expect(readFileSync(join(work, 'README.md'), 'utf8')).toBe('# Staged\n');
      expect(readFileSync(join(work, 'src/app.ts'), 'utf8')).toBe('export const answer = 42;\n');
      expect(sh(work, 'diff', '--cached', '--name-only').trim()).toBe('README.md');
    });
  });

  describe('when staged is true', () => {
    it('restores index and file from HEAD', async () => {
      const server = await serve({ destructive: true });
      write(work, 'README.md', '# Staged\n');
      sh(work, 'add', 'README.md');
      const result = await server.call('git_restore', {
        repo_path: work,
        paths: ['README.md'],
        staged: true,
      });
      expect(result.structuredContent).toEqual({ restored: ['README.md'] });
      expect(readFileSync(join(work, 'README.md'), 'utf8')).toBe('# Demo\n');
      expect(clean(work)).toBe(true);
    });
  });
});

describe('git_merge', () => {
  describe('when the branch is ahead', () => {
    it('fast-forwards', async () => {
      sh(work, 'switch', '--quiet', 'feature');
      const tip = commit(work, 'feature.txt', 'feature\n', 'Feature work');
      sh(work, 'switch', '--quiet', 'main');
      const server = await serve();
      const result = await server.call('git_merge', { repo_path: work, revision: 'feature' });
      expect(result.structuredContent).toEqual({
        status: 'fast-forward',
        head: tip,
        merged: tip,
        conflicts: [],
      });
      expect(head(work)).toBe(tip);
    });
  });

  describe('when no_ff is true and a message is given', () => {
    it('creates a merge commit with that message', async () => {
      sh(work, 'switch', '--quiet', 'feature');
      const tip = commit(work, 'feature.txt', 'feature\n', 'Feature work');
      sh(work, 'switch', '--quiet', 'main');
      const before = head(work);
      const server = await serve();
      const result = await server.call('git_merge', {
        repo_path: work,
        revision: 'feature',
        no_ff: true,
        message: '--squash is just text',
      });
      const after = head(work);
      expect(result.structuredContent).toEqual({ status: 'merged', head: after, merged: tip, conflicts: [] });
      expect(sh(work, 'log', '-1', '--format=%P%n%s').trim()).toBe(`${before} ${tip}\n--squash is just text`);
    });
  });

  describe('when the revision is already merged', () => {
    it('reports up-to-date and changes nothing', async () => {
      const before = head(work);
      const server = await serve();
      const result = await server.call('git_merge', { repo_path: work, revision: 'HEAD~1' });
      expect(result.structuredContent).toEqual({
        status: 'up-to-date',
        head: before,
        merged: head(work, 'HEAD~1'),
        conflicts: [],
      });
    });
  });

  describe('when the merge conflicts', () => {
    it('aborts, leaves the repository clean and reports the conflicted files', async () => {
      const { main, feature } = divergeReadme();
      const server = await serve();
      const result = await server.call('git_merge', { repo_path: work, revision: 'feature' });
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toEqual({
        status: 'conflict',
        head: main,
        merged: feature,
        conflicts: ['README.md'],
      });
      expect(textOf(result)).toMatch(/aborted; nothing changed/);
      expect(head(work)).toBe(main);
      expect(clean(work)).toBe(true);
      expect(existsSync(join(work, '.git', 'MERGE_HEAD'))).toBe(false);
    });
  });

  describe('when the working tree has uncommitted changes', () => {
    it('refuses to start', async () => {
      sh(work, 'switch', '--quiet', 'feature');
      commit(work, 'feature.txt', 'feature\n', 'Feature work');
      sh(work, 'switch', '--quiet', 'main');
      write(work, 'README.md', 'work in progress\n');
      const before = head(work);
      const server = await serve();
      const result = await server.call('git_merge', { repo_path: work, revision: 'feature' });
      expect(errorText(result)).toMatch(/uncommitted changes \(README\.md\).*git_stash_push/);
      expect(head(work)).toBe(before);
      expect(readFileSync(join(work, 'README.md'), 'utf8')).toBe('work in progress\n');
    });
  });
});

describe('git_cherry_pick', () => {
  describe('when the commits apply', () => {
    it('applies them in the given order as new commits', async () => {
      sh(work, 'switch', '--quiet', 'feature');
      const first = commit(work, 'a.txt', 'a\n', 'Add a');
      const second = commit(work, 'b.txt', 'b\n', 'Add b');
      sh(work, 'switch', '--quiet', 'main');
      const before = head(work);
      const server = await serve();
      const result = await server.call('git_cherry_pick', { repo_path: work, revisions: [second, first] });
      const commits = sh(work, 'rev-list', '--reverse', `${before}..HEAD`).trim().split('\n');
      expect(result.structuredContent).toEqual({
        status: 'applied',
        head: head(work),
        commits,
        conflicts: [],
        conflicted_revision: null,
      });
      expect(sh(work, 'log', '--format=%s', `${before}..HEAD`).trim()).toBe('Add a\nAdd b');
    });
  });

  describe('when a later commit conflicts', () => {
    it('undoes the whole batch and reports the conflicted commit and files', async () => {
      sh(work, 'switch', '--quiet', 'feature');
      const fine = commit(work, 'a.txt', 'a\n', 'Add a');
      const clash = commit(work, 'README.md', '# Feature\n', 'Feature readme');
      sh(work, 'switch', '--quiet', 'main');
      const before = commit(work, 'README.md', '# Main\n', 'Main readme');
      const server = await serve();
      const result = await server.call('git_cherry_pick', { repo_path: work, revisions: [fine, clash] });
      expect(result.structuredContent).toEqual({
        status: 'conflict',
        head: before,
        commits: [],
        conflicts: ['README.md'],
        conflicted_revision: clash,
      });
      expect(head(work)).toBe(before);
      expect(clean(work)).toBe(true);
      expect(existsSync(join(work, '.git', 'CHERRY_PICK_HEAD'))).toBe(false);
      expect(existsSync(join(work, '.git', 'sequencer'))).toBe(false);
    });
  });

  describe('when a commit is already applied', () => {
    it("fails with git's reason and leaves no cherry-pick in progress", async () => {
      const server = await serve();
      const result = await server.call('git_cherry_pick', { repo_path: work, revisions: ['HEAD'] });
      expect(errorText(result)).toMatch(/git_cherry_pick failed: .*empty/);
      expect(clean(work)).toBe(true);
      expect(existsSync(join(work, '.git', 'CHERRY_PICK_HEAD'))).toBe(false);
    });
  });
});

describe('git_revert', () => {
  describe('when the revert applies', () => {
    it('commits the inverse change', async () => {
      const server = await serve();
      const result = await server.call('git_revert', { repo_path: work, revision: 'HEAD' });
      const after = head(work);
      expect(result.structuredContent).toEqual({
        status: 'reverted',
        head: after,
        commit: after,
        conflicts: [],
      });
      expect(sh(work, 'log', '-1', '--format=%s').trim()).toBe('Revert "Add the app"');
      expect(existsSync(join(work, 'src/app.ts'))).toBe(false);
    });
  });

  describe('when the revert conflicts', () => {
    it('aborts, leaves the repository clean and reports the conflicted files', async () => {
      const target = commit(work, 'README.md', '# One\n', 'One');
      const before = commit(work, 'README.md', '# Two\n', 'Two');
      const server = await serve();
      const result = await server.call('git_revert', { repo_path: work, revision: target });
      expect(result.structuredContent).toEqual({
        status: 'conflict',
        head: before,
        commit: null,
        conflicts: ['README.md'],
      });
      expect(head(work)).toBe(before);
      expect(clean(work)).toBe(true);
      expect(existsSync(join(work, '.git', 'REVERT_HEAD'))).toBe(false);
    });
  });
});

describe('git_stash_push', () => {
  describe('when there are changes and untracked files', () => {
    it('stashes them with the message taken literally and cleans the tree', async () => {
      write(work, 'README.md', '# Stashed\n');
      write(work, 'notes.txt', 'notes\n');
      const server = await serve();
      const result = await server.call('git_stash_push', {
        repo_path: work,
        message: '--patch is just text',
        include_untracked: true,
      });
      expect(result.structuredContent).toEqual({
        stashed: true,
        ref: 'stash@{0}',
        hash: head(work, 'refs/stash'),
        message: 'On main: --patch is just text',
      });
      expect(clean(work)).toBe(true);
    });
  });

  describe('when there is nothing to stash', () => {
    it('says so and creates no entry', async () => {
      const server = await serve();
      const result = await server.call('git_stash_push', { repo_path: work });
      expect(result.structuredContent).toEqual({ stashed: false, ref: null, hash: null, message: null });
      expect(sh(work, 'stash', 'list')).toBe('');
    });
  });
});

describe('git_stash_pop', () => {
  describe('when the entry applies', () => {
    it('restores the changes and drops the entry', async () => {
      write(work, 'README.md', '# Stashed\n');
      write(work, 'notes.txt', 'notes\n');
      sh(work, 'stash', 'push', '--quiet', '--include-untracked');
      const hash = head(work, 'refs/stash');
      const server = await serve();
      const result = await server.call('git_stash_pop', { repo_path: work });
      expect(result.structuredContent).toEqual({
        status: 'applied',
        ref: 'stash@{0}',
        hash,
        conflicts: [],
        remaining: 0,
      });
      expect(readFileSync(join(work, 'README.md'), 'utf8')).toBe('# Stashed\n');
      expect(readFileSync(join(work, 'notes.txt'), 'utf8')).toBe('notes\n');
    });
  });

  describe('when the entry conflicts', () => {
    it('undoes everything it applied, untracked files included, and keeps the entry', async () => {
      write(work, 'README.md', '# Stashed\n');
      write(work, 'notes.txt', 'notes\n');
      sh(work, 'stash', 'push', '--quiet', '--include-untracked');
      const hash = head(work, 'refs/stash');
      const before = commit(work, 'README.md', '# Committed\n', 'Change readme');
      const server = await serve();
      const result = await server.call('git_stash_pop', { repo_path: work, index: 0 });
      expect(result.structuredContent).toEqual({
        status: 'conflict',
        ref: 'stash@{0}',
        hash,
        conflicts: ['README.md'],
        remaining: 1,
      });
      expect(head(work)).toBe(before);
      expect(clean(work)).toBe(true);
      expect(head(work, 'refs/stash')).toBe(hash);
    });
  });

  describe('when the index names no entry', () => {
    it('fails naming the parameter', async () => {
      const server = await serve();
      const result = await server.call('git_stash_pop', { repo_path: work, index: 3 });
      expect(errorText(result)).toMatch(/^index: expected the index of an existing stash entry/);
    });
  });
});

describe('git_tag_create', () => {
  describe('when no message is given', () => {
    it('creates a lightweight tag at HEAD', async () => {
      const server = await serve();
      const result = await server.call('git_tag_create', { repo_path: work, name: 'v1.0.0' });
      const tip = head(work);
      expect(result.structuredContent).toEqual({
        name: 'v1.0.0',
        target: tip,
        annotated: false,
        object: tip,
      });
      expect(head(work, 'refs/tags/v1.0.0')).toBe(tip);
    });
  });

  describe('when a message and a revision are given', () => {
    it('creates an annotated tag at that revision', async () => {
      const server = await serve();
      const result = await server.call('git_tag_create', {
        repo_path: work,
        name: 'v0.1.0',
        revision: 'HEAD~1',
        message: '-s first release',
      });
      const object = head(work, 'refs/tags/v0.1.0');
      expect(result.structuredContent).toEqual({
        name: 'v0.1.0',
        target: head(work, 'HEAD~1'),
        annotated: true,
        object,
      });
      expect(sh(work, 'cat-file', '-t', object).trim()).toBe('tag');
      expect(sh(work, 'tag', '-l', '--format=%(contents:subject)', 'v0.1.0').trim()).toBe('-s first release');
    });
  });

  describe('when the name is taken or invalid', () => {
    it('fails naming the parameter', async () => {
      sh(work, 'tag', 'v1');
      const server = await serve();
      const taken = await server.call('git_tag_create', { repo_path: work, name: 'v1' });
      expect(errorText(taken)).toMatch(/^name: expected a tag that does not exist yet/);
      const invalid = await server.call('git_tag_create', { repo_path: work, name: 'a..b' });
      expect(errorText(invalid)).toMatch(/^name: expected a valid tag name/);
    });
  });
});

describe('git_reset_hard', () => {
  describe('when destructive operations are allowed', () => {
    it('moves the branch, discards uncommitted changes and reports them', async () => {
      const previous = head(work);
      write(work, 'README.md', 'lost\n');
      write(work, 'untracked.txt', 'kept\n');
      const server = await serve({ destructive: true });
      const result = await server.call('git_reset_hard', { repo_path: work, revision: 'HEAD~1' });
      const target = head(work, 'HEAD');
      expect(result.structuredContent).toEqual({
        head: target,
        previous_head: previous,
        discarded: ['README.md'],
      });
      expect(sh(work, 'log', '-1', '--format=%s').trim()).toBe('First commit');
      expect(readFileSync(join(work, 'README.md'), 'utf8')).toBe('# Demo\n');
      expect(existsSync(join(work, 'untracked.txt'))).toBe(true);
    });
  });
});

describe('git_branch_delete', () => {
  describe('when the branch is merged', () => {
    it('deletes it and reports its tip', async () => {
      const tip = head(work, 'feature');
      const server = await serve({ destructive: true });
      const result = await server.call('git_branch_delete', { repo_path: work, branch: 'feature' });
      expect(result.structuredContent).toEqual({ branch: 'feature', head: tip });
      expect(sh(work, 'branch', '--list', 'feature')).toBe('');
    });
  });

  describe('when the branch has unmerged commits', () => {
    it('keeps it without force and deletes it with force', async () => {
      sh(work, 'switch', '--quiet', 'feature');
      const tip = commit(work, 'feature.txt', 'feature\n', 'Feature work');
      sh(work, 'switch', '--quiet', 'main');
      const server = await serve({ destructive: true });
      const kept = await server.call('git_branch_delete', { repo_path: work, branch: 'feature' });
      expect(errorText(kept)).toMatch(/not fully merged/);
      expect(head(work, 'feature')).toBe(tip);
      const forced = await server.call('git_branch_delete', {
        repo_path: work,
        branch: 'feature',
        force: true,
      });
      expect(forced.structuredContent).toEqual({ branch: 'feature', head: tip });
      expect(sh(work, 'branch', '--list', 'feature')).toBe('');
    });
  });

  describe('when the branch is the current one', () => {
    it('is refused', async () => {
      const server = await serve({ destructive: true });
      const result = await server.call('git_branch_delete', { repo_path: work, branch: 'main', force: true });
      expect(errorText(result)).toMatch(/^branch: expected a branch other than the current one/);
      expect(head(work, 'main')).toBeTruthy();
    });
  });
});

describe('git_clean', () => {
  beforeEach(() => {
    write(work, 'junk.txt', 'junk\n');
    write(work, 'build/out.js', 'out\n');
    write(work, 'odd "name".txt', 'odd\n');
    write(work, 'ignored.log', 'ignored\n');
    write(work, '.git/info/exclude', 'ignored.log\n');
  });

  describe('when dry_run is left at its default', () => {
    it('lists what would be removed and removes nothing', async () => {
      const server = await serve({ destructive: true });
      const result = await server.call('git_clean', { repo_path: work });
      expect(result.structuredContent).toEqual({
        dry_run: true,
        removed: ['junk.txt', 'odd "name".txt'],
        skipped: [],
      });
      expect(textOf(result)).toMatch(/nothing was removed/);
      expect(existsSync(join(work, 'junk.txt'))).toBe(true);
      expect(existsSync(join(work, 'odd "name".txt'))).toBe(true);
      const folders = await server.call('git_clean', { repo_path: work, directories: true });
      expect(folders.structuredContent).toMatchObject({ removed: ['build/', 'junk.txt', 'odd "name".txt'] });
      expect(existsSync(join(work, 'build/out.js'))).toBe(true);
    });
  });

  describe('when dry_run is false', () => {
    it('removes untracked files and folders but not ignored ones', async () => {
      const server = await serve({ destructive: true });
      const result = await server.call('git_clean', { repo_path: work, directories: true, dry_run: false });
      expect(result.structuredContent).toEqual({
        dry_run: false,
        removed: ['build/', 'junk.txt', 'odd "name".txt'],
        skipped: [],
      });
      expect(existsSync(join(work, 'junk.txt'))).toBe(false);
      expect(existsSync(join(work, 'build'))).toBe(false);
      expect(existsSync(join(work, 'ignored.log'))).toBe(true);
      expect(clean(work)).toBe(true);
    });
  });
});

describe('git_fetch', () => {
  describe('when the remote has new commits', () => {
    it('updates the remote-tracking branch, reports it, and sends progress', async () => {
      const { other } = withRemote();
      const old = head(work, 'refs/remotes/origin/main');
      const tip = commit(other, 'theirs.txt', 'theirs\n', 'Their work');
      sh(other, 'push', '--quiet', 'origin', 'main');
      const server = await serve({ network: true }, [temp.path]);
      const progress: Array<{ progress: number; message: string }> = [];
      const result = await server.client.callTool(
        { name: 'git_fetch', arguments: { repo_path: work } },
        undefined,
        {
          onprogress: (update) => progress.push({ progress: update.progress, message: update.message ?? '' }),
        },
      );
      expect(result.structuredContent).toEqual({
        remote: 'origin',
        updated: [{ ref: 'refs/remotes/origin/main', old, new: tip }],
      });
      expect(head(work, 'refs/remotes/origin/main')).toBe(tip);
      expect(head(work)).toBe(old);
      expect(progress.length).toBeGreaterThan(0);
      expect(progress.some((update) => /objects:\s+\d+%/.test(update.message))).toBe(true);
      const steps = progress.map((update) => update.progress);
      expect(steps).toEqual([...steps].sort((a, b) => a - b));
    });
  });

  describe('when prune is true and the remote deleted a branch', () => {
    it('removes its remote-tracking branch and reports it', async () => {
      const { remote } = withRemote();
      const old = head(work, 'refs/remotes/origin/feature');
      sh(remote, 'branch', '--delete', '--force', 'feature');
      const server = await serve({ network: true }, [temp.path]);
      const result = await server.call('git_fetch', { repo_path: work, prune: true });
      expect(result.structuredContent).toEqual({
        remote: 'origin',
        updated: [{ ref: 'refs/remotes/origin/feature', old, new: null }],
      });
      expect(sh(work, 'for-each-ref', 'refs/remotes/origin/feature')).toBe('');
    });
  });

  describe("when the repository's config names an upload-pack program", () => {
    it('does not run it', async () => {
      withRemote();
      const marker = join(temp.path, 'pwned');
      sh(work, 'config', 'remote.origin.uploadpack', `touch ${marker}; git-upload-pack`);
      const server = await serve({ network: true }, [temp.path]);
      const result = await server.call('git_fetch', { repo_path: work });
      expect(result.isError).toBeFalsy();
      expect(existsSync(marker)).toBe(false);
    });
  });

  describe('when the remote is a local path outside the allowed repositories', () => {
    it('refuses the file transport', async () => {
      withRemote();
      const outside = join(outsideFolder(), 'elsewhere.git');
      sh(temp.path, 'clone', '--quiet', '--bare', work, outside);
      sh(work, 'remote', 'add', 'elsewhere', outside);
      const server = await serve({ network: true }, [temp.path]);
      const result = await server.call('git_fetch', { repo_path: work, remote: 'elsewhere' });
      expect(errorText(result)).toMatch(/^remote: .* is a local path outside the repositories/);
      expect(sh(work, 'for-each-ref', 'refs/remotes/elsewhere')).toBe('');
    });
  });

  describe('when the remote uses another transport', () => {
    it.each([
      ['ext::sh -c touch% pwned', /ext:: remote helper/],
      ['git://example.com/a.git', /git:\/\/ transport/],
      ['http://example.com/a.git', /http:\/\/ transport/],
    ])('refuses %s', async (url, message) => {
      sh(work, 'remote', 'add', 'evil', url);
      const server = await serve({ network: true });
      const result = await server.call('git_fetch', { repo_path: work, remote: 'evil' });
      expect(errorText(result)).toMatch(message);
      expect(existsSync(join(work, 'pwned'))).toBe(false);
    });
  });

  describe('when the remote is not configured', () => {
    it('fails naming the parameter', async () => {
      const server = await serve({ network: true });
      const result = await server.call('git_fetch', { repo_path: work, remote: 'nowhere' });
      expect(errorText(result)).toMatch(/^remote: expected the name of a configured remote/);
    });
  });
});

describe('git_pull', () => {
  describe('when the remote branch is ahead', () => {
    it('fast-forwards the current branch', async () => {
      const { other } = withRemote();
      const before = head(work);
      const tip = commit(other, 'theirs.txt', 'theirs\n', 'Their work');
      sh(other, 'push', '--quiet', 'origin', 'main');
      const server = await serve({ network: true }, [temp.path]);
      const result = await server.call('git_pull', { repo_path: work });
      expect(result.structuredContent).toEqual({
        remote: 'origin',
        branch: 'main',
        status: 'fast-forward',
        previous_head: before,
        head: tip,
        conflicts: [],
      });
      expect(head(work)).toBe(tip);
    });
  });

  describe('when the branches have diverged and ff_only is left on', () => {
    it('fails and changes nothing', async () => {
      const { other } = withRemote();
      commit(other, 'theirs.txt', 'theirs\n', 'Their work');
      sh(other, 'push', '--quiet', 'origin', 'main');
      const mine = commit(work, 'mine.txt', 'mine\n', 'My work');
      const server = await serve({ network: true }, [temp.path]);
      const result = await server.call('git_pull', { repo_path: work });
      expect(errorText(result)).toMatch(/fast-forward/);
      expect(head(work)).toBe(mine);
      expect(clean(work)).toBe(true);
    });
  });

  describe('when ff_only is false and the merge conflicts', () => {
    it('aborts, leaves the repository clean and reports the conflicted files', async () => {
      const { other } = withRemote();
      commit(other, 'README.md', '# Theirs\n', 'Their readme');
      sh(other, 'push', '--quiet', 'origin', 'main');
      const mine = commit(work, 'README.md', '# Mine\n', 'My readme');
      const server = await serve({ network: true }, [temp.path]);
      const result = await server.call('git_pull', { repo_path: work, ff_only: false });
      expect(result.structuredContent).toEqual({
        remote: 'origin',
        branch: 'main',
        status: 'conflict',
        previous_head: mine,
        head: mine,
        conflicts: ['README.md'],
      });
      expect(head(work)).toBe(mine);
      expect(clean(work)).toBe(true);
      expect(existsSync(join(work, '.git', 'MERGE_HEAD'))).toBe(false);
    });
  });

  describe('when ff_only is false and the merge is clean', () => {
    it('creates a merge commit', async () => {
      const { other } = withRemote();
      const theirs = commit(other, 'theirs.txt', 'theirs\n', 'Their work');
      sh(other, 'push', '--quiet', 'origin', 'main');
      const mine = commit(work, 'mine.txt', 'mine\n', 'My work');
      const server = await serve({ network: true }, [temp.path]);
      const result = await server.call('git_pull', { repo_path: work, ff_only: false });
      const after = head(work);
      expect(result.structuredContent).toMatchObject({ status: 'merged', previous_head: mine, head: after });
      expect(sh(work, 'log', '-1', '--format=%P').trim()).toBe(`${mine} ${theirs}`);
    });
  });
});

describe('git_push', () => {
  describe('when pushing a new branch with set_upstream', () => {
    it('creates it on the remote and tracks it', async () => {
      const { remote } = withRemote();
      sh(work, 'switch', '--quiet', '--create', 'topic');
      const tip = commit(work, 'topic.txt', 'topic\n', 'Topic work');
      const server = await serve({ network: true }, [temp.path]);
      const result = await server.call('git_push', { repo_path: work, set_upstream: true });
      expect(result.structuredContent).toMatchObject({
        remote: 'origin',
        branch: 'topic',
        remote_ref: 'refs/heads/topic',
        status: 'new',
        head: tip,
        upstream: 'origin/topic',
      });
      expect(head(remote, 'refs/heads/topic')).toBe(tip);
    });
  });

  describe('when the remote branch is behind', () => {
    it('fast-forwards it', async () => {
      const { remote } = withRemote();
      const tip = commit(work, 'mine.txt', 'mine\n', 'My work');
      const server = await serve({ network: true }, [temp.path]);
      const result = await server.call('git_push', { repo_path: work, branch: 'main' });
      expect(result.structuredContent).toMatchObject({
        status: 'fast-forward',
        head: tip,
        upstream: 'origin/main',
      });
      expect(head(remote, 'refs/heads/main')).toBe(tip);
      const again = await server.call('git_push', { repo_path: work });
      expect(again.structuredContent).toMatchObject({ status: 'up-to-date' });
    });
  });

  describe('when the remote has commits this repository has not integrated', () => {
    it('is rejected without force', async () => {
      const { remote, other } = withRemote();
      const theirs = commit(other, 'theirs.txt', 'theirs\n', 'Their work');
      sh(other, 'push', '--quiet', 'origin', 'main');
      commit(work, 'mine.txt', 'mine\n', 'My work');
      const server = await serve({ network: true }, [temp.path]);
      const result = await server.call('git_push', { repo_path: work });
      expect(errorText(result)).toMatch(/refused refs\/heads\/main.*nothing was pushed/);
      expect(head(remote, 'refs/heads/main')).toBe(theirs);
    });
  });

  describe('when force is true', () => {
    it('needs --allow-destructive', async () => {
      const { remote } = withRemote();
      const before = head(remote, 'refs/heads/main');
      sh(work, 'commit', '--quiet', '--amend', '-m', 'Rewritten');
      const server = await serve({ network: true }, [temp.path]);
      const result = await server.call('git_push', { repo_path: work, force: true });
      expect(errorText(result)).toMatch(/--allow-destructive/);
      expect(head(remote, 'refs/heads/main')).toBe(before);
    });

    it('replaces a remote branch that is where this repository last saw it', async () => {
      const { remote } = withRemote();
      sh(work, 'commit', '--quiet', '--amend', '-m', 'Rewritten');
      const rewritten = head(work);
      const server = await serve({ network: true, destructive: true }, [temp.path]);
      const result = await server.call('git_push', { repo_path: work, force: true });
      expect(result.structuredContent).toMatchObject({ status: 'forced', head: rewritten });
      expect(head(remote, 'refs/heads/main')).toBe(rewritten);
    });

    it("fails rather than overwrite someone else's new commit (--force-with-lease)", async () => {
      const { remote, other } = withRemote();
      const theirs = commit(other, 'theirs.txt', 'theirs\n', 'Their work');
      sh(other, 'push', '--quiet', 'origin', 'main');
      sh(work, 'commit', '--quiet', '--amend', '-m', 'Rewritten');
      const server = await serve({ network: true, destructive: true }, [temp.path]);
      const result = await server.call('git_push', { repo_path: work, force: true });
      expect(errorText(result)).toMatch(/stale info.*git_fetch/);
      expect(head(remote, 'refs/heads/main')).toBe(theirs);
    });
  });
});

describe('git_init', () => {
  describe('when the folder is new and inside an allowed repository', () => {
    it('creates an empty repository', async () => {
      const server = await serve();
      const path = join(work, 'packages', 'fresh');
      mkdirSync(join(work, 'packages'));
      const result = await server.call('git_init', { repo_path: path, initial_branch: 'trunk' });
      expect(result.structuredContent).toEqual({ path, branch: 'trunk', bare: false });
      expect(sh(path, 'symbolic-ref', 'HEAD').trim()).toBe('refs/heads/trunk');
      expect(sh(path, 'rev-parse', '--show-toplevel').trim()).toBe(path);
    });
  });

  describe('when the folder is outside the allowed repositories', () => {
    it.each([
      ['another folder', () => join(outsideFolder(), 'new')],
      ['a prefix sibling', () => join(`${work}-evil`, 'new')],
      ['a symlink out', () => join(work, 'out', 'new')],
    ])('refuses %s', async (_case, destination) => {
      mkdirSync(`${work}-evil`);
      symlinkSync(outsideFolder(), join(work, 'out'));
      const server = await serve();
      const path = destination();
      const result = await server.call('git_init', { repo_path: path });
      expect(errorText(result)).toMatch(/^repo_path: .* is not inside a repository this server was given/);
      expect(existsSync(path)).toBe(false);
    });

    it('refuses a folder inside .git', async () => {
      const server = await serve();
      const result = await server.call('git_init', { repo_path: join(work, '.git', 'hooks', 'x') });
      expect(errorText(result)).toMatch(/inside a \.git folder/);
    });
  });

  describe('when the folder exists and is not empty', () => {
    it('is refused', async () => {
      const server = await serve();
      const result = await server.call('git_init', { repo_path: join(work, 'src') });
      expect(errorText(result)).toMatch(/^repo_path: expected a folder that does not exist yet or is empty/);
      expect(existsSync(join(work, 'src', '.git'))).toBe(false);
    });
  });
});

describe('git_clone', () => {
  describe('when the source is a local repository inside the allowed ones', () => {
    it('clones it into a new folder inside them', async () => {
      const { remote } = withRemote();
      const server = await serve({ network: true }, [temp.path]);
      const destination = join(temp.path, 'copy');
      const result = await server.call('git_clone', { url: remote, destination });
      expect(result.structuredContent).toEqual({
        path: destination,
        transport: 'file',
        branch: 'main',
        head: head(work),
      });
      expect(readFileSync(join(destination, 'src/app.ts'), 'utf8')).toBe('export const answer = 42;\n');
      const viaUrl = await server.call('git_clone', {
        url: `file://${remote}`,
        destination: join(temp.path, 'copy2'),
      });
      expect(viaUrl.structuredContent).toMatchObject({ transport: 'file', branch: 'main' });
    });
  });

  describe('when the source is a local repository outside the allowed ones', () => {
    it('is refused', async () => {
      const source = makeRepository(join(outsideFolder(), 'secret'));
      const server = await serve({ network: true });
      const destination = join(work, 'copy');
      const plain = await server.call('git_clone', { url: source, destination });
      expect(errorText(plain)).toMatch(/^url: .* is a local path outside the repositories/);
      const asUrl = await server.call('git_clone', { url: `file://${source}`, destination });
      expect(errorText(asUrl)).toMatch(/^url: .* is a local path outside the repositories/);
      expect(existsSync(destination)).toBe(false);
    });
  });

  describe('when the URL uses another transport', () => {
    it.each([
      ['ext::sh -c touch% pwned', /ext:: remote helper/],
      ['fd::3', /fd:: remote helper/],
      ['git://example.com/a.git', /git:\/\/ transport/],
      ['http://example.com/a.git', /http:\/\/ transport/],
      ['ssh://-oProxyCommand=touch%20pwned/a', /^url: expected a URL whose host does not start with "-"/],
    ])('refuses %s', async (url, message) => {
      const server = await serve({ network: true });
      const destination = join(work, 'copy');
      expect(errorText(await server.call('git_clone', { url, destination }))).toMatch(message);
      expect(existsSync(destination)).toBe(false);
      expect(existsSync(join(work, 'pwned'))).toBe(false);
    });
  });

  describe('when the destination is outside the allowed repositories', () => {
    it('is refused', async () => {
      const server = await serve({ network: true });
      const destination = join(outsideFolder(), 'copy');
      const result = await server.call('git_clone', { url: 'https://example.com/a.git', destination });
      expect(errorText(result)).toMatch(/^destination: .* is not inside a repository this server was given/);
      expect(existsSync(destination)).toBe(false);
    });
  });
});
