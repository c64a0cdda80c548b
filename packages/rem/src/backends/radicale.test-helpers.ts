import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** A Radicale server started by {@link startRadicale}. */
export interface RunningRadicale {
  /** Its root, `http://127.0.0.1:<port>/`. */
  url: string;
  /** Stops the server and deletes its storage. */
  stop(): Promise<void>;
}

/** Options of {@link startRadicale}. */
export interface StartRadicaleOptions {
  /**
   * Users and their plain-text passwords: Radicale then checks Basic credentials against them
   * (an htpasswd file). Without it any user name is accepted with any password.
   */
  users?: Record<string, string>;
}

/** What the Radicale cases of a test file do. */
export interface RadicaleForTests {
  /** Why they are skipped (Radicale missing and not required); undefined when they run. */
  skip: string | undefined;
  /** A describe-block label: `with Radicale`, or `with Radicale (skipped: why)`. */
  label: string;
}

const INSTALL_HINT = 'install it with `apt-get install radicale`';

/**
 * Finds the `radicale` executable on PATH.
 * @returns its path, or undefined when it is not installed
 */
export function findRadicale(): string | undefined {
  for (const folder of (process.env.PATH ?? '').split(delimiter)) {
    if (folder === '') continue;
    const candidate = join(folder, 'radicale');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/**
 * Decides, once per test file, whether its Radicale cases run: they are skipped with a message
 * naming `apt-get install radicale` when Radicale is missing, except with
 * `BALLAST_REQUIRE_RADICALE=1` (CI), where they run and fail in {@link startRadicale}.
 * @param env the environment to read @default process.env
 * @returns the decision and a describe label that says it
 */
export function radicaleForTests(env: NodeJS.ProcessEnv = process.env): RadicaleForTests {
  const missing = findRadicale() === undefined;
  const skip =
    missing && env.BALLAST_REQUIRE_RADICALE !== '1'
      ? `radicale is not on PATH: ${INSTALL_HINT} to run these`
      : undefined;
  return { skip, label: skip === undefined ? 'with Radicale' : `with Radicale (skipped: ${skip})` };
}

/** A TCP port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port from listen(0)');
  return address.port;
}

/** Resolves once `url` answers HTTP at all, rejects when the process exits or time runs out. */
async function waitForHttp(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `radicale exited (${child.exitCode ?? child.signalCode}) before answering: ${output()}`,
      );
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`radicale did not answer ${url} within 15 s: ${output()}`);
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts Radicale on a free loopback port with its storage in a fresh temporary folder, and
 * waits until it answers HTTP.
 * @param options users for htpasswd authentication; none means any user is accepted
 * @returns its URL and a `stop` that ends it and removes the storage
 * @throws Error when `radicale` is not on PATH (the message says how to install it) or it does
 * not start
 * @example
 * ```ts
 * const radicale = await startRadicale();
 * const backend = await createCaldavBackend({ url: radicale.url, username: 'test' });
 * await radicale.stop();
 * ```
 */
export async function startRadicale(options: StartRadicaleOptions = {}): Promise<RunningRadicale> {
  const binary = findRadicale();
  if (binary === undefined) {
    const required = process.env.BALLAST_REQUIRE_RADICALE === '1' ? 'BALLAST_REQUIRE_RADICALE=1 but ' : '';
    throw new Error(`${required}radicale is not on PATH: ${INSTALL_HINT}`);
  }
  const folder = mkdtempSync(join(tmpdir(), 'rem-radicale-'));
  const authArguments: string[] = ['--auth-type', 'none'];
  if (options.users !== undefined) {
    const htpasswd = join(folder, 'users');
    const lines = Object.entries(options.users).map(([user, password]) => `${user}:${password}\n`);
    writeFileSync(htpasswd, lines.join(''));
    authArguments.splice(
      0,
      2,
      ...['--auth-type', 'htpasswd', '--auth-htpasswd-filename', htpasswd],
      ...['--auth-htpasswd-encryption', 'plain', '--auth-delay', '0'],
    );
  }
  // A port can be taken between freePort() and radicale's bind; try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await freePort();
    const child = spawn(
      binary,
      [
        ...['--config', '', '--server-hosts', `127.0.0.1:${port}`],
        ...['--storage-filesystem-folder', join(folder, 'collections')],
        ...authArguments,
        ...['--rights-type', 'owner_only', '--logging-level', 'warning'],
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let output = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      output = (output + chunk).slice(-4_000);
    });
    const url = `http://127.0.0.1:${port}/`;
    try {
      await waitForHttp(url, child, () => output.trim());
    } catch (error) {
      lastError = error;
      await stopProcess(child);
      continue;
    }
    return {
      url,
      stop: async () => {
        await stopProcess(child);
        rmSync(folder, { recursive: true, force: true });
      },
    };
  }
  rmSync(folder, { recursive: true, force: true });
  throw lastError;
}
