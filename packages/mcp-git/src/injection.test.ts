import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { allTools } from './server.js';
import { connect, makeRepository, sh, tempDir, textOf } from './test-support.js';

// Option injection through every string parameter of every tool: each one in turn is given a
// value git would read as an option that writes a file (`--output=<marker>`), with every other
// parameter valid and every tier allowed. Whatever the tool answers, git must never act on it.

/**
 * Parameters git takes as data, where a leading "-" is legitimate: free text (a message, a search
 * pattern) and paths, which always come after `--`. For these the check is that git never acts on
 * the value as an option; every other parameter must be refused, naming itself.
 */
const DATA = new Set(['message', 'pattern', 'grep', 'files', 'paths', 'path']);

let temp: ReturnType<typeof tempDir>;
let repo: string;
let marker: string;
let server: Awaited<ReturnType<typeof connect>>;

beforeAll(async () => {
  temp = tempDir();
  // The allowed root is itself a repository holding the working one and its remote, so init and
  // clone have somewhere allowed to write.
  sh(temp.path, 'init', '--quiet');
  repo = makeRepository(join(temp.path, 'repo'));
  sh(temp.path, 'clone', '--quiet', '--bare', repo, join(temp.path, 'remote.git'));
  sh(repo, 'remote', 'add', 'origin', join(temp.path, 'remote.git'));
  marker = join(temp.path, 'injected');
  server = await connect({
    repositories: [temp.path],
    permissions: { readOnly: false, destructive: true, network: true, hooks: false },
  });
});

afterAll(async () => {
  await server.close();
  temp.cleanup();
});

/** A valid value for a parameter, by name (what the other parameters get). */
function validValue(name: string, schema: z.ZodType): unknown {
  const values: Record<string, unknown> = {
    repo_path: repo,
    target: 'HEAD',
    revision: 'HEAD',
    base_branch: 'HEAD',
    contains: 'HEAD',
    not_contains: 'HEAD',
    ref: 'HEAD',
    message: 'a message',
    files: ['README.md'],
    paths: ['README.md'],
    path: 'README.md',
    branch_name: 'feature',
    branch: 'feature',
    name: 'v-test',
    pattern: 'Demo',
    revisions: ['HEAD', 'feature'],
    remote: 'origin',
    url: join(temp.path, 'remote.git'),
    destination: join(temp.path, `copy-${Math.random().toString(36).slice(2)}`),
    author: 'Test',
    grep: 'Add',
    start_timestamp: '2000-01-01',
    end_timestamp: '2100-01-01',
    initial_branch: 'main',
  };
  if (name in values) return values[name];
  return schema.isOptional() ? undefined : 'x';
}

/** The string parameters of a tool (plain strings and arrays of strings). */
function stringParameters(tool: (typeof allTools)[number]): string[] {
  return Object.entries(tool.input as Record<string, z.ZodType>)
    .filter(([, schema]) => {
      const type = (
        schema as unknown as {
          _zod: { def: { type: string; innerType?: { _zod: { def: { type: string } } }; element?: unknown } };
        }
      )._zod.def;
      const inner =
        type.type === 'optional' || type.type === 'default' ? type.innerType?._zod.def.type : type.type;
      return inner === 'string' || inner === 'array';
    })
    .map(([name]) => name);
}

const cases = allTools.flatMap((tool) =>
  stringParameters(tool).map((parameter) => [tool.name, parameter] as const),
);

describe('option injection', () => {
  it('covers every string parameter of every tool', () => {
    expect(cases.length).toBeGreaterThan(60);
  });

  it.each(cases)('%s: %s=--output=<file> is never read as an option', async (name, parameter) => {
    const tool = allTools.find((candidate) => candidate.name === name);
    const shape = tool?.input as Record<string, z.ZodType>;
    const args: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(shape)) {
      const value = validValue(key, schema);
      if (value !== undefined) args[key] = value;
    }
    // init needs a folder that is not a repository yet.
    if (name === 'git_init') args.repo_path = join(temp.path, `new-${Math.random().toString(36).slice(2)}`);
    const hostile = `--output=${marker}`;
    const current = args[parameter];
    args[parameter] = Array.isArray(current) ? [hostile, ...current.slice(1)] : hostile;
    const result = await server.call(name, args);
    expect(existsSync(marker), `${name} ${parameter} wrote the marker`).toBe(false);
    if (!DATA.has(parameter)) {
      expect(result.isError, `${name} ${parameter} accepted ${hostile}: ${textOf(result)}`).toBe(true);
      expect(textOf(result)).toContain(
        parameter === 'files' || parameter === 'paths' || parameter === 'revisions'
          ? `${parameter}[0]`
          : parameter,
      );
    }
    expect(readdirSync(temp.path).filter((entry) => entry.startsWith('--'))).toEqual([]);
  });
});
