// rem next to todoman on the same vdir of 1,000 reminders, the same CLI over Radicale (CalDAV on
// loopback), and the library's in-process latency. All measured in one run; see bench/README.md for
// what each number means.
//
//   pnpm --filter @ballast/rem build              the CLI rows time dist/cli.cjs: build it first
//   node --import tsx bench/rem.bench.ts          the bench (about 70 s), tables + markdown
//   node --import tsx bench/rem.bench.ts --json   the same, one JSON object on stdout
//   ... --keep-env                                pass NODE_EXTRA_CA_CERTS on to the children
//
// Progress goes to stderr. Whole-process rows are wall time from spawn to exit (output read), the
// tools taken round-robin within each iteration so drift on a shared VM hits them alike.
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCaldavBackend } from '../src/backends/caldav.js';
import { createMemoryBackend } from '../src/backends/memory.js';
import { findRadicale, type RunningRadicale, startRadicale } from '../src/backends/radicale.test-helpers.js';
import { createVdirBackend } from '../src/backends/vdir.js';
import { toLocalIso } from '../src/dates.js';
import { serializeVtodo } from '../src/ical/vtodo.js';
import { createReminders, type Reminders, shortId } from '../src/reminders.js';
import type { NewReminderRecord, ReminderBackend } from '../src/types.js';

const PACKAGE_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
const CLI = join(PACKAGE_DIR, 'dist', 'cli.cjs');

const LISTS = 10;
const PER_LIST = 100;
// Whole-process runs per command (vdir and CalDAV), and library calls per operation.
const CLI_RUNS = 25;
const CALDAV_CLI_RUNS = 25;
const LIBRARY_WARMUP = 5;
const LIBRARY_RUNS = 50;
const CALDAV_LIBRARY_RUNS = 30;
// Radicale seeding: PUTs in flight at once.
const SEED_CONCURRENCY = 8;
// Caps so a slow tool cannot stretch the run: a phase stops starting iterations after these.
const VDIR_PHASE_LIMIT_MS = 90_000;
const CALDAV_PHASE_LIMIT_MS = 45_000;
const LIBRARY_PHASE_LIMIT_MS = 20_000;
const COMMAND_TIMEOUT_MS = 30_000;
// The fixture's clock: the same files (and ids) every run.
const FIXTURE_NOW = new Date('2026-11-01T08:00:00Z');
const DAY_MS = 86_400_000;

const GOAL_VDIR_MS = 120;
const GOAL_RATIO = 3;
const GOAL_CALDAV_MS = 200;

const jsonMode = process.argv.includes('--json');
// The sandbox this was written in sets NODE_EXTRA_CA_CERTS, which makes every Node start read and
// parse that bundle (~40 ms on a 2-core VM). rem needs no extra CA on loopback, and few users set it:
// children run without it unless --keep-env; the floor rows show what it costs.
const keepEnv = process.argv.includes('--keep-env');

const PYTHON_NOTE = "todoman's interpreter";
const CA_CERTS_TOOL = 'node -e 0 + NODE_EXTRA_CA_CERTS';
const INCOMPLETE_OPERATION = 'list --incomplete -o json';
const progress = (line: string): void => {
  process.stderr.write(`${line}\n`);
};
// In --json mode stdout carries only the JSON object.
const say = (line: string): void => {
  if (!jsonMode) console.log(line);
};

let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  progress('! interrupted: stopping after the current command and cleaning up (Ctrl-C again to quit now)');
});
const checkInterrupted = (): void => {
  if (interrupted) throw new Error('interrupted');
};

// ---------------------------------------------------------------------------------------------------
// Helpers.

function percentile(samples: readonly number[], fraction: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))] as number;
}

const fixed = (value: number | undefined, digits = 1): string =>
  value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(digits);

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** The executable `name` on PATH, or undefined. */
function onPath(name: string): string | undefined {
  for (const folder of (process.env.PATH ?? '').split(delimiter)) {
    if (folder === '') continue;
    const candidate = join(folder, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The interpreter named by a script's `#!` line (todoman's Python), or undefined. */
function shebangInterpreter(script: string): string | undefined {
  const result = spawnSync('head', ['-1', script], { encoding: 'utf8' });
  const match = /^#!\s*(\S+)/.exec(result.stdout ?? '');
  return match?.[1];
}

function versionOf(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 10_000 });
  return `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n')[0] ?? '';
}

interface Ran {
  ms: number;
  stdout: string;
}

/** Runs one command to its exit and returns its wall time; a failure throws with its stderr. */
function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Ran {
  const start = process.hrtime.bigint();
  const result: SpawnSyncReturns<string> = spawnSync(command, args, {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
    timeout: COMMAND_TIMEOUT_MS,
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.error !== undefined || result.status !== 0) {
    const why = result.error?.message ?? `exit ${result.status ?? result.signal}`;
    throw new Error(
      `${[command, ...args].join(' ')} failed (${why}):\n${(result.stderr ?? '').slice(0, 2000)}`,
    );
  }
  return { ms, stdout: result.stdout };
}

async function eachConcurrently<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** The newest mtime of the package's non-test sources, to tell a stale dist/cli.cjs. */
function newestSource(folder: string): { path: string; mtimeMs: number } {
  let newest = { path: '', mtimeMs: 0 };
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      const inner = newestSource(path);
      if (inner.mtimeMs > newest.mtimeMs) newest = inner;
    } else if (/\.ts$/.test(entry.name) && !/\.test(-helpers)?\.ts$/.test(entry.name)) {
      const { mtimeMs } = statSync(path);
      if (mtimeMs > newest.mtimeMs) newest = { path, mtimeMs };
    }
  }
  return newest;
}

// ---------------------------------------------------------------------------------------------------
// The fixture: 10 lists × 100 VTODOs, the same every run.

type FixtureRecord = NewReminderRecord & { uid: string };

const WORDS = [
  'call',
  'renew',
  'book',
  'pay',
  'email',
  'review',
  'buy',
  'fix',
  'plan',
  'water',
  'return',
  'write',
  'clean',
  'order',
];
const OBJECTS = [
  'passport',
  'dentist',
  'invoice',
  'plants',
  'report',
  'car insurance',
  'bike',
  'library books',
  'groceries',
  'garden',
  'quarterly taxes',
];

function fixtureRecords(): FixtureRecord[] {
  const records: FixtureRecord[] = [];
  for (let list = 0; list < LISTS; list++) {
    for (let slot = 0; slot < PER_LIST; slot++) {
      const n = list * PER_LIST + slot;
      const record: FixtureRecord = {
        uid: `rem-bench-${String(n).padStart(4, '0')}`,
        title: `${WORDS[n % WORDS.length]} ${OBJECTS[(n * 7 + 3) % OBJECTS.length]} (${n})`,
        list: `list-${list}`,
        priority: [0, 1, 5, 9, 0][n % 5] ?? 0,
      };
      // Two in three have a due: a spread from 30 days ago to 60 ahead, one in four of them all-day.
      if (n % 3 !== 0) {
        const at = new Date(FIXTURE_NOW.getTime() + ((n * 37) % 90) * DAY_MS - 30 * DAY_MS);
        if (n % 4 === 1) {
          record.due = toLocalIso(new Date(at.getFullYear(), at.getMonth(), at.getDate()));
          record.allDay = true;
        } else {
          record.due = toLocalIso(at);
          record.allDay = false;
        }
      }
      if (n % 4 === 0) record.notes = `Notes for task ${n}.\nA second line, with details.`;
      if (n % 6 === 0) record.tags = ['home'];
      if (n % 15 === 0) record.flagged = true;
      // One in ten is completed.
      if (n % 10 === 9) {
        record.completed = true;
        record.completedAt = toLocalIso(new Date(FIXTURE_NOW.getTime() - n * 60_000));
      }
      records.push(record);
    }
  }
  return records;
}

function writeVdir(root: string, records: readonly FixtureRecord[]): void {
  for (let list = 0; list < LISTS; list++) mkdirSync(join(root, `list-${list}`), { recursive: true });
  for (const record of records) {
    writeFileSync(
      join(root, record.list, `${record.uid}.ics`),
      serializeVtodo(record, undefined, { now: FIXTURE_NOW }),
    );
  }
}

// ---------------------------------------------------------------------------------------------------
// Results.

interface Row {
  section: 'floor' | 'vdir' | 'caldav' | 'library';
  operation: string;
  tool: string;
  samples: number[];
  note: string;
}

const rows: Row[] = [];

function row(section: Row['section'], operation: string, tool: string, note = ''): Row {
  const entry: Row = { section, operation, tool, samples: [], note };
  rows.push(entry);
  return entry;
}

interface Warmup {
  what: string;
  ms: number;
  note: string;
}

const warmups: Warmup[] = [];
const skipped: string[] = [];
const warnings: string[] = [];

/**
 * Child processes get a clean environment: no REM_* or XDG_* settings, no NODE_OPTIONS (nor
 * NODE_EXTRA_CA_CERTS, see keepEnv), no colour, HOME in the temp folder.
 */
function baseEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('REM_') || key === 'NODE_OPTIONS' || key.startsWith('XDG_')) continue;
    if (key === 'NODE_EXTRA_CA_CERTS' && !keepEnv) continue;
    env[key] = value;
  }
  return {
    ...env,
    NO_COLOR: '1',
    HOME: home,
    XDG_CACHE_HOME: join(home, '.cache'),
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
  };
}

interface Step {
  row: Row;
  run(iteration: number): number;
}

/** Runs `steps` round-robin: each iteration runs every step once, starting one further along. */
function roundRobin(steps: readonly Step[], iterations: number, limitMs: number, label: string): number {
  const deadline = performance.now() + limitMs;
  let done = 0;
  for (let iteration = 0; iteration < iterations; iteration++) {
    if (performance.now() > deadline) {
      warnings.push(
        `${label}: stopped after ${done} of ${iterations} iterations (phase limit ${seconds(limitMs)})`,
      );
      break;
    }
    for (let offset = 0; offset < steps.length; offset++) {
      checkInterrupted();
      const step = steps[(iteration + offset) % steps.length] as Step;
      step.row.samples.push(step.run(iteration));
    }
    done++;
    if (done % 5 === 0) progress(`  ${label}: ${done}/${iterations} iterations`);
  }
  return done;
}

const ID = /^[0-9a-f]{8}$/;

// ---------------------------------------------------------------------------------------------------
// Phase 1: whole processes on the vdir, rem beside todoman.

interface TodomanSetup {
  binary: string;
  python: string;
  config: string;
  version: string;
}

function vdirProcesses(
  root: string,
  env: NodeJS.ProcessEnv,
  todoman: TodomanSetup | undefined,
  droppedCaCerts: string | undefined,
): void {
  const rem = (args: readonly string[]): Ran => run(process.execPath, [CLI, '--vdir', root, ...args], env);
  const tm = (args: readonly string[]): Ran => {
    if (todoman === undefined) throw new Error('todoman is not set up');
    return run(todoman.binary, ['--config', todoman.config, ...args], env);
  };

  progress('vdir: warming both tools once (not timed in the table)');
  const remCold = rem(['list', '-o', 'json']);
  const remItems = (JSON.parse(remCold.stdout) as unknown[]).length;
  if (remItems !== LISTS * PER_LIST)
    throw new Error(`rem list printed ${remItems} reminders, not ${LISTS * PER_LIST}`);
  warmups.push({
    what: 'rem list -o json, first run',
    ms: remCold.ms,
    note: 'reads and parses every .ics, writes .rem-index.json',
  });
  const remWarm = rem(['list']);
  warmups.push({ what: 'rem list, second run', ms: remWarm.ms, note: 'from the index' });

  let todomanOpen = 0;
  let doneIds: number[] = [];
  if (todoman !== undefined) {
    const cold = tm(['--porcelain', 'list']);
    warmups.push({
      what: 'todoman --porcelain list, first run',
      ms: cold.ms,
      note: 'parses every .ics into its sqlite cache',
    });
    warmups.push({ what: 'todoman list, second run', ms: tm(['list']).ms, note: 'from its cache' });
    const listed = JSON.parse(tm(['--porcelain', 'list']).stdout) as Array<{
      id: number;
      list: string;
      completed: boolean;
    }>;
    todomanOpen = listed.length;
    // todoman completes open fixture items of list-5..9, rem those of list-1..4: never the same file.
    doneIds = listed
      .filter((item) => !item.completed && Number(item.list.slice('list-'.length)) >= 5)
      .map((item) => item.id)
      .sort((a, b) => a - b)
      .slice(0, CLI_RUNS);
    if (doneIds.length < CLI_RUNS)
      throw new Error(`todoman listed only ${doneIds.length} open items to complete`);
  }
  const completeIds = fixtureRecords()
    .filter((record) => !record.completed && ['list-1', 'list-2', 'list-3', 'list-4'].includes(record.list))
    .slice(0, CLI_RUNS)
    .map((record) => shortId(record.uid));

  // Rows in the order the table shows them; steps in the order each iteration starts from.
  const steps: Step[] = [];
  steps.push({
    row: row('floor', 'startup floor', 'node -e 0', `${process.version}`),
    run: () => run(process.execPath, ['-e', '0'], env).ms,
  });
  if (droppedCaCerts !== undefined) {
    const withCerts = { ...env, NODE_EXTRA_CA_CERTS: droppedCaCerts };
    steps.push({
      row: row('floor', 'startup floor', CA_CERTS_TOOL, 'set here; every other row runs without it'),
      run: () => run(process.execPath, ['-e', '0'], withCerts).ms,
    });
  }
  if (todoman !== undefined) {
    const python = todoman.python;
    steps.push({
      row: row('floor', 'startup floor', `${python} -c 0`, PYTHON_NOTE),
      run: () => run(python, ['-c', '0'], env).ms,
    });
  }
  const operations: Array<{
    operation: string;
    rem: Omit<Step, 'row'> & { note: string };
    todoman?: Omit<Step, 'row'> & { note: string };
  }> = [
    {
      operation: 'list -o json / --porcelain list',
      rem: { note: `${remItems} reminders (all)`, run: () => rem(['list', '-o', 'json']).ms },
      todoman: { note: `${todomanOpen} open (its default)`, run: () => tm(['--porcelain', 'list']).ms },
    },
    {
      operation: INCOMPLETE_OPERATION,
      rem: { note: 'open ones, as todoman lists', run: () => rem(['list', '--incomplete', '-o', 'json']).ms },
    },
    {
      operation: 'list (table)',
      rem: { note: 'all', run: () => rem(['list']).ms },
      todoman: { note: 'open only', run: () => tm(['list']).ms },
    },
    {
      operation: 'add / new',
      rem: {
        note: 'rem add "…" --list list-0 -o plain',
        run: (iteration) => {
          const added = rem(['add', `Bench task r${iteration}`, '--list', 'list-0', '-o', 'plain']);
          if (!ID.test(added.stdout.trim()))
            throw new Error(`rem add printed ${JSON.stringify(added.stdout)}`);
          return added.ms;
        },
      },
      todoman: {
        note: 'todoman new -l list-0 "…"',
        run: (iteration) => tm(['new', '-l', 'list-0', `Bench task t${iteration}`]).ms,
      },
    },
    {
      operation: 'complete / done',
      rem: {
        note: 'one fixture id per run',
        run: (iteration) => rem(['complete', completeIds[iteration] as string]).ms,
      },
      todoman: {
        note: 'one numeric id per run',
        run: (iteration) => tm(['done', String(doneIds[iteration])]).ms,
      },
    },
  ];
  for (const entry of operations) {
    steps.push({ row: row('vdir', entry.operation, 'rem', entry.rem.note), run: entry.rem.run });
    if (todoman !== undefined && entry.todoman !== undefined) {
      steps.push({
        row: row('vdir', entry.operation, 'todoman', entry.todoman.note),
        run: entry.todoman.run,
      });
    }
  }
  const started = performance.now();
  const iterations = roundRobin(steps, CLI_RUNS, VDIR_PHASE_LIMIT_MS, 'vdir processes');
  progress(
    `vdir: ${iterations} iterations of ${steps.length} commands (${seconds(performance.now() - started)})`,
  );

  // Both tools saw each other's writes: rem lists the fixture plus both tools' adds.
  const after = JSON.parse(rem(['list', '-o', 'json']).stdout) as Array<{ completed: boolean }>;
  const expected = LISTS * PER_LIST + iterations * (todoman === undefined ? 1 : 2);
  if (after.length !== expected) {
    warnings.push(`after the vdir phase rem lists ${after.length} reminders, expected ${expected}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Phase 2: the library in-process (memory floor, vdir).

async function libraryLatency(
  name: string,
  reminders: Reminders,
  runs: number,
  list: string,
  note: string,
): Promise<void> {
  const iteration = async (index: number): Promise<[number, number, number]> => {
    let start = performance.now();
    await reminders.list();
    const listMs = performance.now() - start;
    start = performance.now();
    const added = await reminders.add({ title: `Library task ${name} ${index}`, list });
    const addMs = performance.now() - start;
    start = performance.now();
    await reminders.complete([added.id]);
    return [listMs, addMs, performance.now() - start];
  };
  for (let index = 0; index < LIBRARY_WARMUP; index++) await iteration(-1 - index);
  const listRow = row('library', 'list()', name, note);
  const addRow = row('library', 'add()', name, '');
  const completeRow = row('library', 'complete([id])', name, '');
  const deadline = performance.now() + LIBRARY_PHASE_LIMIT_MS;
  for (let index = 0; index < runs; index++) {
    checkInterrupted();
    if (performance.now() > deadline) {
      warnings.push(`library ${name}: stopped after ${index} of ${runs} iterations`);
      break;
    }
    const [listMs, addMs, completeMs] = await iteration(index);
    listRow.samples.push(listMs);
    addRow.samples.push(addMs);
    completeRow.samples.push(completeMs);
  }
}

async function memoryBackendWithFixture(records: readonly FixtureRecord[]): Promise<ReminderBackend> {
  const backend = createMemoryBackend({ lists: Array.from({ length: LISTS }, (_, list) => `list-${list}`) });
  for (const record of records) await backend.create(record);
  return backend;
}

// ---------------------------------------------------------------------------------------------------
// Phase 3: Radicale.

async function seedRadicale(url: string, cacheDir: string, records: readonly FixtureRecord[]): Promise<void> {
  const backend = await createCaldavBackend({ url, username: 'test', cacheDir });
  try {
    for (let list = 0; list < LISTS; list++) await backend.createList(`list-${list}`);
    await eachConcurrently(records, SEED_CONCURRENCY, async (record) => {
      checkInterrupted();
      await backend.create(record);
    });
  } finally {
    await backend.close();
  }
}

/**
 * The request every CalDAV command starts with (rem's calendar listing: a PROPFIND of the calendar
 * home, Depth 1, for names and ctags), sent with fetch in-process: what Radicale alone costs.
 */
async function radicaleFloor(url: string): Promise<void> {
  const body =
    '<?xml version="1.0" encoding="utf-8"?>' +
    '<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" ' +
    'xmlns:cs="http://calendarserver.org/ns/" xmlns:a="http://apple.com/ns/ical/"><d:prop>' +
    '<d:resourcetype/><d:displayname/><cs:getctag/>' +
    '<c:supported-calendar-component-set/><a:calendar-color/></d:prop></d:propfind>';
  const propfind = async (): Promise<void> => {
    const response = await fetch(new URL('test/', url), {
      method: 'PROPFIND',
      headers: {
        Depth: '1',
        'Content-Type': 'application/xml; charset=utf-8',
        Authorization: `Basic ${Buffer.from('test:').toString('base64')}`,
      },
      body,
    });
    await response.text();
    if (response.status !== 207) throw new Error(`PROPFIND of the calendar home answered ${response.status}`);
  };
  for (let index = 0; index < LIBRARY_WARMUP; index++) await propfind();
  const floor = row(
    'library',
    'PROPFIND home, Depth 1',
    'Radicale (fetch)',
    'the first request of every caldav call',
  );
  for (let index = 0; index < CALDAV_LIBRARY_RUNS; index++) {
    checkInterrupted();
    const start = performance.now();
    await propfind();
    floor.samples.push(performance.now() - start);
  }
}

function caldavProcesses(env: NodeJS.ProcessEnv): void {
  const rem = (args: readonly string[]): Ran =>
    run(process.execPath, [CLI, '--backend', 'caldav', ...args], env);
  progress('caldav: warming rem once (not timed in the table)');
  const cold = rem(['list', '-o', 'json']);
  const items = (JSON.parse(cold.stdout) as unknown[]).length;
  if (items !== LISTS * PER_LIST)
    throw new Error(`rem (caldav) listed ${items} reminders, not ${LISTS * PER_LIST}`);
  warmups.push({
    what: 'rem --backend caldav list -o json, first run',
    ms: cold.ms,
    note: 'discovery and a full fetch of 10 calendars into its cache',
  });
  warmups.push({
    what: 'rem --backend caldav list, second run',
    ms: rem(['list']).ms,
    note: 'ctags unchanged',
  });

  const completeIds = fixtureRecords()
    .filter((record) => !record.completed && ['list-6', 'list-7'].includes(record.list))
    .slice(0, CALDAV_CLI_RUNS)
    .map((record) => shortId(record.uid));
  const steps: Step[] = [
    {
      row: row('caldav', 'list -o json', 'rem', `${items} reminders (all)`),
      run: () => rem(['list', '-o', 'json']).ms,
    },
    {
      row: row('caldav', 'add', 'rem', 'rem add "…" --list list-0 -o plain'),
      run: (iteration) => {
        const added = rem(['add', `Bench task c${iteration}`, '--list', 'list-0', '-o', 'plain']);
        if (!ID.test(added.stdout.trim())) throw new Error(`rem add printed ${JSON.stringify(added.stdout)}`);
        return added.ms;
      },
    },
    {
      row: row('caldav', 'complete', 'rem', 'one fixture id per run'),
      run: (iteration) => rem(['complete', completeIds[iteration] as string]).ms,
    },
  ];
  const started = performance.now();
  const iterations = roundRobin(steps, CALDAV_CLI_RUNS, CALDAV_PHASE_LIMIT_MS, 'caldav processes');
  progress(
    `caldav: ${iterations} iterations of ${steps.length} commands (${seconds(performance.now() - started)})`,
  );
}

// ---------------------------------------------------------------------------------------------------
// Report.

interface Goal {
  label: string;
  value: number | undefined;
  unit: string;
  goal: string;
  met: (value: number) => boolean;
}

const find = (section: Row['section'], operation: string, tool: string): Row | undefined =>
  rows.find((entry) => entry.section === section && entry.operation === operation && entry.tool === tool);

const p50 = (entry: Row | undefined): number | undefined =>
  entry === undefined || entry.samples.length === 0 ? undefined : percentile(entry.samples, 0.5);

const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined || b === undefined || b === 0 ? undefined : a / b;

function goalsOf(): Goal[] {
  const goals: Goal[] = [];
  const vdirOps: Array<[string, string]> = [
    ['list -o json / --porcelain list', 'rem list -o json'],
    ['list (table)', 'rem list (table)'],
    ['add / new', 'rem add'],
    ['complete / done', 'rem complete'],
  ];
  for (const [operation, label] of vdirOps) {
    goals.push({
      label: `vdir ${label} p50`,
      value: p50(find('vdir', operation, 'rem')),
      unit: 'ms',
      goal: `<= ${GOAL_VDIR_MS} ms`,
      met: (value) => value <= GOAL_VDIR_MS,
    });
  }
  const versus: Array<[string, string]> = [
    ['list -o json / --porcelain list', 'todoman --porcelain list / rem list -o json'],
    ['list (table)', 'todoman list / rem list (tables)'],
    ['add / new', 'todoman new / rem add'],
    ['complete / done', 'todoman done / rem complete'],
  ];
  for (const [operation, label] of versus) {
    const theirs = find('vdir', operation, 'todoman');
    if (theirs === undefined) continue;
    goals.push({
      label: `${label} p50`,
      value: ratio(p50(theirs), p50(find('vdir', operation, 'rem'))),
      unit: 'x',
      goal: `>= ${GOAL_RATIO}x`,
      met: (value) => value >= GOAL_RATIO,
    });
  }
  for (const operation of ['list -o json', 'add', 'complete']) {
    const entry = find('caldav', operation, 'rem');
    if (entry === undefined) continue;
    goals.push({
      label: `caldav rem ${operation} p50`,
      value: p50(entry),
      unit: 'ms',
      goal: `<= ${GOAL_CALDAV_MS} ms`,
      met: (value) => value <= GOAL_CALDAV_MS,
    });
  }
  return goals;
}

interface TableRow {
  section: string;
  operation: string;
  tool: string;
  'p50 ms': string;
  'p95 ms': string;
  runs: number;
  note: string;
}

const SECTION_ORDER: readonly Row['section'][] = ['floor', 'vdir', 'caldav', 'library'];

/** Process rows first (floors, vdir, CalDAV), then the library; in creation order within each. */
function orderedRows(): Row[] {
  return SECTION_ORDER.flatMap((section) => rows.filter((entry) => entry.section === section));
}

function tableRows(): TableRow[] {
  const sectionName: Record<Row['section'], string> = {
    floor: 'process',
    vdir: 'vdir process',
    caldav: 'CalDAV process',
    library: 'library',
  };
  return orderedRows().map((entry) => {
    const digits = entry.section === 'library' ? 2 : 1;
    return {
      section: sectionName[entry.section],
      operation: entry.operation,
      tool: entry.tool,
      'p50 ms': fixed(p50(entry), digits),
      'p95 ms': fixed(entry.samples.length === 0 ? undefined : percentile(entry.samples, 0.95), digits),
      runs: entry.samples.length,
      note: entry.note,
    };
  });
}

function textTable(table: ReadonlyArray<Record<string, string | number>>): string {
  const columns = Object.keys(table[0] ?? {});
  const numeric = (column: string): boolean => /ms$|^runs$/.test(column);
  const widths = columns.map((column) =>
    Math.max(column.length, ...table.map((entry) => String(entry[column]).length)),
  );
  const line = (cells: string[]): string =>
    cells
      .map((cell, index) => {
        const column = columns[index] as string;
        const width = widths[index] as number;
        return numeric(column) ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [
    line(columns),
    line(widths.map((width) => '-'.repeat(width))),
    ...table.map((entry) => line(columns.map((column) => String(entry[column])))),
  ].join('\n');
}

function markdown(table: ReadonlyArray<Record<string, string | number>>): string {
  const columns = Object.keys(table[0] ?? {});
  const numeric = (column: string): boolean => /ms$|^runs$/.test(column);
  return [
    `| ${columns.join(' | ')} |`,
    `|${columns.map((column) => (numeric(column) ? '---:' : '---')).join('|')}|`,
    ...table.map((entry) => `| ${columns.map((column) => String(entry[column])).join(' | ')} |`),
  ].join('\n');
}

function goalLines(goals: readonly Goal[]): string[] {
  return goals.map((goal) => {
    const verdict = goal.value === undefined ? 'n/a   ' : goal.met(goal.value) ? 'MET   ' : 'MISSED';
    const value = goal.unit === 'x' ? `${fixed(goal.value, 2)}x` : `${fixed(goal.value, 1)} ms`;
    return `  ${verdict}  ${goal.label.padEnd(48)} ${value.padStart(9)}   goal ${goal.goal}`;
  });
}

function infoLines(): string[] {
  const lines: string[] = [];
  const nodeFloor = p50(find('floor', 'startup floor', 'node -e 0'));
  const pythonRow = rows.find((entry) => entry.section === 'floor' && entry.note === PYTHON_NOTE);
  const pythonFloor = p50(pythonRow);
  const over = (
    section: Row['section'],
    operation: string,
    tool: string,
    floor: number | undefined,
  ): string => fixed((p50(find(section, operation, tool)) ?? Number.NaN) - (floor ?? Number.NaN), 1);
  const withCerts = rows.find((entry) => entry.tool === CA_CERTS_TOOL);
  if (withCerts !== undefined) {
    lines.push(
      `  info  NODE_EXTRA_CA_CERTS adds ${fixed((p50(withCerts) ?? Number.NaN) - (nodeFloor ?? Number.NaN), 1)} ms to every Node start here; the rows above ran without it (--keep-env keeps it)`,
    );
  }
  if (find('vdir', 'list -o json / --porcelain list', 'todoman') !== undefined) {
    const like = ratio(
      p50(find('vdir', 'list -o json / --porcelain list', 'todoman')),
      p50(find('vdir', INCOMPLETE_OPERATION, 'rem')),
    );
    lines.push(
      `  info  ${'todoman --porcelain list / rem list --incomplete -o json p50'.padEnd(59)} ${fixed(like, 2)}x   both print the open reminders only`,
    );
  }
  for (const operation of [
    'list -o json / --porcelain list',
    INCOMPLETE_OPERATION,
    'list (table)',
    'add / new',
    'complete / done',
  ]) {
    const remPart = `rem ${over('vdir', operation, 'rem', nodeFloor)} ms over node -e 0`;
    const todomanPart =
      pythonRow === undefined || find('vdir', operation, 'todoman') === undefined
        ? ''
        : `, todoman ${over('vdir', operation, 'todoman', pythonFloor)} ms over python3 -c 0`;
    lines.push(
      `  info  vdir ${operation.padEnd(32)} p50 above the interpreter floor: ${remPart}${todomanPart}`,
    );
  }
  for (const operation of ['list -o json', 'add', 'complete']) {
    if (find('caldav', operation, 'rem') === undefined) continue;
    lines.push(
      `  info  caldav ${operation.padEnd(30)} p50 above the interpreter floor: rem ${over('caldav', operation, 'rem', nodeFloor)} ms over node -e 0`,
    );
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = performance.now();
  try {
    statSync(CLI);
  } catch {
    throw new Error(`${CLI} is missing: run \`pnpm --filter @ballast/rem build\` first`);
  }
  const newest = newestSource(join(PACKAGE_DIR, 'src'));
  if (newest.mtimeMs > statSync(CLI).mtimeMs) {
    warnings.push(
      `dist/cli.cjs is older than ${newest.path.slice(PACKAGE_DIR.length + 1)}: the process rows time the old build (run \`pnpm --filter @ballast/rem build\`)`,
    );
  }

  const todomanBinary = onPath('todoman');
  let todoman: TodomanSetup | undefined;
  const temp = mkdtempSync(join(tmpdir(), 'rem-bench-'));
  const root = join(temp, 'vdir');
  const home = join(temp, 'home');
  mkdirSync(home, { recursive: true });
  const env = baseEnv(home);
  if (todomanBinary === undefined) {
    skipped.push('todoman is not on PATH (apt-get install todoman): todoman rows skipped');
  } else {
    const config = join(temp, 'todoman-config.py');
    writeFileSync(
      config,
      [
        `path = ${JSON.stringify(join(root, '*'))}`,
        'date_format = "%Y-%m-%d"',
        'time_format = "%H:%M"',
        'default_list = "list-0"',
        // As `rem add`: a new task without a due unless one is given (todoman's default is now + 24 h).
        'default_due = 0',
        `cache_path = ${JSON.stringify(join(home, '.cache', 'todoman', 'cache.sqlite3'))}`,
        '',
      ].join('\n'),
    );
    const python = shebangInterpreter(todomanBinary) ?? 'python3';
    todoman = { binary: todomanBinary, python, config, version: versionOf(todomanBinary, ['--version']) };
  }
  const radicaleBinary = findRadicale();
  if (radicaleBinary === undefined)
    skipped.push('radicale is not on PATH (apt-get install radicale): CalDAV rows skipped');

  const versions = {
    node: process.version,
    todoman: todoman?.version ?? null,
    python: todoman === undefined ? null : versionOf(todoman.python, ['--version']),
    radicale: radicaleBinary === undefined ? null : `radicale ${versionOf(radicaleBinary, ['--version'])}`,
  };
  progress(
    `rem bench: ${LISTS} lists × ${PER_LIST} reminders; ${availableParallelism()} cores; node ${versions.node}; ` +
      `${versions.todoman ?? 'no todoman'}${versions.python ? ` (${versions.python})` : ''}; ${versions.radicale ?? 'no radicale'}`,
  );
  for (const line of skipped) progress(`! ${line}`);

  const records = fixtureRecords();
  let radicale: RunningRadicale | undefined;
  try {
    let phase = performance.now();
    writeVdir(root, records);
    progress(`fixture: ${records.length} .ics files in ${root} (${seconds(performance.now() - phase)})`);

    vdirProcesses(root, env, todoman, keepEnv ? undefined : process.env.NODE_EXTRA_CA_CERTS);

    phase = performance.now();
    progress('library: memory and vdir');
    await libraryLatency(
      'memory',
      createReminders({ backend: await memoryBackendWithFixture(records) }),
      LIBRARY_RUNS,
      'list-0',
      'floor: no I/O',
    );
    const vdirBackend = await createVdirBackend({ root });
    await libraryLatency(
      'vdir',
      createReminders({ backend: vdirBackend }),
      LIBRARY_RUNS,
      'list-0',
      'same folder',
    );
    await vdirBackend.close();
    progress(`library: memory and vdir done (${seconds(performance.now() - phase)})`);

    if (radicaleBinary !== undefined) {
      phase = performance.now();
      radicale = await startRadicale();
      progress(
        `caldav: Radicale at ${radicale.url}; seeding ${LISTS} calendars and ${records.length} VTODOs`,
      );
      await seedRadicale(radicale.url, join(temp, 'seed-cache'), records);
      const seedMs = performance.now() - phase;
      warmups.push({
        what: `seeding Radicale (library, ${SEED_CONCURRENCY} PUTs at a time)`,
        ms: seedMs,
        note: `${LISTS} MKCALENDAR + ${records.length} PUT`,
      });
      progress(`caldav: seeded (${seconds(seedMs)})`);
      caldavProcesses({
        ...env,
        REM_CALDAV_URL: radicale.url,
        REM_CALDAV_USER: 'test',
        XDG_CACHE_HOME: join(temp, 'cli-cache'),
      });
      phase = performance.now();
      progress('library: caldav');
      await radicaleFloor(radicale.url);
      const caldavBackend = await createCaldavBackend({
        url: radicale.url,
        username: 'test',
        cacheDir: join(temp, 'library-cache'),
      });
      await libraryLatency(
        'caldav',
        createReminders({ backend: caldavBackend }),
        CALDAV_LIBRARY_RUNS,
        'list-0',
        'Radicale on loopback',
      );
      await caldavBackend.close();
      progress(`library: caldav done (${seconds(performance.now() - phase)})`);
    }
  } finally {
    if (radicale !== undefined) await radicale.stop();
    rmSync(temp, { recursive: true, force: true });
  }

  const goals = goalsOf();
  const table = tableRows();
  const totalSeconds = (performance.now() - started) / 1000;
  if (jsonMode) {
    console.log(
      JSON.stringify({
        date: new Date().toISOString(),
        cpus: availableParallelism(),
        versions,
        fixture: { lists: LISTS, perList: PER_LIST },
        warmups,
        rows: orderedRows().map((entry) => ({
          section: entry.section,
          operation: entry.operation,
          tool: entry.tool,
          p50: p50(entry) ?? null,
          p95: entry.samples.length === 0 ? null : percentile(entry.samples, 0.95),
          runs: entry.samples.length,
          note: entry.note,
        })),
        goals: goals.map((goal) => ({
          label: goal.label,
          value: goal.value ?? null,
          unit: goal.unit,
          goal: goal.goal,
          met: goal.value === undefined ? null : goal.met(goal.value),
        })),
        nodeExtraCaCerts:
          process.env.NODE_EXTRA_CA_CERTS === undefined ? 'unset' : keepEnv ? 'kept' : 'dropped for children',
        skipped,
        warnings,
        seconds: totalSeconds,
      }),
    );
    return;
  }
  say('');
  say(
    `rem bench, ${new Date().toISOString()}: ${availableParallelism()} cores, node ${versions.node}, ` +
      `${versions.todoman ?? 'no todoman'}${versions.python ? ` on ${versions.python}` : ''}, ${versions.radicale ?? 'no radicale'}`,
  );
  say(`Fixture: ${LISTS * PER_LIST} VTODOs in ${LISTS} lists (vdir, and the same on Radicale).`);
  say('Warm-up, run once before timing and not in the table:');
  for (const warmup of warmups)
    say(`  ${warmup.what.padEnd(52)} ${fixed(warmup.ms, 0).padStart(6)} ms   ${warmup.note}`);
  say('');
  say(textTable(table as unknown as Array<Record<string, string | number>>));
  say('');
  say('Goals:');
  for (const line of goalLines(goals)) say(line);
  for (const line of infoLines()) say(line);
  for (const line of skipped) say(`! skipped: ${line}`);
  for (const line of warnings) say(`! ${line}`);
  say('\nMarkdown:\n');
  say(markdown(table as unknown as Array<Record<string, string | number>>));
  say('');
  say('```');
  for (const line of goalLines(goals)) say(line);
  say('```');
  say(`\ntotal ${totalSeconds.toFixed(1)} s`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
