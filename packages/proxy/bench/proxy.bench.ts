// What ballast-proxy adds on top of a mock LLM provider, next to a bare forwarder (the floor) and the
// Portkey gateway (a peer), all measured in one run. See bench/README.md for what each number means.
//
//   node --import tsx bench/proxy.bench.ts                          the bench (pnpm build first)
//   node --import tsx bench/proxy.bench.ts --forwarder PORT ORIGIN  the bare forwarder alone
//
// Cores: the bench process (load generator) and the mock provider share core 0; each system under
// test runs alone on core 1, one at a time.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import { createServer as createNetServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, type Dispatcher, Pool, request } from 'undici';

const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BENCH_FILE = fileURLToPath(import.meta.url);

const LATENCY_WARMUP = 300;
const LATENCY_REQUESTS = 2000;
const STREAM_WARMUP = 30;
const STREAM_REQUESTS = 300;
const CHUNK_DELAY_MS = 5;
const THROUGHPUT_WARMUP_MS = 1000;
const THROUGHPUT_MS = 5000;
const CONCURRENCIES = [10, 50] as const;
// Caps so a slow or broken system cannot stretch the run.
const PHASE_LIMIT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 10_000;
const START_TIMEOUT_MS = 30_000;
const MOCK_TEXT = 'Hello from the mock provider.';
// Above this (% of one core, on cores 0-1) other work disturbed a system's numbers.
const INTERFERENCE_WARNING_PERCENT = 5;

const MESSAGES = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Say hello.' },
];
const CHAT_BODY = JSON.stringify({ model: 'mock-model', messages: MESSAGES });
const STREAM_BODY = JSON.stringify({ model: 'mock-model', messages: MESSAGES, stream: true });
const CHAT_PATH = '/v1/chat/completions';

// Never forwarded by a proxy (RFC 9110 §7.6.1), plus the ones undici sets itself.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'host',
  'content-length',
]);

// ---------------------------------------------------------------------------------------------------
// The bare forwarder: the least a Node gateway can do (buffer the small body, forward it on a
// keep-alive agent, pipe the response back as it arrives).

function forwardableHeaders(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>) {
  const kept: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) kept[name] = value;
  }
  return kept;
}

async function runForwarder(port: number, upstreamOrigin: string): Promise<void> {
  const agent = new Agent({ keepAliveTimeout: 60_000, connections: 128 });
  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      request(new URL(incoming.url ?? '/', upstreamOrigin), {
        method: (incoming.method ?? 'GET') as Dispatcher.HttpMethod,
        headers: forwardableHeaders(incoming.headers),
        body: chunks.length === 0 ? null : Buffer.concat(chunks),
        dispatcher: agent,
      }).then(
        (upstream) => {
          const headers: OutgoingHttpHeaders = forwardableHeaders(upstream.headers);
          const length = upstream.headers['content-length'];
          if (typeof length === 'string') headers['content-length'] = length;
          outgoing.writeHead(upstream.statusCode, headers);
          // pipe(), not stream.pipeline(): on Node 20 pipeline builds an AbortController and an
          // AbortError (stack trace and all) per call, some 10% of this forwarder's CPU.
          upstream.body.on('error', () => outgoing.destroy());
          outgoing.on('close', () => upstream.body.destroy());
          upstream.body.pipe(outgoing);
        },
        (error: unknown) => {
          outgoing.writeHead(502, { 'content-type': 'application/json' });
          outgoing.end(JSON.stringify({ error: { message: String(error), type: 'forwarder_error' } }));
        },
      );
    });
  });
  await new Promise<void>((done) => server.listen(port, '127.0.0.1', done));
  const address = server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : port;
  console.log(`forwarder listening on http://127.0.0.1:${boundPort}`);
  const stop = (): void => {
    server.close();
    server.closeAllConnections();
    agent.close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

// ---------------------------------------------------------------------------------------------------
// Child processes, pinned and always killed.

const running = new Set<ChildProcess>();

function killAll(): void {
  for (const child of running) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

let canPin = false;

// Pins this process (all its threads, and the threads it starts later) to core 0.
function pinSelf(): void {
  if (availableParallelism() < 2) {
    console.log('! fewer than 2 cores: running unpinned, numbers are less comparable');
    return;
  }
  try {
    execFileSync('taskset', ['-a', '-cp', '0', String(process.pid)], { stdio: 'ignore' });
    canPin = true;
  } catch {
    console.log('! taskset not available: running unpinned, numbers are less comparable');
  }
}

function pinned(core: number, argv: string[]): string[] {
  return canPin ? ['taskset', '-c', String(core), ...argv] : argv;
}

interface Child {
  label: string;
  process: ChildProcess;
  /** The last few KB of its stdout and stderr, for error messages. */
  output(): string;
}

function spawnChild(label: string, argv: string[], cwd = PACKAGE_DIR): Child {
  const [command, ...args] = argv as [string, ...string[]];
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-4096);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { label, process: child, output: () => tail };
}

function waitForLine(child: Child, pattern: RegExp): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    let seen = '';
    const cleanup = (): void => {
      clearTimeout(timer);
      child.process.stdout?.off('data', onData);
      child.process.off('exit', onExit);
    };
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString('utf8');
      const match = pattern.exec(seen);
      if (match?.[1] !== undefined) {
        cleanup();
        resolvePromise(match[1]);
      }
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`${child.label} exited (${code}) before it was ready:\n${child.output()}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${child.label} not ready after ${START_TIMEOUT_MS} ms:\n${child.output()}`));
    }, START_TIMEOUT_MS);
    child.process.stdout?.on('data', onData);
    child.process.once('exit', onExit);
  });
}

async function stopChild(child: Child): Promise<void> {
  const subprocess = child.process;
  if (subprocess.exitCode !== null || subprocess.signalCode !== null) return;
  const exited = new Promise<void>((done) => subprocess.once('exit', () => done()));
  subprocess.kill('SIGTERM');
  const timer = setTimeout(() => subprocess.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

// taskset and the Portkey script exec into node, so the pid is node's; follow a fork just in case.
function nodePid(pid: number): number {
  try {
    if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'node') return pid;
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
    const first = Number(children[0]);
    return Number.isInteger(first) && first > 0 ? nodePid(first) : pid;
  } catch {
    return pid;
  }
}

function rssMegabytes(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] === undefined ? undefined : Number(match[1]) / 1024;
  } catch {
    return undefined;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePromise(port));
    });
  });
}

const sleep = (milliseconds: number): Promise<void> => new Promise((done) => setTimeout(done, milliseconds));

// ---------------------------------------------------------------------------------------------------
// Systems under test.

interface SystemUnderTest {
  name: string;
  origin: string;
  headers: Record<string, string>;
  /** The process whose RSS is read; none for direct. */
  pid?: number;
  stop(): Promise<void>;
}

interface SystemDefinition {
  name: string;
  /** Missing peers are reported, not fatal. */
  optional: boolean;
  start(mockOrigin: string, workDir: string): Promise<SystemUnderTest>;
}

const NODE = process.execPath;

async function startProcessSystem(
  name: string,
  argv: string[],
  pattern: RegExp,
  cwd = PACKAGE_DIR,
): Promise<SystemUnderTest> {
  const child = spawnChild(name, pinned(1, argv), cwd);
  try {
    const url = await waitForLine(child, pattern);
    return {
      name,
      origin: new URL(url).origin,
      headers: {},
      ...(child.process.pid === undefined ? {} : { pid: nodePid(child.process.pid) }),
      stop: () => stopChild(child),
    };
  } catch (error) {
    await stopChild(child);
    throw error;
  }
}

function ballastConfig(mockOrigin: string, plugin: boolean): string {
  const lines = [
    'server: { host: 127.0.0.1, port: 0 }',
    'pricing: { mock-model: { input: 1, output: 2 } }',
    'providers:',
    `  - { name: mock, type: openai, baseUrl: "${mockOrigin}/v1" }`,
    'routes:',
    '  - { match: "*", targets: [ { provider: mock } ] }',
  ];
  if (plugin) lines.push('plugins:', `  - { use: "${join(PACKAGE_DIR, 'bench', 'noop-plugin.mjs')}" }`);
  return `${lines.join('\n')}\n`;
}

function startBallast(name: string, plugin: boolean) {
  return (mockOrigin: string, workDir: string): Promise<SystemUnderTest> => {
    const configFile = join(workDir, plugin ? 'ballast-noop-plugin.yaml' : 'ballast.yaml');
    writeFileSync(configFile, ballastConfig(mockOrigin, plugin));
    return startProcessSystem(
      name,
      [NODE, join(PACKAGE_DIR, 'dist', 'cli.js'), '--config', configFile, '--log-level', 'silent'],
      /ballast-proxy listening on (http:\/\/\S+)/,
    );
  };
}

const PORTKEY_SCRIPT = '/work/shared/anchors/portkey-gateway.sh';

async function startPortkey(mockOrigin: string): Promise<SystemUnderTest> {
  if (!existsSync(PORTKEY_SCRIPT)) throw new Error(`${PORTKEY_SCRIPT} not found`);
  const anchors =
    process.env.BALLAST_ANCHORS ?? join(process.env.HOME ?? tmpdir(), '.cache', 'ballast-anchors');
  if (!existsSync(join(anchors, 'portkey', 'node_modules', '@portkey-ai', 'gateway'))) {
    console.log('  installing @portkey-ai/gateway (once) ...');
    execFileSync('bash', [PORTKEY_SCRIPT, 'install'], { stdio: 'inherit', timeout: 180_000 });
  }
  const port = await freePort();
  const child = spawnChild('portkey', pinned(1, ['bash', PORTKEY_SCRIPT, 'start', String(port)]));
  const system: SystemUnderTest = {
    name: 'portkey',
    origin: `http://127.0.0.1:${port}`,
    headers: {
      'x-portkey-provider': 'openai',
      'x-portkey-custom-host': `${mockOrigin}/v1`,
      authorization: 'Bearer anything',
    },
    ...(child.process.pid === undefined ? {} : { pid: nodePid(child.process.pid) }),
    stop: () => stopChild(child),
  };
  // It prints a spinner, not a parseable line: ready is when a chat request gets a 200.
  const deadline = performance.now() + START_TIMEOUT_MS;
  const pool = createPool(system.origin, 1);
  try {
    for (;;) {
      if (child.process.exitCode !== null) throw new Error(`portkey exited:\n${child.output()}`);
      try {
        if ((await post(pool, system, CHAT_BODY)) === 200) break;
      } catch {
        // not listening yet
      }
      if (performance.now() > deadline) throw new Error(`portkey not ready:\n${child.output()}`);
      await sleep(200);
    }
  } catch (error) {
    await stopChild(child);
    throw error;
  } finally {
    await pool.close();
  }
  if (system.pid !== undefined) system.pid = nodePid(system.pid);
  return system;
}

const SYSTEMS: SystemDefinition[] = [
  {
    name: 'direct',
    optional: false,
    start: async (mockOrigin) => ({ name: 'direct', origin: mockOrigin, headers: {}, stop: async () => {} }),
  },
  {
    name: 'forwarder',
    optional: false,
    start: (mockOrigin) =>
      startProcessSystem(
        'forwarder',
        [NODE, ...process.execArgv, BENCH_FILE, '--forwarder', '0', mockOrigin],
        /forwarder listening on (http:\/\/\S+)/,
      ),
  },
  { name: 'ballast', optional: false, start: startBallast('ballast', false) },
  { name: 'ballast+noop', optional: false, start: startBallast('ballast+noop', true) },
  { name: 'portkey', optional: true, start: startPortkey },
];

// ---------------------------------------------------------------------------------------------------
// The load generator.

function createPool(origin: string, connections: number): Pool {
  return new Pool(origin, {
    connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    headersTimeout: REQUEST_TIMEOUT_MS,
    bodyTimeout: REQUEST_TIMEOUT_MS,
  });
}

function requestOptions(system: SystemUnderTest, body: string): Dispatcher.RequestOptions {
  return {
    path: CHAT_PATH,
    method: 'POST',
    headers: { ...system.headers, 'content-type': 'application/json' },
    body,
  };
}

// Sends one request and reads the whole response; returns the status.
async function post(pool: Pool, system: SystemUnderTest, body: string): Promise<number> {
  const response = await pool.request(requestOptions(system, body));
  await response.body.text();
  return response.statusCode;
}

async function checkAnswer(pool: Pool, system: SystemUnderTest): Promise<void> {
  const response = await pool.request(requestOptions(system, CHAT_BODY));
  const text = await response.body.text();
  const content = (JSON.parse(text) as { choices?: Array<{ message?: { content?: unknown } }> }).choices?.[0]
    ?.message?.content;
  if (response.statusCode !== 200 || content !== MOCK_TEXT) {
    throw new Error(`${system.name} answered ${response.statusCode}: ${text.slice(0, 300)}`);
  }
}

function hasContent(line: string): boolean {
  if (!line.startsWith('data:')) return false;
  const data = line.slice(5).trim();
  if (data === '[DONE]' || data === '') return false;
  const parsed = JSON.parse(data) as { choices?: Array<{ delta?: { content?: unknown } }> };
  const content = parsed.choices?.[0]?.delta?.content;
  return typeof content === 'string' && content.length > 0;
}

// Milliseconds from sending a streaming request to the arrival of the first SSE event with text.
async function timeToFirstToken(pool: Pool, system: SystemUnderTest): Promise<number> {
  const start = performance.now();
  const response = await pool.request(requestOptions(system, STREAM_BODY));
  if (response.statusCode !== 200) {
    await response.body.dump();
    throw new Error(`${system.name} stream answered ${response.statusCode}`);
  }
  const decoder = new TextDecoder();
  let buffer = '';
  let firstAt: number | undefined;
  for await (const chunk of response.body) {
    const arrivedAt = performance.now();
    if (firstAt !== undefined) continue;
    buffer += decoder.decode(chunk as Buffer, { stream: true });
    let newline = buffer.indexOf('\n');
    while (newline !== -1 && firstAt === undefined) {
      if (hasContent(buffer.slice(0, newline).trim())) firstAt = arrivedAt;
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf('\n');
    }
  }
  if (firstAt === undefined) throw new Error(`${system.name} stream ended without content`);
  return firstAt - start;
}

async function timedPost(pool: Pool, system: SystemUnderTest): Promise<number> {
  const start = performance.now();
  const status = await post(pool, system, CHAT_BODY);
  const elapsed = performance.now() - start;
  if (status !== 200) throw new Error(`${system.name} answered ${status}`);
  return elapsed;
}

interface Throughput {
  rps: number;
  errors: number;
  /** Busy share of one core, 0-100: the system under test, and core 0 (load generator + mock). */
  systemCpu?: number;
  coreZeroCpu?: number;
  /** CPU time the system under test spent per request, in microseconds. */
  systemCpuPerRequest?: number;
}

let clockTicksPerSecond = 100;
try {
  clockTicksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // keep the Linux default
}

// User + system CPU seconds a process has used (all its threads), from /proc/PID/stat.
function cpuSeconds(pid: number | string | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond;
  } catch {
    return undefined;
  }
}

// Closed loop: `concurrency` workers, each sending its next request when the last one is read.
async function drive(pool: Pool, system: SystemUnderTest, concurrency: number, milliseconds: number) {
  let completed = 0;
  let errors = 0;
  const start = performance.now();
  const deadline = start + milliseconds;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) {
      try {
        if ((await post(pool, system, CHAT_BODY)) === 200) completed++;
        else errors++;
      } catch {
        errors++;
        await sleep(10);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { rps: completed / ((performance.now() - start) / 1000), errors } satisfies Throughput;
}

async function throughput(
  system: SystemUnderTest,
  concurrency: number,
  mockPid: number | undefined,
): Promise<Throughput> {
  const pool = createPool(system.origin, concurrency);
  const coreZero = (): number | undefined => {
    const bench = cpuSeconds('self');
    const mock = cpuSeconds(mockPid);
    return bench === undefined || mock === undefined ? undefined : bench + mock;
  };
  try {
    await drive(pool, system, concurrency, THROUGHPUT_WARMUP_MS);
    const start = performance.now();
    const systemBefore = cpuSeconds(system.pid);
    const coreZeroBefore = coreZero();
    const result: Throughput = await drive(pool, system, concurrency, THROUGHPUT_MS);
    const seconds = (performance.now() - start) / 1000;
    const systemAfter = cpuSeconds(system.pid);
    const coreZeroAfter = coreZero();
    if (systemBefore !== undefined && systemAfter !== undefined) {
      result.systemCpu = ((systemAfter - systemBefore) / seconds) * 100;
      result.systemCpuPerRequest = ((systemAfter - systemBefore) / (result.rps * seconds)) * 1e6;
    }
    if (coreZeroBefore !== undefined && coreZeroAfter !== undefined) {
      result.coreZeroCpu = ((coreZeroAfter - coreZeroBefore) / seconds) * 100;
    }
    return result;
  } finally {
    await pool.close();
  }
}

function percentile(samples: readonly number[], fraction: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))] as number;
}

interface Measurement {
  name: string;
  p50: number;
  p99: number;
  latencyCount: number;
  /** Direct to the mock, sampled alternately with this system: the baseline its added numbers use. */
  directP50: number;
  directP99: number;
  directTtftP50: number;
  ttftP50: number;
  ttftP99: number;
  ttftCount: number;
  rps: Record<number, Throughput>;
  rssIdle: number | undefined;
  rssAfter: number | undefined;
  /**
   * CPU of cores 0-1 that went to neither the bench, the mock nor this system while it was measured
   * (other processes, plus time the hypervisor stole), as % of one core.
   */
  interferencePercent: number | undefined;
}

// CPU seconds cores 0 and 1 have spent busy (user, nice, system) and stolen, from /proc/stat.
function coreSeconds(): { busy: number; stolen: number } | undefined {
  try {
    let busy = 0;
    let stolen = 0;
    for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
      const fields = line.split(/\s+/).map(Number);
      if (!line.startsWith('cpu0 ') && !line.startsWith('cpu1 ')) continue;
      busy += (fields[1] ?? 0) + (fields[2] ?? 0) + (fields[3] ?? 0);
      stolen += fields[8] ?? 0;
    }
    return { busy: busy / clockTicksPerSecond, stolen: stolen / clockTicksPerSecond };
  } catch {
    return undefined;
  }
}

// How much of cores 0-1 went elsewhere between two readings, as % of one core.
function interference(ours: () => number | undefined): () => number | undefined {
  const startedAt = performance.now();
  const coresBefore = coreSeconds();
  const oursBefore = ours();
  return () => {
    const coresAfter = coreSeconds();
    const oursAfter = ours();
    if (coresBefore === undefined || coresAfter === undefined) return undefined;
    if (oursBefore === undefined || oursAfter === undefined) return undefined;
    const foreign = coresAfter.busy - coresBefore.busy - (oursAfter - oursBefore);
    const stolen = coresAfter.stolen - coresBefore.stolen;
    return (Math.max(0, foreign + stolen) / ((performance.now() - startedAt) / 1000)) * 100;
  };
}

// Alternates `count` samples of the system with samples of direct (order flipped every pair), so
// both see the same moment of a noisy machine; returns [system, direct]. Direct alone: no pairing.
async function paired(
  count: number,
  system: (() => Promise<number>) | undefined,
  direct: () => Promise<number>,
): Promise<[number[], number[]]> {
  const systemSamples: number[] = [];
  const directSamples: number[] = [];
  const deadline = performance.now() + PHASE_LIMIT_MS;
  while (directSamples.length < count && performance.now() < deadline) {
    if (system === undefined) {
      directSamples.push(await direct());
    } else if (directSamples.length % 2 === 0) {
      systemSamples.push(await system());
      directSamples.push(await direct());
    } else {
      directSamples.push(await direct());
      systemSamples.push(await system());
    }
  }
  return [system === undefined ? directSamples : systemSamples, directSamples];
}

async function measure(
  system: SystemUnderTest,
  direct: SystemUnderTest,
  mockPid: number | undefined,
): Promise<Measurement> {
  const isDirect = system === direct;
  const pool = createPool(system.origin, 1);
  const directPool = isDirect ? pool : createPool(direct.origin, 1);
  const finishInterference = interference(() => {
    const parts = [cpuSeconds('self'), cpuSeconds(mockPid), isDirect ? 0 : cpuSeconds(system.pid)];
    return parts.some((part) => part === undefined)
      ? undefined
      : parts.reduce((sum: number, part) => sum + (part ?? 0), 0);
  });
  try {
    await checkAnswer(pool, system);
    for (let index = 0; index < LATENCY_WARMUP; index++) await timedPost(pool, system);
    for (let index = 0; index < STREAM_WARMUP; index++) await timeToFirstToken(pool, system);
    await sleep(250);
    const rssIdle = rssMegabytes(system.pid);

    const [latencies, directLatencies] = await paired(
      LATENCY_REQUESTS,
      isDirect ? undefined : () => timedPost(pool, system),
      () => timedPost(directPool, direct),
    );
    const [ttfts, directTtfts] = await paired(
      STREAM_REQUESTS,
      isDirect ? undefined : () => timeToFirstToken(pool, system),
      () => timeToFirstToken(directPool, direct),
    );
    await pool.close();
    if (!directPool.closed) await directPool.close();
    const rps: Record<number, Throughput> = {};
    for (const concurrency of CONCURRENCIES)
      rps[concurrency] = await throughput(system, concurrency, mockPid);
    const rssAfter = rssMegabytes(system.pid);
    const interferencePercent = finishInterference();
    return {
      name: system.name,
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      latencyCount: latencies.length,
      directP50: percentile(directLatencies, 0.5),
      directP99: percentile(directLatencies, 0.99),
      ttftP50: percentile(ttfts, 0.5),
      ttftP99: percentile(ttfts, 0.99),
      ttftCount: ttfts.length,
      directTtftP50: percentile(directTtfts, 0.5),
      rps,
      rssIdle,
      rssAfter,
      interferencePercent,
    };
  } finally {
    if (!pool.closed) await pool.close();
    if (!directPool.closed) await directPool.close();
  }
}

// ---------------------------------------------------------------------------------------------------
// Report.

const formatMilliseconds = (value: number): string => (Number.isFinite(value) ? value.toFixed(3) : 'n/a');
const formatMegabytes = (value: number | undefined): string =>
  value === undefined ? 'n/a' : value.toFixed(1);
const formatCount = (value: number | undefined): string =>
  value === undefined ? 'n/a' : Math.round(value).toString();

interface Ratio {
  label: string;
  value: number | undefined;
  goal: string;
  pass: (value: number) => boolean;
  unit?: string;
}

function report(results: Measurement[], unavailable: Map<string, string>): void {
  const direct = results.find((result) => result.name === 'direct');
  if (direct === undefined) throw new Error('no direct baseline');
  const rows = results.map((result) => ({
    system: result.name,
    'p50 added ms': formatMilliseconds(result.p50 - result.directP50),
    'p99 added ms': formatMilliseconds(result.p99 - result.directP99),
    'TTFT added ms': formatMilliseconds(result.ttftP50 - result.directTtftP50),
    'rps c10': formatCount(result.rps[10]?.rps),
    'rps c50': formatCount(result.rps[50]?.rps),
    'RSS idle MB': formatMegabytes(result.rssIdle),
    'RSS after MB': formatMegabytes(result.rssAfter),
  }));
  for (const [name] of unavailable) {
    rows.push({
      system: `${name} (unavailable)`,
      'p50 added ms': 'n/a',
      'p99 added ms': 'n/a',
      'TTFT added ms': 'n/a',
      'rps c10': 'n/a',
      'rps c50': 'n/a',
      'RSS idle MB': 'n/a',
      'RSS after MB': 'n/a',
    });
  }
  console.log(
    '\nAdded over direct (direct sampled alternately with each system at c=1; direct row is 0 by definition):',
  );
  console.table(rows);

  console.log('Absolute values (ms; n = samples measured; CPU% is of one core, during the 5 s c50 window):');
  console.table(
    results.map((result) => ({
      system: result.name,
      'p50 ms': formatMilliseconds(result.p50),
      'p99 ms': formatMilliseconds(result.p99),
      'direct p50 ms': formatMilliseconds(result.directP50),
      'direct p99 ms': formatMilliseconds(result.directP99),
      n: result.latencyCount,
      'TTFT p50 ms': formatMilliseconds(result.ttftP50),
      'TTFT p99 ms': formatMilliseconds(result.ttftP99),
      'direct TTFT p50 ms': formatMilliseconds(result.directTtftP50),
      'TTFT n': result.ttftCount,
      'errors c10': result.rps[10]?.errors ?? 0,
      'errors c50': result.rps[50]?.errors ?? 0,
      'SUT CPU% c50': formatCount(result.rps[50]?.systemCpu),
      'SUT CPU µs/req c50': formatCount(result.rps[50]?.systemCpuPerRequest),
      'core 0 CPU% c50': formatCount(result.rps[50]?.coreZeroCpu),
      'other load %': formatCount(result.interferencePercent),
    })),
  );

  const byName = (name: string): Measurement | undefined => results.find((result) => result.name === name);
  const forwarder = byName('forwarder');
  const portkey = byName('portkey');
  const added = (result: Measurement | undefined): number | undefined =>
    result === undefined ? undefined : result.p50 - result.directP50;
  const rps50 = (result: Measurement | undefined): number | undefined => result?.rps[50]?.rps;
  const divide = (a: number | undefined, b: number | undefined): number | undefined =>
    a === undefined || b === undefined || b === 0 ? undefined : a / b;

  for (const name of ['ballast', 'ballast+noop']) {
    const ballast = byName(name);
    if (ballast === undefined) continue;
    const ratios: Ratio[] = [
      {
        label: `${name} added p50 / forwarder added p50`,
        value: divide(added(ballast), added(forwarder)),
        goal: '<= 1.5',
        pass: (value) => value <= 1.5,
      },
      {
        label: `${name} added p50 / portkey added p50`,
        value: divide(added(ballast), added(portkey)),
        goal: '<= 0.33',
        pass: (value) => value <= 0.33,
      },
      {
        label: `${name} TTFT added p50`,
        value: ballast.ttftP50 - ballast.directTtftP50,
        goal: '< 1 ms',
        pass: (value) => value < 1,
        unit: ' ms',
      },
      {
        label: `${name} rps c50 / forwarder rps c50`,
        value: divide(rps50(ballast), rps50(forwarder)),
        goal: '>= 0.8',
        pass: (value) => value >= 0.8,
      },
      {
        label: `${name} rps c50 / portkey rps c50`,
        value: divide(rps50(ballast), rps50(portkey)),
        goal: '>= 4',
        pass: (value) => value >= 4,
      },
    ];
    console.log(`\nGoals for ${name}:`);
    for (const ratio of ratios) {
      const verdict = ratio.value === undefined ? 'n/a ' : ratio.pass(ratio.value) ? 'PASS' : 'MISS';
      const value = ratio.value === undefined ? 'n/a' : `${ratio.value.toFixed(3)}${ratio.unit ?? ''}`;
      console.log(`  ${verdict}  ${ratio.label.padEnd(44)} ${value.padStart(10)}   goal ${ratio.goal}`);
    }
    // CPU per request barely moves when other jobs share the machine; rps does.
    const cpuRatio = divide(forwarder?.rps[50]?.systemCpuPerRequest, ballast.rps[50]?.systemCpuPerRequest);
    if (cpuRatio !== undefined) {
      console.log(
        `  info  ${`forwarder CPU/req / ${name} CPU/req (c50)`.padEnd(44)} ${cpuRatio.toFixed(3).padStart(10)}` +
          '   the rps ratio if both were CPU-bound',
      );
    }
  }

  const columns = Object.keys(rows[0] ?? {});
  console.log('\nMarkdown:\n');
  console.log(`| ${columns.join(' | ')} |`);
  console.log(`|${columns.map((_column, index) => (index === 0 ? '---' : '---:')).join('|')}|`);
  for (const row of rows) console.log(`| ${Object.values(row).join(' | ')} |`);
  console.log(
    `\nDirect alone: p50 ${formatMilliseconds(direct.p50)} ms, p99 ${formatMilliseconds(direct.p99)} ms, ` +
      `TTFT p50 ${formatMilliseconds(direct.ttftP50)} ms (the mock paces stream chunks ${CHUNK_DELAY_MS} ms apart).`,
  );
  if (portkey !== undefined) {
    console.log(
      'Portkey sleeps a fixed 25 ms before its first streamed chunk (its own behaviour), which is in its TTFT.',
    );
  }
  for (const [name, reason] of unavailable) console.log(`${name} was not measured: ${reason}`);
  const disturbed = results.filter(
    (result) => (result.interferencePercent ?? 0) > INTERFERENCE_WARNING_PERCENT,
  );
  if (disturbed.length > 0) {
    console.log(
      `! other processes or the hypervisor took more than ${INTERFERENCE_WARNING_PERCENT}% of a core on cores 0-1 ` +
        `while measuring ${disturbed.map((result) => result.name).join(', ')} ("other load %"): ` +
        'those numbers are unreliable; run the bench again on a quiet machine.',
    );
  } else {
    console.log(
      `Cores 0-1 were quiet (other load <= ${INTERFERENCE_WARNING_PERCENT}% of a core) for every system.`,
    );
  }
}

// ---------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = performance.now();
  pinSelf();
  const proxyCli = join(PACKAGE_DIR, 'dist', 'cli.js');
  const mockCli = join(
    dirname(createRequire(import.meta.url).resolve('@ballast/mock-provider/package.json')),
    'dist',
    'cli.js',
  );
  for (const file of [proxyCli, mockCli]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run pnpm build first`);
  }
  console.log(
    `ballast proxy bench: load generator + mock on core 0, system under test on core 1${canPin ? '' : ' (unpinned)'}`,
  );

  const workDir = mkdtempSync(join(tmpdir(), 'ballast-proxy-bench-'));
  process.on('exit', () => rmSync(workDir, { recursive: true, force: true }));
  const mock = spawnChild(
    'mock-provider',
    pinned(0, [
      NODE,
      mockCli,
      '--port',
      '0',
      '--chunk-delay-ms',
      String(CHUNK_DELAY_MS),
      '--text',
      MOCK_TEXT,
    ]),
  );
  const mockOrigin = new URL(await waitForLine(mock, /mock-provider listening on (http:\/\/\S+)/)).origin;

  const results: Measurement[] = [];
  const unavailable = new Map<string, string>();
  let direct: SystemUnderTest | undefined;
  try {
    for (const definition of SYSTEMS) {
      const phaseStart = performance.now();
      let system: SystemUnderTest;
      try {
        system = await definition.start(mockOrigin, workDir);
      } catch (error) {
        if (!definition.optional) throw error;
        const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
        console.log(`! ${definition.name} could not be started, its ratios are n/a: ${reason}`);
        unavailable.set(definition.name, reason ?? 'unknown');
        continue;
      }
      direct ??= system;
      try {
        const result = await measure(system, direct, mock.process.pid);
        results.push(result);
        console.log(
          `  ${definition.name.padEnd(13)} p50 ${formatMilliseconds(result.p50)} ms, TTFT ${formatMilliseconds(result.ttftP50)} ms, ` +
            `c50 ${formatCount(result.rps[50]?.rps)} rps (${((performance.now() - phaseStart) / 1000).toFixed(1)} s)`,
        );
      } catch (error) {
        if (!definition.optional) throw error;
        unavailable.set(definition.name, error instanceof Error ? error.message : String(error));
      } finally {
        await system.stop();
      }
    }
  } finally {
    await stopChild(mock);
  }
  report(results, unavailable);
  console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

const forwarderFlag = process.argv.indexOf('--forwarder');
if (forwarderFlag !== -1) {
  const port = Number(process.argv[forwarderFlag + 1] ?? '0');
  const upstream = process.argv[forwarderFlag + 2];
  if (upstream === undefined) throw new Error('usage: --forwarder PORT UPSTREAM_ORIGIN');
  await runForwarder(port, upstream);
} else {
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      killAll();
      process.exit(130);
    });
  }
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    killAll();
    process.exit(1);
  });
}
