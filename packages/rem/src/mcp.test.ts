import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reminder } from './types.js';

const cliPath = fileURLToPath(new URL('../dist/cli.cjs', import.meta.url));

let root: string;
let client: Client;

async function call(name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

async function data<T>(name: string, args: Record<string, unknown> = {}): Promise<T> {
  const result = await call(name, args);
  expect(result.isError ?? false, JSON.stringify(result.content)).toBe(false);
  return result.structuredContent as T;
}

beforeAll(async () => {
  if (!existsSync(cliPath)) throw new Error(`build @ballast/rem first: ${cliPath} is missing`);
  root = await mkdtemp(join(tmpdir(), 'rem-mcp-'));
  client = new Client({ name: 'rem-test', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [cliPath, 'mcp'],
      env: { ...(process.env as Record<string, string>), REM_BACKEND: 'vdir', REM_VDIR: root },
      stderr: 'pipe',
    }),
  );
});

afterAll(async () => {
  await client?.close();
  await rm(root, { recursive: true, force: true });
});

describe('rem mcp', () => {
  describe('when an agent lists the tools', () => {
    it('offers every operation with honest annotations', async () => {
      const { tools } = await client.listTools();
      const byName = new Map(tools.map((tool) => [tool.name, tool]));
      for (const name of [
        'list_reminders',
        'get_reminder',
        'add_reminder',
        'update_reminder',
        'complete_reminders',
        'uncomplete_reminders',
        'delete_reminders',
        'search_reminders',
        'list_lists',
        'create_list',
        'rename_list',
        'delete_list',
        'reminder_stats',
        'today_reminders',
        'overdue_reminders',
        'upcoming_reminders',
        'export_reminders',
        'import_reminders',
      ]) {
        expect(byName.has(name), name).toBe(true);
      }
      expect(byName.get('list_reminders')?.annotations).toMatchObject({
        readOnlyHint: true,
        openWorldHint: false,
      });
      expect(byName.get('delete_reminders')?.annotations).toMatchObject({
        readOnlyHint: false,
        destructiveHint: true,
      });
      expect(byName.get('add_reminder')?.annotations).toMatchObject({
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
      });
      expect(byName.get('complete_reminders')?.annotations).toMatchObject({
        destructiveHint: false,
        idempotentHint: true,
      });
    });
  });

  describe('when an agent works through a task', () => {
    it('adds, finds, completes and deletes reminders', async () => {
      await data('create_list', { name: 'Errands' });
      const { reminder } = await data<{ reminder: Reminder }>('add_reminder', {
        title: 'Buy stamps',
        list: 'Errands',
        due: 'tomorrow 10am',
        priority: 'medium',
      });
      expect(reminder).toMatchObject({
        title: 'Buy stamps',
        list: 'Errands',
        priorityLabel: 'medium',
        allDay: false,
      });
      const found = await data<{ count: number; reminders: Reminder[] }>('search_reminders', {
        query: 'stamps',
      });
      expect(found.reminders.map((item) => item.id)).toEqual([reminder.id]);
      const completed = await data<{ reminders: Reminder[] }>('complete_reminders', {
        ids: [reminder.id.slice(0, 5)],
      });
      expect(completed.reminders[0]?.completed).toBe(true);
      const stats = await data<{ completed: number }>('reminder_stats');
      expect(stats.completed).toBe(1);
      const deleted = await data<{ deleted: Reminder[] }>('delete_reminders', { ids: [reminder.id] });
      expect(deleted.deleted.length).toBe(1);
      expect((await data<{ count: number }>('list_reminders')).count).toBe(0);
    });

    it('answers a bad id or date with a tool error that says what would work', async () => {
      const unknown = await call('complete_reminders', { ids: ['ffffffff'] });
      expect(unknown.isError).toBe(true);
      expect(JSON.stringify(unknown.content)).toContain('REM_NOT_FOUND');
      const badDate = await call('add_reminder', { title: 'x', due: 'someday maybe' });
      expect(badDate.isError).toBe(true);
      expect(JSON.stringify(badDate.content)).toContain('REM_BAD_DATE');
      expect((await data<{ count: number }>('list_reminders')).count).toBe(0);
    });

    it('imports with a dry run first, then for real', async () => {
      const text = JSON.stringify([{ title: 'Imported one' }, { title: 'Imported two', priority: 'high' }]);
      const dry = await data<{ created: Reminder[]; dryRun: boolean }>('import_reminders', {
        text,
        dryRun: true,
      });
      expect(dry.created.length).toBe(2);
      expect((await data<{ count: number }>('list_reminders')).count).toBe(0);
      await data('import_reminders', { text });
      const exported = await data<{ text: string; count: number }>('export_reminders', { format: 'csv' });
      expect(exported.count).toBe(2);
      expect(exported.text).toContain('Imported two');
    });
  });
});
