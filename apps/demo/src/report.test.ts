import { describe, expect, it } from 'vitest';
import { createStyle, renderTable, visibleLength } from './report.js';
import type { DemoSummary, ScenarioResult } from './types.js';

function scenario(number: number, status: ScenarioResult['status'], usdSaved = 0): ScenarioResult {
  return {
    number,
    key: `s${number}`,
    title: `Scenario ${number}`,
    status,
    outcome: `outcome ${number}`,
    calls: number * 10,
    tokens: number * 1000,
    usdSpent: number / 1000,
    usdSaved,
    checks: [],
    durationMs: 1,
    sessions: [],
  };
}

const summary = (scenarios: ScenarioResult[]): DemoSummary => ({
  passed: scenarios.every((item) => item.status !== 'failed'),
  mode: 'offline',
  durationMs: 1,
  scenarios,
  totals: { calls: 60, tokens: 6000, usdSpent: 0.006, usdSaved: 0.5 },
  proxyUrl: 'http://127.0.0.1:1',
});

describe('createStyle', () => {
  describe('when NO_COLOR is set', () => {
    it('writes no escape codes, even on a terminal', () => {
      expect(createStyle({ isTTY: true }, { NO_COLOR: '1' }).red('x')).toBe('x');
    });
  });
  describe('when the stream is a terminal and NO_COLOR is not set', () => {
    it('colours', () => {
      expect(createStyle({ isTTY: true }, {}).red('x')).toBe('\u001b[31mx\u001b[39m');
    });
  });
  describe('when the stream is not a terminal', () => {
    it('does not colour unless FORCE_COLOR is set', () => {
      expect(createStyle({ isTTY: false }, {}).green('x')).toBe('x');
      expect(createStyle({ isTTY: false }, { FORCE_COLOR: '1' }).green('x')).not.toBe('x');
    });
  });
});

describe('renderTable', () => {
  it('lists each scenario with its verdict, aligned, and a total row', () => {
    const lines = renderTable(
      summary([scenario(1, 'passed'), scenario(2, 'failed'), scenario(3, 'skipped', 0.5)]),
      createStyle({}, {}),
    );
    expect(lines[0]).toMatch(/^scenario\s+outcome\s+calls\s+tokens\s+USD spent\s+USD saved$/);
    expect(lines[2]).toMatch(/^✓ 1\. Scenario 1\s+outcome 1\s+10\s+1,000\s+\$0\.001000\s+-$/);
    expect(lines[3]).toMatch(/^✗ 2\. Scenario 2/);
    expect(lines[4]).toMatch(/^- 3\. Scenario 3.*\$0\.500000$/);
    expect(lines.at(-1)).toMatch(/^SOME SCENARIOS FAILED\s+60\s+6,000\s+\$0\.006000\s+\$0\.500000$/);
    const widths = new Set(lines.filter((line) => !line.startsWith('─')).map((line) => visibleLength(line)));
    expect(Math.max(...widths)).toBe(visibleLength(lines[0] as string));
  });
});
