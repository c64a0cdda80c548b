import { describe, expect, it } from 'vitest';
import { createSessionMemory } from './session-memory.js';
import { createInMemoryStore } from './store/memory.js';
import type { Turn } from './types.js';

/**
 * Tool outputs that open with a short header line: each one's gist is that header, uncut, while
 * the answer sits in the lines below it. Every line shares the query's common words, so only the
 * rare name tells the right output apart.
 */
function sessionWithShortHeaders(): Turn[] {
  const turns: Turn[] = [
    { id: 's0', role: 'system', content: 'You are a careful agent.' },
    { id: 'u0', role: 'user', content: 'Read the service files and tell me about the deploy.' },
  ];
  for (let step = 1; step <= 12; step += 1) {
    turns.push({ id: `a${step}`, role: 'assistant', content: `Reading file ${step}.` });
    const lines = Array.from(
      { length: 80 },
      (_, line) => `setting_${step}_${line} = value ${line * step} on tuesday rotation window`,
    );
    if (step === 2) lines.splice(1, 0, 'the deploy key rotation owner is Margarethe from platform');
    turns.push({
      id: `t${step}`,
      role: 'tool',
      name: 'read_file',
      content: `Config ${step} of deploy service.\n${lines.join('\n')}`,
    });
  }
  turns.push({ id: 'last', role: 'user', content: 'Who owns the deploy key rotation?' });
  return turns;
}

describe('createSessionMemory', () => {
  describe('when a tool output in the state digest opens with a short header', () => {
    it('still retrieves the output for a query it answers', async () => {
      for (const budgetTokens of [900, 1500, 3000]) {
        const memory = createSessionMemory({ store: createInMemoryStore() });
        await memory.append('s', sessionWithShortHeaders());
        const context = await memory.buildContext('s', {
          budgetTokens,
          query: 'Who owns the deploy key rotation?',
        });
        // The output is in the digest of earlier turns, and its header alone is not the answer.
        expect(context.items.some((item) => item.kind === 'fact' && item.sourceTurnIds.includes('t2'))).toBe(
          true,
        );
        const text = context.messages.map((message) => message.content).join('\n');
        expect(text, `budget ${budgetTokens}`).toContain('Margarethe');
      }
    });
  });
});
