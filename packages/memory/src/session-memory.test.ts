import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChatMessage, countMessageTokens } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { createSessionMemory } from './session-memory.js';
import { createInMemoryStore } from './store/memory.js';
import { createSqliteMemoryStore } from './store/sqlite.js';
import type { BuiltContext, Turn } from './types.js';

const chat = (context: BuiltContext): ChatMessage[] =>
  context.messages.map((message) => ({
    role: message.role,
    content: [{ type: 'text', text: message.content }],
    ...(message.name === undefined ? {} : { name: message.name }),
  }));

/** A scripted coding session: task, tool calls with large outputs, decisions, a constraint. */
function codingSession(steps: number): Turn[] {
  const turns: Turn[] = [
    { id: 's0', role: 'system', content: 'You are a careful coding agent.' },
    {
      id: 'u0',
      role: 'user',
      content: 'Fix the failing date test in src/parse.ts. Do not change the public API.',
    },
  ];
  for (let step = 1; step <= steps; step += 1) {
    turns.push({
      id: `a${step}`,
      role: 'assistant',
      content: `Reading src/module${step}.ts to find the parser.`,
    });
    const lines = Array.from(
      { length: 150 },
      (_, line) =>
        `line ${line}: export function helper${step}_${line}(input: string) { return input.trim(); }`,
    );
    turns.push({ id: `t${step}`, role: 'tool', name: 'read_file', content: lines.join('\n') });
    if (step === 3) {
      turns.push({
        id: 'd1',
        role: 'assistant',
        content:
          'We decided to use date-fns instead of moment. The failing case is error E4021 in src/parse.ts.',
      });
    }
    if (step === 5) turns.push({ id: 'c1', role: 'user', content: 'Also, never touch the lockfile.' });
  }
  turns.push({ id: 'last', role: 'user', content: 'What is left to do?' });
  return turns;
}

describe('createSessionMemory', () => {
  describe('when the session outgrows the budget', () => {
    it('never exceeds the budget, counted with core’s tokenizer, at any budget', async () => {
      const turns = codingSession(12);
      for (const budget of [200, 600, 1500, 4000]) {
        const memory = createSessionMemory({ store: createInMemoryStore() });
        for (const turn of turns) {
          await memory.append('s', [turn]);
          const context = await memory.buildContext('s', { budgetTokens: budget });
          const counted = countMessageTokens(chat(context), 'gpt-4o').tokens;
          expect(counted).toBe(context.tokens);
          expect(counted).toBeLessThanOrEqual(budget);
        }
      }
    });

    it('keeps the pinned task, the decision, the constraint and the files, each with its source turn', async () => {
      const memory = createSessionMemory({ store: createInMemoryStore() });
      await memory.append('s', codingSession(12));
      const context = await memory.buildContext('s', { budgetTokens: 2000 });
      const text = context.messages.map((message) => message.content).join('\n');
      expect(context.fullHistoryTokens).toBeGreaterThan(10 * context.tokens);
      expect(text).toContain('You are a careful coding agent.');
      expect(text).toContain('Fix the failing date test in src/parse.ts');
      expect(text).toContain('date-fns instead of moment');
      expect(text).toContain('never touch the lockfile');
      expect(text).toContain('E4021');
      // The task itself is pinned; among the archived turns the file was first named in d1.
      const decision = context.items.find((item) => item.kind === 'decision');
      expect(decision?.sourceTurnIds).toEqual(['d1']);
      const constraint = context.items.find((item) => item.text.includes('lockfile'));
      expect(constraint?.sourceTurnIds).toEqual(['c1']);
      expect(
        context.items.find((item) => item.kind === 'entity' && item.text.includes('src/parse.ts'))
          ?.sourceTurnIds,
      ).toEqual(['d1']);
      for (const item of context.items) expect(item.sourceTurnIds.length).toBeGreaterThan(0);
      expect(context.sourceTurnIds).toEqual(expect.arrayContaining(['s0', 'u0', 'd1', 'c1', 'last']));
    });

    it('sends the newest turns verbatim, in order, at the end', async () => {
      const memory = createSessionMemory({ store: createInMemoryStore() });
      const turns = codingSession(12);
      await memory.append('s', turns);
      const context = await memory.buildContext('s', { budgetTokens: 2000 });
      const tail = context.messages.slice(-context.recentTurnIds.length);
      const byId = new Map(turns.map((turn) => [turn.id, turn]));
      expect(context.recentTurnIds.at(-1)).toBe('last');
      tail.forEach((message, index) => {
        expect(message.content).toBe(byId.get(context.recentTurnIds[index] as string)?.content);
      });
      expect(tail[0]?.role).not.toBe('tool');
    });

    it('cuts archived tool outputs to head and tail with a pointer to the turn', async () => {
      const memory = createSessionMemory({
        store: createInMemoryStore(),
        policy: { compressedShare: 0.3, stateShare: 0.1 },
      });
      await memory.append('s', codingSession(12));
      const context = await memory.buildContext('s', { budgetTokens: 3000 });
      expect(context.messages[0]?.content).toMatch(/lines omitted; full text in turn t\d+/);
    });

    it('cuts a single turn larger than the whole budget instead of failing', async () => {
      const memory = createSessionMemory({ store: createInMemoryStore() });
      await memory.append('s', [{ id: 'huge', role: 'user', content: 'word '.repeat(5000) }]);
      const context = await memory.buildContext('s', { budgetTokens: 300 });
      expect(context.tokens).toBeLessThanOrEqual(300);
      expect(context.messages.at(-1)?.content).toContain('omitted; full text in turn huge');
    });
  });

  describe('when the same prefix can be reused', () => {
    it('changes the prefix only at compaction steps and reports the share of unchanged prefixes', async () => {
      const memory = createSessionMemory({ store: createInMemoryStore() });
      const hashes: string[] = [];
      for (let index = 0; index < 200; index += 1) {
        await memory.append('s', [
          {
            id: `m${index}`,
            role: index % 2 ? 'assistant' : 'user',
            content: `Message ${index} about topic ${index % 7} with some detail.`,
          },
        ]);
        hashes.push((await memory.buildContext('s', { budgetTokens: 800 })).prefixHash);
      }
      const changes = hashes.filter((hash, index) => index > 0 && hash !== hashes[index - 1]).length;
      const stats = await memory.stats('s');
      expect(stats.compactions).toBeGreaterThan(3);
      expect(changes).toBe(stats.compactions);
      expect(stats.prefixUnchangedShare).toBeCloseTo((199 - changes) / 199, 5);
      expect(stats.prefixUnchangedShare).toBeGreaterThan(0.8);
    });

    it('gives two replicas sharing a SQLite store the same context', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'ballast-memory-'));
      try {
        const first = createSessionMemory({
          store: await createSqliteMemoryStore({ path: join(dir, 'm.db') }),
        });
        const second = createSessionMemory({
          store: await createSqliteMemoryStore({ path: join(dir, 'm.db') }),
        });
        const turns = codingSession(10);
        await first.append('s', turns.slice(0, 15));
        await second.append('s', turns);
        const fromFirst = await first.buildContext('s', { budgetTokens: 1500 });
        const fromSecond = await second.buildContext('s', { budgetTokens: 1500 });
        expect(fromSecond.messages).toEqual(fromFirst.messages);
        await first.close();
        await second.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('when given a query', () => {
    it('retrieves the archived turn that answers it', async () => {
      const memory = createSessionMemory({ store: createInMemoryStore() });
      const turns: Turn[] = [
        {
          id: 'fact',
          role: 'user',
          content: 'My dog is called Biscuit and she loves the beach at Saltburn.',
        },
      ];
      for (let index = 0; index < 120; index += 1) {
        turns.push({
          id: `n${index}`,
          role: index % 2 ? 'assistant' : 'user',
          content: `Unrelated chatter number ${index} about the weather and trains.`,
        });
      }
      await memory.append('s', turns);
      const without = await memory.buildContext('s', { budgetTokens: 500, query: 'trains' });
      const context = await memory.buildContext('s', {
        budgetTokens: 500,
        query: 'What is the name of my dog?',
      });
      expect(context.sourceTurnIds).toContain('fact');
      expect(context.messages.map((message) => message.content).join('\n')).toContain('Biscuit');
      expect(context.parts.retrieved).toBeGreaterThan(0);
      expect(without.tokens).toBeLessThanOrEqual(500);
    });
  });

  describe('search', () => {
    it('ranks the matching turns first with their relevant sentence', async () => {
      const memory = createSessionMemory({ store: createInMemoryStore() });
      await memory.append('s', codingSession(6));
      const hits = await memory.search('s', 'date-fns moment decision', { limit: 3 });
      expect(hits[0]?.turnId).toBe('d1');
      expect(hits[0]?.snippet).toContain('date-fns');
      await expect(memory.search('s', 'x', { limit: 0 })).rejects.toMatchObject({
        code: 'MEMORY_INVALID_OPTIONS',
      });
    });
  });

  describe('with a summarize hook', () => {
    it('adds its items with their sources, within the budget', async () => {
      const memory = createSessionMemory({
        store: createInMemoryStore(),
        summarize: (turns) => [
          {
            kind: 'summary',
            text: `Read ${turns.length} turns of source files.`,
            sourceTurnIds: [turns[0]?.id as string],
          },
        ],
      });
      await memory.append('s', codingSession(12));
      const context = await memory.buildContext('s', { budgetTokens: 2000 });
      const summary = context.items.find((item) => item.kind === 'summary');
      expect(summary?.text).toMatch(/^Read \d+ turns/);
      expect(summary?.sourceTurnIds).toEqual(['s0']);
      expect(context.tokens).toBeLessThanOrEqual(2000);
    });

    it('keeps what a failed or dishonest summary was meant to replace, and counts the failure', async () => {
      for (const summarize of [
        () => {
          throw new Error('model down');
        },
        () => [{ kind: 'summary' as const, text: 'made up', sourceTurnIds: ['not-a-turn'] }],
      ]) {
        const memory = createSessionMemory({ store: createInMemoryStore(), summarize });
        const plain = createSessionMemory({ store: createInMemoryStore() });
        await memory.append('s', codingSession(12));
        await plain.append('s', codingSession(12));
        const context = await memory.buildContext('s', { budgetTokens: 2000 });
        const reference = await plain.buildContext('s', { budgetTokens: 2000 });
        expect(context.messages).toEqual(reference.messages);
        expect((await memory.stats('s')).failedSummaries).toBe(1);
      }
    });
  });

  describe('when given bad input', () => {
    it('names what is wrong', async () => {
      const memory = createSessionMemory({ store: createInMemoryStore() });
      await expect(memory.buildContext('s', { budgetTokens: 10 })).rejects.toMatchObject({
        code: 'MEMORY_INVALID_BUDGET',
      });
      await expect(memory.append('s', [{ id: '', role: 'user', content: 'x' }])).rejects.toMatchObject({
        code: 'MEMORY_INVALID_TURN',
        message: expect.stringContaining('turns[0].id'),
      });
      expect(() =>
        createSessionMemory({ store: createInMemoryStore(), policy: { recentMaxShare: 2 } }),
      ).toThrow(/recentMaxShare/);
      expect(() =>
        createSessionMemory({ store: createInMemoryStore(), policy: { nope: 1 } as never }),
      ).toThrow(/policy.nope/);
    });

    it('folds a repeated turn into the first time it was said', async () => {
      const memory = createSessionMemory({
        store: createInMemoryStore(),
        policy: { compressedShare: 0.3, stateShare: 0.1 },
      });
      const repeated =
        'The build failed again with the same TypeScript error in src/parse.ts line 42 column 7 during compilation.';
      const turns: Turn[] = [{ id: 'first', role: 'tool', content: repeated }];
      for (let index = 0; index < 6; index += 1) {
        turns.push({ id: `r${index}`, role: 'assistant', content: `Retrying build attempt ${index}.` });
        turns.push({ id: `again${index}`, role: 'tool', content: repeated });
      }
      for (let index = 0; index < 30; index += 1)
        turns.push({ id: `x${index}`, role: 'user', content: `More work item ${index}.` });
      await memory.append('s', turns);
      const context = await memory.buildContext('s', {
        budgetTokens: 600,
        query: 'TypeScript build error in src/parse.ts',
      });
      const text = context.messages.map((message) => message.content).join('\n');
      // Said seven times, shown in full once: the first time.
      expect(text.match(/column 7 during compilation/g)).toHaveLength(1);
      expect(context.sourceTurnIds).toContain('first');
      expect(context.sourceTurnIds.filter((id) => id.startsWith('again'))).toEqual([]);
    });
  });
});
