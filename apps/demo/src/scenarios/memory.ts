import type { MockReply, RecordedRequest } from '@ballast/mock-provider';
import { type AgentRun, runAgent } from '../agent.js';
import type { Scenario, ScenarioContext } from '../scenario.js';
import { MODELS } from '../stack.js';

const BASELINE_SESSION = 'demo-3-no-memory';
const MEMORY_SESSION = 'demo-3-memory';
const AGENT = 'review-bot';
const SYSTEM = 'You are review-bot, a code reviewer. Read files with the tools before judging.';
const TASK = 'Review every module of the shop in src/, one file at a time, and tell me when you are done.';
const FOLLOW_UP =
  'Which module issues refunds before the chargeback is confirmed, and which ticket tracks it?';
const KEY_FACT = 'REFUNDS-999';

/** The mock model's answer to the follow-up, from what actually reached it. */
function followUpAnswer(request: RecordedRequest): MockReply {
  const sent = JSON.stringify(request.body);
  return {
    kind: 'text',
    text: sent.includes(KEY_FACT)
      ? `src/refunds.ts issues refunds before the chargeback is confirmed; ${KEY_FACT} tracks it.`
      : 'I no longer have the module contents, so I cannot say.',
  };
}

function promptTokens(run: AgentRun): number {
  return run.steps.reduce((sum, step) => sum + (step.completion?.usage?.prompt_tokens ?? 0), 0);
}

/** The session: ten large file reads, an answer, then a follow-up about one file read long ago. */
async function review(
  context: ScenarioContext,
  session: string,
  memory: 'on' | 'off',
): Promise<{ steps: AgentRun['steps']; reads: AgentRun; answer: AgentRun }> {
  const { stack } = context;
  stack.primary.reset();
  stack.primary.script(
    ...stack.workspace.modules.map(
      (path): MockReply => ({
        kind: 'tool-calls',
        calls: [{ name: 'git_show_file', arguments: { repo_path: stack.workspace.repoDir, path } }],
      }),
    ),
    { kind: 'text', text: 'Done: I have read all ten modules.' },
    followUpAnswer,
  );
  context.reporter.note(`session ${session}, x-ballast-memory: ${memory}`);
  const common = {
    client: stack.openai(session, AGENT, { 'x-ballast-memory': memory }),
    model: MODELS.main,
    system: SYSTEM,
    toolbox: stack.toolbox,
    tools: ['git_show_file'],
    ...context.agentProgress(),
  };
  const reads = await runAgent({ ...common, task: TASK, maxSteps: stack.workspace.modules.length + 2 });
  const answer = await runAgent({
    ...common,
    task: FOLLOW_UP,
    history: reads.messages,
    firstIndex: reads.steps.length,
    maxSteps: 2,
  });
  return { steps: [...reads.steps, ...answer.steps], reads, answer };
}

/** Scenario 3: the same long session with large tool outputs, without and with memory. */
export const memoryScenario: Scenario = {
  number: 3,
  key: 'memory',
  title: 'Memory',
  why: '@ballast/memory: the client resends its whole history; upstream gets a budgeted context instead.',
  async run(context) {
    const { stack } = context;
    if (stack.live) context.reporter.note('runs on the mock providers: both runs need the same replies');
    const baseline = await review(context, BASELINE_SESSION, 'off');
    const baselineTokens = promptTokens(baseline.answer) + promptTokens(baseline.reads);
    const withMemory = await review(context, MEMORY_SESSION, 'on');
    const memoryTokens = promptTokens(withMemory.answer) + promptTokens(withMemory.reads);
    const memoryLast = stack.primary.requests.at(-1);

    const toolPath = (run: { steps: AgentRun['steps'] }) =>
      run.steps.flatMap((step) => step.tools.map((tool) => `${tool.name}:${String(tool.arguments.path)}`));
    context.check(
      'both runs did the same 10 file reads and answered both questions',
      baseline.answer.stoppedBy === 'answer' &&
        withMemory.answer.stoppedBy === 'answer' &&
        JSON.stringify(toolPath(baseline)) === JSON.stringify(toolPath(withMemory)) &&
        toolPath(baseline).length === stack.workspace.modules.length,
      `${baseline.answer.stoppedBy}/${withMemory.answer.stoppedBy}`,
    );
    const share = baselineTokens > 0 ? memoryTokens / baselineTokens : 1;
    context.check(
      `input tokens upstream: ${baselineTokens.toLocaleString('en-US')} without memory, ${memoryTokens.toLocaleString('en-US')} with (${Math.round(share * 100)}%)`,
      memoryTokens > 0 && share < 0.5,
      `${Math.round(share * 100)}% of the baseline`,
    );
    const saved = withMemory.steps.reduce((sum, step) => sum + (step.headers.memorySavedTokens ?? 0), 0);
    context.check(
      'the proxy reported the saving (x-ballast-memory-saved-tokens)',
      saved > 0 && baseline.steps.every((step) => step.headers.memorySavedTokens === undefined),
      String(saved),
    );
    context.check(
      `the follow-up with memory still carried the task and ${KEY_FACT}`,
      JSON.stringify(memoryLast?.body).includes(TASK) && JSON.stringify(memoryLast?.body).includes(KEY_FACT),
      'missing from the last upstream request',
    );
    context.check(
      'same answer with and without memory',
      baseline.answer.finalText === withMemory.answer.finalText &&
        (withMemory.answer.finalText ?? '').includes(KEY_FACT),
      withMemory.answer.finalText,
    );
    const clientSize = JSON.stringify(withMemory.answer.messages.slice(0, -1)).length;
    const upstreamSize = JSON.stringify(memoryLast?.body.messages ?? []).length;
    context.check(
      'the agent kept sending its whole history; the proxy sent a fraction of it upstream',
      clientSize > 3 * upstreamSize,
      `${clientSize} bytes from the client, ${upstreamSize} upstream`,
    );

    const ledger = await stack.spend();
    const baselineUsd = ledger.get(BASELINE_SESSION)?.usd ?? 0;
    const memoryUsd = ledger.get(MEMORY_SESSION)?.usd ?? 0;
    context.reporter.note(
      `without memory: $${baselineUsd.toFixed(6)}; with memory: $${memoryUsd.toFixed(6)} (the baseline is not in the totals)`,
    );
    return {
      outcome: `${baselineTokens.toLocaleString('en-US')} → ${memoryTokens.toLocaleString('en-US')} input tokens (−${Math.round((1 - share) * 100)}%), same answer`,
      calls: withMemory.steps.length,
      sessions: [MEMORY_SESSION],
      usdSaved: baselineUsd - memoryUsd,
    };
  },
};
