// Latency of ballast's Git MCP server next to @cyanheads/git-mcp-server (npm), both over stdio with
// the SDK client, on one generated repository, in one run. See bench/README.md for what each number
// means.
//
//   node --import tsx bench/mcp-git.bench.ts [--commits N] [--files N] [--calls N] [--warmup N]
//                                             [--starts N] [--json]
//
// Run `pnpm build` first: the bench spawns dist/cli.js. Progress goes to stderr, results to stdout.
// The repository and the peer's install are cached under ~/.cache/ballast-bench/mcp-git.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import {
  type CallToolResult,
  type ListToolsResult,
  ListToolsResultSchema,
} from '@modelcontextprotocol/sdk/types.js';

const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUR_BIN = join(PACKAGE_DIR, 'dist', 'cli.js');
const CACHE_DIR = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'ballast-bench', 'mcp-git');

const PEER_PACKAGE = '@cyanheads/git-mcp-server';
const PEER_VERSION = '2.15.3';
// Bump when the generated repository changes shape, so a stale cache is not reused.
const GENERATOR_VERSION = 2;

const DEFAULTS = { commits: 10_000, files: 5_000, calls: 200, warmup: 30, starts: 5 };
const LOG_COUNT = 50;
const BLAME_LINES = 50;
// The hot file (blame target): this many lines, one commit in HOT_EVERY touches it.
const HOT_LINES = 120;
const HOT_EVERY = 5;
const FILES_PER_DIRECTORY = 100;
// Worktree changes left unstaged, and one untracked file, so status and diff have work to do.
const MODIFIED_FILE_COUNT = 5;
const UNTRACKED_FILE = 'notes/untracked-bench-note.md';
// Bounds: one call, one operation's phase, one server start, the peer's install.
const CALL_TIMEOUT_MS = 30_000;
const PHASE_LIMIT_MS = 60_000;
const START_TIMEOUT_MS = 30_000;
const INSTALL_TIMEOUT_MS = 180_000;
const GOAL_RATIO = 0.7;
const GOAL_COLD_START_MS = 300;

const USAGE =
  'usage: node --import tsx bench/mcp-git.bench.ts [--commits N] [--files N] [--calls N] [--warmup N] [--starts N] [--no-cache] [--json]';

type Side = 'ours' | 'theirs';
type Operation = 'status' | 'edit' | 'log' | 'diff' | 'show' | 'blame' | 'list';
/** The operations with a goal. */
const OPERATIONS: readonly Operation[] = ['status', 'log', 'diff', 'show', 'blame'];
/**
 * Also measured, for information: status right after a tracked file changed (each call follows an
 * edit, so no server can reuse an earlier answer), and a warm tools/list, with at most LIST_CALLS calls.
 */
const MEASURED: readonly Operation[] = ['status', 'edit', 'log', 'diff', 'show', 'blame', 'list'];

const LIST_CALLS = 50;
const LIST_WARMUP = 5;
// Above this much CPU (% of one core) used by other processes during a phase, the bench warns.
const OTHER_LOAD_WARNING_PERCENT = 10;

interface Options {
  commits: number;
  files: number;
  calls: number;
  warmup: number;
  starts: number;
  /** Start ours with --no-cache: git answers every call. */
  noCache: boolean;
  json: boolean;
}

class UsageError extends Error {}

function parseOptions(argv: readonly string[]): Options | 'help' {
  // `pnpm bench -- --flag` may hand the script a literal `--` first.
  const args = argv[0] === '--' ? argv.slice(1) : [...argv];
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        commits: { type: 'string' },
        files: { type: 'string' },
        calls: { type: 'string' },
        warmup: { type: 'string' },
        starts: { type: 'string' },
        json: { type: 'boolean' },
        'no-cache': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help === true) return 'help';
  const count = (name: keyof typeof DEFAULTS, minimum: number): number => {
    const value = values[name];
    if (value === undefined) return DEFAULTS[name];
    if (typeof value !== 'string' || !/^\d+$/.test(value) || Number(value) < minimum) {
      throw new UsageError(`--${name} must be a whole number ≥ ${minimum}, got ${String(value)}`);
    }
    return Number(value);
  };
  return {
    commits: count('commits', 2),
    files: count('files', MODIFIED_FILE_COUNT + 2),
    calls: count('calls', 1),
    warmup: count('warmup', 0),
    starts: count('starts', 1),
    noCache: values['no-cache'] === true,
    json: values.json === true,
  };
}

const progress = (message: string): void => {
  process.stderr.write(`[bench] ${message}\n`);
};

// ---------------------------------------------------------------------------------------------------
// The repository

/** A small seeded generator (mulberry32): the same parameters give the same repository. */
function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = [
  'alpha',
  'beta',
  'cache',
  'delta',
  'event',
  'frame',
  'graph',
  'hash',
  'index',
  'queue',
  'route',
  'token',
];

/** What the bench needs to know about the generated repository. */
interface BenchRepository {
  path: string;
  commits: number;
  files: number;
  /** The file blame runs on (touched by one commit in HOT_EVERY). */
  hotFile: string;
  /** A commit in the middle of history, for show. */
  showRevision: string;
  showSubject: string;
  /** The 50 newest commit hashes, newest first, for log. */
  newest: string[];
  /** Tracked files changed in the work tree and not staged. */
  modified: string[];
  /** The tracked file the edit phase rewrites before every call (restored after the phase). */
  editedFile: string;
  /** Its committed content. */
  editedOriginal: string;
  generatedMs: number | null;
}

function filePath(index: number): string {
  if (index === 0) return 'src/core/engine.ts';
  return `src/module${String(Math.floor(index / FILES_PER_DIRECTORY)).padStart(3, '0')}/file${String(index % FILES_PER_DIRECTORY).padStart(3, '0')}.ts`;
}

function sourceLine(random: () => number, file: number, line: number): string {
  const word = WORDS[Math.floor(random() * WORDS.length)] ?? 'alpha';
  return `export const ${word}_${file}_${line} = ${Math.floor(random() * 1_000_000)}; // ${word} ${Math.floor(random() * 1000)}`;
}

/** An environment for git that ignores the user's and the system's config. */
function plainGitEnvironment(): NodeJS.ProcessEnv {
  const environment: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env))
    if (!name.startsWith('GIT_')) environment[name] = value;
  return { ...environment, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', LC_ALL: 'C' };
}

function gitSync(cwd: string, args: readonly string[]): string {
  const result = spawnSync('git', args, {
    cwd,
    env: plainGitEnvironment(),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) {
    throw new Error(
      `git ${args.join(' ')} failed (${result.status ?? result.signal}): ${result.stderr || result.error?.message}`,
    );
  }
  return result.stdout;
}

/** Streams a fast-import of the whole history into `directory` (already `git init`ed). */
async function importHistory(directory: string, commits: number, files: number): Promise<void> {
  const random = createRandom(0x6a17 ^ (commits * 31 + files));
  const contents: string[][] = [];
  for (let file = 0; file < files; file++) {
    const lines = file === 0 ? HOT_LINES : 15 + Math.floor(random() * 30);
    contents.push(Array.from({ length: lines }, (_, line) => sourceLine(random, file, line)));
  }
  const child = spawn('git', ['fast-import', '--quiet', '--done'], {
    cwd: directory,
    env: plainGitEnvironment(),
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<number>((resolveExit, rejectExit) => {
    child.on('error', rejectExit);
    child.on('close', (code) => resolveExit(code ?? -1));
  });
  const stdin = child.stdin;
  let pending: string[] = [];
  let pendingBytes = 0;
  const write = async (text: string): Promise<void> => {
    pending.push(text);
    pendingBytes += text.length;
    if (pendingBytes < 1 << 20) return;
    const chunk = pending.join('');
    pending = [];
    pendingBytes = 0;
    if (!stdin.write(chunk)) await new Promise<void>((resolveDrain) => stdin.once('drain', resolveDrain));
  };
  const data = (text: string): string => `data ${Buffer.byteLength(text)}\n${text}\n`;
  const modify = (file: number): string =>
    `M 100644 inline ${filePath(file)}\n${data(`${(contents[file] ?? []).join('\n')}\n`)}`;
  const startSeconds = 1_700_000_000;
  const people = [
    'Ada Lovelace <ada@example.com>',
    'Grace Hopper <grace@example.com>',
    'Linus Example <linus@example.com>',
  ];
  let lastReport = performance.now();
  for (let commit = 1; commit <= commits; commit++) {
    const touched = new Set<number>();
    if (commit > 1) {
      if (commit % HOT_EVERY === 0) touched.add(0);
      const extra = 1 + Math.floor(random() * 3);
      for (let index = 0; index < extra; index++) touched.add(1 + Math.floor(random() * (files - 1)));
      // Each touched file gets one hunk of 1-3 consecutive changed lines, as real edits do.
      for (const file of touched) {
        const lines = contents[file] ?? [];
        const size = 1 + Math.floor(random() * 3);
        const first = Math.floor(random() * (lines.length - size + 1));
        for (let line = first; line < first + size; line++) lines[line] = sourceLine(random, file, line);
      }
    }
    const person = people[commit % people.length] ?? 'Ada <ada@example.com>';
    const when = `${startSeconds + commit * 3600} +0000`;
    const word = WORDS[commit % WORDS.length] ?? 'alpha';
    const message =
      commit === 1
        ? 'Initial import\n'
        : `Update ${word} handling (change ${commit})\n\nTouches ${touched.size} file(s); generated by the mcp-git bench.\n`;
    let block = `commit refs/heads/main\nmark :${commit}\nauthor ${person} ${when}\ncommitter ${person} ${when}\n${data(message)}`;
    if (commit > 1) block += `from :${commit - 1}\n`;
    await write(block);
    if (commit === 1) {
      for (let file = 0; file < files; file++) await write(modify(file));
    } else {
      for (const file of touched) await write(modify(file));
    }
    await write('\n');
    if (performance.now() - lastReport > 2000 || commit === commits) {
      progress(`  fast-import: ${commit}/${commits} commits streamed`);
      lastReport = performance.now();
    }
  }
  await write('done\n');
  stdin.end(pending.join(''));
  const code = await exited;
  if (code !== 0) throw new Error(`git fast-import exited with ${code}: ${stderr.trim()}`);
}

const modifiedFiles = (files: number): number[] =>
  Array.from(
    { length: MODIFIED_FILE_COUNT },
    (_, index) => 1 + Math.floor(((index + 0.5) * (files - 1)) / MODIFIED_FILE_COUNT),
  );

/**
 * Puts the unstaged changes in place (idempotent: files already as wanted are not rewritten, so
 * their stat data and the index stay as the last run left them).
 */
function applyWorktreeChanges(path: string, files: number): string[] {
  const changed: string[] = [];
  for (const file of modifiedFiles(files)) {
    const relative = filePath(file);
    const committed = gitSync(path, ['show', `HEAD:${relative}`]);
    const lines = committed.split('\n');
    lines[2] = `export const benchEdited_${file} = 'unstaged change';`;
    const wanted = `${lines.join('\n')}export function benchAdded_${file}(): number {\n  return ${file};\n}\n`;
    const absolute = join(path, relative);
    if (readFileSync(absolute, 'utf8') !== wanted) writeFileSync(absolute, wanted);
    changed.push(relative);
  }
  const untracked = join(path, UNTRACKED_FILE);
  if (!existsSync(untracked)) {
    mkdirSync(dirname(untracked), { recursive: true });
    writeFileSync(untracked, '# notes\n\nNot committed.\n');
  }
  return changed;
}

async function prepareRepository(commits: number, files: number): Promise<BenchRepository> {
  const path = join(CACHE_DIR, `repo-v${GENERATOR_VERSION}-c${commits}-f${files}`);
  let generatedMs: number | null = null;
  if (existsSync(join(path, '.git'))) {
    progress(`repository: reusing ${path}`);
  } else {
    const started = performance.now();
    const partial = `${path}.partial-${process.pid}`;
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(partial, { recursive: true });
    progress(`repository: generating ${commits} commits × ${files} files into ${partial}`);
    try {
      gitSync(partial, ['init', '--quiet', '--initial-branch=main']);
      await importHistory(partial, commits, files);
      progress('  checkout');
      gitSync(partial, ['reset', '--hard', '--quiet', 'main']);
      progress('  gc (pack, commit-graph)');
      gitSync(partial, ['gc', '--quiet']);
      // Files written in the same second as the index are "racily clean" and would be re-read by
      // every status; wait, then let status rewrite the index with a later timestamp.
      await new Promise((resolveWait) => setTimeout(resolveWait, 1100));
      gitSync(partial, ['status', '--porcelain']);
      renameSync(partial, path);
    } catch (error) {
      rmSync(partial, { recursive: true, force: true });
      throw error;
    }
    generatedMs = performance.now() - started;
    progress(`repository: generated in ${(generatedMs / 1000).toFixed(1)} s`);
  }
  const modified = applyWorktreeChanges(path, files);
  // The edit phase's file: the last one the work-tree changes leave alone, as committed (a run
  // stopped during that phase may have left it edited).
  const taken = new Set(modifiedFiles(files));
  let editedIndex = files - 1;
  while (taken.has(editedIndex)) editedIndex -= 1;
  const editedFile = filePath(editedIndex);
  const editedOriginal = gitSync(path, ['show', `HEAD:${editedFile}`]);
  restoreEdited({ path, editedFile, editedOriginal });
  const middle = Math.floor(commits / 2);
  const showRevision = gitSync(path, ['rev-parse', `HEAD~${middle}`]).trim();
  const showSubject = gitSync(path, ['log', '-1', '--format=%s', showRevision]).trim();
  const newest = gitSync(path, ['log', `--max-count=${LOG_COUNT}`, '--format=%H'])
    .trim()
    .split('\n');
  return {
    path,
    commits,
    files,
    hotFile: filePath(0),
    showRevision,
    showSubject,
    newest,
    modified,
    editedFile,
    editedOriginal,
    generatedMs,
  };
}

/** Puts the edit phase's file back as committed, unless it already is. */
function restoreEdited(repository: Pick<BenchRepository, 'path' | 'editedFile' | 'editedOriginal'>): void {
  const file = join(repository.path, repository.editedFile);
  if (readFileSync(file, 'utf8') !== repository.editedOriginal)
    writeFileSync(file, repository.editedOriginal);
}

// ---------------------------------------------------------------------------------------------------
// The servers

interface ServerSpec {
  side: Side;
  label: string;
  command: string;
  args: string[];
  env: Record<string, string>;
}

interface RunningServer {
  client: Client;
  transport: StdioClientTransport;
  tools: Set<string>;
  stderr: () => string;
}

const liveTransports = new Set<StdioClientTransport>();

function baseEnvironment(): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined) environment[name] = value;
  return environment;
}

async function withTimeout<Value>(promise: Promise<Value>, ms: number, what: string): Promise<Value> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, rejectTimeout) => {
        timer = setTimeout(() => rejectTimeout(new Error(`${what} took longer than ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * tools/list as a plain request. `client.listTools()` would also compile a validator for every
 * output schema in this process (30-60 ms for ~40 tools here): client work that is not the server's
 * latency. Without it `callTool` does not validate structured content; the bench's checks read it.
 */
function listTools(client: Client): Promise<ListToolsResult> {
  return client.request({ method: 'tools/list' }, ListToolsResultSchema, { timeout: CALL_TIMEOUT_MS });
}

/** Spawns a server and waits for its first tools/list answer; returns it and the time that took. */
async function startServer(spec: ServerSpec): Promise<{ server: RunningServer; coldMs: number }> {
  const transport = new StdioClientTransport({
    command: spec.command,
    args: spec.args,
    env: spec.env,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < 16_384) stderr += chunk.toString('utf8');
  });
  const client = new Client({ name: 'ballast-mcp-git-bench', version: '0.0.0' });
  liveTransports.add(transport);
  const started = performance.now();
  try {
    const listed = await withTimeout(
      (async () => {
        await client.connect(transport);
        return listTools(client);
      })(),
      START_TIMEOUT_MS,
      `starting ${spec.label}`,
    );
    const coldMs = performance.now() - started;
    return {
      server: {
        client,
        transport,
        tools: new Set(listed.tools.map((tool) => tool.name)),
        stderr: () => stderr,
      },
      coldMs,
    };
  } catch (error) {
    await stopServer({ client, transport, tools: new Set(), stderr: () => stderr });
    const detail = stderr.trim().split('\n').slice(-5).join('\n');
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}${detail ? `\n${detail}` : ''}`,
    );
  }
}

async function stopServer(server: RunningServer): Promise<void> {
  liveTransports.delete(server.transport);
  const pid = server.transport.pid;
  try {
    // The SDK ends stdin, then sends SIGTERM and SIGKILL if the process lingers.
    await withTimeout(server.client.close(), 5000, 'closing a server');
  } catch {
    if (pid !== null) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}

function killAll(): void {
  for (const transport of liveTransports) {
    const pid = transport.pid;
    if (pid === null) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** Installs the peer into the cache (once) and returns how to start it, or why it cannot be. */
function preparePeer(): { entry: string } | { reason: string } {
  const prefix = join(CACHE_DIR, `peer-${PEER_VERSION}`);
  const packageDir = join(prefix, 'node_modules', ...PEER_PACKAGE.split('/'));
  const manifest = join(packageDir, 'package.json');
  const installedVersion = (): string | undefined => {
    if (!existsSync(manifest)) return undefined;
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version;
  };
  if (installedVersion() !== PEER_VERSION) {
    progress(`peer: npm install --prefix ${prefix} ${PEER_PACKAGE}@${PEER_VERSION}`);
    mkdirSync(prefix, { recursive: true });
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const result = spawnSync(
      npm,
      [
        'install',
        '--prefix',
        prefix,
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
        `${PEER_PACKAGE}@${PEER_VERSION}`,
      ],
      { encoding: 'utf8', timeout: INSTALL_TIMEOUT_MS },
    );
    if (result.status !== 0 || installedVersion() !== PEER_VERSION) {
      const why =
        result.error?.message ??
        (result.stderr.trim().split('\n').slice(-3).join(' ') || `exit ${result.status}`);
      return { reason: `npm install of ${PEER_PACKAGE}@${PEER_VERSION} failed: ${why}` };
    }
  }
  const bin = (JSON.parse(readFileSync(manifest, 'utf8')) as { bin?: string | Record<string, string> }).bin;
  const relative = typeof bin === 'string' ? bin : Object.values(bin ?? {})[0];
  if (relative === undefined) return { reason: `${PEER_PACKAGE} declares no bin` };
  return { entry: join(packageDir, relative) };
}

// ---------------------------------------------------------------------------------------------------
// The operations: each side's tool, arguments and the check its answer must pass.

interface Call {
  tool: string;
  args: Record<string, unknown>;
  /** Sends something other than tools/call (tools/list); its answer is shaped as a tool result. */
  invoke?: (client: Client) => Promise<CallToolResult>;
  /** Runs before each call, untimed (the edit phase changes a file). */
  before?: () => void;
  /** Why the answer is wrong, or undefined when it carries the expected data. */
  check(result: CallToolResult): string | undefined;
}

function textOf(result: CallToolResult): string {
  return result.content.map((part) => (part.type === 'text' ? part.text : '')).join('\n');
}

/** Everything the answer says, structured and text, as one string to search. */
function answerText(result: CallToolResult): string {
  return `${result.structuredContent === undefined ? '' : JSON.stringify(result.structuredContent)}\n${textOf(result)}`;
}

function mentionsAll(result: CallToolResult, needles: readonly string[]): string | undefined {
  const text = answerText(result);
  const missing = needles.filter((needle) => !text.includes(needle));
  return missing.length === 0 ? undefined : `answer lacks ${missing.slice(0, 3).join(', ')}`;
}

function buildCalls(repository: BenchRepository): Record<Side, Record<Operation, Call>> {
  const path = repository.path;
  const lastHash = repository.newest[repository.newest.length - 1] ?? '';
  const firstHash = repository.newest[0] ?? '';
  // Fewer than LOG_COUNT when the repository has fewer commits.
  const expected = repository.newest.length;
  const blameLines = Math.min(BLAME_LINES, HOT_LINES);
  const blameWords = (result: CallToolResult): string | undefined => {
    const text = answerText(result);
    // Every line of the range is one of the generated `export const <word>_0_<line>` lines.
    const missing: number[] = [];
    for (let line = 0; line < blameLines; line++)
      if (!new RegExp(`_0_${line} = `).test(text)) missing.push(line + 1);
    return missing.length === 0 ? undefined : `blame lacks line(s) ${missing.slice(0, 5).join(', ')}`;
  };
  const list: Call = {
    tool: 'tools/list',
    args: {},
    invoke: async (client) => {
      const listed = await listTools(client);
      return { content: [{ type: 'text', text: JSON.stringify(listed) }] };
    },
    check: (result) => mentionsAll(result, ['git_status', 'git_log', 'git_diff', 'git_show']),
  };
  // Each call of the edit phase follows a change of one tracked file (two contents, alternating).
  let edits = 0;
  const editedPath = join(path, repository.editedFile);
  const edit = (): void => {
    edits += 1;
    writeFileSync(editedPath, `${repository.editedOriginal}// bench edit ${edits % 2}\n`);
  };
  const ours: Record<Exclude<Operation, 'edit'>, Call> = {
    list,
    status: {
      tool: 'git_status',
      args: { repo_path: path },
      check: (result) => {
        const structured = result.structuredContent as
          | { unstaged?: Array<{ path: string }>; untracked?: string[] }
          | undefined;
        const unstaged = new Set((structured?.unstaged ?? []).map((entry) => entry.path));
        const missing = repository.modified.filter((file) => !unstaged.has(file));
        if (missing.length > 0) return `unstaged lacks ${missing[0]}`;
        return structured?.untracked?.includes(UNTRACKED_FILE)
          ? undefined
          : `untracked lacks ${UNTRACKED_FILE}`;
      },
    },
    log: {
      tool: 'git_log',
      args: { repo_path: path, max_count: LOG_COUNT },
      check: (result) => {
        const commits =
          (result.structuredContent as { commits?: Array<{ hash: string }> } | undefined)?.commits ?? [];
        if (commits.length !== expected) return `${commits.length} commits, expected ${expected}`;
        return commits[0]?.hash === firstHash && commits[expected - 1]?.hash === lastHash
          ? undefined
          : 'wrong commits';
      },
    },
    diff: {
      tool: 'git_diff',
      args: { repo_path: path, target: 'HEAD' },
      check: (result) => mentionsAll(result, [...repository.modified, 'unstaged change']),
    },
    show: {
      tool: 'git_show',
      args: { repo_path: path, revision: repository.showRevision },
      check: (result) => mentionsAll(result, [repository.showRevision, repository.showSubject, 'diff --git']),
    },
    blame: {
      tool: 'git_blame',
      args: { repo_path: path, path: repository.hotFile, start_line: 1, end_line: blameLines },
      check: blameWords,
    },
  };
  const theirs: Record<Exclude<Operation, 'edit'>, Call> = {
    list,
    status: {
      tool: 'git_status',
      args: { path },
      // It lists an untracked folder, not the files in it (git's default `-unormal`).
      check: (result) => mentionsAll(result, [...repository.modified, `${dirname(UNTRACKED_FILE)}/`]),
    },
    log: {
      tool: 'git_log',
      args: { path, maxCount: LOG_COUNT },
      check: (result) => {
        const text = answerText(result);
        const found = repository.newest.filter((hash) => text.includes(hash)).length;
        return found === expected ? undefined : `${found} of the ${expected} newest commits in the answer`;
      },
    },
    diff: {
      tool: 'git_diff',
      args: { path, target: 'HEAD' },
      check: (result) => mentionsAll(result, [...repository.modified, 'unstaged change']),
    },
    show: {
      tool: 'git_show',
      args: { path, object: repository.showRevision },
      check: (result) => mentionsAll(result, [repository.showRevision, repository.showSubject, 'diff --git']),
    },
    blame: {
      tool: 'git_blame',
      args: { path, filePath: repository.hotFile, startLine: 1, endLine: blameLines },
      check: blameWords,
    },
  };
  // The edit phase is status after a change: the same call and check, plus the edited file.
  const withEdit = (calls: Record<Exclude<Operation, 'edit'>, Call>): Record<Operation, Call> => ({
    ...calls,
    edit: {
      ...calls.status,
      before: edit,
      check: (result) => calls.status.check(result) ?? mentionsAll(result, [repository.editedFile]),
    },
  });
  return { ours: withEdit(ours), theirs: withEdit(theirs) };
}

// ---------------------------------------------------------------------------------------------------
// Measuring

interface Sample {
  ms: number;
  /** `wrong`: a success whose data failed the check (timed, counted as an error); `failed`: isError or no answer (not timed). */
  kind: 'ok' | 'wrong' | 'failed';
  error?: string;
  bytes: number;
}

async function timeCall(server: RunningServer, call: Call): Promise<Sample> {
  call.before?.();
  const started = performance.now();
  try {
    const result = call.invoke
      ? await call.invoke(server.client)
      : ((await server.client.callTool({ name: call.tool, arguments: call.args }, undefined, {
          timeout: CALL_TIMEOUT_MS,
        })) as CallToolResult);
    const ms = performance.now() - started;
    const bytes = Buffer.byteLength(JSON.stringify(result));
    if (result.isError)
      return { ms, bytes, kind: 'failed', error: `isError: ${textOf(result).slice(0, 200)}` };
    const wrong = call.check(result);
    return wrong === undefined ? { ms, bytes, kind: 'ok' } : { ms, bytes, kind: 'wrong', error: wrong };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ms: performance.now() - started, bytes: 0, kind: 'failed', error: message };
  }
}

interface Stats {
  /** Answers timed: successes, including those whose data failed the check. */
  n: number;
  /** Calls that failed (isError, no answer) or whose answer lacked the expected data. */
  errors: number;
  /** Of the errors, answers that came back as successes but lacked the expected data. */
  wrongAnswers: number;
  firstError: string | null;
  p50: number | null;
  p95: number | null;
  mean: number | null;
  answerBytes: number | null;
  /** CPU time of the server process and its git children per call (warm-up included), from /proc. */
  cpuMsPerCall: number | null;
}

const round3 = (value: number): number => Math.round(value * 1000) / 1000;
const roundOrNull = (value: number | null): number | null => (value === null ? null : round3(value));

function percentile(sorted: readonly number[], fraction: number): number | null {
  if (sorted.length === 0) return null;
  // Nearest rank.
  const rank = Math.max(1, Math.ceil(fraction * sorted.length));
  const value = sorted[rank - 1];
  return value === undefined ? null : round3(value);
}

function summarise(samples: readonly Sample[]): Stats {
  const good = samples.filter((sample) => sample.kind !== 'failed');
  const sorted = good.map((sample) => sample.ms).sort((left, right) => left - right);
  const firstError = samples.find((sample) => sample.error !== undefined)?.error ?? null;
  return {
    n: good.length,
    errors: samples.filter((sample) => sample.kind !== 'ok').length,
    wrongAnswers: samples.filter((sample) => sample.kind === 'wrong').length,
    firstError,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    mean: sorted.length === 0 ? null : round3(sorted.reduce((sum, ms) => sum + ms, 0) / sorted.length),
    answerBytes:
      good.length === 0
        ? null
        : Math.round(good.reduce((sum, sample) => sum + sample.bytes, 0) / good.length),
    cpuMsPerCall: null,
  };
}

// CPU accounting from /proc (Linux): what each server used, and what other processes took from the
// machine meanwhile. Times are in USER_HZ ticks, 100 a second on Linux.
const MS_PER_TICK = 10;

/** Busy and total ticks of all cores, or null without /proc. */
function machineTicks(): { busy: number; total: number } | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already in user)
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
    const busy = user + nice + system + irq + softirq + steal;
    return { busy, total: busy + idle + iowait };
  } catch {
    return null;
  }
}

/** User and system ticks of a process and of its reaped children (git calls), or null. */
function processTicks(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, starting at field 3 (state): utime..cstime are fields 14-17.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  } catch {
    return null;
  }
}

interface CpuSnapshot {
  machine: { busy: number; total: number } | null;
  own: number | null;
  sides: Record<Side, number | null>;
}

function cpuSnapshot(contenders: Record<Side, Contender>): CpuSnapshot {
  return {
    machine: machineTicks(),
    own: processTicks(process.pid),
    sides: {
      ours: processTicks(contenders.ours?.server.transport.pid ?? null),
      theirs: processTicks(contenders.theirs?.server.transport.pid ?? null),
    },
  };
}

/** CPU other processes used between two snapshots, in % of one core. */
function otherLoadPercent(before: CpuSnapshot, after: CpuSnapshot): number | null {
  if (before.machine === null || after.machine === null || before.own === null || after.own === null)
    return null;
  let mine = after.own - before.own;
  for (const side of ['ours', 'theirs'] as const) {
    const start = before.sides[side];
    const end = after.sides[side];
    if (start !== null && end !== null) mine += end - start;
  }
  const wallTicksPerCore = (after.machine.total - before.machine.total) / Math.max(1, cpus().length);
  if (wallTicksPerCore <= 0) return null;
  const other = after.machine.busy - before.machine.busy - mine;
  return Math.max(0, Math.round((1000 * other) / wallTicksPerCore) / 10);
}

type Contender = { server: RunningServer; calls: Record<Operation, Call> } | null;

/** One operation's numbers for both servers. */
interface PhaseResult {
  ours: Stats | null;
  theirs: Stats | null;
  /** CPU other processes used while it ran, in % of one core (null without /proc). */
  otherLoadPercent: number | null;
}

/**
 * Warm-up, then measured calls at concurrency 1, the two servers alternating call by call (the
 * order flipped every pair) so both see the same moment of the machine.
 */
async function measureOperation(
  operation: Operation,
  contenders: Record<Side, Contender>,
  counts: { calls: number; warmup: number },
): Promise<PhaseResult> {
  const sides = (['ours', 'theirs'] as const).filter((side) => {
    const contender = contenders[side];
    if (contender === null) return false;
    const call = contender.calls[operation];
    return call.invoke !== undefined || contender.server.tools.has(call.tool);
  });
  const samples: Record<Side, Sample[]> = { ours: [], theirs: [] };
  const callsMade: Record<Side, number> = { ours: 0, theirs: 0 };
  const started = performance.now();
  const cpuBefore = cpuSnapshot(contenders);
  for (let round = 0; round < counts.warmup + counts.calls; round++) {
    if (performance.now() - started > PHASE_LIMIT_MS) {
      progress(`  ${operation}: stopped after ${PHASE_LIMIT_MS / 1000} s, ${round} rounds`);
      break;
    }
    const order = round % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) {
      const contender = contenders[side];
      if (contender === null) continue;
      const sample = await timeCall(contender.server, contender.calls[operation]);
      callsMade[side] += 1;
      if (round >= counts.warmup) samples[side].push(sample);
      else if (sample.error !== undefined && round === 0)
        progress(`  ${operation} (${side}) warm-up error: ${sample.error}`);
    }
  }
  const cpuAfter = cpuSnapshot(contenders);
  const stats = (side: Side): Stats | null => {
    if (!sides.includes(side)) return null;
    const start = cpuBefore.sides[side];
    const end = cpuAfter.sides[side];
    const cpuMsPerCall =
      start === null || end === null || callsMade[side] === 0
        ? null
        : round3(((end - start) * MS_PER_TICK) / callsMade[side]);
    return { ...summarise(samples[side]), cpuMsPerCall };
  };
  return {
    ours: stats('ours'),
    theirs: stats('theirs'),
    otherLoadPercent: otherLoadPercent(cpuBefore, cpuAfter),
  };
}

// ---------------------------------------------------------------------------------------------------
// Reporting

const fixed = (value: number | null | undefined, digits = 1): string =>
  value === null || value === undefined ? 'n/a' : value.toFixed(digits);
const ratioOf = (ours: number | null | undefined, theirs: number | null | undefined): number | null =>
  ours === null || ours === undefined || theirs === null || theirs === undefined || theirs === 0
    ? null
    : ours / theirs;

const OPERATION_LABELS: Record<Operation, string> = {
  status: 'status',
  edit: 'status after an edit (info)',
  log: `log (${LOG_COUNT})`,
  diff: 'diff (worktree vs HEAD)',
  show: 'show (a commit)',
  blame: `blame (${BLAME_LINES} lines)`,
  list: 'tools/list (info)',
};

interface Goal {
  goal: string;
  verdict: 'PASS' | 'MISS' | 'N/A';
  detail: string;
}

async function main(options: Options): Promise<number> {
  const runStarted = performance.now();
  if (!existsSync(OUR_BIN)) {
    console.error(`mcp-git bench: ${OUR_BIN} is missing; run \`pnpm build\` in packages/mcp-git first`);
    return 1;
  }
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(130);
    });
  }

  const repository = await prepareRepository(options.commits, options.files);
  const peer = preparePeer();
  if ('reason' in peer) progress(`peer: ${peer.reason}; its columns are n/a`);

  const specs: Record<Side, ServerSpec | null> = {
    ours: {
      side: 'ours',
      label: '@ballast/mcp-git',
      command: process.execPath,
      args: [OUR_BIN, '--repo', repository.path, ...(options.noCache ? ['--no-cache'] : [])],
      env: baseEnvironment(),
    },
    theirs:
      'entry' in peer
        ? {
            side: 'theirs',
            label: `${PEER_PACKAGE}@${PEER_VERSION}`,
            command: process.execPath,
            args: [peer.entry],
            env: {
              ...baseEnvironment(),
              MCP_TRANSPORT_TYPE: 'stdio',
              // Quieter than its default (info): the peer is not charged for logging it could turn off.
              MCP_LOG_LEVEL: 'error',
              LOGS_DIR: join(CACHE_DIR, 'peer-logs'),
              GIT_SIGN_COMMITS: 'false',
            },
          }
        : null,
  };
  const peerProblems: string[] = 'reason' in peer ? [peer.reason] : [];

  // Cold start: one unmeasured start each (disk cache), then `starts` measured, alternating.
  const cold: Record<Side, number[]> = { ours: [], theirs: [] };
  progress(`cold start: 1 + ${options.starts} starts per server`);
  const coldCpuBefore = cpuSnapshot({ ours: null, theirs: null });
  for (let round = 0; round <= options.starts; round++) {
    const order: Side[] = round % 2 === 0 ? ['ours', 'theirs'] : ['theirs', 'ours'];
    for (const side of order) {
      const spec = specs[side];
      if (spec === null) continue;
      try {
        const { server, coldMs } = await startServer(spec);
        if (round > 0) cold[side].push(coldMs);
        await stopServer(server);
      } catch (error) {
        const message = `could not start ${spec.label}: ${error instanceof Error ? error.message : String(error)}`;
        if (side === 'ours') throw new Error(message);
        progress(`peer: its columns are n/a: ${message}`);
        peerProblems.push(message);
        specs.theirs = null;
      }
    }
  }
  const coldOtherLoad = otherLoadPercent(coldCpuBefore, cpuSnapshot({ ours: null, theirs: null }));

  const contenders: Record<Side, Contender> = { ours: null, theirs: null };
  const calls = buildCalls(repository);
  for (const side of ['ours', 'theirs'] as const) {
    const spec = specs[side];
    if (spec === null) continue;
    try {
      contenders[side] = { server: (await startServer(spec)).server, calls: calls[side] };
    } catch (error) {
      if (side === 'ours') throw error;
      peerProblems.push(
        `could not start ${spec.label}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  const hasBlame = contenders.ours?.server.tools.has('git_blame') ?? false;
  if (!hasBlame) progress('ours: tools/list has no git_blame; blame is n/a for ours');

  const results = {} as Record<Operation, PhaseResult>;
  try {
    for (const operation of MEASURED) {
      const counts =
        operation === 'list'
          ? { calls: Math.min(options.calls, LIST_CALLS), warmup: Math.min(options.warmup, LIST_WARMUP) }
          : options;
      progress(`${operation}: ${counts.warmup} warm-up + ${counts.calls} measured calls per server`);
      const phaseStarted = performance.now();
      try {
        results[operation] = await measureOperation(operation, contenders, counts);
      } finally {
        if (operation === 'edit') restoreEdited(repository);
      }
      progress(`  done in ${((performance.now() - phaseStarted) / 1000).toFixed(1)} s`);
    }
  } finally {
    for (const side of ['ours', 'theirs'] as const) {
      const contender = contenders[side];
      if (contender !== null) await stopServer(contender.server);
    }
  }

  const coldStats: Record<Side, { n: number; p50: number | null; max: number | null }> & {
    otherLoadPercent: number | null;
  } = {
    otherLoadPercent: coldOtherLoad,
    ours: { n: cold.ours.length, p50: null, max: null },
    theirs: { n: cold.theirs.length, p50: null, max: null },
  };
  for (const side of ['ours', 'theirs'] as const) {
    const sorted = [...cold[side]].sort((left, right) => left - right);
    coldStats[side] = {
      n: sorted.length,
      p50: percentile(sorted, 0.5),
      max: percentile(sorted, 1),
    };
  }

  const rows = [
    {
      operation: 'cold start',
      'ours p50 ms': fixed(coldStats.ours.p50),
      'ours p95 ms': `max ${fixed(coldStats.ours.max)}`,
      'theirs p50 ms': fixed(coldStats.theirs.p50),
      'theirs p95 ms': `max ${fixed(coldStats.theirs.max)}`,
      'ours/theirs p50': fixed(ratioOf(coldStats.ours.p50, coldStats.theirs.p50), 2),
      n: `${coldStats.ours.n}/${coldStats.theirs.n}`,
      errors: '0/0',
      'answer bytes': '',
      'CPU ms/call': '',
      'other load %': fixed(coldOtherLoad, 0),
    },
    ...MEASURED.map((operation) => {
      const ours = results[operation].ours;
      const theirs = results[operation].theirs;
      return {
        operation: OPERATION_LABELS[operation],
        'ours p50 ms': fixed(ours?.p50),
        'ours p95 ms': fixed(ours?.p95),
        'theirs p50 ms': fixed(theirs?.p50),
        'theirs p95 ms': fixed(theirs?.p95),
        'ours/theirs p50': fixed(ratioOf(ours?.p50, theirs?.p50), 2),
        n: `${ours?.n ?? 'n/a'}/${theirs?.n ?? 'n/a'}`,
        errors: `${ours?.errors ?? 'n/a'}/${theirs?.errors ?? 'n/a'}`,
        'answer bytes': `${ours?.answerBytes ?? 'n/a'}/${theirs?.answerBytes ?? 'n/a'}`,
        'CPU ms/call': `${fixed(ours?.cpuMsPerCall)}/${fixed(theirs?.cpuMsPerCall)}`,
        'other load %': fixed(results[operation].otherLoadPercent, 0),
      };
    }),
  ];

  const goals: Goal[] = [];
  for (const operation of OPERATIONS) {
    const ours = results[operation].ours;
    const theirs = results[operation].theirs;
    const ratio = ratioOf(ours?.p50, theirs?.p50);
    const goal = `${operation} p50 ≤ ${GOAL_RATIO}× peer`;
    if (ours === null) goals.push({ goal, verdict: 'N/A', detail: 'our server lists no tool for it' });
    else if (ours.errors > 0)
      goals.push({ goal, verdict: 'MISS', detail: `${ours.errors} error(s): ${ours.firstError}` });
    else if (ratio === null)
      goals.push({
        goal,
        verdict: 'N/A',
        detail: `no peer number${theirs?.firstError ? ` (${theirs.firstError})` : ''}`,
      });
    else
      goals.push({
        goal,
        verdict: ratio <= GOAL_RATIO ? 'PASS' : 'MISS',
        detail: `ratio ${ratio.toFixed(2)}`,
      });
  }
  const coldP50 = coldStats.ours.p50;
  goals.push({
    goal: `cold start < ${GOAL_COLD_START_MS} ms`,
    verdict: coldP50 !== null && coldP50 < GOAL_COLD_START_MS ? 'PASS' : 'MISS',
    detail: `p50 ${fixed(coldP50)} ms`,
  });

  const totalMs = performance.now() - runStarted;
  const machine = {
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    git: gitSync(repository.path, ['--version']).trim(),
  };
  if (options.json) {
    console.log(
      JSON.stringify({
        date: new Date().toISOString(),
        machine,
        repository: {
          path: repository.path,
          commits: repository.commits,
          files: repository.files,
          blameFile: repository.hotFile,
          showRevision: repository.showRevision,
          unstaged: repository.modified,
          generatedMs: repository.generatedMs === null ? null : Math.round(repository.generatedMs),
        },
        peer: {
          package: PEER_PACKAGE,
          version: PEER_VERSION,
          available: contenders.theirs !== null,
          problems: peerProblems,
        },
        settings: {
          calls: options.calls,
          warmup: options.warmup,
          starts: options.starts,
          concurrency: 1,
          ours: options.noCache ? '--no-cache' : 'defaults',
        },
        coldStart: coldStats,
        operations: Object.fromEntries(
          MEASURED.map((operation) => [
            operation,
            {
              ...results[operation],
              ratioP50: roundOrNull(ratioOf(results[operation].ours?.p50, results[operation].theirs?.p50)),
            },
          ]),
        ),
        goals,
        totalMs: Math.round(totalMs),
      }),
    );
  } else {
    console.log(
      `\n@ballast/mcp-git vs ${PEER_PACKAGE}@${PEER_VERSION}: ${repository.commits} commits, ${repository.files} files, ` +
        `${options.calls} calls per operation after ${options.warmup} warm-up, concurrency 1, ours ${options.noCache ? 'with --no-cache' : 'with defaults'}; ${machine.node}, ${machine.cpus} × ${machine.cpuModel}, ${machine.git}`,
    );
    if (peerProblems.length > 0) console.log(`peer unavailable: ${peerProblems.join('; ')}`);
    console.table(rows);
    const headers = Object.keys(rows[0] ?? {});
    console.log(
      `\n| ${headers.join(' | ')} |\n|${headers.map((_, index) => (index === 0 ? '---' : '---:')).join('|')}|`,
    );
    for (const row of rows) console.log(`| ${Object.values(row).join(' | ')} |`);
    console.log('');
    for (const goal of goals) console.log(`${goal.verdict} ${goal.goal}: ${goal.detail}`);
    const busy = [
      ...(coldOtherLoad !== null && coldOtherLoad > OTHER_LOAD_WARNING_PERCENT ? ['cold start'] : []),
      ...MEASURED.filter(
        (operation) => (results[operation].otherLoadPercent ?? 0) > OTHER_LOAD_WARNING_PERCENT,
      ),
    ];
    if (busy.length > 0) {
      console.log(
        `warning: other processes used more than ${OTHER_LOAD_WARNING_PERCENT}% of a core during ${busy.join(', ')}: ` +
          'those times are inflated; the ratios (both servers alternate call by call) and CPU ms/call hold better',
      );
    }
    for (const operation of MEASURED) {
      const theirs = results[operation].theirs;
      if (theirs !== null && theirs.errors > 0) {
        const timed =
          theirs.wrongAnswers > 0
            ? ` (${theirs.wrongAnswers} of them successes with incomplete data, still timed)`
            : '';
        console.log(
          `note: the peer's ${operation} had ${theirs.errors} error(s)${timed}: ${theirs.firstError}`,
        );
      }
    }
    console.log(`\ntotal ${(totalMs / 1000).toFixed(1)} s`);
  }
  return 0;
}

let parsed: Options | 'help';
try {
  parsed = parseOptions(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`mcp-git bench: ${error.message}\n${USAGE}`);
  process.exit(2);
}
if (parsed === 'help') {
  console.log(USAGE);
  process.exit(0);
}
main(parsed).then(
  (code) => process.exit(code),
  (error: unknown) => {
    killAll();
    console.error(
      `mcp-git bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    process.exit(1);
  },
);
