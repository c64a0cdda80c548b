import { createSseParser, type SseEvent } from '@ballast/core';
import type { MockProvider } from '@ballast/mock-provider';
import type { DashboardState } from '@ballast/proxy';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken, agentHistory, type KillswitchStack, startDashboardStack } from './support.js';

let stack: KillswitchStack;
let provider: MockProvider;
let url: string;

beforeAll(async () => {
  stack = await startDashboardStack({ input: 1, output: 2, maxOutputTokens: 1000 }, 0.5);
  ({ provider, url } = stack);
  provider.setDefaultReply({ kind: 'text', text: 'ok', usage: { outputTokens: 100 } });
});

afterAll(async () => {
  await stack.close();
});

const client = (session: string) =>
  new OpenAI({
    apiKey: 'local',
    baseURL: `${url}/v1`,
    maxRetries: 0,
    defaultHeaders: { 'x-ballast-session': session, 'x-ballast-agent': 'coder' },
  });

type Message = OpenAI.Chat.Completions.ChatCompletionMessageParam;

const ask = (session: string, messages: Message[]) =>
  client(session).chat.completions.create({ model: 'mock-model', max_tokens: 100, messages });

const admin = (path: string, body: unknown) =>
  fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

async function readState(): Promise<DashboardState> {
  return (await (await fetch(`${url}/dashboard/state`)).json()) as DashboardState;
}

describe('the proxy dashboard with @ballast/killswitch and @ballast/memory', () => {
  describe('when an agent session made calls', () => {
    it("shows one session with the killswitch's spend and steps and memory's tokens saved", async () => {
      await ask('dash-agent', agentHistory(1));
      await ask('dash-agent', agentHistory(10));
      const state = await readState();
      const session = state.sessions.find((candidate) => candidate.session === 'dash-agent');
      expect(session).toMatchObject({
        session: 'dash-agent',
        agent: 'coder',
        budgetUsd: 0.5,
        steps: 2,
        maxSteps: 20,
        inFlight: 0,
        killed: false,
        lastDecision: 'allowed',
      });
      expect(session?.spendUsd).toBeGreaterThan(0);
      expect(session?.spendUsd).toBeLessThan(0.5);
      expect(session?.tokensSaved).toBeGreaterThan(1000);
      expect(session?.tokensSent).toBe((session?.tokensFullHistory ?? 0) - (session?.tokensSaved ?? 0));
      expect(state.totals.tokensSaved).toBeGreaterThanOrEqual(session?.tokensSaved ?? 0);
      expect(state.plugins).toEqual(['memory', 'killswitch']);
      expect(state.adminActions).toBe(true);
    });
  });

  describe('when an operator kills a session and it calls again', () => {
    it('shows it killed, with the kill and one denial in the events, then revived', async () => {
      await ask('dash-runaway', agentHistory(1));
      expect((await admin('/admin/kill', { session: 'dash-runaway', reason: 'looping' })).status).toBe(200);
      await expect(ask('dash-runaway', agentHistory(1))).rejects.toMatchObject({
        status: 403,
        code: 'killed',
      });
      let state = await readState();
      expect(state.sessions.find((session) => session.session === 'dash-runaway')).toMatchObject({
        killed: true,
        lastDecision: 'killed',
      });
      const mine = state.events.filter((event) => event.session === 'dash-runaway');
      // The killswitch and the proxy both saw the denial: it is listed once.
      expect(mine.map((event) => [event.kind, event.code, event.plugin])).toEqual([
        ['denial', 'killed', 'killswitch'],
        ['kill', 'killed', 'killswitch'],
      ]);
      expect((await admin('/admin/revive', { session: 'dash-runaway' })).status).toBe(200);
      state = await readState();
      expect(state.sessions.find((session) => session.session === 'dash-runaway')?.killed).toBe(false);
      expect(state.events[0]).toMatchObject({ kind: 'revive', session: 'dash-runaway' });
    });
  });

  describe('when a dashboard listens on /dashboard/events', () => {
    it('gets the state, then one with the new session after its call', async () => {
      const controller = new AbortController();
      const response = await fetch(`${url}/dashboard/events`, { signal: controller.signal });
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      const parser = createSseParser();
      const queue: SseEvent[] = [];
      const nextState = async (): Promise<DashboardState> => {
        for (;;) {
          const event = queue.shift();
          if (event?.event === 'state') return JSON.parse(event.data) as DashboardState;
          if (event) continue;
          const { value, done } = await reader.read();
          if (done) throw new Error('the event stream ended');
          queue.push(...parser.push(value));
        }
      };
      try {
        const first = await nextState();
        expect(first.sessions.some((session) => session.session === 'dash-live')).toBe(false);
        await ask('dash-live', agentHistory(1));
        let next = await nextState();
        while (!next.sessions.some((session) => session.session === 'dash-live' && session.steps === 1))
          next = await nextState();
        expect(next.sessions[0]).toMatchObject({ session: 'dash-live', steps: 1, lastDecision: 'allowed' });
      } finally {
        controller.abort();
      }
    });
  });
});
