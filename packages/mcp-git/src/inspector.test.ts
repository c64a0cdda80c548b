import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeRepository, tempDir } from './test-support.js';

// The MCP Inspector's CLI, headless, against the built bin. The issue names inspector 2.12.0,
// which needs Node 22.19; this machine and CI run Node 20, so the test pins inspector-cli 0.15.0,
// the last CLI that runs on Node 20 (same --cli --method interface).
const run = promisify(execFile);
const require = createRequire(import.meta.url);
const inspector = join(
  dirname(require.resolve('@modelcontextprotocol/inspector-cli/package.json')),
  'build',
  'index.js',
);
const bin = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

let temp: ReturnType<typeof tempDir>;
let repo: string;
beforeEach(() => {
  temp = tempDir();
  repo = makeRepository(join(temp.path, 'repo'));
});
afterEach(() => temp.cleanup());

const cli = async (...args: string[]): Promise<unknown> => {
  const { stdout } = await run(
    process.execPath,
    [inspector, process.execPath, bin, '--repo', repo, ...args],
    { timeout: 30_000 },
  );
  return JSON.parse(stdout);
};

describe('the MCP Inspector CLI', () => {
  it('lists the tools and calls one', async () => {
    const listed = (await cli('--method', 'tools/list')) as { tools: Array<{ name: string }> };
    expect(listed.tools.map((tool) => tool.name)).toEqual(
      expect.arrayContaining(['git_status', 'git_log', 'list_repositories']),
    );
    const called = (await cli(
      '--method',
      'tools/call',
      '--tool-name',
      'git_log',
      '--tool-arg',
      `repo_path=${repo}`,
      '--tool-arg',
      'max_count=1',
    )) as {
      structuredContent: { commits: Array<{ subject: string }> };
    };
    expect(called.structuredContent.commits[0]?.subject).toBe('Add the app');
  });
});
