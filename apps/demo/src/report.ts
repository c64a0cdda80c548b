import type { DemoSummary, ScenarioResult } from './types.js';

/** Terminal styling that turns itself off for NO_COLOR and for output that is not a terminal. */
export interface Style {
  enabled: boolean;
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
  cyan(text: string): string;
}

/**
 * Chooses colours for a stream: off when NO_COLOR is set (to anything but ''), or when the
 * stream is not a terminal unless FORCE_COLOR is set.
 * @param stream where the text goes
 * @param env the environment
 * @returns the style
 */
export function createStyle(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Style {
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  const force = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0';
  const enabled = !noColor && (force || stream.isTTY === true);
  const wrap =
    (open: number, close: number) =>
    (text: string): string =>
      enabled ? `\u001b[${open}m${text}\u001b[${close}m` : text;
  return {
    enabled,
    green: wrap(32, 39),
    red: wrap(31, 39),
    yellow: wrap(33, 39),
    dim: wrap(2, 22),
    bold: wrap(1, 22),
    cyan: wrap(36, 39),
  };
}

/** Progress lines: one per step, with ✓/✗ and its time. */
export interface Reporter {
  readonly style: Style;
  /** A heading line. */
  heading(text: string): void;
  /** A step that happened: ✓ or ✗, what, how long. */
  step(ok: boolean, label: string, durationMs?: number): void;
  /** A line without a verdict (context, a skipped part). */
  note(text: string): void;
  /** Any raw line. */
  line(text: string): void;
}

const LABEL_WIDTH = 80;

/** Visible width: escape codes do not count. */
export function visibleLength(text: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the colour escapes this file writes
  return Array.from(text.replace(/\u001b\[\d+m/g, '')).length;
}

function padEnd(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - visibleLength(text)));
}

function padStart(text: string, width: number): string {
  return ' '.repeat(Math.max(0, width - visibleLength(text))) + text;
}

/** Shortens text to at most `width` visible characters, with an ellipsis. */
export function truncate(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const characters = Array.from(flat);
  return characters.length <= width ? flat : `${characters.slice(0, width - 1).join('')}…`;
}

/**
 * A reporter writing lines to a function (stdout, stderr, or nothing).
 * @param write receives each line without its newline
 * @param style colours
 * @returns the reporter
 */
export function createReporter(write: (line: string) => void, style: Style): Reporter {
  return {
    style,
    heading(text) {
      write('');
      write(style.bold(text));
    },
    step(ok, label, durationMs) {
      const mark = ok ? style.green('✓') : style.red('✗');
      const time = durationMs === undefined ? '' : style.dim(formatDuration(durationMs));
      // A line without a time may use the time's column too.
      const text = truncate(label, durationMs === undefined ? LABEL_WIDTH + 9 : LABEL_WIDTH);
      write(
        `  ${mark} ${durationMs === undefined ? text : `${padEnd(text, LABEL_WIDTH)} ${padStart(time, 8)}`}`,
      );
    },
    note(text) {
      write(`  ${style.dim('·')} ${style.dim(text)}`);
    },
    line(text) {
      write(text);
    },
  };
}

/** `12 ms`, `1.4 s`. */
export function formatDuration(milliseconds: number): string {
  return milliseconds < 1000 ? `${Math.round(milliseconds)} ms` : `${(milliseconds / 1000).toFixed(1)} s`;
}

/** `$0.004210`: six decimals, since mock calls cost fractions of a cent. */
export function formatUsd(usd: number): string {
  return `$${usd.toFixed(6)}`;
}

/** `12,345`. */
export function formatCount(count: number): string {
  return Math.round(count).toLocaleString('en-US');
}

const STATUS_MARK: Record<ScenarioResult['status'], string> = { passed: '✓', failed: '✗', skipped: '-' };

/**
 * The summary table: scenario, outcome, calls, tokens, USD spent, USD saved, and a total row.
 * @param summary the run
 * @param style colours
 * @returns the lines of the table
 */
export function renderTable(summary: DemoSummary, style: Style): string[] {
  const header = ['scenario', 'outcome', 'calls', 'tokens', 'USD spent', 'USD saved'];
  const rows = summary.scenarios.map((scenario) => [
    `${STATUS_MARK[scenario.status]} ${scenario.number}. ${scenario.title}`,
    truncate(scenario.outcome, 52),
    formatCount(scenario.calls),
    formatCount(scenario.tokens),
    formatUsd(scenario.usdSpent),
    scenario.usdSaved > 0 ? formatUsd(scenario.usdSaved) : '-',
  ]);
  const total = [
    summary.passed ? 'all scenarios passed' : 'SOME SCENARIOS FAILED',
    '',
    formatCount(summary.totals.calls),
    formatCount(summary.totals.tokens),
    formatUsd(summary.totals.usdSpent),
    formatUsd(summary.totals.usdSaved),
  ];
  const widths = header.map((title, column) =>
    Math.max(visibleLength(title), ...[...rows, total].map((row) => visibleLength(row[column] ?? ''))),
  );
  const numeric = (column: number) => column >= 2;
  const render = (cells: string[]) =>
    cells
      .map((cell, column) =>
        numeric(column) ? padStart(cell, widths[column] ?? 0) : padEnd(cell, widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '─'.repeat(width)).join('  ');
  const colourRow = (line: string, status: ScenarioResult['status']) =>
    status === 'passed' ? line : status === 'failed' ? style.red(line) : style.yellow(line);
  return [
    style.bold(render(header)),
    style.dim(rule),
    ...rows.map((row, index) => colourRow(render(row), summary.scenarios[index]?.status ?? 'failed')),
    style.dim(rule),
    summary.passed ? style.green(render(total)) : style.red(render(total)),
  ];
}
