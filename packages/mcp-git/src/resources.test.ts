import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect, makeRepository, sh, tempDir, write } from './test-support.js';

let temp: ReturnType<typeof tempDir>;
let repo: string;

beforeEach(() => {
  temp = tempDir();
  repo = makeRepository(join(temp.path, 'repo'));
});

afterEach(() => temp.cleanup());

describe('the git:// resource template', () => {
  it('reads a file at a ref, and completes repository, ref and path', async () => {
    const server = await connect({ repositories: [repo] });
    const { resourceTemplates } = await server.client.listResourceTemplates();
    expect(resourceTemplates.map((template) => template.uriTemplate)).toContain('git://{repo}/{ref}/{+path}');
    const file = await server.client.readResource({ uri: 'git://repo/main/src/app.ts' });
    expect(file.contents[0]).toMatchObject({ text: 'export const answer = 42;\n' });
    const old = await server.client.readResource({ uri: 'git://repo/HEAD~1/README.md' });
    expect(old.contents[0]).toMatchObject({ text: '# Demo\n' });
    const ref = { type: 'ref/resource' as const, uri: 'git://{repo}/{ref}/{+path}' };
    const repos = await server.client.complete({ ref, argument: { name: 'repo', value: 're' } });
    expect(repos.completion.values).toEqual(['repo']);
    const refs = await server.client.complete({
      ref,
      argument: { name: 'ref', value: 'fe' },
      context: { arguments: { repo: 'repo' } },
    });
    expect(refs.completion.values).toEqual(['feature']);
    const paths = await server.client.complete({
      ref,
      argument: { name: 'path', value: 'src/' },
      context: { arguments: { repo: 'repo', ref: 'main' } },
    });
    expect(paths.completion.values).toEqual(['src/app.ts']);
    await server.close();
  });

  it('refuses paths out of the tree and names that are not repositories', async () => {
    const server = await connect({ repositories: [repo] });
    await expect(
      server.client.readResource({ uri: 'git://repo/main/..%2F..%2Fetc%2Fpasswd' }),
    ).rejects.toThrow(/outside the repository/);
    await expect(server.client.readResource({ uri: 'git://other/main/README.md' })).rejects.toThrow(
      /no repository named/,
    );
    await expect(server.client.readResource({ uri: 'git://repo/--output=x/README.md' })).rejects.toThrow(
      /ref/,
    );
    await server.close();
  });
});

describe('the prompts', () => {
  it('builds a commit message request from the staged diff, a review and a changelog', async () => {
    const server = await connect({ repositories: [repo] });
    const { prompts } = await server.client.listPrompts();
    expect(prompts.map((prompt) => prompt.name).sort()).toEqual([
      'changelog',
      'commit_message',
      'review_diff',
    ]);
    write(repo, 'src/app.ts', 'export const answer = 43;\n');
    sh(repo, 'add', 'src/app.ts');
    const commit = await server.client.getPrompt({ name: 'commit_message', arguments: { repo_path: repo } });
    expect(JSON.stringify(commit.messages)).toContain('+export const answer = 43;');
    const review = await server.client.getPrompt({
      name: 'review_diff',
      arguments: { repo_path: repo, target: 'HEAD' },
    });
    expect(JSON.stringify(review.messages)).toContain('answer = 43');
    const changelog = await server.client.getPrompt({
      name: 'changelog',
      arguments: { repo_path: repo, from: 'HEAD~1' },
    });
    expect(JSON.stringify(changelog.messages)).toContain('Add the app');
    expect(JSON.stringify(changelog.messages)).not.toContain('First commit');
    const completion = await server.client.complete({
      ref: { type: 'ref/prompt', name: 'changelog' },
      argument: { name: 'from', value: 'ma' },
      context: { arguments: { repo_path: repo } },
    });
    expect(completion.completion.values).toEqual(['main']);
    await server.close();
  });
});
