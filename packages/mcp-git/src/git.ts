import { spawn } from 'node:child_process';
import { BallastError } from '@ballast/core';

/** How one git call runs. */
export interface GitRunOptions {
  /** The repository's work tree (or git dir for bare repositories). */
  cwd: string;
  /** Arguments after `git` and the safety `-c` options; never passed through a shell. */
  args: readonly string[];
  /** Kill git after this long. @default 30000 */
  timeoutMs?: number;
  /** Keep at most this many bytes of stdout; the rest is read and dropped. @default 1 MiB */
  maxBytes?: number;
  /** Kills git when it fires (the MCP request was cancelled). */
  signal?: AbortSignal;
  /** Run the repository's hooks (commit hooks, for instance). @default false */
  allowHooks?: boolean;
  /** Transports allowed for network commands. @default none */
  protocols?: readonly string[];
  /** More `-c key=value` entries (the repository's own program-running config, blanked). */
  config?: readonly string[];
  /** Bytes written to git's stdin. */
  input?: string;
  /** Called with each stderr line (git's progress goes there). */
  onStderrLine?: (line: string) => void;
}

/** What a git call gave back. */
export interface GitResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** Whether stdout was cut at `maxBytes`. */
  truncated: boolean;
  /** Bytes of stdout git wrote in all. */
  totalBytes: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_BYTES = 1024 * 1024;
/** An empty hooks directory that cannot exist in a repository: `core.hooksPath` points here. */
const NO_HOOKS = '/dev/null/ballast-no-hooks';

/**
 * The environment every git call gets: the caller's environment without any `GIT_*` variable (a
 * hostile `GIT_DIR` or `GIT_EXEC_PATH` would redirect git), system and global config ignored, no
 * prompts, pagers or editors, optional locks off so reads never rewrite the index.
 * @param base the environment to start from @default process.env
 * @returns the environment
 */
export function gitEnvironment(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(base)) {
    if (
      name.startsWith('GIT_') ||
      name === 'SSH_ASKPASS' ||
      name === 'PAGER' ||
      name === 'EDITOR' ||
      name === 'VISUAL'
    )
      continue;
    env[name] = value;
  }
  return {
    ...env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '/bin/false',
    SSH_ASKPASS: '/bin/false',
    GIT_PAGER: 'cat',
    PAGER: 'cat',
    GIT_EDITOR: '/bin/false',
    GIT_SEQUENCE_EDITOR: '/bin/false',
    GIT_OPTIONAL_LOCKS: '0',
    GIT_PROTOCOL_FROM_USER: '0',
    GIT_NO_REPLACE_OBJECTS: '1',
    LC_ALL: 'C',
    LANG: 'C',
    // ssh must not ask either; BatchMode fails instead of prompting.
    GIT_SSH_COMMAND: 'ssh -o BatchMode=yes -o StrictHostKeyChecking=yes',
  };
}

/**
 * The `-c` options every git call starts with. Config a repository may carry that runs programs
 * (fsmonitor, hooks, pagers, external diff and textconv drivers are off at the call sites with
 * `--no-ext-diff --no-textconv`) is overridden here, whatever `.git/config` says.
 * @param options hooks and transports
 * @returns the arguments
 */
export function safetyConfig(
  options: { allowHooks?: boolean; protocols?: readonly string[] } = {},
): string[] {
  const config = [
    'core.fsmonitor=false',
    'core.untrackedCache=false',
    'core.pager=cat',
    'core.editor=/bin/false',
    'core.askPass=/bin/false',
    'core.sshCommand=ssh -o BatchMode=yes -o StrictHostKeyChecking=yes',
    'core.gitProxy=',
    'core.alternateRefsCommand=',
    'diff.external=',
    'merge.tool=',
    'sequence.editor=/bin/false',
    'color.ui=false',
    'credential.helper=',
    'gpg.program=/bin/false',
    'commit.gpgSign=false',
    'tag.gpgSign=false',
    'uploadpack.packObjectsHook=',
    'protocol.allow=never',
    'protocol.ext.allow=never',
    'advice.detachedHead=false',
    'maintenance.auto=false',
    'gc.auto=0',
  ];
  if (!options.allowHooks) config.push(`core.hooksPath=${NO_HOOKS}`);
  for (const protocol of options.protocols ?? []) config.push(`protocol.${protocol}.allow=always`);
  return config.flatMap((entry) => ['-c', entry]);
}

/**
 * Runs git without a shell, with the sanitised environment and safety config, a timeout, a byte
 * cap on stdout, and cancellation that kills the process.
 * @param options what to run
 * @returns stdout, stderr, exit code, whether stdout was cut
 * @throws {BallastError} `MCP_GIT_TIMEOUT`, `MCP_GIT_CANCELLED`, `MCP_GIT_SPAWN_FAILED`
 */
export function runGit(options: GitRunOptions): Promise<GitResult> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const args = [
    ...safetyConfig({
      ...(options.allowHooks === undefined ? {} : { allowHooks: options.allowHooks }),
      ...(options.protocols === undefined ? {} : { protocols: options.protocols }),
    }),
    ...(options.config ?? []).flatMap((entry) => ['-c', entry]),
    ...options.args,
  ];
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new BallastError('MCP_GIT_CANCELLED', 'the request was cancelled before git started'));
      return;
    }
    const child = spawn('git', args, {
      cwd: options.cwd,
      env: gitEnvironment(),
      shell: false,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    let kept = 0;
    let total = 0;
    let stderr = '';
    let pendingLine = '';
    let failure: BallastError | undefined;
    const kill = (error: BallastError): void => {
      failure ??= error;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(
      () =>
        kill(
          new BallastError(
            'MCP_GIT_TIMEOUT',
            `git ${options.args[0] ?? ''} took longer than ${timeoutMs} ms and was stopped`,
            { isRetryable: true },
          ),
        ),
      timeoutMs,
    );
    const onAbort = (): void =>
      kill(new BallastError('MCP_GIT_CANCELLED', `git ${options.args[0] ?? ''} was cancelled`));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout?.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (kept >= maxBytes) return;
      const room = maxBytes - kept;
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      chunks.push(part);
      kept += part.length;
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      if (stderr.length < 64 * 1024) stderr += text;
      if (options.onStderrLine) {
        const lines = (pendingLine + text).split(/[\r\n]/);
        pendingLine = lines.pop() ?? '';
        for (const line of lines) if (line.trim() !== '') options.onStderrLine(line);
      }
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
    child.on('error', (error) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      reject(
        new BallastError(
          'MCP_GIT_SPAWN_FAILED',
          `could not run git: ${error.message} (is git installed and on PATH?)`,
          {
            cause: error,
          },
        ),
      );
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (failure) {
        reject(failure);
        return;
      }
      resolve({
        stdout: Buffer.concat(chunks).toString('utf8'),
        stderr,
        exitCode: code ?? -1,
        truncated: total > kept,
        totalBytes: total,
      });
    });
  });
}

/**
 * Runs git and fails on a non-zero exit with git's own message.
 * @param options what to run
 * @returns the result
 * @throws {BallastError} `MCP_GIT_FAILED` with git's stderr, or what {@link runGit} throws
 */
export async function git(options: GitRunOptions): Promise<GitResult> {
  const result = await runGit(options);
  if (result.exitCode !== 0) throw gitFailure(options.args[0] ?? '', result);
  return result;
}

/**
 * The error for a git call that exited non-zero, with the last lines git wrote to stderr.
 * @param command the git subcommand, for the message
 * @param result what git gave back
 * @returns `MCP_GIT_FAILED`
 */
export function gitFailure(command: string, result: GitResult): BallastError {
  const message = result.stderr.trim().split('\n').slice(-3).join(' ') || `exit code ${result.exitCode}`;
  return new BallastError('MCP_GIT_FAILED', `git ${command} failed: ${message}`, {
    details: { exitCode: result.exitCode },
  });
}
