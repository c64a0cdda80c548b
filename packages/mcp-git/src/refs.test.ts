import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isFullObjectId, readHead } from './refs.js';
import { makeRepository, sh, tempDir, write } from './test-support.js';

let temp: ReturnType<typeof tempDir>;

beforeEach(() => {
  temp = tempDir('ballast-mcp-git-refs-');
  // tempDir already resolves symlinks (macOS /var -> /private/var); the paths below rely on it.
  expect(realpathSync(temp.path)).toBe(temp.path);
});

afterEach(() => temp.cleanup());

/** A fresh repository (main with two commits, a feature branch) in the test's temp folder. */
function repository(name = 'repo'): string {
  return makeRepository(join(temp.path, name));
}

/** The git dir and common dir of a plain (non-worktree) repository. */
function dirsOf(root: string): { gitDir: string; commonDir: string } {
  const gitDir = join(root, '.git');
  return { gitDir, commonDir: gitDir };
}

/** What git says HEAD is in `cwd`, or undefined when git cannot resolve it. */
function gitHead(cwd: string): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--verify', '--quiet', 'HEAD'], {
      cwd,
      env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

function revParse(cwd: string, rev: string): string {
  return sh(cwd, 'rev-parse', '--verify', rev).trim();
}

function commit(cwd: string, message: string): string {
  sh(cwd, 'commit', '--quiet', '--allow-empty', '-m', message);
  return revParse(cwd, 'HEAD');
}

const HEX40 = /^[0-9a-f]{40}$/;

describe('readHead', () => {
  describe('in a normal repository', () => {
    it('follows HEAD to the loose branch ref and agrees with git rev-parse HEAD', () => {
      const root = repository();
      expect(existsSync(join(root, '.git/refs/heads/main'))).toBe(true);
      const head = readHead(dirsOf(root));
      expect(head).toMatch(HEX40);
      expect(head).toBe(revParse(root, 'HEAD'));
      expect(head).not.toBe(revParse(root, 'HEAD~1'));
    });

    it('reads a sha256 repository too', () => {
      const root = join(temp.path, 'sha256');
      sh(temp.path, 'init', '--quiet', '--object-format=sha256', '--initial-branch=main', root);
      sh(root, 'config', 'user.name', 'Test Author');
      sh(root, 'config', 'user.email', 'author@example.com');
      const tip = commit(root, 'one');
      expect(tip).toMatch(/^[0-9a-f]{64}$/);
      expect(readHead(dirsOf(root))).toBe(tip);
    });
  });

  describe('with packed refs', () => {
    it('reads a branch that lives only in packed-refs, then lets a newer loose ref win', () => {
      const root = repository();
      const before = revParse(root, 'HEAD');
      sh(root, 'pack-refs', '--all');
      expect(existsSync(join(root, '.git/refs/heads/main'))).toBe(false);
      expect(readFileSync(join(root, '.git/packed-refs'), 'utf8')).toContain(`${before} refs/heads/main`);
      expect(readHead(dirsOf(root))).toBe(before);

      const after = commit(root, 'after packing');
      expect(after).not.toBe(before);
      // The packed entry is now stale; the loose ref git just wrote must win.
      expect(existsSync(join(root, '.git/refs/heads/main'))).toBe(true);
      expect(readFileSync(join(root, '.git/packed-refs'), 'utf8')).toContain(`${before} refs/heads/main`);
      expect(readHead(dirsOf(root))).toBe(after);
      expect(readHead(dirsOf(root))).toBe(gitHead(root));
    });

    it('skips the header and the peeled line of an annotated tag', () => {
      const root = repository();
      const featureTip = revParse(root, 'feature');
      sh(root, 'tag', '-a', '-m', 'a release', 'v1', 'HEAD~1');
      sh(root, 'pack-refs', '--all');
      sh(root, 'checkout', '--quiet', 'feature');
      const packed = readFileSync(join(root, '.git/packed-refs'), 'utf8');
      expect(packed.startsWith('# pack-refs with:')).toBe(true);
      expect(packed).toMatch(/^\^[0-9a-f]{40}$/m);
      expect(existsSync(join(root, '.git/refs/heads/feature'))).toBe(false);
      expect(readFileSync(join(root, '.git/HEAD'), 'utf8')).toBe('ref: refs/heads/feature\n');
      expect(readHead(dirsOf(root))).toBe(featureTip);
      expect(readHead(dirsOf(root))).toBe(gitHead(root));
    });

    it('re-parses packed-refs when git rewrites it', () => {
      const root = repository();
      const first = revParse(root, 'HEAD');
      sh(root, 'pack-refs', '--all');
      expect(readHead(dirsOf(root))).toBe(first);

      const target = revParse(root, 'HEAD~1');
      sh(root, 'update-ref', 'refs/heads/main', target);
      sh(root, 'pack-refs', '--all');
      expect(existsSync(join(root, '.git/refs/heads/main'))).toBe(false);
      expect(readFileSync(join(root, '.git/packed-refs'), 'utf8')).toContain(`${target} refs/heads/main`);
      expect(readHead(dirsOf(root))).toBe(target);
      expect(readHead(dirsOf(root))).toBe(gitHead(root));
    });
  });

  describe('with a detached HEAD', () => {
    it('returns the commit written in HEAD', () => {
      const root = repository();
      const tip = revParse(root, 'HEAD');
      sh(root, 'checkout', '--quiet', '--detach', 'HEAD~1');
      expect(readFileSync(join(root, '.git/HEAD'), 'utf8').trim()).toMatch(HEX40);
      const head = readHead(dirsOf(root));
      expect(head).toBe(revParse(root, 'HEAD'));
      expect(head).toBe(revParse(root, 'main~1'));
      expect(head).not.toBe(tip);
    });
  });

  describe('on an unborn branch', () => {
    it('returns undefined in a fresh repository', () => {
      const root = join(temp.path, 'empty');
      sh(temp.path, 'init', '--quiet', '--initial-branch=main', root);
      expect(gitHead(root)).toBeUndefined();
      expect(readHead(dirsOf(root))).toBeUndefined();
    });

    it('returns undefined for an orphan branch while other branches are packed', () => {
      const root = repository();
      sh(root, 'pack-refs', '--all');
      sh(root, 'checkout', '--quiet', '--orphan', 'fresh');
      expect(gitHead(root)).toBeUndefined();
      expect(readHead(dirsOf(root))).toBeUndefined();
    });
  });

  describe('in a linked worktree', () => {
    function worktree(main: string, name: string): { path: string; gitDir: string; commonDir: string } {
      const path = join(temp.path, name);
      sh(main, 'worktree', 'add', '--quiet', '-b', `${name}-branch`, path);
      const gitDir = realpathSync(sh(path, 'rev-parse', '--absolute-git-dir').trim());
      const common = sh(path, 'rev-parse', '--git-common-dir').trim();
      const commonDir = realpathSync(isAbsolute(common) ? common : resolve(path, common));
      return { path, gitDir, commonDir };
    }

    it('reads HEAD from the worktree git dir and the branch from the common dir', () => {
      const main = repository('main');
      const wt = worktree(main, 'wt');
      expect(wt.gitDir).toBe(join(main, '.git/worktrees/wt'));
      expect(wt.commonDir).toBe(join(main, '.git'));
      expect(readHead(wt)).toBe(revParse(wt.path, 'HEAD'));

      const mainHead = revParse(main, 'HEAD');
      const wtHead = commit(wt.path, 'in the worktree');
      expect(wtHead).not.toBe(mainHead);
      expect(readHead(wt)).toBe(wtHead);
      expect(readHead(wt)).toBe(gitHead(wt.path));
      expect(readHead(dirsOf(main))).toBe(mainHead);
      expect(readHead(dirsOf(main))).toBe(gitHead(main));
    });

    it('reads a detached worktree HEAD and a packed worktree branch', () => {
      const main = repository('main');
      const wt = worktree(main, 'wt');
      const wtHead = commit(wt.path, 'in the worktree');
      sh(main, 'pack-refs', '--all');
      expect(existsSync(join(main, '.git/refs/heads/wt-branch'))).toBe(false);
      expect(readHead(wt)).toBe(wtHead);

      sh(wt.path, 'checkout', '--quiet', '--detach', 'HEAD~1');
      expect(readHead(wt)).toBe(revParse(wt.path, 'HEAD'));
      expect(readHead(wt)).not.toBe(wtHead);
      expect(readHead(dirsOf(main))).toBe(revParse(main, 'HEAD'));
    });

    it('reads a per-worktree ref (refs/worktree/) from the worktree git dir', () => {
      const main = repository('main');
      const wt = worktree(main, 'wt');
      const older = revParse(main, 'HEAD~1');
      sh(wt.path, 'update-ref', 'refs/worktree/pin', older);
      expect(existsSync(join(wt.gitDir, 'refs/worktree/pin'))).toBe(true);
      sh(wt.path, 'symbolic-ref', 'HEAD', 'refs/worktree/pin');
      expect(gitHead(wt.path)).toBe(older);
      expect(readHead(wt)).toBe(older);
      expect(readHead(dirsOf(main))).toBe(revParse(main, 'HEAD'));
    });
  });

  describe('with symbolic refs', () => {
    it('follows HEAD -> refs/heads/alias -> refs/heads/main', () => {
      const root = repository();
      sh(root, 'checkout', '--quiet', 'feature');
      commit(root, 'feature moves on');
      sh(root, 'symbolic-ref', 'refs/heads/alias', 'refs/heads/main');
      sh(root, 'symbolic-ref', 'HEAD', 'refs/heads/alias');
      expect(readFileSync(join(root, '.git/refs/heads/alias'), 'utf8')).toBe('ref: refs/heads/main\n');
      const head = readHead(dirsOf(root));
      expect(head).toBe(revParse(root, 'HEAD'));
      expect(head).toBe(revParse(root, 'main'));
      expect(head).not.toBe(revParse(root, 'feature'));
    });

    it('follows a chain of four refs, as deep as git goes', () => {
      const root = repository();
      const older = revParse(root, 'HEAD~1');
      write(root, '.git/refs/heads/a1', 'ref: refs/heads/a2\n');
      write(root, '.git/refs/heads/a2', 'ref: refs/heads/a3\n');
      write(root, '.git/refs/heads/a3', 'ref: refs/heads/a4\n');
      write(root, '.git/refs/heads/a4', `${older}\n`);
      write(root, '.git/HEAD', 'ref: refs/heads/a1\n');
      expect(gitHead(root)).toBe(older);
      expect(readHead(dirsOf(root))).toBe(older);
    });
  });

  describe('with hostile or unusual HEAD contents', () => {
    let root: string;
    let tip: string;

    beforeEach(() => {
      root = repository();
      tip = revParse(root, 'HEAD');
      // Plant valid object ids wherever a careless reader could land, so following them would show.
      write(root, '.git/planted', `${tip}\n`);
      write(root, 'outside', `${tip}\n`);
      write(root, '.git/refs/heads/x.lock', `${tip}\n`);
    });

    it.each([
      ['a traversal inside refs/', 'ref: refs/heads/../../planted\n'],
      ['a traversal to the config', 'ref: refs/heads/../../config\n'],
      ['a name outside refs/', 'ref: ../outside\n'],
      ['a lock file', 'ref: refs/heads/x.lock\n'],
      ['an absolute path', 'ref: /etc/hostname\n'],
      ['garbage', 'this is not a ref at all\n'],
      ['an abbreviated hash', 'ABBREV\n'],
      ['an uppercase hash', 'UPPER\n'],
      ['an empty file', ''],
    ])('returns undefined for %s', (_label, raw) => {
      const content = raw.replace('ABBREV', tip.slice(0, 12)).replace('UPPER', tip.toUpperCase());
      writeFileSync(join(root, '.git/HEAD'), content);
      expect(() => readHead(dirsOf(root))).not.toThrow();
      expect(readHead(dirsOf(root))).toBeUndefined();
      // Restoring HEAD brings the answer back, so the undefined above came from the content.
      writeFileSync(join(root, '.git/HEAD'), 'ref: refs/heads/main\n');
      expect(readHead(dirsOf(root))).toBe(tip);
    });

    it('returns undefined when HEAD is missing', () => {
      rmSync(join(root, '.git/HEAD'));
      expect(readHead(dirsOf(root))).toBeUndefined();
    });

    it('returns undefined when the ref is a directory', () => {
      sh(root, 'update-ref', 'refs/heads/dir/child', tip);
      expect(lstatSync(join(root, '.git/refs/heads/dir')).isDirectory()).toBe(true);
      writeFileSync(join(root, '.git/HEAD'), 'ref: refs/heads/dir\n');
      expect(gitHead(root)).toBeUndefined();
      expect(readHead(dirsOf(root))).toBeUndefined();
    });
  });

  // Refs git reads differently from a plain reader: in each case git fails to resolve HEAD or
  // resolves it in its own way, and readHead must leave the answer to git (undefined), never
  // return a commit of its own. Each case once returned a wrong commit.
  describe('refs only git may judge', () => {
    // A symref stored as a symlink (core.preferSymlinkRefs=true) names a ref relative to the git
    // dir; following the link from its own folder would read refs/heads/refs/heads/main.
    it('leaves a symlinked symref to git', () => {
      const root = repository();
      const older = revParse(root, 'HEAD~1');
      const tip = revParse(root, 'main');
      sh(root, '-c', 'core.preferSymlinkRefs=true', 'symbolic-ref', 'refs/heads/link', 'refs/heads/main');
      expect(lstatSync(join(root, '.git/refs/heads/link')).isSymbolicLink()).toBe(true);
      sh(root, 'update-ref', 'refs/heads/refs/heads/main', older);
      sh(root, 'symbolic-ref', 'HEAD', 'refs/heads/link');
      expect(gitHead(root)).toBe(tip);
      expect(readHead(dirsOf(root))).toBeUndefined();
    });

    // git stops after reading 5 refs (SYMREF_MAXDEPTH, HEAD included): HEAD -> a1 -> ... -> a5
    // does not resolve.
    it('gives up on a symref chain one longer than git follows', () => {
      const root = repository();
      const older = revParse(root, 'HEAD~1');
      write(root, '.git/refs/heads/a1', 'ref: refs/heads/a2\n');
      write(root, '.git/refs/heads/a2', 'ref: refs/heads/a3\n');
      write(root, '.git/refs/heads/a3', 'ref: refs/heads/a4\n');
      write(root, '.git/refs/heads/a4', 'ref: refs/heads/a5\n');
      write(root, '.git/refs/heads/a5', `${older}\n`);
      write(root, '.git/HEAD', 'ref: refs/heads/a1\n');
      expect(gitHead(root)).toBeUndefined();
      expect(readHead(dirsOf(root))).toBeUndefined();
    });

    // Names git's check_refname_format rejects (a `..` inside a component, a trailing `.`, a
    // component ending in `.lock` before the last one): git refuses to resolve HEAD through them.
    it.each(['refs/heads/a..b', 'refs/heads/dot.', 'refs/heads/x.lock/y'])(
      'gives up on the invalid name %s',
      (name) => {
        const root = repository();
        const older = revParse(root, 'HEAD~1');
        write(root, `.git/${name}`, `${older}\n`);
        write(root, '.git/HEAD', `ref: ${name}\n`);
        expect(gitHead(root)).toBeUndefined();
        expect(readHead(dirsOf(root))).toBeUndefined();
      },
    );

    // git falls back to packed-refs only when the loose file does not exist (ENOENT), not when a
    // file stands where a folder of its path should be (ENOTDIR).
    it('gives up when a file stands where a folder of the ref should be', () => {
      const root = repository();
      const older = revParse(root, 'HEAD~1');
      sh(root, 'update-ref', 'refs/heads/f/x', older);
      sh(root, 'pack-refs', '--all');
      rmSync(join(root, '.git/refs/heads/f'), { recursive: true, force: true });
      write(root, '.git/refs/heads/f', `${older}\n`);
      write(root, '.git/HEAD', 'ref: refs/heads/f/x\n');
      expect(gitHead(root)).toBeUndefined();
      expect(readHead(dirsOf(root))).toBeUndefined();
    });

    // A broken loose ref (here the text `missing`) is broken for git: no falling back to the stale
    // packed value.
    it('gives up on a corrupt loose ref that reads "missing"', () => {
      const root = repository();
      const packed = revParse(root, 'HEAD');
      sh(root, 'pack-refs', '--all');
      write(root, '.git/refs/heads/main', 'missing\n');
      expect(readFileSync(join(root, '.git/packed-refs'), 'utf8')).toContain(`${packed} refs/heads/main`);
      expect(gitHead(root)).toBeUndefined();
      expect(readHead(dirsOf(root))).toBeUndefined();
    });
  });
});

describe('isFullObjectId', () => {
  const sha1 = 'a'.repeat(40);
  const sha256 = 'b'.repeat(64);
  const id40 = '0123456789abcdef0123456789abcdef01234567';

  it('accepts a full lowercase id of the same length as the head', () => {
    expect(isFullObjectId(id40, sha1)).toBe(true);
    expect(isFullObjectId(`${id40}${'c'.repeat(24)}`, sha256)).toBe(true);
  });

  it('rejects short, uppercase, other-length and non-hex values', () => {
    expect(isFullObjectId(id40.slice(0, 39), sha1)).toBe(false);
    expect(isFullObjectId(id40.toUpperCase(), sha1)).toBe(false);
    expect(isFullObjectId(sha256, sha1)).toBe(false);
    expect(isFullObjectId(id40, sha256)).toBe(false);
    expect(isFullObjectId(`${id40.slice(0, 39)}g`, sha1)).toBe(false);
    expect(isFullObjectId('main'.padEnd(40, 'x'), sha1)).toBe(false);
  });
});
