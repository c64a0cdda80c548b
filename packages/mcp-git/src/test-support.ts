import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createGitMcpServer, type GitMcpServerOptions } from './server.js';

/** Test helpers: real repositories in temp folders and an SDK client connected in memory. */

const gitEnv = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'Test Author',
  GIT_AUTHOR_EMAIL: 'author@example.com',
  GIT_COMMITTER_NAME: 'Test Author',
  GIT_COMMITTER_EMAIL: 'author@example.com',
};

/** Runs git in a folder (the test's own setup, not the server's runner). */
export function sh(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: gitEnv, encoding: 'utf8' });
}

/** A temp folder; removed by `cleanup`. */
export function tempDir(prefix = 'ballast-mcp-git-'): { path: string; cleanup(): void } {
  const path = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** Writes a file (creating its folders). */
export function write(root: string, path: string, content: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}

/** A repository with `main`, two commits (README.md, src/app.ts) and a `feature` branch. */
export function makeRepository(root: string): string {
  mkdirSync(root, { recursive: true });
  sh(root, 'init', '--quiet', '--initial-branch=main');
  sh(root, 'config', 'user.name', 'Test Author');
  sh(root, 'config', 'user.email', 'author@example.com');
  write(root, 'README.md', '# Demo\n');
  sh(root, 'add', 'README.md');
  sh(root, 'commit', '--quiet', '-m', 'First commit');
  write(root, 'src/app.ts', 'export const answer = 42;\n');
  sh(root, 'add', 'src/app.ts');
  sh(root, 'commit', '--quiet', '-m', 'Add the app', '-m', 'With a body.');
  sh(root, 'branch', 'feature');
  return root;
}

/** An SDK client connected in memory to a fresh server. */
export async function connect(options: GitMcpServerOptions): Promise<{
  client: Client;
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  close(): Promise<void>;
}> {
  const { server } = await createGitMcpServer(options);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: 'test', version: '1.0.0' });
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
  return {
    client,
    call: async (name, args = {}) => (await client.callTool({ name, arguments: args })) as CallToolResult,
    close: async () => {
      await client.close();
      await server.close();
    },
  };
}

/** The text of a tool result. */
export function textOf(result: CallToolResult): string {
  return result.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
}
