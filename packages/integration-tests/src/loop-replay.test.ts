// Normal conversations must never look like loops: 20 LoCoMo sessions replayed through the proxy
// with the official SDK, each turn a call carrying the growing history.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KillswitchStack, startKillswitchStack } from './support.js';

interface Turn {
  speaker: string;
  text: string;
}
interface Sample {
  conversation: Record<string, unknown> & { speaker_a: string };
}

const dataFile = fileURLToPath(
  new URL(
    `${process.env.BALLAST_LOCOMO_DIR ?? '../../../../shared/data/locomo'}/locomo-dev.json`,
    import.meta.url,
  ),
);
const available = existsSync(dataFile);

let stack: KillswitchStack | undefined;
beforeAll(async () => {
  if (available)
    stack = await startKillswitchStack({ loop: { repeats: 3, windowSeconds: 60, similarity: 0.95 } });
});
afterAll(async () => {
  await stack?.close();
});

describe('loop detection through ballast-proxy', () => {
  it.skipIf(!available)(
    `flags none of 20 normal LoCoMo conversations${available ? '' : ` (skipped: LoCoMo data expected at ${dataFile}; set BALLAST_LOCOMO_DIR)`}`,
    async () => {
      const target = stack as KillswitchStack;
      target.provider.setDefaultReply({ kind: 'text', text: 'ok' });
      // The dataset is read by path at test time, never copied (licence CC BY-NC).
      const samples = JSON.parse(readFileSync(dataFile, 'utf8')) as Sample[];
      const chats: Array<{ speaker: string; turns: Turn[] }> = [];
      for (const sample of samples) {
        for (const [key, value] of Object.entries(sample.conversation)) {
          if (/^session_\d+$/.test(key) && Array.isArray(value) && value.length >= 6) {
            chats.push({ speaker: sample.conversation.speaker_a, turns: value as Turn[] });
          }
        }
      }
      const selected = chats.slice(0, 20);
      expect(selected).toHaveLength(20);
      let calls = 0;
      const flags: string[] = [];
      await Promise.all(
        selected.map(async (chat, index) => {
          const client = target.client(`locomo-${index}`);
          const history: OpenAI.ChatCompletionMessageParam[] = [];
          for (const turn of chat.turns) {
            if (turn.speaker !== chat.speaker) {
              history.push({ role: 'assistant', content: turn.text });
              continue;
            }
            history.push({ role: 'user', content: turn.text });
            calls += 1;
            try {
              await client.chat.completions.create({
                model: 'mock-model',
                max_tokens: 50,
                messages: history,
              });
            } catch (error) {
              flags.push(`chat ${index} turn ${history.length}: ${(error as Error).message}`);
            }
          }
        }),
      );
      expect(flags).toEqual([]);
      expect(calls).toBeGreaterThan(200);
    },
  );
});
