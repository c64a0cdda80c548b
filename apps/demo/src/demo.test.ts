import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

/** The demo as `pnpm demo` runs it, from source (tsx), so the test never runs a stale build. */
function startDemo(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess & { output(): string } {
  const { OPENAI_API_KEY: _openai, ANTHROPIC_API_KEY: _anthropic, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
    cwd: packageDir,
    env: { ...inherited, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  return Object.assign(child, { output: () => output });
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

async function waitFor(check: () => RegExpExecArray | null, timeoutMs: number): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = check();
    if (found) return found;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The rows of the summary table: the lines after `Summary (…)` that start with a verdict. */
function tableRows(output: string): Array<{ mark: string; number: number; line: string }> {
  const summary = output.slice(output.lastIndexOf('\nSummary ('));
  return [...summary.matchAll(/^([✓✗-]) (\d)\. .*$/gm)].map((match) => ({
    mark: match[1] as string,
    number: Number(match[2]),
    line: match[0],
  }));
}

describe('the ballast demo (the CI smoke run)', () => {
  describe('when run offline with no arguments', () => {
    it('passes all five scenarios, ends with the table, and exits 0', async () => {
      const demo = startDemo([]);
      const code = await exitOf(demo);
      const output = demo.output();
      expect(output, output).toContain('all scenarios passed');
      expect(code, output).toBe(0);
      const rows = tableRows(output);
      expect(rows.map((row) => row.number)).toEqual([1, 2, 3, 4, 5]);
      expect(
        rows.every((row) => row.mark === '✓'),
        rows.map((row) => row.line).join('\n'),
      ).toBe(true);
      // Nothing failed but the tool call the loop scenario fails on purpose (a table that does not exist).
      const failed = output
        .split('\n')
        .filter((line) => line.startsWith('  ✗') && !line.includes('got "invoice"'));
      expect(failed).toEqual([]);
      // Progress is plain text with NO_COLOR.
      expect(output).not.toContain('\u001b[');
      // Temporary files are gone.
      const scratch = /scratch space \(git repository, reminders vdir\): (\S+)/.exec(output)?.[1];
      expect(scratch).toBeDefined();
      expect(existsSync(scratch as string)).toBe(false);
    });
  });

  describe('when --json is given', () => {
    it('prints the summary as JSON on stdout, every scenario passed', async () => {
      const demo = spawn(process.execPath, ['--import', 'tsx', cli, '--json'], {
        cwd: packageDir,
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      children.push(demo);
      let stdout = '';
      demo.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
      });
      expect(await exitOf(demo)).toBe(0);
      const summary = JSON.parse(stdout) as {
        passed: boolean;
        scenarios: Array<{ key: string; status: string; usdSpent: number; calls: number }>;
      };
      expect(summary.passed).toBe(true);
      expect(summary.scenarios.map((scenario) => [scenario.key, scenario.status])).toEqual([
        ['tools', 'passed'],
        ['fallback', 'passed'],
        ['memory', 'passed'],
        ['runaway', 'passed'],
        ['kill', 'passed'],
      ]);
      expect(summary.scenarios.every((scenario) => scenario.usdSpent > 0 && scenario.calls > 0)).toBe(true);
    });
  });

  describe('when --serve is given', () => {
    it('prints the dashboard URL, keeps the proxy up until Ctrl-C, then cleans up', async () => {
      const demo = startDemo(['--serve']);
      const dashboard = await waitFor(
        () => /Dashboard: (http:\/\/127\.0\.0\.1:\d+)\/dashboard\?token=[0-9a-f]{32}/.exec(demo.output()),
        60_000,
      );
      const origin = dashboard[1] as string;
      expect((await fetch(`${origin}/healthz`)).status).toBe(200);
      const scratch = /scratch space \(git repository, reminders vdir\): (\S+)/.exec(
        demo.output(),
      )?.[1] as string;
      expect(existsSync(scratch)).toBe(true);
      demo.kill('SIGINT');
      expect(await exitOf(demo)).toBe(0);
      expect(existsSync(scratch)).toBe(false);
      await expect(fetch(`${origin}/healthz`)).rejects.toThrow();
    });
  });

  describe('when --live is given without an API key', () => {
    it('exits 2 and names the variables to set', async () => {
      const demo = startDemo(['--live']);
      expect(await exitOf(demo)).toBe(2);
      expect(demo.output()).toMatch(/OPENAI_API_KEY.*ANTHROPIC_API_KEY/);
    });
  });
});
