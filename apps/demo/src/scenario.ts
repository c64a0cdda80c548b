import type { AgentStep, ToolRun } from './agent.js';
import type { Reporter } from './report.js';
import type { SpendRow, Stack } from './stack.js';
import type { Check, ScenarioResult } from './types.js';

/** What a scenario gets: the stack, and ways to report steps and record checks. */
export interface ScenarioContext {
  stack: Stack;
  reporter: Reporter;
  /**
   * Records an assertion on observed behaviour and prints it.
   * @returns `ok`, so a scenario can stop early on a failed precondition
   */
  check(name: string, ok: boolean, detail?: string): boolean;
  /** Prints a step of the scenario with its time. */
  step(ok: boolean, label: string, durationMs?: number): void;
  /** Hooks that print an agent's model calls and tool runs as they happen. */
  agentProgress(options?: { expectDenial?: boolean }): {
    onCall: (step: AgentStep) => void;
    onTool: (run: ToolRun) => void;
  };
}

/** What a scenario reports back; the runner adds the ledger's tokens and USD. */
export interface ScenarioReport {
  outcome: string;
  /** Requests sent to the proxy, denied ones included. */
  calls: number;
  /** The sessions whose ledger rows make up the scenario's tokens and USD. */
  sessions: string[];
  usdSaved: number;
  /** Set when the scenario could not run here (e.g. it needs a mock in `--live`). */
  skipped?: string;
}

/** A scenario of the demo. */
export interface Scenario {
  number: number;
  key: string;
  title: string;
  /** One line under the heading: why this package exists. */
  why: string;
  run(context: ScenarioContext): Promise<ScenarioReport>;
}

function describeCall(step: AgentStep): string {
  if (step.denial) {
    const { status, code, headers } = step.denial;
    return `call ${step.index} refused: ${status} ${code}${headers.decision ? ` (x-ballast-decision: ${headers.decision})` : ''}`;
  }
  const headers = step.headers;
  const message = step.completion?.choices[0]?.message;
  const calls = (message?.tool_calls ?? []).map((call) =>
    call.type === 'function' ? call.function.name : call.custom.name,
  );
  const via = `${headers.provider ?? '?'}${headers.fallbacks > 0 ? ` (after ${headers.fallbackPath ?? 'a fallback'})` : ''}`;
  const parts = [calls.length > 0 ? `wants ${calls.join(' + ')}` : 'answers'];
  if (headers.costUsd !== undefined) parts.push(`$${headers.costUsd.toFixed(6)}`);
  if (headers.memorySavedTokens !== undefined && headers.memorySavedTokens > 0)
    parts.push(`memory −${headers.memorySavedTokens.toLocaleString('en-US')} tokens`);
  return `call ${step.index} → ${via}: ${parts.join(' · ')}`;
}

/**
 * Runs one scenario: prints its heading, its steps and checks, and turns what it reports and the
 * killswitch's ledger into a row of the summary. A throw is a failed scenario, not a crash.
 * @param scenario the scenario
 * @param stack the running stack
 * @param reporter where progress goes
 * @returns its row
 */
export async function runScenario(
  scenario: Scenario,
  stack: Stack,
  reporter: Reporter,
): Promise<ScenarioResult> {
  reporter.heading(`${scenario.number}. ${scenario.title}`);
  reporter.note(scenario.why);
  const checks: Check[] = [];
  const context: ScenarioContext = {
    stack,
    reporter,
    check(name, ok, detail) {
      checks.push({ name, ok, ...(detail === undefined ? {} : { detail }) });
      reporter.step(ok, `check: ${name}${ok || detail === undefined ? '' : ` (got ${detail})`}`);
      return ok;
    },
    step: (ok, label, durationMs) => reporter.step(ok, label, durationMs),
    agentProgress(options = {}) {
      return {
        onCall: (step) =>
          reporter.step(
            step.denial ? options.expectDenial === true : true,
            describeCall(step),
            step.durationMs,
          ),
        onTool: (run) => reporter.step(run.ok, `  ${run.name} → ${run.summary}`, run.durationMs),
      };
    },
  };
  const started = performance.now();
  const base = { number: scenario.number, key: scenario.key, title: scenario.title };
  let report: ScenarioReport;
  try {
    report = await scenario.run(context);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    reporter.step(false, `scenario stopped: ${message}`);
    return {
      ...base,
      status: 'failed',
      outcome: `error: ${message}`,
      calls: 0,
      tokens: 0,
      usdSpent: 0,
      usdSaved: 0,
      checks,
      durationMs: Math.round(performance.now() - started),
      sessions: [],
      error: message,
    };
  }
  let rows: SpendRow[] = [];
  try {
    const ledger = await stack.spend();
    rows = report.sessions.flatMap((session) => {
      const row = ledger.get(session);
      return row ? [row] : [];
    });
  } catch (error) {
    checks.push({ name: 'the killswitch ledger is readable', ok: false, detail: String(error) });
  }
  if (report.skipped !== undefined) reporter.note(`skipped: ${report.skipped}`);
  const failed = checks.some((check) => !check.ok) || (checks.length === 0 && report.skipped === undefined);
  return {
    ...base,
    status: report.skipped !== undefined && checks.length === 0 ? 'skipped' : failed ? 'failed' : 'passed',
    outcome:
      report.skipped !== undefined && checks.length === 0 ? `skipped: ${report.skipped}` : report.outcome,
    calls: report.calls,
    tokens: rows.reduce((sum, row) => sum + row.inputTokens + row.outputTokens, 0),
    usdSpent: rows.reduce((sum, row) => sum + row.usd, 0),
    usdSaved: Math.max(0, report.usdSaved),
    checks,
    durationMs: Math.round(performance.now() - started),
    sessions: report.sessions,
    ...(report.skipped !== undefined ? { error: report.skipped } : {}),
  };
}
