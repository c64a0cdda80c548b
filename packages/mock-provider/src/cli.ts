#!/usr/bin/env node
// mock-provider [--port N] [--host H] [--chunk-delay-ms N] [--text "..."] [--name NAME]
import { parseArgs } from 'node:util';
import { createMockProvider } from './mock-provider.js';

const usage = `Usage: mock-provider [options]

A scripted fake LLM provider: OpenAI chat completions (POST /v1/chat/completions) and Anthropic
messages (POST /v1/messages), streaming or not, plus GET /v1/models and GET /healthz.

Options:
  --port N             port to listen on (default 0: a free port)
  --host H             interface to listen on (default 127.0.0.1)
  --chunk-delay-ms N   pause between stream events (default 0)
  --text "..."         the text every request gets back
  --name NAME          sent back in the x-mock-provider header (default mock-provider)
  -h, --help           show this help
`;

function nonNegativeInteger(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number)) {
    throw new Error(`${flag} must be a non-negative integer, got "${value}".`);
  }
  return number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'chunk-delay-ms': { type: 'string' },
      text: { type: 'string' },
      name: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help === true) {
    process.stdout.write(usage);
    return;
  }
  const port = nonNegativeInteger('--port', values.port);
  const chunkDelayMs = nonNegativeInteger('--chunk-delay-ms', values['chunk-delay-ms']);
  const provider = await createMockProvider({
    ...(values.host === undefined ? {} : { host: values.host }),
    ...(port === undefined ? {} : { port }),
    ...(values.name === undefined ? {} : { name: values.name }),
    defaultReply: {
      kind: 'text',
      text: values.text ?? 'Hello from the mock provider.',
      ...(chunkDelayMs === undefined ? {} : { chunkDelayMs }),
    },
    // Nobody reads the log of a standalone server; keep its memory flat.
    logRequests: false,
  });
  console.log(`mock-provider listening on ${provider.url}`);

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    provider.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error(`mock-provider: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
});
