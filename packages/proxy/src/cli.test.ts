import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMockProvider, type MockProvider } from '@ballast/mock-provider';
import { afterEach, describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const children: ChildProcess[] = [];
let provider: MockProvider | undefined;
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await provider?.close();
  provider = undefined;
});

async function configFile(text: string): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'ballast-cli-'));
  const file = join(folder, 'ballast.yaml');
  await writeFile(file, text);
  return file;
}

function run(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [cli, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return { child, output: () => ({ stdout, stderr }) };
}

describe('ballast-proxy (bin)', () => {
  describe('when the config is valid', () => {
    it('prints one listening line, serves, and exits 0 on SIGTERM', async () => {
      provider = await createMockProvider();
      const file = await configFile(
        [
          'server: { host: 127.0.0.1, port: 0, adminToken: ${BALLAST_ADMIN_TOKEN} }',
          'providers:',
          `  - { name: mock, type: openai, baseUrl: ${provider.openaiBaseUrl}, apiKey: \${MOCK_KEY} }`,
          'routes:',
          '  - match: "*"',
          '    targets: [ { provider: mock } ]',
        ].join('\n'),
      );
      const { child, output } = run(['--config', file], {
        BALLAST_ADMIN_TOKEN: 'admin',
        MOCK_KEY: 'sk-never-logged',
      });
      await expect
        .poll(() => output().stdout, { timeout: 10_000 })
        .toMatch(/^ballast-proxy listening on http:\/\/127\.0\.0\.1:\d+\n$/);
      const url = output().stdout.trim().split(' ').at(-1);
      const response = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'mock-model', messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(response.status).toBe(200);
      await expect.poll(() => output().stderr).toContain('"requestId"');
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
      expect(output().stderr).not.toContain('sk-never-logged');
      expect(provider.requests[0]?.headers.authorization).toBe('Bearer sk-never-logged');
    });
  });

  describe('when the config is wrong', () => {
    it('exits 1 with a message naming the key', async () => {
      const file = await configFile(
        'providers: []\nroutes: [ { match: "*", targets: [ { provider: ghost } ] } ]\n',
      );
      const { child, output } = run(['--config', file]);
      const [code] = await once(child, 'exit');
      expect(code).toBe(1);
      expect(output().stderr).toContain(
        'routes[0].targets[0].provider: expected the name of a configured provider',
      );
    });

    it('exits 1 naming a missing environment variable', async () => {
      const file = await configFile(
        'server: { adminToken: ${NOT_SET_ANYWHERE} }\nproviders: []\nroutes: []\n',
      );
      const { child, output } = run(['--config', file]);
      const [code] = await once(child, 'exit');
      expect(code).toBe(1);
      expect(output().stderr).toContain('the environment variable NOT_SET_ANYWHERE is not set');
    });
  });
});
