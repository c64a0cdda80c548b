#!/usr/bin/env node
import { createReporter, createStyle, formatDuration, renderTable } from './report.js';
import { runDemo } from './run-demo.js';
import { createCleanup, type LiveProviders } from './stack.js';

const USAGE = `Usage: pnpm demo [-- --serve] [-- --live] [-- --json]

Runs Ballast end to end with no API keys and no network: two mock providers (a primary whose
quota runs out, a secondary), a Hasura-shaped GraphQL server, ballast-proxy with the killswitch
and memory plugins, and a scripted agent on the official openai client, through five scenarios.
Ends with a table; exits 1 if any scenario's checks fail.

Options:
  --serve      keep the stack running afterwards and print the dashboard URL (Ctrl-C stops it)
  --live       scenario 1 on real providers: needs OPENAI_API_KEY or ANTHROPIC_API_KEY
  --json       print the summary as JSON on stdout (progress goes to stderr)
  -h, --help   this text`;

interface Arguments {
  serve: boolean;
  live: boolean;
  json: boolean;
}

function parseArguments(argv: readonly string[]): Arguments | { error: string } | 'help' {
  const parsed: Arguments = { serve: false, live: false, json: false };
  for (const argument of argv) {
    // `pnpm demo -- --serve` passes the `--` through.
    if (argument === '--') continue;
    if (argument === '--serve') parsed.serve = true;
    else if (argument === '--live') parsed.live = true;
    else if (argument === '--json') parsed.json = true;
    else if (argument === '-h' || argument === '--help') return 'help';
    else return { error: `unknown option ${argument}` };
  }
  return parsed;
}

async function main(): Promise<void> {
  const parsed = parseArguments(process.argv.slice(2));
  if (parsed === 'help') {
    console.log(USAGE);
    return;
  }
  if ('error' in parsed) {
    console.error(`ballast demo: ${parsed.error}\n\n${USAGE}`);
    process.exit(2);
  }
  let live: LiveProviders | undefined;
  if (parsed.live) {
    live = { openai: Boolean(process.env.OPENAI_API_KEY), anthropic: Boolean(process.env.ANTHROPIC_API_KEY) };
    if (!live.openai && !live.anthropic) {
      console.error(
        'ballast demo: --live uses real providers and needs an API key: set OPENAI_API_KEY (scenario 1 on gpt-4o-mini) or ANTHROPIC_API_KEY (claude-haiku-4-5), or both (each falls back to the other). Without --live the demo runs offline on mock providers.',
      );
      process.exit(2);
    }
  }

  // Progress goes to stdout, unless stdout carries the JSON summary.
  const progressStream = parsed.json ? process.stderr : process.stdout;
  const style = createStyle(progressStream);
  const abort = new AbortController();
  let passed = false;
  let stopping = false;
  // After Ctrl-C, what the interrupted scenario still reports is noise.
  const reporter = createReporter((line) => {
    if (!stopping) progressStream.write(`${line}\n`);
  }, style);
  const cleanup = createCleanup();
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second Ctrl-C: leave now, children included.
      for (const child of cleanup.children) child.kill('SIGKILL');
      process.exit(130);
    }
    stopping = true;
    abort.abort();
    progressStream.write(`\n${style.dim(`${signal}: stopping the stack…`)}\n`);
    await cleanup.run();
    process.exit(parsed.serve && passed ? 0 : signal === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', (signal) => void stop(signal));
  process.on('SIGTERM', (signal) => void stop(signal));
  // A reader that went away (`pnpm demo | head`): clean up quietly instead of dying mid-run.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' || stopping) return;
      stopping = true;
      abort.abort();
      void cleanup.run().then(() => process.exit(1));
    });
  }
  // Whatever happens, no child process outlives the demo.
  process.on('exit', () => {
    for (const child of cleanup.children) child.kill('SIGKILL');
  });

  reporter.line(
    style.bold(
      `Ballast demo: ${live ? `live (${[live.openai && 'OpenAI', live.anthropic && 'Anthropic'].filter(Boolean).join(' + ')} for scenario 1)` : 'offline, mock providers, no API keys'}`,
    ),
  );
  try {
    const { summary, stack } = await runDemo({
      ...(live ? { live } : {}),
      reporter,
      cleanup,
      signal: abort.signal,
    });
    // Ctrl-C: the stop handler cleans up and exits; results cut short are not a summary.
    if (stopping) return;
    passed = summary.passed;
    reporter.heading(`Summary (${formatDuration(summary.durationMs)})`);
    for (const line of renderTable(summary, style)) reporter.line(line);
    const failures = summary.scenarios.flatMap((scenario) =>
      scenario.checks
        .filter((check) => !check.ok)
        .map((check) => `${scenario.number}. ${check.name}${check.detail ? `: got ${check.detail}` : ''}`),
    );
    for (const failure of failures) reporter.line(style.red(`✗ ${failure}`));
    if (parsed.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);

    if (parsed.serve && !stopping) {
      stack.primary.reset();
      stack.secondary.reset();
      reporter.heading('The stack is running (Ctrl-C stops it)');
      reporter.line(`  Dashboard: ${stack.dashboardUrl}`);
      reporter.line(
        `  Proxy:     ${stack.proxyUrl} (POST /v1/chat/completions, /v1/messages; GET /admin/sessions with the token)`,
      );
      reporter.line(`  GraphQL:   ${stack.hasura.url}`);
      reporter.line(`  Config:    ${stack.configPath}`);
      reporter.line(
        `  Try:       curl -s ${stack.proxyUrl}/v1/chat/completions -H 'content-type: application/json' -H 'x-ballast-session: mine' -d '{"model":"mock-gpt","messages":[{"role":"user","content":"Hi"}]}'`,
      );
      await new Promise<never>(() => {
        // Runs until SIGINT or SIGTERM.
      });
    }
  } catch (error) {
    // After Ctrl-C the only failures are the stack going away under the scenarios.
    if (stopping) return;
    reporter.line(
      style.red(`✗ the demo could not run: ${error instanceof Error ? error.message : String(error)}`),
    );
    passed = false;
  }
  await cleanup.run();
  process.exitCode = passed ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(`ballast demo: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
