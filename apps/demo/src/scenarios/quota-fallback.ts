import { defaultDataset } from '@ballast/mock-hasura';
import { runAgent } from '../agent.js';
import type { Scenario } from '../scenario.js';
import { MODELS } from '../stack.js';

const SESSION = 'demo-2-triage';
const AGENT = 'triage-bot';
const WAITING = { status: { _in: ['pending', 'paid'] } };

/** Scenario 2: the primary runs out of quota mid-session; the proxy moves the session on. */
export const fallbackScenario: Scenario = {
  number: 2,
  key: 'fallback',
  title: 'Quota fallback',
  why: 'ballast-proxy: the primary answers insufficient_quota mid-session; the secondary (another dialect) takes over.',
  async run(context) {
    const { stack } = context;
    if (stack.live) context.reporter.note('runs on the mock providers: it needs a quota error on cue');
    stack.primary.reset();
    stack.secondary.reset();
    stack.primary.script(
      {
        kind: 'tool-calls',
        text: 'First, how many orders are waiting.',
        calls: [
          {
            name: 'hasura_aggregate',
            arguments: { table: 'orders', count: true, sum: ['total'], where: WAITING },
          },
        ],
      },
      // Mid-session, the primary's account runs dry: OpenAI's 429 insufficient_quota.
      { kind: 'quota', retryAfterSeconds: 60 },
    );
    stack.secondary.script(
      {
        kind: 'tool-calls',
        text: 'Now the orders themselves.',
        calls: [
          {
            name: 'hasura_select',
            arguments: {
              table: 'orders',
              columns: ['id', 'status', 'total', 'customer.name'],
              where: WAITING,
              order_by: { id: 'asc' },
            },
          },
        ],
      },
      {
        kind: 'text',
        text: 'Four orders are waiting (two pending, two paid); the oldest is order 4 for Alan Turing.',
      },
    );

    const run = await runAgent({
      client: stack.openai(SESSION, AGENT),
      model: MODELS.small,
      system: 'You are triage-bot. Use the shop database tools.',
      task: 'Which orders are waiting to be shipped, and for whom? Start with how many there are.',
      toolbox: stack.toolbox,
      tools: ['hasura_select', 'hasura_aggregate'],
      maxSteps: 5,
      ...context.agentProgress(),
    });
    const [first, second, third] = run.steps;

    context.check('the agent finished: it never saw an error', run.stoppedBy === 'answer', run.stoppedBy);
    context.check(
      'call 1 was served by the primary',
      first?.headers.provider === 'primary' && first.headers.fallbacks === 0,
      first?.headers.provider,
    );
    const primaryStatuses = stack.primary.requests.length;
    context.check(
      'call 2: insufficient_quota on the primary, served by the secondary (fallbacks ≥ 1)',
      second?.headers.provider === 'secondary' &&
        second.headers.fallbacks >= 1 &&
        (second.headers.fallbackPath ?? '').includes('quota') &&
        primaryStatuses === 2,
      `${second?.headers.provider}, fallbacks ${second?.headers.fallbacks}, path ${second?.headers.fallbackPath}`,
    );
    context.check(
      'call 3 went to the secondary: the primary is skipped until its reset',
      third?.headers.provider === 'secondary' && stack.primary.requests.length === 2,
      `${third?.headers.provider}; primary saw ${stack.primary.requests.length} requests`,
    );
    const completions = run.steps.map((step) => step.completion);
    context.check(
      'every answer is a normal OpenAI ChatCompletion, tool calls included',
      completions.length === 3 &&
        completions.every(
          (completion) =>
            completion?.object === 'chat.completion' && completion.choices[0]?.message.role === 'assistant',
        ) &&
        second?.completion?.choices[0]?.finish_reason === 'tool_calls' &&
        second.tools[0]?.name === 'hasura_select' &&
        second.tools[0].ok,
      completions
        .map((completion) => `${completion?.object}/${completion?.choices[0]?.finish_reason}`)
        .join(' '),
    );
    context.check(
      'the secondary was spoken to in its own dialect (Anthropic /v1/messages)',
      stack.secondary.requests.length === 2 &&
        stack.secondary.requests.every((request) => request.dialect === 'anthropic'),
      stack.secondary.requests.map((request) => request.path).join(','),
    );
    const waiting = (defaultDataset().rows.orders ?? []).filter((row) =>
      ['pending', 'paid'].includes(String(row.status)),
    );
    context.check(
      'the tool results survived the switch (rows match the dataset)',
      (second?.tools[0]?.data as unknown[] | undefined)?.length === waiting.length,
      String((second?.tools[0]?.data as unknown[] | undefined)?.length),
    );

    return {
      outcome: 'primary out of quota at call 2; secondary served 2-3',
      calls: run.steps.length,
      sessions: [SESSION],
      usdSaved: 0,
    };
  },
};
