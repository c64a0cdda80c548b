import { countRequestTokens, parseRequest } from '@ballast/core';
import type { MockReply, RecordedRequest } from '@ballast/mock-provider';
import { denialOf, gatewayHeaders, runAgent } from '../agent.js';
import type { Scenario, ScenarioContext } from '../scenario.js';
import { DEMO_PRICING, MODELS, SESSION_BUDGET_USD } from '../stack.js';

const LOOP_SESSION = 'demo-4-loop';
const BURST_SESSION = 'demo-4-burst';
const BURST_CALLS = 200;
/** How many calls the burst's budget affords. */
const AFFORDABLE = 20;
const OUTPUT_CAP = 40;

const ADJECTIVES =
  'amber brisk calm dusty eager faint gentle hollow icy jolly keen lucky mellow noble olive proud quiet rapid silver tidy urban vivid wild young'.split(
    ' ',
  );
const NOUNS =
  'anchor badge candle dragon engine falcon garden harbor island jacket kettle ladder meadow needle orchard pepper quarry river saddle tunnel valley wagon yarrow zephyr'.split(
    ' ',
  );

/** The body the openai client sends for one burst prompt. */
function burstBody(prompt: string): Record<string, unknown> {
  return { model: MODELS.batch, max_tokens: OUTPUT_CAP, messages: [{ role: 'user', content: prompt }] };
}

/** The gateway's input count of a body (core's tokenizer, as the killswitch reserves). */
function inputTokensOf(body: unknown): number {
  return countRequestTokens(parseRequest('openai', body)).tokens;
}

/**
 * 200 distinct prompts with the same input token count, so every call costs the same: distinct,
 * because identical ones would rightly be flagged as a loop.
 */
function burstPrompts(): { prompts: string[]; inputTokens: number } {
  const groups = new Map<number, string[]>();
  for (const adjective of ADJECTIVES) {
    for (const noun of NOUNS) {
      const prompt = `Classify support ticket ${adjective} ${noun} by urgency.`;
      const tokens = inputTokensOf(burstBody(prompt));
      groups.set(tokens, [...(groups.get(tokens) ?? []), prompt]);
    }
  }
  const [inputTokens, prompts] = [...groups.entries()].sort((a, b) => b[1].length - a[1].length)[0] ?? [
    0,
    [],
  ];
  return { prompts: prompts.slice(0, BURST_CALLS), inputTokens };
}

/** The mock bills each burst call at its worst case: the gateway's input count and the whole cap. */
function burstReply(request: RecordedRequest): MockReply {
  return {
    kind: 'text',
    text: 'urgency: low',
    usage: { inputTokens: inputTokensOf(request.body), outputTokens: Number(request.body.max_tokens) },
  };
}

async function loop(context: ScenarioContext): Promise<{ calls: number; savedUsd: number }> {
  const { stack } = context;
  stack.primary.reset();
  const retry: MockReply = {
    kind: 'tool-calls',
    text: 'The export failed; trying again.',
    calls: [
      {
        name: 'hasura_select',
        arguments: { table: 'invoice', columns: ['id', 'total'], where: { status: 'overdue' } },
      },
    ],
  };
  stack.primary.script(...Array.from({ length: 10 }, () => retry));
  context.reporter.note('a) fixer-bot retries a failing step: the same tool call, the same error');
  const run = await runAgent({
    client: stack.openai(LOOP_SESSION, 'fixer-bot'),
    model: MODELS.main,
    system: 'You are fixer-bot. Keep trying until the nightly export works.',
    task: 'Export the overdue invoices for the accountant.',
    toolbox: stack.toolbox,
    tools: ['hasura_select'],
    maxSteps: 10,
    ...context.agentProgress({ expectDenial: true }),
  });
  const denial = run.steps.at(-1)?.denial;
  const failures = run.steps.flatMap((step) => step.tools);
  context.check(
    '3rd repeat of the failing step refused: 429 loop_detected, x-should-retry: false',
    run.stoppedBy === 'denied' &&
      denial?.status === 429 &&
      denial.code === 'loop_detected' &&
      denial.headers.decision === 'loop_detected' &&
      denial.headers.shouldRetry === 'false',
    `${denial?.status} ${denial?.code} ${denial?.headers.shouldRetry}`,
  );
  context.check(
    'the step failed 3 times alike; call 4 never reached the provider',
    failures.length === 3 &&
      failures.every((tool) => !tool.ok && tool.text === failures[0]?.text) &&
      run.steps.length === 4 &&
      stack.primary.requests.length === 3,
    `${failures.length} runs, ${run.steps.length} calls, provider saw ${stack.primary.requests.length}`,
  );
  const spent = (await stack.spend()).get(LOOP_SESSION)?.usd ?? 0;
  // Without loop detection, the session budget is the only other stop.
  return { calls: run.steps.length, savedUsd: SESSION_BUDGET_USD - spent };
}

async function burst(
  context: ScenarioContext,
): Promise<{ calls: number; savedUsd: number; admitted: number }> {
  const { stack } = context;
  const { prompts, inputTokens } = burstPrompts();
  const price = DEMO_PRICING[MODELS.batch] as { input: number; output: number };
  const perCallUsd = (inputTokens * price.input + OUTPUT_CAP * price.output) / 1e6;
  // N calls' worth and half a call more: exactly N fit, whatever order they arrive in.
  const budgetUsd = (AFFORDABLE + 0.5) * perCallUsd;
  context.reporter.note(
    `b) batch-bot fires ${prompts.length} calls at once; its session budget is $${budgetUsd.toFixed(6)}, ${AFFORDABLE} calls' worth ($${perCallUsd.toFixed(6)} each)`,
  );
  stack.primary.reset();
  stack.primary.script(...Array.from({ length: BURST_CALLS }, () => burstReply));
  const client = stack.openai(BURST_SESSION, 'batch-bot', {
    'x-ballast-session-budget-usd': budgetUsd.toFixed(9),
  });
  const started = performance.now();
  const results = await Promise.allSettled(
    prompts.map((prompt) =>
      client.chat.completions
        .create({
          model: MODELS.batch,
          max_tokens: OUTPUT_CAP,
          messages: [{ role: 'user', content: prompt }],
        })
        .withResponse(),
    ),
  );
  const admitted = results.filter((result) => result.status === 'fulfilled');
  const denials = results.flatMap((result) =>
    result.status === 'rejected' ? [denialOf(result.reason)] : [],
  );
  const budgetDenials = denials.filter(
    (denial) =>
      denial?.status === 402 &&
      denial.code === 'budget_exceeded' &&
      denial.headers.decision === 'budget_exceeded' &&
      denial.headers.shouldRetry === 'false',
  );
  context.step(
    admitted.length === AFFORDABLE,
    `${prompts.length} concurrent calls: ${admitted.length} admitted, ${denials.length} refused`,
    performance.now() - started,
  );
  const ledger = (await stack.spend()).get(BURST_SESSION);
  context.check(
    `exactly ${AFFORDABLE} of ${BURST_CALLS} admitted, what the budget affords`,
    prompts.length === BURST_CALLS && admitted.length === AFFORDABLE,
    `${admitted.length} of ${prompts.length}`,
  );
  context.check(
    `the other ${BURST_CALLS - AFFORDABLE} got 402 budget_exceeded`,
    budgetDenials.length === BURST_CALLS - AFFORDABLE,
    `${budgetDenials.length}; first other: ${denials.find((denial) => !budgetDenials.includes(denial))?.code}`,
  );
  const headerUsd = admitted.reduce(
    (sum, result) =>
      sum +
      (result.status === 'fulfilled' ? (gatewayHeaders(result.value.response.headers).costUsd ?? 0) : 0),
    0,
  );
  context.check(
    'spend stayed within the budget; the provider saw only the admitted calls',
    ledger !== undefined &&
      ledger.usd <= budgetUsd &&
      Math.abs(ledger.usd - AFFORDABLE * perCallUsd) < 1e-9 &&
      Math.abs(headerUsd - ledger.usd) < 1e-6 &&
      stack.primary.requests.length === AFFORDABLE,
    `spent $${ledger?.usd.toFixed(9)} of $${budgetUsd.toFixed(9)}, provider saw ${stack.primary.requests.length}`,
  );
  return {
    calls: prompts.length,
    savedUsd: (prompts.length - admitted.length) * perCallUsd,
    admitted: admitted.length,
  };
}

/** Scenario 4: a runaway loop and a concurrent burst against a small budget. */
export const runawayScenario: Scenario = {
  number: 4,
  key: 'runaway',
  title: 'Runaway loop + burst',
  why: '@ballast/killswitch: loops are stopped at the third repeat; budgets are reserved before calls go out.',
  async run(context) {
    if (context.stack.live) context.reporter.note('runs on the mock providers: no real money for a runaway');
    const looped = await loop(context);
    const burstResult = await burst(context);
    return {
      outcome: `loop stopped at 3rd repeat; burst ${burstResult.admitted}/${BURST_CALLS} admitted`,
      calls: looped.calls + burstResult.calls,
      sessions: [LOOP_SESSION, BURST_SESSION],
      usdSaved: looped.savedUsd + burstResult.savedUsd,
    };
  },
};
