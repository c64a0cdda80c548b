// ballast's GraphQL client next to graphql-request (a peer) against one local mock Hasura, plus the
// local costs an agent pays before sending anything: validation and the schema summary. All measured
// in one run; see bench/README.md for what each number means.
//
//   node --import tsx bench/graphql.bench.ts           the bench (about 40 s), table + markdown
//   node --import tsx bench/graphql.bench.ts --json    the same, one JSON object on stdout
//   node --import tsx bench/graphql.bench.ts --server  the mock Hasura alone (what the bench spawns)
//
// Cores: the bench process (both clients, the load generator) on core 0, the mock Hasura alone on core 1.
import { deepStrictEqual } from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { countTextTokens } from '@ballast/core';
import { buildHasuraSchema, defaultDataset, generateTables, startMockHasura } from '@ballast/mock-hasura';
import { parse, printSchema, validate } from 'graphql';
import { GraphQLClient } from 'graphql-request';
import { createGraphQLClient } from '../src/client.js';
import { describeType, searchSchema, summarizeSchema } from '../src/summary.js';
import { validateDocument } from '../src/validate.js';

const BENCH_FILE = fileURLToPath(import.meta.url);
// Read before pinning, which narrows what availableParallelism() sees.
const CPU_COUNT = availableParallelism();

const LATENCY_WARMUP = 300;
const LATENCY_REQUESTS = 2000;
const THROUGHPUT_WARMUP_MS = 1000;
// Measured in two halves per client, in the order A B B A, so drift on a shared VM hits both alike.
const THROUGHPUT_MS = 5000;
const CONCURRENCIES = [1, 32] as const;
const VALIDATION_WARMUP = 500;
const VALIDATION_CALLS = 5000;
const SCHEMA_TABLES = 50;
// What the MCP server gives an agent by default (`summaryBudgetTokens`), and its validation limits.
const SUMMARY_BUDGET_TOKENS = 2000;
const VALIDATION_OPTIONS = { maxDepth: 8, maxAliases: 30 } as const;
const SEARCH_LIMIT = 20;
// Caps so a slow or broken client cannot stretch the run.
const PHASE_LIMIT_MS = 30_000;
const START_TIMEOUT_MS = 30_000;
// Above this (% of one core, on cores 0-1) other work disturbed the numbers.
const INTERFERENCE_WARNING_PERCENT = 5;

const QUERY = `query RecentOrders($statuses: [String!]!, $limit: Int!) {
  orders(where: { status: { _in: $statuses } }, order_by: [{ placed_at: desc }, { id: asc }], limit: $limit) {
    id
    status
    total
    placed_at
    shipped_at
    note
    customer {
      id
      name
      email
      country
      vip
    }
    order_items(order_by: { product_id: asc }) {
      product_id
      quantity
      unit_price
      product {
        sku
        name
        price
      }
    }
  }
}`;
const VARIABLES = { statuses: ['pending', 'paid', 'shipped', 'delivered', 'cancelled'], limit: 10 };
const HEADERS = { 'x-hasura-role': 'analyst' };

const jsonMode = process.argv.includes('--json');
// In --json mode stdout carries only the JSON object; progress goes to stderr.
const say = (line: string): void => {
  if (jsonMode) process.stderr.write(`${line}\n`);
  else console.log(line);
};

// ---------------------------------------------------------------------------------------------------
// The server, in its own process.

async function runServer(): Promise<void> {
  // Repeated queries are answered from mock-hasura's result cache (cleared by any mutation): the
  // bench compares clients, so the server must not be the bottleneck at c=32.
  const hasura = await startMockHasura({ ...defaultDataset(), recordRequests: false, cacheResults: true });
  console.log(`mock-hasura listening on ${hasura.url}`);
  const stop = (): void => {
    hasura.close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

let canPin = false;
let pinNote = '';

// Pins this process (all its threads, and the threads it starts later) to core 0.
function pinSelf(): void {
  if (CPU_COUNT < 2) {
    pinNote = 'fewer than 2 cores: running unpinned, numbers are less comparable';
    return;
  }
  try {
    execFileSync('taskset', ['-a', '-cp', '0', String(process.pid)], { stdio: 'ignore' });
    canPin = true;
  } catch {
    pinNote = 'taskset not available: running unpinned, numbers are less comparable';
  }
}

interface Server {
  url: string;
  pid: number | undefined;
  stop(): Promise<void>;
}

let serverProcess: ChildProcess | undefined;
// The server's node process, for its CPU time.
let serverPid: number | undefined;

function killServer(): void {
  if (serverProcess && serverProcess.exitCode === null && serverProcess.signalCode === null) {
    serverProcess.kill('SIGKILL');
  }
}

// taskset execs into node, so the pid is node's; follow a fork just in case.
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

async function startServer(): Promise<Server> {
  const argv = [process.execPath, ...process.execArgv, BENCH_FILE, '--server'];
  const [command, ...args] = (canPin ? ['taskset', '-c', '1', ...argv] : argv) as [string, ...string[]];
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  serverProcess = child;
  let output = '';
  const url = await new Promise<string>((resolvePromise, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`mock-hasura not ready after ${START_TIMEOUT_MS} ms:\n${output}`)),
      START_TIMEOUT_MS,
    );
    const onData = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-4096);
      const match = /mock-hasura listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolvePromise(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`mock-hasura exited (${code}) before it was ready:\n${output}`));
    });
  });
  return {
    url,
    pid: child.pid === undefined ? undefined : nodePid(child.pid),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((done) => child.once('exit', () => done()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// CPU accounting from /proc.

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

// CPU seconds cores 0 and 1 have spent busy (user, nice, system) and stolen, from /proc/stat.
function coreSeconds(): number | undefined {
  try {
    let total = 0;
    for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
      if (!line.startsWith('cpu0 ') && !line.startsWith('cpu1 ')) continue;
      const fields = line.split(/\s+/).map(Number);
      total += (fields[1] ?? 0) + (fields[2] ?? 0) + (fields[3] ?? 0) + (fields[8] ?? 0);
    }
    return total / clockTicksPerSecond;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------
// The two clients.

interface Contender {
  name: string;
  call(): Promise<unknown>;
  close(): Promise<void>;
}

function contenders(url: string): [Contender, Contender] {
  // One keep-alive connection per concurrent caller for both: graphql-request's fetch has no cap,
  // ballast's default is 16, so it is raised to the highest concurrency measured.
  const ballast = createGraphQLClient({ endpoint: url, headers: HEADERS, connections: 32 });
  const peer = new GraphQLClient(url, { headers: HEADERS });
  return [
    { name: 'ballast', call: () => ballast.request(QUERY, VARIABLES), close: () => ballast.close() },
    { name: 'graphql-request', call: () => peer.request(QUERY, VARIABLES), close: async () => {} },
  ];
}

type Order = { customer: unknown; order_items: unknown[] };

// Both clients must return the same data, equal to what a plain POST gets, and it must be the real thing.
async function checkAnswers(url: string, clients: readonly Contender[]): Promise<number> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...HEADERS },
    body: JSON.stringify({ query: QUERY, variables: VARIABLES }),
  });
  const text = await response.text();
  const reference = (JSON.parse(text) as { data?: { orders?: Order[] } }).data;
  const orders = reference?.orders;
  if (
    response.status !== 200 ||
    orders?.length !== VARIABLES.limit ||
    orders.some((order) => order.customer === null || order.order_items.length === 0)
  ) {
    throw new Error(`mock-hasura answered ${response.status}: ${text.slice(0, 300)}`);
  }
  for (const client of clients)
    deepStrictEqual(await client.call(), reference, `${client.name} data differs`);
  return Buffer.byteLength(text);
}

async function timed(call: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await call();
  return performance.now() - start;
}

function percentile(samples: readonly number[], fraction: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))] as number;
}

interface Latency {
  p50: number;
  p99: number;
  count: number;
}

// c=1, the two clients call by call (order flipped every pair), so both see the same moment of the machine.
async function latencies(clients: readonly [Contender, Contender]): Promise<Latency[]> {
  const [first, second] = clients;
  for (let index = 0; index < LATENCY_WARMUP; index++) {
    await first.call();
    await second.call();
  }
  const samples: [number[], number[]] = [[], []];
  const deadline = performance.now() + PHASE_LIMIT_MS;
  for (let index = 0; index < LATENCY_REQUESTS && performance.now() < deadline; index++) {
    if (index % 2 === 0) {
      samples[0].push(await timed(first.call));
      samples[1].push(await timed(second.call));
    } else {
      samples[1].push(await timed(second.call));
      samples[0].push(await timed(first.call));
    }
  }
  return samples.map((list) => ({
    p50: percentile(list, 0.5),
    p99: percentile(list, 0.99),
    count: list.length,
  }));
}

interface Window {
  completed: number;
  errors: number;
  seconds: number;
  clientCpu: number | undefined;
  serverCpu: number | undefined;
  cores: number | undefined;
}

// Closed loop: `concurrency` callers, each making its next call when the last one has resolved.
async function drive(client: Contender, concurrency: number, milliseconds: number): Promise<Window> {
  let completed = 0;
  let errors = 0;
  const clientBefore = cpuSeconds('self');
  const serverBefore = cpuSeconds(serverPid);
  const coresBefore = coreSeconds();
  const start = performance.now();
  const deadline = start + milliseconds;
  const caller = async (): Promise<void> => {
    while (performance.now() < deadline) {
      try {
        await client.call();
        completed++;
      } catch {
        errors++;
        await new Promise((done) => setTimeout(done, 10));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, caller));
  const seconds = (performance.now() - start) / 1000;
  const delta = (before: number | undefined, after: number | undefined): number | undefined =>
    before === undefined || after === undefined ? undefined : after - before;
  return {
    completed,
    errors,
    seconds,
    clientCpu: delta(clientBefore, cpuSeconds('self')),
    serverCpu: delta(serverBefore, cpuSeconds(serverPid)),
    cores: delta(coresBefore, coreSeconds()),
  };
}

interface Throughput {
  rps: number;
  errors: number;
  /** CPU the bench process (the client and its loop) spent per call, µs. */
  clientCpuPerCall: number | undefined;
  /** Busy share of one core, 0-100. */
  clientCpuPercent: number | undefined;
  /** CPU mock-hasura spent per call, µs. */
  serverCpuPerCall: number | undefined;
  serverCpuPercent: number | undefined;
  /** CPU of cores 0-1 that went to neither process (other work, hypervisor steal), % of one core. */
  otherLoadPercent: number | undefined;
}

function summarizeWindows(windows: readonly Window[]): Throughput {
  const sum = (pick: (window: Window) => number | undefined): number | undefined =>
    windows.some((window) => pick(window) === undefined)
      ? undefined
      : windows.reduce((total, window) => total + (pick(window) ?? 0), 0);
  const completed = sum((window) => window.completed) ?? 0;
  const seconds = sum((window) => window.seconds) ?? 0;
  const clientCpu = sum((window) => window.clientCpu);
  const serverCpu = sum((window) => window.serverCpu);
  const cores = sum((window) => window.cores);
  const share = (value: number | undefined): number | undefined =>
    value === undefined || seconds === 0 ? undefined : (value / seconds) * 100;
  return {
    rps: seconds === 0 ? 0 : completed / seconds,
    errors: sum((window) => window.errors) ?? 0,
    clientCpuPerCall: clientCpu === undefined || completed === 0 ? undefined : (clientCpu / completed) * 1e6,
    clientCpuPercent: share(clientCpu),
    serverCpuPerCall: serverCpu === undefined || completed === 0 ? undefined : (serverCpu / completed) * 1e6,
    serverCpuPercent: share(serverCpu),
    otherLoadPercent:
      cores === undefined || clientCpu === undefined || serverCpu === undefined
        ? undefined
        : share(Math.max(0, cores - clientCpu - serverCpu)),
  };
}

async function throughput(
  clients: readonly [Contender, Contender],
  concurrency: number,
): Promise<[Throughput, Throughput]> {
  const [first, second] = clients;
  await drive(first, concurrency, THROUGHPUT_WARMUP_MS);
  await drive(second, concurrency, THROUGHPUT_WARMUP_MS);
  const half = THROUGHPUT_MS / 2;
  const firstWindows = [await drive(first, concurrency, half)];
  const secondWindows = [await drive(second, concurrency, half)];
  secondWindows.push(await drive(second, concurrency, half));
  firstWindows.push(await drive(first, concurrency, half));
  return [summarizeWindows(firstWindows), summarizeWindows(secondWindows)];
}

// ---------------------------------------------------------------------------------------------------
// Local costs: validation, and the schema summary of a large generated schema.

interface ValidationCost {
  ballastMicroseconds: number;
  /** The same query again: validateDocument's verdict cache. */
  cachedMicroseconds: number;
  graphqlJsMicroseconds: number;
}

function microsecondsPerCall(call: () => unknown): number {
  for (let index = 0; index < VALIDATION_WARMUP; index++) call();
  const samples: number[] = [];
  for (let index = 0; index < VALIDATION_CALLS; index++) {
    const start = performance.now();
    call();
    samples.push((performance.now() - start) * 1000);
  }
  return percentile(samples, 0.5);
}

function validationCost(): ValidationCost {
  const schema = buildHasuraSchema(defaultDataset().tables);
  const checked = validateDocument(schema, QUERY, VALIDATION_OPTIONS);
  if (!checked.valid) throw new Error(`the bench query is invalid: ${JSON.stringify(checked.errors)}`);
  let seen = 0;
  const misspelt = validateDocument(schema, QUERY.replace('unit_price', 'unit_prise'), VALIDATION_OPTIONS);
  if (misspelt.valid) throw new Error('validateDocument accepted a misspelt field');
  return {
    // A new text each call (a numbered comment): the first-seen cost, not validateDocument's verdict cache.
    ballastMicroseconds: microsecondsPerCall(() => {
      seen += 1;
      return validateDocument(schema, `${QUERY}\n# ${seen}`, VALIDATION_OPTIONS);
    }),
    cachedMicroseconds: microsecondsPerCall(() => validateDocument(schema, QUERY, VALIDATION_OPTIONS)),
    // The floor: graphql-js's parse + specification rules, what any validating client runs.
    graphqlJsMicroseconds: microsecondsPerCall(() => validate(schema, parse(QUERY))),
  };
}

interface SummaryCost {
  tables: number;
  columns: number;
  sdlBytes: number;
  sdlTokens: number;
  summaryTokens: number;
  summaryOmitted: number;
  /** Tables whose name appears in the budgeted summary (in full or in the "not shown" list). */
  tablesNamed: number;
  /** The summary with room for everything: every table in full. */
  fullListingTokens: number;
  /** Tables or columns that neither describeType nor searchSchema leads to. */
  unreachable: number;
  unreachableNames: string[];
  /** Reachable by one route alone (each also counted in the other when both work). */
  describeMisses: number;
  searchMisses: number;
  summaryMilliseconds: number;
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function summaryCost(): SummaryCost {
  const tables = generateTables(SCHEMA_TABLES);
  const schema = buildHasuraSchema(tables);
  const sdl = printSchema(schema);
  const sdlTokens = countTextTokens(sdl);
  const started = performance.now();
  const summary = summarizeSchema(schema, { budgetTokens: SUMMARY_BUDGET_TOKENS });
  const summaryMilliseconds = performance.now() - started;
  const full = summarizeSchema(schema, { budgetTokens: sdlTokens });

  let columns = 0;
  let describeMisses = 0;
  let searchMisses = 0;
  const unreachableNames: string[] = [];
  const searchFinds = (keyword: string, path: (hitPath: string) => boolean): boolean =>
    searchSchema(schema, keyword, { limit: SEARCH_LIMIT }).hits.some((hit) => path(hit.path));
  for (const table of tables) {
    const described = describeType(schema, table.name);
    const tableByDescribe = described.found && described.kind === 'table';
    const tableBySearch = searchFinds(table.name, (path) => path === table.name);
    if (!tableByDescribe) describeMisses++;
    if (!tableBySearch) searchMisses++;
    if (!tableByDescribe && !tableBySearch) unreachableNames.push(table.name);
    for (const column of table.columns) {
      columns++;
      const line = new RegExp(`^  ${escapeRegExp(column.name)}: `, 'm');
      const columnByDescribe = tableByDescribe && line.test(described.text);
      const columnBySearch = searchFinds(`${table.name}.${column.name}`, (path) =>
        path.startsWith(`${table.name}.${column.name}:`),
      );
      if (!columnByDescribe) describeMisses++;
      if (!columnBySearch) searchMisses++;
      if (!columnByDescribe && !columnBySearch) unreachableNames.push(`${table.name}.${column.name}`);
    }
  }
  const tablesNamed = tables.filter((table) =>
    new RegExp(`(^|[\\s,:])${escapeRegExp(table.name)}([\\s,:.]|$)`, 'm').test(summary.text),
  ).length;
  return {
    tables: tables.length,
    columns,
    sdlBytes: Buffer.byteLength(sdl),
    sdlTokens,
    summaryTokens: summary.tokens,
    summaryOmitted: summary.omitted,
    tablesNamed,
    fullListingTokens: full.tokens,
    unreachable: unreachableNames.length,
    unreachableNames: unreachableNames.slice(0, 20),
    describeMisses,
    searchMisses,
    summaryMilliseconds,
  };
}

// ---------------------------------------------------------------------------------------------------
// Report.

interface ClientResult {
  name: string;
  latency: Latency;
  rps: Record<number, Throughput>;
}

interface Goal {
  label: string;
  value: number | undefined;
  goal: string;
  pass: (value: number) => boolean;
  digits?: number;
  /** Printed after the goal, e.g. why a ratio says little about the clients. */
  note?: string;
}

interface Results {
  date: string;
  node: string;
  cpus: number;
  pinned: boolean;
  note: string;
  query: string;
  variables: typeof VARIABLES;
  responseBytes: number;
  clients: ClientResult[];
  validation: ValidationCost;
  summary: SummaryCost;
  goals: Array<{ label: string; value: number | null; goal: string; pass: boolean | null }>;
  seconds: number;
}

const fixed = (value: number | undefined, digits: number): string =>
  value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(digits);

// When the server's core is saturated, rps measures the server, not the client.
const SERVER_BOUND_PERCENT = 90;

function serverBound(client: ClientResult, concurrency: number): boolean {
  return (client.rps[concurrency]?.serverCpuPercent ?? 0) >= SERVER_BOUND_PERCENT;
}

function goalsOf(clients: readonly ClientResult[], summary: SummaryCost): Goal[] {
  const [ballast, peer] = clients as [ClientResult, ClientResult];
  const divide = (a: number | undefined, b: number | undefined): number | undefined =>
    a === undefined || b === undefined || b === 0 ? undefined : a / b;
  return [
    {
      label: 'ballast p50 / graphql-request p50 (c=1)',
      value: divide(ballast.latency.p50, peer.latency.p50),
      goal: '<= 1.0',
      pass: (value) => value <= 1.0,
    },
    ...CONCURRENCIES.toReversed().map(
      (concurrency): Goal => ({
        label: `ballast rps / graphql-request rps (c=${concurrency})`,
        value: divide(ballast.rps[concurrency]?.rps, peer.rps[concurrency]?.rps),
        goal: '>= 1.2',
        pass: (value) => value >= 1.2,
        ...(serverBound(ballast, concurrency) && serverBound(peer, concurrency)
          ? { note: `   server-bound: mock-hasura used >= ${SERVER_BOUND_PERCENT}% of its core for both` }
          : {}),
      }),
    ),
    {
      label: `summary tokens / SDL tokens (${summary.tables} tables)`,
      value: divide(summary.summaryTokens, summary.sdlTokens),
      goal: '<= 0.10',
      pass: (value) => value <= 0.1,
      digits: 4,
    },
    {
      label: 'tables + columns unreachable (describe/search)',
      value: summary.unreachable,
      goal: '= 0',
      pass: (value) => value === 0,
      digits: 0,
    },
  ];
}

function markdown(rows: ReadonlyArray<Record<string, string | number>>): string {
  const columns = Object.keys(rows[0] ?? {});
  const lines = [
    `| ${columns.join(' | ')} |`,
    `|${columns.map((_column, index) => (index === 0 ? '---' : '---:')).join('|')}|`,
    ...rows.map((row) => `| ${Object.values(row).join(' | ')} |`),
  ];
  return lines.join('\n');
}

function report(results: Results, goals: readonly Goal[]): void {
  const clientRows = results.clients.map((client) => ({
    client: client.name,
    'p50 ms': fixed(client.latency.p50, 3),
    'p99 ms': fixed(client.latency.p99, 3),
    n: client.latency.count,
    'rps c1': fixed(client.rps[1]?.rps, 0),
    'rps c32': fixed(client.rps[32]?.rps, 0),
    'client CPU µs/call c1': fixed(client.rps[1]?.clientCpuPerCall, 0),
    'client CPU µs/call c32': fixed(client.rps[32]?.clientCpuPerCall, 0),
    'server CPU µs/call c32': fixed(client.rps[32]?.serverCpuPerCall, 0),
    'server CPU% c32': fixed(client.rps[32]?.serverCpuPercent, 0),
    errors: (client.rps[1]?.errors ?? 0) + (client.rps[32]?.errors ?? 0),
  }));
  const { validation, summary } = results;
  const localRows = [
    {
      measure: 'validateDocument p50 µs/call (a query seen for the first time, MCP limits)',
      value: fixed(validation.ballastMicroseconds, 1),
    },
    {
      measure: 'validateDocument p50 µs/call (the same query again: cached verdict)',
      value: fixed(validation.cachedMicroseconds, 1),
    },
    {
      measure: 'graphql-js parse + validate p50 µs/call (floor)',
      value: fixed(validation.graphqlJsMicroseconds, 1),
    },
    {
      measure: `SDL tokens (printSchema, ${summary.tables} tables, ${summary.sdlBytes} bytes)`,
      value: summary.sdlTokens,
    },
    {
      measure: `summary tokens (budget ${SUMMARY_BUDGET_TOKENS}, ${summary.summaryOmitted} not in full)`,
      value: summary.summaryTokens,
    },
    { measure: 'summary tokens with room for every table in full', value: summary.fullListingTokens },
    {
      measure: `unreachable of ${summary.tables} tables + ${summary.columns} columns`,
      value: summary.unreachable,
    },
  ];

  say('');
  say(
    `Clients (c=1 latency: ${LATENCY_REQUESTS} calls each, interleaved; rps: closed loop, ${THROUGHPUT_MS / 1000} s measured after ${THROUGHPUT_WARMUP_MS / 1000} s warm-up):`,
  );
  if (!jsonMode) console.table(clientRows);
  say('Local costs:');
  if (!jsonMode) console.table(localRows);

  say('Goals:');
  for (const goal of goals) {
    const verdict = goal.value === undefined ? 'n/a ' : goal.pass(goal.value) ? 'PASS' : 'MISS';
    say(
      `  ${verdict}  ${goal.label.padEnd(48)} ${fixed(goal.value, goal.digits ?? 3).padStart(8)}   goal ${goal.goal}${goal.note ?? ''}`,
    );
  }
  const [ballast, peer] = results.clients as [ClientResult, ClientResult];
  const cpuRatio = (concurrency: number): number | undefined => {
    const ours = ballast.rps[concurrency]?.clientCpuPerCall;
    const theirs = peer.rps[concurrency]?.clientCpuPerCall;
    return ours === undefined || theirs === undefined || ours === 0 ? undefined : theirs / ours;
  };
  for (const concurrency of CONCURRENCIES) {
    say(
      `  info  ${`graphql-request CPU/call / ballast CPU/call (c=${concurrency})`.padEnd(48)} ${fixed(cpuRatio(concurrency), 3).padStart(8)}   ` +
        `the rps ratio if the client's core were the limit (calls per client core-second: ballast ${fixed(1e6 / (ballast.rps[concurrency]?.clientCpuPerCall ?? Number.NaN), 0)}, graphql-request ${fixed(1e6 / (peer.rps[concurrency]?.clientCpuPerCall ?? Number.NaN), 0)})`,
    );
  }
  say(
    `  info  ${'validateDocument / graphql-js floor'.padEnd(48)} ${fixed(validation.ballastMicroseconds / validation.graphqlJsMicroseconds, 3).padStart(8)}   ` +
      `${fixed((validation.ballastMicroseconds / 1000 / ballast.latency.p50) * 100, 1)}% of ballast's p50 round trip`,
  );
  say(
    `  info  ${'full listing tokens / SDL tokens'.padEnd(48)} ${fixed(summary.fullListingTokens / summary.sdlTokens, 4).padStart(8)}   ` +
      `budgeted summary names ${summary.tablesNamed}/${summary.tables} tables; describe misses ${summary.describeMisses}, search misses ${summary.searchMisses}`,
  );
  if (summary.unreachable > 0) say(`  unreachable: ${summary.unreachableNames.join(', ')}`);

  if (!jsonMode) {
    say('\nMarkdown:\n');
    say(markdown(clientRows));
    say('');
    say(markdown(localRows));
  }
  const otherLoad = Math.max(
    ...results.clients.flatMap((client) => CONCURRENCIES.map((c) => client.rps[c]?.otherLoadPercent ?? 0)),
  );
  say(
    otherLoad > INTERFERENCE_WARNING_PERCENT
      ? `\n! other processes or the hypervisor took up to ${otherLoad.toFixed(0)}% of a core on cores 0-1 during the rps windows: those numbers are unreliable; run again on a quiet machine.`
      : `\nCores 0-1 were quiet during the rps windows (other load <= ${INTERFERENCE_WARNING_PERCENT}% of a core).`,
  );
}

// ---------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = performance.now();
  pinSelf();
  if (pinNote !== '') say(`! ${pinNote}`);
  say(
    `ballast graphql-client bench: both clients on core 0, mock-hasura on core 1${canPin ? '' : ' (unpinned)'}`,
  );
  const server = await startServer();
  serverPid = server.pid;
  const clients = contenders(server.url);
  const results: ClientResult[] = [];
  let responseBytes = 0;
  try {
    responseBytes = await checkAnswers(server.url, clients);
    say(`  answers checked: both clients return the same 10 orders (${responseBytes} bytes of JSON)`);
    let phase = performance.now();
    const latency = await latencies(clients);
    say(`  latency c=1 (${((performance.now() - phase) / 1000).toFixed(1)} s)`);
    for (const [index, client] of clients.entries()) {
      results.push({ name: client.name, latency: latency[index] as Latency, rps: {} });
    }
    for (const concurrency of CONCURRENCIES) {
      phase = performance.now();
      const [first, second] = await throughput(clients, concurrency);
      (results[0] as ClientResult).rps[concurrency] = first;
      (results[1] as ClientResult).rps[concurrency] = second;
      say(`  rps c=${concurrency} (${((performance.now() - phase) / 1000).toFixed(1)} s)`);
    }
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await server.stop();
  }
  let phase = performance.now();
  const validation = validationCost();
  say(`  validation (${((performance.now() - phase) / 1000).toFixed(1)} s)`);
  phase = performance.now();
  const summary = summaryCost();
  say(`  schema summary and reachability (${((performance.now() - phase) / 1000).toFixed(1)} s)`);

  const goals = goalsOf(results, summary);
  const output: Results = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: CPU_COUNT,
    pinned: canPin,
    note: pinNote,
    query: QUERY,
    variables: VARIABLES,
    responseBytes,
    clients: results,
    validation,
    summary,
    goals: goals.map((goal) => ({
      label: goal.label,
      value: goal.value ?? null,
      goal: goal.goal,
      pass: goal.value === undefined ? null : goal.pass(goal.value),
    })),
    seconds: (performance.now() - started) / 1000,
  };
  report(output, goals);
  say(`\ntotal ${output.seconds.toFixed(1)} s`);
  if (jsonMode) console.log(JSON.stringify(output));
}

if (process.argv.includes('--server')) {
  await runServer();
} else {
  process.on('exit', killServer);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      killServer();
      process.exit(130);
    });
  }
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    killServer();
    process.exit(1);
  });
}
