/**
 * What the two memory benches share: the command line (`--budget`, `--json`, `--help`, exit codes),
 * the tokenizer every count is made with, and the recent-window baseline.
 */
import { parseArgs } from 'node:util';
import { type ChatMessage, countMessageTokens } from '@ballast/core';
import type { TurnRole } from '../src/index.js';

/** The model whose tokenizer every bench count uses (the one the library budgets with). */
export const MODEL = 'gpt-4o';

/**
 * Tokens {@link countMessageTokens} adds once per conversation to prime the reply, on top of each
 * message; with {@link messageTokens} a conversation's count is this plus the sum over its messages.
 */
export const REPLY_PRIMING_TOKENS: number = countMessageTokens([], MODEL).tokens;

/** A message as the benches hold it: a turn, or a message of a built context. */
export interface BenchMessage {
  role: TurnRole;
  content: string;
  name?: string | undefined;
}

/** A bad command line: {@link runBench} prints it with the usage and exits with code 2. */
export class UsageError extends Error {}

/** The options every bench takes, plus the extra string options it asked for. */
export interface BenchArgs<Name extends string> {
  /** The token budget of every built context. */
  budget: number;
  /** Print one JSON object on stdout instead of tables. */
  json: boolean;
  /** The extra string options as given, undefined when absent. */
  strings: { [Key in Name]?: string | undefined };
}

/**
 * Parses a bench's command line: `--budget <tokens>`, `--json`, `--help`/`-h`, and the extra
 * string options named. A literal `--` first (from `pnpm run script -- --flag`) is dropped.
 *
 * @param argv the arguments after the script, usually `process.argv.slice(2)`
 * @param defaultBudget the budget when `--budget` is absent
 * @param stringOptions names of further options that take a string value
 * @returns the options, or `'help'` when `--help` was given (before the budget is checked)
 * @throws {UsageError} on an unknown option, a positional argument, or a budget that is not a positive whole number
 * @example
 * ```ts
 * const args = parseBenchArgs(['--', '--budget', '500', '--data', 'x.json'], 2000, ['data']);
 * // { budget: 500, json: false, strings: { data: 'x.json' } }
 * ```
 */
export function parseBenchArgs<Name extends string = never>(
  argv: readonly string[],
  defaultBudget: number,
  stringOptions: readonly Name[] = [],
): BenchArgs<Name> | 'help' {
  // `pnpm run script -- --flag` may hand the script a literal `--` first.
  const args = argv[0] === '--' ? argv.slice(1) : [...argv];
  let values: Record<string, string | boolean | Array<string | boolean> | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        ...Object.fromEntries(stringOptions.map((name) => [name, { type: 'string' as const }])),
        budget: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help === true) return 'help';
  let budget = defaultBudget;
  if (typeof values.budget === 'string') {
    if (!/^\d+$/.test(values.budget) || Number(values.budget) < 1) {
      throw new UsageError(
        `--budget must be a positive whole number of tokens (got ${JSON.stringify(values.budget)})`,
      );
    }
    budget = Number(values.budget);
  }
  const strings: { [Key in Name]?: string | undefined } = {};
  for (const name of stringOptions) {
    const value = values[name];
    if (typeof value === 'string') strings[name] = value;
  }
  return { budget, json: values.json === true, strings };
}

/**
 * Runs a bench's `main` as the script's entry: a {@link UsageError} from `parse` prints
 * `<name>: <message>` and the usage on stderr and exits 2, `'help'` prints the usage and exits 0,
 * any other failure prints `<name> failed: <stack>` and exits 1; else the exit code is `main`'s.
 *
 * @param bench the bench's name (`bench:locomo`), usage line, parser and main
 * @example
 * ```ts
 * runBench({ name: 'bench:x', usage: USAGE, parse: (argv) => parseBenchArgs(argv, 2000), main });
 * ```
 */
export function runBench<Options>(bench: {
  name: string;
  usage: string;
  parse: (argv: readonly string[]) => Options | 'help';
  main: (options: Options) => Promise<number>;
}): void {
  const run = async (): Promise<number> => {
    let options: Options | 'help';
    try {
      options = bench.parse(process.argv.slice(2));
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      console.error(`${bench.name}: ${error.message}\n${bench.usage}`);
      return 2;
    }
    if (options === 'help') {
      console.log(bench.usage);
      return 0;
    }
    return bench.main(options);
  };
  run().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(
        `${bench.name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      process.exitCode = 1;
    },
  );
}

// One text part, the name kept.
function toChatMessage(message: BenchMessage): ChatMessage {
  const chat: ChatMessage = { role: message.role, content: [{ type: 'text', text: message.content }] };
  if (message.name !== undefined) chat.name = message.name;
  return chat;
}

/**
 * Counts the tokens of a conversation as {@link MODEL} would read it, reply priming included.
 *
 * @param messages the conversation, one bench message each
 * @returns the token count from {@link countMessageTokens}
 */
export function countTokens(messages: readonly BenchMessage[]): number {
  return countMessageTokens(messages.map(toChatMessage), MODEL).tokens;
}

/**
 * One message's share of {@link countTokens} (framing, role, name, text), so that counts add up
 * per message: `countTokens(messages)` is {@link REPLY_PRIMING_TOKENS} plus the sum of these.
 *
 * @param message a turn or a context message
 * @returns the message's tokens without the reply priming
 */
export function messageTokens(message: BenchMessage): number {
  return countTokens([message]) - REPLY_PRIMING_TOKENS;
}

/**
 * The recent-window baseline: the newest messages whose tokens, with the reply priming, fit the
 * budget, oldest first.
 *
 * @param costs each message's {@link messageTokens}, in conversation order
 * @param end how many messages of `costs` there are so far
 * @param budget the token budget
 * @returns indexes into `costs`, ascending
 */
export function recentWindow(costs: readonly number[], end: number, budget: number): number[] {
  const picked: number[] = [];
  let used = REPLY_PRIMING_TOKENS;
  for (let index = end - 1; index >= 0; index -= 1) {
    const cost = costs[index] as number;
    if (used + cost > budget) break;
    used += cost;
    picked.push(index);
  }
  return picked.reverse();
}

/**
 * Rounds to one decimal place.
 *
 * @param value any number
 * @returns `value` rounded to tenths
 */
export const round1 = (value: number): number => Math.round(value * 10) / 10;
