import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnswerCache } from './memo.js';
import { connect, makeRepository, sh, tempDir, write } from './test-support.js';

// Answers about a commit are kept; everything that shapes them besides the commit must show up
// in the next answer at once. Each check compares with a server that asks git every time.

type Commit = { hash: string; author: string; email: string; subject: string };

describe('kept answers about commits', () => {
  const temp = tempDir();
  let root: string;
  let cached: Awaited<ReturnType<typeof connect>>;
  let plain: Awaited<ReturnType<typeof connect>>;

  /** Calls a tool on both servers, expects the same answer, returns it. */
  const same = async (tool: string, args: Record<string, unknown>) => {
    const mine = await cached.call(tool, { repo_path: root, ...args });
    const theirs = await plain.call(tool, { repo_path: root, ...args });
    expect(mine).toEqual(theirs);
    return mine;
  };
  const log = async (args: Record<string, unknown> = {}): Promise<Commit[]> =>
    ((await same('git_log', { max_count: 5, ...args })).structuredContent as { commits: Commit[] }).commits;

  beforeAll(async () => {
    root = makeRepository(join(temp.path, 'repo'));
    cached = await connect({ repositories: [root] });
    plain = await connect({ repositories: [root], cache: false });
  });
  afterAll(async () => {
    await cached.close();
    await plain.close();
    temp.cleanup();
  });

  it('follows HEAD: a new commit, a branch switch, a reset', async () => {
    await log();
    await log();
    write(root, 'new.txt', 'new\n');
    sh(root, 'add', 'new.txt');
    sh(root, 'commit', '--quiet', '-m', 'Third commit');
    expect((await log())[0]?.subject).toBe('Third commit');
    sh(root, 'switch', '--quiet', 'feature');
    expect((await log())[0]?.subject).toBe('Add the app');
    sh(root, 'switch', '--quiet', 'main');
    expect((await log())[0]?.subject).toBe('Third commit');
    sh(root, 'reset', '--quiet', '--hard', 'HEAD~1');
    expect((await log())[0]?.subject).toBe('Add the app');
    sh(root, 'pack-refs', '--all');
    sh(root, 'commit', '--quiet', '--allow-empty', '-m', 'After packing');
    expect((await log())[0]?.subject).toBe('After packing');
  });

  // log prints the recorded author (%an); blame maps it through the mailmap.
  const blameAuthor = async (): Promise<{ author: string; email: string } | undefined> =>
    (
      (await same('git_blame', { path: 'README.md' })).structuredContent as {
        lines: Array<{ author: string; email: string }>;
      }
    ).lines[0];

  it('applies a .mailmap added, changed or removed after the answer was kept', async () => {
    await blameAuthor();
    expect(await blameAuthor()).toMatchObject({ author: 'Test Author' });
    write(root, '.mailmap', 'Real Name <real@example.com> <author@example.com>\n');
    expect(await blameAuthor()).toMatchObject({ author: 'Real Name', email: 'real@example.com' });
    write(root, '.mailmap', 'Other Name <author@example.com>\n');
    expect((await blameAuthor())?.author).toBe('Other Name');
    sh(root, 'clean', '--quiet', '-f', '.mailmap');
    expect((await blameAuthor())?.author).toBe('Test Author');
  });

  it('keeps nothing when the config names a mailmap file the stamp cannot see', async () => {
    const mailmap = join(temp.path, 'people.mailmap');
    write(temp.path, 'people.mailmap', 'First Name <author@example.com>\n');
    sh(root, 'config', 'mailmap.file', mailmap);
    expect((await blameAuthor())?.author).toBe('First Name');
    write(temp.path, 'people.mailmap', 'Second Name <author@example.com>\n');
    expect((await blameAuthor())?.author).toBe('Second Name');
    sh(root, 'config', '--unset', 'mailmap.file');
    expect((await blameAuthor())?.author).toBe('Test Author');
  });

  it('keeps show of a full hash and of HEAD apart, and HEAD moves', async () => {
    const head = sh(root, 'rev-parse', 'HEAD').trim();
    const byHash = await same('git_show', { revision: head });
    expect((byHash.structuredContent as { commit: Commit }).commit.hash).toBe(head);
    sh(root, 'commit', '--quiet', '--allow-empty', '-m', 'Moved on');
    const byHead = await same('git_show', { revision: 'HEAD' });
    expect((byHead.structuredContent as { commit: Commit }).commit.subject).toBe('Moved on');
    // The earlier commit by its hash is still that commit.
    const again = await same('git_show', { revision: head });
    expect((again.structuredContent as { commit: Commit }).commit.hash).toBe(head);
    // An abbreviated hash is resolved by git (not kept under the full one's key).
    await same('git_show', { revision: head.slice(0, 10) });
  });

  it('blames the file as committed at the new HEAD', async () => {
    const lines = async () =>
      (
        (await same('git_blame', { path: 'src/app.ts' })).structuredContent as {
          lines: Array<{ content: string }>;
        }
      ).lines;
    expect((await lines())[0]?.content).toBe('export const answer = 42;');
    write(root, 'src/app.ts', 'export const answer = 43;\n');
    // Uncommitted changes are not blamed: same answer.
    expect((await lines())[0]?.content).toBe('export const answer = 42;');
    sh(root, 'commit', '--quiet', '-am', 'Change the answer');
    expect((await lines())[0]?.content).toBe('export const answer = 43;');
  });

  it('keeps answers apart for servers with different byte caps in one process', async () => {
    const small = await connect({ repositories: [root], maxBytes: 200 });
    try {
      const cut = await small.call('git_log', { repo_path: root, max_count: 5 });
      expect(cut.structuredContent).toMatchObject({ truncated: true });
      const whole = await cached.call('git_log', { repo_path: root, max_count: 5 });
      expect(whole.structuredContent).toMatchObject({ truncated: false });
      const status = await small.call('git_status', { repo_path: root });
      expect(status.isError).toBeFalsy();
    } finally {
      await small.close();
    }
  });

  it('answers errors the same way (unknown revision, unborn HEAD)', async () => {
    const missing = await same('git_show', { revision: 'f'.repeat(40) });
    expect(missing.isError).toBe(true);
    const fresh = join(temp.path, 'empty');
    sh(temp.path, 'init', '--quiet', fresh);
    const emptyServer = await connect({ repositories: [fresh] });
    try {
      const result = await emptyServer.call('git_log', { repo_path: fresh });
      expect(result.structuredContent).toMatchObject({ commits: [] });
    } finally {
      await emptyServer.close();
    }
  });
});

describe('AnswerCache', () => {
  const answer = (text: string) => ({ structured: { text }, text });

  it('gives back what it keeps, and drops the least recently used past its byte bound', () => {
    const cache = new AnswerCache(4000);
    cache.set('a', answer('a'.repeat(150)));
    cache.set('b', answer('b'.repeat(150)));
    expect(cache.get('a')?.text).toBe('a'.repeat(150));
    // Each entry counts about 630 bytes: the seventh goes past 4,000, and b, used least recently, goes.
    for (const key of ['c', 'd', 'e', 'f', 'g']) cache.set(key, answer(key.repeat(150)));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')?.text).toBe('a'.repeat(150));
    expect(cache.get('g')?.text).toBe('g'.repeat(150));
    expect(cache.bytes).toBeLessThanOrEqual(4000);
  });

  it('does not keep an answer larger than a quarter of its bound', () => {
    const cache = new AnswerCache(4000);
    cache.set('big', answer('w'.repeat(1000)));
    expect(cache.get('big')).toBeUndefined();
    expect(cache.bytes).toBe(0);
  });
});
