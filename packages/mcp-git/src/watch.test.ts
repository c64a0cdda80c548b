import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RepositoryGuard } from './guard.js';
import { sharedMemo } from './memo.js';
import { connect, makeRepository, sh, tempDir, write } from './test-support.js';
import type { WorkTreeWatcher } from './watch.js';

// git_status served from the work-tree watch must always equal what git says right now. Every
// change below is followed at once by a status call (no waiting), and the answer is compared with
// a server that asks git every time (cache: false).

type Status = {
  branch: string | null;
  head: string | null;
  staged: Array<{ path: string; status: string }>;
  unstaged: Array<{ path: string; status: string }>;
  untracked: string[];
  clean: boolean;
};

interface Fixture {
  root: string;
  watcher: WorkTreeWatcher;
  cached(): Promise<Status>;
  truth(): Promise<Status>;
  /** Calls status on both servers and expects the same answer. */
  same(): Promise<Status>;
  close(): Promise<void>;
}

async function fixture(root: string): Promise<Fixture> {
  const withCache = await connect({ repositories: [root] });
  const withoutCache = await connect({ repositories: [root], cache: false });
  const guard = await RepositoryGuard.create([root]);
  const watcher = sharedMemo().watchers.for(await guard.open(root)) as WorkTreeWatcher;
  const status = async (server: typeof withCache): Promise<Status> => {
    const result = await server.call('git_status', { repo_path: root });
    expect(result.isError).toBeFalsy();
    return result.structuredContent as Status;
  };
  const cached = (): Promise<Status> => status(withCache);
  const truth = (): Promise<Status> => status(withoutCache);
  return {
    root,
    watcher,
    cached,
    truth,
    async same() {
      const answer = await cached();
      expect(answer).toEqual(await truth());
      return answer;
    },
    async close() {
      await withCache.close();
      await withoutCache.close();
    },
  };
}

/** Calls status until the watch is in place and an answer is kept, so the next call is served from it. */
async function settle(subject: Fixture): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    await subject.cached();
    if (subject.watcher.state === 'ready') {
      const before = subject.watcher.stats.hits;
      await subject.cached();
      if (subject.watcher.stats.hits > before) return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(
    `the watch never served an answer (state ${subject.watcher.state}, ${subject.watcher.reason})`,
  );
}

describe('git_status from the work-tree watch', () => {
  const temp = tempDir();
  let subject: Fixture;

  beforeAll(async () => {
    const root = makeRepository(join(temp.path, 'repo'));
    write(root, '.gitignore', 'build/\n*.log\n');
    write(root, 'lib/deep/util.ts', 'export const util = 1;\n');
    sh(root, 'add', '.');
    sh(root, 'commit', '--quiet', '-m', 'More files');
    mkdirSync(join(root, 'build', 'out'), { recursive: true });
    write(root, 'build/out/bundle.js', 'bundle\n');
    subject = await fixture(root);
    await settle(subject);
  });
  afterAll(async () => {
    await subject.close();
    temp.cleanup();
  });

  it("serves a repeated status without git while nothing changes, and it is git's answer", async () => {
    const hits = subject.watcher.stats.hits;
    const answer = await subject.same();
    await subject.same();
    expect(subject.watcher.stats.hits).toBe(hits + 2);
    expect(answer.clean).toBe(true);
    expect(answer.branch).toBe('main');
  });

  it('stays valid when another tool runs git status, which takes index.lock and drops it', async () => {
    // Files written in the same second as the index are racily clean, and git status rewrites the
    // index for them (a real change). A second later, one status leaves a clean index behind.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    sh(subject.root, 'status', '--porcelain');
    await subject.same();
    await subject.same();
    const hits = subject.watcher.stats.hits;
    for (let round = 0; round < 3; round += 1) {
      sh(subject.root, 'status', '--porcelain');
      await subject.same();
    }
    expect(subject.watcher.stats.hits).toBe(hits + 3);
    // A lock renamed into place is a change: git add writes index.lock, then renames it to index.
    write(subject.root, 'src/app.ts', 'export const answer = 44;\n');
    await subject.same();
    sh(subject.root, 'add', 'src/app.ts');
    expect((await subject.same()).staged).toContainEqual({ path: 'src/app.ts', status: 'M ' });
    sh(subject.root, 'reset', '--quiet', '--hard');
    await subject.same();
  });

  it('sees a changed tracked file at once', async () => {
    write(subject.root, 'src/app.ts', 'export const answer = 43;\n');
    const answer = await subject.same();
    expect(answer.unstaged).toEqual([{ path: 'src/app.ts', status: ' M' }]);
    // The next call, with nothing changed since, is served from the watch again.
    await subject.same();
    const hits = subject.watcher.stats.hits;
    await subject.same();
    expect(subject.watcher.stats.hits).toBe(hits + 1);
  });

  it('sees a change made just before the lookup, with no turn of the event loop between', async () => {
    await subject.same();
    await subject.same();
    // Written synchronously and looked up at once: only the barrier makes the change's event
    // arrive before the kept answer would be served.
    writeFileSync(join(subject.root, 'README.md'), 'changed just now\n');
    expect(await subject.watcher.lookup(String(1024 * 1024))).toBeUndefined();
    sh(subject.root, 'checkout', '--', 'README.md');
    await subject.same();
  });

  it('sees a new folder, and files added to it later', async () => {
    write(subject.root, 'fresh/one.txt', '1\n');
    expect((await subject.same()).untracked).toContain('fresh/one.txt');
    await subject.same();
    write(subject.root, 'fresh/two.txt', '2\n');
    expect((await subject.same()).untracked).toContain('fresh/two.txt');
    // Folders made several levels deep in one go, and a file added under them afterwards.
    mkdirSync(join(subject.root, 'a/b/c'), { recursive: true });
    writeFileSync(join(subject.root, 'a/b/c/first.txt'), 'first\n');
    expect((await subject.same()).untracked).toContain('a/b/c/first.txt');
    await subject.same();
    writeFileSync(join(subject.root, 'a/b/c/second.txt'), 'second\n');
    expect((await subject.same()).untracked).toContain('a/b/c/second.txt');
    rmSync(join(subject.root, 'fresh'), { recursive: true });
    rmSync(join(subject.root, 'a'), { recursive: true });
    expect((await subject.same()).untracked).toEqual([]);
  });

  it('sees a deleted file, a mode change and a renamed folder', async () => {
    rmSync(join(subject.root, 'README.md'));
    expect((await subject.same()).unstaged).toContainEqual({ path: 'README.md', status: ' D' });
    sh(subject.root, 'checkout', '--', 'README.md');
    await subject.same();
    chmodSync(join(subject.root, 'lib/deep/util.ts'), 0o755);
    expect((await subject.same()).unstaged).toContainEqual({ path: 'lib/deep/util.ts', status: ' M' });
    chmodSync(join(subject.root, 'lib/deep/util.ts'), 0o644);
    await subject.same();
    renameSync(join(subject.root, 'lib/deep'), join(subject.root, 'lib/moved'));
    const moved = await subject.same();
    expect(moved.untracked).toContain('lib/moved/util.ts');
    // A change inside the renamed folder, which was watched under its old name.
    writeFileSync(join(subject.root, 'lib/moved/extra.ts'), 'x\n');
    expect((await subject.same()).untracked).toContain('lib/moved/extra.ts');
    rmSync(join(subject.root, 'lib/moved'), { recursive: true });
    sh(subject.root, 'checkout', '--', 'lib');
    await subject.same();
  });

  it('sees staging, commits, branch switches and ref moves made by git itself', async () => {
    write(subject.root, 'staged.txt', 'staged\n');
    await subject.same();
    sh(subject.root, 'add', 'staged.txt');
    expect((await subject.same()).staged).toContainEqual({ path: 'staged.txt', status: 'A ' });
    sh(subject.root, 'commit', '--quiet', '-am', 'Commit everything');
    const committed = await subject.same();
    expect(committed.staged).toEqual([]);
    expect(committed.head).toBe(sh(subject.root, 'rev-parse', 'HEAD').trim());
    sh(subject.root, 'switch', '--quiet', 'feature');
    expect((await subject.same()).branch).toBe('feature');
    sh(subject.root, 'switch', '--quiet', 'main');
    await subject.same();
    sh(subject.root, 'reset', '--quiet', '--soft', 'HEAD~1');
    expect((await subject.same()).staged.length).toBeGreaterThan(0);
    sh(subject.root, 'commit', '--quiet', '-m', 'Again');
    await subject.same();
    // A branch in a new ref folder, then a ref moved by update-ref alone.
    sh(subject.root, 'branch', 'topic/one');
    await subject.same();
    sh(subject.root, 'switch', '--quiet', 'topic/one');
    await subject.same();
    sh(subject.root, 'update-ref', 'refs/heads/topic/one', 'HEAD~1');
    const moved = await subject.same();
    expect(moved.head).toBe(sh(subject.root, 'rev-parse', 'topic/one').trim());
    sh(subject.root, 'switch', '--quiet', 'main');
    sh(subject.root, 'checkout', '--quiet', '--', '.');
    await subject.same();
  });

  it('ignores what is ignored, and sees a folder that stops being ignored', async () => {
    write(subject.root, 'build/out/more.js', 'more\n');
    write(subject.root, 'debug.log', 'log\n');
    expect((await subject.same()).untracked).toEqual([]);
    // Un-ignore build/: its files show, and a file added to it afterwards too.
    write(subject.root, '.gitignore', '*.log\n');
    expect((await subject.same()).untracked).toContain('build/out/bundle.js');
    await subject.same();
    await subject.same();
    write(subject.root, 'build/out/late.js', 'late\n');
    expect((await subject.same()).untracked).toContain('build/out/late.js');
    // info/exclude counts too.
    writeFileSync(join(subject.root, '.git/info/exclude'), 'build/\n');
    expect((await subject.same()).untracked).not.toContain('build/out/late.js');
    writeFileSync(join(subject.root, '.git/info/exclude'), '');
    sh(subject.root, 'checkout', '--', '.gitignore');
    expect((await subject.same()).untracked).toEqual([]);
  });

  it('matches git through a burst of random changes, each followed at once by status', async () => {
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const files = ['src/app.ts', 'README.md', 'lib/deep/util.ts', 'notes/a.txt', 'notes/b/c.txt', 'top.txt'];
    for (let step = 0; step < 60; step += 1) {
      const file = files[Math.floor(random() * files.length)] as string;
      const action = random();
      if (action < 0.6) write(subject.root, file, `step ${step} ${random()}\n`);
      else if (action < 0.8) rmSync(join(subject.root, file), { force: true });
      else if (action < 0.9) sh(subject.root, 'add', '--all');
      else sh(subject.root, 'reset', '--quiet');
      await subject.same();
    }
    expect(subject.watcher.state).toBe('ready');
    sh(subject.root, 'reset', '--quiet', '--hard');
    sh(subject.root, 'clean', '--quiet', '-fd');
    expect((await subject.same()).clean).toBe(true);
  });
});

describe('when the watch stays off', () => {
  const temp = tempDir();
  afterAll(() => temp.cleanup());

  it('leaves a repository with submodules to git, and its answers are still right', async () => {
    const root = makeRepository(join(temp.path, 'with-modules'));
    write(root, '.gitmodules', '[submodule "x"]\n\tpath = x\n\turl = ./x\n');
    const subject = await fixture(root);
    try {
      for (let call = 0; call < 3; call += 1) await subject.same();
      expect(subject.watcher.state).toBe('off');
      expect(subject.watcher.reason).toMatch(/submodules/);
      write(root, 'README.md', 'changed\n');
      expect((await subject.same()).unstaged).toContainEqual({ path: 'README.md', status: ' M' });
      expect(subject.watcher.stats.hits).toBe(0);
    } finally {
      await subject.close();
    }
  });

  it('leaves a repository with a nested repository to git', async () => {
    const root = makeRepository(join(temp.path, 'with-nested'));
    makeRepository(join(root, 'vendor/inner'));
    const subject = await fixture(root);
    try {
      for (let call = 0; call < 3; call += 1) await subject.same();
      expect(subject.watcher.state).toBe('off');
      expect(subject.watcher.reason).toMatch(/nested repository/);
    } finally {
      await subject.close();
    }
  });

  it('leaves a repository whose config includes other files to git (they may name an excludes file)', async () => {
    const root = makeRepository(join(temp.path, 'with-include'));
    write(temp.path, 'extra.gitconfig', '[core]\n\texcludesFile = /nonexistent/excludes\n');
    sh(root, 'config', 'include.path', join(temp.path, 'extra.gitconfig'));
    const subject = await fixture(root);
    try {
      for (let call = 0; call < 3; call += 1) await subject.same();
      expect(subject.watcher.state).toBe('off');
      expect(subject.watcher.reason).toMatch(/includes files/);
      expect(subject.watcher.stats.hits).toBe(0);
    } finally {
      await subject.close();
    }
  });

  it('is not used with cache: false', async () => {
    const root = makeRepository(join(temp.path, 'uncached'));
    const server = await connect({ repositories: [root], cache: false });
    try {
      for (let call = 0; call < 3; call += 1) await server.call('git_status', { repo_path: root });
      const guard = await RepositoryGuard.create([root]);
      const watcher = sharedMemo().watchers.for(await guard.open(root));
      expect(watcher?.state).toBe('new');
    } finally {
      await server.close();
    }
  });
});
