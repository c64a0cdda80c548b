import { type ChildProcessWithoutNullStreams, execFile, spawn as spawnProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { access, constants, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { RemError, type RemErrorCode } from '../errors.js';
import type {
  BackendCapabilities,
  NewReminderRecord,
  ReminderBackend,
  ReminderList,
  ReminderRecord,
} from '../types.js';
import { EVENTKIT_HELPER_SOURCE } from './eventkit-helper.swift.js';

/** Starts the helper process. The default is `child_process.spawn` with piped stdio. */
export type EventKitSpawn = (
  command: string,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv },
) => ChildProcessWithoutNullStreams;

/** What {@link EventKitCompile} is asked to do. */
export interface EventKitCompileRequest {
  /** The Swift source, already written: `<cacheDir>/eventkit-helper-<hash>.swift`. */
  sourcePath: string;
  /** Where the executable goes: a temporary name that the backend renames once it is complete. */
  outputPath: string;
}

/**
 * Compiles the Swift helper. The default runs `xcrun swiftc -O -o <outputPath> <sourcePath>`.
 * Throw a {@link RemError} to say why it cannot; anything else is reported as REM_BACKEND_FAILED.
 */
export type EventKitCompile = (request: EventKitCompileRequest) => Promise<void>;

/** Options of {@link createEventKitBackend}; all optional. */
export interface EventKitBackendOptions {
  /**
   * A program and its arguments to run as the helper instead of compiling one, such as
   * `[process.execPath, 'fake-helper.mjs']`. Wins over `helperPath`.
   */
  helperCommand?: readonly string[];
  /** An executable to run as the helper instead of compiling one. @default env `REM_EVENTKIT_HELPER` */
  helperPath?: string;
  /**
   * Where the compiled helper is cached (as `openBackend` does for every backend).
   * @default `$XDG_CACHE_HOME/rem` when set, else `~/.cache/rem`
   */
  cacheDir?: string;
  /** The system to assume; without a helper override, anything but `darwin` is refused. @default process.platform */
  platform?: NodeJS.Platform;
  /** The environment to read `REM_EVENTKIT_HELPER` from and to run `xcrun` and the helper with. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Starts the helper process. @default child_process.spawn */
  spawn?: EventKitSpawn;
  /** Compiles the helper on first use. @default `xcrun swiftc -O` */
  compile?: EventKitCompile;
  /** How long {@link ReminderBackend.close} waits for the helper to exit before killing it. @default 2000 */
  closeTimeoutMs?: number;
}

/** The backend's operations as the helper names them, with what each sends and gets back. */
interface HelperOperations {
  lists: { params: Record<string, never>; result: ReminderList[] };
  reminders: { params: { lists?: string[] }; result: ReminderRecord[] };
  create: { params: { record: NewReminderRecord }; result: ReminderRecord };
  update: { params: { record: ReminderRecord }; result: ReminderRecord };
  delete: { params: { uids: string[] }; result: null };
  createList: { params: { name: string }; result: ReminderList };
  renameList: { params: { name: string; newName: string }; result: ReminderList };
  deleteList: { params: { name: string }; result: null };
}

type HelperOperation = keyof HelperOperations;

type HelperLine =
  | { kind: 'ready'; access: 'granted' | 'denied' }
  | { kind: 'response'; id: number; ok: true; result: unknown }
  | { kind: 'response'; id: number; ok: false; error: { code: string; message: string } };

interface PendingRequest {
  operation: HelperOperation;
  resolve: (result: unknown) => void;
  reject: (error: RemError) => void;
}

/** One running helper process. */
interface HelperConnection {
  /** Settles once the helper said it is ready (or could not start, or was denied access). */
  readonly ready: Promise<void>;
  /** Ready and not exiting: a request can be written right away. */
  readonly usable: boolean;
  readonly exited: boolean;
  request<Operation extends HelperOperation>(
    operation: Operation,
    params: HelperOperations[Operation]['params'],
  ): Promise<HelperOperations[Operation]['result']>;
  /** Ends stdin, waits for the exit, kills the helper after `timeoutMs`. */
  stop(timeoutMs: number): Promise<void>;
}

const CAPABILITIES: BackendCapabilities = Object.freeze({
  flagged: false,
  url: true,
  tags: false,
  repeat: true,
  listManagement: true,
});

const DEFAULT_CLOSE_TIMEOUT_MS = 2000;
const STDERR_TAIL_CHARS = 4000;
const MESSAGE_TAIL_CHARS = 1000;

const NOT_ON_MACOS_MESSAGE =
  'the eventkit backend needs macOS (EventKit); on this system use --backend vdir or caldav';
const ACCESS_DENIED_MESSAGE =
  'the eventkit backend was denied access to Reminders; allow it in System Settings > Privacy & Security > ' +
  'Reminders for the app running rem (your terminal, or the MCP client), then try again';
const XCRUN_MISSING_MESSAGE =
  'the eventkit backend compiles a small Swift helper with xcrun swiftc, which is not available; ' +
  'install the Xcode command line tools: xcode-select --install';
/** What xcrun prints when the command line tools are missing or broken. */
const XCRUN_MISSING_PATTERN = /xcrun: error|invalid active developer path|unable to find utility/i;

/** Helper error codes with a RemError of their own; every other code is REM_BACKEND_FAILED. */
const HELPER_ERROR_CODES: ReadonlyMap<string, RemErrorCode> = new Map<string, RemErrorCode>([
  ['NOT_FOUND', 'REM_NOT_FOUND'],
  ['UNKNOWN_LIST', 'REM_UNKNOWN_LIST'],
  ['CONFLICT', 'REM_CONFLICT'],
  ['LIST_EXISTS', 'REM_LIST_EXISTS'],
  ['INVALID_INPUT', 'REM_INVALID_INPUT'],
]);

/**
 * Creates the `eventkit` backend: macOS Reminders through EventKit, by way of a small Swift
 * helper that speaks JSON lines over stdio (see `docs/eventkit.md`).
 *
 * The helper is compiled with `xcrun swiftc` on first use and cached under a name carrying the
 * hash of its source, started here (so a denied permission fails now rather than on the first
 * command) and kept running until {@link ReminderBackend.close}. While no request is pending it
 * does not keep the Node process alive. If it exits, the pending requests fail and the next call
 * starts it again.
 *
 * @param options a helper to run instead of compiling one, the cache directory, injected I/O
 * @returns the backend, named `eventkit`, with its helper running and access granted
 * @throws {RemError} REM_BACKEND_UNAVAILABLE off macOS (without a helper override), without the
 *   Xcode command line tools, or when Reminders access is denied; REM_BACKEND_FAILED when the
 *   helper cannot be compiled or started
 * @example
 * ```ts
 * const backend = await createEventKitBackend();
 * try {
 *   const lists = await backend.lists();
 * } finally {
 *   await backend.close();
 * }
 * ```
 */
export async function createEventKitBackend(options: EventKitBackendOptions = {}): Promise<ReminderBackend> {
  const env = options.env ?? process.env;
  const spawn = options.spawn ?? defaultSpawn;
  const closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
  const command = await resolveHelperCommand(options, env);

  let connection: HelperConnection | undefined;
  let closed = false;

  /** The running helper, started again when the last one exited. */
  const connect = async (): Promise<HelperConnection> => {
    if (connection === undefined || connection.exited) connection = startHelper(command, spawn, env);
    const current = connection;
    await current.ready;
    return current;
  };

  const call = async <Operation extends HelperOperation>(
    operation: Operation,
    params: HelperOperations[Operation]['params'],
  ): Promise<HelperOperations[Operation]['result']> => {
    if (closed) {
      throw new RemError('REM_BACKEND_FAILED', 'the eventkit backend is closed; create a new one to go on');
    }
    // Written in the same tick when the helper is up, so a close() right after still sees it.
    const current = connection?.usable === true ? connection : await connect();
    return current.request(operation, params);
  };

  try {
    await connect();
  } catch (error) {
    await connection?.stop(closeTimeoutMs);
    throw error;
  }

  return {
    name: 'eventkit',
    capabilities: CAPABILITIES,
    async lists() {
      const lists = await call('lists', {});
      return [...lists].sort((left, right) => left.name.localeCompare(right.name));
    },
    reminders(readOptions) {
      return call('reminders', readOptions?.lists === undefined ? {} : { lists: readOptions.lists });
    },
    async create(record) {
      assertStorable(record);
      return call('create', { record });
    },
    async update(record) {
      assertStorable(record);
      return call('update', { record });
    },
    async delete(records) {
      if (records.length === 0) return;
      await call('delete', { uids: records.map((record) => record.uid) });
    },
    createList(name) {
      return call('createList', { name });
    },
    renameList(name, newName) {
      return call('renameList', { name, newName });
    },
    async deleteList(name) {
      await call('deleteList', { name });
    },
    async close() {
      closed = true;
      const current = connection;
      connection = undefined;
      await current?.stop(closeTimeoutMs);
    },
  };
}

/** Refuses what EventKit has no public API for, rather than dropping it silently. */
function assertStorable(record: NewReminderRecord | ReminderRecord): void {
  if (record.flagged === true) {
    throw new RemError(
      'REM_UNSUPPORTED',
      'the eventkit backend cannot store a flag (EventKit has no public API for it); leave it out or use --backend vdir or caldav',
      { details: { given: 'flagged' } },
    );
  }
  if (record.tags !== undefined && record.tags.length > 0) {
    throw new RemError(
      'REM_UNSUPPORTED',
      'the eventkit backend cannot store tags (EventKit has no public API for them); leave them out or use --backend vdir or caldav',
      { details: { given: 'tags' } },
    );
  }
}

const defaultSpawn: EventKitSpawn = (command, args, spawnOptions) =>
  spawnProcess(command, [...args], { env: spawnOptions.env });

/** The helper to run: an override when given, else the cached (or freshly compiled) binary. */
async function resolveHelperCommand(
  options: EventKitBackendOptions,
  env: NodeJS.ProcessEnv,
): Promise<readonly [string, ...string[]]> {
  if (options.helperCommand !== undefined) {
    const [program, ...args] = options.helperCommand;
    if (program === undefined || program === '') {
      throw new RemError('REM_INVALID_INPUT', 'helperCommand needs at least a program to run', {
        details: { given: options.helperCommand },
      });
    }
    return [program, ...args];
  }
  const helperPath = options.helperPath ?? nonEmpty(env.REM_EVENTKIT_HELPER);
  if (helperPath !== undefined) return [helperPath];
  const platform = options.platform ?? process.platform;
  if (platform !== 'darwin') {
    throw new RemError('REM_BACKEND_UNAVAILABLE', NOT_ON_MACOS_MESSAGE, { details: { platform } });
  }
  const cacheDir = options.cacheDir ?? defaultCacheDir(env);
  const compile = options.compile ?? ((request: EventKitCompileRequest) => compileWithXcrun(request, env));
  return [await ensureHelperBinary(cacheDir, compile)];
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  const xdgCache = nonEmpty(env.XDG_CACHE_HOME);
  return join(xdgCache ?? join(homedir(), '.cache'), 'rem');
}

/**
 * The path of the compiled helper for the current source, compiling it when missing. The binary
 * is built under a unique temporary name and renamed into place, so processes racing on a first
 * use each end with a complete binary.
 */
async function ensureHelperBinary(cacheDir: string, compile: EventKitCompile): Promise<string> {
  const hash = createHash('sha256').update(EVENTKIT_HELPER_SOURCE).digest('hex').slice(0, 12);
  const binaryPath = join(cacheDir, `eventkit-helper-${hash}`);
  if (await isExecutable(binaryPath)) return binaryPath;

  const sourcePath = `${binaryPath}.swift`;
  const unique = `${process.pid}-${randomBytes(6).toString('hex')}`;
  const partialSource = `${sourcePath}.${unique}.partial`;
  const partialBinary = `${binaryPath}.${unique}.partial`;
  try {
    await mkdir(cacheDir, { recursive: true });
    await writeFile(partialSource, EVENTKIT_HELPER_SOURCE);
    await rename(partialSource, sourcePath);
  } catch (error) {
    await rm(partialSource, { force: true });
    throw new RemError(
      'REM_BACKEND_FAILED',
      `could not write the eventkit helper source into ${cacheDir}: ${describe(error)}`,
      { cause: error, details: { cacheDir } },
    );
  }
  try {
    await compile({ sourcePath, outputPath: partialBinary });
    await rename(partialBinary, binaryPath);
  } catch (error) {
    if (RemError.isInstance(error)) throw error;
    throw new RemError('REM_BACKEND_FAILED', `could not build the eventkit helper: ${describe(error)}`, {
      cause: error,
      details: { sourcePath },
    });
  } finally {
    await rm(partialBinary, { force: true });
  }
  return binaryPath;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function compileWithXcrun(request: EventKitCompileRequest, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      'xcrun',
      ['swiftc', '-O', '-o', request.outputPath, request.sourcePath],
      { env, maxBuffer: 16 * 1024 * 1024 },
      (error, _stdout, stderr) => {
        if (error === null) {
          resolve();
          return;
        }
        const output = tail(String(stderr), MESSAGE_TAIL_CHARS);
        if (error.code === 'ENOENT' || XCRUN_MISSING_PATTERN.test(output)) {
          reject(
            new RemError('REM_BACKEND_UNAVAILABLE', XCRUN_MISSING_MESSAGE, {
              cause: error,
              details: { stderr: output },
            }),
          );
          return;
        }
        reject(
          new RemError(
            'REM_BACKEND_FAILED',
            `compiling the eventkit helper (${request.sourcePath}) with xcrun swiftc failed: ${output || error.message}`,
            { cause: error, details: { sourcePath: request.sourcePath, stderr: output } },
          ),
        );
      },
    );
  });
}

/** Spawns the helper and multiplexes requests over its stdio by id. */
function startHelper(
  command: readonly [string, ...string[]],
  spawn: EventKitSpawn,
  env: NodeJS.ProcessEnv,
): HelperConnection {
  const [program, ...args] = command;
  const pending = new Map<number, PendingRequest>();
  let nextId = 1;
  let isReady = false;
  let stopping = false;
  let exited = false;
  let exitError: RemError | undefined;
  let stderrTail = '';
  let referenced = true;

  let resolveReady: () => void = () => {};
  let rejectReady: (error: RemError) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  // Every caller awaits `ready`; this only keeps an early failure from counting as unhandled.
  ready.catch(() => {});
  let resolveExit: () => void = () => {};
  const exit = new Promise<void>((resolve) => {
    resolveExit = resolve;
  });

  const finish = (error: RemError): void => {
    if (exited) return;
    exited = true;
    exitError = error;
    rejectReady(error);
    for (const entry of pending.values()) entry.reject(error);
    pending.clear();
    resolveExit();
  };

  let child: ChildProcessWithoutNullStreams;
  try {
    child = spawn(program, args, { env });
  } catch (error) {
    finish(startFailure(command, error));
    return {
      ready,
      usable: false,
      exited: true,
      request: () => Promise.reject(exitError),
      stop: async () => {},
    };
  }

  /**
   * The helper holds the event loop only while it is starting, stopping or answering: a CLI
   * command that forgets `close()` still exits, and `rem mcp` is kept alive by its own server.
   */
  const updateReferences = (): void => {
    const wanted = !isReady || stopping || pending.size > 0;
    if (wanted === referenced) return;
    referenced = wanted;
    if (wanted) child.ref();
    else child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr]) {
      if (stream instanceof Socket) {
        if (wanted) stream.ref();
        else stream.unref();
      }
    }
  };

  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    stderrTail = tail(stderrTail + chunk, STDERR_TAIL_CHARS);
  });
  // A write after the helper died fails with EPIPE; the 'close' handler reports that exit.
  child.stdin.on('error', () => {});

  const lines = createInterface({ input: child.stdout, crlfDelay: Number.POSITIVE_INFINITY });
  lines.on('line', (text) => {
    const line = parseHelperLine(text);
    if (line === undefined) {
      if (text.trim() !== '') stderrTail = tail(`${stderrTail}[stdout] ${text}\n`, STDERR_TAIL_CHARS);
      return;
    }
    if (line.kind === 'ready') {
      if (isReady) return;
      if (line.access === 'granted') {
        isReady = true;
        updateReferences();
        resolveReady();
      } else {
        rejectReady(
          new RemError('REM_BACKEND_UNAVAILABLE', ACCESS_DENIED_MESSAGE, { details: { access: 'denied' } }),
        );
        child.stdin.end();
      }
      return;
    }
    const entry = pending.get(line.id);
    if (entry === undefined) return;
    pending.delete(line.id);
    updateReferences();
    if (line.ok) entry.resolve(line.result);
    else entry.reject(helperFailure(line.error, entry.operation));
  });

  child.on('error', (error) => {
    // Only a failed spawn ends the helper here; a failed kill or signal leaves it running.
    if (child.pid === undefined) finish(startFailure(command, error));
  });
  child.on('close', (code, signal) => {
    finish(
      exitFailure({ code, signal, pendingCount: pending.size, wasReady: isReady, stopping, stderrTail }),
    );
    lines.close();
  });

  return {
    ready,
    get usable() {
      return isReady && !stopping && !exited;
    },
    get exited() {
      return exited;
    },
    request(operation, params) {
      if (exited) {
        return Promise.reject(
          exitError ?? new RemError('REM_BACKEND_FAILED', 'the eventkit helper is not running'),
        );
      }
      if (stopping) {
        return Promise.reject(new RemError('REM_BACKEND_FAILED', 'the eventkit helper is stopping'));
      }
      const id = nextId;
      nextId += 1;
      return new Promise((resolve, reject) => {
        pending.set(id, {
          operation,
          resolve: resolve as (result: unknown) => void,
          reject,
        });
        updateReferences();
        child.stdin.write(`${JSON.stringify({ id, op: operation, params })}\n`);
      });
    },
    async stop(timeoutMs) {
      if (exited) return;
      stopping = true;
      updateReferences();
      child.stdin.end();
      const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        await exit;
      } finally {
        clearTimeout(killer);
      }
    },
  };
}

/** Reads one helper line; undefined for anything that is not part of the protocol. */
function parseHelperLine(text: string): HelperLine | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(value)) return undefined;
  if (value.ready === true)
    return { kind: 'ready', access: value.access === 'granted' ? 'granted' : 'denied' };
  if (typeof value.id !== 'number') return undefined;
  if (value.ok === true) return { kind: 'response', id: value.id, ok: true, result: value.result };
  if (value.ok !== false) return undefined;
  const error = isRecord(value.error) ? value.error : {};
  return {
    kind: 'response',
    id: value.id,
    ok: false,
    error: {
      code: typeof error.code === 'string' ? error.code : 'FAILED',
      message: typeof error.message === 'string' ? error.message : 'the helper failed without saying why',
    },
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function helperFailure(error: { code: string; message: string }, operation: HelperOperation): RemError {
  const code = HELPER_ERROR_CODES.get(error.code) ?? 'REM_BACKEND_FAILED';
  const message =
    code === 'REM_BACKEND_FAILED'
      ? `the eventkit helper failed on ${operation}: ${error.message}`
      : error.message;
  return new RemError(code, message, { details: { helperCode: error.code, operation } });
}

function startFailure(command: readonly string[], error: unknown): RemError {
  return new RemError(
    'REM_BACKEND_FAILED',
    `could not start the eventkit helper (${command.join(' ')}): ${describe(error)}`,
    { cause: error, details: { command: [...command] } },
  );
}

function exitFailure(exit: {
  code: number | null;
  signal: NodeJS.Signals | null;
  pendingCount: number;
  wasReady: boolean;
  stopping: boolean;
  stderrTail: string;
}): RemError {
  const how = exit.signal === null ? `with code ${exit.code ?? 'unknown'}` : `on ${exit.signal}`;
  const when = !exit.wasReady
    ? 'before it was ready'
    : exit.stopping
      ? 'while stopping'
      : exit.pendingCount > 0
        ? `with ${exit.pendingCount} request(s) pending; the next call starts it again`
        : 'while idle; the next call starts it again';
  const stderr = tail(exit.stderrTail.trim(), MESSAGE_TAIL_CHARS);
  return new RemError(
    'REM_BACKEND_FAILED',
    `the eventkit helper exited ${how} ${when}${stderr === '' ? '' : `; stderr: ${stderr}`}`,
    { details: { exitCode: exit.code, signal: exit.signal, stderr } },
  );
}

function tail(text: string, limit: number): string {
  return text.length <= limit ? text : text.slice(text.length - limit);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
