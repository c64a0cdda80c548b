import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { adminToken, type KillswitchStack, packageDir, startKillswitchStack } from './support.js';

const cli = join(packageDir, 'node_modules/@ballast/killswitch/dist/cli.js');
let stack: KillswitchStack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

async function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [cli, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = await once(child, 'exit');
  return { code: code as number | null, stdout, stderr };
}

describe('ballast-killswitch (bin)', () => {
  it('kills, reports and revives a session on a running proxy', async () => {
    stack = await startKillswitchStack({ loop: false });
    await stack.client('s-cli').chat.completions.create({
      model: 'mock-model',
      max_tokens: 5,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const common = ['--url', stack.url];
    const env = { BALLAST_ADMIN_TOKEN: adminToken };
    expect(await run([...common, 'kill', '--session', 's-cli', '--reason', 'testing'], env)).toMatchObject({
      code: 0,
      stdout: 'killed {"scope":"session","id":"s-cli"}\n',
    });
    const status = await run([...common, 'status'], env);
    expect(status.stdout).toContain('kills: session:s-cli (testing)');
    await expect(
      stack.client('s-cli').chat.completions.create({ model: 'mock-model', messages: [] }),
    ).rejects.toMatchObject({ status: 403 });
    const sessions = await run([...common, '--json', 'sessions'], env);
    expect(JSON.parse(sessions.stdout).sessions).toEqual(
      expect.arrayContaining([expect.objectContaining({ session: 's-cli', steps: 1, killed: true })]),
    );
    const spend = await run([...common, '--json', 'spend', '--by', 'model'], env);
    expect(JSON.parse(spend.stdout).spend[0]).toMatchObject({ key: 'mock-model', calls: 1 });
    expect(await run([...common, 'revive', '--session', 's-cli'], env)).toMatchObject({ code: 0 });
    await expect(
      stack.client('s-cli').chat.completions.create({
        model: 'mock-model',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'x' }],
      }),
    ).resolves.toBeTruthy();
  });

  it('exits 2 on a usage error and 1 without a token, saying what to do', async () => {
    stack = await startKillswitchStack({});
    const usage = await run(['--url', stack.url, 'kill'], { BALLAST_ADMIN_TOKEN: adminToken });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('give exactly one of --session ID, --agent NAME, --key ID, --all');
    const noToken = await run(['--url', stack.url, 'status'], { BALLAST_ADMIN_TOKEN: '' });
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toContain('pass --token or set BALLAST_ADMIN_TOKEN');
  });
});
