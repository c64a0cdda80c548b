import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createGitMcpServer } from './server.js';
import { connect, makeRepository, sh, tempDir, textOf, write } from './test-support.js';

let temp: ReturnType<typeof tempDir>;
let repo: string;

beforeEach(() => {
  temp = tempDir();
  repo = makeRepository(join(temp.path, 'repo'));
});

afterEach(() => temp.cleanup());

/** A digest of every file under .git, to prove a call changed nothing there. */
function gitDigest(root: string): string {
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const info = statSync(path);
      if (info.isDirectory()) walk(path);
      else hash.update(`${relative(root, path)}\0`).update(readFileSync(path));
    }
  };
  walk(join(root, '.git'));
  return hash.digest('hex');
}

describe('the reference tools', () => {
  describe('when listed', () => {
    it('are all there under the reference names, with output schemas and honest annotations', async () => {
      const server = await connect({ repositories: [repo] });
      const { tools } = await server.client.listTools();
      const names = tools.map((tool) => tool.name);
      for (const name of [
        'git_status',
        'git_diff_unstaged',
        'git_diff_staged',
        'git_diff',
        'git_commit',
        'git_add',
        'git_reset',
        'git_log',
        'git_create_branch',
        'git_checkout',
        'git_show',
        'git_branch',
        'list_repositories',
      ]) {
        expect(names).toContain(name);
      }
      for (const tool of tools) {
        expect(tool.outputSchema, tool.name).toBeDefined();
        expect(tool.annotations?.readOnlyHint, tool.name).toBeTypeOf('boolean');
        expect(tool.annotations?.destructiveHint, tool.name).toBeTypeOf('boolean');
        expect(tool.annotations?.idempotentHint, tool.name).toBeTypeOf('boolean');
        expect(tool.annotations?.openWorldHint, tool.name).toBeTypeOf('boolean');
      }
      expect(tools.find((tool) => tool.name === 'git_status')?.annotations?.readOnlyHint).toBe(true);
      expect(tools.find((tool) => tool.name === 'git_commit')?.annotations?.readOnlyHint).toBe(false);
      expect(tools.find((tool) => tool.name === 'git_status')?.inputSchema.properties).toHaveProperty(
        'repo_path',
      );
      await server.close();
    });
  });

  describe('when the repository has changes', () => {
    it('stages, diffs, commits and logs them, with structured results', async () => {
      const server = await connect({ repositories: [repo] });
      write(repo, 'src/app.ts', 'export const answer = 43;\n');
      write(repo, 'notes.txt', 'new\n');
      const status = await server.call('git_status', { repo_path: repo });
      expect(status.structuredContent).toMatchObject({
        branch: 'main',
        clean: false,
        unstaged: [{ path: 'src/app.ts', status: ' M' }],
        untracked: ['notes.txt'],
      });
      const unstaged = await server.call('git_diff_unstaged', { repo_path: repo, context_lines: 0 });
      expect(unstaged.structuredContent).toMatchObject({
        files: [{ path: 'src/app.ts', additions: 1, deletions: 1 }],
      });
      expect(textOf(unstaged)).toContain('+export const answer = 43;');
      await server.call('git_add', { repo_path: repo, files: ['src/app.ts'] });
      const staged = await server.call('git_diff_staged', { repo_path: repo });
      expect(staged.structuredContent).toMatchObject({ files: [{ path: 'src/app.ts' }] });
      const commit = await server.call('git_commit', {
        repo_path: repo,
        message: '--amend is just text here',
      });
      expect(commit.isError).toBeFalsy();
      const hash = (commit.structuredContent as { hash: string }).hash;
      expect(sh(repo, 'log', '-1', '--format=%H %s').trim()).toBe(`${hash} --amend is just text here`);
      const log = await server.call('git_log', { repo_path: repo, max_count: 2 });
      const commits = (
        log.structuredContent as { commits: Array<{ subject: string }>; next_skip: number | null }
      ).commits;
      expect(commits.map((item) => item.subject)).toEqual(['--amend is just text here', 'Add the app']);
      expect((log.structuredContent as { next_skip: number | null }).next_skip).toBe(2);
      const page = await server.call('git_log', { repo_path: repo, max_count: 2, skip: 2 });
      expect(
        (page.structuredContent as { commits: Array<{ subject: string }> }).commits.map(
          (item) => item.subject,
        ),
      ).toEqual(['First commit']);
      const diff = await server.call('git_diff', { repo_path: repo, target: 'HEAD~1' });
      expect(
        (diff.structuredContent as { files: Array<{ path: string }> }).files.map((file) => file.path),
      ).toEqual(['src/app.ts']);
      const show = await server.call('git_show', { repo_path: repo, revision: hash });
      expect(show.structuredContent).toMatchObject({
        commit: { hash, subject: '--amend is just text here' },
      });
      await server.call('git_add', { repo_path: repo, files: ['notes.txt'] });
      await server.call('git_reset', { repo_path: repo });
      expect(sh(repo, 'diff', '--cached', '--name-only').trim()).toBe('');
      await server.close();
    });

    it('creates, lists and switches branches', async () => {
      const server = await connect({ repositories: [repo] });
      const created = await server.call('git_create_branch', {
        repo_path: repo,
        branch_name: 'topic',
        base_branch: 'feature',
      });
      expect(created.isError).toBeFalsy();
      const branches = await server.call('git_branch', { repo_path: repo, branch_type: 'local' });
      expect(
        (branches.structuredContent as { branches: Array<{ name: string; current: boolean }> }).branches,
      ).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ name: 'main', current: true }),
          expect.objectContaining({ name: 'topic' }),
        ]),
      );
      await server.call('git_checkout', { repo_path: repo, branch_name: 'topic' });
      expect(sh(repo, 'branch', '--show-current').trim()).toBe('topic');
      await server.close();
    });
  });

  describe('when the input is bad', () => {
    it('answers with a tool error naming the parameter, and changes nothing', async () => {
      const server = await connect({ repositories: [repo] });
      const before = gitDigest(repo);
      const cases: Array<[string, Record<string, unknown>, RegExp]> = [
        [
          'git_diff',
          { repo_path: repo, target: '--output=/tmp/pwned' },
          /target: expected a name that does not start with "-"/,
        ],
        [
          'git_show',
          { repo_path: repo, revision: 'no-such-commit' },
          /revision: expected a revision of this repository/,
        ],
        ['git_checkout', { repo_path: repo, branch_name: '-f' }, /branch_name/],
        [
          'git_create_branch',
          { repo_path: repo, branch_name: 'bad..name' },
          /branch_name: expected a valid branch name/,
        ],
        [
          'git_add',
          { repo_path: repo, files: ['../outside.txt'] },
          /files\[0\]: \.\.\/outside\.txt is outside the repository/,
        ],
        ['git_log', { repo_path: repo, start_timestamp: '--all' }, /start_timestamp/],
        ['git_branch', { repo_path: repo, contains: '--exec=evil' }, /contains/],
        ['git_status', { repo_path: '/' }, /not inside a repository this server was given/],
      ];
      for (const [tool, args, message] of cases) {
        const result = await server.call(tool, args);
        expect(result.isError, tool).toBe(true);
        expect(textOf(result), tool).toMatch(message);
        expect(textOf(result), tool).not.toMatch(/at .*\.js:\d+/);
      }
      expect(existsSync('/tmp/pwned')).toBe(false);
      expect(gitDigest(repo)).toBe(before);
      await server.close();
    });

    it('refuses to stage what looks like a secret unless confirmed, staging nothing of the batch', async () => {
      const server = await connect({ repositories: [repo] });
      write(repo, '.env', 'TOKEN=abc\n');
      write(repo, 'ok.txt', 'fine\n');
      const refused = await server.call('git_add', { repo_path: repo, files: ['ok.txt', '.env'] });
      expect(refused.isError).toBe(true);
      expect(textOf(refused)).toMatch(/look like secrets: \.env; nothing was staged/);
      expect(sh(repo, 'diff', '--cached', '--name-only').trim()).toBe('');
      const confirmed = await server.call('git_add', {
        repo_path: repo,
        files: ['.env'],
        confirm_secrets: true,
      });
      expect(confirmed.structuredContent).toMatchObject({ staged: ['.env'], secrets: ['.env'] });
      await server.close();
    });
  });
});

describe('permission tiers', () => {
  it('refuses writes on a read-only server with an error that names the flag', async () => {
    const server = await connect({ repositories: [repo], permissions: { readOnly: true } });
    write(repo, 'a.txt', 'a\n');
    const result = await server.call('git_add', { repo_path: repo, files: ['a.txt'] });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/local write operation.*drop --read-only/);
    expect(sh(repo, 'diff', '--cached', '--name-only').trim()).toBe('');
    await server.close();
  });
});

describe('git_log', () => {
  it('answers no commits for a repository without any, and names a revision that names nothing', async () => {
    const empty = join(temp.path, 'empty');
    sh(temp.path, 'init', '--quiet', empty);
    const server = await connect({ repositories: [repo, empty] });
    const none = await server.call('git_log', { repo_path: empty });
    expect(none.structuredContent).toEqual({ commits: [], truncated: false, next_skip: null });
    const bad = await server.call('git_log', { repo_path: repo, revision: 'no-such-branch' });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toMatch(/^revision: expected a revision of this repository/);
    await server.close();
  });
});

describe('client roots', () => {
  it('narrow the repositories, never widen them, and follow the client when its roots change', async () => {
    const other = makeRepository(join(temp.path, 'other'));
    const outside = makeRepository(join(temp.path, 'outside'));
    const { server } = await createGitMcpServer({ repositories: [repo, other] });
    let roots = [{ uri: pathToFileURL(repo).href }, { uri: pathToFileURL(outside).href }];
    const client = new Client(
      { name: 'rooted', version: '1.0.0' },
      { capabilities: { roots: { listChanged: true } } },
    );
    client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots }));
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
    const listed = async (): Promise<string[]> => {
      const result = await client.callTool({ name: 'list_repositories', arguments: {} });
      return (result.structuredContent as { repositories: string[] }).repositories;
    };
    await vi.waitFor(async () => expect(await listed()).toEqual([repo]));
    const refused = await client.callTool({ name: 'git_status', arguments: { repo_path: other } });
    expect(refused.isError).toBe(true);
    const widened = await client.callTool({ name: 'git_status', arguments: { repo_path: outside } });
    expect(widened.isError).toBe(true);
    roots = [{ uri: pathToFileURL(other).href }];
    await client.sendRootsListChanged();
    await vi.waitFor(async () => expect(await listed()).toEqual([other]));
    await client.close();
    await server.close();
  });
});

describe('bare repositories', () => {
  it('are served: their git dir is the repository', async () => {
    const bare = join(temp.path, 'bare.git');
    sh(temp.path, 'clone', '--quiet', '--bare', repo, bare);
    const server = await connect({ repositories: [bare] });
    const log = await server.call('git_log', { repo_path: bare, max_count: 1 });
    expect(log.isError).toBeFalsy();
    expect(log.structuredContent).toMatchObject({ commits: [{ subject: 'Add the app' }] });
    await server.close();
  });
});

describe('a read-only server', () => {
  it('refuses network operations even with --allow-network, naming the flags', async () => {
    const server = await connect({ repositories: [repo], permissions: { readOnly: true, network: true } });
    const result = await server.call('git_fetch', { repo_path: repo });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/--allow-network \(without --read-only\)/);
    await server.close();
  });
});

describe('security', () => {
  it('leaves .git byte-identical on every read tool, even with a dirty work tree', async () => {
    const server = await connect({ repositories: [repo] });
    write(repo, 'src/app.ts', 'changed\n');
    sh(repo, 'status'); // let git refresh the index once, as a user would
    const before = gitDigest(repo);
    // Status three times: the work-tree watch starts, keeps an answer, then serves it.
    for (let call = 0; call < 3; call += 1) await server.call('git_status', { repo_path: repo });
    await server.call('git_blame', { repo_path: repo, path: 'README.md' });
    await server.call('git_blame', { repo_path: repo, path: 'README.md' });
    await server.call('git_diff_unstaged', { repo_path: repo });
    await server.call('git_diff_staged', { repo_path: repo });
    await server.call('git_diff', { repo_path: repo, target: 'HEAD' });
    await server.call('git_log', { repo_path: repo });
    await server.call('git_show', { repo_path: repo, revision: 'HEAD' });
    await server.call('git_branch', { repo_path: repo });
    expect(gitDigest(repo)).toBe(before);
    await server.close();
  });

  it('does not admit a prefix-sibling repository (/repo does not admit /repo-evil)', async () => {
    const evil = makeRepository(join(temp.path, 'repo-evil'));
    const server = await connect({ repositories: [repo] });
    const result = await server.call('git_status', { repo_path: evil });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/not inside a repository this server was given/);
    await server.close();
  });

  it('follows neither a symlink nor a .git file out of the allowed repository', async () => {
    const outside = makeRepository(join(temp.path, 'outside'));
    symlinkSync(outside, join(repo, 'link'));
    const server = await connect({ repositories: [repo] });
    const viaLink = await server.call('git_status', { repo_path: join(repo, 'link') });
    expect(viaLink.isError).toBe(true);
    write(repo, 'sub/.git', `gitdir: ${join(outside, '.git')}\n`);
    const viaGitFile = await server.call('git_status', { repo_path: join(repo, 'sub') });
    expect(viaGitFile.isError).toBe(true);
    expect(textOf(viaGitFile)).toMatch(/git dir .* is outside the allowed repositories/);
    symlinkSync('/etc', join(repo, 'etc-link'));
    const viaPath = await server.call('git_add', { repo_path: repo, files: ['etc-link/passwd'] });
    expect(viaPath.isError).toBe(true);
    expect(textOf(viaPath)).toMatch(/outside the repository/);
    await server.close();
  });

  it('runs no program a hostile .git/config names: fsmonitor, hooks, pager, external diff, textconv', async () => {
    const marker = join(temp.path, 'pwned');
    const evil = `touch ${marker}`;
    write(repo, '.gitattributes', '*.ts diff=evil filter=evil\n');
    sh(repo, 'add', '.gitattributes');
    sh(repo, 'commit', '--quiet', '-m', 'attributes');
    write(repo, '.git/hooks/pre-commit', `#!/bin/sh\n${evil}\n`);
    chmodSync(join(repo, '.git/hooks/pre-commit'), 0o755);
    for (const [key, value] of [
      ['core.fsmonitor', evil],
      ['core.pager', evil],
      ['diff.external', evil],
      ['diff.evil.textconv', evil],
      ['filter.evil.clean', evil],
      ['filter.evil.smudge', evil],
    ]) {
      sh(repo, 'config', key as string, value as string);
    }
    expect(existsSync(marker)).toBe(false);
    const server = await connect({ repositories: [repo] });
    write(repo, 'src/app.ts', 'changed\n');
    await server.call('git_status', { repo_path: repo });
    await server.call('git_diff_unstaged', { repo_path: repo });
    await server.call('git_add', { repo_path: repo, files: ['src/app.ts'] });
    await server.call('git_commit', { repo_path: repo, message: 'hooks must not run' });
    await server.call('git_show', { repo_path: repo, revision: 'HEAD' });
    expect(existsSync(marker)).toBe(false);
    await server.close();
  });

  it('blanks a filter the config gains while the server runs', async () => {
    const marker = join(temp.path, 'late');
    write(repo, '.gitattributes', '*.md filter=late\n');
    sh(repo, 'add', '.gitattributes');
    sh(repo, 'commit', '--quiet', '-m', 'attributes');
    const server = await connect({ repositories: [repo] });
    await server.call('git_status', { repo_path: repo });
    sh(repo, 'config', 'filter.late.clean', `touch ${marker}`);
    write(repo, 'README.md', '# changed\n');
    await server.call('git_status', { repo_path: repo });
    await server.call('git_add', { repo_path: repo, files: ['README.md'] });
    expect(existsSync(marker)).toBe(false);
    await server.close();
  });

  it('ignores GIT_* variables of its own environment', async () => {
    const saved = process.env.GIT_DIR;
    process.env.GIT_DIR = join(temp.path, 'elsewhere');
    try {
      const server = await connect({ repositories: [repo] });
      const status = await server.call('git_status', { repo_path: repo });
      expect(status.isError).toBeFalsy();
      expect(status.structuredContent).toMatchObject({ branch: 'main' });
      await server.close();
    } finally {
      if (saved === undefined) delete process.env.GIT_DIR;
      else process.env.GIT_DIR = saved;
    }
  });
});

describe('the mcp-git bin over stdio', () => {
  it('serves the SDK client: tools/list and a call', async () => {
    const bin = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [bin, '--repo', repo],
      stderr: 'pipe',
    });
    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(transport);
    const { tools } = await client.listTools();
    expect(tools.length).toBeGreaterThanOrEqual(13);
    const result = await client.callTool({ name: 'git_log', arguments: { repo_path: repo, max_count: 1 } });
    expect(result.structuredContent).toMatchObject({ commits: [{ subject: 'Add the app' }] });
    await client.close();
  });

  it('sees every change made just before a status call, across processes (the work-tree watch)', async () => {
    const root = makeRepository(join(temp.path, 'watched-over-stdio'));
    const bin = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [bin, '--repo', root],
      stderr: 'pipe',
    });
    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(transport);
    try {
      const status = async () =>
        (await client.callTool({ name: 'git_status', arguments: { repo_path: root } })).structuredContent as {
          unstaged: Array<{ path: string }>;
          untracked: string[];
        };
      for (let call = 0; call < 3; call += 1) await status();
      for (let round = 0; round < 30; round += 1) {
        // Written synchronously, then asked at once: the server must have seen the change.
        const changed = round % 2 === 0;
        write(
          root,
          'src/app.ts',
          changed ? `export const answer = ${round};\n` : 'export const answer = 42;\n',
        );
        if (round % 3 === 0) write(root, `new-${round}/deep/file.txt`, 'new\n');
        const answer = await status();
        expect(answer.unstaged.some((entry) => entry.path === 'src/app.ts')).toBe(changed);
        if (round % 3 === 0) expect(answer.untracked).toContain(`new-${round}/deep/file.txt`);
        // Unchanged since: asked again, the same answer.
        expect(await status()).toEqual(answer);
      }
    } finally {
      await client.close();
    }
  });
});
