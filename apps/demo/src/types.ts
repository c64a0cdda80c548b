/** One assertion a scenario made on what it observed. */
export interface Check {
  name: string;
  ok: boolean;
  /** What was observed, shown when the check fails. */
  detail?: string;
}

/** Whether a scenario's own checks held. */
export type ScenarioStatus = 'passed' | 'failed' | 'skipped';

/** What one scenario did and found: a row of the summary table. */
export interface ScenarioResult {
  /** 1 to 5. */
  number: number;
  /** Stable key: `tools`, `fallback`, `memory`, `runaway`, `kill`. */
  key: string;
  title: string;
  status: ScenarioStatus;
  /** One line: what happened. */
  outcome: string;
  /** Requests the agent sent to the proxy (denied ones included). */
  calls: number;
  /** Tokens the providers billed (input + output), from the killswitch's ledger. */
  tokens: number;
  /** USD the providers billed, from the killswitch's ledger. */
  usdSpent: number;
  /** USD not spent thanks to Ballast; how each scenario counts it is in the README. */
  usdSaved: number;
  checks: Check[];
  durationMs: number;
  /** The `x-ballast-session` ids the scenario used. */
  sessions: string[];
  /** Why it failed or was skipped, when it did not get to its checks. */
  error?: string;
}

/** The whole run: what `--json` prints. */
export interface DemoSummary {
  passed: boolean;
  mode: 'offline' | 'live';
  durationMs: number;
  scenarios: ScenarioResult[];
  totals: { calls: number; tokens: number; usdSpent: number; usdSaved: number };
  proxyUrl: string;
}
