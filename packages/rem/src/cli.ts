#!/usr/bin/env node
// Sync file calls: node:fs/promises pulls in readline and the watchers, ~1 ms of every start.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { BallastError } from '@ballast/core/errors';
import { completionScript } from './completion.js';
import { isUsageError, RemError } from './errors.js';
import { openBackend } from './open-backend.js';
import {
  createPaint,
  humanDue,
  type OutputFormat,
  type Paint,
  renderLists,
  renderReminder,
  renderReminders,
  renderStats,
  toJson,
} from './output.js';
import { createReminders, type ListFilter, type Reminders, type UpdateReminderInput } from './reminders.js';
import { stdoutIsTerminal, writeStdout } from './stdout.js';
import type { TransferFormat } from './transfer.js';
import type { PriorityLabel, Reminder } from './types.js';

// The command line is read by a small dispatcher over node:util's parseArgs (already loaded by
// Node) rather than a CLI framework, whose loading and set-up cost every command several
// milliseconds. parseArgs runs non-strict, as a tokenizer: the checks and their messages are here.

interface GlobalOptions {
  output: OutputFormat;
  backend?: string;
  vdir?: string;
  caldavUrl?: string;
  color: boolean;
}

const VERSION = '0.1.0';

const DESCRIPTION =
  'Fast reminders from the terminal and for agents: vdir (todoman), CalDAV or macOS EventKit';

/** An option of rem itself or of one command. */
interface OptionSpec {
  /** The long name without its dashes, by which the value is read: `due-before`. */
  readonly name: string;
  /** The one-letter form without its dash. */
  readonly short?: string;
  /** What the value is called in help; absent for a flag, which takes no value. */
  readonly value?: string;
  /** One line of help. */
  readonly about: string;
  /** The only values accepted. */
  readonly choices?: readonly string[];
  /** The value when the option is not given. */
  readonly defaultValue?: string;
  /** Whether it may be given again, every value split at commas and gathered (`--tag a,b --tag c`). */
  readonly repeatable?: boolean;
}

/** A positional argument of a command; every one is required. */
interface ArgumentSpec {
  readonly name: string;
  readonly about: string;
  /** Whether it takes every remaining word (one at least); only the last argument may. */
  readonly variadic?: boolean;
}

/** A command: its names, arguments, options and what it does. */
interface CommandSpec {
  readonly name: string;
  readonly aliases: readonly string[];
  readonly about: string;
  readonly arguments: readonly ArgumentSpec[];
  readonly options: readonly OptionSpec[];
  /** What the command does; absent on one that only groups subcommands. */
  readonly run?: (invocation: Invocation) => Promise<void> | void;
  /** The subcommands (`list-mgmt create`), for a command without a run of its own. */
  readonly subcommands?: readonly CommandSpec[];
}

/** What an option holds once read: its text, true for a flag, every value of a repeatable one. */
type OptionValue = string | true | string[];

/** The arguments and option values one command was run with. */
class Invocation {
  readonly #operands: ReadonlyMap<string, readonly string[]>;
  readonly #values: ReadonlyMap<string, OptionValue>;

  /**
   * @param operands the words of each argument, by argument name
   * @param values each option given (or defaulted), by long name
   */
  constructor(operands: ReadonlyMap<string, readonly string[]>, values: ReadonlyMap<string, OptionValue>) {
    this.#operands = operands;
    this.#values = values;
  }

  /** The value of a required argument. */
  argument(name: string): string {
    return this.#operands.get(name)?.[0] ?? '';
  }

  /** The words of a variadic argument. */
  words(name: string): string[] {
    return [...(this.#operands.get(name) ?? [])];
  }

  /** The value of an option that takes one, if given or defaulted. */
  text(name: string): string | undefined {
    const value = this.#values.get(name);
    return typeof value === 'string' ? value : undefined;
  }

  /** Whether a flag was given. */
  flag(name: string): boolean {
    return this.#values.get(name) === true;
  }

  /** Every value of a repeatable option, if it was given at all. */
  texts(name: string): string[] | undefined {
    const value = this.#values.get(name);
    return Array.isArray(value) ? value : undefined;
  }
}

const HELP_OPTION: OptionSpec = { name: 'help', short: 'h', about: 'print help' };

/** rem's own options, accepted before or after the command. */
const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  {
    name: 'output',
    short: 'o',
    value: 'format',
    about: 'output format',
    choices: ['table', 'json', 'plain'],
    defaultValue: 'table',
  },
  { name: 'backend', value: 'name', about: 'vdir, caldav, eventkit or memory (env REM_BACKEND)' },
  { name: 'vdir', value: 'path', about: 'vdir folder (env REM_VDIR; default $XDG_DATA_HOME/rem)' },
  { name: 'caldav-url', value: 'url', about: 'CalDAV server (env REM_CALDAV_URL)' },
  { name: 'no-color', about: 'no colours (also NO_COLOR)' },
  { name: 'version', short: 'V', about: 'print the version' },
  HELP_OPTION,
];

let globals: GlobalOptions = { output: 'table', color: true };

let session: { reminders: Reminders; paint: Paint; format: OutputFormat } | undefined;

async function open(): Promise<{ reminders: Reminders; paint: Paint; format: OutputFormat }> {
  if (session) return session;
  const options = globals;
  const backend = await openBackend({
    ...(options.backend ? { kind: options.backend } : {}),
    ...(options.vdir ? { vdir: options.vdir } : {}),
    ...(options.caldavUrl ? { caldavUrl: options.caldavUrl } : {}),
  });
  const colour =
    options.color && !('NO_COLOR' in process.env && process.env.NO_COLOR !== '') && stdoutIsTerminal();
  session = {
    reminders: createReminders({
      backend,
      ...(process.env.REM_DEFAULT_LIST ? { defaultList: process.env.REM_DEFAULT_LIST } : {}),
    }),
    paint: createPaint(colour),
    format: options.output,
  };
  return session;
}

function print(text: string): void {
  if (text !== '') writeStdout(`${text}\n`);
}

function usage(message: string): never {
  throw new RemError('REM_INVALID_INPUT', message);
}

/** Prints changed reminders: the records as JSON, or one confirmation line each. */
function printChanged(verb: string, reminders: Reminder[], format: OutputFormat, paint: Paint): void {
  if (format === 'json') {
    print(toJson(reminders));
    return;
  }
  for (const reminder of reminders) {
    if (format === 'plain') print(`${reminder.id}\t${reminder.title}`);
    else print(`${verb} ${paint.dim(reminder.id)} ${reminder.title}`);
  }
}

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const { createInterface } = await import('node:readline/promises');
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await prompt.question(`${question} [y/N] `)).trim());
  } finally {
    prompt.close();
  }
}

function splitTags(value: string): string[] {
  return value
    .split(',')
    .map((tag) => tag.trim())
    .filter(Boolean);
}

function listFilter(invocation: Invocation): ListFilter {
  const filter: ListFilter = {};
  const list = invocation.text('list');
  const dueBefore = invocation.text('due-before');
  const dueAfter = invocation.text('due-after');
  const search = invocation.text('search');
  if (list !== undefined) filter.list = list;
  if (invocation.flag('incomplete')) filter.incomplete = true;
  if (invocation.flag('completed')) filter.completed = true;
  if (invocation.flag('flagged')) filter.flagged = true;
  if (dueBefore !== undefined) filter.dueBefore = dueBefore;
  if (dueAfter !== undefined) filter.dueAfter = dueAfter;
  if (search !== undefined) filter.search = search;
  return filter;
}

function parseBoolean(value: string, flag: string): boolean {
  if (/^(true|yes|on|1)$/i.test(value)) return true;
  if (/^(false|no|off|0)$/i.test(value)) return false;
  return usage(`${flag} takes true or false, got "${value}"`);
}

async function showList(load: (reminders: Reminders) => Promise<Reminder[]>): Promise<void> {
  const { reminders, paint, format } = await open();
  print(renderReminders(await load(reminders), format, paint, new Date()));
}

const FORCE: OptionSpec = { name: 'force', about: 'do not ask' };
const INCOMPLETE: OptionSpec = { name: 'incomplete', about: 'only open ones' };
const IDS: ArgumentSpec = { name: 'ids', about: 'ids, unique prefixes or uids', variadic: true };
const ID: ArgumentSpec = { name: 'id', about: 'id, unique id prefix or uid' };

function listOption(about: string): OptionSpec {
  return { name: 'list', short: 'l', value: 'name', about };
}

const LIST_MANAGEMENT: readonly CommandSpec[] = [
  {
    name: 'create',
    aliases: [],
    about: 'create a list',
    arguments: [{ name: 'name', about: 'the new list' }],
    options: [],
    run: async (invocation) => {
      const { reminders, format } = await open();
      const list = await reminders.createList(invocation.argument('name'));
      print(format === 'json' ? toJson(list) : `Created list ${list.name}`);
    },
  },
  {
    name: 'rename',
    aliases: [],
    about: 'rename a list',
    arguments: [
      { name: 'name', about: 'the list' },
      { name: 'new-name', about: 'its new name' },
    ],
    options: [],
    run: async (invocation) => {
      const { reminders, format } = await open();
      const name = invocation.argument('name');
      const list = await reminders.renameList(name, invocation.argument('new-name'));
      print(format === 'json' ? toJson(list) : `Renamed list ${name} to ${list.name}`);
    },
  },
  {
    name: 'delete',
    aliases: [],
    about: 'delete a list and its reminders (asks first unless --force)',
    arguments: [{ name: 'name', about: 'the list' }],
    options: [FORCE],
    run: async (invocation) => {
      const { reminders, format } = await open();
      const name = invocation.argument('name');
      if (!invocation.flag('force')) {
        const summary = (await reminders.lists()).find((list) => list.name === name);
        const count = summary ? ` and its ${summary.total} reminders` : '';
        if (!process.stdin.isTTY)
          usage(`refusing to delete list "${name}"${count} without --force (no terminal to ask)`);
        if (!(await confirm(`Delete list "${name}"${count}?`))) {
          process.stderr.write('Nothing deleted.\n');
          return;
        }
      }
      const result = await reminders.deleteList(name);
      print(format === 'json' ? toJson(result) : `Deleted list ${result.name} (${result.deleted} reminders)`);
    },
  },
];

/** Every command of rem, in the order help lists them. */
const COMMAND_SPECS: readonly CommandSpec[] = [
  {
    name: 'add',
    aliases: ['create', 'new'],
    about: 'add a reminder',
    arguments: [{ name: 'title', about: 'what to be reminded of', variadic: true }],
    options: [
      listOption('the list (default: Reminders, or REM_DEFAULT_LIST)'),
      {
        name: 'due',
        short: 'd',
        value: 'when',
        about: 'due: 2026-12-01, "tomorrow 9am", "next fri 3pm", "in 2h", eod, eow',
      },
      { name: 'priority', short: 'p', value: 'level', about: 'high, medium, low or none' },
      { name: 'notes', short: 'n', value: 'text', about: 'notes' },
      { name: 'url', short: 'u', value: 'url', about: 'a link' },
      { name: 'flagged', short: 'f', about: 'flag it' },
      {
        name: 'repeat',
        short: 'r',
        value: 'rule',
        about: 'daily, weekly, monthly, yearly, weekdays, "every 2 weeks" or an RRULE',
      },
      {
        name: 'tag',
        short: 't',
        value: 'tag',
        about: 'a tag (repeatable, or comma-separated)',
        repeatable: true,
      },
    ],
    run: async (invocation) => {
      const { reminders, paint, format } = await open();
      const list = invocation.text('list');
      const due = invocation.text('due');
      const priority = invocation.text('priority');
      const notes = invocation.text('notes');
      const url = invocation.text('url');
      const repeat = invocation.text('repeat');
      const tags = invocation.texts('tag');
      const added = await reminders.add({
        title: invocation.words('title').join(' '),
        ...(list !== undefined ? { list } : {}),
        ...(due !== undefined ? { due } : {}),
        // Any text: the library checks it and names the levels it takes.
        ...(priority !== undefined ? { priority: priority as PriorityLabel } : {}),
        ...(notes !== undefined ? { notes } : {}),
        ...(url !== undefined ? { url } : {}),
        ...(invocation.flag('flagged') ? { flagged: true } : {}),
        ...(repeat !== undefined ? { repeat } : {}),
        ...(tags ? { tags } : {}),
      });
      if (format === 'json') return print(toJson(added));
      if (format === 'plain') return print(added.id);
      const dueText = added.due ? ` ${paint.dim(`(due ${humanDue(added, new Date())})`)}` : '';
      print(`Added ${paint.dim(added.id)} ${added.title} to ${added.list}${dueText}`);
    },
  },
  {
    name: 'list',
    aliases: ['ls'],
    about: 'list reminders',
    arguments: [],
    options: [
      listOption('only this list'),
      INCOMPLETE,
      { name: 'completed', about: 'only completed ones' },
      { name: 'flagged', about: 'only flagged ones' },
      { name: 'due-before', value: 'when', about: 'due before this time' },
      { name: 'due-after', value: 'when', about: 'due after this time' },
      { name: 'search', short: 's', value: 'words', about: 'words in the title or notes' },
    ],
    run: (invocation) => showList((reminders) => reminders.list(listFilter(invocation))),
  },
  {
    name: 'show',
    aliases: ['get'],
    about: 'show every field of one reminder',
    arguments: [ID],
    options: [],
    run: async (invocation) => {
      const { reminders, paint, format } = await open();
      print(renderReminder(await reminders.get(invocation.argument('id')), format, paint, new Date()));
    },
  },
  {
    name: 'update',
    aliases: ['edit'],
    about: 'change a reminder (use "none" to clear due, url, repeat)',
    arguments: [ID],
    options: [
      { name: 'title', value: 'text', about: 'new title' },
      { name: 'name', value: 'text', about: 'new title (rem spelling)' },
      listOption('move to this list'),
      { name: 'due', short: 'd', value: 'when', about: 'new due, or none' },
      { name: 'priority', short: 'p', value: 'level', about: 'high, medium, low or none' },
      { name: 'notes', short: 'n', value: 'text', about: 'new notes ("" clears)' },
      { name: 'url', short: 'u', value: 'url', about: 'new link, or none' },
      { name: 'flagged', value: 'bool', about: 'true or false' },
      { name: 'repeat', short: 'r', value: 'rule', about: 'new recurrence, or none' },
      { name: 'tag', short: 't', value: 'tag', about: 'replace the tags (repeatable)', repeatable: true },
    ],
    run: async (invocation) => {
      const { reminders, paint, format } = await open();
      const patch: UpdateReminderInput = {};
      const title = invocation.text('title') ?? invocation.text('name');
      const list = invocation.text('list');
      const due = invocation.text('due');
      const priority = invocation.text('priority');
      const notes = invocation.text('notes');
      const url = invocation.text('url');
      const flagged = invocation.text('flagged');
      const repeat = invocation.text('repeat');
      const tags = invocation.texts('tag');
      if (title !== undefined) patch.title = title;
      if (list !== undefined) patch.list = list;
      if (due !== undefined) patch.due = due === 'none' ? null : due;
      // Any text: the library checks it and names the levels it takes.
      if (priority !== undefined) patch.priority = priority as PriorityLabel;
      if (notes !== undefined) patch.notes = notes;
      if (url !== undefined) patch.url = url === 'none' ? null : url;
      if (flagged !== undefined) patch.flagged = parseBoolean(flagged, '--flagged');
      if (repeat !== undefined) patch.repeat = repeat === 'none' ? null : repeat;
      if (tags !== undefined) patch.tags = tags;
      if (Object.keys(patch).length === 0) {
        usage(
          'nothing to change: give at least one of --title, --list, --due, --priority, --notes, --url, --flagged, --repeat, --tag',
        );
      }
      printChanged('Updated', [await reminders.update(invocation.argument('id'), patch)], format, paint);
    },
  },
  {
    name: 'complete',
    aliases: ['done'],
    about: 'mark reminders completed (every id is checked before any changes)',
    arguments: [IDS],
    options: [],
    run: async (invocation) => {
      const { reminders, paint, format } = await open();
      const result = await reminders.completeWithNext(invocation.words('ids'));
      if (format === 'json') {
        print(toJson(result.completed));
        return;
      }
      printChanged('Completed', result.completed, format, paint);
      for (const next of result.next) {
        if (format === 'plain') print(`${next.id}\t${next.title}`);
        else
          print(
            `Next ${paint.dim(next.id)} ${next.title} ${paint.dim(`(due ${humanDue(next, new Date())})`)}`,
          );
      }
    },
  },
  {
    name: 'uncomplete',
    aliases: [],
    about: 'mark reminders not completed',
    arguments: [IDS],
    options: [],
    run: async (invocation) => {
      const { reminders, paint, format } = await open();
      printChanged('Reopened', await reminders.uncomplete(invocation.words('ids')), format, paint);
    },
  },
  {
    name: 'delete',
    aliases: ['rm', 'remove'],
    about: 'delete reminders (asks first unless --force)',
    arguments: [IDS],
    options: [FORCE],
    run: async (invocation) => {
      const { reminders, paint, format } = await open();
      const targets = await reminders.resolve(invocation.words('ids'));
      if (!invocation.flag('force')) {
        const names = targets.map((reminder) => `"${reminder.title}"`).join(', ');
        if (!process.stdin.isTTY) usage(`refusing to delete ${names} without --force (no terminal to ask)`);
        if (!(await confirm(`Delete ${names}?`))) {
          process.stderr.write('Nothing deleted.\n');
          return;
        }
      }
      printChanged('Deleted', await reminders.delete(targets.map((reminder) => reminder.uid)), format, paint);
    },
  },
  {
    name: 'lists',
    aliases: [],
    about: 'show the lists',
    arguments: [],
    options: [{ name: 'count', short: 'c', about: 'with open and total counts' }],
    run: async (invocation) => {
      const { reminders, paint, format } = await open();
      print(renderLists(await reminders.lists(), format, paint, invocation.flag('count')));
    },
  },
  {
    name: 'list-mgmt',
    aliases: ['lm'],
    about: 'create, rename or delete lists',
    arguments: [],
    options: [],
    subcommands: LIST_MANAGEMENT,
  },
  {
    name: 'search',
    aliases: [],
    about: 'find reminders by words in the title, notes or tags',
    arguments: [{ name: 'words', about: 'words that must all appear', variadic: true }],
    options: [listOption('only this list'), INCOMPLETE],
    run: (invocation) =>
      showList((reminders) => reminders.search(invocation.words('words').join(' '), listFilter(invocation))),
  },
  {
    name: 'stats',
    aliases: [],
    about: 'counts, completion and per-list breakdown',
    arguments: [],
    options: [],
    run: async () => {
      const { reminders, paint, format } = await open();
      print(renderStats(await reminders.stats(), format, paint));
    },
  },
  {
    name: 'today',
    aliases: [],
    about: 'open reminders due today',
    arguments: [],
    options: [],
    run: () => showList((reminders) => reminders.today()),
  },
  {
    name: 'overdue',
    aliases: [],
    about: 'open reminders past due',
    arguments: [],
    options: [],
    run: () => showList((reminders) => reminders.overdue()),
  },
  {
    name: 'upcoming',
    aliases: [],
    about: 'open reminders due in the next days',
    arguments: [],
    options: [{ name: 'days', value: 'n', about: 'how many days ahead', defaultValue: '7' }],
    run: async (invocation) => {
      const days = invocation.text('days') ?? '7';
      if (!/^\d+$/.test(days)) usage(`--days must be a whole number, got "${days}"`);
      await showList((reminders) => reminders.upcoming(Number(days)));
    },
  },
  {
    name: 'export',
    aliases: [],
    about: 'write reminders as JSON, CSV or iCalendar',
    arguments: [],
    options: [
      {
        name: 'format',
        value: 'format',
        about: 'file format',
        choices: ['json', 'csv', 'ics'],
        defaultValue: 'json',
      },
      { name: 'output-file', value: 'path', about: 'write here instead of stdout' },
      listOption('only this list'),
      INCOMPLETE,
    ],
    run: async (invocation) => {
      const { reminders } = await open();
      const { toCsv, toIcs } = await import('./transfer.js');
      const chosen = await reminders.list(listFilter(invocation));
      const fileFormat = invocation.text('format');
      const text =
        fileFormat === 'csv'
          ? toCsv(chosen)
          : fileFormat === 'ics'
            ? await toIcs(chosen)
            : `${JSON.stringify(chosen, null, 2)}\n`;
      const outputFile = invocation.text('output-file');
      if (outputFile) {
        writeFileSync(outputFile, text);
        process.stderr.write(`Exported ${chosen.length} reminders to ${outputFile}\n`);
      } else {
        writeStdout(text);
      }
    },
  },
  {
    name: 'import',
    aliases: [],
    about: 'add reminders from a JSON, CSV or iCalendar file ("-" reads stdin); every entry is checked first',
    arguments: [{ name: 'file', about: 'the file' }],
    options: [
      { name: 'dry-run', about: 'show what would be added, add nothing' },
      listOption('put every entry in this list'),
      {
        name: 'format',
        value: 'format',
        about: 'file format (default: from the name or content)',
        choices: ['json', 'csv', 'ics'],
      },
    ],
    run: async (invocation) => {
      const { reminders, paint, format } = await open();
      const { detectFormat, parseImport } = await import('./transfer.js');
      const file = invocation.argument('file');
      let text: string;
      try {
        text = file === '-' ? await readStdin() : readFileSync(file, 'utf8');
      } catch (error) {
        throw new RemError('REM_INVALID_INPUT', `cannot read ${file}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      const entries = await parseImport(
        text,
        // One of the choices: the parser refused anything else.
        (invocation.text('format') as TransferFormat | undefined) ??
          detectFormat(file === '-' ? '' : basename(file), text),
      );
      const list = invocation.text('list');
      if (list !== undefined) for (const entry of entries) entry.list = list;
      const result = await reminders.addMany(entries, { dryRun: invocation.flag('dry-run') });
      if (format === 'json') return print(toJson(result));
      print(renderReminders(result.created, format, paint, new Date()));
      for (const skipped of result.skipped)
        process.stderr.write(`skipped "${skipped.title}": ${skipped.reason}\n`);
      process.stderr.write(
        `${result.dryRun ? 'Would import' : 'Imported'} ${result.created.length} reminders${result.skipped.length ? `, skipped ${result.skipped.length}` : ''}\n`,
      );
    },
  },
  {
    name: 'completion',
    aliases: [],
    about: 'print a completion script: source <(rem completion bash)',
    arguments: [{ name: 'shell', about: 'bash, zsh or fish' }],
    options: [],
    run: (invocation) => {
      writeStdout(completionScript(invocation.argument('shell')));
    },
  },
  {
    name: 'mcp',
    aliases: [],
    about: 'serve the reminder operations to agents over MCP on stdio',
    arguments: [],
    options: [],
    run: async () => {
      const { reminders } = await open();
      const [{ createRemMcpServer }, { StdioServerTransport }] = await Promise.all([
        import('./mcp.js'),
        import('@modelcontextprotocol/sdk/server/stdio.js'),
      ]);
      const server = createRemMcpServer({ reminders });
      const transport = new StdioServerTransport();
      const closed = new Promise<void>((resolve) => {
        transport.onclose = () => resolve();
        process.stdin.once('end', () => resolve());
      });
      await server.connect(transport);
      await closed;
    },
  },
];

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

// ---- Reading the command line ----

/** One word of the command line as parseArgs sees it. */
type Token =
  | { kind: 'positional'; index: number; value: string }
  | { kind: 'option-terminator'; index: number }
  | {
      kind: 'option';
      index: number;
      name: string;
      rawName: string;
      value: string | undefined;
      inlineValue: boolean | undefined;
    };

/** What the command line asks for. */
type Request =
  | { kind: 'version' }
  /** Help for a command (for rem itself when the path is empty); `mistaken` when none was chosen. */
  | { kind: 'help'; path: readonly CommandSpec[]; mistaken: boolean }
  | { kind: 'run'; command: CommandSpec; invocation: Invocation };

/**
 * Splits the words into options and positionals. Non-strict, so it never throws: an unknown option
 * comes back as one and a value may start with a dash (`--notes -x`), as commander allowed.
 */
function tokenize(args: readonly string[], specs: readonly OptionSpec[]): Token[] {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const spec of specs) {
    const type = spec.value === undefined ? 'boolean' : 'string';
    options[spec.name] = spec.short === undefined ? { type } : { type, short: spec.short };
  }
  return parseArgs({ args: [...args], options, strict: false, allowPositionals: true, tokens: true }).tokens;
}

/** The option values and positionals of tokens, and the first mistake among them. */
function readTokens(
  tokens: readonly Token[],
  specs: readonly OptionSpec[],
  owner: string,
): { values: Map<string, OptionValue>; operands: string[]; problem: string | undefined } {
  const values = new Map<string, OptionValue>();
  const operands: string[] = [];
  let problem: string | undefined;
  for (const token of tokens) {
    if (token.kind === 'positional') operands.push(token.value);
    if (token.kind !== 'option') continue;
    const spec = specs.find((candidate) => candidate.name === token.name);
    if (spec === undefined) {
      problem ??= unknownOption(token.rawName, specs, owner);
    } else if (spec.value === undefined) {
      if (token.inlineValue) problem ??= `${token.rawName} takes no value, got "${token.value}"`;
      else values.set(spec.name, true);
    } else if (token.value === undefined) {
      problem ??= `${token.rawName} needs a value (${optionLabel(spec)})`;
    } else if (spec.choices && !spec.choices.includes(token.value)) {
      problem ??= `${token.rawName} must be ${orList(spec.choices)}; got "${token.value}"`;
    } else if (spec.repeatable) {
      const previous = values.get(spec.name);
      values.set(spec.name, [...(Array.isArray(previous) ? previous : []), ...splitTags(token.value)]);
    } else {
      values.set(spec.name, token.value);
    }
  }
  for (const spec of specs) {
    if (spec.defaultValue !== undefined && !values.has(spec.name)) values.set(spec.name, spec.defaultValue);
  }
  return { values, operands, problem };
}

/** rem's own option values, read from values that were checked already. */
function globalsFrom(values: ReadonlyMap<string, OptionValue>): GlobalOptions {
  const read = (name: string) => {
    const value = values.get(name);
    return typeof value === 'string' ? value : undefined;
  };
  const backend = read('backend');
  const vdir = read('vdir');
  const caldavUrl = read('caldav-url');
  return {
    output: (read('output') ?? 'table') as OutputFormat,
    ...(backend !== undefined ? { backend } : {}),
    ...(vdir !== undefined ? { vdir } : {}),
    ...(caldavUrl !== undefined ? { caldavUrl } : {}),
    color: !values.has('no-color'),
  };
}

function findCommand(word: string, commands: readonly CommandSpec[]): CommandSpec | undefined {
  return commands.find((command) => command.name === word || command.aliases.includes(word));
}

/**
 * Works out what the words ask for. Global options may come anywhere; at each level (rem, then
 * `list-mgmt`) the first positional names the command, which is taken out before the rest is read
 * with that command's options too.
 * @throws RemError REM_INVALID_INPUT for a usage mistake, after setting the output format from the
 *   words, so the error is reported in it
 */
function parseCommandLine(args: readonly string[]): Request {
  const remaining = [...args];
  const path: CommandSpec[] = [];
  for (;;) {
    const current = path.at(-1);
    const specs = current ? [...GLOBAL_OPTIONS, ...current.options] : GLOBAL_OPTIONS;
    const owner = path.map((command) => command.name).join(' ') || 'rem';
    const tokens = tokenize(remaining, specs);
    const asked = (name: string) => tokens.some((token) => token.kind === 'option' && token.name === name);
    const children = current ? current.subcommands : COMMAND_SPECS;

    if (current !== undefined && children === undefined) {
      if (asked('version')) return { kind: 'version' };
      if (asked('help')) return { kind: 'help', path, mistaken: false };
      const read = readTokens(tokens, specs, owner);
      globals = globalsFrom(read.values);
      if (read.problem !== undefined) usage(read.problem);
      return { kind: 'run', command: current, invocation: bindArguments(current, path, read) };
    }

    // Until the command is known, the rest of the words cannot be read for sure; the output
    // format from a first reading decides how a mistake is reported.
    globals = globalsFrom(readTokens(tokens, specs, owner).values);
    const position = tokens.findIndex((token) => token.kind === 'positional');
    const word = tokens[position];
    const before = readTokens(position < 0 ? tokens : tokens.slice(0, position), specs, owner);
    const chosen = word?.kind === 'positional' ? findCommand(word.value, children ?? []) : undefined;
    if (word?.kind === 'positional' && chosen !== undefined && before.problem === undefined) {
      remaining.splice(word.index, 1);
      path.push(chosen);
      continue;
    }
    if (asked('version')) return { kind: 'version' };
    if (asked('help')) return { kind: 'help', path, mistaken: false };
    if (before.problem !== undefined) usage(before.problem);
    if (word?.kind !== 'positional') return { kind: 'help', path, mistaken: true };
    if (word.value === 'help') {
      const names = tokens
        .slice(position + 1)
        .flatMap((token) => (token.kind === 'positional' ? [token.value] : []));
      return { kind: 'help', path: [...path, ...helpPath(names, children ?? [], owner)], mistaken: false };
    }
    usage(unknownCommand(word.value, children ?? [], owner));
  }
}

/** The commands `rem help a b` names, checked. */
function helpPath(names: readonly string[], commands: readonly CommandSpec[], owner: string): CommandSpec[] {
  const path: CommandSpec[] = [];
  let choices: readonly CommandSpec[] | undefined = commands;
  for (const name of names) {
    if (choices === undefined) break;
    const command = findCommand(name, choices);
    if (command === undefined)
      usage(unknownCommand(name, choices, [owner, ...path.map((step) => step.name)].join(' ')));
    path.push(command);
    choices = command.subcommands;
  }
  return path;
}

/** Matches the positionals to a command's arguments, refusing too few or too many. */
function bindArguments(
  command: CommandSpec,
  path: readonly CommandSpec[],
  read: { values: Map<string, OptionValue>; operands: string[] },
): Invocation {
  const { operands } = read;
  const expected = command.arguments;
  const name = path.map((step) => step.name).join(' ');
  const missing = expected[operands.length];
  if (missing !== undefined) {
    usage(`missing ${argumentLabel(missing)} (${missing.about}); usage: ${usageLine(path)}`);
  }
  const variadic = expected.at(-1)?.variadic === true;
  if (!variadic && operands.length > expected.length) {
    const extra = operands
      .slice(expected.length)
      .map((operand) => `"${operand}"`)
      .join(' ');
    usage(
      expected.length === 0
        ? `${name} takes no arguments; got ${extra}`
        : `${name} takes ${expected.length} argument${expected.length === 1 ? '' : 's'} (${expected.map(argumentLabel).join(' ')}); got ${extra} too; usage: ${usageLine(path)}`,
    );
  }
  const byName = new Map<string, string[]>();
  expected.forEach((argument, index) => {
    byName.set(argument.name, argument.variadic ? operands.slice(index) : operands.slice(index, index + 1));
  });
  return new Invocation(byName, read.values);
}

// ---- Messages and help ----

/** The words closest to a mistyped one: at most two edits apart, as commander suggested. */
function closest(word: string, candidates: readonly string[]): string[] {
  let best = Number.POSITIVE_INFINITY;
  let found: string[] = [];
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    const length = Math.max(word.length, candidate.length);
    if (distance > 2 || (length - distance) / length <= 0.4) continue;
    if (distance < best) {
      best = distance;
      found = [candidate];
    } else if (distance === best && !found.includes(candidate)) {
      found.push(candidate);
    }
  }
  return found;
}

/** Edits (insert, delete, replace, swap of neighbours) to turn one word into another. */
function editDistance(from: string, to: string): number {
  // Row by row over `from`: distances from its first characters to each prefix of `to`.
  let twoRowsUp: number[] = [];
  let previous = Array.from({ length: to.length + 1 }, (_, length) => length);
  for (let fromLength = 1; fromLength <= from.length; fromLength += 1) {
    const current = [fromLength];
    for (let toLength = 1; toLength <= to.length; toLength += 1) {
      const last = from[fromLength - 1];
      const cost = last === to[toLength - 1] ? 0 : 1;
      let distance = Math.min(
        (previous[toLength] ?? 0) + 1,
        (current[toLength - 1] ?? 0) + 1,
        (previous[toLength - 1] ?? 0) + cost,
      );
      const swapped =
        fromLength > 1 &&
        toLength > 1 &&
        last === to[toLength - 2] &&
        from[fromLength - 2] === to[toLength - 1];
      if (swapped) distance = Math.min(distance, (twoRowsUp[toLength - 2] ?? 0) + 1);
      current.push(distance);
    }
    twoRowsUp = previous;
    previous = current;
  }
  return previous[to.length] ?? 0;
}

function didYouMean(suggestions: readonly string[]): string {
  return suggestions.length === 0
    ? ''
    : ` (did you mean ${suggestions.map((suggestion) => `"${suggestion}"`).join(' or ')}?)`;
}

function unknownCommand(word: string, commands: readonly CommandSpec[], owner: string): string {
  const names = commands.flatMap((command) => [command.name, ...command.aliases]);
  const listed = [...commands.map((command) => command.name), 'help'].join(', ');
  return owner === 'rem'
    ? `unknown command "${word}"${didYouMean(closest(word, names))}; commands are: ${listed}`
    : `unknown ${owner} command "${word}"${didYouMean(closest(word, names))}; its commands are: ${listed}`;
}

function unknownOption(rawName: string, specs: readonly OptionSpec[], owner: string): string {
  const names = specs.map((spec) => `--${spec.name}`);
  const negated = `--no-${rawName.slice(2)}`;
  const suggestions = !rawName.startsWith('--')
    ? []
    : names.includes(negated)
      ? [negated]
      : closest(rawName, names);
  const globalNames = GLOBAL_OPTIONS.map((spec) => `--${spec.name}`);
  const own = names.filter((name) => !globalNames.includes(name));
  return owner === 'rem'
    ? `unknown option "${rawName}"${didYouMean(suggestions)}; before the command, options are: ${globalNames.join(', ')} (a command's own options go after it)`
    : `unknown option "${rawName}" for ${owner}${didYouMean(suggestions)}; its options are: ${[...own, `and rem's ${globalNames.join(', ')}`].join(', ')}`;
}

/** `a, b or c`. */
function orList(words: readonly string[]): string {
  return words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`;
}

function optionLabel(spec: OptionSpec): string {
  return `${spec.short ? `-${spec.short}, ` : ''}--${spec.name}${spec.value ? ` <${spec.value}>` : ''}`;
}

function argumentLabel(argument: ArgumentSpec): string {
  return `<${argument.name}${argument.variadic ? '...' : ''}>`;
}

function usageLine(path: readonly CommandSpec[]): string {
  const command = path.at(-1);
  if (command === undefined) return 'rem [options] <command> [arguments]';
  const names = path.map((step, index) =>
    index === path.length - 1 ? [step.name, ...step.aliases].join('|') : step.name,
  );
  const parts = ['rem', ...names];
  if (command.subcommands) parts.push('<command>');
  else {
    if (command.options.length > 0) parts.push('[options]');
    parts.push(...command.arguments.map(argumentLabel));
  }
  return parts.join(' ');
}

/** Text broken into lines of at most `width` characters, at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines;
}

/** Two columns, the second wrapped to 80 characters in all. */
function columns(rows: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  const room = Math.max(80 - 2 - width, 30);
  return rows
    .map(([left, right]) => `  ${left.padEnd(width)}${wrap(right, room).join(`\n${' '.repeat(width + 2)}`)}`)
    .join('\n');
}

function optionRows(specs: readonly OptionSpec[]): Array<readonly [string, string]> {
  return specs.map((spec) => {
    const notes = [
      ...(spec.choices ? [`${orList(spec.choices)}`] : []),
      ...(spec.defaultValue !== undefined ? [`default ${spec.defaultValue}`] : []),
    ];
    return [
      optionLabel(spec),
      notes.length > 0 ? `${spec.about} (${notes.join('; ')})` : spec.about,
    ] as const;
  });
}

function commandRows(commands: readonly CommandSpec[]): Array<readonly [string, string]> {
  return commands.map((command) => {
    const names = [command.name, ...command.aliases].join('|');
    const shape = command.subcommands ? ['<command>'] : command.arguments.map(argumentLabel);
    return [[names, ...shape].join(' '), command.about] as const;
  });
}

/** The help of rem (empty path) or of one command. */
function helpText(path: readonly CommandSpec[]): string {
  const command = path.at(-1);
  if (command === undefined) {
    return `Usage: ${usageLine(path)}

${DESCRIPTION}

Commands:
${columns([...commandRows(COMMAND_SPECS), ['help [command]', 'print help for a command']])}

Options (before or after the command):
${columns(optionRows(GLOBAL_OPTIONS))}

rem <command> --help prints a command's arguments and options.
`;
  }
  const sections = [`Usage: ${usageLine(path)}`, command.about];
  if (command.subcommands) {
    sections.push(
      `Commands:\n${columns([...commandRows(command.subcommands), ['help [command]', 'print help for a command']])}`,
    );
  }
  if (command.arguments.length > 0) {
    sections.push(
      `Arguments:\n${columns(command.arguments.map((argument) => [argumentLabel(argument), argument.about] as const))}`,
    );
  }
  sections.push(`Options:\n${columns(optionRows([...command.options, HELP_OPTION]))}`);
  const shared = GLOBAL_OPTIONS.filter((spec) => spec !== HELP_OPTION && spec.name !== 'version');
  sections.push(
    wrap(
      `rem's own options (${shared.map((spec) => `--${spec.name}`).join(', ')}) work here too; see rem --help.`,
      80,
    ).join('\n'),
  );
  return `${sections.join('\n\n')}\n`;
}

// ---- Running ----

function reportError(error: unknown): number {
  const json = globals.output === 'json';
  if (BallastError.isInstance(error)) {
    if (json)
      process.stderr.write(`${JSON.stringify({ error: { code: error.code, message: error.message } })}\n`);
    else process.stderr.write(`rem: ${error.message}\n`);
    return isUsageError(error) ? 2 : 1;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(
    json ? `${JSON.stringify({ error: { code: 'REM_INTERNAL', message } })}\n` : `rem: ${message}\n`,
  );
  return 1;
}

async function main(): Promise<number> {
  try {
    const request = parseCommandLine(process.argv.slice(2));
    if (request.kind === 'version') {
      print(VERSION);
      return 0;
    }
    if (request.kind === 'help') {
      // With no command chosen, the help is the answer to a mistake: stderr and exit 2.
      if (request.mistaken) process.stderr.write(helpText(request.path));
      else writeStdout(helpText(request.path));
      return request.mistaken ? 2 : 0;
    }
    await request.command.run?.(request.invocation);
    return 0;
  } catch (error) {
    return reportError(error);
  } finally {
    await session?.reminders.close().catch(() => undefined);
  }
}

// Not a top-level await: the CLI ships as CommonJS (see tsup.config.ts).
void main().then((code) => {
  process.exitCode = code;
});
