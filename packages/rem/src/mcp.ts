import { BallastError } from '@ballast/core/errors';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { AddReminderInput, ListFilter, Reminders, UpdateReminderInput } from './reminders.js';
import { detectFormat, parseImport, toCsv, toIcs } from './transfer.js';

/** Options of {@link createRemMcpServer}. */
export interface RemMcpOptions {
  reminders: Reminders;
  /** The server name agents see. @default 'rem' */
  name?: string;
}

const priority = z
  .union([z.enum(['high', 'medium', 'low', 'none']), z.number().int().min(0).max(9)])
  .describe('high, medium, low, none, or iCalendar 0-9');
const due = z
  .string()
  .describe('ISO 8601 or natural language: "tomorrow 9am", "next fri 3pm", "in 2h", eod, eow');
const ids = z.array(z.string().min(1)).min(1).describe('ids, unique id prefixes or uids');
const filterShape = {
  list: z.string().optional().describe('only this list'),
  incomplete: z.boolean().optional(),
  completed: z.boolean().optional(),
  flagged: z.boolean().optional(),
  dueBefore: due.optional(),
  dueAfter: due.optional(),
  search: z.string().optional().describe('words that must all appear in title, notes or tags'),
};

function clean<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}

function succeed(data: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(data) }], structuredContent: data };
}

async function run(work: () => Promise<Record<string, unknown>>): Promise<CallToolResult> {
  try {
    return succeed(await work());
  } catch (error) {
    const code = BallastError.isInstance(error) ? error.code : 'REM_INTERNAL';
    const message = error instanceof Error ? error.message : String(error);
    return { isError: true, content: [{ type: 'text', text: `${code}: ${message}` }] };
  }
}

/**
 * An MCP server with every `rem` operation as a tool. Annotations are honest: reads are
 * read-only, deletes destructive, and the open-world hint is set only for a CalDAV backend.
 * @param options the reminders library to serve
 * @returns the server, ready to connect to a transport
 * @example
 * ```ts
 * const server = createRemMcpServer({ reminders });
 * await server.connect(new StdioServerTransport());
 * ```
 */
export function createRemMcpServer(options: RemMcpOptions): McpServer {
  const { reminders } = options;
  const server = new McpServer({ name: options.name ?? 'rem', version: '0.1.0' });
  const openWorldHint = reminders.backend.name === 'caldav';
  const readOnly = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint };
  const write = (destructiveHint: boolean, idempotentHint: boolean) => ({
    readOnlyHint: false,
    destructiveHint,
    idempotentHint,
    openWorldHint,
  });

  server.registerTool(
    'list_reminders',
    {
      title: 'List reminders',
      description:
        'Reminders matching filters, open ones first, by due date. Each has a short `id`; any unique prefix of it works in other tools.',
      inputSchema: filterShape,
      annotations: { title: 'List reminders', ...readOnly },
    },
    (args) =>
      run(async () => {
        const found = await reminders.list(clean(args) as ListFilter);
        return { count: found.length, reminders: found };
      }),
  );

  server.registerTool(
    'get_reminder',
    {
      title: 'Show a reminder',
      description: 'Every field of one reminder.',
      inputSchema: { id: z.string().min(1).describe('id, unique id prefix or uid') },
      annotations: { title: 'Show a reminder', ...readOnly },
    },
    (args) => run(async () => ({ reminder: await reminders.get(args.id) })),
  );

  server.registerTool(
    'add_reminder',
    {
      title: 'Add a reminder',
      description: 'Creates a reminder. Without `list` it goes to the default list.',
      inputSchema: {
        title: z.string().min(1),
        list: z.string().optional(),
        due: due.optional(),
        priority: priority.optional(),
        notes: z.string().optional(),
        url: z.string().optional(),
        flagged: z.boolean().optional(),
        tags: z.array(z.string()).optional(),
        repeat: z
          .string()
          .optional()
          .describe('daily, weekly, monthly, yearly, weekdays, "every 2 weeks" or an RRULE'),
      },
      annotations: { title: 'Add a reminder', ...write(false, false) },
    },
    (args) => run(async () => ({ reminder: await reminders.add(clean(args) as AddReminderInput) })),
  );

  server.registerTool(
    'update_reminder',
    {
      title: 'Change a reminder',
      description: 'Changes the given fields; `null` clears due, notes, url or repeat. `list` moves it.',
      inputSchema: {
        id: z.string().min(1),
        title: z.string().min(1).optional(),
        list: z.string().optional(),
        due: due.nullable().optional(),
        priority: priority.optional(),
        notes: z.string().nullable().optional(),
        url: z.string().nullable().optional(),
        flagged: z.boolean().optional(),
        tags: z.array(z.string()).optional(),
        repeat: z.string().nullable().optional(),
      },
      annotations: { title: 'Change a reminder', ...write(true, true) },
    },
    (args) =>
      run(async () => {
        const { id, ...patch } = args;
        return { reminder: await reminders.update(id, clean(patch) as UpdateReminderInput) };
      }),
  );

  server.registerTool(
    'complete_reminders',
    {
      title: 'Complete reminders',
      description:
        'Marks reminders completed. Every id is resolved first; if one is unknown or ambiguous nothing changes.',
      inputSchema: { ids },
      annotations: { title: 'Complete reminders', ...write(false, true) },
    },
    (args) =>
      run(async () => {
        const result = await reminders.completeWithNext(args.ids);
        return { reminders: result.completed, next: result.next };
      }),
  );

  server.registerTool(
    'uncomplete_reminders',
    {
      title: 'Reopen reminders',
      description: 'Marks reminders not completed. Every id is resolved first.',
      inputSchema: { ids },
      annotations: { title: 'Reopen reminders', ...write(false, true) },
    },
    (args) => run(async () => ({ reminders: await reminders.uncomplete(args.ids) })),
  );

  server.registerTool(
    'delete_reminders',
    {
      title: 'Delete reminders',
      description:
        'Deletes reminders for good. Every id is resolved first; if one is unknown or ambiguous nothing is deleted.',
      inputSchema: { ids },
      annotations: { title: 'Delete reminders', ...write(true, true) },
    },
    (args) => run(async () => ({ deleted: await reminders.delete(args.ids) })),
  );

  server.registerTool(
    'search_reminders',
    {
      title: 'Search reminders',
      description: 'Reminders whose title, notes or tags hold every word of the query.',
      inputSchema: {
        query: z.string().min(1),
        list: z.string().optional(),
        incomplete: z.boolean().optional(),
      },
      annotations: { title: 'Search reminders', ...readOnly },
    },
    (args) =>
      run(async () => {
        const { query, ...filter } = args;
        const found = await reminders.search(query, clean(filter) as ListFilter);
        return { count: found.length, reminders: found };
      }),
  );

  server.registerTool(
    'list_lists',
    {
      title: 'Reminder lists',
      description: 'Every list with its open and total counts.',
      inputSchema: {},
      annotations: { title: 'Reminder lists', ...readOnly },
    },
    () =>
      run(async () => ({
        lists: (await reminders.lists()).map((list) => ({
          name: list.name,
          color: list.color,
          total: list.total,
          incomplete: list.incomplete,
        })),
      })),
  );

  server.registerTool(
    'create_list',
    {
      title: 'Create a list',
      description: 'Creates an empty list.',
      inputSchema: { name: z.string().min(1) },
      annotations: { title: 'Create a list', ...write(false, false) },
    },
    (args) => run(async () => ({ list: await reminders.createList(args.name) })),
  );

  server.registerTool(
    'rename_list',
    {
      title: 'Rename a list',
      description: 'Renames a list; its reminders stay in it.',
      inputSchema: { name: z.string().min(1), newName: z.string().min(1) },
      annotations: { title: 'Rename a list', ...write(false, true) },
    },
    (args) => run(async () => ({ list: await reminders.renameList(args.name, args.newName) })),
  );

  server.registerTool(
    'delete_list',
    {
      title: 'Delete a list',
      description: 'Deletes a list and every reminder in it, for good.',
      inputSchema: { name: z.string().min(1) },
      annotations: { title: 'Delete a list', ...write(true, true) },
    },
    (args) => run(async () => await reminders.deleteList(args.name)),
  );

  server.registerTool(
    'reminder_stats',
    {
      title: 'Reminder statistics',
      description: 'Totals, completion rate, overdue and due-today counts, per list.',
      inputSchema: {},
      annotations: { title: 'Reminder statistics', ...readOnly },
    },
    () => run(async () => ({ ...(await reminders.stats()) })),
  );

  for (const [name, title, description, load] of [
    ['today_reminders', 'Due today', 'Open reminders due today.', () => reminders.today()],
    ['overdue_reminders', 'Overdue', 'Open reminders past their due time.', () => reminders.overdue()],
  ] as const) {
    server.registerTool(
      name,
      { title, description, inputSchema: {}, annotations: { title, ...readOnly } },
      () =>
        run(async () => {
          const found = await load();
          return { count: found.length, reminders: found };
        }),
    );
  }

  server.registerTool(
    'upcoming_reminders',
    {
      title: 'Upcoming',
      description: 'Open reminders due from now through the next `days` days.',
      inputSchema: { days: z.number().int().min(1).max(366).default(7) },
      annotations: { title: 'Upcoming', ...readOnly },
    },
    (args) =>
      run(async () => {
        const found = await reminders.upcoming(args.days);
        return { count: found.length, reminders: found };
      }),
  );

  server.registerTool(
    'export_reminders',
    {
      title: 'Export reminders',
      description: 'Reminders matching filters as JSON, CSV or iCalendar text.',
      inputSchema: { format: z.enum(['json', 'csv', 'ics']).default('json'), ...filterShape },
      annotations: { title: 'Export reminders', ...readOnly },
    },
    (args) =>
      run(async () => {
        const { format, ...filter } = args;
        const found = await reminders.list(clean(filter) as ListFilter);
        const text =
          format === 'csv' ? toCsv(found) : format === 'ics' ? await toIcs(found) : JSON.stringify(found);
        return { format, count: found.length, text };
      }),
  );

  server.registerTool(
    'import_reminders',
    {
      title: 'Import reminders',
      description:
        'Adds reminders from JSON, CSV or iCalendar text. Every entry is checked before any is added; entries whose uid exists are skipped. Use dryRun to preview.',
      inputSchema: {
        text: z.string().min(1),
        format: z.enum(['json', 'csv', 'ics']).optional().describe('default: guessed from the text'),
        list: z.string().optional().describe('put every entry in this list'),
        dryRun: z.boolean().default(false),
      },
      annotations: { title: 'Import reminders', ...write(false, false) },
    },
    (args) =>
      run(async () => {
        const entries = await parseImport(args.text, args.format ?? detectFormat('', args.text));
        if (args.list !== undefined) for (const entry of entries) entry.list = args.list;
        return { ...(await reminders.addMany(entries, { dryRun: args.dryRun })) };
      }),
  );

  return server;
}
