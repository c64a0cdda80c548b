#!/usr/bin/env node
import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { BallastError } from '@ballast/core';
import { Command, CommanderError, Option } from 'commander';
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
} from './output.js';
import { createReminders, type ListFilter, type Reminders, type UpdateReminderInput } from './reminders.js';
import type { Reminder } from './types.js';

interface GlobalOptions {
  output: OutputFormat;
  backend?: string;
  vdir?: string;
  caldavUrl?: string;
  color: boolean;
}

const VERSION = '0.1.0';

const program = new Command()
  .name('rem')
  .description('Fast reminders from the terminal and for agents: vdir (todoman), CalDAV or macOS EventKit')
  .version(VERSION)
  .addOption(
    new Option('-o, --output <format>', 'output format').choices(['table', 'json', 'plain']).default('table'),
  )
  .option('--backend <name>', 'vdir, caldav, eventkit or memory (env REM_BACKEND)')
  .option('--vdir <path>', 'vdir folder (env REM_VDIR; default $XDG_DATA_HOME/rem)')
  .option('--caldav-url <url>', 'CalDAV server (env REM_CALDAV_URL)')
  .option('--no-color', 'no colours (also NO_COLOR)')
  .showHelpAfterError()
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(text) });

let session: { reminders: Reminders; paint: Paint; format: OutputFormat } | undefined;

async function open(): Promise<{ reminders: Reminders; paint: Paint; format: OutputFormat }> {
  if (session) return session;
  const options = program.opts<GlobalOptions>();
  const backend = await openBackend({
    ...(options.backend ? { kind: options.backend } : {}),
    ...(options.vdir ? { vdir: options.vdir } : {}),
    ...(options.caldavUrl ? { caldavUrl: options.caldavUrl } : {}),
  });
  const colour =
    options.color &&
    !('NO_COLOR' in process.env && process.env.NO_COLOR !== '') &&
    process.stdout.isTTY === true;
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
  if (text !== '') process.stdout.write(`${text}\n`);
}

function usage(message: string): never {
  throw new RemError('REM_INVALID_INPUT', message);
}

/** Prints changed reminders: the records as JSON, or one confirmation line each. */
function printChanged(verb: string, reminders: Reminder[], format: OutputFormat, paint: Paint): void {
  if (format === 'json') {
    print(JSON.stringify(reminders, null, 2));
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

function collect(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((tag) => tag.trim())
      .filter(Boolean),
  ];
}

function listFilter(options: Record<string, unknown>): ListFilter {
  const filter: ListFilter = {};
  if (typeof options.list === 'string') filter.list = options.list;
  if (options.incomplete) filter.incomplete = true;
  if (options.completed) filter.completed = true;
  if (options.flagged) filter.flagged = true;
  if (typeof options.dueBefore === 'string') filter.dueBefore = options.dueBefore;
  if (typeof options.dueAfter === 'string') filter.dueAfter = options.dueAfter;
  if (typeof options.search === 'string') filter.search = options.search;
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

program
  .command('add')
  .aliases(['create', 'new'])
  .description('add a reminder')
  .argument('<title...>', 'what to be reminded of')
  .option('-l, --list <name>', 'the list (default: Reminders, or REM_DEFAULT_LIST)')
  .option('-d, --due <when>', 'due: 2026-12-01, "tomorrow 9am", "next fri 3pm", "in 2h", eod, eow')
  .option('-p, --priority <level>', 'high, medium, low or none')
  .option('-n, --notes <text>', 'notes')
  .option('-u, --url <url>', 'a link')
  .option('-f, --flagged', 'flag it')
  .option('-r, --repeat <rule>', 'daily, weekly, monthly, yearly, weekdays, "every 2 weeks" or an RRULE')
  .option('-t, --tag <tag>', 'a tag (repeatable, or comma-separated)', collect)
  .action(async (titleWords: string[], options) => {
    const { reminders, paint, format } = await open();
    const added = await reminders.add({
      title: titleWords.join(' '),
      ...(options.list !== undefined ? { list: options.list } : {}),
      ...(options.due !== undefined ? { due: options.due } : {}),
      ...(options.priority !== undefined ? { priority: options.priority } : {}),
      ...(options.notes !== undefined ? { notes: options.notes } : {}),
      ...(options.url !== undefined ? { url: options.url } : {}),
      ...(options.flagged ? { flagged: true } : {}),
      ...(options.repeat !== undefined ? { repeat: options.repeat } : {}),
      ...(options.tag ? { tags: options.tag } : {}),
    });
    if (format === 'json') return print(JSON.stringify(added, null, 2));
    if (format === 'plain') return print(added.id);
    const due = added.due ? ` ${paint.dim(`(due ${humanDue(added, new Date())})`)}` : '';
    print(`Added ${paint.dim(added.id)} ${added.title} to ${added.list}${due}`);
  });

program
  .command('list')
  .alias('ls')
  .description('list reminders')
  .option('-l, --list <name>', 'only this list')
  .option('--incomplete', 'only open ones')
  .option('--completed', 'only completed ones')
  .option('--flagged', 'only flagged ones')
  .option('--due-before <when>', 'due before this time')
  .option('--due-after <when>', 'due after this time')
  .option('-s, --search <words>', 'words in the title or notes')
  .action(async (options) => showList((reminders) => reminders.list(listFilter(options))));

program
  .command('show')
  .alias('get')
  .description('show every field of one reminder')
  .argument('<id>', 'id, unique id prefix or uid')
  .action(async (id: string) => {
    const { reminders, paint, format } = await open();
    print(renderReminder(await reminders.get(id), format, paint, new Date()));
  });

program
  .command('update')
  .alias('edit')
  .description('change a reminder (use "none" to clear due, url, repeat)')
  .argument('<id>', 'id, unique id prefix or uid')
  .option('--title <text>', 'new title')
  .option('--name <text>', 'new title (rem spelling)')
  .option('-l, --list <name>', 'move to this list')
  .option('-d, --due <when>', 'new due, or none')
  .option('-p, --priority <level>', 'high, medium, low or none')
  .option('-n, --notes <text>', 'new notes ("" clears)')
  .option('-u, --url <url>', 'new link, or none')
  .option('--flagged <bool>', 'true or false')
  .option('-r, --repeat <rule>', 'new recurrence, or none')
  .option('-t, --tag <tag>', 'replace the tags (repeatable)', collect)
  .action(async (id: string, options) => {
    const { reminders, paint, format } = await open();
    const patch: UpdateReminderInput = {};
    const title = options.title ?? options.name;
    if (title !== undefined) patch.title = title;
    if (options.list !== undefined) patch.list = options.list;
    if (options.due !== undefined) patch.due = options.due === 'none' ? null : options.due;
    if (options.priority !== undefined) patch.priority = options.priority;
    if (options.notes !== undefined) patch.notes = options.notes;
    if (options.url !== undefined) patch.url = options.url === 'none' ? null : options.url;
    if (options.flagged !== undefined) patch.flagged = parseBoolean(options.flagged, '--flagged');
    if (options.repeat !== undefined) patch.repeat = options.repeat === 'none' ? null : options.repeat;
    if (options.tag !== undefined) patch.tags = options.tag;
    if (Object.keys(patch).length === 0) {
      usage(
        'nothing to change: give at least one of --title, --list, --due, --priority, --notes, --url, --flagged, --repeat, --tag',
      );
    }
    printChanged('Updated', [await reminders.update(id, patch)], format, paint);
  });

program
  .command('complete')
  .alias('done')
  .description('mark reminders completed (every id is checked before any changes)')
  .argument('<ids...>', 'ids, unique prefixes or uids')
  .action(async (ids: string[]) => {
    const { reminders, paint, format } = await open();
    const result = await reminders.completeWithNext(ids);
    if (format === 'json') {
      print(JSON.stringify(result.completed, null, 2));
      return;
    }
    printChanged('Completed', result.completed, format, paint);
    for (const next of result.next) {
      if (format === 'plain') print(`${next.id}\t${next.title}`);
      else
        print(`Next ${paint.dim(next.id)} ${next.title} ${paint.dim(`(due ${humanDue(next, new Date())})`)}`);
    }
  });

program
  .command('uncomplete')
  .description('mark reminders not completed')
  .argument('<ids...>', 'ids, unique prefixes or uids')
  .action(async (ids: string[]) => {
    const { reminders, paint, format } = await open();
    printChanged('Reopened', await reminders.uncomplete(ids), format, paint);
  });

program
  .command('delete')
  .aliases(['rm', 'remove'])
  .description('delete reminders (asks first unless --force)')
  .argument('<ids...>', 'ids, unique prefixes or uids')
  .option('--force', 'do not ask')
  .action(async (ids: string[], options) => {
    const { reminders, paint, format } = await open();
    const targets = await reminders.resolve(ids);
    if (!options.force) {
      const names = targets.map((reminder) => `"${reminder.title}"`).join(', ');
      if (!process.stdin.isTTY) usage(`refusing to delete ${names} without --force (no terminal to ask)`);
      if (!(await confirm(`Delete ${names}?`))) {
        process.stderr.write('Nothing deleted.\n');
        return;
      }
    }
    printChanged('Deleted', await reminders.delete(targets.map((reminder) => reminder.uid)), format, paint);
  });

program
  .command('lists')
  .description('show the lists')
  .option('-c, --count', 'with open and total counts')
  .action(async (options) => {
    const { reminders, paint, format } = await open();
    print(renderLists(await reminders.lists(), format, paint, Boolean(options.count)));
  });

const listManagement = program.command('list-mgmt').alias('lm').description('create, rename or delete lists');
listManagement
  .command('create')
  .argument('<name>', 'the new list')
  .description('create a list')
  .action(async (name: string) => {
    const { reminders, format } = await open();
    const list = await reminders.createList(name);
    print(format === 'json' ? JSON.stringify(list, null, 2) : `Created list ${list.name}`);
  });
listManagement
  .command('rename')
  .argument('<name>', 'the list')
  .argument('<new-name>', 'its new name')
  .description('rename a list')
  .action(async (name: string, newName: string) => {
    const { reminders, format } = await open();
    const list = await reminders.renameList(name, newName);
    print(format === 'json' ? JSON.stringify(list, null, 2) : `Renamed list ${name} to ${list.name}`);
  });
listManagement
  .command('delete')
  .argument('<name>', 'the list')
  .option('--force', 'do not ask')
  .description('delete a list and its reminders (asks first unless --force)')
  .action(async (name: string, options) => {
    const { reminders, format } = await open();
    if (!options.force) {
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
    print(
      format === 'json'
        ? JSON.stringify(result, null, 2)
        : `Deleted list ${result.name} (${result.deleted} reminders)`,
    );
  });

program
  .command('search')
  .description('find reminders by words in the title, notes or tags')
  .argument('<words...>', 'words that must all appear')
  .option('-l, --list <name>', 'only this list')
  .option('--incomplete', 'only open ones')
  .action(async (words: string[], options) =>
    showList((reminders) => reminders.search(words.join(' '), listFilter(options))),
  );

program
  .command('stats')
  .description('counts, completion and per-list breakdown')
  .action(async () => {
    const { reminders, paint, format } = await open();
    print(renderStats(await reminders.stats(), format, paint));
  });

program
  .command('today')
  .description('open reminders due today')
  .action(async () => showList((reminders) => reminders.today()));

program
  .command('overdue')
  .description('open reminders past due')
  .action(async () => showList((reminders) => reminders.overdue()));

program
  .command('upcoming')
  .description('open reminders due in the next days')
  .option('--days <n>', 'how many days ahead', '7')
  .action(async (options) => {
    if (!/^\d+$/.test(options.days)) usage(`--days must be a whole number, got "${options.days}"`);
    await showList((reminders) => reminders.upcoming(Number(options.days)));
  });

program
  .command('export')
  .description('write reminders as JSON, CSV or iCalendar')
  .addOption(new Option('--format <format>', 'file format').choices(['json', 'csv', 'ics']).default('json'))
  .option('--output-file <path>', 'write here instead of stdout')
  .option('-l, --list <name>', 'only this list')
  .option('--incomplete', 'only open ones')
  .action(async (options) => {
    const { reminders } = await open();
    const { toCsv, toIcs } = await import('./transfer.js');
    const chosen = await reminders.list(listFilter(options));
    const text =
      options.format === 'csv'
        ? toCsv(chosen)
        : options.format === 'ics'
          ? await toIcs(chosen)
          : `${JSON.stringify(chosen, null, 2)}\n`;
    if (options.outputFile) {
      await writeFile(options.outputFile, text);
      process.stderr.write(`Exported ${chosen.length} reminders to ${options.outputFile}\n`);
    } else {
      process.stdout.write(text);
    }
  });

program
  .command('import')
  .description(
    'add reminders from a JSON, CSV or iCalendar file ("-" reads stdin); every entry is checked first',
  )
  .argument('<file>', 'the file')
  .option('--dry-run', 'show what would be added, add nothing')
  .option('-l, --list <name>', 'put every entry in this list')
  .addOption(
    new Option('--format <format>', 'file format (default: from the name or content)').choices([
      'json',
      'csv',
      'ics',
    ]),
  )
  .action(async (file: string, options) => {
    const { reminders, paint, format } = await open();
    const { detectFormat, parseImport } = await import('./transfer.js');
    let text: string;
    try {
      text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
    } catch (error) {
      throw new RemError('REM_INVALID_INPUT', `cannot read ${file}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const entries = await parseImport(
      text,
      options.format ?? detectFormat(file === '-' ? '' : basename(file), text),
    );
    if (options.list !== undefined) for (const entry of entries) entry.list = options.list;
    const result = await reminders.addMany(entries, { dryRun: Boolean(options.dryRun) });
    if (format === 'json') return print(JSON.stringify(result, null, 2));
    print(renderReminders(result.created, format, paint, new Date()));
    for (const skipped of result.skipped)
      process.stderr.write(`skipped "${skipped.title}": ${skipped.reason}\n`);
    process.stderr.write(
      `${result.dryRun ? 'Would import' : 'Imported'} ${result.created.length} reminders${result.skipped.length ? `, skipped ${result.skipped.length}` : ''}\n`,
    );
  });

program
  .command('completion')
  .description('print a completion script: source <(rem completion bash)')
  .argument('<shell>', 'bash, zsh or fish')
  .action((shell: string) => {
    process.stdout.write(completionScript(shell));
  });

program
  .command('mcp')
  .description('serve the reminder operations to agents over MCP on stdio')
  .action(async () => {
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
  });

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function reportError(error: unknown): number {
  const json = program.opts<GlobalOptions>().output === 'json';
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
    await program.parseAsync();
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are exits of their own; every other commander error is a usage mistake.
      return error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.exitCode === 0
        ? 0
        : 2;
    }
    return reportError(error);
  } finally {
    await session?.reminders.close().catch(() => undefined);
  }
}

// A reader that stops early (`rem ls | head`) is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await main();
