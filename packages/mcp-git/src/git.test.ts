import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gitEnvironment, runGit, safetyConfig } from './git.js';

/** A git command that runs until it is killed: the credential cache daemon, on a private socket. */
const socketDir = mkdtempSync(join(tmpdir(), 'ballast-git-sock-'));
let sockets = 0;
const forever = (): string[] => {
  sockets += 1;
  return ['credential-cache--daemon', join(socketDir, `s${sockets}`)];
};
afterAll(() => rmSync(socketDir, { recursive: true, force: true }));

describe('runGit', () => {
  describe('when the request is cancelled', () => {
    it('kills git and rejects with MCP_GIT_CANCELLED', async () => {
      const controller = new AbortController();
      const started = performance.now();
      const running = runGit({ cwd: process.cwd(), args: forever(), signal: controller.signal });
      setTimeout(() => controller.abort(), 100);
      await expect(running).rejects.toMatchObject({ code: 'MCP_GIT_CANCELLED' });
      expect(performance.now() - started).toBeLessThan(5000);
    });
  });

  describe('when git runs past its timeout', () => {
    it('kills it and rejects with a retryable MCP_GIT_TIMEOUT', async () => {
      await expect(runGit({ cwd: process.cwd(), args: forever(), timeoutMs: 150 })).rejects.toMatchObject({
        code: 'MCP_GIT_TIMEOUT',
        isRetryable: true,
      });
    });
  });

  describe('when the output is larger than the cap', () => {
    it('keeps the first bytes and says it cut', async () => {
      const result = await runGit({ cwd: process.cwd(), args: ['help', '--all'], maxBytes: 100 });
      expect(result.truncated).toBe(true);
      expect(Buffer.byteLength(result.stdout)).toBeLessThanOrEqual(100);
      expect(result.totalBytes).toBeGreaterThan(100);
    });
  });
});

describe('gitEnvironment', () => {
  it('drops every inherited GIT_ variable and turns prompts, pagers and global config off', () => {
    const env = gitEnvironment({
      PATH: '/usr/bin',
      GIT_DIR: '/evil',
      GIT_EXEC_PATH: '/evil',
      GIT_CONFIG_PARAMETERS: "'core.pager=evil'",
    });
    expect(env.GIT_DIR).toBeUndefined();
    expect(env.GIT_EXEC_PATH).toBeUndefined();
    expect(env.GIT_CONFIG_PARAMETERS).toBeUndefined();
    expect(env).toMatchObject({
      PATH: '/usr/bin',
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_OPTIONAL_LOCKS: '0',
    });
  });
});

describe('safetyConfig', () => {
  it('turns hooks and every transport off unless asked, and never allows ext', () => {
    const plain = safetyConfig().join(' ');
    expect(plain).toContain('core.hooksPath=');
    expect(plain).toContain('protocol.allow=never');
    const network = safetyConfig({ allowHooks: true, protocols: ['https', 'ssh'] }).join(' ');
    expect(network).not.toContain('core.hooksPath=');
    expect(network).toContain('protocol.https.allow=always');
    expect(network).toContain('protocol.ext.allow=never');
  });
});
