import type { Reporter } from './report.js';
import { runScenario, type Scenario } from './scenario.js';
import { killScenario } from './scenarios/kill.js';
import { memoryScenario } from './scenarios/memory.js';
import { fallbackScenario } from './scenarios/quota-fallback.js';
import { runawayScenario } from './scenarios/runaway.js';
import { toolsScenario } from './scenarios/tools-task.js';
import { type Cleanup, type LiveProviders, type Stack, startStack } from './stack.js';
import type { DemoSummary, ScenarioResult } from './types.js';

/** The five scenarios, in order. */
export const SCENARIOS: readonly Scenario[] = [
  toolsScenario,
  fallbackScenario,
  memoryScenario,
  runawayScenario,
  killScenario,
];

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Real providers for scenario 1, when their keys are set. */
  live?: LiveProviders;
  reporter: Reporter;
  /** Where every started part registers its shutdown. */
  cleanup: Cleanup;
  /** Aborted on Ctrl-C: no further scenario starts. */
  signal?: AbortSignal;
}

/**
 * Starts the stack and runs the five scenarios against it. The stack stays up (in `cleanup`) so
 * that `--serve` can keep it.
 * @param options live providers, progress, cleanup
 * @returns the summary and the running stack
 * @throws Error when the stack cannot start
 */
export async function runDemo(options: DemoOptions): Promise<{ summary: DemoSummary; stack: Stack }> {
  const { reporter } = options;
  const started = performance.now();
  reporter.heading('Starting the stack');
  const stack = await startStack(options.cleanup, {
    ...(options.live ? { live: options.live } : {}),
    onStep: (label, durationMs) => reporter.step(true, label, durationMs),
  });
  const results: ScenarioResult[] = [];
  for (const scenario of SCENARIOS) {
    if (options.signal?.aborted) break;
    results.push(await runScenario(scenario, stack, reporter));
  }
  const totals = results.reduce(
    (sum, result) => ({
      calls: sum.calls + result.calls,
      tokens: sum.tokens + result.tokens,
      usdSpent: sum.usdSpent + result.usdSpent,
      usdSaved: sum.usdSaved + result.usdSaved,
    }),
    { calls: 0, tokens: 0, usdSpent: 0, usdSaved: 0 },
  );
  return {
    stack,
    summary: {
      passed: results.every((result) => result.status !== 'failed'),
      mode: options.live ? 'live' : 'offline',
      durationMs: Math.round(performance.now() - started),
      scenarios: results,
      totals,
      proxyUrl: stack.proxyUrl,
    },
  };
}
