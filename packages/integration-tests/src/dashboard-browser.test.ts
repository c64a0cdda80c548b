// The proxy's dashboard in a real headless Chromium (Debian's `chromium`, never a downloaded one):
// it shows a live run's session with its spend, and its Kill button cuts that session's stream.
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MockProvider } from '@ballast/mock-provider';
import OpenAI from 'openai';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminToken,
  agentHistory,
  type KillswitchStack,
  packageDir,
  startDashboardStack,
} from './support.js';

const chromiumPath = '/usr/bin/chromium';
const chromiumMissing = existsSync(chromiumPath)
  ? undefined
  : `${chromiumPath} is missing: apt-get install chromium to run the dashboard in a browser`;
// `.ci/run` installs chromium and sets this: there a missing browser fails instead of skipping.
const chromiumRequired = process.env.BALLAST_REQUIRE_CHROMIUM === '1';

const artifactsDir = join(packageDir, 'artifacts');
const docsScreenshot = join(packageDir, '..', '..', 'docs', 'dashboard.png');
// Steps wait generously; a passing run takes a few seconds.
const stepTimeoutMs = 10_000;

let stack: KillswitchStack | undefined;
let provider: MockProvider | undefined;
let url = '';
let profileDir: string | undefined;
let browser: BrowserContext | undefined;
const streamAbort = new AbortController();

beforeAll(async () => {
  if (chromiumMissing) return;
  stack = await startDashboardStack({ input: 3, output: 15, maxOutputTokens: 4000 }, 1);
  ({ provider, url } = stack);
  provider.setDefaultReply({ kind: 'text', text: 'Done.' });
  profileDir = await mkdtemp(join(tmpdir(), 'ballast-chromium-'));
  // A persistent context is how playwright takes our own fresh --user-data-dir.
  browser = await chromium.launchPersistentContext(profileDir, {
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      // This machine's network is closed: background fetches make Chromium misbehave.
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 900 },
    colorScheme: 'light',
  });
});

afterAll(async () => {
  streamAbort.abort();
  await browser?.close().catch(() => undefined);
  await stack?.close();
  if (profileDir) await rm(profileDir, { recursive: true, force: true });
});

const client = (session: string, agent: string) =>
  new OpenAI({
    apiKey: 'local',
    baseURL: `${url}/v1`,
    maxRetries: 0,
    defaultHeaders: { 'x-ballast-session': session, 'x-ballast-agent': agent },
  });

const ask = (session: string, agent: string, steps: number) =>
  client(session, agent).chat.completions.create({
    model: 'mock-model',
    max_tokens: 4000,
    messages: agentHistory(steps),
  });

/** One completed call that the mock bills for `outputTokens`. */
async function call(session: string, agent: string, steps: number, outputTokens: number): Promise<void> {
  provider?.script({ kind: 'text', text: 'Done.', usage: { inputTokens: 1200, outputTokens } });
  await ask(session, agent, steps);
}

/** Rejects when `promise` has not settled within `milliseconds`. */
async function within<T>(promise: Promise<T>, milliseconds: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${milliseconds} ms`)), milliseconds);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const sessionRow = (page: Page, session: string) =>
  page.locator(`[data-testid="session-row"][data-session="${session}"]`);

describe('the proxy dashboard in headless Chromium', () => {
  describe('when an operator clicks Kill on a session with a live stream', () => {
    it(`shows the session's spend while it streams, then cuts the stream and marks it killed${chromiumMissing && !chromiumRequired ? ` (skipped: ${chromiumMissing})` : ''}`, async (context) => {
      if (chromiumMissing) {
        if (chromiumRequired) throw new Error(`BALLAST_REQUIRE_CHROMIUM=1 but ${chromiumMissing}`);
        context.skip(chromiumMissing);
      }
      // Neighbours for the picture: a session memory saved tokens for, one its budget stopped.
      await call('docs-writer', 'writer', 3, 900);
      await call('docs-writer', 'writer', 10, 1400);
      await call('budget-buster', 'tester', 1, 64_000);
      // Denied before the provider: nothing scripted for it.
      await expect(ask('budget-buster', 'tester', 1)).rejects.toMatchObject({
        status: 402,
        code: 'budget_exceeded',
      });
      await call('demo-session', 'coder', 2, 1500);
      await call('demo-session', 'coder', 6, 2500);

      // The live run: 800 chunks 25 ms apart, about 20 s unless something cuts it.
      provider?.script({
        kind: 'text',
        text: Array.from({ length: 800 }, (_, index) => `token${index}`).join(' '),
        chunkCount: 800,
        chunkDelayMs: 25,
      });
      const stream = await client('demo-session', 'coder').chat.completions.create(
        { model: 'mock-model', messages: agentHistory(2), stream: true },
        { signal: streamAbort.signal },
      );
      let chunks = 0;
      let firstChunk: () => void = () => undefined;
      const streaming = new Promise<void>((resolve) => {
        firstChunk = resolve;
      });
      const streamEnd = (async () => {
        for await (const _chunk of stream) {
          chunks += 1;
          firstChunk();
        }
        return 'completed';
      })().catch((error: unknown) => error);
      await within(streaming, stepTimeoutMs, 'the stream sent no chunk');

      const page = await (browser as BrowserContext).newPage();
      page.setDefaultTimeout(stepTimeoutMs);
      await page.goto(`${url}/dashboard?token=${encodeURIComponent(adminToken)}`);
      // The token went into the tab's storage and out of the address bar.
      expect(new URL(page.url()).search).toBe('');
      await page.locator('[data-testid="connection-status"][data-mode="live"]').waitFor();

      const row = sessionRow(page, 'demo-session');
      await row.waitFor();
      await expect
        .poll(() => row.getByTestId('session-in-flight').textContent(), { timeout: stepTimeoutMs })
        .toBe('1');
      expect(await row.getByTestId('session-status').textContent()).toBe('running');
      expect(await row.getByTestId('session-agent').textContent()).toBe('agent coder');
      const spendText = (await row.getByTestId('session-spend').textContent()) ?? '';
      const spend = /^\$(\d+\.\d+) of \$1\.00 \(\d+%\)$/.exec(spendText);
      expect(spend, `spend text "${spendText}"`).not.toBeNull();
      expect(Number(spend?.[1])).toBeGreaterThan(0);
      expect(await row.getByTestId('session-steps').textContent()).toBe('3 / 20');
      await page.locator('[data-testid="provider-row"][data-target="mock/mock-model"]').waitFor();
      await sessionRow(page, 'budget-buster').waitFor();
      await page.locator('[data-testid="event-row"][data-kind="denial"]').waitFor();
      await mkdir(artifactsDir, { recursive: true });
      await page.screenshot({ path: join(artifactsDir, 'dashboard-live.png'), fullPage: true });

      await row.getByTestId('kill-button').click();
      const ended = await within(streamEnd, stepTimeoutMs, 'the stream did not end after Kill');
      expect(ended).toBeInstanceOf(OpenAI.APIError);
      expect(ended).toMatchObject({
        code: 'killed',
        message: expect.stringMatching(/killed by an operator/),
      });
      // Cut mid-stream, upstream too: the client got far from all 800 chunks, the provider saw it go.
      expect(chunks).toBeLessThan(800);
      await provider?.waitForAborts(1, stepTimeoutMs);

      await row.getByTestId('session-killed').waitFor();
      expect(await row.getAttribute('data-killed')).toBe('true');
      await row.getByTestId('revive-button').waitFor();
      await expect
        .poll(() => row.getByTestId('session-in-flight').textContent(), { timeout: stepTimeoutMs })
        .toBe('0');
      await page
        .locator('[data-testid="event-row"][data-kind="kill"]', { hasText: 'demo-session' })
        .waitFor();
      await page.getByTestId('spend-bar').first().waitFor();

      // Off the buttons, so none is drawn hovered.
      await page.mouse.move(0, 0);
      const screenshot = join(artifactsDir, 'dashboard.png');
      await page.screenshot({ path: screenshot, fullPage: true });
      // The README's picture is refreshed on request only, so a test run leaves the tree clean.
      if (process.env.BALLAST_UPDATE_SCREENSHOT === '1') {
        await mkdir(join(docsScreenshot, '..'), { recursive: true });
        await copyFile(screenshot, docsScreenshot);
      }
    });
  });
});
